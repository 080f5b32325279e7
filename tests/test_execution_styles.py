"""Execution styles in OctoBot's real backtesting engine: maker orders rest at their offset from the price (the
backtester has no order book), fill as makers at their price or better, are repriced when the market moves away,
and resting orders are cancelled on timeout. Runs and figures: tests/execution_runs.py."""
import pytest

from tests import execution_runs as runs
from tests.execution_runs import D, MAKER, ONE_MINUTE_STEP, ZERO, style_run  # noqa: F401 (a fixture)

pytestmark = runs.needs_shared_data


@pytest.fixture
def maker_run():
    return runs.maker_run()


def test_maker_orders_rest_at_the_offset_from_the_mark_price_without_order_book(maker_run):
    run = maker_run
    # the backtester has no order book: the mode saw none at any decision
    assert run.book_tops == {(None, None)}
    tick = runs.digits_tick(run.markets["BTC/USDT"], "price")
    makers = [order for order in run.created if order["created"]]
    assert len(makers) > 50
    for order in makers:
        assert order["type"] == f"{order['side']}_limit"
        expected = runs.expected_resting_price(order["side"], order["mark"], MAKER["maker_offset_percent"], tick)
        assert abs(order["price"] - expected) <= tick, order
        # buys rest below, sells above the mark, a small offset away
        distance = (order["mark"] - order["price"]) if order["side"] == "buy" else (order["price"] - order["mark"])
        assert ZERO < distance <= order["mark"] * D(str(MAKER["maker_offset_percent"])) / 100 + tick, order
    assert {order["side"] for order in makers} == {"buy", "sell"}


def test_maker_fills_are_maker_fills_at_the_resting_price_or_better(maker_run):
    run = maker_run
    assert len(run.trades) > 10
    assert {trade["taker_or_maker"] for trade in run.trades} == {"maker"}
    # a resting order fills at its own price or better (the simulator gives the candle's price when the market
    # jumped through the order between two steps), never worse
    orders = {order["order_id"]: order for order in run.created}
    at_own_price = 0
    for trade in run.trades:
        order = orders[trade["order_id"]]
        assert trade["side"] == order["side"] and trade["qty"] <= order["qty"]
        if trade["side"] == "buy":
            assert trade["price"] <= order["price"], (trade, order["price"])
        else:
            assert trade["price"] >= order["price"], (trade, order["price"])
        at_own_price += trade["price"] == order["price"]
    assert at_own_price >= len(run.trades) / 2
    assert run.result.maker_share == pytest.approx(1.0)


def test_maker_orders_are_repriced_when_the_market_moves_away(maker_run):
    run = maker_run
    tick = runs.digits_tick(run.markets["BTC/USDT"], "price")
    threshold = D(str(MAKER["reprice_percent"]))

    def moved_percent(side, price, mark):
        wanted = runs.expected_resting_price(side, mark, MAKER["maker_offset_percent"], tick)
        return abs(wanted - price) / mark * 100

    repriced = [cancel for cancel in run.cancels if cancel["reason"].startswith("repriced")]
    assert len(repriced) >= 5
    # each reprice: the market had moved away by more than reprice_percent
    for cancel in repriced:
        assert moved_percent(cancel["side"], cancel["price"], cancel["mark"]) > threshold, cancel
    # and no resting order stays further away than that: at each new order, every own resting order is within it
    # (one price step of rounding)
    checked = 0
    for order in run.created:
        for _, side, price, _ in order["own"]:
            assert moved_percent(side, price, order["mark"]) <= threshold + tick / order["mark"] * 100, order
            checked += 1
    assert checked > 100


@pytest.mark.parametrize("style_run", ["limit", "maker"], indirect=True)
def test_unfilled_resting_orders_are_cancelled_on_timeout(style_run):
    run = style_run
    timeout = 180
    timeouts = [cancel for cancel in run.cancels if cancel["reason"] == "timeout"]
    assert timeouts, "no order reached its timeout: the scenario does not test it"
    assert all(cancel["t"] - cancel["created"] >= timeout for cancel in timeouts)
    # no own order is ever seen older than the timeout plus one engine step
    ages = [order["t"] - created for order in run.created for _, _, _, created in order["own"]]
    assert ages and max(ages) <= timeout + ONE_MINUTE_STEP
