"""`auto` execution in OctoBot's real backtesting engine: with a cheaper maker fee it rests post-only at the best
price it knows (the backtester has no order book: the maker offset from the mark price) and measures the markouts
of its resting fills; with equal fees it takes, exactly as the market style would; behind its deadline pace it
takes. Figures are recomputed from the engine's own orders and trades (tests/execution_runs.py)."""
import functools

import pytest

from tests import execution_runs as runs
from tests.execution_runs import BTC_USDT, D, MAKER, TARGET

pytestmark = runs.needs_shared_data

CHEAP_MAKER = {"maker": 0.02, "taker": 0.1}
EQUAL = {"maker": 0.1, "taker": 0.1}


class Observed:
    """What the mode publishes, read at each step where it comes to its order."""

    def __init__(self):
        self.choices = []
        self.markout_counts = []

    def __call__(self, booster):
        self.choices.append(booster.view().execution_choice)
        self.markout_counts.append(len(booster.books.progress(booster.clock.now(), booster.started_at).markouts))


def auto_run(fees, **overrides):
    observed = Observed()
    run = runs.run_recorded(BTC_USDT, {"volume_target": TARGET, "order_type": "auto", "random_seed": 3, **MAKER,
                                       **overrides}, before_place=observed, fees=fees)
    run.observed = observed
    return run


@functools.cache
def cheap_maker_run():
    return auto_run(CHEAP_MAKER)


def placed(run):
    return [order for order in run.created if order["created"]]


def test_with_a_cheaper_maker_fee_auto_rests_post_only_at_the_best_price():
    run = cheap_maker_run()
    orders = placed(run)
    resting = [order for order in orders if order["type"].endswith("_limit")]
    assert len(resting) > 0.8 * len(orders) > 20
    tick = runs.digits_tick(run.markets["BTC/USDT"], "price")
    for order in resting:
        assert order["params"].get("postOnly") is True, order
        expected = runs.expected_resting_price(order["side"], order["mark"], MAKER["maker_offset_percent"], tick)
        assert abs(order["price"] - expected) <= tick, order
    # the engine filled them as maker orders: most of the volume paid the maker fee
    maker_volume = sum((trade["qty"] * trade["price"] for trade in run.trades if trade["taker_or_maker"] == "maker"),
                       D(0))
    assert maker_volume > D("0.8") * run.volume()
    assert run.result.target_reached


def test_auto_says_why_it_rests_and_measures_its_markouts():
    run = cheap_maker_run()
    places = [plan["outcome"] for plan in run.plans if hasattr(plan["outcome"], "choice")]
    assert places and all(place.choice for place in places)
    resting_reasons = [place.choice for place in places if place.resting]
    assert resting_reasons and all(reason.startswith("resting: cheaper") for reason in resting_reasons)
    assert any(choice and choice.startswith("resting") for choice in run.observed.choices)
    # each resting fill gets its markout one markout_seconds later: the count grows with the run
    counts = run.observed.markout_counts
    assert counts[0] == 0 and max(counts) >= 10
    assert counts == sorted(counts) or max(counts) == 50


def test_with_equal_fees_auto_takes_exactly_as_the_market_style():
    auto = auto_run(EQUAL)
    market = runs.run_recorded(BTC_USDT, {"volume_target": TARGET, "order_type": "market", "random_seed": 3,
                                          **MAKER}, fees=EQUAL)

    def orders(run):
        return [(order["t"], order["side"], order["type"], order["qty"]) for order in placed(run)]

    assert orders(auto) == orders(market) and len(orders(auto)) > 20
    assert {order[2] for order in orders(auto)} == {"buy_market", "sell_market"}
    assert auto.result.net_cost == pytest.approx(market.result.net_cost)
    reasons = {plan["outcome"].choice.split("(")[0] for plan in auto.plans if hasattr(plan["outcome"], "choice")}
    assert reasons == {"taking: cheaper or equal "}


def test_behind_its_deadline_pace_auto_takes():
    # a deadline resting orders alone cannot keep: part of the volume is taken, and the target is reached in time
    deadline_hours = 0.2
    run = auto_run(CHEAP_MAKER, deadline_hours=deadline_hours)
    places = [plan["outcome"] for plan in run.plans if hasattr(plan["outcome"], "choice")]
    late = [place for place in places if "behind the deadline pace" in place.choice]
    assert late and all(not place.resting for place in late)
    assert any(place.resting for place in places)
    assert run.result.target_reached
    assert run.result.time_to_target_seconds <= deadline_hours * 3600 + runs.ONE_MINUTE_STEP


def test_where_resting_orders_almost_never_fill_auto_takes():
    # resting 1 % away from the price, orders time out unfilled: after 20 of them without a fill auto takes
    run = auto_run(CHEAP_MAKER, maker_offset_percent=1, reprice_percent=5, limit_order_timeout_seconds=60)
    places = [plan["outcome"] for plan in run.plans if hasattr(plan["outcome"], "choice")]
    quiet = [place for place in places if "of recent resting orders filled" in place.choice]
    assert quiet and all(not place.resting for place in quiet)
    assert places[0].resting
    assert run.result.target_reached
    # each resting order timed out: it was one created for nothing
    assert run.result.orders_created < 2 * run.result.fills
