"""The mode's books: its own orders and fills as the ledger counts them and the state file journals them.

Each order is counted when it is placed (or adopted), each close where it is seen (filled, cancelled,
expired, expired_self_trade, vanished), each fill once (by trade id). Fills come only from the exchange's trades of the
mode's own orders; a trade carrying the mode's tag whose order the books miss is adopted when a restart or a
failed-but-maybe-executed request explains it.
"""
import decimal
import typing

from . import execution_costs as vb_execution_costs
from . import faults as vb_faults
from . import fee_check as vb_fee_check
from . import gateway as vb_gateway
from . import ledger as vb_ledger
from . import own_orders as vb_own_orders
from . import planner as vb_planner

ZERO = decimal.Decimal(0)


class Books:
    def __init__(self, gateway: vb_gateway.Gateway, ledger: vb_ledger.Ledger, logger, describe_fill,
                 markout_seconds: float):
        self.gateway = gateway
        self.ledger = ledger
        self.logger = logger
        # fill -> its log line
        self.describe_fill = describe_fill
        self.orders = vb_own_orders.OwnOrders()
        self.journal = None
        self.placed_volume = ZERO
        # a create that failed in a way the exchange may still have executed: {side, quantity, price, time}
        self.in_doubt: typing.Optional[dict] = None
        # from a restart's restoration until the orders of before it are settled
        self.restoration = None
        # markouts of the resting fills and outcomes of the resting orders (what `auto` chooses from)
        self.execution = vb_execution_costs.ExecutionStats(markout_seconds)
        self.fee_check = vb_fee_check.FeeCheck()

    # ----- orders -----
    def record_placed(self, order) -> None:
        """An order of the mode on the exchange: placed by it, or adopted after a failed request."""
        self.record_own(order.order_id, vb_gateway.side_of(order), order.origin_quantity, order.origin_price,
                        order.creation_time, open_order=order if order.is_open() else None)
        if order.is_filled():
            self.record_closed(order.order_id, "filled")

    def record_own(self, order_id: str, side: str, quantity, price, creation_time, open_order=None) -> None:
        """Count and journal one order of this mode."""
        self.ledger.orders_created += 1
        self.placed_volume += quantity * price
        self.orders.add(order_id, open_order)
        self.journal_event("order", id=order_id, side=side, quantity=str(quantity), price=str(price),
                           time=creation_time)

    def record_closed(self, order_id: str, how: str, missed: bool = False) -> None:
        """The one place where an own order's close is accounted: counted and journalled. `missed`: a resting
        order cancelled after its chance to fill passed (an order withdrawn by the mode says nothing of how
        often resting orders fill)."""
        order = self.orders.get(order_id)
        if order is not None and vb_gateway.is_resting(order):
            filled = how == "filled" or order.filled_quantity > 0
            if filled or missed or how == "expired":
                self.execution.resting_closed(self.gateway.now(), filled)
        self.orders.close(order_id)
        self.ledger.count_closed(how)
        self.journal_event("order_closed", id=order_id, how=how)

    async def refresh(self) -> None:
        """Own open orders the exchange closed (filled, or expired without our cancel). An expiry the exchange's
        own record marks as self-trade prevention is counted as such and said once, in the exchange's words."""
        for order in self.orders.open_orders:
            how = vb_gateway.closed_how(order)
            if how is None:
                continue
            term = await self.gateway.self_trade_expiry_term(order) if how == "expired" else None
            if term is not None:
                how = "expired_self_trade"
            self.record_closed(order.order_id, how)
            if term is not None:
                self.logger.warning(f"Order {order.order_id} was expired by {self.gateway.exchange_name} to prevent "
                                    f"a self-trade ({term})")
            elif how == "expired":
                self.logger.warning(f"Order {order.order_id} was closed by the exchange ({order.status.value}) "
                                    f"without a fill")

    def own_open_orders_on_exchange(self) -> list:
        return [order for order in self.gateway.open_orders() if self.orders.is_own(order.order_id)]

    def open_order_views(self) -> tuple:
        return tuple(vb_gateway.own_order_view(order) for order in self.orders.iter_open())

    def pending_quote(self) -> decimal.Decimal:
        return sum(((order.origin_quantity - order.filled_quantity) * order.origin_price
                    for order in self.orders.iter_open()), ZERO)

    # ----- a failed create the exchange may have executed -----
    def doubt(self, side: str, quantity, price, time: float) -> None:
        self.in_doubt = {"side": side, "quantity": quantity, "price": price, "time": time}

    def settle_doubt(self, now: float, wait_seconds: float) -> bool:
        """True when trading may go on: the order of the failed request was found on the exchange and adopted,
        or enough time passed to be sure it does not exist."""
        unknown = [
            {"id": order.order_id, "side": vb_gateway.side_of(order), "quantity": order.origin_quantity,
             "price": order.origin_price, "time": order.creation_time, "order": order}
            for order in self.gateway.open_orders() if not self.orders.is_own(order.order_id)
        ]
        adopted = vb_faults.find_adoptable(self.in_doubt, unknown)
        if adopted is not None:
            order = next(candidate["order"] for candidate in unknown if candidate["id"] == adopted)
            self.logger.warning(f"Adopted order {adopted}: created by the exchange although the request failed")
            self.record_placed(order)
            self.in_doubt = None
            return True
        if now - self.in_doubt["time"] >= wait_seconds:
            self.in_doubt = None
            return True
        return False

    def _adopt_filled_doubt(self, trade) -> None:
        attempt = self.in_doubt
        matches = vb_faults.find_adoptable(attempt, [{
            "id": trade.origin_order_id, "side": trade.side.value, "quantity": trade.origin_quantity,
            "price": trade.origin_price, "time": trade.creation_time,
        }])
        if matches is None and not (trade.side.value == attempt["side"]
                                    and trade.origin_quantity == attempt["quantity"]):
            return
        self.logger.warning(f"Adopted order {trade.origin_order_id}: created by the exchange although the request "
                            f"failed, and already filled")
        self.in_doubt = None
        # a market order has no price of its own: its fill price is what it placed
        self.record_own(trade.origin_order_id, trade.side.value, trade.origin_quantity,
                        trade.origin_price or trade.executed_price, trade.creation_time)
        self.record_closed(trade.origin_order_id, "filled")

    def adopt_tagged(self, order_id: str, side: str, quantity, price, creation_time) -> None:
        """An order carrying the mode's tag that the state file misses (e.g. its line was torn by a crash): own,
        settled with the other orders of before the restart."""
        self.logger.warning(f"Adopted order {order_id} by its tag {vb_gateway.ORDER_TAG!r}: the state file misses it")
        self.record_own(order_id, side, quantity, price, creation_time)
        self.restoration.open_at_stop.add(order_id)

    # ----- fills -----
    def collect_fills(self) -> None:
        """Count the mode's new fills from the exchange's trades (each trade once)."""
        for trade in self.gateway.new_trades():
            if not self.orders.is_own(trade.origin_order_id):
                if trade.tag != vb_gateway.ORDER_TAG:
                    continue
                if self.restoration is not None and self.restoration.adopts(trade.executed_time):
                    # at a restart: an order of this run that the state file misses
                    self.adopt_tagged(trade.origin_order_id, trade.side.value, trade.origin_quantity,
                                      trade.origin_price or trade.executed_price, trade.creation_time)
                elif self.in_doubt is not None:
                    # the order of a request that failed but was executed, filled before it could be adopted
                    self._adopt_filled_doubt(trade)
                else:
                    continue
            fill = self.gateway.fill(trade)
            if self.ledger.record_fill(fill):
                if fill.is_maker:
                    self.execution.resting_fill(fill.timestamp, fill.side, fill.price)
                self.journal_event("fill", fill=fill.to_dict())
                self.logger.info(self.describe_fill(fill))
                self.check_fee(trade, fill.is_maker)

    def check_fee(self, trade, is_maker: bool) -> None:
        """The fill's fee rate against the rates the exchange reports for the pair (see fee_check)."""
        rate, currency = self.gateway.charged_fee(trade)
        if rate is None:
            line = self.fee_check.unvalued(currency)
            if line is not None:
                self.logger.info(line)
            return
        line = self.fee_check.observe(is_maker, rate, self.gateway.fee_rate(maker=True),
                                      self.gateway.fee_rate(maker=False))
        if line is not None:
            self.logger.warning(line)

    def progress(self, now: float, started_at: float) -> vb_planner.Progress:
        price = self.gateway.last_price()
        markouts = self.execution.recent_markouts(now)
        return vb_planner.Progress(
            volume=self.ledger.volume,
            pending=self.pending_quote(),
            net_cost=self.ledger.net_cost(price) if price else ZERO,
            day_volume=self.ledger.day_volume(now),
            now=now,
            started_at=started_at,
            fill_ratio=float(self.ledger.volume / self.placed_volume) if self.placed_volume else None,
            markouts=tuple(markouts),
            resting_fill_ratio=self.execution.resting_fill_ratio(now),
        )

    # ----- state file -----
    def journal_event(self, event_type: str, **fields) -> None:
        if self.journal is not None:
            self.journal.append(event_type, **fields)

    def snapshot(self, symbol: str, started_at: float, allocation: dict, open_at_stop=()) -> dict:
        open_ids = set(self.orders.open_ids) | {order.order_id for order in self.own_open_orders_on_exchange()}
        return {
            "symbol": symbol,
            "ledger": self.ledger.to_dict(),
            "started_at": started_at,
            "allocation": {currency: str(amount) for currency, amount in allocation.items()},
            "placed_volume": str(self.placed_volume),
            # ids whose trades may still come from the exchange's record: all known, bounded
            "own_order_ids": list(dict.fromkeys([*self.orders.recent_ids, *sorted(open_ids)])),
            "open_order_ids": sorted(set(self.orders.open_ids) | set(open_at_stop)),
        }
