"""Self-trade prevention in OctoBot's real backtesting engine: no order crosses the mode's own resting orders,
opposite resting orders are cancelled before a market order, and every order carries the exchange's
self-trade-prevention parameter (maker orders post-only)."""
import pytest

from tests import execution_runs as runs
from tests.execution_runs import BINANCE_STP_MODES, BTC_USDT, STYLES, style_run  # noqa: F401 (a fixture)
from volume_booster import datafile

pytestmark = runs.needs_shared_data


@pytest.fixture
def switch_run():
    return runs.switch_run()


def _crossings(run):
    """Created orders that could match one of the mode's own orders open on the exchange at that moment."""
    found = []
    for order in run.created:
        for _, side, price, _ in order["own"]:
            if side == order["side"]:
                continue
            if order["type"].endswith("market"):
                found.append((order, side, price))  # a market order takes any opposite resting order
            elif order["side"] == "buy" and order["price"] >= price:
                found.append((order, side, price))
            elif order["side"] == "sell" and order["price"] <= price:
                found.append((order, side, price))
    return found


@pytest.mark.parametrize("style_run", ["limit", "maker", "switch"], indirect=True)
def test_no_order_ever_crosses_the_modes_own_resting_orders(style_run):
    run = style_run
    with_opposite = sum(1 for order in run.created if any(side != order["side"] for _, side, _, _ in order["own"]))
    # the runs do have resting orders on the other side when new orders are placed
    assert with_opposite >= 10
    assert _crossings(run) == []


def test_opposite_resting_orders_are_cancelled_before_a_market_order(switch_run):
    run = switch_run
    assert run.switched.get("open_sides") == {"buy", "sell"}, "the switch found no resting orders on both sides"
    markets = [order for order in run.created if order["type"].endswith("market")]
    limits = [order for order in run.created if order["type"].endswith("limit")]
    assert len(markets) >= 10 and len(limits) >= 20
    out_of_the_way = [cancel for cancel in run.cancels if "market order" in cancel["reason"]]
    assert out_of_the_way, "no resting order was in the way of a market order"
    for order in markets:
        assert all(side == order["side"] for _, side, _, _ in order["own"]), order
    assert run.result.target_reached


@pytest.mark.parametrize("style_run", STYLES, indirect=True)
def test_orders_carry_the_exchange_stp_parameter_and_maker_orders_post_only(style_run, request):
    run = style_run
    style = request.node.callspec.params["style_run"]
    assert datafile.read_info(BTC_USDT).exchange == "binance"
    assert run.created
    for order in run.created:
        assert order["params"].get("selfTradePrevention") in BINANCE_STP_MODES, order["params"]
        if style == "maker":
            assert order["params"].get("postOnly") is True
        else:
            assert not order["params"].get("postOnly")
