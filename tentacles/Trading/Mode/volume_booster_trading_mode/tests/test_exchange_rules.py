"""Self-trade prevention per exchange: the parameter each exchange gets, and a self-trade expiry recognised only by
the exchange's own mark in its raw order record, as OctoBot receives it from ccxt (each raw order below follows the
exchange's documented response shape and is parsed by the real ccxt exchange class)."""
import ccxt
import pytest

from tentacles.Trading.Mode.volume_booster_trading_mode import exchange_rules as rules

T0 = 1700000000000


def binance_order(status, **extra):
    # GET /api/v3/order
    return {"symbol": "BTCUSDT", "orderId": 28, "orderListId": -1, "clientOrderId": "vb1", "price": "50000.00",
            "origQty": "0.00100000", "executedQty": "0.00000000", "cummulativeQuoteQty": "0.00000000",
            "status": status, "timeInForce": "GTC", "type": "LIMIT", "side": "BUY", "stopPrice": "0.00000000",
            "time": T0, "updateTime": T0 + 1, "isWorking": True, "workingTime": T0,
            "selfTradePreventionMode": "EXPIRE_BOTH", **extra}


def okx_order(state, cancel_source, **extra):
    # GET /api/v5/trade/order
    return {"instType": "SPOT", "instId": "BTC-USDT", "ordId": "312269865356374016", "clOrdId": "", "px": "50000",
            "sz": "0.001", "ordType": "limit", "side": "buy", "state": state, "accFillSz": "0", "fillSz": "0",
            "avgPx": "", "fee": "0", "feeCcy": "BTC", "stpMode": "cancel_both", "cancelSource": cancel_source,
            "uTime": str(T0 + 1), "cTime": str(T0), **extra}


def bybit_order(status, cancel_type, **extra):
    # GET /v5/order/realtime (category spot)
    return {"orderId": "1", "orderLinkId": "", "symbol": "BTCUSDT", "price": "50000", "qty": "0.001", "side": "Buy",
            "orderStatus": status, "cancelType": cancel_type, "rejectReason": "EC_NoError", "avgPrice": "",
            "leavesQty": "0", "cumExecQty": "0", "cumExecValue": "0", "cumExecFee": "0", "timeInForce": "GTC",
            "orderType": "Limit", "smpType": "CancelBoth", "smpGroup": 0, "smpOrderId": "", "createdTime": str(T0),
            "updatedTime": str(T0 + 1), **extra}


def gate_order(finish_as, **extra):
    # GET /api/v4/spot/orders/{order_id}
    return {"id": "1", "text": "t-vb1", "create_time": "1700000000", "update_time": "1700000001",
            "create_time_ms": T0, "update_time_ms": T0 + 1000, "status": "closed", "currency_pair": "BTC_USDT",
            "type": "limit", "account": "spot", "side": "buy", "amount": "0.001", "price": "50000",
            "time_in_force": "gtc", "left": "0.001", "filled_total": "0", "fee": "0", "fee_currency": "BTC",
            "finish_as": finish_as, "stp_act": "cb", "stp_id": 1, **extra}


def parsed(exchange: str, raw: dict) -> dict:
    """The order as OctoBot receives it from ccxt: ccxt's unified order, the raw record kept as `info`."""
    return getattr(ccxt, exchange)().parse_order(raw)


STP_EXPIRIES = [
    ("binance", binance_order("EXPIRED_IN_MATCH", preventedMatchId=1, preventedQuantity="0.001"),
     "status=EXPIRED_IN_MATCH"),
    ("okx", okx_order("canceled", "32"), "cancelSource=32"),
    ("bybit", bybit_order("Cancelled", "CancelBySmp", smpOrderId="2"), "cancelType=CancelBySmp"),
    ("gate", gate_order("stp"), "finish_as=stp"),
]


@pytest.mark.parametrize("exchange, raw, term", STP_EXPIRIES, ids=[case[0] for case in STP_EXPIRIES])
def test_an_stp_expiry_is_recognised_in_the_exchange_s_own_terms(exchange, raw, term):
    order = parsed(exchange, raw)
    assert order["filled"] == 0
    assert rules.self_trade_expiry_term(exchange, order["info"]) == term


def test_ccxt_s_unified_status_alone_cannot_tell_an_stp_expiry():
    # binance: both expiries become "expired"; Gate: `stp` passes through unmapped
    assert parsed("binance", binance_order("EXPIRED_IN_MATCH"))["status"] == \
        parsed("binance", binance_order("EXPIRED"))["status"] == "expired"
    assert parsed("gate", gate_order("stp"))["status"] == "stp"
    assert parsed("okx", okx_order("canceled", "32"))["status"] == \
        parsed("okx", okx_order("canceled", "1"))["status"] == "canceled"


OTHER_CLOSES = [
    ("binance", binance_order("EXPIRED")),  # e.g. an IOC remainder
    ("binance", binance_order("CANCELED", stpReason="stp", selfTradePreventionMode="EXPIRE_BOTH")),
    ("binance", binance_order("FILLED", executedQty="0.00100000", cummulativeQuoteQty="50.00000000")),
    ("okx", okx_order("canceled", "1")),  # cancelled by the user
    ("okx", okx_order("canceled", "31")),  # post-only order that would take liquidity
    ("okx", okx_order("canceled", "33")),  # too many matches per taker order
    ("okx", okx_order("filled", "", accFillSz="0.001", fillSz="0.001", avgPx="50000")),
    ("bybit", bybit_order("Cancelled", "CancelByUser")),
    ("bybit", bybit_order("Filled", "UNKNOWN", cumExecQty="0.001", cumExecValue="50", leavesQty="0")),
    ("gate", gate_order("cancelled")),  # carries stp_act and stp_id: no loose match on them
    ("gate", gate_order("ioc")),
    ("gate", gate_order("filled", left="0", filled_total="50")),
]


@pytest.mark.parametrize("exchange, raw", OTHER_CLOSES,
                         ids=[f"{exchange}-{index}" for index, (exchange, _) in enumerate(OTHER_CLOSES)])
def test_other_closes_are_not_stp_expiries(exchange, raw):
    assert rules.self_trade_expiry_term(exchange, parsed(exchange, raw)["info"]) is None


def test_an_exchange_s_mark_means_nothing_on_another_exchange_and_missing_records_are_not_expiries():
    okx_stp = parsed("okx", okx_order("canceled", "32"))["info"]
    assert rules.self_trade_expiry_term("bybit", okx_stp) is None
    assert rules.self_trade_expiry_term("kucoin", {"status": "stp", "cancelReason": "SELF_TRADE"}) is None
    assert rules.self_trade_expiry_term("binance", None) is None
    assert rules.self_trade_expiry_term("binance", {"status": "expired_in_match_stp"}) is None
    assert rules.self_trade_expiry_term("gateio", {"finish_as": "stp"}) == "finish_as=stp"


@pytest.mark.parametrize("exchange, params", [
    ("binance", {"selfTradePrevention": "EXPIRE_BOTH"}),
    ("okx", {"stpMode": "cancel_both"}),
    ("bybit", {"smpType": "CancelBoth"}),
    ("kucoin", {"stp": "CB"}),
    ("gateio", {}),
    ("gate", {}),
    ("bitget", {}),
    ("htx", {}),
    ("coinbase", {}),
    ("kraken", {}),
])
def test_each_exchange_gets_exactly_its_parameter(exchange, params):
    assert rules.order_params(exchange, resting=False) == params
    assert rules.order_params(exchange.upper(), resting=True) == {**params, "postOnly": True}


def test_gate_gets_stp_act_only_when_the_account_joined_an_stp_group():
    for name in ("gate", "gateio"):
        assert "stp_act" not in rules.order_params(name, resting=False)
        assert rules.order_params(name, resting=False, stp_group=True) == {"stp_act": "cb"}
        assert rules.has_self_trade_prevention(name, stp_group=True) and not rules.has_self_trade_prevention(name)
    # the setting changes nothing elsewhere
    assert rules.order_params("binance", resting=False, stp_group=True) == {"selfTradePrevention": "EXPIRE_BOTH"}
    assert rules.order_params("kraken", resting=False, stp_group=True) == {}


def _with_market(exchange, market_id: str, info: dict):
    exchange.markets = {"BTC/USDT": exchange.safe_market_structure({
        "id": market_id, "symbol": "BTC/USDT", "base": "BTC", "quote": "USDT", "baseId": "BTC", "quoteId": "USDT",
        "type": "spot", "spot": True, "precision": {"amount": 0.00001, "price": 0.01}, "limits": {}, "info": info})}
    exchange.markets_by_id = {market_id: [exchange.markets["BTC/USDT"]]}
    return exchange


@pytest.mark.parametrize("exchange, market_id, info, field, value", [
    ("binance", "BTCUSDT", {"orderTypes": ["LIMIT", "MARKET", "LIMIT_MAKER"]}, "selfTradePreventionMode",
     "EXPIRE_BOTH"),
    ("okx", "BTC-USDT", {}, "stpMode", "cancel_both"),
    ("bybit", "BTCUSDT", {}, "smpType", "CancelBoth"),
    ("kucoin", "BTC-USDT", {}, "stp", "CB"),
])
def test_ccxt_sends_each_parameter_into_the_exchange_s_request(exchange, market_id, info, field, value):
    """ccxt's own request builders (no network): binance maps the unified parameter to its spot field, the
    others pass the exchange's field through."""
    client = _with_market(getattr(ccxt, exchange)(), market_id, info)
    request = client.create_order_request("BTC/USDT", "limit", "buy", 0.001, 50000,
                                          rules.order_params(exchange, resting=False))
    assert request[field] == value
    assert "selfTradePrevention" not in request


def test_ccxt_sends_gate_s_stp_act_into_the_request_with_the_setting_on():
    client = _with_market(ccxt.gate(), "BTC_USDT", {})
    request = client.create_order_request("BTC/USDT", "limit", "buy", 0.001, 50000,
                                          rules.order_params("gate", resting=False, stp_group=True))
    assert request["stp_act"] == "cb"
    request = client.create_order_request("BTC/USDT", "limit", "buy", 0.001, 50000,
                                          rules.order_params("gate", resting=False))
    assert "stp_act" not in request
