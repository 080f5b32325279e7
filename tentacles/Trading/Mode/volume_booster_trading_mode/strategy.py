"""Volume Booster strategy: every decision of one step, from read-only views, as typed actions.

A step reads as a short list of named checks; each returns a Decision the executor carries out:
1. `before_market`: not trading (invalid settings, disabled) withdraws the mode's orders; a reached target
   stops; a back-off waits; resting orders past their timeout are cancelled.
2. `minimum_amount_error`: the configured minimum amounts must be orders the exchange accepts.
3. `orders`: resting orders the market moved away from are repriced (cancelled); a create whose outcome is
   unknown, or the open-order limit, waits; `auto` behind its deadline pace withdraws its resting orders, and
   at the end of a balanced run the orders on the wrong side are withdrawn (then the step decides again); otherwise the planner's order is placed (a market order only
   once the mode's own resting orders on the other side are out of its way), or its wait or stop returned.
4. `rounded`: after OctoBot's precision rounding, a resting sell stays above the price and no order may
   cross one of the mode's own; `unplaceable`: a last order the funds can no longer place ends the run.
Pure Python, no OctoBot import: the planner (seeded) is the only source of randomness.
"""
import decimal
import typing

from . import actions
from . import planner as vb_planner
from . import settings as vb_settings

ZERO = decimal.Decimal(0)
TARGET_REACHED = "target reached"
DISABLED = "disabled"
INVALID_SETTINGS = "invalid settings"


class OwnOrder(typing.NamedTuple):
    """One of the mode's open orders, as the strategy sees it."""
    order_id: str
    side: str
    price: decimal.Decimal
    # base still to fill
    remaining: decimal.Decimal
    created_at: float


class StepView(typing.NamedTuple):
    now: float
    settings: typing.Any  # settings.Settings
    settings_error: typing.Optional[str]
    target_reached: bool
    open_orders: tuple = ()
    # consecutive failures while the executor backs off (0: not backing off)
    backing_off: int = 0
    # an order request failed in a way the exchange may still have executed: its outcome is not known yet
    create_in_doubt: bool = False


def before_market(view: StepView) -> actions.Decision:
    """What is decided before the market is read: a final Wait or Stop ends the step there."""
    settings = view.settings
    if view.settings_error or not settings.enabled:
        return actions.Decision(final=actions.Wait(INVALID_SETTINGS if view.settings_error else DISABLED,
                                                   withdraw=True))
    if view.target_reached:
        return actions.Decision(final=actions.Stop(TARGET_REACHED))
    if view.backing_off:
        return actions.Decision(final=actions.Wait(f"backing off after {view.backing_off} failure(s)"))
    if not settings.uses_limit_orders:
        return actions.Decision()
    timeout = settings.limit_order_timeout_seconds
    return actions.Decision(cancels=tuple(
        actions.Cancel(order.order_id, "timeout", missed=True) for order in view.open_orders
        if view.now - order.created_at >= timeout
    ))


def minimum_amount_error(settings, market: vb_planner.MarketSnapshot, symbol: str,
                         quote: str) -> typing.Optional[vb_settings.SettingsError]:
    """The first configured minimum amount the exchange would refuse as too small, as a settings error."""
    minimal_cost = market.min_order_quote
    for name in ("min_buy_amount", "min_sell_amount"):
        value = getattr(settings, name)
        if value < minimal_cost:
            return vb_settings.SettingsError(
                name, f"{value} {quote} is below the exchange's minimum order of {minimal_cost:.8g} {quote} on "
                      f"{symbol}: must be from {minimal_cost:.8g} to {vb_settings.MAX_QUOTE_AMOUNT:g}"
            )
    return None


def repricing(view: StepView, market: vb_planner.MarketSnapshot, planner: vb_planner.Planner) -> actions.Decision:
    """Resting maker orders the market moved away from by more than `reprice_percent`."""
    return actions.Decision(cancels=tuple(
        actions.Cancel(order.order_id, "repriced: the market moved away", missed=True) for order in view.open_orders
        if planner.needs_reprice(order.side, order.price, market)
    ))


def orders(view: StepView, market: vb_planner.MarketSnapshot, progress: vb_planner.Progress,
           planner: vb_planner.Planner, closing_done: bool = False) -> actions.Decision:
    """The step's order, once repriced orders are gone. `closing_done`: the wrong-side orders of the closing
    phase were withdrawn earlier in this step (the view is fresh), so the order may be planned."""
    if view.create_in_doubt:
        return actions.Decision(final=actions.Wait("waiting to learn whether a failed order request was executed"))
    if len(view.open_orders) >= view.settings.max_open_orders:
        return actions.Decision(final=actions.Wait(f"{len(view.open_orders)} open orders (max_open_orders)"))
    if not closing_done:
        if view.open_orders and planner.behind_pace(progress) and planner.waits_for_open_orders(progress, market):
            # behind the deadline pace, the resting orders that cover the rest of the target give way to taking
            return actions.Decision(cancels=tuple(
                actions.Cancel(order.order_id, "giving way to taking: behind the deadline pace")
                for order in view.open_orders), replan=True)
        forced_side = planner.inventory_side(market, progress)
        if forced_side is not None and planner.is_closing(market, progress):
            # resting orders on the other side would push the inventory further away: withdraw them, then
            # decide again on what the market shows without them
            reason = f"inventory rebalancing towards {forced_side}s"
            return actions.Decision(cancels=tuple(
                actions.Cancel(order.order_id, reason) for order in view.open_orders if order.side != forced_side
            ), replan=True)
    plan = planner.plan(progress, market)
    if isinstance(plan, (actions.Wait, actions.Stop)):
        return actions.Decision(final=plan)
    place = actions.Place(plan.side, plan.quote_amount, plan.price, resting=plan.is_limit,
                          post_only=plan.is_limit and view.settings.order_type in vb_settings.BEST_PRICE_ORDER_TYPES,
                          raised_from=plan.raised_from, choice=plan.choice)
    return actions.Decision(cancels=in_the_way(place, view.open_orders), final=place)


def in_the_way(place: actions.Place, open_orders: typing.Iterable[OwnOrder]) -> tuple:
    """Before a market order: cancels of the mode's own resting orders on the other side, which it could match
    at any price (a resting order needs none: it never crosses an own order, see `rounded`)."""
    if place.resting:
        return ()
    return tuple(actions.Cancel(order.order_id, "out of the way of a market order") for order in open_orders
                 if order.side == actions.opposite(place.side))


def rounded(place: actions.Place, price: decimal.Decimal, market: vb_planner.MarketSnapshot) \
        -> typing.Union[decimal.Decimal, actions.Wait]:
    """The price to send once OctoBot rounded the order to the market's precision, or why not to send it."""
    if place.resting and place.side == actions.SELL and price <= market.price:
        # truncation to the price precision must not bring a resting sell onto the price
        price += market.price_tick
    if place.resting and vb_planner.crosses_own_orders(place.side, price, market.own_highest_buy,
                                                       market.own_lowest_sell):
        return actions.Wait(f"{place.side} at {price} (after price precision) would match an own order")
    return price


def unplaceable(place: actions.Place, quantity: decimal.Decimal, settings, progress: vb_planner.Progress,
                market: vb_planner.MarketSnapshot, base: str, quote: str) -> typing.Union[actions.Wait, actions.Stop]:
    """An order OctoBot's fee reserve and precision left below the exchange minimum. The last one never fits
    again: the run ends within one minimum order of the target."""
    remaining = settings.volume_target - progress.volume - progress.pending
    if not progress.pending and remaining < market.min_order_quote:
        return actions.Stop(f"target reached within one exchange minimum order ({remaining:.8g} {quote} short, "
                            f"below the minimum order of {market.min_order_quote:.8g} {quote} the funds can still "
                            f"place)")
    return actions.Wait(f"{place.side} of {quantity} {base} at {place.price} is below the exchange minimum or its "
                        f"precision")
