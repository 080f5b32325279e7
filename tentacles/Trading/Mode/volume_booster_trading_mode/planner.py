"""Volume Booster planner: decides the next order (side, size, price) and the delay before the next
decision, from the settings, the progress so far, a market snapshot and a seeded random generator.

- Side: `balanced` keeps the pair's base share of value within the inventory band around its share at
  start (both valued at the current price, so only trading moves it), even if every open order of one side
  fills and none of the other; inside the band the side is random.
  `random` flips a coin; `alternating` alternates. A side without funds falls back to the other one.
- Price: `market` takes the reference price; `limit` rests at an offset; `maker` joins the best bid /
  ask when an order book is known, else rests a small offset from the mark price; `auto` does the one or
  the other per order, whichever costs less per unit of volume (see `execution_costs`).
- Never against itself: a buy is never placed at or above the mode's own resting sell, nor a sell at or
  below its own resting buy; a market order first needs the opposite resting orders out of the way.
- Pacing: with a deadline, the delay spreads the remaining volume over the remaining time; with target_mode
  keep_fee_tier, the day's volume (its daily_volume_cap) over the UTC day.
- Budget: with `max_cost`, the mode stops before the next order could push the cost above it.
- Sizes: never below the configured minimum but for the last order, which lands on the target (raised to
  the exchange minimum when smaller); while open orders may still fill, what is left below one order waits.
  A last order that fits neither side's funds ends the run within one exchange minimum order of the target.
- Every Wait says what blocks the order and, when a setting does, which one.

Pure Python (Decimal amounts), no OctoBot import: the same inputs and seed give the same plan.
"""
import dataclasses
import decimal
import random
import typing

from . import actions
from . import execution_costs
from . import settings as settings_module
from .ledger import DAY_SECONDS, utc_day

ZERO = decimal.Decimal(0)
ONE = decimal.Decimal(1)
HUNDRED = decimal.Decimal(100)
BUY = actions.BUY
SELL = actions.SELL
# with a deadline, aim to finish when this share of the remaining time has passed
DEADLINE_SAFETY = 0.9
# an order raised to the exchange minimum stays this much above it, so rounding never takes it below
EXCHANGE_MINIMUM_MARGIN = decimal.Decimal("1.001")


@dataclasses.dataclass(frozen=True)
class MarketSnapshot:
    price: decimal.Decimal
    # what this pair may use (its share of shared balances, minus reserve and its own open orders)
    base_available: decimal.Decimal
    quote_available: decimal.Decimal
    # this mode's own resting orders: highest buy price and lowest sell price (None when none)
    own_highest_buy: typing.Optional[decimal.Decimal] = None
    own_lowest_sell: typing.Optional[decimal.Decimal] = None
    # fee rate (fraction) of the order about to be placed, kept aside on buys and counted by the budget
    fee_rate: decimal.Decimal = ZERO
    best_bid: typing.Optional[decimal.Decimal] = None
    best_ask: typing.Optional[decimal.Decimal] = None
    # the exchange's price step: a resting order stays at least one step away from the price
    price_tick: decimal.Decimal = ZERO
    # the smallest order the exchange accepts (quote) and the taker fee rate (to price a flattening order)
    min_order_quote: decimal.Decimal = ZERO
    taker_fee_rate: decimal.Decimal = ZERO
    maker_fee_rate: decimal.Decimal = ZERO
    # base held above the pair's starting holdings (negative: below), the base still to fill in the mode's
    # open buys and in its open sells, and the pair's value in quote
    base_excess: typing.Optional[decimal.Decimal] = None
    pending_buy_base: decimal.Decimal = ZERO
    pending_sell_base: decimal.Decimal = ZERO
    pair_value: typing.Optional[decimal.Decimal] = None

    @property
    def mid(self) -> decimal.Decimal:
        """The book's mid price when both sides are known, else the price."""
        if self.best_bid and self.best_ask:
            return (self.best_bid + self.best_ask) / 2
        return self.price

    @property
    def pending_base(self) -> decimal.Decimal:
        """The base the mode's open orders would add once all filled (buys minus sells)."""
        return self.pending_buy_base - self.pending_sell_base

    def one_side_filled_excess(self, side: str) -> decimal.Decimal:
        """The base excess if every open order of `side` filled and none of the other: the farthest the open
        orders can take the inventory that way (none or all of them filled lies in between)."""
        if side == BUY:
            return self.base_excess + self.pending_buy_base
        return self.base_excess - self.pending_sell_base

    def worst_drift_pp(self, side: str, extra_quote: decimal.Decimal = ZERO) -> decimal.Decimal:
        """The drift after `one_side_filled_excess(side)` plus an order of `extra_quote` on that side: the
        farthest the inventory can go that way before the next decision."""
        signed_extra = extra_quote if side == BUY else -extra_quote
        return (self.one_side_filled_excess(side) * self.price + signed_extra) / self.pair_value * HUNDRED

    @property
    def projected_base_excess(self) -> typing.Optional[decimal.Decimal]:
        return None if self.base_excess is None else self.base_excess + self.pending_base

    @property
    def inventory_drift_pp(self) -> typing.Optional[decimal.Decimal]:
        """Inventory drift in percentage points of the pair's value, counting open orders as filled: what
        trading moved into (+) or out of (-) the base currency, at the current price. Market moves alone do
        not change it."""
        if self.base_excess is None or not self.pair_value:
            return None
        return self.projected_base_excess * self.price / self.pair_value * HUNDRED


class Progress(typing.NamedTuple):
    volume: decimal.Decimal
    # quote value of this mode's open orders that could still fill
    pending: decimal.Decimal = ZERO
    net_cost: decimal.Decimal = ZERO
    day_volume: decimal.Decimal = ZERO
    now: float = 0.0
    started_at: float = 0.0
    # filled volume / placed volume so far (None before any order)
    fill_ratio: typing.Optional[float] = None
    # the recent markouts of resting fills (fractions; positive: adverse selection)
    markouts: tuple = ()
    # share of the recent resting orders that filled (None: too few closed)
    resting_fill_ratio: typing.Optional[float] = None


@dataclasses.dataclass(frozen=True)
class OrderPlan:
    side: str
    quote_amount: decimal.Decimal
    price: decimal.Decimal
    is_limit: bool
    # the last order's size before it was raised to the exchange minimum (None: not raised)
    raised_from: typing.Optional[decimal.Decimal] = None
    # why `auto` rests or takes this order (None for the other order types)
    choice: typing.Optional[str] = None

    @property
    def quantity(self) -> decimal.Decimal:
        return self.quote_amount / self.price


def crosses_own_orders(side: str, price: decimal.Decimal, own_highest_buy, own_lowest_sell) -> bool:
    """Would an order at `price` match one of the mode's own resting orders?"""
    if side == BUY:
        return own_lowest_sell is not None and price >= own_lowest_sell
    return own_highest_buy is not None and price <= own_highest_buy


class Planner:
    def __init__(self, settings: settings_module.Settings, rng: random.Random):
        self.settings = settings
        self.rng = rng
        self.last_side = None

    # ----- timing -----
    def next_delay(self, progress: typing.Optional[Progress] = None) -> float:
        settings = self.settings
        if progress is not None and settings.target_mode == settings_module.KEEP_FEE_TIER \
                and settings.daily_volume_cap:
            # the day's volume spread over the UTC day, aiming at DEADLINE_SAFETY of it
            day_start = utc_day(progress.now) * DAY_SECONDS
            aim = day_start + DAY_SECONDS * DEADLINE_SAFETY
            missing = float(settings.daily_volume_cap - progress.day_volume - progress.pending)
            return self._paced(aim - progress.now, missing, progress)
        if not settings.deadline_hours or progress is None:
            return self.rng.uniform(settings.min_interval_seconds, settings.max_interval_seconds)
        # aim at finishing when DEADLINE_SAFETY of the whole window has passed
        aim = progress.started_at + settings.deadline_hours * 3600 * DEADLINE_SAFETY
        missing = float(settings.volume_target - progress.volume - progress.pending)
        return self._paced(aim - progress.now, missing, progress)

    def _paced(self, time_left: float, missing: float, progress: Progress) -> float:
        """A delay that spreads `missing` volume over `time_left` seconds at the mean order size."""
        settings = self.settings
        if time_left <= 0 or missing <= 0:
            return settings.min_interval_seconds
        filled_per_order = self.mean_order_amount() * (progress.fill_ratio or 1.0)
        orders_needed = max(missing / filled_per_order, 1.0)
        paced = time_left / orders_needed
        # randomness kept around the pace, but never past the aim nor faster than the minimum interval
        return max(settings.min_interval_seconds, min(paced * self.rng.uniform(0.5, 1.5), time_left))

    def mean_order_amount(self) -> float:
        settings = self.settings
        return float(settings.min_buy_amount + settings.max_buy_amount
                     + settings.min_sell_amount + settings.max_sell_amount) / 4

    def flattening_cost(self, market: MarketSnapshot) -> decimal.Decimal:
        """Fee of the market order that brings the inventory back to its start when the budget stops the mode."""
        if market.base_excess is None:
            return ZERO
        # open orders are cancelled at the stop, some of them may fill first: flatten the largest inventory
        # they can leave, with only one side of them filled
        excess = max(abs(market.one_side_filled_excess(BUY)), abs(market.one_side_filled_excess(SELL)))
        return excess * market.price * market.taker_fee_rate

    def max_order_cost(self, fee_rate: decimal.Decimal, pending: decimal.Decimal = ZERO) -> decimal.Decimal:
        """The most the next order and the `pending` quote of open orders may add to the cost if they all
        fill: their fees (the backtest has no spread to pay)."""
        return (self.settings.max_order_amount + pending) * fee_rate

    # ----- the next order -----
    def plan(self, progress: Progress,
             market: MarketSnapshot) -> typing.Union[OrderPlan, actions.Wait, actions.Stop]:
        settings = self.settings
        if settings.max_cost:
            next_cost = self.max_order_cost(market.fee_rate, progress.pending) + self.flattening_cost(market)
            if progress.net_cost + next_cost > settings.max_cost:
                return actions.Stop(f"budget reached: cost {progress.net_cost:.6g} + open orders, next order and "
                                    f"flattening up to {next_cost:.6g} > max_cost {settings.max_cost}", flatten=True)
        uncovered = settings.volume_target - progress.volume - progress.pending
        if uncovered <= ZERO:
            return actions.Wait("the target is covered by filled volume and open orders")
        if self.waits_for_open_orders(progress, market):
            # what is left is smaller than one order: the open orders may still bring it; never place dust
            return actions.Wait("waiting for open orders: they cover the target but for less than one minimum "
                                "order")
        if settings.daily_volume_cap:
            today_left = settings.daily_volume_cap - progress.day_volume - progress.pending
            # what is left today but smaller than any order the exchange accepts counts as reached
            if today_left <= ZERO or today_left < market.min_order_quote:
                return actions.Wait("daily volume cap reached")
            uncovered = min(uncovered, today_left)
        if market.price <= ZERO:
            return actions.Wait("no market price yet")
        sides = self._side_order(market, progress)
        if not sides:
            return actions.Wait(f"waiting for open orders: one more order on either side could carry the "
                                f"inventory past the {self.settings.inventory_band_pp} pp band")
        choice = self.execution_choice(market, progress)
        resting = self.settings.always_rests if choice is None else choice.resting
        # a side the inventory requires brings it back to its start, not past it
        cap = self.drift_value(market) if len(sides) == 1 and self.inventory_side(market, progress) else None
        reasons = []
        for side in sides:
            candidate = self._plan_side(side, uncovered, market, resting, choice, cap)
            if isinstance(candidate, OrderPlan):
                self.last_side = side
                return candidate
            reasons.append(f"{side}: {candidate.reason}")
        excluded = [side for side in (BUY, SELL) if side not in sides]
        if excluded:
            why = "the inventory has to come back first" if self.inventory_side(market, progress) is not None \
                else f"its largest order with the open {excluded[0]} orders could leave the band"
            reasons.append(f"{excluded[0]}: not now, {why} (side_policy {settings.side_policy}, "
                           f"inventory_band_pp {settings.inventory_band_pp} pp)")
        if progress.pending <= ZERO and uncovered < market.min_order_quote:
            # the last order, raised to the exchange minimum, fits neither side's funds: never stall on it
            return actions.Stop(f"target reached within one exchange minimum order ({uncovered:.8g} short, below "
                                f"the minimum order of {market.min_order_quote:.8g}, which the funds can no longer "
                                f"place)")
        # buy first: the same blockage reads the same whichever side was tried first
        return actions.Wait("; ".join(sorted(reasons)))

    def waits_for_open_orders(self, progress: Progress, market: MarketSnapshot) -> bool:
        """The open orders cover the target, or all of it but less than one order: no order is placed."""
        settings = self.settings
        uncovered = settings.volume_target - progress.volume - progress.pending
        smallest = min(settings.min_buy_amount, settings.min_sell_amount)
        return progress.pending > ZERO and uncovered < max(smallest, market.min_order_quote)

    def inventory_side(self, market: MarketSnapshot, progress: Progress) -> typing.Optional[str]:
        """The side the inventory requires (None: free choice).

        Outside the band, the side that brings the inventory back. In the closing phase, when the volume
        still to trade is just enough to undo the drift, the side that undoes it, so the run ends with the
        base holdings where they started (within one order)."""
        if self.settings.side_policy != settings_module.BALANCED:
            return None
        drift_pp = market.inventory_drift_pp
        if drift_pp is None or not drift_pp:
            return None
        if abs(drift_pp) > self.settings.inventory_band_pp:
            return SELL if drift_pp > 0 else BUY
        if self.is_closing(market, progress):
            return SELL if drift_pp > 0 else BUY
        return None

    def is_closing(self, market: MarketSnapshot, progress: Progress) -> bool:
        """The last part of the run: the remaining volume is about what undoing the inventory drift takes.
        Resting orders on the other side are then withdrawn, so the run ends flat."""
        if self.settings.side_policy != settings_module.BALANCED or market.projected_base_excess is None:
            return False
        drift_value = self.drift_value(market)
        remaining = self.settings.volume_target - progress.volume - progress.pending
        # within half the smallest order the inventory is flat: pushing it back would only swing it the other way
        flat = min(self.settings.min_buy_amount, self.settings.min_sell_amount) / 2
        return drift_value >= flat and remaining <= drift_value * 2 + self.settings.max_order_amount * 2

    @staticmethod
    def drift_value(market: MarketSnapshot) -> decimal.Decimal:
        """What the base held above or below the start (open orders counted as filled) is worth now."""
        return abs(market.projected_base_excess) * market.price if market.projected_base_excess is not None \
            else ZERO

    def _side_order(self, market: MarketSnapshot, progress: Progress) -> tuple:
        forced = self.inventory_side(market, progress)
        if forced is not None:
            return (forced,)
        if self.settings.side_policy == settings_module.ALTERNATING:
            first = BUY if self.last_side == SELL else SELL if self.last_side == BUY else self._coin()
        else:
            first = self._coin()
        sides = (first, SELL if first == BUY else BUY)
        if self.settings.side_policy == settings_module.BALANCED and market.pair_value \
                and market.base_excess is not None:
            # inside the band the side is random, among the sides whose order keeps the inventory inside it
            # whatever fills first (every open order of that side, none of the other, plus the largest order)
            kept = tuple(side for side in sides if self._stays_in_band(side, market))
            if kept:
                return kept
            if market.pending_buy_base or market.pending_sell_base:
                # the open orders already use the band's room: wait for them to fill or to be cancelled
                return ()
            # a band narrower than one order: the side that brings the inventory back, if any
            drift = market.inventory_drift_pp
            if drift:
                return (SELL if drift > 0 else BUY,)
        return sides

    def _stays_in_band(self, side: str, market: MarketSnapshot) -> bool:
        _, largest = self.settings.amount_range(side)
        worst = market.worst_drift_pp(side, largest)
        band = self.settings.inventory_band_pp
        return worst <= band if side == BUY else worst >= -band

    def _coin(self) -> str:
        return BUY if self.rng.random() < 0.5 else SELL

    def execution_choice(self, market: MarketSnapshot,
                         progress: Progress) -> typing.Optional[execution_costs.Choice]:
        """`auto`: rest or take, whichever costs less per unit of volume now (None for the other order types)."""
        settings = self.settings
        if settings.order_type != settings_module.AUTO:
            return None
        prior = settings.adverse_selection_prior_bps / execution_costs.BPS
        adverse = execution_costs.expected_adverse_selection(prior, progress.markouts)
        return execution_costs.choose(market.maker_fee_rate, market.taker_fee_rate,
                                      execution_costs.half_spread(market.best_bid, market.best_ask), adverse,
                                      self.behind_pace(progress), progress.resting_fill_ratio,
                                      execution_costs.markout_error(progress.markouts))

    def behind_pace(self, progress: Progress) -> bool:
        """`auto` with a deadline: the filled volume lags the even pace toward the target (see execution_costs)."""
        settings = self.settings
        return settings.order_type == settings_module.AUTO and execution_costs.behind_pace(
            progress.volume, settings.volume_target, progress.started_at, progress.now,
            settings.deadline_hours * 3600 * DEADLINE_SAFETY,
            settings.max_order_amount * execution_costs.PACE_SLACK_ORDERS)

    def _plan_side(self, side: str, uncovered: decimal.Decimal, market: MarketSnapshot, resting: bool,
                   choice: typing.Optional[execution_costs.Choice] = None,
                   cap: typing.Optional[decimal.Decimal] = None):
        low, high = self.settings.amount_range(side)
        amount = _uniform_decimal(self.rng, low, high)
        if cap is not None:
            amount = min(amount, max(cap, low))
        # never plan more than what is still missing: the last order lands on the target
        amount = min(amount, uncovered)
        # an order the exchange would refuse as too small (only the last one can be): raised to its minimum
        raised_from = amount if amount < market.min_order_quote else None
        amount = max(amount, market.min_order_quote * EXCHANGE_MINIMUM_MARGIN)
        price = self.price_for(side, market, resting)
        setting = f"min_{side}_amount"
        if side == BUY:
            needed = amount * (ONE + market.fee_rate)
            if market.quote_available < needed:
                return actions.Wait(f"not enough quote for a buy of {amount:.8g} quote (with fees {needed:.8g}; "
                                    f"this pair may use {market.quote_available:.8g}): lower {setting} or add quote "
                                    f"funds")
        elif market.base_available < amount / price:
            return actions.Wait(f"not enough base for a sell of {amount:.8g} quote ({amount / price:.8g} base; "
                                f"this pair may use {market.base_available:.8g}): lower {setting} or add base funds")
        if resting and crosses_own_orders(side, price, market.own_highest_buy, market.own_lowest_sell):
            own = market.own_lowest_sell if side == BUY else market.own_highest_buy
            return actions.Wait(f"a {side} at {price} would match this mode's own resting order at {own}")
        return OrderPlan(side=side, quote_amount=amount, price=price, is_limit=resting, raised_from=raised_from,
                         choice=choice.reason if choice is not None else None)

    def price_for(self, side: str, market: MarketSnapshot, resting: typing.Optional[bool] = None) -> decimal.Decimal:
        """The price of an order of `side`: resting (default: when the order type always rests) or taking."""
        settings = self.settings
        reference = market.price
        if not (settings.always_rests if resting is None else resting):
            return reference
        if settings.order_type in settings_module.BEST_PRICE_ORDER_TYPES:
            book = market.best_bid if side == BUY else market.best_ask
            if book is not None and book > ZERO:
                return book
            offset = settings.maker_offset_percent / HUNDRED
        else:
            offset = settings.price_offset_percent / HUNDRED
        # an offset smaller than the price step would round onto the price and take liquidity
        if side == BUY:
            return min(reference * (ONE - offset), reference - market.price_tick)
        return max(reference * (ONE + offset), reference + market.price_tick)

    def needs_reprice(self, side: str, order_price: decimal.Decimal, market: MarketSnapshot) -> bool:
        """A resting order at the best price the market moved away from by more than `reprice_percent`."""
        if self.settings.order_type not in settings_module.BEST_PRICE_ORDER_TYPES or market.price <= ZERO:
            return False
        wanted = self.price_for(side, market, resting=True)
        return abs(wanted - order_price) / market.price * HUNDRED > self.settings.reprice_percent


def _uniform_decimal(rng: random.Random, low: decimal.Decimal, high: decimal.Decimal) -> decimal.Decimal:
    if high <= low:
        return low
    fraction = decimal.Decimal(str(round(rng.random(), 12)))
    return low + (high - low) * fraction
