"""Planner: sizes within the settings, capped to the target, funds respected, seeded reproducibility."""
import decimal
import random

from tentacles.Trading.Mode.volume_booster_trading_mode import actions
from tentacles.Trading.Mode.volume_booster_trading_mode import planner as vb_planner
from tentacles.Trading.Mode.volume_booster_trading_mode import settings as vb_settings

D = decimal.Decimal


def make(seed=1, **raw):
    return vb_planner.Planner(vb_settings.parse_settings(raw), random.Random(seed))


def market(price="100", base="100", quote="100000", **kwargs):
    return vb_planner.MarketSnapshot(D(price), D(base), D(quote), **kwargs)


def test_sizes_stay_within_side_ranges_and_both_sides_happen():
    planner = make(min_buy_amount=20, max_buy_amount=30, min_sell_amount=40, max_sell_amount=50,
                   order_type="market", volume_target=1e9)
    sides = set()
    for _ in range(500):
        plan = planner.plan(vb_planner.Progress(D(0)), market())
        low, high = (20, 30) if plan.side == "buy" else (40, 50)
        assert D(low) <= plan.quote_amount <= D(high)
        assert plan.price == D(100) and not plan.is_limit
        sides.add(plan.side)
    assert sides == {"buy", "sell"}


def test_limit_prices_are_offset_away_from_the_market():
    planner = make(order_type="limit", price_offset_percent=0.5)
    for _ in range(50):
        plan = planner.plan(vb_planner.Progress(D(0)), market())
        assert plan.is_limit
        assert plan.price == (D("99.5") if plan.side == "buy" else D("100.5"))


def test_last_order_is_capped_to_what_is_missing_and_pending_counts():
    planner = make(volume_target=1000, min_buy_amount=100, max_buy_amount=150, min_sell_amount=100,
                   max_sell_amount=150)
    plan = planner.plan(vb_planner.Progress(D(800), pending=D(60)), market())
    assert plan.quote_amount <= D(140)
    plan = planner.plan(vb_planner.Progress(D(960)), market())
    assert plan.quote_amount == D(40)
    skip = planner.plan(vb_planner.Progress(D(900), pending=D(100)), market())
    assert isinstance(skip, actions.Wait) and "covered" in skip.reason


def test_no_dust_order_while_open_orders_may_still_fill():
    """What is left below one minimum order waits for the open orders; without open orders it is the last order."""
    planner = make(volume_target=1000, min_buy_amount=100, max_buy_amount=150, min_sell_amount=100,
                   max_sell_amount=150)
    for volume, pending in ((D(900), D("99.91")), (D(0), D("999.5")), (D(500), D(450))):
        skip = planner.plan(vb_planner.Progress(volume, pending=pending), market())
        assert isinstance(skip, actions.Wait) and "less than one minimum order" in skip.reason
    assert planner.plan(vb_planner.Progress(D("999.91")), market()).quote_amount == D("0.09")


def test_the_last_order_is_raised_to_the_exchange_minimum():
    planner = make(volume_target=1000, min_buy_amount=100, max_buy_amount=150, min_sell_amount=100,
                   max_sell_amount=150)
    plan = planner.plan(vb_planner.Progress(D("999.99")), market(min_order_quote=D(10)))
    assert plan.quote_amount == D(10) * vb_planner.EXCHANGE_MINIMUM_MARGIN and plan.raised_from == D("0.01")
    assert planner.plan(vb_planner.Progress(D(0)), market(min_order_quote=D(10))).raised_from is None


def test_a_last_order_no_funds_can_place_ends_the_run_within_one_minimum_order():
    planner = make(volume_target=1000, min_buy_amount=100, max_buy_amount=150, min_sell_amount=100,
                   max_sell_amount=150, order_type="market")
    # 0.5 quote left, the exchange takes orders of 10 or more, the pair can use 5 quote and 0.05 base (5 quote)
    stop = planner.plan(vb_planner.Progress(D("999.5")), market(base="0.05", quote="5", min_order_quote=D(10)))
    assert isinstance(stop, actions.Stop) and not stop.flatten
    assert stop.reason.startswith("target reached within one exchange minimum order")
    # the same shortage with a larger remainder is a wait that names the settings, not a stop
    skip = planner.plan(vb_planner.Progress(D(500)), market(base="0.05", quote="5", min_order_quote=D(10)))
    assert isinstance(skip, actions.Wait)
    assert "min_buy_amount" in skip.reason and "min_sell_amount" in skip.reason


def test_a_side_held_back_by_the_band_is_named_with_its_setting():
    planner = make(order_type="market", side_policy="balanced", inventory_band_pp=5, volume_target=1e9)
    # everything in base: the band only allows selling, and there is nothing left to sell above the minimum
    snapshot = market(price="100", base="0.1", quote="0", base_excess=D(50), pair_value=D(10000),
                      min_order_quote=D(1))
    skip = planner.plan(vb_planner.Progress(D(0)), snapshot)
    assert isinstance(skip, actions.Wait)
    assert "sell:" in skip.reason and "min_sell_amount" in skip.reason
    assert "buy:" in skip.reason and "inventory_band_pp" in skip.reason


def test_funds_decide_the_side_when_one_is_short():
    planner = make(order_type="market")
    for _ in range(50):
        assert planner.plan(vb_planner.Progress(D(0)), market(quote="0")).side == "sell"
        assert planner.plan(vb_planner.Progress(D(0)), market(base="0")).side == "buy"
    skip = planner.plan(vb_planner.Progress(D(0)), market(base="0", quote="0"))
    assert isinstance(skip, actions.Wait) and "buy:" in skip.reason and "sell:" in skip.reason


def test_buy_keeps_room_for_fees():
    planner = make(order_type="market", min_buy_amount=100, max_buy_amount=100, min_sell_amount=100,
                   max_sell_amount=100)
    snapshot = market(base="0", quote="100", fee_rate=D("0.001"))
    assert isinstance(planner.plan(vb_planner.Progress(D(0)), snapshot), actions.Wait)


def test_never_crosses_own_resting_orders():
    planner = make(order_type="limit", price_offset_percent=0.1)
    snapshot = market(own_lowest_sell=D("99.85"), own_highest_buy=D("100.15"))
    skip = planner.plan(vb_planner.Progress(D(0)), snapshot)
    assert isinstance(skip, actions.Wait)
    assert "buy at 99.9" in skip.reason and "own resting order at 99.85" in skip.reason
    assert "sell at 100.1" in skip.reason and "own resting order at 100.15" in skip.reason


def test_same_seed_same_plans_and_delays():
    first, second = make(seed=42), make(seed=42)
    for _ in range(100):
        assert first.plan(vb_planner.Progress(D(0)), market()) == second.plan(vb_planner.Progress(D(0)), market())
        assert first.next_delay() == second.next_delay()
    other = make(seed=43)
    assert [other.next_delay() for _ in range(10)] != [first.next_delay() for _ in range(10)]


def test_delays_stay_within_interval():
    planner = make(min_interval_seconds=2, max_interval_seconds=8)
    delays = [planner.next_delay() for _ in range(1000)]
    assert 2 <= min(delays) and max(delays) <= 8
    assert max(delays) - min(delays) > 5


def test_resting_prices_stay_one_tick_away_when_the_offset_is_smaller_than_a_tick():
    planner = make(order_type="maker", maker_offset_percent=0.02)
    snapshot = vb_planner.MarketSnapshot(D("0.00002344"), D(10 ** 9), D(10 ** 6), price_tick=D("0.00000001"))
    prices = {}
    for _ in range(40):
        plan = planner.plan(vb_planner.Progress(D(0)), snapshot)
        prices[plan.side] = plan.price
    assert prices["buy"] <= D("0.00002343") and prices["sell"] >= D("0.00002345")


def _band_market(excess_base, buys_base="0", sells_base="0"):
    # pair worth 20,000 quote at price 100: 1 pp of band is 200 quote, i.e. 2 base
    return market(base="100", quote="10000", base_excess=D(excess_base), pending_buy_base=D(buys_base),
                  pending_sell_base=D(sells_base), pair_value=D(20000))


def test_band_counts_every_open_order_of_a_side_filling_alone():
    planner = make(order_type="limit", side_policy="balanced", inventory_band_pp=5, volume_target=1e9,
                   min_buy_amount=100, max_buy_amount=150, min_sell_amount=100, max_sell_amount=150)
    progress = vb_planner.Progress(D(0))
    # with all open orders filled the inventory is well inside the band (+2.3 pp), but the buys alone
    # (8.6 base = 4.3 pp) plus a buy of up to 150 quote (0.75 pp) could pass 5 pp
    crowded = _band_market("0", buys_base="8.6", sells_base="4")
    assert crowded.inventory_drift_pp == D("2.3")
    assert {planner.plan(progress, crowded).side for _ in range(100)} == {"sell"}
    # with the sells also able to take it 4.5 pp the other way, one more sell could pass -5 pp too: no room
    # on either side, so the mode waits for its open orders instead of stepping out of the band
    skip = planner.plan(progress, _band_market("0", buys_base="8.6", sells_base="9"))
    assert isinstance(skip, actions.Wait) and "5.0 pp band" in skip.reason
    # with room on both sides both happen, and no order lets one side's fills carry it past the band
    roomy = _band_market("1", buys_base="2", sells_base="2")
    sides = {planner.plan(progress, roomy).side for _ in range(200)}
    assert sides == {"buy", "sell"}
    for side in ("buy", "sell"):
        assert abs(roomy.worst_drift_pp(side, D(150))) <= 5


def test_band_narrower_than_one_order_still_trades_back_toward_the_start():
    planner = make(order_type="market", side_policy="balanced", inventory_band_pp=0.5, volume_target=1e9,
                   min_buy_amount=100, max_buy_amount=150, min_sell_amount=100, max_sell_amount=150)
    progress = vb_planner.Progress(D(0))
    assert {planner.plan(progress, _band_market("0.5")).side for _ in range(50)} == {"sell"}
    assert {planner.plan(progress, _band_market("-0.5")).side for _ in range(50)} == {"buy"}
    assert {planner.plan(progress, _band_market("0")).side for _ in range(100)} == {"buy", "sell"}


def test_budget_reserves_the_fees_of_open_orders_that_may_still_fill():
    planner = make(order_type="limit", max_cost=10, volume_target=1e9, min_buy_amount=100, max_buy_amount=150,
                   min_sell_amount=100, max_sell_amount=150)
    snapshot = market(fee_rate=D("0.001"))
    # 9.5 spent + one more order's fee (0.15) fits the budget
    assert isinstance(planner.plan(vb_planner.Progress(D(0), net_cost=D("9.5")), snapshot), vb_planner.OrderPlan)
    # with 400 quote of open orders that may all fill first, their 0.4 fee does not: the mode stops
    skip = planner.plan(vb_planner.Progress(D(0), pending=D(400), net_cost=D("9.5")), snapshot)
    assert isinstance(skip, actions.Stop) and skip.flatten and "budget reached" in skip.reason


def test_a_side_held_back_by_its_own_open_orders_says_so():
    planner = make(order_type="limit", side_policy="balanced", inventory_band_pp=5, volume_target=1e9,
                   min_buy_amount=100, max_buy_amount=150, min_sell_amount=100, max_sell_amount=150)
    # open buys use the band's room, and the sell side has no base to sell
    snapshot = market(base="0.5", quote="10000", base_excess=D(0), pending_buy_base=D("9.5"), pair_value=D(20000))
    skip = planner.plan(vb_planner.Progress(D(0)), snapshot)
    assert isinstance(skip, actions.Wait)
    assert "buy: not now, its largest order with the open buy orders could leave the band" in skip.reason
    assert "sell: not enough base" in skip.reason and "min_sell_amount" in skip.reason


def test_an_order_the_inventory_requires_brings_it_back_to_its_start_not_past_it():
    # 1 base (100 quote) above the start, 400 quote still to trade: the closing phase sells at most 100 quote
    amounts = dict(order_type="maker", volume_target=1000, min_buy_amount=20, max_buy_amount=150,
                   min_sell_amount=20, max_sell_amount=150)
    progress = vb_planner.Progress(D(600))
    for seed in range(30):
        plan = make(seed, **amounts).plan(progress, market(base_excess=D(1), pair_value=D(200000)))
        assert plan.side == "sell" and plan.quote_amount <= D(100)
    # within half the smallest order of the start the inventory is flat: no side is forced
    sides = {make(seed, **amounts).plan(progress, market(base_excess=D("0.05"), pair_value=D(200000))).side
             for seed in range(30)}
    assert sides == {"buy", "sell"}
