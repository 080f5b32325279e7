"""What the exchange says about the account's fees: its current fee rates for a pair and its 30-day volume, read
through the ccxt client OctoBot trades with (no OctoBot import: the gateway hands the client over).

- Fee rates: ccxt's `fetch_trading_fee` (binance `sapi/v1/asset/tradeFee`, OKX `api/v5/account/trade-fee`, Bybit
  `v5/account/fee-rate`, Kraken `TradeVolume`), or `fetch_trading_fees` where only that exists (Coinbase's
  transaction summary, whose fee tier is read from the response itself).
- 30-day volume: reported by Kraken (`TradeVolume`: `volume`) and Coinbase (transaction summary:
  `total_volume`); elsewhere the sum of the account's trades of the traded pair over 30 days, in its quote
  currency (other pairs of the account are not counted: the source says so).
"""
import decimal
import typing

THIRTY_DAYS_MS = 30 * 24 * 3600 * 1000
DAY_MS = 24 * 3600 * 1000
# trades read per request, and at most this many requests (a 30-day history of a very active account is cut
# there: the source says so)
TRADES_PAGE = 1000
MAX_TRADE_PAGES = 30


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


async def traded_volume(client, symbol: str, now_ms: int) -> AccountVolume:
    """The account's volume of `symbol` over the last 30 days, summed from its trades (quote currency)."""
    since = now_ms - THIRTY_DAYS_MS
    total = decimal.Decimal(0)
    daily = {}
    seen = set()
    complete = False
    for _ in range(MAX_TRADE_PAGES):
        trades = await client.fetch_my_trades(symbol, since=since, limit=TRADES_PAGE)
        new = [trade for trade in trades if (trade.get("id"), trade.get("timestamp")) not in seen]
        for trade in new:
            seen.add((trade.get("id"), trade.get("timestamp")))
            cost = _decimal(trade.get("cost"))
            if cost is None:
                cost = (_decimal(trade.get("amount")) or 0) * (_decimal(trade.get("price")) or 0)
            total += cost
            day = int(trade["timestamp"] // DAY_MS) if trade.get("timestamp") else None
            if day is not None:
                daily[day] = daily.get(day, decimal.Decimal(0)) + cost
        if len(trades) < TRADES_PAGE or not new:
            complete = True
            break
        since = max(trade["timestamp"] for trade in new if trade.get("timestamp")) + 1
    quote = symbol.split("/")[1].split(":")[0] if "/" in symbol else ""
    source = f"{_exchange_id(client)} trades of {symbol} over 30 days ({quote}; this pair only, other pairs not counted"
    source += ")" if complete else f", cut at {len(seen)} trades)"
    return AccountVolume(total, source, daily, currency=quote)


async def account_volume(client, symbol: str, now_ms: int) -> AccountVolume:
    """The 30-day volume as reported by the exchange, else summed from the pair's trades."""
    return await reported_volume(client, symbol) or await traded_volume(client, symbol, now_ms)
