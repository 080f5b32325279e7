"""Volume Booster planner: decides the next order (side, size, price) and the delay before the next
decision, from the settings, the progress so far, a market snapshot and a seeded random generator.

Pure Python (Decimal amounts), no OctoBot import: the same inputs and seed give the same plan.
"""
import dataclasses
import decimal
import random
import typing

from . import settings as settings_module

ZERO = decimal.Decimal(0)
ONE = decimal.Decimal(1)
HUNDRED = decimal.Decimal(100)
BUY = "buy"
SELL = "sell"


@dataclasses.dataclass(frozen=True)
class MarketSnapshot:
    price: decimal.Decimal
    base_available: decimal.Decimal
    quote_available: decimal.Decimal
    # this mode's own resting orders: highest buy price and lowest sell price (None when none)
    own_highest_buy: typing.Optional[decimal.Decimal] = None
    own_lowest_sell: typing.Optional[decimal.Decimal] = None
    # fee rate applied on a buy (fraction), kept aside from the quote needed
    fee_rate: decimal.Decimal = ZERO


@dataclasses.dataclass(frozen=True)
class Progress:
    volume: decimal.Decimal
    # quote value of this mode's open orders that could still fill
    pending: decimal.Decimal = ZERO


@dataclasses.dataclass(frozen=True)
class OrderPlan:
    side: str
    quote_amount: decimal.Decimal
    price: decimal.Decimal
    is_limit: bool

    @property
    def quantity(self) -> decimal.Decimal:
        return self.quote_amount / self.price


@dataclasses.dataclass(frozen=True)
class Skip:
    reason: str


class Planner:
    def __init__(self, settings: settings_module.Settings, rng: random.Random):
        self.settings = settings
        self.rng = rng

    def next_delay(self) -> float:
        return self.rng.uniform(self.settings.min_interval_seconds, self.settings.max_interval_seconds)

    def plan(self, progress: Progress, market: MarketSnapshot) -> typing.Union[OrderPlan, Skip]:
        uncovered = self.settings.volume_target - progress.volume - progress.pending
        if uncovered <= ZERO:
            return Skip("the target is covered by filled volume and open orders")
        if market.price <= ZERO:
            return Skip("no market price yet")
        preferred = BUY if self.rng.random() < 0.5 else SELL
        reasons = []
        for side in (preferred, SELL if preferred == BUY else BUY):
            candidate = self._plan_side(side, uncovered, market)
            if isinstance(candidate, OrderPlan):
                return candidate
            reasons.append(f"{side}: {candidate.reason}")
        return Skip("; ".join(reasons))

    def _plan_side(self, side: str, uncovered: decimal.Decimal, market: MarketSnapshot):
        low, high = self.settings.amount_range(side)
        amount = _uniform_decimal(self.rng, low, high)
        # never plan more than what is still missing: the last order lands on the target
        amount = min(amount, uncovered)
        price = self._price(side, market.price)
        if side == BUY:
            needed = amount * (ONE + market.fee_rate)
            if market.quote_available < needed:
                return Skip(f"not enough quote available ({market.quote_available} < {needed})")
            if market.own_lowest_sell is not None and price >= market.own_lowest_sell:
                return Skip(f"a buy at {price} would match this mode's own sell at {market.own_lowest_sell}")
        else:
            if market.base_available < amount / price:
                return Skip(f"not enough base available ({market.base_available} < {amount / price})")
            if market.own_highest_buy is not None and price <= market.own_highest_buy:
                return Skip(f"a sell at {price} would match this mode's own buy at {market.own_highest_buy}")
        return OrderPlan(side=side, quote_amount=amount, price=price, is_limit=self.settings.uses_limit_orders)

    def _price(self, side: str, reference: decimal.Decimal) -> decimal.Decimal:
        if not self.settings.uses_limit_orders:
            return reference
        offset = self.settings.price_offset_percent / HUNDRED
        return reference * (ONE - offset) if side == BUY else reference * (ONE + offset)


def _uniform_decimal(rng: random.Random, low: decimal.Decimal, high: decimal.Decimal) -> decimal.Decimal:
    if high <= low:
        return low
    fraction = decimal.Decimal(str(round(rng.random(), 12)))
    return low + (high - low) * fraction
