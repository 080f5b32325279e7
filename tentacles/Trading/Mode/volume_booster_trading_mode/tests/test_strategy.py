"""Strategy: each decision of a step, as typed actions, from read-only views (no OctoBot)."""
import decimal
import random

from tentacles.Trading.Mode.volume_booster_trading_mode import actions
from tentacles.Trading.Mode.volume_booster_trading_mode import planner as vb_planner
from tentacles.Trading.Mode.volume_booster_trading_mode import settings as vb_settings
from tentacles.Trading.Mode.volume_booster_trading_mode import strategy

D = decimal.Decimal


def settings(**raw):
    return vb_settings.parse_settings(raw)


def view(now=1000.0, open_orders=(), error=None, reached=False, **raw):
    return strategy.StepView(now=now, settings=settings(**raw), settings_error=error, target_reached=reached,
                             open_orders=tuple(open_orders))


def own(order_id, side, price="100", created_at=0.0):
    return strategy.OwnOrder(order_id, side, D(price), D(1), created_at)


def market(price="100", **kwargs):
    kwargs.setdefault("base_available", D(1000))
    kwargs.setdefault("quote_available", D(100000))
    return vb_planner.MarketSnapshot(D(price), **kwargs)


def planner(seed=1, **raw):
    return vb_planner.Planner(settings(**raw), random.Random(seed))


def test_not_trading_withdraws_and_a_reached_target_stops_before_anything_else():
    disabled = strategy.before_market(view(enabled=False, reached=True))
    assert disabled.final == actions.Wait(strategy.DISABLED, withdraw=True)
    invalid = strategy.before_market(view(error="Invalid Volume Booster setting 'x'"))
    assert invalid.final == actions.Wait(strategy.INVALID_SETTINGS, withdraw=True)
    assert strategy.before_market(view(reached=True)).final == actions.Stop(strategy.TARGET_REACHED)


def test_back_off_waits_and_timed_out_resting_orders_are_cancelled():
    backing_off = strategy.StepView(now=0, settings=settings(), settings_error=None, target_reached=False,
                                    backing_off=3)
    assert strategy.before_market(backing_off).final == actions.Wait("backing off after 3 failure(s)")
    orders = [own("old", "buy", created_at=0), own("new", "sell", created_at=950)]
    decision = strategy.before_market(view(now=1000, open_orders=orders, order_type="limit",
                                           limit_order_timeout_seconds=120))
    assert decision.cancels == (actions.Cancel("old", "timeout", missed=True),) and decision.final is None
    # market orders never rest: no timeout sweep
    assert strategy.before_market(view(open_orders=orders, order_type="market")).cancels == ()


def test_a_minimum_amount_below_the_exchange_minimum_is_a_settings_error_naming_it():
    error = strategy.minimum_amount_error(settings(min_buy_amount=5), market(min_order_quote=D(10)), "BTC/USDT",
                                          "USDT")
    assert error.setting == "min_buy_amount" and "minimum order of 10 USDT on BTC/USDT" in str(error)
    assert strategy.minimum_amount_error(settings(), market(min_order_quote=D(10)), "BTC/USDT", "USDT") is None


def test_maker_orders_the_market_left_are_repriced():
    moved = [own("far", "buy", price="90"), own("near", "buy", price="99.99")]
    decision = strategy.repricing(view(open_orders=moved), market(best_bid=D("99.99"), best_ask=D("100.01")),
                                  planner(order_type="maker", reprice_percent=0.1))
    assert [cancel.order_id for cancel in decision.cancels] == ["far"]


def test_an_unknown_create_outcome_and_the_open_order_limit_wait():
    in_doubt = strategy.StepView(now=0, settings=settings(), settings_error=None, target_reached=False,
                                 create_in_doubt=True)
    decision = strategy.orders(in_doubt, market(), vb_planner.Progress(D(0)), planner())
    assert isinstance(decision.final, actions.Wait) and "failed order request" in decision.final.reason
    full = view(open_orders=[own(str(i), "buy") for i in range(3)], max_open_orders=3)
    decision = strategy.orders(full, market(), vb_planner.Progress(D(0)), planner(max_open_orders=3))
    assert decision.final == actions.Wait("3 open orders (max_open_orders)")


def test_a_resting_order_is_placed_alone_and_a_market_order_after_the_opposite_cancels():
    resting = strategy.orders(view(open_orders=[own("s", "sell", "101")], order_type="limit"), market(),
                              vb_planner.Progress(D(0)), planner(order_type="limit", volume_target=1e9))
    assert isinstance(resting.final, actions.Place) and resting.final.resting and resting.cancels == ()
    others = [own("s1", "sell", "101"), own("b1", "buy", "99")]
    for seed in range(20):
        decision = strategy.orders(view(open_orders=others, order_type="market"), market(),
                                   vb_planner.Progress(D(0)), planner(seed, order_type="market", volume_target=1e9))
        place = decision.final
        assert isinstance(place, actions.Place) and not place.resting
        assert {cancel.order_id for cancel in decision.cancels} == {"s1" if place.side == "buy" else "b1"}


def test_maker_orders_are_post_only():
    decision = strategy.orders(view(order_type="maker"), market(best_bid=D("99.9"), best_ask=D("100.1")),
                               vb_planner.Progress(D(0)), planner(order_type="maker", volume_target=1e9))
    assert decision.final.post_only and decision.final.price in (D("99.9"), D("100.1"))


def test_the_closing_phase_withdraws_the_wrong_side_then_decides_again():
    raw = dict(order_type="limit", side_policy="balanced", volume_target=1000, min_buy_amount=100,
               max_buy_amount=100, min_sell_amount=100, max_sell_amount=100)
    # 2 base too many (200 quote) and 300 quote left to trade: the run must end selling
    snapshot = market(base_excess=D(2), pair_value=D(20000))
    progress = vb_planner.Progress(D(700))
    orders = [own("b", "buy", "99"), own("s", "sell", "101")]
    decision = strategy.orders(view(open_orders=orders, **raw), snapshot, progress, planner(**raw))
    assert decision.replan and decision.final is None
    assert decision.cancels == (actions.Cancel("b", "inventory rebalancing towards sells"),)
    again = strategy.orders(view(open_orders=orders[1:], **raw), snapshot, progress, planner(**raw),
                            closing_done=True)
    assert isinstance(again.final, actions.Place) and again.final.side == "sell"


def test_the_planner_wait_and_stop_pass_through():
    covered = strategy.orders(view(volume_target=100), market(), vb_planner.Progress(D(100)), planner(volume_target=100))
    assert covered.final == actions.Wait("the target is covered by filled volume and open orders")
    budget = strategy.orders(view(max_cost=1), market(fee_rate=D("0.01")), vb_planner.Progress(D(0), net_cost=D(1)),
                             planner(max_cost=1))
    assert isinstance(budget.final, actions.Stop) and budget.final.flatten


def test_after_rounding_a_resting_sell_stays_above_the_price_and_never_crosses_an_own_buy():
    sell = actions.Place("sell", D(10), D("100.004"), resting=True)
    snapshot = market(price_tick=D("0.01"))
    assert strategy.rounded(sell, D("100.00"), snapshot) == D("100.01")
    crossing = strategy.rounded(sell, D("100.00"), market(price_tick=D("0.01"), own_highest_buy=D("100.01")))
    assert isinstance(crossing, actions.Wait) and "would match an own order" in crossing.reason
    taking = actions.Place("sell", D(10), D("100"), resting=False)
    assert strategy.rounded(taking, D("100"), snapshot) == D("100")


def test_an_unplaceable_last_order_ends_the_run_and_any_other_waits():
    settings_ = settings(volume_target=1000)
    place = actions.Place("buy", D("0.1"), D(100), resting=False)
    snapshot = market(min_order_quote=D("0.09"))
    stop = strategy.unplaceable(place, D("0.0005"), settings_, vb_planner.Progress(D("999.95")), snapshot, "BTC",
                                "USDT")
    assert isinstance(stop, actions.Stop) and stop.reason.startswith("target reached within one exchange minimum")
    wait = strategy.unplaceable(place, D("0.0005"), settings_, vb_planner.Progress(D(500)), snapshot, "BTC", "USDT")
    assert isinstance(wait, actions.Wait) and "below the exchange minimum" in wait.reason


def test_decisions_chain_cancels_before_the_final_action():
    first = actions.Decision(cancels=(actions.Cancel("a", "timeout"),))
    second = actions.Decision(cancels=(actions.Cancel("b", "repriced"),), final=actions.Wait("x"))
    chained = first.then(second)
    assert chained.actions == (actions.Cancel("a", "timeout"), actions.Cancel("b", "repriced"), actions.Wait("x"))
