"""The inventory band in OctoBot's real backtesting engine: balanced sides keep the holdings within the band and
end near the start, both sides occur inside it, and resting orders never carry the real holdings past it."""
import collections

import pytest

from tests import execution_runs as runs
from tests.execution_runs import BTC_USDT, D, DEFAULT_AMOUNTS
from volume_booster import simulation

pytestmark = runs.needs_shared_data


BAND_PP = 1.0
BAND_AMOUNTS = {"min_buy_amount": 100, "max_buy_amount": 300, "min_sell_amount": 100, "max_sell_amount": 300}


def _drift_pp(start_base, holdings, price):
    """Base bought minus sold (fees included), at `price`, in percentage points of the pair's value."""
    base, quote = holdings["BTC"][0], holdings["USDT"][0]
    return (base - start_base) * price / (base * price + quote) * 100


@pytest.fixture(scope="module")
def band_runs():
    settings = {"volume_target": 20000, "order_type": "market", "random_seed": 21, **BAND_AMOUNTS}
    balanced = runs.run_recorded(BTC_USDT, {**settings, "side_policy": "balanced", "inventory_band_pp": BAND_PP})
    coin_flip = runs.run_recorded(BTC_USDT, {**settings, "side_policy": "random"})
    return balanced, coin_flip


def test_balanced_inventory_stays_within_the_band_and_ends_near_zero(band_runs):
    balanced, coin_flip = band_runs
    start_base = balanced.start["BTC"]
    max_order = D(BAND_AMOUNTS["max_buy_amount"])
    worst_excess = None
    samples = 0
    for order in balanced.created:
        pair_value = order["portfolio_before"]["BTC"][0] * order["mark"] + order["portfolio_before"]["USDT"][0]
        # inside the band any side may be drawn, so one order (at most max_order of value) can step out of it
        one_order_pp = max_order / pair_value * 100
        for holdings in (order["portfolio_before"], order["portfolio_after"]):
            drift = abs(_drift_pp(start_base, holdings, order["mark"]))
            excess = drift - (D(str(BAND_PP)) + one_order_pp)
            worst_excess = excess if worst_excess is None else max(worst_excess, excess)
            samples += 1
    assert samples > 100
    assert worst_excess <= D("0.01"), f"drift exceeded band + one order by {worst_excess} pp"
    # what the mode itself saw at each decision (its snapshot) obeys the same bound
    for snapshot in balanced.snapshots:
        market = snapshot["market"]
        assert abs(market.inventory_drift_pp) <= D(str(BAND_PP)) + max_order / market.pair_value * 100 + D("0.01")
    # ends near zero: within one order of the start
    end_price = D(str(balanced.result.last_price))
    end = {currency: (amount, amount) for currency, amount in balanced.end.items()}
    end_value = end["BTC"][0] * end_price + end["USDT"][0]
    assert abs(_drift_pp(start_base, end, end_price)) <= max_order / end_value * 100
    # the band is what kept it there: the same run with coin-flip sides drifts far beyond it
    coin_start = coin_flip.start["BTC"]
    coin_drift = max(abs(_drift_pp(coin_start, order["portfolio_after"], order["mark"])) for order in coin_flip.created)
    coin_value = coin_start * D(str(coin_flip.result.first_price)) + coin_flip.start["USDT"]
    assert coin_drift > 2 * (D(str(BAND_PP)) + max_order / coin_value * 100), coin_drift


def test_both_sides_occur_inside_the_band(band_runs):
    balanced, _ = band_runs
    start_base = balanced.start["BTC"]
    sides = collections.Counter(
        order["side"] for order in balanced.created
        if abs(_drift_pp(start_base, order["portfolio_before"], order["mark"])) < D(str(BAND_PP))
    )
    assert sides["buy"] >= 5 and sides["sell"] >= 5, sides


@pytest.mark.parametrize("order_type", ["limit", "maker"])
def test_resting_orders_never_carry_the_inventory_past_the_band(order_type):
    """With many resting orders on both sides, the fills of one side alone (the market falling through the
    buys while the sells wait) must not take the real holdings out of the band: checked at every engine step."""
    band = 2.0
    result = simulation.run(BTC_USDT, {
        "order_type": order_type, "side_policy": "balanced", "inventory_band_pp": band, "max_open_orders": 10,
        "volume_target": 12000, "random_seed": 3, "price_offset_percent": 0.1,
        "limit_order_timeout_seconds": 1800, **DEFAULT_AMOUNTS})
    timeline = result.timeline
    # one point per 1m candle of the file: no step is left out of the check
    assert len(timeline.points) >= 490
    drifts = [share - start for share, start in zip(timeline.base_share_pct, timeline.start_share_pct)]
    assert max(abs(drift) for drift in drifts) <= band + 0.01, max(drifts, key=abs)
    # the band was really used (the scenario reaches its edge), and the run still traded its volume
    assert max(abs(drift) for drift in drifts) >= band / 2
    assert result.orders_filled >= 30 and result.volume >= 3000
