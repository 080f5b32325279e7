"""The exchange stand-in of the live tests answers as binance's public REST API does, on the replayed market."""
import decimal
import json
import math
import time
import urllib.error
import urllib.request

import pytest

from tests.exchange_standin import ExchangeStandin, MINUTE

DATA_FILE = "AbstractExchangeHistoryCollector_1586017993.616272.data"


@pytest.fixture(scope="module")
def standin(shared_data):
    source = shared_data / DATA_FILE
    if not source.is_file():
        pytest.skip(f"market data file missing: {source}")
    with ExchangeStandin(source, history_minutes=120, lifetime=120) as server:
        yield server


def get(standin, path: str):
    with urllib.request.urlopen(standin.url + path, timeout=10) as response:
        return response.status, dict(response.headers), json.loads(response.read())


def error(standin, path: str):
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(standin.url + path, timeout=10)
    return raised.value.code, dict(raised.value.headers), json.loads(raised.value.read())


def test_time_and_markets(standin):
    _, _, server_time = get(standin, "/api/v3/time")
    assert abs(server_time["serverTime"] / 1000 - time.time()) < 5
    _, _, info = get(standin, "/api/v3/exchangeInfo")
    (market,) = info["symbols"]
    assert market["symbol"] == "BTCUSDT" and market["status"] == "TRADING"
    filters = {item["filterType"]: item for item in market["filters"]}
    assert filters["PRICE_FILTER"]["tickSize"] == "0.01" and filters["LOT_SIZE"]["stepSize"] == "0.00001"


def test_candles_replay_the_file_shifted_to_now(standin):
    _, _, minutes = get(standin, "/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1000")
    # the history, then the current minute (one more when a minute went by since the start)
    assert len(minutes) in (121, 122)
    now_minute = math.floor(time.time() / MINUTE) * MINUTE * 1000
    assert minutes[-1][0] in (now_minute, now_minute - MINUTE * 1000)
    replayed = standin.candles[standin.history_minutes - 1]
    (closed,) = [row for row in minutes if row[0] == (replayed.open_time + standin.shift) * 1000]
    assert closed is minutes[standin.history_minutes - 1]
    assert [float(value) for value in closed[1:5]] == [replayed.open, replayed.high, replayed.low, replayed.close]
    _, _, hours = get(standin, "/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=5")
    assert all(row[0] % 3600000 == 0 for row in hours)
    hour = [row for row in minutes if row[0] >= hours[-2][0] and row[0] < hours[-1][0]]
    assert float(hours[-2][2]) == max(float(row[2]) for row in hour)
    assert float(hours[-2][3]) == min(float(row[3]) for row in hour)


def test_trades_follow_each_minute_through_its_high_and_low(standin):
    index = standin.history_minutes - 2
    candle = standin.candles[index]
    start = candle.open_time + standin.shift
    prices = [standin.trade_at(start + second)["price"] for second in range(MINUTE)]
    assert max(prices) == decimal.Decimal(str(candle.high)).quantize(decimal.Decimal("0.01"))
    assert min(prices) == decimal.Decimal(str(candle.low)).quantize(decimal.Decimal("0.01"))
    _, _, trades = get(standin, "/api/v3/aggTrades?symbol=BTCUSDT&limit=30")
    assert len(trades) == 30 and [trade["a"] for trade in trades] == sorted(trade["a"] for trade in trades)
    assert trades[-1]["T"] <= time.time() * 1000


def test_book_has_a_spread_around_the_price(standin):
    _, _, book = get(standin, "/api/v3/depth?symbol=BTCUSDT&limit=5")
    bid, ask = decimal.Decimal(book["bids"][0][0]), decimal.Decimal(book["asks"][0][0])
    price = decimal.Decimal(str(standin.price_at(time.time())))
    assert bid < ask and bid <= price <= ask and (ask - bid) / price < decimal.Decimal("0.001")
    assert len(book["bids"]) == len(book["asks"]) == 5
    assert standin.served_book_tops()[-1].bid == bid
    _, _, ticker = get(standin, "/api/v3/ticker/bookTicker?symbol=BTCUSDT")
    assert decimal.Decimal(ticker["bidPrice"]) < decimal.Decimal(ticker["askPrice"])
    _, _, ticker = get(standin, "/api/v3/ticker/24hr?symbol=BTCUSDT")
    assert decimal.Decimal(ticker["lowPrice"]) <= decimal.Decimal(ticker["lastPrice"]) <= \
        decimal.Decimal(ticker["highPrice"])


def test_unknown_paths_and_trouble_answer_as_binance_does(standin):
    status, _, body = error(standin, "/api/v3/order")
    assert status == 404 and body["code"] == -1100 and "GET /api/v3/order" in standin.unknown_paths
    standin.set_trouble("rate_limit", 3)
    status, headers, body = error(standin, "/api/v3/time")
    assert status == 429 and body["code"] == -1003 and 1 <= int(headers["Retry-After"]) <= 3
    standin.set_trouble("server_error", 3)
    assert error(standin, "/api/v3/time")[0] == 503
    standin.set_trouble("drop", 3)
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        urllib.request.urlopen(standin.url + "/api/v3/time", timeout=10)
    standin.set_trouble("drop", 0)
    assert get(standin, "/api/v3/time")[0] == 200
