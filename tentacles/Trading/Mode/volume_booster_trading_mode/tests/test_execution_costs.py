"""`auto` execution: markouts of resting fills, the cost of resting against taking, and the planner's choice."""
import decimal
import random

from tentacles.Trading.Mode.volume_booster_trading_mode import execution_costs
from tentacles.Trading.Mode.volume_booster_trading_mode import planner as vb_planner
from tentacles.Trading.Mode.volume_booster_trading_mode import settings as vb_settings

D = decimal.Decimal
MAKER, TAKER = D("0.0002"), D("0.001")


def test_markout_is_the_later_mid_against_the_fill_price_on_each_side():
    stats = execution_costs.ExecutionStats(markout_seconds=60)
    stats.resting_fill(0, "buy", D(100))
    stats.resting_fill(10, "sell", D(100))
    stats.observe(59, D(90))
    assert list(stats.markouts) == []
    stats.observe(65, D(99))
    # the buy is due (price fell 1 %: a cost), the sell not yet
    assert stats.markouts == [D("0.01")]
    stats.observe(70, D(98))
    # the sell filled at 100 and the price fell to 98: in its favour
    assert stats.markouts == [D("0.01"), D("-0.02")]
    # both filled within the same minute: one observation, their mean
    assert stats.recent_markouts(70) == [D("-0.005")]


def test_markouts_older_than_an_hour_no_longer_count():
    stats = execution_costs.ExecutionStats(markout_seconds=60)
    stats.resting_fill(0, "buy", D(100))
    stats.resting_fill(60, "sell", D(100))
    stats.observe(65, D(99))
    stats.observe(125, D(98))
    age = execution_costs.MARKOUT_MAX_AGE_SECONDS
    assert stats.recent_markouts(65 + age) == [D("0.01"), D("-0.02")]
    assert stats.recent_markouts(66 + age) == [D("-0.02")]
    # the estimate is the prior's again, and resting is tried anew
    assert stats.recent_markouts(126 + age) == []


def test_fills_of_the_same_window_are_one_observation():
    stats = execution_costs.ExecutionStats(markout_seconds=60)
    # two buys filled in the same minute, a sell in the next one
    stats.resting_fill(0, "buy", D(100))
    stats.resting_fill(30, "buy", D(101))
    stats.resting_fill(70, "sell", D(100))
    stats.observe(130, D(100))
    assert stats.markouts == [D(0), D(1) / D(101), D(0)]
    assert stats.recent_markouts(130) == [D(1) / D(101) / 2, D(0)]


def test_markouts_wait_for_a_price():
    stats = execution_costs.ExecutionStats(markout_seconds=1)
    stats.resting_fill(0, "buy", D(100))
    stats.observe(5, None)
    stats.observe(6, D(0))
    assert not stats.markouts
    stats.observe(7, D(100))
    assert list(stats.markouts) == [D(0)]


def test_fills_waiting_for_their_markout_are_bounded_the_oldest_dropped():
    stats = execution_costs.ExecutionStats(markout_seconds=1)
    for time in range(-1, execution_costs.PENDING_MARKOUTS_KEPT):
        stats.resting_fill(time, "buy", D(100))
    # the fill of time -1 was dropped for the newest: nothing is due yet at time 0
    stats.observe(0, D(99))
    assert list(stats.markouts) == []
    stats.observe(1, D(99))
    assert stats.markouts == [D("0.01")]


def test_the_prior_stands_in_for_fills_not_measured_yet():
    prior = D("0.0005")
    assert execution_costs.expected_adverse_selection(prior, ()) == prior
    # as many measured fills at zero as the prior's weight: halfway
    weight = execution_costs.PRIOR_WEIGHT
    assert execution_costs.expected_adverse_selection(prior, [D(0)] * weight) == prior / 2
    # many measurements outweigh the prior
    measured = execution_costs.expected_adverse_selection(prior, [D("0.0001")] * 1000)
    assert abs(measured - D("0.0001")) < D("0.000002")


def test_the_error_of_the_markouts_mean():
    assert execution_costs.markout_error([D("0.001")]) == 0
    # a sample stdev of 0.00115 over 4 markouts: 0.00058
    assert abs(execution_costs.markout_error([D("0.001"), D("-0.001"), D("0.001"), D("-0.001")])
               - D("0.000577350")) < D("0.000000001")


def test_noisy_markouts_do_not_turn_resting_to_taking():
    # 12 bps measured against an 8 bps fee gap: taking, unless the measurement's error covers the difference
    assert not execution_costs.choose(MAKER, TAKER, D(0), D("0.0012"), False, None).resting
    noisy = execution_costs.choose(MAKER, TAKER, D(0), D("0.0012"), False, None, adverse_error=D("0.0005"))
    assert noisy.resting and "± 5.0" in noisy.reason
    assert not execution_costs.choose(MAKER, TAKER, D(0), D("0.0012"), False, None, D("0.0001")).resting


def test_resting_fill_ratio_needs_enough_recent_outcomes():
    stats = execution_costs.ExecutionStats(60)
    for time in range(execution_costs.MIN_OUTCOMES - 1):
        stats.resting_closed(time, filled=False)
    assert stats.resting_fill_ratio(10) is None
    stats.resting_closed(10, filled=True)
    assert stats.resting_fill_ratio(10) == 1 / execution_costs.MIN_OUTCOMES
    # outcomes age out: a long taking phase lets resting be tried again
    assert stats.resting_fill_ratio(10 + execution_costs.OUTCOMES_MAX_AGE_SECONDS + 60) is None


def test_half_spread():
    assert execution_costs.half_spread(D(99), D(101)) == D("0.01")
    assert execution_costs.half_spread(None, D(101)) == 0
    assert execution_costs.half_spread(D(101), D(101)) == 0


def test_choose_the_cheaper_way():
    assert execution_costs.choose(MAKER, TAKER, D(0), D("0.0003"), False, None).resting
    # adverse selection above the fee gap: taking is cheaper
    choice = execution_costs.choose(MAKER, TAKER, D(0), D("0.0009"), False, None)
    assert not choice.resting and "taking: cheaper" in choice.reason
    # equal fees: resting only pays with favourable markouts, and a spread makes taking dearer
    assert not execution_costs.choose(TAKER, TAKER, D(0), D(0), False, None).resting
    assert execution_costs.choose(TAKER, TAKER, D("0.0001"), D(0), False, None).resting
    assert execution_costs.choose(TAKER, TAKER, D(0), D("-0.0001"), False, None).resting
    choice = execution_costs.choose(MAKER, TAKER, D(0), D(0), False, None)
    assert choice.take_cost == TAKER and choice.rest_cost == MAKER


def test_taking_when_behind_the_pace_or_resting_orders_rarely_fill():
    late = execution_costs.choose(MAKER, TAKER, D(0), D(0), True, None)
    assert not late.resting and "behind the deadline pace" in late.reason
    # a market too quiet for resting orders: more than 20 of them created per fill
    rare = execution_costs.choose(MAKER, TAKER, D(0), D(0), False, 0.04)
    assert not rare.resting and "4% of recent resting orders filled" in rare.reason
    assert execution_costs.choose(MAKER, TAKER, D(0), D(0), False, 0.05).resting


def test_behind_pace():
    assert not execution_costs.behind_pace(D(0), D(1000), 0, 100, 0, D(0))
    # halfway, the slack is half of it
    assert execution_costs.behind_pace(D(400), D(1000), 0, 500, 1000, D(100))
    assert not execution_costs.behind_pace(D(460), D(1000), 0, 500, 1000, D(100))
    # at and past the deadline, the whole target is due
    assert execution_costs.behind_pace(D(999), D(1000), 0, 1000, 1000, D(300))
    assert execution_costs.behind_pace(D(999), D(1000), 0, 5000, 1000, D(300))


def make(**raw):
    return vb_planner.Planner(vb_settings.parse_settings({"order_type": "auto", **raw}), random.Random(3))


def market(maker=MAKER, taker=TAKER, **kwargs):
    return vb_planner.MarketSnapshot(D(100), D(1000), D(100000), fee_rate=taker, maker_fee_rate=maker,
                                     taker_fee_rate=taker, price_tick=D("0.01"), **kwargs)


def test_auto_rests_at_the_best_price_post_only_when_the_maker_fee_is_lower():
    planner = make(adverse_selection_prior_bps=5)
    plan = planner.plan(vb_planner.Progress(D(0)), market(best_bid=D("99.9"), best_ask=D("100.1")))
    assert plan.is_limit and plan.price == (D("99.9") if plan.side == "buy" else D("100.1"))
    assert plan.choice.startswith("resting")


def test_auto_takes_with_equal_fees_and_after_bad_markouts():
    plan = make().plan(vb_planner.Progress(D(0)), market(maker=TAKER))
    assert not plan.is_limit and plan.price == D(100) and plan.choice.startswith("taking")
    # 20 resting fills measured at 15 bps of adverse selection: resting costs more than the 8 bps fee gap
    bad = vb_planner.Progress(D(0), markouts=(D("0.0015"),) * 20)
    assert not make().plan(bad, market()).is_limit


def test_auto_takes_when_behind_its_deadline():
    planner = make(volume_target=10000, deadline_hours=1)
    on_time = vb_planner.Progress(D(0), now=60.0, started_at=0.0)
    assert planner.plan(on_time, market()).is_limit
    late = vb_planner.Progress(D(1000), now=1800.0, started_at=0.0)
    plan = planner.plan(late, market())
    assert not plan.is_limit and "deadline" in plan.choice


def test_auto_reprices_like_maker_and_other_types_have_no_choice():
    planner = make()
    assert planner.needs_reprice("buy", D(99), market())
    assert not planner.needs_reprice("buy", D("99.98"), market())
    for order_type in ("maker", "limit", "market"):
        plan = vb_planner.Planner(vb_settings.parse_settings({"order_type": order_type}),
                                  random.Random(1)).plan(vb_planner.Progress(D(0)), market())
        assert plan.choice is None and plan.is_limit == (order_type != "market")
