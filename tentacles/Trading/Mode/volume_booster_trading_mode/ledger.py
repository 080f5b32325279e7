"""Volume Booster ledger: the mode's own fills turned into volume, fees and order counts.

Volume only ever comes from real fills: each fill is identified by its trade id and counted once,
whatever the number of times it is seen. Pure Python (Decimal amounts), no OctoBot import.
"""
import collections
import dataclasses
import decimal

from . import actions

ZERO = decimal.Decimal(0)
DAY_SECONDS = 86400
# counted trade ids remembered: far more than an exchange's record of recent trades (OctoBot keeps 10,000),
# so a trade seen again is always recognised, while memory stays bounded on endless runs
COUNTED_IDS_KEPT = 50000
BUY = actions.BUY
SELL = actions.SELL
# how an order closed -> the ledger's counter
CLOSED_COUNTERS = {
    "cancelled": "orders_cancelled",
    "filled": "orders_filled",
    "expired": "orders_expired",
    "expired_self_trade": "orders_expired_self_trade",
    "vanished": "orders_vanished",
}


@dataclasses.dataclass(frozen=True)
class Fill:
    trade_id: str
    order_id: str
    side: str  # BUY or SELL
    amount: decimal.Decimal  # base currency
    price: decimal.Decimal
    quote_value: decimal.Decimal
    fee_quote: decimal.Decimal  # fee converted to the quote currency at the fill price
    timestamp: float
    is_maker: bool = False
    # the fee as taken from the balances: in base, in quote (both zero when paid in another currency)
    fee_in_base: decimal.Decimal = ZERO
    fee_in_quote: decimal.Decimal = ZERO

    def to_dict(self) -> dict:
        return {field.name: str(value) if isinstance(value, decimal.Decimal) else value
                for field, value in ((f, getattr(self, f.name)) for f in dataclasses.fields(self))}

    @classmethod
    def from_dict(cls, data: dict) -> "Fill":
        values = {}
        for field in dataclasses.fields(cls):
            value = data[field.name]
            values[field.name] = decimal.Decimal(value) if field.type in (decimal.Decimal, "decimal.Decimal") \
                else value
        return cls(**values)


class Ledger:
    def __init__(self, target: decimal.Decimal):
        self.target = target
        self.volume = ZERO
        self.fees = ZERO
        self.buy_volume = ZERO
        self.sell_volume = ZERO
        self.base_bought = ZERO
        self.base_sold = ZERO
        self.maker_volume = ZERO
        self.base_fees = ZERO
        self.quote_fees = ZERO
        self.fills_count = 0
        self.orders_created = 0
        self.orders_filled = 0
        self.orders_cancelled = 0
        self.orders_expired = 0
        self.orders_expired_self_trade = 0
        # open when the mode stopped, gone from the exchange at its restart without a trade (e.g. a paper-trading
        # simulator loses its open orders when the bot process dies)
        self.orders_vanished = 0
        # volume per UTC day (day number -> volume), the current and previous day only
        self._day_volumes = {}
        self.first_fill_time = None
        self.last_fill_time = None
        self.target_reached_time = None
        self._counted_trade_ids = set()
        self._counted_order = collections.deque()

    def record_fill(self, fill: Fill) -> bool:
        """Count a fill once. Returns False (and counts nothing) for an already counted trade or an
        empty fill."""
        if fill.trade_id in self._counted_trade_ids or fill.amount <= ZERO:
            return False
        self._counted_trade_ids.add(fill.trade_id)
        self._counted_order.append(fill.trade_id)
        if len(self._counted_order) > COUNTED_IDS_KEPT:
            self._counted_trade_ids.discard(self._counted_order.popleft())
        self.volume += fill.quote_value
        self.fees += fill.fee_quote
        if fill.side == BUY:
            self.buy_volume += fill.quote_value
            self.base_bought += fill.amount
        else:
            self.sell_volume += fill.quote_value
            self.base_sold += fill.amount
        if fill.is_maker:
            self.maker_volume += fill.quote_value
        self.base_fees += fill.fee_in_base
        self.quote_fees += fill.fee_in_quote
        self.fills_count += 1
        day = utc_day(fill.timestamp)
        self._day_volumes[day] = self._day_volumes.get(day, ZERO) + fill.quote_value
        for old_day in [d for d in self._day_volumes if d < day - 1]:
            del self._day_volumes[old_day]
        if self.first_fill_time is None:
            self.first_fill_time = fill.timestamp
        self.last_fill_time = fill.timestamp
        if self.target_reached_time is None and self.target_reached:
            self.target_reached_time = fill.timestamp
        return True

    def count_closed(self, how: str) -> None:
        """One more own order closed `how` (a key of CLOSED_COUNTERS)."""
        counter = CLOSED_COUNTERS[how]
        setattr(self, counter, getattr(self, counter) + 1)

    def day_volume(self, timestamp: float) -> decimal.Decimal:
        """Volume filled during the UTC day of `timestamp`."""
        return self._day_volumes.get(utc_day(timestamp), ZERO)

    def has_counted(self, trade_id: str) -> bool:
        return trade_id in self._counted_trade_ids

    @property
    def counted_trade_ids(self) -> frozenset:
        """The trade ids remembered as counted (a bounded window of the recent ones)."""
        return frozenset(self._counted_trade_ids)

    @property
    def target_reached(self) -> bool:
        return self.volume >= self.target

    @property
    def base_delta(self) -> decimal.Decimal:
        """Change of the pair's base holdings caused by the mode's fills (fees included)."""
        return self.base_bought - self.base_sold - self.base_fees

    @property
    def quote_delta(self) -> decimal.Decimal:
        """Change of the pair's quote holdings caused by the mode's fills (fees included)."""
        return self.sell_volume - self.buy_volume - self.quote_fees

    def net_cost(self, price: decimal.Decimal) -> decimal.Decimal:
        """What the fills cost versus simply holding, valued at `price`: fees plus trading loss."""
        return -(self.quote_delta + self.base_delta * price)

    @property
    def remaining(self) -> decimal.Decimal:
        return max(ZERO, self.target - self.volume)

    @property
    def progress_percent(self) -> decimal.Decimal:
        if self.target <= ZERO:
            return decimal.Decimal(100)
        return self.volume / self.target * 100

    def to_dict(self) -> dict:
        return {
            "target": str(self.target),
            "volume": str(self.volume),
            "fees": str(self.fees),
            "buy_volume": str(self.buy_volume),
            "sell_volume": str(self.sell_volume),
            "base_bought": str(self.base_bought),
            "base_sold": str(self.base_sold),
            "maker_volume": str(self.maker_volume),
            "base_fees": str(self.base_fees),
            "quote_fees": str(self.quote_fees),
            "fills_count": self.fills_count,
            "orders_created": self.orders_created,
            "orders_filled": self.orders_filled,
            "orders_cancelled": self.orders_cancelled,
            "orders_expired": self.orders_expired,
            "orders_expired_self_trade": self.orders_expired_self_trade,
            "orders_vanished": self.orders_vanished,
            "day_volumes": {str(day): str(volume) for day, volume in self._day_volumes.items()},
            "first_fill_time": self.first_fill_time,
            "last_fill_time": self.last_fill_time,
            "target_reached_time": self.target_reached_time,
            "counted_trade_ids": list(self._counted_order),
        }

    @classmethod
    def from_dict(cls, data: dict, target: decimal.Decimal = None) -> "Ledger":
        ledger = cls(decimal.Decimal(data["target"]) if target is None else target)
        for name in ("volume", "fees", "buy_volume", "sell_volume", "base_bought", "base_sold", "maker_volume",
                     "base_fees", "quote_fees"):
            setattr(ledger, name, decimal.Decimal(data[name]))
        for name in ("fills_count", "orders_created", "orders_filled", "orders_cancelled", "orders_expired",
                     "orders_expired_self_trade",
                     "first_fill_time", "last_fill_time", "target_reached_time"):
            setattr(ledger, name, data[name])
        # absent from state files written before it was counted
        ledger.orders_vanished = data.get("orders_vanished", 0)
        ledger._counted_order = collections.deque(data["counted_trade_ids"])
        ledger._counted_trade_ids = set(ledger._counted_order)
        ledger._day_volumes = {int(day): decimal.Decimal(volume) for day, volume in data["day_volumes"].items()}
        return ledger


def utc_day(timestamp: float) -> int:
    """The number of the UTC day of `timestamp` (days since the epoch)."""
    return int(timestamp // DAY_SECONDS)
