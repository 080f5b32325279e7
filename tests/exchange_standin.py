"""A stand-in for binance's public spot REST API, for live tests only (never shipped).

It replays the real 1m candles of an OctoBot `.data` file at wall-clock pace, shifted so that the replay's
current minute is now (with some history before it). Within each minute the price walks
open -> high -> low -> close (or open -> low -> high -> close on a falling candle); public trades lie on that
path, one a second, so the paper-trading simulator's limit orders fill when the path reaches them. The order book
is built around the replayed price with a fixed spread.

It serves 127.0.0.1 on a free port from its own thread and event loop, stops itself after `lifetime` seconds at
the latest, and can be told to answer errors (5xx, 429 with Retry-After) or to drop connections for a while.
"""
import asyncio
import dataclasses
import decimal
import json
import logging
import math
import socket
import sqlite3
import threading
import time
import typing

from aiohttp import web

LOGGER = logging.getLogger("exchange_standin")
MINUTE = 60
# path vertices inside a minute: open, first extreme, second extreme, close (seconds)
VERTEX_SECONDS = (0, 20, 40, 59)
TICK = decimal.Decimal("0.01")
STEP = decimal.Decimal("0.00001")
MIN_QTY = decimal.Decimal("0.00001")
MIN_NOTIONAL = decimal.Decimal("5")
INTERVALS = {"1m": 1, "3m": 3, "5m": 5, "15m": 15, "30m": 30, "1h": 60, "2h": 120, "4h": 240, "6h": 360,
             "8h": 480, "12h": 720, "1d": 1440, "3d": 4320, "1w": 10080}
BOOK_LEVELS = 100
TROUBLE_KINDS = ("server_error", "rate_limit", "drop")


@dataclasses.dataclass(frozen=True)
class Candle:
    open_time: int  # data time, seconds
    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclasses.dataclass(frozen=True)
class BookTop:
    served_at: float
    bid: decimal.Decimal
    ask: decimal.Decimal


def read_one_minute_candles(data_file, symbol: str) -> list:
    """The 1m candles of `symbol` in an OctoBot .data file (SQLite), oldest first."""
    connection = sqlite3.connect(f"file:{data_file}?mode=ro", uri=True)
    try:
        rows = connection.execute(
            "SELECT candle FROM ohlcv WHERE symbol = ? AND time_frame = '1m'", (symbol,)
        ).fetchall()
    finally:
        connection.close()
    candles = sorted((json.loads(row[0]) for row in rows), key=lambda candle: candle[0])
    if not candles:
        raise ValueError(f"{data_file} holds no 1m candle of {symbol}")
    return [Candle(int(c[0]), float(c[1]), float(c[2]), float(c[3]), float(c[4]), float(c[5])) for c in candles]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ExchangeStandin:
    def __init__(self, data_file, symbol: str = "BTC/USDT", history_minutes: int = 240, lifetime: float = 900,
                 spread_bps: float = 2.0):
        self.symbol = symbol
        self.base, self.quote = symbol.split("/")
        self.market_id = f"{self.base}{self.quote}"
        self.candles = read_one_minute_candles(data_file, symbol)
        self.history_minutes = min(history_minutes, len(self.candles) - 1)
        self.lifetime = lifetime
        self.spread_bps = spread_bps
        self.port = None
        self.started_at = None
        self.shift = 0  # wall time = data time + shift
        # what was asked and answered, for the tests
        self.requests = []
        self.unknown_paths = []
        self.book_tops = []
        self._lock = threading.Lock()
        self._trouble = None  # (kind, until wall time)
        self._loop = None
        self._thread = None
        self._runner = None
        self._stopped = threading.Event()

    # ----- life cycle -----
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10) -> "ExchangeStandin":
        now = time.time()
        self.started_at = now
        replay_minute = math.floor(now / MINUTE) * MINUTE
        self.shift = replay_minute - self.candles[self.history_minutes].open_time
        ready = threading.Event()
        errors = []
        self._thread = threading.Thread(target=self._serve, args=(ready, errors), name="exchange-standin",
                                        daemon=True)
        self._thread.start()
        if not ready.wait(timeout) or errors:
            self.stop()
            raise RuntimeError(f"the exchange stand-in did not start: {errors or 'timeout'}")
        LOGGER.info("exchange stand-in on %s replaying %s from %s", self.url, self.symbol,
                    time.strftime("%Y-%m-%d %H:%M", time.gmtime(self.candles[self.history_minutes].open_time)))
        return self

    def stop(self) -> None:
        if self._loop is not None and not self._stopped.is_set():
            self._loop.call_soon_threadsafe(self._stopped.set)
        if self._thread is not None:
            self._thread.join(15)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _serve(self, ready: threading.Event, errors: list) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._run_server(ready, errors))
        except Exception as err:  # reported to start() or logged
            errors.append(repr(err))
            ready.set()
        finally:
            loop.close()

    async def _run_server(self, ready: threading.Event, errors: list) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        for _ in range(5):
            port = free_port()
            site = web.TCPSite(self._runner, "127.0.0.1", port)
            try:
                await site.start()
            except OSError as err:
                errors_seen = repr(err)
                continue
            self.port = port
            break
        else:
            errors.append(f"no free port ({errors_seen})")
            ready.set()
            return
        ready.set()
        deadline = time.monotonic() + self.lifetime
        try:
            while not self._stopped.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
        finally:
            await self._runner.cleanup()
            self._stopped.set()

    # ----- trouble -----
    def set_trouble(self, kind: str, seconds: float) -> None:
        """Answer every request with `kind` (server_error, rate_limit or drop) for `seconds` from now."""
        if kind not in TROUBLE_KINDS:
            raise ValueError(f"trouble kind must be one of {TROUBLE_KINDS}, not {kind!r}")
        with self._lock:
            self._trouble = (kind, time.time() + seconds)

    def _current_trouble(self):
        with self._lock:
            if self._trouble is not None and time.time() < self._trouble[1]:
                return self._trouble
        return None

    # ----- the replayed market -----
    def now_ms(self) -> int:
        return int(time.time() * 1000)

    def _minute_index(self, wall: float) -> int:
        index = math.floor((wall - self.shift - self.candles[0].open_time) / MINUTE)
        return max(0, min(index, len(self.candles) - 1))

    def _vertices(self, candle: Candle) -> tuple:
        if candle.close >= candle.open:
            return candle.open, candle.low, candle.high, candle.close
        return candle.open, candle.high, candle.low, candle.close

    def price_at(self, wall: float) -> float:
        index = self._minute_index(wall)
        candle = self.candles[index]
        second = min(max(wall - (candle.open_time + self.shift), 0), VERTEX_SECONDS[-1])
        points = self._vertices(candle)
        for position in range(len(VERTEX_SECONDS) - 1):
            start, end = VERTEX_SECONDS[position], VERTEX_SECONDS[position + 1]
            if second <= end:
                fraction = (second - start) / (end - start)
                return points[position] + (points[position + 1] - points[position]) * fraction
        return points[-1]

    def trade_at(self, wall_second: int) -> dict:
        """The public trade of one wall-clock second (on the replayed path)."""
        index = self._minute_index(wall_second)
        candle = self.candles[index]
        price = _to_tick(self.price_at(wall_second))
        previous = _to_tick(self.price_at(wall_second - 1))
        quantity = (decimal.Decimal(str(candle.volume)) / MINUTE).quantize(STEP) or MIN_QTY
        return {"id": wall_second, "price": price, "qty": quantity, "time": wall_second * 1000,
                "buyer_maker": price < previous}

    def trades_until(self, wall: float, limit: int, start_ms=None, end_ms=None, from_id=None) -> list:
        last = math.floor(wall)
        first_available = self.candles[0].open_time + self.shift
        if from_id is not None:
            seconds = range(max(int(from_id), first_available), min(int(from_id) + limit, last + 1))
        else:
            newest = last if end_ms is None else min(last, math.floor(end_ms / 1000))
            oldest = newest - limit + 1
            if start_ms is not None:
                oldest = max(oldest, math.ceil(start_ms / 1000))
            seconds = range(max(oldest, first_available), newest + 1)
        return [self.trade_at(second) for second in seconds]

    def candle_so_far(self, index: int, wall: float) -> list:
        """[open_time_ms, o, h, l, c, v] of minute `index` as seen at `wall` (the current one is partial)."""
        candle = self.candles[index]
        start = candle.open_time + self.shift
        if wall >= start + MINUTE:
            return [start * 1000, candle.open, candle.high, candle.low, candle.close, candle.volume]
        seconds = max(0, math.floor(wall - start))
        prices = [self.price_at(start + second) for second in range(seconds + 1)]
        fraction = (seconds + 1) / MINUTE
        return [start * 1000, candle.open, max(prices), min(prices), prices[-1], candle.volume * fraction]

    def klines(self, interval: str, limit: int, start_ms=None, end_ms=None) -> list:
        minutes = INTERVALS[interval]
        wall = time.time()
        current = self._minute_index(wall)
        rows = [self.candle_so_far(index, wall) for index in range(current + 1)]
        if minutes > 1:
            rows = _aggregate(rows, minutes)
        if start_ms is not None:
            rows = [row for row in rows if row[0] >= start_ms]
        if end_ms is not None:
            rows = [row for row in rows if row[0] <= end_ms]
        return rows[:limit] if start_ms is not None else rows[-limit:]

    def book(self, wall: float, levels: int) -> tuple:
        price = decimal.Decimal(str(self.price_at(wall)))
        half_spread = max(price * decimal.Decimal(str(self.spread_bps)) / 20000, TICK)
        best_bid = (price - half_spread).quantize(TICK, rounding=decimal.ROUND_DOWN)
        best_ask = (price + half_spread).quantize(TICK, rounding=decimal.ROUND_UP)
        if best_ask <= best_bid:
            best_ask = best_bid + TICK
        candle = self.candles[self._minute_index(wall)]
        base_quantity = max(decimal.Decimal(str(candle.volume)) / 40, MIN_QTY * 1000)
        bids = [[best_bid - TICK * level * 5, (base_quantity * (1 + level)).quantize(STEP)] for level in range(levels)]
        asks = [[best_ask + TICK * level * 5, (base_quantity * (1 + level)).quantize(STEP)] for level in range(levels)]
        return bids, asks

    # ----- HTTP -----
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        with self._lock:
            self.requests.append((time.time(), request.method, path))
        trouble = self._current_trouble()
        if trouble is not None:
            return self._troubled(request, trouble)
        routes = {
            "/api/v3/ping": self._ping,
            "/api/v3/time": self._time,
            "/api/v3/exchangeInfo": self._exchange_info,
            "/api/v3/klines": self._klines,
            "/api/v3/uiKlines": self._klines,
            "/api/v3/ticker/24hr": self._ticker_24hr,
            "/api/v3/ticker/price": self._ticker_price,
            "/api/v3/ticker/bookTicker": self._book_ticker,
            "/api/v3/depth": self._depth,
            "/api/v3/aggTrades": self._agg_trades,
            "/api/v3/trades": self._trades,
            "/api/v3/historicalTrades": self._trades,
        }
        handler = routes.get(path) if request.method == "GET" else None
        if handler is None:
            with self._lock:
                self.unknown_paths.append(f"{request.method} {path}")
            LOGGER.warning("exchange stand-in: unknown path %s %s", request.method, request.path_qs)
            return _error(404, -1100, f"Unknown path {request.method} {path} (exchange stand-in)")
        try:
            return await handler(request)
        except (KeyError, ValueError) as err:
            return _error(400, -1100, f"Illegal parameter: {err}")

    def _troubled(self, request: web.Request, trouble) -> web.StreamResponse:
        kind, until = trouble
        if kind == "rate_limit":
            retry_after = max(1, math.ceil(until - time.time()))
            return web.json_response({"code": -1003, "msg": "Too many requests; current limit is exceeded."},
                                     status=429, headers={"Retry-After": str(retry_after)})
        if kind == "server_error":
            return web.json_response({"code": -1001, "msg": "Internal error; unable to process your request."},
                                     status=503)
        # drop: close the connection without an answer
        if request.transport is not None:
            request.transport.abort()
        raise ConnectionResetError("connection dropped by the exchange stand-in")

    def _check_symbol(self, request) -> None:
        symbol = request.query.get("symbol")
        if symbol is not None and symbol != self.market_id:
            raise ValueError(f"unknown symbol {symbol}")

    async def _ping(self, request):
        return web.json_response({})

    async def _time(self, request):
        return web.json_response({"serverTime": self.now_ms()})

    async def _exchange_info(self, request):
        return web.json_response({
            "timezone": "UTC",
            "serverTime": self.now_ms(),
            "rateLimits": [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
                            "limit": 6000}],
            "exchangeFilters": [],
            "symbols": [{
                "symbol": self.market_id, "status": "TRADING",
                "baseAsset": self.base, "baseAssetPrecision": 8,
                "quoteAsset": self.quote, "quotePrecision": 8, "quoteAssetPrecision": 8,
                "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
                "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
                "icebergAllowed": True, "ocoAllowed": True, "otoAllowed": True,
                "quoteOrderQtyMarketAllowed": True, "allowTrailingStop": True, "cancelReplaceAllowed": True,
                "isSpotTradingAllowed": True, "isMarginTradingAllowed": False,
                "filters": [
                    {"filterType": "PRICE_FILTER", "minPrice": str(TICK), "maxPrice": "1000000.00000000",
                     "tickSize": str(TICK)},
                    {"filterType": "LOT_SIZE", "minQty": str(MIN_QTY), "maxQty": "9000.00000000",
                     "stepSize": str(STEP)},
                    {"filterType": "MARKET_LOT_SIZE", "minQty": "0.00000000", "maxQty": "100.00000000",
                     "stepSize": "0.00000000"},
                    {"filterType": "NOTIONAL", "minNotional": str(MIN_NOTIONAL), "applyMinToMarket": True,
                     "maxNotional": "9000000.00000000", "applyMaxToMarket": False, "avgPriceMins": 5},
                ],
                "permissions": [], "permissionSets": [["SPOT"]],
                "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
                "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
            }],
        })

    async def _klines(self, request):
        self._check_symbol(request)
        interval = request.query["interval"]
        if interval not in INTERVALS:
            return _error(400, -1120, "Invalid interval.")
        limit = min(int(request.query.get("limit", 500)), 1000)
        rows = self.klines(interval, limit, _int_or_none(request.query.get("startTime")),
                           _int_or_none(request.query.get("endTime")))
        minutes = INTERVALS[interval]
        return web.json_response([
            [row[0], _fmt(row[1]), _fmt(row[2]), _fmt(row[3]), _fmt(row[4]), _fmt(row[5], 5),
             row[0] + minutes * MINUTE * 1000 - 1, _fmt(row[5] * row[4]), 100, _fmt(row[5] / 2, 5),
             _fmt(row[5] * row[4] / 2), "0"]
            for row in rows
        ])

    def _ticker(self) -> dict:
        wall = time.time()
        price = _to_tick(self.price_at(wall))
        day = [self.candle_so_far(index, wall) for index in range(max(0, self._minute_index(wall) - 1439),
                                                                    self._minute_index(wall) + 1)]
        volume = sum(row[5] for row in day)
        bids, asks = self.book(wall, 1)
        open_price = decimal.Decimal(str(day[0][1]))
        return {
            "symbol": self.market_id, "priceChange": str(price - open_price),
            "priceChangePercent": f"{(price - open_price) / open_price * 100:.3f}",
            "weightedAvgPrice": str(price), "prevClosePrice": str(open_price), "lastPrice": str(price),
            "lastQty": "0.01000000", "bidPrice": str(bids[0][0]), "bidQty": str(bids[0][1]),
            "askPrice": str(asks[0][0]), "askQty": str(asks[0][1]), "openPrice": str(open_price),
            # the last price is inside the day's range whatever the rounding of the minute in progress
            "highPrice": _fmt(max(max(row[2] for row in day), float(price))),
            "lowPrice": _fmt(min(min(row[3] for row in day), float(price))),
            "volume": _fmt(volume, 5), "quoteVolume": _fmt(volume * float(price)),
            "openTime": day[0][0], "closeTime": self.now_ms(), "firstId": 1, "lastId": math.floor(wall),
            "count": len(day) * MINUTE,
        }

    async def _ticker_24hr(self, request):
        self._check_symbol(request)
        ticker = self._ticker()
        return web.json_response(ticker if "symbol" in request.query else [ticker])

    async def _ticker_price(self, request):
        self._check_symbol(request)
        ticker = {"symbol": self.market_id, "price": str(_to_tick(self.price_at(time.time())))}
        return web.json_response(ticker if "symbol" in request.query else [ticker])

    async def _book_ticker(self, request):
        self._check_symbol(request)
        bids, asks = self.book(time.time(), 1)
        ticker = {"symbol": self.market_id, "bidPrice": str(bids[0][0]), "bidQty": str(bids[0][1]),
                  "askPrice": str(asks[0][0]), "askQty": str(asks[0][1])}
        return web.json_response(ticker if "symbol" in request.query else [ticker])

    async def _depth(self, request):
        self._check_symbol(request)
        levels = min(int(request.query.get("limit", 100)), BOOK_LEVELS)
        wall = time.time()
        bids, asks = self.book(wall, levels)
        with self._lock:
            self.book_tops.append(BookTop(wall, bids[0][0], asks[0][0]))
        return web.json_response({
            "lastUpdateId": math.floor(wall * 1000),
            "bids": [[str(price), str(quantity)] for price, quantity in bids],
            "asks": [[str(price), str(quantity)] for price, quantity in asks],
        })

    async def _agg_trades(self, request):
        self._check_symbol(request)
        trades = self._query_trades(request)
        return web.json_response([
            {"a": trade["id"], "p": str(trade["price"]), "q": str(trade["qty"]), "f": trade["id"],
             "l": trade["id"], "T": trade["time"], "m": trade["buyer_maker"], "M": True}
            for trade in trades
        ])

    async def _trades(self, request):
        self._check_symbol(request)
        trades = self._query_trades(request)
        return web.json_response([
            {"id": trade["id"], "price": str(trade["price"]), "qty": str(trade["qty"]),
             "quoteQty": str((trade["price"] * trade["qty"]).quantize(TICK)), "time": trade["time"],
             "isBuyerMaker": trade["buyer_maker"], "isBestMatch": True}
            for trade in trades
        ])

    def _query_trades(self, request) -> list:
        limit = min(int(request.query.get("limit", 500)), 1000)
        return self.trades_until(time.time(), limit, _int_or_none(request.query.get("startTime")),
                                 _int_or_none(request.query.get("endTime")),
                                 _int_or_none(request.query.get("fromId")))

    # ----- what the tests read -----
    def requested_paths(self) -> list:
        with self._lock:
            return [path for _, _, path in self.requests]

    def served_book_tops(self) -> typing.List[BookTop]:
        with self._lock:
            return list(self.book_tops)


def _aggregate(rows: list, minutes: int) -> list:
    width = minutes * MINUTE * 1000
    grouped = {}
    for row in rows:
        start = row[0] - row[0] % width
        if start not in grouped:
            grouped[start] = [start, row[1], row[2], row[3], row[4], row[5]]
        else:
            group = grouped[start]
            group[2] = max(group[2], row[2])
            group[3] = min(group[3], row[3])
            group[4] = row[4]
            group[5] += row[5]
    return [grouped[start] for start in sorted(grouped)]


def _to_tick(price: float) -> decimal.Decimal:
    return decimal.Decimal(str(price)).quantize(TICK)


def _fmt(value: float, decimals: int = 2) -> str:
    return f"{value:.{decimals}f}"


def _int_or_none(value):
    return int(value) if value not in (None, "") else None


def _error(status: int, code: int, message: str) -> web.Response:
    return web.json_response({"code": code, "msg": message}, status=status)
