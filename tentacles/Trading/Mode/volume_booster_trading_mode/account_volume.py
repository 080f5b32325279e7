"""What the exchange says about the account's fees: its current fee rates for a pair and its 30-day volume, read
through the ccxt client OctoBot trades with (no OctoBot import: the gateway hands the client over).

- Fee rates: ccxt's `fetch_trading_fee` (binance `sapi/v1/asset/tradeFee`, OKX `api/v5/account/trade-fee`, Bybit
  `v5/account/fee-rate`, Kraken `TradeVolume`), or `fetch_trading_fees` where only that exists (Coinbase's
  transaction summary, whose fee tier is read from the response itself).
- 30-day volume: reported by Kraken (`TradeVolume`: `volume`) and Coinbase (transaction summary:
  `total_volume`); elsewhere the sum of the account's trades of the traded pair over 30 days, in its quote
  currency (other pairs of the account are not counted: the source says so). The trades are read page after page
  (ccxt's `fetch_my_trades` with `since`, `limit` and `until`) within each time span one request may cover, as
  `TRADE_HISTORIES` states per exchange, until a page brings no new trade.
"""
import decimal
import typing

THIRTY_DAYS_MS = 30 * 24 * 3600 * 1000
DAY_MS = 24 * 3600 * 1000
# trades asked per request where the exchange's limit is not known
TRADES_PAGE = 1000
# at most this many requests for the trades (a 30-day history of a very active account is cut there: the source
# says so)
MAX_TRADE_REQUESTS = 200


class TradeHistory(typing.NamedTuple):
    """How an exchange's trade history answers ccxt's `fetch_my_trades`."""
    # the most trades one request returns
    page: int
    # the longest time span (ms) one request may cover; None: the whole 30 days
    span_ms: typing.Optional[int]
    # a page holds the newest trades of the span asked (else the oldest, ccxt's `since` reading)
    newest_first: bool


TRADE_HISTORIES = {
    # myTrades: at most 1000 a request; a start and an end at most 24 h apart; oldest first from the start
    "binance": TradeHistory(1000, DAY_MS, False),
    # trade/fills-history: at most 100 a request (ccxt sends no limit with `since`), the newest first, 3 months
    "okx": TradeHistory(100, None, True),
    # execution/list: at most 100 a request; a start and an end at most 7 days apart; the newest first
    "bybit": TradeHistory(100, 7 * DAY_MS, True),
}
OTHER_TRADE_HISTORY = TradeHistory(TRADES_PAGE, None, False)


class FeeRates(typing.NamedTuple):
    maker: decimal.Decimal
    taker: decimal.Decimal
    # the exchange's name of the account's fee level, when it gives one (OKX "Lv1", Coinbase "Advanced 1")
    level: typing.Optional[str] = None


class AccountVolume(typing.NamedTuple):
    volume_30d: decimal.Decimal
    # where the figure comes from, said in the log and the status
    source: str
    # the account's volume per UTC day (day number -> volume) when summed from its trades, else empty
    daily_volumes: dict = {}
    # the figure is the volume_30d setting (a simulation, or the exchange told nothing)
    from_setting: bool = False
    # the currency of the figure as the exchange states it (None: the fee table's, as the setting is)
    currency: typing.Optional[str] = None


def _decimal(value) -> typing.Optional[decimal.Decimal]:
    if value is None or value == "":
        return None
    try:
        number = decimal.Decimal(str(value))
    except (decimal.InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _exchange_id(client) -> str:
    return str(getattr(client, "id", "")).lower()


def _is_coinbase(client) -> bool:
    return _exchange_id(client).startswith("coinbase")


async def fee_rates(client, symbol: str) -> FeeRates:
    """The account's maker and taker fee rates on `symbol` (fractions: 0.001 is 0.1 %)."""
    if _is_coinbase(client):
        fees = await client.fetch_trading_fees()
        info = next(iter(fees.values()))["info"] if fees else {}
        tier = info.get("fee_tier") or {}
        # read from the response: the rates' names there say which is which
        return FeeRates(_decimal(tier.get("maker_fee_rate")), _decimal(tier.get("taker_fee_rate")),
                        tier.get("pricing_tier"))
    fee = await client.fetch_trading_fee(symbol)
    info = fee.get("info") or {}
    level = info.get("level") if isinstance(info, dict) else None
    return FeeRates(_decimal(fee.get("maker")), _decimal(fee.get("taker")), level)


async def reported_volume(client, symbol: str) -> typing.Optional[AccountVolume]:
    """The 30-day volume as the exchange reports it (Kraken, Coinbase); None where it reports none."""
    exchange = _exchange_id(client)
    if exchange == "kraken":
        info = (await client.fetch_trading_fee(symbol)).get("info") or {}
        volume = _decimal(info.get("volume"))
        if volume is not None:
            currency = info.get("currency") or "ZUSD"
            return AccountVolume(volume, f"kraken TradeVolume ({currency})", currency=currency)
    elif _is_coinbase(client):
        fees = await client.fetch_trading_fees()
        info = next(iter(fees.values()))["info"] if fees else {}
        volume = _decimal(info.get("total_volume"))
        if volume is not None:
            return AccountVolume(volume, "coinbase transaction summary total_volume (USD)", currency="USD")
    return None


def _trade_key(trade) -> tuple:
    if trade.get("id") is not None:
        return trade["id"], trade.get("timestamp")
    return trade.get("timestamp"), trade.get("order"), trade.get("amount"), trade.get("price")


def _spans(since: int, until: int, span_ms: typing.Optional[int]) -> list:
    """[start, end] spans (both ends included) covering since..until, each shorter than `span_ms`."""
    if span_ms is None:
        return [(since, until)]
    return [(start, min(start + span_ms - 1, until)) for start in range(since, until, span_ms)]


async def _read_trades(client, symbol: str, history: TradeHistory, since: int, until: int) -> tuple:
    """The account's trades of `symbol` between `since` and `until`, each once, and whether all were read (False:
    cut at MAX_TRADE_REQUESTS requests). Each span is read page after page, the next page starting (or ending,
    newest first) at the last page's edge: trades of that millisecond come again and are counted once. A span ends
    on a page without a new trade, so an empty span does not end the reading."""
    trades = {}
    requests = 0
    for start, end in _spans(since, until, history.span_ms):
        # uncapped, oldest first: `since` alone, as ccxt reads it
        params = {"until": end} if history.span_ms is not None or history.newest_first else {}
        while True:
            if requests >= MAX_TRADE_REQUESTS:
                return list(trades.values()), False
            page = await client.fetch_my_trades(symbol, since=start, limit=history.page, params=params)
            requests += 1
            new = [trade for trade in page if _trade_key(trade) not in trades]
            trades.update((_trade_key(trade), trade) for trade in new)
            times = [trade["timestamp"] for trade in new if trade.get("timestamp")]
            if not times:
                break
            if history.newest_first:
                params = {**params, "until": min(times)}
            else:
                start = max(times)
    return list(trades.values()), True


async def traded_volume(client, symbol: str, now_ms: int) -> AccountVolume:
    """The account's volume of `symbol` over the last 30 days, summed from its trades (quote currency)."""
    history = TRADE_HISTORIES.get(_exchange_id(client), OTHER_TRADE_HISTORY)
    trades, complete = await _read_trades(client, symbol, history, now_ms - THIRTY_DAYS_MS, now_ms)
    total = decimal.Decimal(0)
    daily = {}
    for trade in trades:
        cost = _decimal(trade.get("cost"))
        if cost is None:
            cost = (_decimal(trade.get("amount")) or 0) * (_decimal(trade.get("price")) or 0)
        total += cost
        if trade.get("timestamp"):
            day = int(trade["timestamp"] // DAY_MS)
            daily[day] = daily.get(day, decimal.Decimal(0)) + cost
    quote = symbol.split("/")[1].split(":")[0] if "/" in symbol else ""
    source = f"{_exchange_id(client)} trades of {symbol} over 30 days ({quote}; this pair only, other pairs not counted"
    source += ")" if complete else f", cut at {len(trades)} trades after {MAX_TRADE_REQUESTS} requests)"
    return AccountVolume(total, source, daily, currency=quote)


async def account_volume(client, symbol: str, now_ms: int) -> AccountVolume:
    """The 30-day volume as reported by the exchange, else summed from the pair's trades."""
    return await reported_volume(client, symbol) or await traded_volume(client, symbol, now_ms)
