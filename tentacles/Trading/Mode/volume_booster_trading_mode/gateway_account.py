"""The account's side of the gateway: the second and last module of the mode that talks to OctoBot (and to the ccxt
client OctoBot trades with), next to gateway.py, which owns it and offers what it reads to the rest of the mode.

It reads what is about the account rather than the market and its orders: the portfolio (the funds of the pair),
the account's fee level (fee rates and 30-day volume, asked through ccxt by account_volume.py), the fees charged on
its trades and the exchange's own record of an order it closed. What it returns is the mode's own vocabulary
(Decimal amounts, ledger fills, fee rates).
"""
import decimal
import typing

import octobot_commons.symbols as commons_symbols
import octobot_trading.constants as trading_constants
import octobot_trading.enums as trading_enums

from . import account_volume as vb_account_volume
from . import fee_check as vb_fee_check
from . import ledger as vb_ledger

ZERO = trading_constants.ZERO
_MAKER = trading_enums.ExchangeConstantsMarketPropertyColumns.MAKER.value
_FEE_COST = trading_enums.FeePropertyColumns.COST.value
_FEE_CURRENCY = trading_enums.FeePropertyColumns.CURRENCY.value


class Account:
    def __init__(self, exchange_manager, symbol: str, base: str, quote: str, logger):
        self.exchange_manager = exchange_manager
        self.symbol = symbol
        self.base, self.quote = base, quote
        self.logger = logger

    # ----- portfolio -----
    def starting_allocation(self) -> dict:
        """Each currency's starting total split between the traded pairs that use it, so two pairs never
        count on the same funds."""
        pairs = self.exchange_manager.exchange_config.traded_symbol_pairs or [self.symbol]
        allocation = {}
        for currency in (self.base, self.quote):
            users = sum(1 for pair in pairs if currency in commons_symbols.parse_symbol(pair).base_and_quote())
            allocation[currency] = self._holding(currency).total / max(users, 1)
        return allocation

    def available(self, currency: str) -> decimal.Decimal:
        return self._holding(currency).available

    def _holding(self, currency: str):
        return self.exchange_manager.exchange_personal_data.portfolio_manager.portfolio.get_currency_portfolio(
            currency)

    # ----- fee level -----
    def _simulation(self) -> typing.Optional[str]:
        """What stands in for the exchange's account (backtesting or paper trading); None trading for real."""
        if self.exchange_manager.is_backtesting:
            return "backtesting"
        return "paper trading" if self.exchange_manager.is_trader_simulated else None

    def _ccxt_client(self):
        """The ccxt client OctoBot trades with (None when there is none, as in a backtest)."""
        connector = getattr(self.exchange_manager.exchange, "connector", None)
        return getattr(connector, "client", None)

    async def volume(self, settings) -> vb_account_volume.AccountVolume:
        """The account's 30-day volume: from the exchange when trading for real, else (paper trading, backtests,
        an exchange that tells nothing) the `volume_30d` setting. A failed read is a warning, never a stop."""
        fallback = settings.volume_30d
        simulation = self._simulation()
        if simulation is not None:
            return vb_account_volume.AccountVolume(fallback, f"setting volume_30d, {simulation}", from_setting=True)
        client = self._ccxt_client()
        if client is None:
            return vb_account_volume.AccountVolume(fallback, "setting volume_30d, no exchange client",
                                                   from_setting=True)
        now_ms = int(self.exchange_manager.exchange.get_exchange_current_time() * 1000)
        try:
            return await vb_account_volume.account_volume(client, self.symbol, now_ms)
        except Exception as err:
            self.logger.warning(f"The account's 30-day volume could not be read from "
                                f"{self.exchange_manager.exchange_name} ({err.__class__.__name__}: {err}): using "
                                f"volume_30d {fallback}")
            return vb_account_volume.AccountVolume(fallback, "setting volume_30d, the exchange's answer failed",
                                                   from_setting=True)

    async def fee_rates(self) -> typing.Optional[vb_account_volume.FeeRates]:
        """The account's fee rates on this pair as the exchange states them (None in a simulation or on failure)."""
        client = self._ccxt_client()
        if self._simulation() is not None or client is None:
            return None
        try:
            return await vb_account_volume.fee_rates(client, self.symbol)
        except Exception as err:
            self.logger.warning(f"The account's fee rates could not be read from {self.exchange_manager.exchange_name}"
                                f" ({err.__class__.__name__}: {err}): using the market's fees")
            return None

    # ----- the exchange's records of the account's orders and trades -----
    async def closed_order_info(self, order) -> typing.Optional[dict]:
        """The exchange's raw record of an order it closed (ccxt's `info`), asked through OctoBot's exchange
        connection: OctoBot's order objects do not keep it. None with a simulated trader (no exchange record) or
        when the exchange cannot say."""
        if self.exchange_manager.is_simulated or self.exchange_manager.trader.simulate:
            return None
        try:
            raw = await self.exchange_manager.exchange.get_order(order.exchange_order_id, symbol=self.symbol)
        except Exception as err:  # any failure leaves the close an ordinary expiry
            self.logger.debug(f"Order {order.order_id} could not be fetched from the exchange ({err})")
            return None
        info = raw.get(trading_enums.ExchangeConstantsOrderColumns.INFO.value) if isinstance(raw, dict) else None
        return info if isinstance(info, dict) else None

    def fill(self, trade) -> vb_ledger.Fill:
        return fill_from_trade(trade, self.base, self.quote, self.logger)

    def charged_fee(self, trade) -> tuple:
        """(rate, currency) of the fee the exchange charged on `trade`; the rate is None when the fee is in a
        currency the mode cannot value."""
        cost, currency = trade_fee(trade)
        rate = vb_fee_check.fill_fee_rate(cost, currency, trade.executed_quantity, quote_value_of(trade),
                                          self.base, self.quote)
        return rate, currency


def quote_value_of(trade) -> decimal.Decimal:
    """What a trade traded, in quote."""
    return trade.total_cost if trade.total_cost else trade.executed_quantity * trade.executed_price


def trade_fee(trade) -> tuple:
    """(cost, currency) of the fee the exchange charged on `trade` (0 and None when it reports none)."""
    fee = trade.fee or {}
    return decimal.Decimal(str(fee.get(_FEE_COST) or 0)), fee.get(_FEE_CURRENCY)


def fill_from_trade(trade, base: str, quote: str, logger=None) -> vb_ledger.Fill:
    amount = trade.executed_quantity
    price = trade.executed_price
    quote_value = quote_value_of(trade)
    fee_quote = fee_in_base = fee_in_quote = ZERO
    if trade.fee:
        cost, currency = trade_fee(trade)
        if currency == quote:
            fee_quote = fee_in_quote = cost
        elif currency == base:
            fee_in_base = cost
            fee_quote = cost * price
        elif cost and logger is not None:
            logger.warning(f"Fee of {cost} {currency} on trade {trade.trade_id} is not in {base} or {quote}: not "
                           f"converted")
    return vb_ledger.Fill(
        trade_id=str(trade.trade_id),
        order_id=str(trade.origin_order_id),
        side=trade.side.value,
        amount=amount,
        price=price,
        quote_value=quote_value,
        fee_quote=fee_quote,
        timestamp=trade.executed_time,
        is_maker=trade.taker_or_maker == _MAKER,
        fee_in_base=fee_in_base,
        fee_in_quote=fee_in_quote,
    )
