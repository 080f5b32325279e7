"""The mode's gateway to OctoBot: market view, precision and minimums, order creation and cancellation, the
exchange's trades and open orders, the settings file and the state folder. With gateway_account.py (the account:
portfolio, fee level, fees charged, records of closed orders), which it owns and whose readings it offers as its
own, it is the only code of the mode that talks to OctoBot.

What it returns is the mode's own vocabulary (sides as strings, Decimal amounts, ledger fills, strategy views);
OctoBot's order objects pass through it opaque, as handles for cancelling.
"""
import decimal
import logging as std_logging
import os
import re
import typing

import octobot_commons.constants as commons_constants
import octobot_commons.number_util as number_util
import octobot_commons.symbols as commons_symbols
import octobot_tentacles_manager.configuration as tentacles_configuration
import octobot_trading.constants as trading_constants
import octobot_trading.enums as trading_enums
import octobot_trading.personal_data as trading_personal_data

from . import account_volume as vb_account_volume
from . import actions
from . import exchange_rules as vb_exchange_rules
from . import gateway_account as vb_gateway_account
from . import journal as vb_journal
from . import ledger as vb_ledger
from . import planner as vb_planner
from . import strategy

ORDER_TAG = "volume_booster"
ORDER_DATA_TIMEOUT = 30
ZERO = trading_constants.ZERO
_ORDER_TYPES = {
    (actions.BUY, False): trading_enums.TraderOrderType.BUY_MARKET,
    (actions.SELL, False): trading_enums.TraderOrderType.SELL_MARKET,
    (actions.BUY, True): trading_enums.TraderOrderType.BUY_LIMIT,
    (actions.SELL, True): trading_enums.TraderOrderType.SELL_LIMIT,
}
_PRECISION = trading_enums.ExchangeConstantsMarketStatusColumns.PRECISION.value
_PRECISION_KEYS = (trading_enums.ExchangeConstantsMarketStatusColumns.PRECISION_AMOUNT.value,
                   trading_enums.ExchangeConstantsMarketStatusColumns.PRECISION_PRICE.value)
_ORDER_LOGGER_ID = re.compile(r"\| (\S+) \[exchange id")
_MAKER = trading_enums.ExchangeConstantsMarketPropertyColumns.MAKER.value
_TAKER = trading_enums.ExchangeConstantsMarketPropertyColumns.TAKER.value


class MarketView(typing.NamedTuple):
    snapshot: vb_planner.MarketSnapshot
    # the market status OctoBot's rounding helpers read (precision as decimals)
    symbol_market: dict


class Gateway:
    def __init__(self, trading_mode, logger):
        self.trading_mode = trading_mode
        self.exchange_manager = trading_mode.exchange_manager
        self.symbol = trading_mode.symbol
        self.base, self.quote = commons_symbols.parse_symbol(self.symbol).base_and_quote()
        self.logger = logger
        self._last_scanned_trade_id = None
        # (modification time, size) of the profile's settings file when last read
        self._settings_file_stamp = None
        # the account joined the exchange's self-trade prevention group (setting gate_stp_group)
        self.stp_group = False
        self.account = vb_gateway_account.Account(self.exchange_manager, self.symbol, self.base, self.quote, logger)

    # ----- time and place -----
    @property
    def exchange_name(self) -> str:
        return self.exchange_manager.exchange_name

    @property
    def is_backtesting(self) -> bool:
        return self.exchange_manager.is_backtesting

    def now(self) -> float:
        return self.exchange_manager.exchange.get_exchange_current_time()

    def time_source(self):
        """The exchange's own clock function (simulated time in a backtest), for the loop's clock to call
        directly at every step."""
        return self.exchange_manager.exchange.get_exchange_current_time

    def engine_time_step(self) -> typing.Optional[float]:
        """Seconds between two time steps of the backtesting engine (its finest time frame); None live."""
        backtesting = self.exchange_manager.backtesting if self.is_backtesting else None
        time_manager = getattr(backtesting, "time_manager", None)
        return float(time_manager.time_interval) if time_manager is not None else None

    def state_path(self, folder: typing.Optional[str]) -> typing.Optional[str]:
        """The state file of this pair: in `folder`, else OctoBot's user folder live; none in a backtest."""
        if folder is None:
            if self.is_backtesting:
                return None
            folder = os.path.join(commons_constants.USER_FOLDER, "data", "VolumeBooster")
        return os.path.join(folder, vb_journal.state_file_name(self.exchange_manager.exchange_name, self.symbol))

    # ----- settings -----
    async def follow_settings_file(self) -> None:
        """Live, a change of the profile's settings file (saved by OctoBot's settings page, or edited by hand) is
        read through OctoBot's own configuration reload (what its settings page triggers): the running mode
        follows it without a restart."""
        if self.is_backtesting:
            return
        try:
            path = tentacles_configuration.get_profile_config_specific_file_path(
                self.exchange_manager.tentacles_setup_config, self.trading_mode.__class__)
            status = os.stat(path)
        except (OSError, AttributeError, TypeError):
            return
        stamp, self._settings_file_stamp = self._settings_file_stamp, (status.st_mtime_ns, status.st_size)
        if stamp is None or stamp == self._settings_file_stamp:
            return
        try:
            await self.trading_mode.reload_config(self.exchange_manager.bot_id)
        except Exception as err:
            self.logger.error(f"Settings file {path} could not be read ({err.__class__.__name__}: {err}): the "
                              f"current settings stay")
            return
        self.logger.info(f"Settings file {path} changed: settings reloaded")

    # ----- the account (gateway_account.py) -----
    def starting_allocation(self) -> dict:
        return self.account.starting_allocation()

    def available(self, currency: str) -> decimal.Decimal:
        return self.account.available(currency)

    async def account_volume(self, settings) -> vb_account_volume.AccountVolume:
        return await self.account.volume(settings)

    async def account_fee_rates(self) -> typing.Optional[vb_account_volume.FeeRates]:
        return await self.account.fee_rates()

    def fill(self, trade) -> vb_ledger.Fill:
        return self.account.fill(trade)

    def charged_fee(self, trade) -> tuple:
        return self.account.charged_fee(trade)

    # ----- market -----
    async def market_view(self, settings, ledger, allocation: dict, open_orders: list,
                          stale_after: float) -> typing.Union[MarketView, str]:
        """What the strategy sees of the market and of the funds this pair may use; a reason when nothing can
        be priced."""
        _, _, _, price, symbol_market = await trading_personal_data.get_pre_order_data(
            self.exchange_manager, self.symbol, timeout=ORDER_DATA_TIMEOUT
        )
        # OctoBot's rounding helpers (used on every price and quantity) read decimals, whatever the connector says
        symbol_market = with_decimal_precision(symbol_market)
        if not price:
            return "no market price yet"
        age = self.market_data_age()
        if age is not None and age > stale_after:
            return (f"waiting for market data: no price or order book update for {age:.0f} s (exchange unreachable "
                    f"or silent)")
        holdings_base = allocation[self.base] + ledger.base_delta
        holdings_quote = allocation[self.quote] + ledger.quote_delta
        # base still to fill in the open sells (locked) and buys, and the quote the buys lock
        locked_base = pending_buy_base = locked_quote = ZERO
        for order in open_orders:
            remaining = order.origin_quantity - order.filled_quantity
            if order.side is trading_enums.TradeOrderSide.SELL:
                locked_base += remaining
            else:
                pending_buy_base += remaining
                locked_quote += remaining * order.origin_price
        reserve = settings.reserve_percent / 100
        usable_base = min(self.available(self.base),
                          holdings_base - locked_base - allocation[self.base] * reserve)
        usable_quote = min(self.available(self.quote),
                           holdings_quote - locked_quote - allocation[self.quote] * reserve)
        best_bid, best_ask = self.book_top()
        snapshot = vb_planner.MarketSnapshot(
            price=price,
            base_available=max(usable_base, ZERO),
            quote_available=max(usable_quote, ZERO),
            own_highest_buy=max((o.origin_price for o in open_orders
                                 if o.side is trading_enums.TradeOrderSide.BUY), default=None),
            own_lowest_sell=min((o.origin_price for o in open_orders
                                 if o.side is trading_enums.TradeOrderSide.SELL), default=None),
            fee_rate=self.fee_rate(maker=settings.always_rests),
            best_bid=best_bid,
            best_ask=best_ask,
            price_tick=price_tick(symbol_market),
            min_order_quote=minimal_order_quote(symbol_market, price),
            taker_fee_rate=self.fee_rate(maker=False),
            maker_fee_rate=self.fee_rate(maker=True),
            base_excess=ledger.base_delta,
            pending_buy_base=pending_buy_base,
            pending_sell_base=locked_base,
            pair_value=holdings_base * price + holdings_quote,
        )
        return MarketView(snapshot, symbol_market)

    def _symbol_data(self):
        return self.exchange_manager.exchange_symbols_data.get_exchange_symbol_data(self.symbol,
                                                                                    allow_creation=False)

    def last_price(self) -> typing.Optional[decimal.Decimal]:
        try:
            return self._symbol_data().prices_manager.mark_price
        except (KeyError, AttributeError):
            return None

    def market_data_age(self) -> typing.Optional[float]:
        """Live: seconds since the latest price or order book update; None in a backtest."""
        if self.is_backtesting:
            return None
        try:
            updated = self._symbol_data().prices_manager.mark_price_set_time
        except (KeyError, AttributeError):
            updated = 0
        book_times = [producer.order_book_time for producer in self.trading_mode.producers or []
                      if getattr(producer, "order_book_time", None) is not None]
        return self.now() - max([updated or 0, *book_times])

    def book_top(self) -> tuple:
        try:
            book = self._symbol_data().order_book_manager
            if not book.order_book_initialized or not book.bids or not book.asks:
                return None, None
            return decimal.Decimal(str(book.get_bid()[0])), decimal.Decimal(str(book.get_ask()[0]))
        except (KeyError, AttributeError, IndexError, TypeError):
            return None, None

    def fee_rate(self, maker: bool) -> decimal.Decimal:
        try:
            return decimal.Decimal(str(self.exchange_manager.exchange.get_fees(self.symbol)[_MAKER if maker
                                                                                            else _TAKER]))
        except (KeyError, NotImplementedError, TypeError):
            return ZERO

    # ----- orders -----
    def order_size(self, place: actions.Place, symbol_market: dict) -> typing.Optional[tuple]:
        """(quantity, price) of `place` as the exchange takes it: at least its minimum, a buy leaving room for
        its fee, rounded to the market's precision; None when that leaves nothing the exchange accepts."""
        quantity = place.quantity
        floor = minimal_order_quote(symbol_market, place.price) / place.price
        if quantity < floor:
            quantity = floor * vb_planner.EXCHANGE_MINIMUM_MARGIN
        if place.side == actions.BUY:
            quantity = trading_personal_data.decimal_adapt_order_quantity_because_fees(
                self.exchange_manager, self.symbol, _ORDER_TYPES[(place.side, place.resting)], quantity,
                place.price, trading_enums.TradeOrderSide.BUY
            )
        details = trading_personal_data.decimal_check_and_adapt_order_details_if_necessary(
            quantity, place.price, symbol_market
        )
        return tuple(details[0]) if details else None

    def flattening_size(self, excess: decimal.Decimal, price: decimal.Decimal,
                        symbol_market: dict) -> typing.Optional[tuple]:
        """(side, quantity, price) of the market order bringing `excess` base back to zero within the funds."""
        side = actions.SELL if excess > 0 else actions.BUY
        quantity = abs(excess)
        if side == actions.SELL:
            quantity = min(quantity, self.available(self.base))
        else:
            # a buy's fee is usually taken from the bought base: buy that much more
            taker = self.fee_rate(maker=False)
            quantity = min(quantity / (1 - taker), self.available(self.quote) / price / (1 + taker))
        details = trading_personal_data.decimal_check_and_adapt_order_details_if_necessary(
            quantity, price, symbol_market
        )
        return (side, *details[0]) if details else None

    async def create(self, side: str, resting: bool, quantity: decimal.Decimal, price: decimal.Decimal,
                     current_price: decimal.Decimal, post_only: bool):
        """Create one order of this mode, tagged as its own, with the exchange's self-trade-prevention (and, when
        post-only, post-only) parameters. Raises what OctoBot raises."""
        order = trading_personal_data.create_order_instance(
            trader=self.exchange_manager.trader,
            order_type=_ORDER_TYPES[(side, resting)],
            symbol=self.symbol,
            current_price=current_price,
            quantity=quantity,
            price=price,
            tag=ORDER_TAG,
        )
        params = vb_exchange_rules.order_params(self.exchange_manager.exchange_name, resting=post_only,
                                                stp_group=self.stp_group)
        return await self.trading_mode.create_order(order, params=params or None)

    async def cancel(self, order) -> bool:
        result = await self.trading_mode.cancel_order(order)
        return bool(result[0] if isinstance(result, tuple) else result)

    def open_orders(self) -> list:
        """Every open order of the pair on the exchange (the mode's and others')."""
        return self.exchange_manager.exchange_personal_data.orders_manager.get_open_orders(symbol=self.symbol)

    async def self_trade_expiry_term(self, order) -> typing.Optional[str]:
        """The exchange's own words when it expired `order` (closed without its fill) to prevent a self-trade."""
        return vb_exchange_rules.self_trade_expiry_term(self.exchange_manager.exchange_name,
                                                        await self.account.closed_order_info(order))

    # ----- trades -----
    def new_trades(self) -> list:
        """The exchange's trades of the pair recorded since the previous call, oldest first."""
        trades = self.exchange_manager.exchange_personal_data.trades_manager.trades
        new_trades = []
        for trade_id, trade in reversed(trades.items()):
            if trade_id == self._last_scanned_trade_id:
                break
            new_trades.append(trade)
        if new_trades:
            self._last_scanned_trade_id = next(reversed(trades.keys()))
        return [trade for trade in reversed(new_trades) if trade.symbol == self.symbol]

    def has_trades(self, order_id: str) -> bool:
        return any(trade.executed_quantity > 0 for trade in
                   self.exchange_manager.exchange_personal_data.trades_manager.get_trades(origin_order_id=order_id))

    def recorded_trades(self) -> list:
        """Every trade the exchange's record holds (every pair)."""
        return list(self.exchange_manager.exchange_personal_data.trades_manager.trades.values())

    # ----- housekeeping -----
    @staticmethod
    def purge_order_loggers(order_ids) -> None:
        """OctoBot names a logger after each order and each of its states; Python's logging keeps them for ever.
        Dropping those of the mode's closed orders keeps memory flat over runs of many thousand orders. Some are
        only created after the order closed (when the engine processes its fill), hence a purge at every step
        over the recently closed orders."""
        if not order_ids:
            return
        registry = std_logging.Logger.manager.loggerDict
        for name in list(registry):
            match = _ORDER_LOGGER_ID.search(name) if "exchange id" in name else None
            if match is not None and match.group(1) in order_ids:
                del registry[name]


# ----- order views -----
def side_of(order) -> str:
    return order.side.value


def is_resting(order) -> bool:
    """A limit order (it may rest on the book), not a market order."""
    return order.order_type in (trading_enums.TraderOrderType.BUY_LIMIT, trading_enums.TraderOrderType.SELL_LIMIT)


def own_order_view(order) -> strategy.OwnOrder:
    return strategy.OwnOrder(order.order_id, side_of(order), order.origin_price,
                             order.origin_quantity - order.filled_quantity, order.creation_time)


def closed_how(order) -> typing.Optional[str]:
    """How an open order of the mode closed on the exchange: filled or expired (the exchange closed it without its
    fill; see `Gateway.self_trade_expiry_term` for why); None while open (own cancels are accounted where they are
    made)."""
    if order.is_filled():
        return "filled"
    if order.is_closed() or order.is_cancelled():
        return "expired"
    return None


# ----- market status -----
def minimal_order_quote(symbol_market, price) -> decimal.Decimal:
    minimal_cost = decimal.Decimal(str(trading_personal_data.get_minimal_order_cost(symbol_market, price) or 0))
    return max(minimal_cost, trading_personal_data.get_minimal_order_amount(symbol_market) * price)


def with_decimal_precision(symbol_market):
    """The market status with its amount and price precision as numbers of decimals, the form OctoBot's rounding
    helpers read. A connector that keeps ccxt's tick sizes (e.g. 0.01, ccxt's default for binance) reports them
    as such: they are converted as OctoBot converts them itself; whole numbers are already decimals."""
    precision = symbol_market.get(_PRECISION) if isinstance(symbol_market, dict) else None
    if not isinstance(precision, dict):
        return symbol_market
    converted = {key: _precision_decimals(precision[key]) for key in _PRECISION_KEYS if key in precision}
    if all(converted[key] == precision[key] for key in converted):
        return symbol_market
    return {**symbol_market, _PRECISION: {**precision, **converted}}


def _precision_decimals(value):
    try:
        number = decimal.Decimal(str(value))
    except (decimal.InvalidOperation, TypeError, ValueError):
        return value
    if number.is_nan() or number <= 0 or number == number.to_integral_value():
        return value
    return number_util.get_digits_count(float(number))


def price_tick(symbol_market) -> decimal.Decimal:
    """Smallest price step of the market, from its price precision in either form (decimals or tick size)."""
    try:
        digits = _precision_decimals(symbol_market[_PRECISION][_PRECISION_KEYS[1]])
        return decimal.Decimal(1).scaleb(-int(digits)) if digits is not None else ZERO
    except (KeyError, TypeError, ValueError):
        return ZERO
