"""Volume Booster trading mode: OctoBot glue only.

- VolumeBoosterTradingMode declares the settings as OctoBot user inputs (from settings.SPECS).
- VolumeBoosterProducer starts the consumer's loop directly (no evaluator signal) and relays the
  exchange's time steps to the loop's clock.
- VolumeBoosterConsumer owns the randomized buy/sell loop and every exchange call.

Decisions live in the pure modules: settings (validation), planner (next order), ledger (fills),
clock (live vs. simulated time).
"""
import asyncio
import collections
import decimal
import inspect
import logging as std_logging
import os
import re
import typing
import random
import zlib

import octobot_commons.channels_name as channels_name
import octobot_commons.configuration as commons_configuration
import octobot_commons.constants as commons_constants
import octobot_commons.enums as commons_enums
import octobot_commons.logging as logging
import octobot_commons.number_util as number_util
import octobot_commons.symbols as commons_symbols
import octobot_trading.constants as trading_constants
import octobot_trading.enums as trading_enums
import octobot_trading.errors as trading_errors
import octobot_trading.exchange_channel as exchange_channel
import octobot_trading.modes as trading_modes
import octobot_trading.personal_data as trading_personal_data
import octobot_tentacles_manager.configuration as tentacles_configuration

from . import clock as vb_clock
from . import display as vb_display
from . import exchange_rules as vb_exchange_rules
from . import faults as vb_faults
from . import journal as vb_journal
from . import ledger as vb_ledger
from . import planner as vb_planner
from . import recovery as vb_recovery
from . import settings as vb_settings
from . import waiting as vb_waiting

ORDER_TAG = "volume_booster"
# how long a stop waits for the step in progress (an order being created) before cancelling it
STOP_STEP_TIMEOUT = 30
# after an order request failed in a way the exchange may still have executed it, how long the mode
# looks for that order before placing another one
AMBIGUOUS_CREATE_WAIT_SECONDS = 60
# own order ids kept in the state file beyond the open ones
OWN_IDS_KEPT = 20000
# closed own orders whose OctoBot loggers are looked for at each step
CLOSED_IDS_PURGED = 200
ORDER_DATA_TIMEOUT = 30
# live, how long a `maker` mode waits at start for the first order book before resting at its offset instead
ORDER_BOOK_WAIT_SECONDS = 20
ORDER_BOOK_POLL_SECONDS = 0.2
# a stalled loop (e.g. a suspended host) does not try to catch up more than this much schedule
MAX_SCHEDULE_LAG_SECONDS = 3600
# live, no order is priced from market data older than this (prices and order book both stale: the exchange is
# unreachable or silent); OctoBot polls trades about every 5 s
STALE_MARKET_SECONDS = 15

_UI_TYPES = {
    vb_settings.BOOLEAN: commons_enums.UserInputTypes.BOOLEAN,
    vb_settings.INT: commons_enums.UserInputTypes.INT,
    vb_settings.FLOAT: commons_enums.UserInputTypes.FLOAT,
    vb_settings.DECIMAL: commons_enums.UserInputTypes.FLOAT,
    vb_settings.OPTIONS: commons_enums.UserInputTypes.OPTIONS,
}
_ORDER_TYPES = {
    (vb_planner.BUY, False): trading_enums.TraderOrderType.BUY_MARKET,
    (vb_planner.SELL, False): trading_enums.TraderOrderType.SELL_MARKET,
    (vb_planner.BUY, True): trading_enums.TraderOrderType.BUY_LIMIT,
    (vb_planner.SELL, True): trading_enums.TraderOrderType.SELL_LIMIT,
}


class VolumeBoosterTradingMode(trading_modes.AbstractTradingMode):
    # folder of the state files that let the mode resume after a restart; None: OctoBot's user folder when
    # trading live, no state file in backtests
    STATE_FOLDER = None
    def __init__(self, config, exchange_manager):
        super().__init__(config, exchange_manager)
        self.raw_settings = vb_settings.default_values()

    def init_user_inputs(self, inputs: dict) -> None:
        """Declare every setting, grouped and ordered as settings.SPECS lists them. A config written flat
        (profile files, command-line overrides) is regrouped first, so both layouts work."""
        config = self.trading_config if self.trading_config is not None else {}
        flat = vb_settings.flatten(config)
        for spec in vb_settings.SPECS:
            config.pop(spec.name, None)
        for position, group in enumerate(vb_settings.GROUPS):
            key = vb_settings.GROUP_KEYS[group]
            if not isinstance(config.get(key), dict):
                config[key] = {}
            self.UI.user_input(key, commons_enums.UserInputTypes.OBJECT, config[key], inputs, title=group,
                               **_order_kwarg(position * 100))
        values = {}
        for position, spec in enumerate(vb_settings.SPECS):
            editor_options = None
            if spec.shown_when is not None:
                other, shown_values = spec.shown_when
                editor_options = {
                    commons_enums.UserInputOtherSchemaValuesTypes.DEPENDENCIES.value: {other: list(shown_values)}
                }
            values[spec.name] = self.UI.user_input(
                spec.name, _UI_TYPES[spec.kind], spec.default, inputs,
                value=flat.get(spec.name),
                min_val=spec.min_val, max_val=spec.max_val,
                options=list(spec.options) or None,
                title=spec.title,
                editor_options=editor_options,
                parent_input_name=vb_settings.GROUP_KEYS[spec.group],
                **_order_kwarg(vb_settings.GROUPS.index(spec.group) * 100 + position + 1),
            )
        self.raw_settings = values

    def get_current_state(self) -> tuple:
        consumers = self.get_trading_mode_consumers() if self.consumers else []
        if consumers and consumers[0].ledger is not None:
            return consumers[0].status_text(), float(consumers[0].ledger.progress_percent)
        return "waiting to start", 0

    @classmethod
    def get_is_symbol_wildcard(cls) -> bool:
        return False

    @staticmethod
    def is_backtestable() -> bool:
        return True

    @classmethod
    def get_supported_exchange_types(cls) -> list:
        return [trading_enums.ExchangeTypes.SPOT]

    def get_mode_producer_classes(self) -> list:
        return [VolumeBoosterProducer]

    def get_mode_consumer_classes(self) -> list:
        return [VolumeBoosterConsumer]

    def get_booster(self):
        """This pair's consumer (the loop), or None before creation."""
        consumers = self.get_trading_mode_consumers()
        return consumers[0] if consumers else None


def _order_kwarg(position: int) -> dict:
    """`order` places inputs on the settings page (OctoBot versions without it keep declaration order)."""
    if "order" in inspect.signature(commons_configuration.UserInputFactory.user_input).parameters:
        return {"order": position}
    return {}


class VolumeBoosterProducer(trading_modes.AbstractTradingModeProducer):
    def __init__(self, channel, config, trading_mode, exchange_manager):
        super().__init__(channel, config, trading_mode, exchange_manager)
        self.order_book_consumer = None
        # exchange time of the latest order book update (live)
        self.order_book_time = None

    def get_channels_registration(self):
        # candles are the exchange's heartbeat: live and in backtests they bring the time forward
        return [channels_name.OctoBotTradingChannelsName.OHLCV_CHANNEL.value]

    async def start(self) -> None:
        await super().start()
        await self._consume_order_book()
        booster = self.trading_mode.get_booster()
        if booster is None:
            self.logger.error("Volume Booster consumer is missing: nothing to start")
            return
        try:
            await booster.start_loop()
        except Exception as err:
            # this start runs in a task nobody awaits: unless said here, the mode would silently never trade
            self.logger.exception(err, True, f"Volume Booster could not start on {self.trading_mode.symbol}: "
                                             f"{err.__class__.__name__}: {err}. No order is placed.")

    async def _consume_order_book(self) -> None:
        """Live, OctoBot fetches an order book only while something consumes it: this consumer keeps the pair's
        book fresh, so that `maker` orders rest at its best bid and ask. Backtests have no book (`maker` then
        rests at `maker_offset_percent` from the price)."""
        if self.exchange_manager.is_backtesting or self.order_book_consumer is not None:
            return
        symbol = self.trading_mode.symbol
        self.order_book_consumer = await exchange_channel.get_chan(
            channels_name.OctoBotTradingChannelsName.ORDER_BOOK_CHANNEL.value, self.exchange_manager.id
        ).new_consumer(self.order_book_callback, priority_level=self.priority_level, symbol=symbol)
        if self.trading_mode.raw_settings.get("order_type") != vb_settings.MAKER:
            return
        # the first maker orders rest at the book's prices too: its first fetch is awaited (bounded)
        book = self.exchange_manager.get_symbol_data(symbol).order_book_manager
        for _ in range(int(ORDER_BOOK_WAIT_SECONDS / ORDER_BOOK_POLL_SECONDS)):
            if book.order_book_initialized or self.should_stop:
                return
            await asyncio.sleep(ORDER_BOOK_POLL_SECONDS)
        self.logger.warning(f"No order book of {symbol} after {ORDER_BOOK_WAIT_SECONDS} s: maker orders rest at "
                            f"maker_offset_percent from the price until one arrives")

    async def order_book_callback(self, exchange: str, exchange_id: str, cryptocurrency: str, symbol: str,
                                  asks, bids):
        """Orders read the book OctoBot keeps when they are priced: only its freshness is noted here."""
        self.order_book_time = self.exchange_manager.exchange.get_exchange_current_time()

    async def ohlcv_callback(self, exchange: str, exchange_id: str, cryptocurrency: str, symbol: str,
                             time_frame: str, candle: dict):
        booster = self.trading_mode.get_booster() if self.trading_mode is not None else None
        if booster is not None:
            await booster.on_time_update()

    async def stop(self) -> None:
        if self.trading_mode is not None:
            booster = self.trading_mode.get_booster()
            if booster is not None:
                await booster.stop_loop()
        if self.order_book_consumer is not None:
            consumer, self.order_book_consumer = self.order_book_consumer, None
            try:
                await exchange_channel.get_chan(channels_name.OctoBotTradingChannelsName.ORDER_BOOK_CHANNEL.value,
                                                self.exchange_manager.id).remove_consumer(consumer)
            except KeyError:
                pass  # the exchange's channels are already gone
        await super().stop()


class VolumeBoosterConsumer(trading_modes.AbstractTradingModeConsumer):
    def __init__(self, trading_mode):
        super().__init__(trading_mode)
        self.symbol = trading_mode.symbol
        self.logger = logging.get_logger(f"VolumeBooster[{self.symbol}]")
        self.base, self.quote = commons_symbols.parse_symbol(self.symbol).base_and_quote()
        self.settings = None
        self.settings_error = None
        self.ledger = None
        self.planner = None
        self.clock = None
        # why the mode does not trade now ("disabled", "target reached", "budget reached: ..."), None while it does
        self.finished_reason = None
        self.seed = None
        self.started_at = None
        # this pair's share of each balance at start (pairs sharing a currency split it)
        self.allocation = {}
        self.placed_volume = trading_constants.ZERO
        # failures by "call:kind", e.g. "create:network"
        self.failures = collections.Counter()
        self.journal = None
        self.restored = False
        self._done = False
        self._loop_task = None
        self._step_lock = asyncio.Lock()
        self._backoff = vb_faults.Backoff()
        self._ambiguous_attempt = None
        self._raw_settings_seen = None
        # (modification time, size) of the profile's settings file when last read
        self._settings_file_stamp = None
        self._own_order_ids = set()
        # the most recent own ids, in creation order (what the state file keeps)
        self._recent_own_ids = collections.deque(maxlen=OWN_IDS_KEPT)
        self._open_orders = {}
        # recently closed own orders whose OctoBot loggers are dropped at each step
        self._closed_order_ids = collections.deque(maxlen=CLOSED_IDS_PURGED)
        # after a restart: own orders that were open when the mode stopped (closed ones are accounted at start)
        self._open_at_stop = set()
        # from the state file's restoration until the orders of before the restart are settled
        self._restoration = None
        self._last_scanned_trade_id = None
        # why the latest step placed nothing (None once an order is placed), and what is logged about it
        self.waiting = vb_waiting.WaitingReasons()
        self._symbol_market = None
        self._minimums_checked = False

    # ----- loop life cycle -----
    async def start_loop(self) -> None:
        if self._loop_task is not None:
            return
        if not self._apply_settings(self.trading_mode.raw_settings):
            self.logger.error(f"Volume Booster is NOT trading on {self.symbol}: {self.settings_error}. Fix it on the "
                              f"mode's settings page: no order is placed until then.")
            # the loop still runs (placing nothing) so that fixed settings take effect without a restart;
            # the defaults only pace it meanwhile
            self.settings = vb_settings.parse_settings({})
        exchange = self.exchange_manager.exchange
        now = exchange.get_exchange_current_time
        self.clock = vb_clock.ExchangeTimeClock(now) if self.exchange_manager.is_backtesting \
            else vb_clock.LiveClock(now)
        self.ledger = vb_ledger.Ledger(self.settings.volume_target)
        self.started_at = now()
        self.allocation = self._starting_allocation()
        self._open_journal()
        self.seed = self.settings.random_seed or random.SystemRandom().randrange(1, 2 ** 31)
        # one stream per pair: two pairs with the same seed still act independently
        self.planner = vb_planner.Planner(self.settings, random.Random(self.seed ^ zlib.crc32(self.symbol.encode())))
        self.collect_fills()
        await self._adopt_previous_orders()
        self.logger.info(
            f"Volume Booster {'resumed' if self.restored else 'started'} on {self.symbol}: target "
            f"{self.settings.volume_target} {self.quote} (done {self._quote(self.ledger.volume)}), "
            f"{self.settings.order_type} orders every {self.settings.min_interval_seconds:g}-"
            f"{self.settings.max_interval_seconds:g} s, {self.settings.side_policy} sides, allocation "
            f"{self.allocation[self.base]} {self.base} + {self.allocation[self.quote]} {self.quote} (seed {self.seed})"
        )
        if self.settings_error:
            self.finished_reason = "invalid settings"
        elif not self.settings.enabled:
            self.finished_reason = "disabled"
            self.logger.info("Volume Booster is disabled (enabled: false): no order is placed.")
        self._loop_task = asyncio.create_task(self._run())

    def _apply_settings(self, raw: dict) -> bool:
        """Validate (new) settings; on error, keep trading nothing and say why."""
        self._raw_settings_seen = dict(raw)
        try:
            settings = vb_settings.parse_settings(raw)
        except vb_settings.SettingsError as err:
            self.settings_error = str(err)
            # at start, the mode's first line says it (see start_loop)
            if self.clock is not None:
                self.logger.error(f"{err}. No order is placed until it is fixed.")
            if self.ledger is None:
                self.ledger = vb_ledger.Ledger(decimal.Decimal(0))
            return False
        if self.settings_error:
            self.logger.info("Volume Booster settings are valid again.")
        self.settings_error = None
        self._minimums_checked = False
        self.settings = settings
        if self.ledger is not None:
            self.ledger.target = settings.volume_target
        if self.planner is not None:
            self.planner.settings = settings
        return True

    def _starting_allocation(self) -> dict:
        """Each currency's starting total split between the traded pairs that use it, so two pairs never
        count on the same funds."""
        pairs = self.exchange_manager.exchange_config.traded_symbol_pairs or [self.symbol]
        portfolio = self.exchange_manager.exchange_personal_data.portfolio_manager.portfolio
        allocation = {}
        for currency in (self.base, self.quote):
            users = sum(1 for pair in pairs if currency in commons_symbols.parse_symbol(pair).base_and_quote())
            allocation[currency] = portfolio.get_currency_portfolio(currency).total / max(users, 1)
        return allocation

    async def on_time_update(self) -> None:
        if self.clock is not None:
            await self.clock.on_time_update()

    async def stop_loop(self, cancel_open_orders: typing.Optional[bool] = None) -> None:
        """Stop the loop after the step in progress (an order being created is never left behind), then
        cancel this mode's own open orders (by default when trading live)."""
        if cancel_open_orders is None:
            cancel_open_orders = self.exchange_manager is not None and not self.exchange_manager.is_backtesting
        task, self._loop_task = self._loop_task, None
        self._done = True
        if task is not None and not task.done():
            if self._step_lock.locked():
                # a step is in progress: it ends first (bounded), so an order being created is known
                try:
                    async with asyncio.timeout(STOP_STEP_TIMEOUT):
                        async with self._step_lock:
                            task.cancel()
                except TimeoutError:
                    task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
            else:
                # parked between two steps (always so when a backtest ends): cancelled, it never runs another
                # step. Not waited for: the stop must not hand control to the event loop, or another task of
                # OctoBot's backtest starts closing the data file, `OctoBot -b` stops its event loop before that
                # task is done and the file's database thread keeps the process alive for ever.
                task.cancel()
        if self.clock is not None:
            self.clock.release()
        if cancel_open_orders and self.ledger is not None:
            self._refresh_open_orders()
            for order in self._own_open_orders_on_exchange():
                await self._cancel(order, "stopping")
        _purge_order_loggers(set(self._closed_order_ids))
        if self.journal is not None:
            self._compact_journal()
            self.journal.close()

    async def stop(self) -> None:
        await self.stop_loop()
        await super().stop()

    async def _run(self) -> None:
        try:
            due = self.clock.now()
            # None live: only the lag bound applies there
            time_step = _engine_time_step(self.exchange_manager)
            while not self._done:
                await self.clock.sleep_until(due)
                async with self._step_lock:
                    if self._done:
                        break
                    try:
                        await self._step()
                    except asyncio.CancelledError:
                        raise
                    except Exception as err:  # the loop goes on: one failed step is logged, not fatal
                        self.failures["step:" + vb_faults.classify(err)] += 1
                        self.logger.exception(err, True, f"Volume Booster step failed: {err}")
                now = self.clock.now()
                due = max(due + self.planner.next_delay(self._progress(now)),
                          self.clock.earliest_due(MAX_SCHEDULE_LAG_SECONDS, time_step))
        finally:
            self.clock.release()

    # ----- one step of the loop -----
    async def _step(self) -> None:
        _purge_order_loggers(set(self._closed_order_ids))
        await self._follow_settings_file()
        if self.trading_mode.raw_settings != self._raw_settings_seen:
            self._apply_settings(self.trading_mode.raw_settings)
        self.collect_fills()
        self._refresh_open_orders()
        if self.settings_error or not self.settings.enabled:
            await self._withdraw_all("disabled" if not self.settings_error else "invalid settings")
            return
        if self.finished_reason in ("disabled", "invalid settings"):
            self.finished_reason = None
            self.logger.info("Volume Booster enabled again: trading resumes.")
        if self.ledger.target_reached:
            await self._finish("target reached")
            return
        now = self.clock.now()
        if self._backoff.waiting(now):
            self._note_skip(f"backing off after {self._backoff.failures} failure(s)")
            return
        await self._cancel_expired_orders(now)
        market = await self._guarded("fetch", self._market_snapshot())
        if market is None:
            return
        if not self._check_exchange_minimums(market):
            return
        await self._reprice_moved_orders(market)
        if self._ambiguous_attempt is not None and not self._reconcile_ambiguous_attempt(now):
            return
        if len(self._open_orders) >= self.settings.max_open_orders:
            self._note_skip(f"{len(self._open_orders)} open orders (max_open_orders)")
            return
        await self._place_next_order(market)
        self.collect_fills()
        self._refresh_open_orders()
        if self.journal is not None and self.journal.needs_compaction:
            self._compact_journal()

    async def _follow_settings_file(self) -> None:
        """Live, a change of the profile's settings file (saved by OctoBot's settings page, or edited by hand) is
        read through OctoBot's own configuration reload before the step goes on: the running mode follows it
        without a restart."""
        if self.exchange_manager.is_backtesting:
            return
        try:
            path = tentacles_configuration.get_profile_config_specific_file_path(
                self.exchange_manager.tentacles_setup_config, self.trading_mode.__class__
            )
            status = os.stat(path)
        except (OSError, AttributeError, TypeError):
            return
        stamp = (status.st_mtime_ns, status.st_size)
        if self._settings_file_stamp is None or stamp == self._settings_file_stamp:
            self._settings_file_stamp = stamp
            return
        self._settings_file_stamp = stamp
        try:
            await self.trading_mode.reload_config(self.exchange_manager.bot_id)
        except Exception as err:
            self.logger.error(f"Settings file {path} could not be read ({err.__class__.__name__}: {err}): the "
                              f"current settings stay")
            return
        self.logger.info(f"Settings file {path} changed: settings reloaded")

    async def _guarded(self, call: str, coroutine):
        """Run one exchange call: a failure is classified, counted, logged once and backed off; None then."""
        try:
            result = await coroutine
        except asyncio.CancelledError:
            raise
        except Exception as err:
            kind = vb_faults.classify(err)
            self.failures[f"{call}:{kind}"] += 1
            delay = self._backoff.failed(self.clock.now(), kind)
            self.logger.warning(f"{call} failed ({kind}: {err.__class__.__name__}: {err}); "
                                f"next attempt in {delay:.0f} s")
            if call == "create" and kind in vb_faults.AMBIGUOUS:
                raise _AmbiguousCreate() from err
            return None
        self._backoff.succeeded()
        return result

    async def _market_snapshot(self):
        exchange_manager = self.exchange_manager
        _, _, _, price, symbol_market = await trading_personal_data.get_pre_order_data(
            exchange_manager, self.symbol, timeout=ORDER_DATA_TIMEOUT
        )
        # OctoBot's rounding helpers (used on every price and quantity) read decimals, whatever the connector says
        symbol_market = self._symbol_market = with_decimal_precision(symbol_market)
        if not price:
            self._note_skip("no market price yet")
            return None
        market_age = self._market_data_age()
        if market_age is not None and market_age > STALE_MARKET_SECONDS:
            self._note_skip(f"waiting for market data: no price or order book update for {market_age:.0f} s "
                            f"(exchange unreachable or silent)")
            return None
        portfolio = exchange_manager.exchange_personal_data.portfolio_manager.portfolio
        holdings_base = self.allocation[self.base] + self.ledger.base_delta
        holdings_quote = self.allocation[self.quote] + self.ledger.quote_delta
        # base still to fill in the open sells (locked) and buys, and the quote the buys lock
        locked_base = pending_buy_base = locked_quote = trading_constants.ZERO
        for o in self._open_orders.values():
            remaining = o.origin_quantity - o.filled_quantity
            if o.side is trading_enums.TradeOrderSide.SELL:
                locked_base += remaining
            else:
                pending_buy_base += remaining
                locked_quote += remaining * o.origin_price
        reserve = self.settings.reserve_percent / 100
        usable_base = min(portfolio.get_currency_portfolio(self.base).available,
                          holdings_base - locked_base - self.allocation[self.base] * reserve)
        usable_quote = min(portfolio.get_currency_portfolio(self.quote).available,
                           holdings_quote - locked_quote - self.allocation[self.quote] * reserve)
        best_bid, best_ask = self._book_top()
        return vb_planner.MarketSnapshot(
            price=price,
            base_available=max(usable_base, trading_constants.ZERO),
            quote_available=max(usable_quote, trading_constants.ZERO),
            own_highest_buy=max((o.origin_price for o in self._open_orders.values()
                                 if o.side is trading_enums.TradeOrderSide.BUY), default=None),
            own_lowest_sell=min((o.origin_price for o in self._open_orders.values()
                                 if o.side is trading_enums.TradeOrderSide.SELL), default=None),
            fee_rate=self._fee_rate(maker=self.settings.uses_limit_orders),
            best_bid=best_bid,
            best_ask=best_ask,
            price_tick=price_tick(symbol_market),
            min_order_quote=self._minimal_order_quote(symbol_market, price),
            taker_fee_rate=self._fee_rate(maker=False),
            base_excess=self.ledger.base_delta,
            pending_buy_base=pending_buy_base,
            pending_sell_base=locked_base,
            pair_value=holdings_base * price + holdings_quote,
        )

    @staticmethod
    def _minimal_order_quote(symbol_market, price) -> decimal.Decimal:
        minimal_cost = decimal.Decimal(str(trading_personal_data.get_minimal_order_cost(symbol_market, price) or 0))
        return max(minimal_cost, trading_personal_data.get_minimal_order_amount(symbol_market) * price)

    def _check_exchange_minimums(self, market) -> bool:
        """The configured minimum amounts must be orders the exchange accepts: checked once the market's
        limits and price are known; an error names the setting and the allowed range."""
        if self._minimums_checked:
            return True
        minimal_cost = market.min_order_quote
        for name in ("min_buy_amount", "min_sell_amount"):
            value = getattr(self.settings, name)
            if value < minimal_cost:
                self.settings_error = str(vb_settings.SettingsError(
                    name, f"{value} {self.quote} is below the exchange's minimum order of {minimal_cost:.8g} "
                          f"{self.quote} on {self.symbol}: must be from {minimal_cost:.8g} to "
                          f"{vb_settings.MAX_QUOTE_AMOUNT:g}"
                ))
                self.logger.error(f"{self.settings_error}. No order is placed until it is fixed.")
                return False
        self._minimums_checked = True
        return True

    def _book_top(self) -> tuple:
        try:
            book = self.exchange_manager.exchange_symbols_data.get_exchange_symbol_data(
                self.symbol, allow_creation=False
            ).order_book_manager
            if not book.order_book_initialized or not book.bids or not book.asks:
                return None, None
            return decimal.Decimal(str(book.get_bid()[0])), decimal.Decimal(str(book.get_ask()[0]))
        except (KeyError, AttributeError, IndexError, TypeError):
            return None, None

    async def _place_next_order(self, market) -> None:
        exchange_manager = self.exchange_manager
        progress = self._progress(self.clock.now())
        forced_side = self.planner.inventory_side(market, progress)
        if forced_side is not None and self.planner.is_closing(market, progress):
            # resting orders on the other side would push the inventory further away: withdraw them
            for order in list(self._open_orders.values()):
                if _side(order) != forced_side:
                    await self._cancel(order, f"inventory rebalancing towards {forced_side}s")
            if any(_side(order) != forced_side for order in self._open_orders.values()):
                return
            market = await self._guarded("fetch", self._market_snapshot())
            if market is None:
                return
        plan = self.planner.plan(progress, market)
        if isinstance(plan, vb_planner.Stop):
            await self._finish(plan.reason, flatten=plan.flatten)
            return
        if isinstance(plan, vb_planner.Skip):
            self._note_skip(plan.reason)
            return
        if plan.raised_from is not None:
            self.logger.warning(f"Last order of {plan.raised_from:.8g} {self.quote} is below the exchange minimum: "
                                f"raised to {plan.quote_amount:.8g} {self.quote}")
        if not plan.is_limit:
            # a market order could match this mode's own resting orders on the other side: remove them first
            in_the_way = vb_planner.opposite_orders_in_the_way(
                plan.side, [(o.order_id, _side(o), o.origin_price) for o in self._open_orders.values()]
            )
            for order_id in in_the_way:
                await self._cancel(self._open_orders[order_id], "out of the way of a market order")
            if any(order_id in self._open_orders for order_id in in_the_way):
                return
        order_type = _ORDER_TYPES[(plan.side, plan.is_limit)]
        side = trading_enums.TradeOrderSide.BUY if plan.side == vb_planner.BUY else trading_enums.TradeOrderSide.SELL
        symbol_market = self._symbol_market
        quantity = self._at_least_exchange_minimum(plan.quantity, plan.price, symbol_market)
        if side is trading_enums.TradeOrderSide.BUY:
            quantity = trading_personal_data.decimal_adapt_order_quantity_because_fees(
                exchange_manager, self.symbol, order_type, quantity, plan.price, side
            )
        details = trading_personal_data.decimal_check_and_adapt_order_details_if_necessary(
            quantity, plan.price, symbol_market
        )
        if not details:
            remaining = self.settings.volume_target - progress.volume - progress.pending
            if not progress.pending and remaining < market.min_order_quote:
                # the last order: once the fee reserve shrinks it below the exchange minimum it never fits again
                await self._finish(f"target reached within one exchange minimum order ({remaining:.8g} "
                                   f"{self.quote} short, below the minimum order of {market.min_order_quote:.8g} "
                                   f"{self.quote} the funds can still place)")
                return
            self._note_skip(f"{plan.side} of {quantity} {self.base} at {plan.price} is below the exchange minimum "
                            f"or its precision")
            return
        order_quantity, order_price = details[0]
        if plan.is_limit and plan.side == vb_planner.SELL and order_price <= market.price:
            # truncation to the price precision must not bring a resting sell onto the price
            order_price += price_tick(symbol_market)
        if plan.is_limit and vb_planner.crosses_own_orders(plan.side, order_price, market.own_highest_buy,
                                                           market.own_lowest_sell):
            self._note_skip(f"{plan.side} at {order_price} (after price precision) would match an own order")
            return
        attempt_time = self.clock.now()
        try:
            created = await self._submit_order(order_type, order_quantity, order_price, market.price,
                                               resting=self.settings.order_type == vb_settings.MAKER)
        except _AmbiguousCreate:
            # the exchange may have created it: look for it before placing anything else
            self._ambiguous_attempt = {"side": side.value, "quantity": order_quantity, "price": order_price,
                                       "time": attempt_time}
            return
        if created is None:
            self._note_skip(f"the exchange did not create the {plan.side} order")
            return
        self._log_lines(self.waiting.placed(self.clock.now()))
        self._register_order(created)

    async def _submit_order(self, order_type, quantity, price, current_price, resting: bool):
        """Create one order of this mode: tagged as its own, with the exchange's self-trade-prevention (and, when
        resting as maker, post-only) parameters. None when the request failed; raises _AmbiguousCreate when the
        exchange may have created it anyway."""
        order = trading_personal_data.create_order_instance(
            trader=self.exchange_manager.trader,
            order_type=order_type,
            symbol=self.symbol,
            current_price=current_price,
            quantity=quantity,
            price=price,
            tag=ORDER_TAG,
        )
        params = vb_exchange_rules.order_params(self.exchange_manager.exchange_name, resting=resting)
        return await self._guarded("create", self.trading_mode.create_order(order, params=params or None))

    def _register_order(self, order) -> None:
        self._record_own_order(order.order_id, order.side.value, order.origin_quantity, order.origin_price,
                               order.creation_time)
        if order.is_open():
            self._open_orders[order.order_id] = order
        elif order.is_filled():
            self._record_filled(order.order_id)

    def _record_own_order(self, order_id, side: str, quantity, price, creation_time) -> None:
        """Count and journal one order of this mode: placed by it, or adopted after a failed request."""
        self.ledger.orders_created += 1
        self.placed_volume += quantity * price
        self._own_order_ids.add(order_id)
        self._recent_own_ids.append(order_id)
        if len(self._own_order_ids) > 2 * OWN_IDS_KEPT:
            # bounded memory on endless runs: keep the recent ids and every order still open
            self._own_order_ids = set(self._recent_own_ids) | set(self._open_orders)
        self._journal("order", id=order_id, side=side, quantity=str(quantity), price=str(price), time=creation_time)

    def _record_filled(self, order_id) -> None:
        self.ledger.orders_filled += 1
        self._journal("order_closed", id=order_id, how="filled")
        self._closed_order_ids.append(order_id)

    def _reconcile_ambiguous_attempt(self, now: float) -> bool:
        """True when trading may go on: the order of a failed-but-maybe-done create was found and adopted, or
        enough time passed to be sure it does not exist."""
        attempt = self._ambiguous_attempt
        unknown = [
            {"id": order.order_id, "side": order.side.value, "quantity": order.origin_quantity,
             "price": order.origin_price, "time": order.creation_time, "order": order}
            for order in self.exchange_manager.exchange_personal_data.orders_manager.get_open_orders(
                symbol=self.symbol)
            if order.order_id not in self._own_order_ids
        ]
        adopted = vb_faults.find_adoptable(attempt, unknown)
        if adopted is not None:
            order = next(candidate["order"] for candidate in unknown if candidate["id"] == adopted)
            self.logger.warning(f"Adopted order {adopted}: created by the exchange although the request failed")
            self._register_order(order)
            self._ambiguous_attempt = None
            return True
        if now - attempt["time"] >= AMBIGUOUS_CREATE_WAIT_SECONDS:
            self._ambiguous_attempt = None
            return True
        self._note_skip("waiting to learn whether a failed order request was executed")
        return False

    def _adopt_filled_attempt(self, trade) -> None:
        attempt = self._ambiguous_attempt
        matches = vb_faults.find_adoptable(attempt, [{
            "id": trade.origin_order_id, "side": trade.side.value, "quantity": trade.origin_quantity,
            "price": trade.origin_price, "time": trade.creation_time,
        }])
        if matches is None and not (trade.side.value == attempt["side"]
                                    and trade.origin_quantity == attempt["quantity"]):
            return
        self.logger.warning(f"Adopted order {trade.origin_order_id}: created by the exchange although the request "
                            f"failed, and already filled")
        self._ambiguous_attempt = None
        # a market order has no price of its own: its fill price is what it placed
        self._record_own_order(trade.origin_order_id, trade.side.value, trade.origin_quantity,
                               trade.origin_price or trade.executed_price, trade.creation_time)
        self._record_filled(trade.origin_order_id)

    def _progress(self, now: float) -> vb_planner.Progress:
        price = self._last_price()
        return vb_planner.Progress(
            volume=self.ledger.volume,
            pending=self._pending_quote(),
            net_cost=self.ledger.net_cost(price) if price else trading_constants.ZERO,
            day_volume=self.ledger.day_volume(now),
            now=now,
            started_at=self.started_at,
            fill_ratio=float(self.ledger.volume / self.placed_volume) if self.placed_volume else None,
        )

    def _market_data_age(self):
        """Live: seconds since the latest price or order book update; None in a backtest."""
        if self.exchange_manager.is_backtesting:
            return None
        try:
            updated = self.exchange_manager.exchange_symbols_data.get_exchange_symbol_data(
                self.symbol, allow_creation=False
            ).prices_manager.mark_price_set_time
        except (KeyError, AttributeError):
            updated = 0
        producers = self.trading_mode.producers or []
        book_times = [producer.order_book_time for producer in producers if producer.order_book_time is not None]
        return self.exchange_manager.exchange.get_exchange_current_time() - max([updated or 0, *book_times])

    def _last_price(self):
        try:
            return self.exchange_manager.exchange_symbols_data.get_exchange_symbol_data(
                self.symbol, allow_creation=False
            ).prices_manager.mark_price
        except (KeyError, AttributeError):
            return None

    def _at_least_exchange_minimum(self, quantity, price, symbol_market):
        """The last order of a run may be smaller than what the exchange accepts: raise it to the minimum
        (it then ends slightly above the target, never more than one order above)."""
        floor = self._minimal_order_quote(symbol_market, price) / price if price \
            else trading_personal_data.get_minimal_order_amount(symbol_market)
        if quantity < floor:
            raised = floor * decimal.Decimal("1.001")
            self.logger.warning(f"Order size {quantity} {self.base} is below the exchange minimum: raised to {raised}")
            return raised
        return quantity

    async def _cancel_expired_orders(self, now: float) -> None:
        if not self.settings.uses_limit_orders:
            return
        timeout = self.settings.limit_order_timeout_seconds
        for order in list(self._open_orders.values()):
            if order.is_open() and now - order.creation_time >= timeout:
                await self._cancel(order, "timeout")

    async def _reprice_moved_orders(self, market) -> None:
        for order in list(self._open_orders.values()):
            if order.is_open() and self.planner.needs_reprice(_side(order), order.origin_price, market):
                await self._cancel(order, "repriced: the market moved away")

    async def _cancel(self, order, reason: str) -> None:
        result = await self._guarded("cancel", self.trading_mode.cancel_order(order))
        cancelled = result[0] if isinstance(result, tuple) else result
        if cancelled:
            self.ledger.orders_cancelled += 1
            self._open_orders.pop(order.order_id, None)
            self._closed_order_ids.append(order.order_id)
            self._journal("order_closed", id=order.order_id, how="cancelled")
            self.logger.debug(f"Cancelled {order.side.value} order {order.order_id} ({reason})")
        # an order that filled while being cancelled is counted from its trades
        self.collect_fills()
        self._refresh_open_orders()

    async def _withdraw_all(self, reason: str) -> None:
        """Not trading (disabled, invalid settings): this mode's own open orders are cancelled."""
        if self.finished_reason != reason:
            self.finished_reason = reason
            self.logger.info(f"Volume Booster {reason}: cancelling this mode's open orders, placing none.")
        for order in self._own_open_orders_on_exchange():
            await self._cancel(order, reason)

    async def _finish(self, reason: str, flatten: bool = False) -> None:
        self.finished_reason = reason
        self._done = True
        for order in self._own_open_orders_on_exchange():
            await self._cancel(order, reason)
        if flatten:
            await self._flatten_inventory()
        self.logger.info(
            f"Volume Booster {reason} on {self.symbol}: volume {self._quote(self.ledger.volume)}/"
            f"{self.ledger.target} {self.quote}, fees {self._fee(self.ledger.fees)} {self.quote}, "
            f"orders created {self.ledger.orders_created}, "
            f"filled {self.ledger.orders_filled}, cancelled {self.ledger.orders_cancelled}"
        )

    async def _flatten_inventory(self) -> None:
        """One market order bringing the pair's base holdings back to where they started, so price moves after
        a budget stop cannot add to the cost (its fee was counted in the budget check)."""
        self.collect_fills()
        excess = self.ledger.base_delta
        symbol_market = self._symbol_market
        price = self._last_price()
        if not excess or symbol_market is None or not price:
            return
        side = vb_planner.SELL if excess > 0 else vb_planner.BUY
        quantity = abs(excess)
        portfolio = self.exchange_manager.exchange_personal_data.portfolio_manager.portfolio
        if side == vb_planner.SELL:
            quantity = min(quantity, portfolio.get_currency_portfolio(self.base).available)
        else:
            # a buy's fee is usually taken from the bought base: buy that much more
            quantity = min(quantity / (1 - self._fee_rate(maker=False)),
                           portfolio.get_currency_portfolio(self.quote).available / price
                           / (1 + self._fee_rate(maker=False)))
        details = trading_personal_data.decimal_check_and_adapt_order_details_if_necessary(
            quantity, price, symbol_market
        )
        if not details:
            return
        order_quantity, order_price = details[0]
        try:
            created = await self._submit_order(_ORDER_TYPES[(side, False)], order_quantity, order_price, price,
                                               resting=False)
        except _AmbiguousCreate:
            return
        if created is not None:
            self.logger.info(f"Flattened the inventory after the budget stop: {side} {order_quantity} {self.base}")
            self._register_order(created)
            self.collect_fills()

    def _own_open_orders_on_exchange(self) -> list:
        return [
            order for order in self.exchange_manager.exchange_personal_data.orders_manager.get_open_orders(
                symbol=self.symbol
            )
            if order.order_id in self._own_order_ids
        ]

    # ----- restart -----
    def _state_path(self):
        folder = self.trading_mode.STATE_FOLDER
        if folder is None:
            if self.exchange_manager.is_backtesting:
                return None
            folder = os.path.join(commons_constants.USER_FOLDER, "data", "VolumeBooster")
        return os.path.join(folder, vb_journal.state_file_name(self.exchange_manager.exchange_name, self.symbol))

    def _open_journal(self) -> None:
        path = self._state_path()
        if path is None:
            return
        self.journal = vb_journal.Journal(path)
        # a state file that exists belongs to a run, even when nothing in it can be read
        existed = self.journal.path.exists()
        try:
            contents = self.journal.read()
        except OSError as err:
            self.logger.error(f"State file {path} can't be read ({err}): the mode runs without one, its progress "
                              f"is not restored and not kept")
            self.journal = None
            return
        if not existed:
            self._compact_journal()
            return
        self.restored = True
        try:
            restored = vb_recovery.restore(contents, str(path), self.settings.volume_target, self._exchange_record())
        except Exception as err:  # whatever the file holds, the mode starts
            self.logger.exception(err, True, f"State file {path} could not be restored ({err!r})")
            restored = vb_recovery.restore(vb_journal.Contents([], [(0, f"not restorable ({err!r})")]), str(path),
                                           self.settings.volume_target)
        for warning in restored.warnings:
            self.logger.warning(warning)
        self._restoration = restored
        self.ledger = restored.ledger
        if restored.started_at is not None:
            self.started_at = restored.started_at
            self.allocation = restored.allocation
        else:
            self.logger.warning(f"State file {path} has no valid snapshot: counters from before it are lost; the "
                                f"exchange's trades of orders tagged {ORDER_TAG!r} are adopted")
        self.placed_volume = restored.placed_volume
        self._own_order_ids = set(restored.own_order_ids)
        self._recent_own_ids.extend(restored.own_order_ids)
        self._open_at_stop = set(restored.open_at_stop)
        if restored.warnings:
            copy = self.journal.keep_copy()
            self.logger.warning(f"{len(restored.warnings)} damaged line(s) skipped in {path}; the file as it was is "
                                f"kept in {copy}")
        # the damaged lines go: the next start reads one clean snapshot
        self._compact_journal()
        self.logger.info(f"Restored progress from {path}: volume {self.ledger.volume:.2f} {self.quote}, "
                         f"fees {self.ledger.fees:.6f} {self.quote}, {self.ledger.fills_count} fills")

    def _exchange_record(self) -> vb_recovery.ExchangeRecord:
        """The exchange's record of trades as recovery judges journalled fills with it."""
        trades = self.exchange_manager.exchange_personal_data.trades_manager.trades.values()
        times = [trade.executed_time for trade in trades if trade.executed_time]
        fills = {}
        for trade in trades:
            if trade.symbol == self.symbol and trade.executed_quantity > 0:
                fill = self._fill_from_trade(trade)
                fills[fill.trade_id] = fill
        return vb_recovery.ExchangeRecord(fills=fills, oldest=min(times, default=None),
                                          newest=max(times, default=None))

    async def _adopt_previous_orders(self) -> None:
        """Open orders of this mode from before a restart are adopted (or cancelled when not trading), those
        that closed while it was down are accounted, and open orders carrying its tag that the state file misses
        are its own."""
        if not self.restored:
            return
        restoration = self._restoration
        for order in self.exchange_manager.exchange_personal_data.orders_manager.get_open_orders(symbol=self.symbol):
            if order.order_id not in self._own_order_ids and order.tag == ORDER_TAG \
                    and restoration is not None and restoration.adopts(order.creation_time):
                self._adopt_tagged_order(order.order_id, order.side.value, order.origin_quantity, order.origin_price,
                                         order.creation_time)
        still_open = {order.order_id for order in self._own_open_orders_on_exchange()}
        trades_manager = self.exchange_manager.exchange_personal_data.trades_manager
        filled_in_journal = restoration.filled_order_ids if restoration is not None else set()
        for order_id in sorted(self._open_at_stop - still_open):
            # closed while the mode was down: filled when its trades are known
            if order_id in filled_in_journal or any(
                    trade.executed_quantity > 0 for trade in trades_manager.get_trades(origin_order_id=order_id)):
                how = "filled"
            else:
                how = "vanished"
                self.logger.warning(f"Order {order_id} was open when the mode stopped and is no longer on the "
                                    f"exchange, without a trade: it vanished while the mode was down (a paper-trading "
                                    f"simulator loses its open orders when the bot process stops)")
            counter = vb_recovery.CLOSED_COUNTERS[how]
            setattr(self.ledger, counter, getattr(self.ledger, counter) + 1)
            self._journal("order_closed", id=order_id, how=how)
        self._open_at_stop = set()
        self._restoration = None
        for order in self._own_open_orders_on_exchange():
            if self.settings.enabled and self.settings_error is None:
                self._open_orders[order.order_id] = order
                self.logger.info(f"Adopted open {order.side.value} order {order.order_id} from before the restart")
            else:
                await self._cancel(order, "not trading after restart")

    def _adopt_tagged_order(self, order_id, side: str, quantity, price, creation_time) -> None:
        """An order carrying this mode's tag that the state file misses (e.g. its line was torn by a crash): own,
        and settled with the other orders of before the restart."""
        self.logger.warning(f"Adopted order {order_id} by its tag {ORDER_TAG!r}: the state file misses it")
        self._record_own_order(order_id, side, quantity, price, creation_time)
        self._open_at_stop.add(order_id)

    def _journal(self, event_type: str, **fields) -> None:
        if self.journal is not None:
            self.journal.append(event_type, **fields)

    def _compact_journal(self) -> None:
        open_or_recent = set(self._open_orders) | {
            order.order_id for order in self._own_open_orders_on_exchange()
        }
        self.journal.compact({
            "symbol": self.symbol,
            "ledger": self.ledger.to_dict(),
            "started_at": self.started_at,
            "allocation": {currency: str(amount) for currency, amount in self.allocation.items()},
            "placed_volume": str(self.placed_volume),
            # ids whose trades may still come from the exchange's record: all known, bounded
            "own_order_ids": list(dict.fromkeys([*self._recent_own_ids, *sorted(open_or_recent)])),
            "open_order_ids": sorted(set(self._open_orders) | self._open_at_stop),
        })

    # ----- bookkeeping -----
    def collect_fills(self) -> None:
        """Count the mode's new fills from the exchange's trades (each trade once)."""
        trades = self.exchange_manager.exchange_personal_data.trades_manager.trades
        new_trades = []
        for trade_id, trade in reversed(trades.items()):
            if trade_id == self._last_scanned_trade_id:
                break
            new_trades.append(trade)
        if not new_trades:
            return
        self._last_scanned_trade_id = next(reversed(trades.keys()))
        for trade in reversed(new_trades):
            if trade.symbol != self.symbol:
                continue
            if trade.origin_order_id not in self._own_order_ids:
                if trade.tag != ORDER_TAG:
                    continue
                if self._restoration is not None and self._restoration.adopts(trade.executed_time):
                    # at a restart: an order of this run that the state file misses
                    self._adopt_tagged_order(trade.origin_order_id, trade.side.value, trade.origin_quantity,
                                             trade.origin_price or trade.executed_price, trade.creation_time)
                elif self._ambiguous_attempt is not None:
                    # the order of a request that failed but was executed, filled before it could be adopted
                    self._adopt_filled_attempt(trade)
                else:
                    continue
            fill = self._fill_from_trade(trade)
            if self.ledger.record_fill(fill):
                self._journal("fill", fill=fill.to_dict())
                self.logger.info(
                    f"Fill {fill.side} {fill.amount} {self.base} @ {fill.price} ({self._quote(fill.quote_value)} "
                    f"{self.quote}) - volume {self._quote(self.ledger.volume)}/{self.ledger.target} {self.quote} "
                    f"({self.ledger.progress_percent:.2f}%)"
                )

    def _fill_from_trade(self, trade) -> vb_ledger.Fill:
        amount = trade.executed_quantity
        price = trade.executed_price
        quote_value = trade.total_cost if trade.total_cost else amount * price
        fee_quote = fee_in_base = fee_in_quote = trading_constants.ZERO
        if trade.fee:
            cost = decimal.Decimal(str(trade.fee.get(trading_enums.FeePropertyColumns.COST.value) or 0))
            currency = trade.fee.get(trading_enums.FeePropertyColumns.CURRENCY.value)
            if currency == self.quote:
                fee_quote = fee_in_quote = cost
            elif currency == self.base:
                fee_in_base = cost
                fee_quote = cost * price
            elif cost:
                self.logger.warning(f"Fee of {cost} {currency} on trade {trade.trade_id} is not in {self.base} or "
                                    f"{self.quote}: not converted")
        return vb_ledger.Fill(
            trade_id=str(trade.trade_id),
            order_id=str(trade.origin_order_id),
            side=vb_ledger.BUY if trade.side is trading_enums.TradeOrderSide.BUY else vb_ledger.SELL,
            amount=amount,
            price=price,
            quote_value=quote_value,
            fee_quote=fee_quote,
            timestamp=trade.executed_time,
            is_maker=trade.taker_or_maker == trading_enums.ExchangeConstantsMarketPropertyColumns.MAKER.value,
            fee_in_base=fee_in_base,
            fee_in_quote=fee_in_quote,
        )

    def _refresh_open_orders(self) -> None:
        for order_id, order in list(self._open_orders.items()):
            if order.is_filled():
                del self._open_orders[order_id]
                self._record_filled(order_id)
            elif order.is_closed() or order.is_cancelled():
                # our own cancels leave _open_orders when they succeed: this one was closed by the exchange
                del self._open_orders[order_id]
                self._count_exchange_expiry(order)
                self._closed_order_ids.append(order.order_id)

    def _count_exchange_expiry(self, order) -> None:
        """An order closed by the exchange without a fill and without our cancel."""
        status = order.status.value if order.status is not None else None
        if vb_exchange_rules.is_self_trade_expiry(status, getattr(order, "exchange_order_info", None)):
            self.ledger.orders_expired_self_trade += 1
            self._journal("order_closed", id=order.order_id, how="expired_self_trade")
            self.logger.warning(f"Order {order.order_id} was expired by the exchange to prevent a self-trade")
        else:
            self.ledger.orders_expired += 1
            self._journal("order_closed", id=order.order_id, how="expired")
            self.logger.warning(f"Order {order.order_id} was closed by the exchange ({status}) without a fill")

    def _pending_quote(self) -> decimal.Decimal:
        return sum(
            ((order.origin_quantity - order.filled_quantity) * order.origin_price
             for order in self._open_orders.values()),
            trading_constants.ZERO,
        )

    def _fee_rate(self, maker: bool) -> decimal.Decimal:
        key = trading_enums.ExchangeConstantsMarketPropertyColumns.MAKER.value if maker \
            else trading_enums.ExchangeConstantsMarketPropertyColumns.TAKER.value
        try:
            return decimal.Decimal(str(self.exchange_manager.exchange.get_fees(self.symbol)[key]))
        except (KeyError, NotImplementedError, TypeError):
            return trading_constants.ZERO

    def _note_skip(self, reason: str) -> None:
        self._log_lines(self.waiting.note(reason, self.clock.now() if self.clock is not None else 0.0))

    def _log_lines(self, lines) -> None:
        for line in lines:
            self.logger.info(line)

    def _quote(self, value, extra_decimals: int = 0) -> str:
        """A quote amount with the decimals the scale of the target needs."""
        target = self.ledger.target if self.ledger is not None else None
        return vb_display.amount(value, vb_display.quote_decimals(target) + extra_decimals)

    def _fee(self, value) -> str:
        """Fees and costs, three orders of magnitude below the volume, with as many more decimals."""
        return self._quote(value, vb_display.FEE_EXTRA_DECIMALS)

    def status_text(self) -> str:
        """One line for OctoBot's interface and logs: progress, cost so far, state."""
        if self.ledger is None:
            return self.settings_error or "waiting to start"
        ledger = self.ledger
        price = self._last_price()
        cost = ledger.net_cost(price) if price else ledger.fees
        cost_bps = cost / ledger.volume * 10000 if ledger.volume else trading_constants.ZERO
        state = self.settings_error or self.finished_reason \
            or (f"waiting: {self.waiting.current}" if self.waiting.current else "running")
        failures = sum(self.failures.values())
        return (
            f"{state}: volume {self._quote(ledger.volume)}/{ledger.target} {self.quote} "
            f"({ledger.progress_percent:.1f}%), fees {self._fee(ledger.fees)} {self.quote}, cost so far "
            f"{self._fee(cost)} {self.quote} ({cost_bps:.1f} bps), "
            f"{ledger.fills_count} fills, {len(self._open_orders)} open orders"
            + (f", {failures} exchange failures" if failures else "")
        )


def _engine_time_step(exchange_manager) -> typing.Optional[float]:
    """Seconds between two time steps of the backtesting engine (its finest time frame); None live."""
    backtesting = exchange_manager.backtesting if exchange_manager.is_backtesting else None
    time_manager = getattr(backtesting, "time_manager", None)
    return float(time_manager.time_interval) if time_manager is not None else None


_PRECISION = trading_enums.ExchangeConstantsMarketStatusColumns.PRECISION.value
_PRECISION_KEYS = (trading_enums.ExchangeConstantsMarketStatusColumns.PRECISION_AMOUNT.value,
                   trading_enums.ExchangeConstantsMarketStatusColumns.PRECISION_PRICE.value)


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
        return decimal.Decimal(1).scaleb(-int(digits)) if digits is not None else trading_constants.ZERO
    except (KeyError, TypeError, ValueError):
        return trading_constants.ZERO


_ORDER_LOGGER_ID = re.compile(r"\| (\S+) \[exchange id")


def _purge_order_loggers(order_ids) -> None:
    """OctoBot names a logger after each order and each of its states; Python's logging keeps them for ever.
    Dropping those of the mode's closed orders keeps memory flat over runs of many thousand orders. Some are
    only created after the order closed (when the engine processes its fill), hence a purge at every step over
    the recently closed orders."""
    if not order_ids:
        return
    registry = std_logging.Logger.manager.loggerDict
    for name in list(registry):
        match = _ORDER_LOGGER_ID.search(name) if "exchange id" in name else None
        if match is not None and match.group(1) in order_ids:
            del registry[name]


class _AmbiguousCreate(Exception):
    """An order request failed in a way the exchange may still have executed."""


def _side(order) -> str:
    return vb_planner.BUY if order.side is trading_enums.TradeOrderSide.BUY else vb_planner.SELL
