"""The budget in OctoBot's real backtesting engine: the mode stops before its cost exceeds max_cost (reserving the
fees of its open orders, of one more order and of flattening its inventory), and ends within one order of it."""
import pytest

from tentacles.Trading.Mode.volume_booster_trading_mode import actions
from tests import execution_runs as runs
from tests.execution_runs import BTC_USDT, D, FEE_RATE, MAX_ORDER, STYLES, ZERO

pytestmark = runs.needs_shared_data


MAX_COST = D(5)


@pytest.fixture(scope="module", params=STYLES)
def budget_run(request):
    return runs.run_recorded(BTC_USDT, {"volume_target": 50000, "order_type": request.param, "random_seed": 11,
                                        "max_cost": float(MAX_COST)})


def _budget_figures(run):
    start = run.start
    stop = run.finishes[-1]
    # the last decision that passed the budget check (every planner outcome but the budget stop passed it)
    checks = [plan for plan in run.plans if not _is_budget_stop(plan["outcome"])]
    check = checks[-1]
    return start, stop, check


def _is_budget_stop(outcome):
    """The planner's stop at the budget: the one outcome that did not pass its check (it flattens)."""
    return isinstance(outcome, actions.Stop) and outcome.flatten


def _flattening(run, stop, start):
    """The market order the mode places at its budget stop: created at the stop and bringing the base holdings
    back to the start (within the amount precision)."""
    orders = [entry for entry in run.created
              if entry["created"] and entry["t"] == stop["t"] and entry["type"].endswith("market")
              and abs(entry["portfolio_after"]["BTC"][0] - start["BTC"]) <= D("0.00001")]
    ids = {entry["order_id"] for entry in orders}
    return orders, [trade for trade in run.trades if trade["order_id"] in ids]


@pytest.mark.parametrize("budget_run", STYLES, indirect=True)
def test_budget_stops_the_mode_before_the_cost_exceeds_max_cost(budget_run):
    """The mode's check, for the holdings H_c and price P_c of the last decision that passed it, reserves the
    fees of its open orders and of one more order, and the fee of flattening the inventory X_c (the largest
    of: none, all, or one side of its open orders filled):

        C(H_c, P_c) + (max_order + open orders' quote) * fee + |X_c| * P_c * taker_fee <= max_cost

    At the stop it cancels its orders and flattens the inventory with one market order. With S the starting
    holdings and C(H, P) = (S_base - H_base) * P + S_quote - H_quote, the cost at the stop is
    C(H_c, P_c) + the inventory price effect until the stop + the fills after the check (fees and price
    effects), so:

        C(E, P_s) <= max_cost + |S_base - H_c,base| * |P_s - P_c| + sum q * |p - P_s|
                     + (fees after the check - (max_order + open orders' quote) * fee - flattening fee)
                     when positive."""
    run = budget_run
    start, stop, check = _budget_figures(run)
    assert run.result.stopped_reason.startswith("budget reached")
    assert stop["reason"].startswith("budget reached")
    # the mode's own cost at the check is the engine portfolio's cost at the check price
    assert check["net_cost"] == pytest.approx(runs.cost(start, check["portfolio"], "BTC", "USDT", check["price"]),
                                              abs=D("1e-9"))
    one_order_fee = MAX_ORDER * FEE_RATE
    open_at_check_fee = check["pending"] * FEE_RATE
    assert runs.cost(start, check["portfolio"], "BTC", "USDT", check["price"]) + one_order_fee + open_at_check_fee \
        <= MAX_COST
    after = [trade for trade in run.trades if trade["id"] not in check["trade_ids"]]
    flattening_orders, flattening_trades = _flattening(run, stop, start)
    flattening_fee = sum((runs.fee_in_quote(trade, "USDT") for trade in flattening_trades), ZERO)
    # besides the flattening, the fills after the check pay at most the fees of the orders open at the check
    # and of one more order
    assert sum((runs.fee_in_quote(trade, "USDT") for trade in after if trade not in flattening_trades), ZERO) \
        <= one_order_fee + open_at_check_fee
    inventory_effect = abs(start["BTC"] - check["portfolio"]["BTC"][0]) * abs(stop["mark"] - check["price"])
    fills_effect = sum((trade["qty"] * abs(trade["price"] - stop["mark"]) for trade in after), ZERO)
    cost_at_stop = runs.cost(start, stop["portfolio"], "BTC", "USDT", stop["mark"])
    # the order after the check moved the inventory to flatten by at most one order: one order's fee more
    assert cost_at_stop <= MAX_COST + one_order_fee + inventory_effect + fills_effect + D("1e-9")
    # the flattening order brought the base holdings back to the start (within the amount precision)
    if flattening_orders:
        assert abs(stop["portfolio"]["BTC"][0] - start["BTC"]) <= D("0.00001")
        assert flattening_fee <= MAX_COST - runs.cost(start, check["portfolio"], "BTC", "USDT", check["price"])
    # nothing trades after the stop: the final holdings are the ones at the stop
    assert all(trade["t"] <= stop["t"] for trade in run.trades)
    assert run.result.open_orders_left == 0


@pytest.mark.parametrize("budget_run", STYLES, indirect=True)
def test_budget_final_net_cost_within_one_order_of_max_cost(budget_run):
    """Final net cost (starting vs final portfolio at the last price) <= max_cost + one order's cost, one order's
    cost being its fee (max_order * fee rate) plus its price effect: max_order of base held from the last check
    to the end, (max_order / P_c) * (|P_s - P_c| + |P_end - P_s|)."""
    run = budget_run
    start, stop, check = _budget_figures(run)
    end_price = D(str(run.result.last_price))
    net_cost = runs.cost(start, run.end, "BTC", "USDT", end_price)
    assert float(net_cost) == pytest.approx(run.result.net_cost, abs=1e-6)
    price_effect = MAX_ORDER / check["price"] * (abs(stop["mark"] - check["price"]) + abs(end_price - stop["mark"]))
    assert net_cost <= MAX_COST + MAX_ORDER * FEE_RATE + price_effect, (net_cost, price_effect)
