"""Live end to end: OctoBot started as a user starts it (`OctoBot -nw`, paper trading on live market data) in a
temporary bot folder, with the package and the test fixtures installed through OctoBot's tentacles CLI and the
volume_booster profile selected. The market is the local exchange stand-in (tests/exchange_standin.py): real
binance BTC/USDT 1m candles replayed at wall-clock pace, reached through a test-only `binance` exchange tentacle.

What is checked is what a user sees: the mode's log lines, OctoBot's order lines, the trades OctoBot stores, the
exit code; and, from the stand-in, the order book it served.
"""
import datetime
import decimal
import re
import shutil
import time

import pytest

from tests import live_run
from tests.exchange_standin import ExchangeStandin
from tests.octobot_process import OctoBotProcess, build_bot_folder, write_settings

pytestmark = pytest.mark.e2e

DATA_FILE = "AbstractExchangeHistoryCollector_1586017993.616272.data"  # binance BTC/USDT, 1m, 502 candles
STANDIN_URL_ENV = "VOLUME_BOOSTER_EXCHANGE_STANDIN_URL"
STANDIN_TICK_SIZES_ENV = "VOLUME_BOOSTER_EXCHANGE_STANDIN_TICK_SIZES"
STANDIN_LIFETIME = 1200
SESSION_TIMEOUT = 240
WAIT = 120
# how long into an exchange outage orders may still be priced from the last market data
TROUBLE_GRACE_SECONDS = 15
# every test starts from these settings: small fast orders, a target far away
BASE_SETTINGS = dict(enabled=True, volume_target=100000, min_interval_seconds=1, max_interval_seconds=2,
                     order_type="maker", price_offset_percent=0.2, max_open_orders=10, random_seed=11)
NEVER_FILLS = dict(order_type="limit", price_offset_percent=3)
TICK = decimal.Decimal("0.01")
STEP = decimal.Decimal("0.00001")


@pytest.fixture(scope="module")
def standin(shared_data):
    source = shared_data / DATA_FILE
    if not source.is_file():
        pytest.skip(f"market data file missing: {source}")
    # a stand-in that cannot start raises here: the tests error, they are not skipped
    with ExchangeStandin(source, lifetime=STANDIN_LIFETIME) as server:
        yield server


@pytest.fixture(scope="module")
def live_bot(tmp_path_factory, standin):
    return build_bot_folder(tmp_path_factory.mktemp("live"), settings=BASE_SETTINGS, with_exchange=True)


@pytest.fixture
def bot(live_bot):
    """The bot folder with no state from an earlier test and the base settings."""
    shutil.rmtree(live_bot / "user" / "data", ignore_errors=True)
    write_settings(live_bot, BASE_SETTINGS)
    return live_bot


def session(bot, standin, name: str, **env) -> OctoBotProcess:
    return OctoBotProcess(bot, name, env={STANDIN_URL_ENV: standin.url, **env}, timeout=SESSION_TIMEOUT)


def fees_in_quote(trades) -> decimal.Decimal:
    total = decimal.Decimal(0)
    for trade in trades:
        cost = decimal.Decimal(str(trade["fee"]["cost"]))
        total += cost if trade["fee"]["currency"] == "USDT" else cost * decimal.Decimal(str(trade["price"]))
    return total


def quote_volume(trades) -> decimal.Decimal:
    return sum((decimal.Decimal(str(trade["cost"])) for trade in trades), decimal.Decimal(0))


def epoch(moment: datetime.datetime) -> float:
    return moment.replace(tzinfo=datetime.timezone.utc).timestamp()


def wait_until(condition, timeout: float, what: str, process: OctoBotProcess):
    until = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > until or not process.is_running():
            process.kill()
            pytest.fail(f"{what} not seen within {timeout} s\n{process.output()[-6000:]}")
        time.sleep(0.5)


def assert_no_own_crossing(orders, output: str) -> None:
    """No resting order of the mode was ever placed at a price its own opposite open orders would match."""
    for order in orders:
        if not order.is_limit:
            continue
        still_open = live_run.open_ids(output, order.position)
        opposite = [other.price for other in orders if other.id in still_open and other.is_buy != order.is_buy]
        if order.is_buy:
            assert all(order.price < price for price in opposite), f"buy at {order.price} crosses own sells {opposite}"
        else:
            assert all(order.price > price for price in opposite), f"sell at {order.price} crosses own buys {opposite}"


def test_trades_live_stops_on_sigint_and_resumes_its_progress(bot, standin):
    with session(bot, standin, "first") as first:
        first.wait_for(live_run.FILL, WAIT, count=4)
        rc = first.interrupt()
    output = first.output()
    assert rc == 0, output[-6000:]

    # it starts after the markets load, then places orders at the configured pace
    markets = live_run.MARKETS_LOADED.search(output)
    started = live_run.STARTED.search(output)
    assert markets and started and started["how"] == "started" and markets.start() < started.start()
    created = live_run.orders(output)
    assert len(created) >= 4 and created[0].position > started.start()
    span = (created[-1].created_at - created[0].created_at).total_seconds()
    mean_gap = span / (len(created) - 1)
    start_delay = (live_run.line_time(output, started.start()) - live_run.line_time(output, markets.start()))
    print(f"\nstarted {start_delay.total_seconds():.1f} s after the markets loaded; {len(created)} orders, mean gap "
          f"{mean_gap:.2f} s (configured 1-2 s)")
    assert mean_gap >= BASE_SETTINGS["min_interval_seconds"] - 0.1

    # its fills are the simulator's trades of the mode, each counted once
    logged = live_run.fills(output)
    trades = live_run.stored_trades(bot)
    assert len(trades) == len(logged) >= 4
    assert len({trade["id"] for trade in trades}) == len(trades)
    assert quote_volume(trades) == pytest.approx(decimal.Decimal(logged[-1]["volume"]), abs=decimal.Decimal("0.01"))

    # one SIGINT: its open orders are cancelled before OctoBot exits
    assert live_run.open_ids(output) == set()

    with session(bot, standin, "restart") as second:
        second.wait_for(live_run.FILL, WAIT, count=2)
        rc = second.interrupt()
    resumed_output = second.output()
    assert rc == 0, resumed_output[-6000:]
    resumed = live_run.STARTED.search(resumed_output)
    restored = live_run.RESTORED.search(resumed_output)
    assert resumed and resumed["how"] == "resumed" and restored, resumed_output[-6000:]
    assert decimal.Decimal(restored["volume"]) == decimal.Decimal(logged[-1]["volume"])
    assert int(restored["fills"]) == len(logged)
    assert decimal.Decimal(restored["fees"]) == pytest.approx(fees_in_quote(trades), abs=decimal.Decimal("0.000001"))
    # and keeps trading from there
    new_fills = live_run.fills(resumed_output)
    assert decimal.Decimal(new_fills[0]["volume"]) == pytest.approx(
        decimal.Decimal(restored["volume"]) + decimal.Decimal(new_fills[0]["value"]), abs=decimal.Decimal("0.01"))
    all_trades = live_run.stored_trades(bot)
    assert quote_volume(all_trades) == pytest.approx(decimal.Decimal(new_fills[-1]["volume"]),
                                                     abs=decimal.Decimal("0.01"))


def test_crash_restart_keeps_the_volume_and_counts_vanished_orders(bot, standin):
    write_settings(bot, dict(order_type="market"))
    with session(bot, standin, "before_crash") as first:
        first.wait_for(live_run.FILL, WAIT, count=3)
        # then resting orders that cannot fill: the crash takes them away
        write_settings(bot, NEVER_FILLS)
        reloaded = first.wait_for(live_run.SETTINGS_RELOADED, WAIT)[0]
        wait_until(lambda: len(live_run.open_ids(first.output()[reloaded.start():])) >= 2, WAIT,
                   "two resting orders", first)
        first.kill()
    output = first.output()
    open_at_crash = live_run.open_ids(output)
    logged = live_run.fills(output)
    assert open_at_crash and logged

    with session(bot, standin, "after_crash") as second:
        second.wait_for(live_run.STARTED, WAIT)
        second.wait_for(live_run.CREATING, WAIT)
        rc = second.interrupt()
    resumed_output = second.output()
    assert rc == 0, resumed_output[-6000:]
    restored = live_run.RESTORED.search(resumed_output)
    assert restored, resumed_output[-6000:]
    assert decimal.Decimal(restored["volume"]) == decimal.Decimal(logged[-1]["volume"])
    assert int(restored["fills"]) == len(logged)
    assert {match["id"] for match in live_run.VANISHED.finditer(resumed_output)} == open_at_crash


def test_settings_saved_while_running_reach_the_mode(bot, standin):
    write_settings(bot, NEVER_FILLS)
    with session(bot, standin, "settings") as running:
        running.wait_for(live_run.CREATING, WAIT, count=2)
        write_settings(bot, dict(order_type="market"))
        reloaded = running.wait_for(live_run.SETTINGS_RELOADED, WAIT)[0]
        running.wait_for(live_run.FILL, WAIT, start=reloaded.end())

        write_settings(bot, dict(enabled=False))
        disabled = running.wait_for(r"Volume Booster disabled: cancelling this mode's open orders", WAIT)[0]
        time.sleep(4 * BASE_SETTINGS["max_interval_seconds"])
        paused_output = running.output()
        write_settings(bot, dict(enabled=True))
        enabled = running.wait_for(r"Volume Booster enabled again: trading resumes", WAIT)[0]
        running.wait_for(live_run.CREATING, WAIT, start=enabled.end())
        rc = running.interrupt()
    output = running.output()
    assert rc == 0, output[-6000:]
    created = live_run.orders(output)
    before = [order for order in created if order.position < reloaded.start()]
    after = [order for order in created if reloaded.end() < order.position < disabled.start()]
    assert before and all(order.is_limit for order in before)
    # the first step after the save uses the new settings
    assert after and all(order.type.endswith("MARKET") for order in after)
    # disabled: nothing placed, nothing of the mode left open
    assert not [order for order in live_run.orders(paused_output) if order.position > disabled.end()]
    assert live_run.open_ids(paused_output) == set()
    assert "Traceback" not in output


def test_exchange_trouble_pauses_then_trading_resumes_without_double_counting(bot, standin):
    # room for new orders all along: only the exchange's trouble may hold the mode back
    write_settings(bot, dict(max_open_orders=100))
    with session(bot, standin, "trouble") as running:
        running.wait_for(live_run.FILL, WAIT, count=2)
        trouble_started = time.time()
        for kind, seconds in (("server_error", 12), ("rate_limit", 8), ("drop", 8)):
            standin.set_trouble(kind, seconds)
            time.sleep(seconds)
        trouble_ended = time.time()
        during = running.output()
        assert running.is_running()
        running.wait_for(live_run.FILL, WAIT, start=len(during))
        rc = running.interrupt()
    output = running.output()
    assert rc == 0, output[-6000:]
    logged = live_run.fills(output)
    trades = live_run.stored_trades(bot)
    assert len(trades) == len(logged)
    assert len({trade["id"] for trade in trades}) == len(trades)
    assert quote_volume(trades) == pytest.approx(decimal.Decimal(logged[-1]["volume"]), abs=decimal.Decimal("0.01"))
    # the mode pauses while the market data is gone: no new order once the price it knows is a few polls old
    placed_blind = [order for order in live_run.orders(output)
                    if trouble_started + TROUBLE_GRACE_SECONDS < epoch(order.created_at) < trouble_ended]
    assert not placed_blind, (f"{len(placed_blind)} orders placed during the exchange's trouble, priced from "
                              f"market data {TROUBLE_GRACE_SECONDS}+ s old")
    assert "No order this step: waiting for market data" in during


def test_each_execution_style_live(bot, standin):
    with session(bot, standin, "styles") as running:
        running.wait_for(live_run.CREATING, WAIT, count=4)
        write_settings(bot, dict(order_type="limit", price_offset_percent=0.2))
        to_limit = running.wait_for(live_run.SETTINGS_RELOADED, WAIT)[0]
        running.wait_for(live_run.CREATING, WAIT, count=3, start=to_limit.end())
        write_settings(bot, dict(order_type="market"))
        to_market = running.wait_for(live_run.SETTINGS_RELOADED, WAIT, start=to_limit.end())[0]
        running.wait_for(live_run.CREATING, WAIT, count=2, start=to_market.end())
        write_settings(bot, dict(order_type="auto"))
        to_auto = running.wait_for(live_run.SETTINGS_RELOADED, WAIT, start=to_market.end())[0]
        running.wait_for(live_run.CREATING, WAIT, count=2, start=to_auto.end())
        rc = running.interrupt()
    output = running.output()
    assert rc == 0, output[-6000:]
    created = live_run.orders(output)
    maker = [order for order in created if order.position < to_limit.start()]
    limit = [order for order in created if to_limit.end() < order.position < to_market.start()]
    market = [order for order in created if to_market.end() < order.position < to_auto.start()]
    auto = [order for order in created if order.position > to_auto.end()]

    # auto with the profile's equal fees: resting would cost the maker fee plus its assumed adverse selection
    # (15 bps), taking the taker fee plus half the served spread (2 bps): it takes
    choice = re.search(r"Auto execution taking: cheaper or equal \(rest 15\.0 bps \(maker fee \+ adverse "
                       r"selection\) vs take (?P<take>\d+\.\d) bps\)", output[to_auto.end():])
    assert choice, output[to_auto.end():][-3000:]
    assert decimal.Decimal(choice["take"]) == decimal.Decimal(10) + decimal.Decimal(str(standin.spread_bps)) / 2
    assert auto and all(not order.is_limit for order in auto)

    # maker orders rest at the best bid / ask the exchange served
    tops = standin.served_book_tops()
    assert tops, "the order book was never fetched"
    bids, asks = {top.bid for top in tops}, {top.ask for top in tops}
    assert maker and all(order.is_limit for order in maker)
    for order in maker:
        assert order.price in (bids if order.is_buy else asks), \
            f"maker {order.type} at {order.price} is not at a served best price"

    # limit orders rest at their offset from the price
    assert limit and all(order.is_limit for order in limit)
    for order in limit:
        price = decimal.Decimal(str(standin.price_at(epoch(order.created_at))))
        distance = (price - order.price) / price * 100 if order.is_buy else (order.price - price) / price * 100
        assert decimal.Decimal("0.1") < distance < decimal.Decimal("0.3"), f"{order} is {distance:.3f}% away"

    # market orders fill at once
    filled, _ = live_run.closed_ids(output)
    assert market and all(not order.is_limit and order.id in filled for order in market)
    assert_no_own_crossing(created, output)
    for order in created:
        # (a market order's line shows the simulator's fill price)
        assert not order.is_limit or order.price == order.price.quantize(TICK)
        assert order.quantity == order.quantity.quantize(STEP)


def test_prices_and_quantities_rounded_with_a_tick_size_connector(bot, standin):
    """ccxt reports binance's precision as tick sizes; without OctoBot's market-status fix they stay so."""
    write_settings(bot, dict(order_type="limit", price_offset_percent=0.05))
    with session(bot, standin, "tick_sizes", **{STANDIN_TICK_SIZES_ENV: "1"}) as running:
        running.wait_for(live_run.CREATING, WAIT, count=4)
        rc = running.interrupt()
    output = running.output()
    assert rc == 0, output[-6000:]
    created = live_run.orders(output)
    assert created and all(order.is_limit for order in created)
    for order in created:
        assert order.price == order.price.quantize(TICK), f"{order.price} is not on the 0.01 tick"
        assert order.quantity == order.quantity.quantize(STEP), f"{order.quantity} is not on the 0.00001 step"
        price = decimal.Decimal(str(standin.price_at(epoch(order.created_at))))
        distance = abs(price - order.price) / price * 100
        # at its 0.05 % offset (about 4.6 USDT), not a whole quote unit further
        assert distance < decimal.Decimal("0.15"), f"{order} is {distance:.3f}% away from {price}"
