"""Exchange-side protections carried by the mode's orders: self-trade prevention and post-only, and how each
exchange says it expired an order to prevent a self-trade.

Self-trade prevention (STP) makes the exchange itself refuse to match two orders of the same account: a second
guard behind the mode's own rule of never crossing its resting orders. Each parameter is sent as the exchange
expects it through ccxt (checked in ccxt's create-order code: ccxt's unified parameter where ccxt maps it, else the
exchange's own field, which ccxt passes through), and only to exchanges that accept it on spot orders.
Pure data and functions, no OctoBot import.
"""
import typing

# exchange (ccxt id) -> order parameters asking the exchange to cancel both sides of a self-match
SELF_TRADE_PREVENTION_PARAMS = {
    # ccxt's unified parameter: ccxt's binance sends it as the spot order field `selfTradePreventionMode`
    "binance": {"selfTradePrevention": "EXPIRE_BOTH"},
    # OKX order field `stpMode`
    "okx": {"stpMode": "cancel_both"},
    # Bybit v5 order field `smpType`
    "bybit": {"smpType": "CancelBoth"},
    # KuCoin order field `stp`
    "kucoin": {"stp": "CB"},
}

# parameters an exchange accepts only from an account that joined its STP group (it rejects the order
# otherwise): sent only when the setting says the account did
STP_GROUP_PARAMS = {
    # Gate order field `stp_act`
    "gate": {"stp_act": "cb"},
    "gateio": {"stp_act": "cb"},
}

# exchange -> (field of the exchange's raw order, value meaning "expired to prevent a self-trade"), as each
# exchange's API documentation names them
SELF_TRADE_EXPIRY_FIELDS = {
    "binance": ("status", "EXPIRED_IN_MATCH"),
    "okx": ("cancelSource", "32"),
    "bybit": ("cancelType", "CancelBySmp"),
    # ccxt passes Gate's `finish_as` through as the order status without mapping `stp`
    "gate": ("finish_as", "stp"),
    "gateio": ("finish_as", "stp"),
}


def self_trade_prevention_params(exchange_name: str, stp_group: bool = False) -> dict:
    """The STP parameters of one order on `exchange_name`; `stp_group`: the account joined the exchange's STP
    group (needed where the exchange accepts the parameter only then)."""
    name = exchange_name.lower()
    if name in SELF_TRADE_PREVENTION_PARAMS:
        return dict(SELF_TRADE_PREVENTION_PARAMS[name])
    if stp_group and name in STP_GROUP_PARAMS:
        return dict(STP_GROUP_PARAMS[name])
    return {}


def order_params(exchange_name: str, resting: bool, stp_group: bool = False) -> dict:
    """Parameters for one order: STP where the exchange takes it, post-only for resting maker orders
    (ccxt's unified `postOnly`; an exchange that would take liquidity rejects the order instead)."""
    params = self_trade_prevention_params(exchange_name, stp_group)
    if resting:
        params["postOnly"] = True
    return params


def has_self_trade_prevention(exchange_name: str, stp_group: bool = False) -> bool:
    return bool(self_trade_prevention_params(exchange_name, stp_group))


def self_trade_expiry_term(exchange_name: str, info: typing.Optional[dict]) -> typing.Optional[str]:
    """The exchange's own words (`field=value`) when its raw order record says it expired the order to prevent
    a self-trade; None otherwise, or when the exchange has no such mark."""
    marker = SELF_TRADE_EXPIRY_FIELDS.get(exchange_name.lower())
    if marker is None or not isinstance(info, dict):
        return None
    field, value = marker
    found = info.get(field)
    return f"{field}={value}" if found is not None and str(found) == value else None
