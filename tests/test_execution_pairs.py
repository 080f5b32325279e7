"""Several pairs in OctoBot's real backtesting engine: each pair gets its own mode and target, and pairs never
spend each other's funds."""
import pytest

from tests import execution_runs as runs
from tests.execution_runs import D, FOUR_PAIRS_4H, MAX_ORDER, ZERO
from volume_booster import datafile

pytestmark = runs.needs_shared_data


@pytest.fixture(scope="module")
def four_pairs_run():
    if not FOUR_PAIRS_4H.exists():
        pytest.skip("4-pair 4h file missing")
    info = datafile.read_info(FOUR_PAIRS_4H)
    # scarce USDT (200 per pair) next to 1,000 USDT of each base: buying is limited by each pair's share
    portfolio = {"USDT": 800.0}
    for symbol in info.symbols:
        portfolio[symbol.split("/")[0]] = float(f"{1000 / info.first_close[symbol]:.8g}")
    run = runs.run_recorded(FOUR_PAIRS_4H, {"volume_target": 1500, "order_type": "market", "side_policy": "random",
                                            "random_seed": 8}, starting_portfolio=portfolio)
    run.info = info
    run.portfolio = portfolio
    return run


def test_each_pair_gets_its_own_mode_and_reaches_its_own_target(four_pairs_run):
    run = four_pairs_run
    symbols = sorted(run.info.symbols)
    assert sorted(pair["symbol"] for pair in run.result.pairs) == symbols
    for symbol in symbols:
        volume = run.volume(symbol)
        assert D(1500) <= volume <= D(1500) + MAX_ORDER, (symbol, volume)
        pair = next(pair for pair in run.result.pairs if pair["symbol"] == symbol)
        assert pair["volume"] == pytest.approx(float(volume), rel=1e-12)
        sides = {trade["side"] for trade in run.trades_of(symbol)}
        assert sides == {"buy", "sell"}


def test_pairs_never_use_the_same_funds(four_pairs_run):
    run = four_pairs_run
    start_usdt = D(str(run.portfolio["USDT"]))
    users = sum(1 for symbol in run.info.symbols if symbol.endswith("/USDT"))
    allocations = {pair["symbol"]: D(str(pair["allocation"]["USDT"])) for pair in run.result.pairs}
    assert sum(allocations.values()) <= start_usdt
    for symbol, allocation in allocations.items():
        assert allocation == pytest.approx(start_usdt / users)
        # the pair's running quote flow (sells minus buys minus quote fees) never spends more than its share
        flow = ZERO
        lowest = ZERO
        for trade in run.trades_of(symbol):
            value = trade["qty"] * trade["price"]
            flow += (value if trade["side"] == "sell" else -value) - (
                D(str(trade["fee"].get("cost") or 0)) if trade["fee"].get("currency") == "USDT" else ZERO)
            lowest = min(lowest, flow)
        assert lowest >= -allocation, (symbol, lowest, allocation)
        # and it did spend a good part of it: the share was what limited the buys
        assert lowest <= -allocation / 2, (symbol, lowest, allocation)
