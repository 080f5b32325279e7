"""Exchange-side protections carried by the mode's orders: self-trade prevention and post-only.

Self-trade prevention (STP) makes the exchange itself refuse to match two orders of the same account:
a second guard behind the mode's own rule of never crossing its resting orders. The parameter names
are the ones ccxt passes to each exchange (ccxt's unified `selfTradePrevention` where ccxt maps it,
the exchange's own field elsewhere). Pure data and functions, no OctoBot import.
"""
import typing

# exchange (ccxt id) -> order parameters asking the exchange to expire both sides of a self-match
SELF_TRADE_PREVENTION_PARAMS = {
    "binance": {"selfTradePrevention": "EXPIRE_BOTH"},
    "binanceus": {"selfTradePrevention": "EXPIRE_BOTH"},
    "backpack": {"selfTradePrevention": "EXPIRE_BOTH"},
    "oxfun": {"selfTradePrevention": "EXPIRE_BOTH"},
    "okx": {"stpMode": "cancel_both"},
    "bitget": {"stpMode": "cancel_both"},
    "bybit": {"smpType": "CancelBoth"},
    "kucoin": {"stp": "CB"},
    "gateio": {"stp_act": "cb"},
    "gate": {"stp_act": "cb"},
    "htx": {"self_match_prevent": 1},
}

# order statuses an exchange uses for an order it expired instead of matching it against ourselves
SELF_TRADE_EXPIRY_MARKERS = ("self_trade", "selftrade", "expired_in_match", "stp", "smp")


def order_params(exchange_name: str, resting: bool) -> dict:
    """Parameters for one order: STP where the exchange has it, post-only for resting maker orders
    (ccxt's unified `postOnly`; an exchange that would take liquidity rejects the order instead)."""
    params = dict(SELF_TRADE_PREVENTION_PARAMS.get(exchange_name.lower(), {}))
    if resting:
        params["postOnly"] = True
    return params


def has_self_trade_prevention(exchange_name: str) -> bool:
    return exchange_name.lower() in SELF_TRADE_PREVENTION_PARAMS


def is_self_trade_expiry(status: typing.Optional[str], info: typing.Optional[dict] = None) -> bool:
    """True when an exchange's order status or raw info says it expired the order to avoid a self-match."""
    texts = [str(status or "")]
    if info:
        texts.extend(str(value) for key, value in info.items()
                     if "status" in str(key).lower() or "reason" in str(key).lower() or "stp" in str(key).lower())
    lowered = " ".join(texts).lower()
    return any(marker in lowered for marker in SELF_TRADE_EXPIRY_MARKERS)
