"""What a live `OctoBot` run shows, read from its output and from the data it stores: the mode's own lines
(start, fills, restoration) and OctoBot's order lines and trade records, for the live end-to-end tests."""
import dataclasses
import datetime
import decimal
import json
import pathlib
import re
import typing

LINE_TIME = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})")
MARKETS_LOADED = re.compile(r"CCXTConnector\[binance\] Loaded \d+ \[binance\] markets")
STARTED = re.compile(r"VolumeBooster\[BTC/USDT\] Volume Booster (?P<how>started|resumed) on BTC/USDT: target "
                     r"(?P<target>[\d.]+) USDT \(done (?P<done>[\d.]+)\)")
RESTORED = re.compile(r"Restored progress from (?P<path>\S+): volume (?P<volume>[\d.]+) USDT, fees (?P<fees>[\d.]+) "
                      r"USDT, (?P<fills>\d+) fills")
FILL = re.compile(
    r"VolumeBooster\[BTC/USDT\] Fill (?P<side>buy|sell) (?P<amount>[\d.]+) BTC @ (?P<price>[\d.]+) "
    r"\((?P<value>[\d.]+) USDT\) - volume (?P<volume>[\d.]+)/(?P<target>[\d.]+) USDT"
)
SETTINGS_RELOADED = re.compile(r"VolumeBooster\[BTC/USDT\] Settings file \S+ changed: settings reloaded")
VANISHED = re.compile(r"Order (?P<id>[\w-]+) was open when the mode stopped and is no longer on the exchange")
# OctoBot's own order lines (paper trading)
CREATING = re.compile(r"Creating order: BTC/USDT \| (?P<type>[A-Z_]+) \| Price : (?P<price>[\d.]+) \| Quantity : "
                      r"(?P<quantity>[\d.]+) .*?\| id : (?P<id>[\w-]+) \| tag: volume_booster")
# an order's state lines ("[FillOrderState] SellLimitOrder | <id> [exchange id: ...] ... State : filled" on OctoBot
# 2.1, without the state prefix on 2.0)
FILLED = re.compile(r"\w+Order \| (?P<id>[\w-]+) \[exchange id: [^\]]*\] [^\n]*State : filled")
CANCELLED = re.compile(r"\w+Order \| (?P<id>[\w-]+) \[exchange id: [^\]]*\] [^\n]*State : cancel")


@dataclasses.dataclass
class Order:
    id: str
    type: str
    price: decimal.Decimal
    quantity: decimal.Decimal
    created_at: datetime.datetime
    position: int  # where in the output it was created

    @property
    def is_buy(self) -> bool:
        return self.type.startswith("BUY")

    @property
    def is_limit(self) -> bool:
        return self.type.endswith("LIMIT")


def line_time(output: str, position: int) -> datetime.datetime:
    """The time stamp of the log line holding `position`."""
    start = output.rfind("\n", 0, position) + 1
    match = LINE_TIME.search(output, start, position + 1) or LINE_TIME.search(output, start)
    return datetime.datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f")


def orders(output: str) -> typing.List[Order]:
    return [Order(match["id"], match["type"], decimal.Decimal(match["price"]), decimal.Decimal(match["quantity"]),
                  line_time(output, match.start()), match.start())
            for match in CREATING.finditer(output)]


def closed_ids(output: str, until: typing.Optional[int] = None) -> typing.Tuple[set, set]:
    """(filled ids, cancelled ids) of the orders closed in output[:until]."""
    text = output if until is None else output[:until]
    return ({match["id"] for match in FILLED.finditer(text)}, {match["id"] for match in CANCELLED.finditer(text)})


def open_ids(output: str, until: typing.Optional[int] = None) -> set:
    """Ids of the mode's orders still open at `until` (created, neither filled nor cancelled)."""
    text = output if until is None else output[:until]
    filled, cancelled = closed_ids(text)
    return {order.id for order in orders(text)} - filled - cancelled


def fills(output: str) -> typing.List[dict]:
    return [match.groupdict() for match in FILL.finditer(output)]


def stored_trades(bot: pathlib.Path) -> typing.List[dict]:
    """The paper-trading simulator's trades of this mode, as OctoBot stores them (every live run of the folder)."""
    trades = []
    for path in sorted((bot / "user" / "data" / "live").glob("live_*/binance/trades_*.json")):
        for trade in json.loads(path.read_text())["all_trades"].values():
            value = trade["origin_value"]
            if value.get("tag") == "volume_booster":
                trades.append(value)
    return trades
