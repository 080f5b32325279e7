"""Volume Booster recovery: the state file's lines (untrusted) plus the exchange's record of trades ->
the progress a restarted mode resumes from.

Every line is checked before it is used; a line that fails is skipped with one warning naming the file
and the line (torn, not UTF-8, checksum mismatch, not a JSON object, no or unknown type, a field missing or
of the wrong kind, an unknown way of closing). Events are applied by meaning, not by position, so reordered
or repeated lines change nothing (fills are applied in time order):
- the snapshot (the first valid one; any other is skipped) gives the counters, the counted trades, the own
  order ids and the orders open when it was written;
- an `order` line adds an own order once; an `order_closed` line closes an own order that was open, once;
- an event about an order id the mode never placed (in neither the snapshot nor an `order` line) is skipped.

Journalled fills are reconciled with the exchange's record of trades (OctoBot's trades manager). That
record is bounded (OctoBot keeps the 10,000 most recent trades) and a paper-trading restart starts with an
empty one, so it can only show that a trade does not exist for the period it covers: after its oldest trade
(trades at that very time may have been dropped with it) up to its newest one. The rule:
- the record holds the fill's trade: the exchange's figures are counted (not the line's), provided the trade
  belongs to the same order;
- the record does not hold it but covers its time: the trade does not exist, nothing is counted;
- the record does not cover its time (older than the record, or the record is empty or older): the line is
  the only evidence and is counted.
The mode's own trades the record holds but the journal misses (e.g. a torn `order` line) are adopted by
the mode's order tag afterwards, by the trading mode; `Restored.adopts` says from when: the run's start
when the snapshot is valid, else any time (the state file exists, so the tagged trades are this run's).
Pure Python, no OctoBot import.
"""
import dataclasses
import decimal
import math
import typing

from . import journal as vb_journal
from . import ledger as vb_ledger

ZERO = decimal.Decimal(0)
_LEDGER_AMOUNTS = ("volume", "buy_volume", "sell_volume", "base_bought", "base_sold", "maker_volume")
_LEDGER_SIGNED_AMOUNTS = ("fees", "base_fees", "quote_fees")
_LEDGER_COUNTS = ("fills_count", "orders_created", "orders_filled", "orders_cancelled", "orders_expired",
                  "orders_expired_self_trade")
_LEDGER_TIMES = ("first_fill_time", "last_fill_time", "target_reached_time")


class Invalid(ValueError):
    """A line whose content does not fit its event type."""


@dataclasses.dataclass(frozen=True)
class ExchangeRecord:
    """What the exchange's record of trades holds now."""
    # trade id -> fill, for the traded pair's trades
    fills: dict = dataclasses.field(default_factory=dict)
    # execution time of the oldest and of the newest trade held (any pair); None when the record is empty
    oldest: typing.Optional[float] = None
    newest: typing.Optional[float] = None

    def covers(self, timestamp: float) -> bool:
        return self.oldest is not None and self.oldest < timestamp <= self.newest


@dataclasses.dataclass
class Restored:
    ledger: vb_ledger.Ledger
    # from the snapshot; None without a valid one
    started_at: typing.Optional[float]
    allocation: typing.Optional[dict]
    placed_volume: decimal.Decimal
    # own order ids, in creation order
    own_order_ids: list
    # own orders open when the mode stopped (as far as the journal knows)
    open_at_stop: set
    # own orders with a counted fill
    filled_order_ids: set
    # one per skipped line, in line order
    warnings: list

    def adopts(self, timestamp: float) -> bool:
        """Whether an unknown order carrying the mode's tag, created or filled at `timestamp`, is this run's."""
        return self.started_at is None or timestamp >= self.started_at


def restore(contents: vb_journal.Contents, source: str, target: decimal.Decimal,
            record: ExchangeRecord = ExchangeRecord()) -> Restored:
    warnings = {number: f"{source} line {number}: {problem}: skipped" for number, problem in contents.problems}

    def skip(number, why):
        warnings[number] = f"{source} line {number}: {why}: skipped"

    by_type = {vb_journal.SNAPSHOT: [], vb_journal.ORDER: [], vb_journal.ORDER_CLOSED: [], vb_journal.FILL: []}
    for number, event in contents.events:
        kind = event.get("type")
        if kind not in by_type:
            skip(number, "no event type" if kind is None else f"unknown event type {kind!r}")
            continue
        try:
            by_type[kind].append((number, _PARSERS[kind](event, target)))
        except Invalid as err:
            skip(number, f"invalid {kind} line ({err})")

    snapshot = None
    for number, parsed in by_type[vb_journal.SNAPSHOT]:
        if snapshot is None:
            snapshot = parsed
        else:
            skip(number, "a second snapshot")
    if snapshot is not None:
        ledger, started_at, allocation, placed_volume = (snapshot["ledger"], snapshot["started_at"],
                                                        snapshot["allocation"], snapshot["placed_volume"])
        own_ids = list(dict.fromkeys([*snapshot["own_order_ids"], *snapshot["open_order_ids"]]))
        open_ids = set(snapshot["open_order_ids"])
    else:
        ledger, started_at, allocation, placed_volume = vb_ledger.Ledger(target), None, None, ZERO
        own_ids, open_ids = [], set()
    known = set(own_ids)

    for number, order in by_type[vb_journal.ORDER]:
        if order["id"] in known:
            skip(number, f"repeats order {order['id']}")
            continue
        known.add(order["id"])
        own_ids.append(order["id"])
        open_ids.add(order["id"])
        ledger.orders_created += 1
        placed_volume += order["quantity"] * order["price"]

    closed = set()
    for number, (order_id, how) in by_type[vb_journal.ORDER_CLOSED]:
        if order_id not in known:
            skip(number, f"order {order_id} was never placed by the mode")
        elif order_id in closed or order_id not in open_ids:
            skip(number, f"order {order_id} is already closed")
        else:
            closed.add(order_id)
            open_ids.discard(order_id)
            ledger.count_closed(how)

    filled = set()
    # in time order, as they happened (the ledger keeps the last fill time and the recent days' volumes)
    for number, fill in sorted(by_type[vb_journal.FILL], key=lambda item: (item[1].timestamp, item[0])):
        if fill.order_id not in known:
            skip(number, f"fill of order {fill.order_id}, never placed by the mode")
            continue
        if ledger.has_counted(fill.trade_id):
            skip(number, f"repeats trade {fill.trade_id}")
            continue
        held = record.fills.get(fill.trade_id)
        if held is not None:
            if held.order_id != fill.order_id:
                skip(number, f"trade {fill.trade_id} belongs to order {held.order_id} on the exchange, "
                             f"not {fill.order_id}")
                continue
            fill = held
        elif record.covers(fill.timestamp):
            skip(number, f"trade {fill.trade_id} is not in the exchange's record of trades, which covers its time")
            continue
        if ledger.record_fill(fill):
            filled.add(fill.order_id)

    return Restored(
        ledger=ledger, started_at=started_at, allocation=allocation, placed_volume=placed_volume,
        own_order_ids=own_ids, open_at_stop=open_ids, filled_order_ids=filled,
        warnings=[warnings[number] for number in sorted(warnings)],
    )


# ----- one parser per event type: the event's content, or Invalid -----
def _parse_snapshot(event: dict, target: decimal.Decimal) -> dict:
    data = _mapping(event.get("ledger"), "ledger")
    for name in _LEDGER_AMOUNTS:
        _decimal(data.get(name), f"ledger {name}", minimum=ZERO)
    for name in _LEDGER_SIGNED_AMOUNTS:
        _decimal(data.get(name), f"ledger {name}")
    for name in _LEDGER_COUNTS:
        _count(data.get(name), f"ledger {name}")
    if "orders_vanished" in data:
        _count(data["orders_vanished"], "ledger orders_vanished")
    for name in _LEDGER_TIMES:
        if data.get(name, 0) is not None:
            _number(data.get(name), f"ledger {name}")
    _texts(data.get("counted_trade_ids"), "ledger counted_trade_ids")
    for day, volume in _mapping(data.get("day_volumes"), "ledger day_volumes").items():
        if not day.lstrip("-").isdigit():
            raise Invalid(f"ledger day_volumes has a day {day!r}")
        _decimal(volume, f"ledger day_volumes[{day}]", minimum=ZERO)
    allocation = _mapping(event.get("allocation"), "allocation")
    try:
        ledger = vb_ledger.Ledger.from_dict(data, target=target)
    except (KeyError, TypeError, ValueError, decimal.InvalidOperation) as err:
        raise Invalid(f"ledger: {err!r}") from None
    return {
        "ledger": ledger,
        "started_at": _number(event.get("started_at"), "started_at"),
        "allocation": {_text(currency, "allocation currency"): _decimal(amount, f"allocation {currency}", ZERO)
                       for currency, amount in allocation.items()},
        "placed_volume": _decimal(event.get("placed_volume"), "placed_volume", minimum=ZERO),
        "own_order_ids": _texts(event.get("own_order_ids"), "own_order_ids"),
        "open_order_ids": _texts(event.get("open_order_ids", []), "open_order_ids"),
    }


def _parse_order(event: dict, target) -> dict:
    if event.get("time") is not None:
        _number(event["time"], "time")
    return {
        "id": _text(event.get("id"), "id"),
        "side": _side(event.get("side")),
        "quantity": _decimal(event.get("quantity"), "quantity", minimum=ZERO, positive=True),
        "price": _decimal(event.get("price"), "price", minimum=ZERO),
    }


def _parse_order_closed(event: dict, target) -> tuple:
    how = event.get("how")
    if how not in vb_ledger.CLOSED_COUNTERS:
        raise Invalid(f"how is {how!r}, not one of {', '.join(vb_ledger.CLOSED_COUNTERS)}")
    return _text(event.get("id"), "id"), how


def _parse_fill(event: dict, target) -> vb_ledger.Fill:
    data = _mapping(event.get("fill"), "fill")
    is_maker = data.get("is_maker", False)
    if not isinstance(is_maker, bool):
        raise Invalid(f"fill is_maker is {is_maker!r}, not true or false")
    return vb_ledger.Fill(
        trade_id=_text(data.get("trade_id"), "fill trade_id"),
        order_id=_text(data.get("order_id"), "fill order_id"),
        side=_side(data.get("side")),
        amount=_decimal(data.get("amount"), "fill amount", minimum=ZERO, positive=True),
        price=_decimal(data.get("price"), "fill price", minimum=ZERO),
        quote_value=_decimal(data.get("quote_value"), "fill quote_value", minimum=ZERO),
        fee_quote=_decimal(data.get("fee_quote"), "fill fee_quote"),
        timestamp=_number(data.get("timestamp"), "fill timestamp"),
        is_maker=is_maker,
        fee_in_base=_decimal(data.get("fee_in_base", "0"), "fill fee_in_base"),
        fee_in_quote=_decimal(data.get("fee_in_quote", "0"), "fill fee_in_quote"),
    )


_PARSERS = {
    vb_journal.SNAPSHOT: _parse_snapshot,
    vb_journal.ORDER: _parse_order,
    vb_journal.ORDER_CLOSED: _parse_order_closed,
    vb_journal.FILL: _parse_fill,
}


def _mapping(value, name: str) -> dict:
    if not isinstance(value, dict):
        raise Invalid(f"{name} is {'missing' if value is None else 'not an object'}")
    return value


def _text(value, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise Invalid(f"{name} is {'missing' if value is None else repr(value)}, not a text")
    return value


def _texts(value, name: str) -> list:
    if not isinstance(value, list):
        raise Invalid(f"{name} is {'missing' if value is None else 'not a list'}")
    return [_text(item, f"{name} item") for item in value]


def _side(value) -> str:
    if value not in (vb_ledger.BUY, vb_ledger.SELL):
        raise Invalid(f"side is {value!r}, not {vb_ledger.BUY} or {vb_ledger.SELL}")
    return value


def _number(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise Invalid(f"{name} is {'missing' if value is None else repr(value)}, not a number")
    return value


def _count(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise Invalid(f"{name} is {'missing' if value is None else repr(value)}, not a count")
    return value


def _decimal(value, name: str, minimum: typing.Optional[decimal.Decimal] = None,
             positive: bool = False) -> decimal.Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise Invalid(f"{name} is {'missing' if value is None else repr(value)}, not an amount")
    try:
        amount = decimal.Decimal(str(value))
    except decimal.InvalidOperation:
        raise Invalid(f"{name} is {value!r}, not an amount") from None
    if not amount.is_finite() or (minimum is not None and amount < minimum) or (positive and amount <= ZERO):
        raise Invalid(f"{name} is {value!r}, out of range")
    return amount
