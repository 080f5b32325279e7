"""The executor: carries a step's Decision out through the gateway and says what happened.

Every exchange call is guarded: a failure is classified, counted, logged once and backed off; a create that
failed in a way the exchange may still have executed is remembered (the books adopt its order when it shows
up, and the strategy waits meanwhile). Cancels come first; a Place whose cancels did not all succeed is not
sent (a market order never meets the mode's own resting orders).
"""
import asyncio
import collections
import dataclasses
import typing

from . import actions
from . import books as vb_books
from . import faults as vb_faults
from . import gateway as vb_gateway
from . import planner as vb_planner
from . import strategy
from . import waiting as vb_waiting


@dataclasses.dataclass
class Outcome:
    """What carrying a decision out did."""
    cancelled: list = dataclasses.field(default_factory=list)
    # cancels the exchange did not confirm
    not_cancelled: list = dataclasses.field(default_factory=list)
    placed: typing.Optional[str] = None
    waited: typing.Optional[str] = None
    stopped: typing.Optional[str] = None


class _AmbiguousCreate(Exception):
    """An order request failed in a way the exchange may still have executed."""


class Executor:
    def __init__(self, gateway: vb_gateway.Gateway, books: vb_books.Books, clock, logger,
                 describe_finish: typing.Callable[[str], str]):
        self.gateway = gateway
        self.books = books
        self.clock = clock
        self.logger = logger
        self.describe_finish = describe_finish
        self.backoff = vb_faults.Backoff()
        # failures by "call:kind", e.g. "create:network"
        self.failures = collections.Counter()
        self.waiting = vb_waiting.WaitingReasons()
        # `auto`: why the latest order rests or takes
        self.execution_choice = None

    def note_choice(self, choice: str) -> None:
        """`auto` says when it turns from resting to taking or back, and why."""
        previous, self.execution_choice = self.execution_choice, choice
        if previous is None or previous.split(":")[0] != choice.split(":")[0]:
            self.logger.info(f"Auto execution {choice}")

    async def guarded(self, call: str, coroutine):
        """Run one exchange call: a failure is classified, counted, logged once and backed off; None then."""
        try:
            result = await coroutine
        except asyncio.CancelledError:
            raise
        except Exception as err:
            kind = vb_faults.classify(err)
            self.failures[f"{call}:{kind}"] += 1
            delay = self.backoff.failed(self.clock.now(), kind)
            self.logger.warning(f"{call} failed ({kind}: {err.__class__.__name__}: {err}); "
                                f"next attempt in {delay:.0f} s")
            if call == "create" and kind in vb_faults.AMBIGUOUS:
                raise _AmbiguousCreate() from err
            return None
        self.backoff.succeeded()
        return result

    def note_wait(self, reason: str) -> None:
        for line in self.waiting.note(reason, self.clock.now()):
            self.logger.info(line)

    async def carry_out(self, decision: actions.Decision, market: typing.Optional[vb_gateway.MarketView] = None,
                        progress: typing.Optional[vb_planner.Progress] = None, settings=None) -> Outcome:
        """Cancels first, then the final action (a Place needs `market`, `progress` and `settings`)."""
        outcome = Outcome()
        for cancel in decision.cancels:
            order = self.books.orders.get(cancel.order_id)
            if order is not None and await self.cancel(order, cancel.reason, cancel.missed):
                outcome.cancelled.append(cancel.order_id)
            elif self.books.orders.is_open(cancel.order_id):
                outcome.not_cancelled.append(cancel.order_id)
        final = decision.final
        if isinstance(final, actions.Wait):
            if final.withdraw:
                await self.withdraw(final.reason)
            else:
                self.note_wait(final.reason)
            outcome.waited = final.reason
        elif isinstance(final, actions.Stop):
            await self.finish(final.reason, final.flatten, market)
            outcome.stopped = final.reason
        elif isinstance(final, actions.Place) and not outcome.not_cancelled:
            await self.place(final, market, progress, settings, outcome)
        return outcome

    async def cancel(self, order, reason: str, missed: bool = False) -> bool:
        cancelled = bool(await self.guarded("cancel", self.gateway.cancel(order)))
        if cancelled:
            self.books.record_closed(order.order_id, "cancelled", missed=missed)
            self.logger.debug(f"Cancelled {vb_gateway.side_of(order)} order {order.order_id} ({reason})")
        # an order that filled while being cancelled is counted from its trades
        self.books.collect_fills()
        await self.books.refresh()
        return cancelled

    async def place(self, place: actions.Place, market: vb_gateway.MarketView, progress: vb_planner.Progress,
                    settings, outcome: Outcome) -> None:
        snapshot = market.snapshot
        if place.raised_from is not None:
            self.logger.warning(f"Last order of {place.raised_from:.8g} {self.gateway.quote} is below the exchange "
                                f"minimum: raised to {place.quote_amount:.8g} {self.gateway.quote}")
        size = self.gateway.order_size(place, market.symbol_market)
        if size is None:
            quantity = place.quantity
            result = strategy.unplaceable(place, quantity, settings, progress, snapshot, self.gateway.base,
                                          self.gateway.quote)
            if isinstance(result, actions.Stop):
                await self.finish(result.reason, result.flatten, market)
                outcome.stopped = result.reason
            else:
                self.note_wait(result.reason)
                outcome.waited = result.reason
            return
        quantity, price = size
        price = strategy.rounded(place, price, snapshot)
        if isinstance(price, actions.Wait):
            self.note_wait(price.reason)
            outcome.waited = price.reason
            return
        attempt_time = self.clock.now()
        try:
            created = await self.guarded("create", self.gateway.create(
                place.side, place.resting, quantity, price, snapshot.price, place.post_only))
        except _AmbiguousCreate:
            # the exchange may have created it: look for it before placing anything else
            self.books.doubt(place.side, quantity, price, attempt_time)
            return
        if created is None:
            reason = f"the exchange did not create the {place.side} order"
            self.note_wait(reason)
            outcome.waited = reason
            return
        for line in self.waiting.placed(self.clock.now()):
            self.logger.info(line)
        self.books.record_placed(created)
        outcome.placed = created.order_id
        if place.choice is not None:
            self.note_choice(place.choice)

    async def withdraw(self, reason: str) -> None:
        """Not trading: the mode's own open orders are cancelled."""
        for order in self.books.own_open_orders_on_exchange():
            await self.cancel(order, reason)

    async def finish(self, reason: str, flatten: bool = False,
                     market: typing.Optional[vb_gateway.MarketView] = None) -> None:
        await self.withdraw(reason)
        if flatten and market is not None:
            await self.flatten_inventory(market.symbol_market)
        self.logger.info(self.describe_finish(reason))

    async def flatten_inventory(self, symbol_market: dict) -> None:
        """One market order bringing the pair's base holdings back to where they started, so price moves after
        a budget stop cannot add to the cost (its fee was counted in the budget check)."""
        self.books.collect_fills()
        excess = self.books.ledger.base_delta
        price = self.gateway.last_price()
        if not excess or not price:
            return
        size = self.gateway.flattening_size(excess, price, symbol_market)
        if size is None:
            return
        side, quantity, order_price = size
        try:
            created = await self.guarded("create", self.gateway.create(side, False, quantity, order_price, price,
                                                                       post_only=False))
        except _AmbiguousCreate:
            return
        if created is not None:
            self.logger.info(f"Flattened the inventory after the budget stop: {side} {quantity} {self.gateway.base}")
            self.books.record_placed(created)
            self.books.collect_fills()
