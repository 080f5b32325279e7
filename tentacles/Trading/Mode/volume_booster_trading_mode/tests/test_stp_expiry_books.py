"""An order the exchange closed without a fill, live: the gateway asks the exchange's record of it through OctoBot's
exchange connection (answered here with the order as ccxt parses the exchange's documented response), and the books
count it as a self-trade expiry only on the exchange's own mark, logged once in the exchange's words.

OctoBot's backtesting engine cannot show this: its simulator has no self-trade prevention, and a simulated trader
has no exchange record to ask, so the exchange connection is the one thing stood in for here."""
import asyncio
import types

import ccxt
import octobot_trading.enums as trading_enums

from tentacles.Trading.Mode.volume_booster_trading_mode import books as vb_books
from tentacles.Trading.Mode.volume_booster_trading_mode import gateway as vb_gateway
from tentacles.Trading.Mode.volume_booster_trading_mode import ledger as vb_ledger
from tentacles.Trading.Mode.volume_booster_trading_mode import settings as vb_settings
from tentacles.Trading.Mode.volume_booster_trading_mode.tests import test_exchange_rules as shapes


class Lines:
    def __init__(self):
        self.warnings, self.other = [], []

    def warning(self, message):
        self.warnings.append(message)

    def info(self, message):
        self.other.append(message)

    debug = error = info


class Exchange:
    """OctoBot's exchange connection, answering get_order with ccxt's parse of the exchange's raw order."""

    def __init__(self, exchange_id, raw_by_id):
        self.exchange_id, self.raw_by_id, self.asked = exchange_id, raw_by_id, []

    @staticmethod
    def get_exchange_current_time():
        return 1700000000.0

    async def get_order(self, exchange_order_id, symbol=None, **kwargs):
        self.asked.append(exchange_order_id)
        return getattr(ccxt, self.exchange_id)().parse_order(self.raw_by_id[exchange_order_id])


def closed_order(order_id, status, filled=False):
    return types.SimpleNamespace(
        order_id=order_id, exchange_order_id=order_id, status=status,
        order_type=trading_enums.TraderOrderType.BUY_LIMIT, filled_quantity=0,
        is_filled=lambda: filled, is_closed=lambda: status is trading_enums.OrderStatus.CLOSED,
        is_cancelled=lambda: status in (trading_enums.OrderStatus.CANCELED, trading_enums.OrderStatus.EXPIRED))


def books_on(exchange_id, raw_by_id, simulated=False):
    exchange = Exchange(exchange_id, raw_by_id)
    manager = types.SimpleNamespace(exchange_name=exchange_id, exchange=exchange, is_simulated=simulated,
                                    trader=types.SimpleNamespace(simulate=simulated))
    lines = Lines()
    gateway = vb_gateway.Gateway(types.SimpleNamespace(exchange_manager=manager, symbol="BTC/USDT"), lines)
    books = vb_books.Books(gateway, vb_ledger.Ledger(1000), lines, str,
                           vb_settings.parse_settings({}).markout_seconds)
    return books, lines, exchange


def refresh(books, orders):
    for order in orders:
        books.record_own(order.order_id, "buy", 1, 1, 0, open_order=order)
    asyncio.run(books.refresh())


CASES = {
    "binance": (shapes.binance_order("EXPIRED_IN_MATCH"), shapes.binance_order("EXPIRED"),
                trading_enums.OrderStatus.EXPIRED, "status=EXPIRED_IN_MATCH"),
    "okx": (shapes.okx_order("canceled", "32"), shapes.okx_order("canceled", "31"),
            trading_enums.OrderStatus.CANCELED, "cancelSource=32"),
    "bybit": (shapes.bybit_order("Cancelled", "CancelBySmp"), shapes.bybit_order("Cancelled", "CancelByUser"),
              trading_enums.OrderStatus.CANCELED, "cancelType=CancelBySmp"),
    "gate": (shapes.gate_order("stp"), shapes.gate_order("cancelled"), trading_enums.OrderStatus.CANCELED,
             "finish_as=stp"),
}


def test_each_exchange_s_stp_expiry_is_counted_and_logged_once_other_closes_are_not():
    for exchange_id, (stp_raw, other_raw, status, term) in CASES.items():
        books, lines, exchange = books_on(exchange_id, {"stp": stp_raw, "other": other_raw})
        refresh(books, [closed_order("stp", status), closed_order("other", status),
                        closed_order("filled", trading_enums.OrderStatus.FILLED, filled=True)])
        ledger = books.ledger
        assert (ledger.orders_expired_self_trade, ledger.orders_expired, ledger.orders_filled) == (1, 1, 1), \
            exchange_id
        stp_lines = [line for line in lines.warnings if "self-trade" in line]
        assert stp_lines == [f"Order stp was expired by {exchange_id} to prevent a self-trade ({term})"]
        # a filled order is never asked about; each closed one once
        assert sorted(exchange.asked) == ["other", "stp"]
        # seen again at the next refresh: not counted or said twice
        asyncio.run(books.refresh())
        assert ledger.orders_expired_self_trade == 1 and len(lines.warnings) == 2


def test_with_a_simulated_trader_the_exchange_is_not_asked_and_the_close_is_an_ordinary_expiry():
    books, lines, exchange = books_on("binance", {"stp": shapes.binance_order("EXPIRED_IN_MATCH")}, simulated=True)
    refresh(books, [closed_order("stp", trading_enums.OrderStatus.EXPIRED)])
    assert exchange.asked == []
    assert books.ledger.orders_expired == 1 and books.ledger.orders_expired_self_trade == 0
