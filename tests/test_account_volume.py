"""Reading the account's fee rates and 30-day volume through ccxt's own requests and parsing: real ccxt async
exchange objects with fake keys, their HTTP answered by aioresponses with the response shapes the exchanges
document."""
import asyncio
import base64
import decimal
import json
import re

import aioresponses
import ccxt.async_support as ccxt_async
import pytest

from tentacles.Trading.Mode.volume_booster_trading_mode import account_volume

D = decimal.Decimal
NOW_MS = 1_700_000_000_000
DAY_MS = 24 * 3600 * 1000


def _market(symbol, market_id, base_id, quote_id):
    base, quote = symbol.split("/")
    return {"id": market_id, "symbol": symbol, "base": base, "quote": quote, "baseId": base_id,
            "quoteId": quote_id, "type": "spot", "spot": True, "margin": False, "swap": False, "future": False,
            "option": False, "contract": False, "linear": None, "inverse": None, "active": True,
            "precision": {"amount": 0.00001, "price": 0.01}, "limits": {}, "info": {}, "altname": market_id}


def _client(exchange_class, market, **credentials):
    client = exchange_class({"apiKey": "fake-key", "secret": "ZmFrZS1zZWNyZXQ=", "enableRateLimit": False,
                             **credentials})
    client.set_markets([market])
    return client


def _run(coroutine_factory, client):
    async def run():
        try:
            return await coroutine_factory()
        finally:
            await client.close()
    return asyncio.run(run())


def _url(path_fragment):
    return re.compile(rf"^https://[^/]+/.*{re.escape(path_fragment)}.*$")


def test_binance_fee_rates_from_asset_trade_fee():
    client = _client(ccxt_async.binance, _market("BTC/USDT", "BTCUSDT", "BTC", "USDT"))
    with aioresponses.aioresponses() as http:
        http.get(_url("sapi/v1/asset/tradeFee"), payload=[
            {"symbol": "BTCUSDT", "makerCommission": "0.00075", "takerCommission": "0.00095"}])
        rates = _run(lambda: account_volume.fee_rates(client, "BTC/USDT"), client)
    assert (rates.maker, rates.taker) == (D("0.00075"), D("0.00095"))


def test_okx_fee_rates_and_level_from_account_trade_fee():
    client = _client(ccxt_async.okx, _market("BTC/USDT", "BTC-USDT", "BTC", "USDT"), password="fake-pass")
    with aioresponses.aioresponses() as http:
        http.get(_url("api/v5/account/trade-fee"), payload={"code": "0", "msg": "", "data": [
            {"category": "1", "delivery": "", "exercise": "", "instType": "SPOT", "level": "Lv2",
             "maker": "-0.0006", "taker": "-0.0009", "ts": "1639043138472"}]})
        rates = _run(lambda: account_volume.fee_rates(client, "BTC/USDT"), client)
    # OKX writes a fee it charges as a negative rate: ccxt turns it into a positive fee
    assert (rates.maker, rates.taker, rates.level) == (D("0.0006"), D("0.0009"), "Lv2")


def test_bybit_fee_rates_from_account_fee_rate():
    client = _client(ccxt_async.bybit, _market("ETH/USDT", "ETHUSDT", "ETH", "USDT"))
    client.options["enableUnifiedAccount"] = True
    client.options["enableUnifiedMargin"] = False
    with aioresponses.aioresponses() as http:
        http.get(_url("v5/account/fee-rate"), payload={"retCode": 0, "retMsg": "OK", "result": {"list": [
            {"symbol": "ETHUSDT", "takerFeeRate": "0.0006", "makerFeeRate": "0.0001"}]}, "retExtInfo": {},
            "time": 1676360412576})
        rates = _run(lambda: account_volume.fee_rates(client, "ETH/USDT"), client)
    assert (rates.maker, rates.taker) == (D("0.0001"), D("0.0006"))


KRAKEN_TRADE_VOLUME = {"error": [], "result": {
    "currency": "ZUSD", "volume": "123456.7890",
    "fees": {"XXBTZUSD": {"fee": "0.2200", "minfee": "0.1000", "maxfee": "0.2600", "nextfee": "0.2000",
                          "tiervolume": "100000.0000", "nextvolume": "250000.0000"}},
    "fees_maker": {"XXBTZUSD": {"fee": "0.1200", "minfee": "0.0000", "maxfee": "0.1600", "nextfee": "0.1000",
                                "tiervolume": "100000.0000", "nextvolume": "250000.0000"}}}}


def test_kraken_rates_and_30_day_volume_from_trade_volume():
    client = _client(ccxt_async.kraken, _market("BTC/USD", "XXBTZUSD", "XXBT", "ZUSD"))
    with aioresponses.aioresponses() as http:
        http.post(_url("0/private/TradeVolume"), payload=KRAKEN_TRADE_VOLUME, repeat=True)

        async def both():
            return (await account_volume.fee_rates(client, "BTC/USD"),
                    await account_volume.account_volume(client, "BTC/USD", NOW_MS))
        rates, volume = _run(both, client)
    assert (rates.maker, rates.taker) == (D("0.0012"), D("0.0022"))
    assert volume.volume_30d == D("123456.7890")
    assert "TradeVolume" in volume.source and volume.currency == "ZUSD"


COINBASE_SUMMARY = {
    "total_volume": "48210.55", "total_fees": "25.1",
    "fee_tier": {"pricing_tier": "Advanced 2", "usd_from": "10000", "usd_to": "50000", "taker_fee_rate": "0.004",
                 "maker_fee_rate": "0.0025", "aop_from": "", "aop_to": ""},
    "margin_rate": None, "goods_and_services_tax": None, "advanced_trade_only_volume": "48210.55",
    "advanced_trade_only_fees": "25.1", "coinbase_pro_volume": "0", "coinbase_pro_fees": "0", "total_balance": "",
    "has_promo_fee": False}


def test_coinbase_rates_and_30_day_volume_from_transaction_summary():
    # a CDP key's secret: 64 bytes, the first 32 the Ed25519 seed ccxt signs its JWT with
    client = _client(ccxt_async.coinbase, _market("BTC/USD", "BTC-USD", "BTC", "USD"),
                     secret=base64.b64encode(bytes(range(64))).decode())
    with aioresponses.aioresponses() as http:
        http.get(_url("brokerage/transaction_summary"), payload=COINBASE_SUMMARY, repeat=True)

        async def both():
            return (await account_volume.fee_rates(client, "BTC/USD"),
                    await account_volume.account_volume(client, "BTC/USD", NOW_MS))
        rates, volume = _run(both, client)
    assert (rates.maker, rates.taker, rates.level) == (D("0.0025"), D("0.004"), "Advanced 2")
    assert volume.volume_30d == D("48210.55")
    assert "total_volume" in volume.source


def _binance_trade(trade_id, timestamp, qty, price):
    return {"symbol": "BTCUSDT", "id": trade_id, "orderId": trade_id * 10, "orderListId": -1, "price": price,
            "qty": qty, "quoteQty": str(D(qty) * D(price)), "commission": "0.0001", "commissionAsset": "BNB",
            "time": timestamp, "isBuyer": trade_id % 2 == 0, "isMaker": True, "isBestMatch": True}


class TradeHistory:
    """An exchange's trade history answering its documented request: the trades of the span asked (both ends
    included), at most `page_max` a request (`page_default` without a limit), the newest or the oldest first;
    a span longer than `span_ms` refused with the exchange's error. `served` keeps each answer's trade ids."""

    def __init__(self, trades, time_of, id_of, start_key, end_key, page_default, page_max, newest_first, span_ms,
                 answer, refusal, open_end_ms=None):
        self.trades, self.time_of, self.id_of = trades, time_of, id_of
        self.start_key, self.end_key = start_key, end_key
        self.page_default, self.page_max, self.newest_first = page_default, page_max, newest_first
        # the longest span one request may cover; `open_end_ms`: the span a request with one end only covers
        self.span_ms, self.open_end_ms = span_ms, open_end_ms
        self.answer, self.refusal = answer, refusal
        self.served = []

    def __call__(self, url, **kwargs):
        query = url.query
        start = int(query[self.start_key]) if self.start_key in query else None
        end = int(query[self.end_key]) if self.end_key in query else None
        if self.open_end_ms is not None and (start is None) != (end is None):
            start, end = (start, start + self.open_end_ms) if end is None else (end - self.open_end_ms, end)
        if start is not None and end is not None and self.span_ms is not None and end - start > self.span_ms:
            return aioresponses.CallbackResult(status=400, body=json.dumps(self.refusal))
        limit = min(int(query.get("limit", self.page_default)), self.page_max)
        in_span = [trade for trade in self.trades
                   if (start is None or self.time_of(trade) >= start) and (end is None or self.time_of(trade) <= end)]
        chosen = sorted(in_span, key=self.time_of, reverse=self.newest_first)[:limit]
        self.served.append([self.id_of(trade) for trade in chosen])
        return aioresponses.CallbackResult(payload=self.answer(chosen))

    def overlapped(self) -> bool:
        """Some trade was served by more than one request."""
        ids = [trade_id for page in self.served for trade_id in page]
        return len(ids) > len(set(ids))


def binance_history(trades):
    # myTrades: at most 1000; start and end at most 24 h apart; oldest first
    return TradeHistory(trades, lambda t: t["time"], lambda t: t["id"], "startTime", "endTime", 500, 1000, False,
                        DAY_MS, lambda chosen: chosen,
                        {"code": -1127, "msg": "More than 24 hours between startTime and endTime."})


def okx_history(trades):
    # trade/fills-history: at most 100, newest first
    return TradeHistory(trades, lambda t: int(t["ts"]), lambda t: t["tradeId"], "begin", "end", 100, 100, True, None,
                        lambda chosen: {"code": "0", "msg": "", "data": chosen}, None)


def bybit_history(trades):
    # execution/list: at most 100 (50 without a limit); one end only: 7 days from it; both: at most 7 days apart
    return TradeHistory(trades, lambda t: int(t["execTime"]), lambda t: t["execId"], "startTime", "endTime", 50,
                        100, True, 7 * DAY_MS,
                        lambda chosen: {"retCode": 0, "retMsg": "OK", "result": {
                            "nextPageCursor": "", "category": "spot", "list": chosen}, "retExtInfo": {},
                            "time": NOW_MS},
                        {"retCode": 10001, "retMsg": "The interval between startTime and endTime exceeds 7 days",
                         "result": {}, "retExtInfo": {}, "time": NOW_MS},
                        open_end_ms=7 * DAY_MS)


def test_binance_30_day_volume_summed_from_the_pairs_trades():
    client = _client(ccxt_async.binance, _market("BTC/USDT", "BTCUSDT", "BTC", "USDT"))
    history = binance_history([_binance_trade(1, NOW_MS - 20 * DAY_MS, "0.5", "30000"),
                               _binance_trade(2, NOW_MS - 20 * DAY_MS + 60_000, "0.1", "31000"),
                               _binance_trade(3, NOW_MS - DAY_MS, "0.2", "35000")])
    with aioresponses.aioresponses() as http:
        http.get(_url("api/v3/myTrades"), callback=history, repeat=True)
        volume = _run(lambda: account_volume.account_volume(client, "BTC/USDT", NOW_MS), client)
        requested = [str(url) for (method, url) in http.requests]
    assert volume.volume_30d == D("15000") + D("3100") + D("7000")
    assert sum(volume.daily_volumes.values()) == volume.volume_30d
    assert len(volume.daily_volumes) == 2
    # from 30 days back, and the source states the limit of this figure
    assert any(f"startTime={NOW_MS - 30 * DAY_MS}" in url for url in requested), requested
    assert "this pair only" in volume.source and volume.currency == "USDT"


def _okx_fill(index, timestamp):
    return {"side": "buy" if index % 2 else "sell", "fillSz": f"0.00{index % 9 + 1}", "fillPx": str(30000 + index),
            "fee": "-0.01", "ordId": str(5000 + index), "instType": "SPOT", "instId": "BTC-USDT", "clOrdId": "",
            "posSide": "net", "billId": str(9000 + index), "tag": "", "execType": "M", "tradeId": str(100 + index),
            "feeCcy": "USDT", "ts": str(timestamp)}


def _bybit_execution(index, timestamp):
    qty, price = f"0.0{index % 9 + 1}", str(2000 + index)
    return {"symbol": "ETHUSDT", "orderType": "Limit", "underlyingPrice": "", "orderLinkId": "",
            "side": "Buy" if index % 2 else "Sell", "indexPrice": "", "orderId": f"order-{index}",
            "stopOrderType": "", "leavesQty": "0", "execTime": str(timestamp), "isMaker": True, "execFee": "0.001",
            "feeRate": "0.001", "execId": f"exec-{index}", "tradeIv": "", "blockTradeId": "", "markPrice": "",
            "execPrice": price, "markIv": "", "orderQty": qty, "orderPrice": price,
            "execValue": str(D(qty) * D(price)), "execType": "Trade", "execQty": qty}


def _three_per_millisecond(count, first_ms):
    """Timestamps of `count` trades, three in each millisecond a minute apart: a page's edge falls within one."""
    return [first_ms + (index // 3) * 60_000 for index in range(count)]


def test_okx_volume_summed_over_pages_of_100_each_trade_once():
    client = _client(ccxt_async.okx, _market("BTC/USDT", "BTC-USDT", "BTC", "USDT"), password="fake-pass")
    fills = [_okx_fill(index, timestamp)
             for index, timestamp in enumerate(_three_per_millisecond(237, NOW_MS - 25 * DAY_MS))]
    history = okx_history(fills)
    with aioresponses.aioresponses() as http:
        http.get(_url("api/v5/trade/fills-history"), callback=history, repeat=True)
        volume = _run(lambda: account_volume.account_volume(client, "BTC/USDT", NOW_MS), client)
    assert volume.volume_30d == sum(D(fill["fillSz"]) * D(fill["fillPx"]) for fill in fills)
    assert sum(volume.daily_volumes.values()) == volume.volume_30d
    # 100 + 100 + 37 and more: pages met at a millisecond shared by trades on both, counted once
    assert [len(page) for page in history.served][:2] == [100, 100] and history.overlapped()
    assert "cut" not in volume.source


def test_bybit_volume_summed_in_spans_of_7_days_past_an_empty_one():
    client = _client(ccxt_async.bybit, _market("ETH/USDT", "ETHUSDT", "ETH", "USDT"))
    client.options["enableUnifiedAccount"] = True
    client.options["enableUnifiedMargin"] = False
    # 237 trades in the first week, none in the two weeks after, 5 in the last days
    times = _three_per_millisecond(237, NOW_MS - 29 * DAY_MS) + [NOW_MS - DAY_MS + index for index in range(5)]
    executions = [_bybit_execution(index, timestamp) for index, timestamp in enumerate(times)]
    history = bybit_history(executions)
    with aioresponses.aioresponses() as http:
        http.get(_url("v5/execution/list"), callback=history, repeat=True)
        volume = _run(lambda: account_volume.account_volume(client, "ETH/USDT", NOW_MS), client)
    assert volume.volume_30d == sum(D(execution["execValue"]) for execution in executions)
    assert sum(volume.daily_volumes.values()) == volume.volume_30d
    assert [len(page) for page in history.served][:2] == [100, 100] and history.overlapped()
    # every request was answered (a span over 7 days is refused), an empty span among them
    assert [] in history.served
    assert "cut" not in volume.source


def test_the_request_bound_cuts_the_sum_and_the_source_says_so(monkeypatch):
    client = _client(ccxt_async.okx, _market("BTC/USDT", "BTC-USDT", "BTC", "USDT"), password="fake-pass")
    fills = [_okx_fill(index, NOW_MS - DAY_MS + index) for index in range(250)]
    monkeypatch.setattr(account_volume, "MAX_TRADE_REQUESTS", 2)
    with aioresponses.aioresponses() as http:
        http.get(_url("api/v5/trade/fills-history"), callback=okx_history(fills), repeat=True)
        volume = _run(lambda: account_volume.account_volume(client, "BTC/USDT", NOW_MS), client)
    # two pages of 100, the second starting again at the first's oldest millisecond: the 199 newest trades
    assert volume.volume_30d == sum(D(fill["fillSz"]) * D(fill["fillPx"]) for fill in fills[51:])
    assert "cut at 199 trades after 2 requests" in volume.source


def test_a_refused_request_raises_for_the_caller_to_fall_back():
    client = _client(ccxt_async.binance, _market("BTC/USDT", "BTCUSDT", "BTC", "USDT"))
    with aioresponses.aioresponses() as http:
        http.get(_url("sapi/v1/asset/tradeFee"), status=401, payload={"code": -2015, "msg": "Invalid API-key"})
        with pytest.raises(ccxt_async.AuthenticationError):
            _run(lambda: account_volume.fee_rates(client, "BTC/USDT"), client)


class _Logger:
    def __init__(self):
        self.warnings = []

    def warning(self, message):
        self.warnings.append(message)


def _gateway(client, simulated=False, backtesting=False):
    """The mode's gateway on an exchange manager whose ccxt client is `client` (only what the reading touches)."""
    import types
    from tentacles.Trading.Mode.volume_booster_trading_mode import gateway as vb_gateway
    exchange = types.SimpleNamespace(connector=types.SimpleNamespace(client=client),
                                     get_exchange_current_time=lambda: NOW_MS / 1000)
    exchange_manager = types.SimpleNamespace(exchange=exchange, exchange_name=client.id, is_backtesting=backtesting,
                                             is_trader_simulated=simulated)
    mode = types.SimpleNamespace(exchange_manager=exchange_manager, symbol="BTC/USDT")
    return vb_gateway.Gateway(mode, _Logger())


def test_a_failed_read_is_a_warning_and_the_setting_never_a_crash():
    from tentacles.Trading.Mode.volume_booster_trading_mode import settings as vb_settings
    settings = vb_settings.parse_settings({"target_mode": "next_fee_tier", "volume_30d": 4321})
    client = _client(ccxt_async.binance, _market("BTC/USDT", "BTCUSDT", "BTC", "USDT"))
    gateway = _gateway(client)
    with aioresponses.aioresponses() as http:
        http.get(_url("api/v3/myTrades"), status=500, body="gateway error", repeat=True)
        http.get(_url("sapi/v1/asset/tradeFee"), status=401, payload={"code": -2015, "msg": "Invalid API-key"})

        async def both():
            return await gateway.account_volume(settings), await gateway.account_fee_rates()
        volume, rates = _run(both, client)
    assert volume.volume_30d == D(4321) and volume.from_setting
    assert rates is None
    assert len(gateway.logger.warnings) == 2
    assert all("binance" in line for line in gateway.logger.warnings)
    assert "volume_30d 4321" in gateway.logger.warnings[0]


def test_paper_trading_reads_the_setting_not_the_exchange():
    from tentacles.Trading.Mode.volume_booster_trading_mode import settings as vb_settings
    settings = vb_settings.parse_settings({"target_mode": "keep_fee_tier", "volume_30d": 777})
    client = _client(ccxt_async.binance, _market("BTC/USDT", "BTCUSDT", "BTC", "USDT"))
    gateway = _gateway(client, simulated=True)
    with aioresponses.aioresponses() as http:
        volume = _run(lambda: gateway.account_volume(settings), client)
        assert not http.requests
    assert volume.volume_30d == D(777) and "paper trading" in volume.source


def test_a_page_failing_after_others_is_the_setting_never_a_partial_sum():
    from tentacles.Trading.Mode.volume_booster_trading_mode import settings as vb_settings
    settings = vb_settings.parse_settings({"target_mode": "next_fee_tier", "volume_30d": 4321})
    client = _client(ccxt_async.okx, _market("BTC/USDT", "BTC-USDT", "BTC", "USDT"), password="fake-pass")
    history = okx_history([_okx_fill(index, NOW_MS - DAY_MS + index) for index in range(150)])

    def second_page_fails(url, **kwargs):
        if history.served:
            return aioresponses.CallbackResult(status=500, body="gateway error")
        return history(url, **kwargs)
    gateway = _gateway(client)
    with aioresponses.aioresponses() as http:
        http.get(_url("api/v5/trade/fills-history"), callback=second_page_fails, repeat=True)
        volume = _run(lambda: gateway.account_volume(settings), client)
    assert len(history.served) == 1
    assert volume.volume_30d == D(4321) and volume.from_setting
    assert len(gateway.logger.warnings) == 1 and "volume_30d 4321" in gateway.logger.warnings[0]
