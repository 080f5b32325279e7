"""Volume Booster trading mode: OctoBot's entry points.

- VolumeBoosterTradingMode declares the settings as OctoBot user inputs (from settings.SPECS).
- VolumeBoosterProducer starts the consumer's loop directly (no evaluator signal), relays the exchange's time
  steps to the loop's clock and, live, keeps the pair's order book coming.
- VolumeBoosterConsumer owns the randomized buy/sell loop: each step reads as a list of named steps, asks the
  strategy (pure) for decisions and has the executor carry them out.

The rest lives in modules of one job each: settings, planner and strategy (decisions), gateway (the only code
that talks to OctoBot), executor (carrying decisions out), books and own_orders (what the mode owns and has
filled), recovery and restart (resuming a run), ledger, journal, clock, waiting, status.
"""
import asyncio
import inspect
import random
import typing
import zlib

import octobot_commons.channels_name as channels_name
import octobot_commons.configuration as commons_configuration
import octobot_commons.enums as commons_enums
import octobot_commons.logging as logging
import octobot_trading.enums as trading_enums
import octobot_trading.exchange_channel as exchange_channel
import octobot_trading.modes as trading_modes

from . import books as vb_books
from . import clock as vb_clock
from . import executor as vb_executor
from . import faults as vb_faults
from . import gateway as vb_gateway
from . import ledger as vb_ledger
from . import planner as vb_planner
from . import restart as vb_restart
from . import settings as vb_settings
from . import status as vb_status
from . import strategy
from . import views as vb_views

# how long a stop waits for the step in progress (an order being created) before cancelling it
STOP_STEP_TIMEOUT = 30
# after an order request failed in a way the exchange may still have executed it, how long the mode
# looks for that order before placing another one
AMBIGUOUS_CREATE_WAIT_SECONDS = 60
# live, how long a `maker` mode waits at start for the first order book before resting at its offset instead
ORDER_BOOK_WAIT_SECONDS = 20
ORDER_BOOK_POLL_SECONDS = 0.2
# a stalled loop (e.g. a suspended host) does not try to catch up more than this much schedule
MAX_SCHEDULE_LAG_SECONDS = 3600
# live, no order is priced from market data older than this (prices and order book both stale: the exchange is
# unreachable or silent); OctoBot polls trades about every 5 s
STALE_MARKET_SECONDS = 15
# the mode's orders carry this tag
ORDER_TAG = vb_gateway.ORDER_TAG

_UI_TYPES = {
    vb_settings.BOOLEAN: commons_enums.UserInputTypes.BOOLEAN,
    vb_settings.INT: commons_enums.UserInputTypes.INT,
    vb_settings.FLOAT: commons_enums.UserInputTypes.FLOAT,
    vb_settings.DECIMAL: commons_enums.UserInputTypes.FLOAT,
    vb_settings.OPTIONS: commons_enums.UserInputTypes.OPTIONS,
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
        self.gateway = vb_gateway.Gateway(trading_mode, self.logger)
        self.base, self.quote = self.gateway.base, self.gateway.quote
        self.settings = None
        self.settings_error = None
        self.finished_reason = None
        self.seed = None
        self.started_at = None
        # this pair's share of each balance at start (pairs sharing a currency split it)
        self.allocation = {}
        self.restored = False
        self.books = None
        self.executor = None
        self.planner = None
        self.clock = None
        # called with (StepRecord, Decision) before each decision is carried out, and with each StepRecord once
        # its step is over
        self.decision_listeners = []
        self.step_listeners = []
        self._done = False
        self._loop_task = None
        self._step_lock = asyncio.Lock()
        self._raw_settings_seen = None
        self._settings_file_stamp = None
        self._minimums_checked = False

    @property
    def ledger(self) -> typing.Optional[vb_ledger.Ledger]:
        return self.books.ledger if self.books is not None else None

    def view(self) -> vb_views.BoosterView:
        executor = self.executor
        return vb_views.BoosterView(
            symbol=self.symbol, settings=self.settings, settings_error=self.settings_error,
            finished_reason=self.finished_reason,
            waiting_reason=executor.waiting.current if executor is not None else None,
            seed=self.seed, started_at=self.started_at, allocation=dict(self.allocation), restored=self.restored,
            failures=dict(executor.failures) if executor is not None else {},
            open_order_ids=tuple(self.books.orders.open_ids) if self.books is not None else (),
            own_order_ids=frozenset(self.books.orders.recent_ids) if self.books is not None else frozenset(),
            running=self._loop_task is not None and not self._done,
        )

    def waiting_summary(self) -> dict:
        """Steps that placed nothing over the run: the first reason text of each kind -> count."""
        return self.executor.waiting.summary() if self.executor is not None else {}

    # ----- life cycle -----
    async def start_loop(self) -> None:
        if self._loop_task is not None:
            return
        if not self._apply_settings(self.trading_mode.raw_settings):
            self.logger.error(f"Volume Booster is NOT trading on {self.symbol}: {self.settings_error}. Fix it on the "
                              f"mode's settings page: no order is placed until then.")
            # the loop still runs (placing nothing) so that fixed settings take effect without a restart;
            # the defaults only pace it meanwhile
            self.settings = vb_settings.parse_settings({})
            self.wording = vb_status.Wording(self.base, self.quote, self.settings.volume_target)
        gateway = self.gateway
        self.clock = vb_clock.ExchangeTimeClock(gateway.now) if gateway.is_backtesting else vb_clock.LiveClock(
            gateway.now)
        self.books = vb_books.Books(gateway, vb_ledger.Ledger(self.settings.volume_target), self.logger,
                                    lambda fill: self.wording.fill(fill, self.books.ledger))
        self.executor = vb_executor.Executor(
            gateway, self.books, self.clock, self.logger,
            lambda reason: self.wording.finish(reason, self.symbol, self.books.ledger))
        self.started_at = gateway.now()
        self.allocation = gateway.starting_allocation()
        self._open_state_file()
        self.seed = self.settings.random_seed or random.SystemRandom().randrange(1, 2 ** 31)
        # one stream per pair: two pairs with the same seed still act independently
        self.planner = vb_planner.Planner(self.settings, random.Random(self.seed ^ zlib.crc32(self.symbol.encode())))
        self.books.collect_fills()
        await vb_restart.settle_previous_orders(self.books, self.executor, self._trading, self.logger)
        self.logger.info(
            f"Volume Booster {'resumed' if self.restored else 'started'} on {self.symbol}: target "
            f"{self.settings.volume_target} {self.quote} (done {self.wording.quote_amount(self.ledger.volume)}), "
            f"{self.settings.order_type} orders every {self.settings.min_interval_seconds:g}-"
            f"{self.settings.max_interval_seconds:g} s, {self.settings.side_policy} sides, allocation "
            f"{self.allocation[self.base]} {self.base} + {self.allocation[self.quote]} {self.quote} (seed {self.seed})"
        )
        if self.settings_error:
            self.finished_reason = strategy.INVALID_SETTINGS
        elif not self.settings.enabled:
            self.finished_reason = strategy.DISABLED
            self.logger.info("Volume Booster is disabled (enabled: false): no order is placed.")
        self._loop_task = asyncio.create_task(self._run())

    @property
    def _trading(self) -> bool:
        return self.settings.enabled and self.settings_error is None

    def _open_state_file(self) -> None:
        path = self.gateway.state_path(self.trading_mode.STATE_FOLDER)
        if path is None:
            return
        restored = vb_restart.open_state_file(path, self.books, self.gateway, self.settings.volume_target,
                                              self.logger)
        if self.books.journal is None:
            return
        open_at_stop = ()
        if restored is not None:
            self.restored = True
            if restored.started_at is not None:
                self.started_at = restored.started_at
                self.allocation = restored.allocation
            open_at_stop = restored.open_at_stop
        # the damaged lines go: the next start reads one clean snapshot
        self.books.journal.compact(self.books.snapshot(self.symbol, self.started_at, self.allocation, open_at_stop))
        if restored is not None:
            self.logger.info(f"Restored progress from {path}: volume {self.wording.quote_amount(self.ledger.volume)} "
                             f"{self.quote}, fees {self.wording.fee_amount(self.ledger.fees)} {self.quote}, "
                             f"{self.ledger.fills_count} fills")

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
            return False
        if self.settings_error:
            self.logger.info("Volume Booster settings are valid again.")
        self.settings_error = None
        self._minimums_checked = False
        self.settings = settings
        self.wording = vb_status.Wording(self.base, self.quote, settings.volume_target)
        if self.books is not None:
            self.ledger.target = settings.volume_target
        if self.planner is not None:
            self.planner.settings = settings
        return True

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
        if self.books is None:
            return
        if cancel_open_orders:
            self.books.refresh()
            await self.executor.withdraw("stopping")
        self.gateway.purge_order_loggers(set(self.books.orders.recently_closed))
        if self.books.journal is not None:
            self.books.journal.compact(self.books.snapshot(self.symbol, self.started_at, self.allocation))
            self.books.journal.close()

    async def stop(self) -> None:
        await self.stop_loop()
        await super().stop()

    async def _run(self) -> None:
        try:
            due = self.clock.now()
            # None live: only the lag bound applies there
            time_step = self.gateway.engine_time_step()
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
                        self.executor.failures["step:" + vb_faults.classify(err)] += 1
                        self.logger.exception(err, True, f"Volume Booster step failed: {err}")
                now = self.clock.now()
                due = max(due + self.planner.next_delay(self.books.progress(now, self.started_at)),
                          self.clock.earliest_due(MAX_SCHEDULE_LAG_SECONDS, time_step))
        finally:
            self.clock.release()

    # ----- one step -----
    async def _step(self) -> None:
        record = vb_views.StepRecord(time=self.clock.now())
        try:
            await self._named_steps(record)
        finally:
            for listener in self.step_listeners:
                listener(record)

    async def _named_steps(self, record: vb_views.StepRecord) -> None:
        books, executor = self.books, self.executor
        self.gateway.purge_order_loggers(set(books.orders.recently_closed))
        await self._follow_settings_file()
        if self.trading_mode.raw_settings != self._raw_settings_seen:
            self._apply_settings(self.trading_mode.raw_settings)
        books.collect_fills()
        books.refresh()
        decision = strategy.before_market(self._step_view(record.time))
        self._note_trading_state(decision)
        await self._carry_out(record, decision)
        if decision.final is not None:
            return
        market = await executor.guarded("fetch", self._market_view())
        if market is None or isinstance(market, str):
            if market:
                executor.note_wait(market)
            return
        record.market = market.snapshot
        if not self._exchange_accepts_the_minimums(market.snapshot):
            return
        await self._carry_out(record, strategy.repricing(self._step_view(record.time), market.snapshot,
                                                         self.planner))
        in_doubt = books.in_doubt is not None and not books.settle_doubt(record.time, AMBIGUOUS_CREATE_WAIT_SECONDS)
        progress = record.progress = books.progress(self.clock.now(), self.started_at)
        view = self._step_view(record.time, in_doubt)
        decision = strategy.orders(view, market.snapshot, progress, self.planner)
        if await self._carry_out(record, decision, market, progress) and decision.replan:
            market = await executor.guarded("fetch", self._market_view())
            if market is None or isinstance(market, str):
                return
            record.market = market.snapshot
            decision = strategy.orders(self._step_view(record.time), market.snapshot, progress, self.planner,
                                       closing_done=True)
            await self._carry_out(record, decision, market, progress)
        books.collect_fills()
        books.refresh()
        if books.journal is not None and books.journal.needs_compaction:
            books.journal.compact(books.snapshot(self.symbol, self.started_at, self.allocation))

    def _step_view(self, now: float, in_doubt: bool = False) -> strategy.StepView:
        return strategy.StepView(
            now=now, settings=self.settings, settings_error=self.settings_error,
            target_reached=self.ledger.target_reached, open_orders=self.books.open_order_views(),
            backing_off=self.executor.backoff.failures if self.executor.backoff.waiting(now) else 0,
            create_in_doubt=in_doubt,
        )

    def _market_view(self):
        return self.gateway.market_view(self.settings, self.ledger, self.allocation, self.books.orders.open_orders,
                                        STALE_MARKET_SECONDS)

    async def _carry_out(self, record: vb_views.StepRecord, decision, market=None, progress=None) -> bool:
        """Carry `decision` out; False when a cancel it needed did not happen (nothing more this step)."""
        if not decision.actions and not decision.replan:
            return True
        for listener in self.decision_listeners:
            listener(record, decision)
        outcome = await self.executor.carry_out(decision, market, progress, self.settings)
        record.decisions.append((decision, outcome))
        if outcome.stopped:
            self.finished_reason = outcome.stopped
            self._done = True
        return not outcome.not_cancelled

    def _note_trading_state(self, decision) -> None:
        """Not trading (disabled, invalid settings) is said once; trading again too."""
        final = decision.final
        if isinstance(final, strategy.actions.Wait) and final.withdraw:
            if self.finished_reason != final.reason:
                self.finished_reason = final.reason
                self.logger.info(f"Volume Booster {final.reason}: cancelling this mode's open orders, placing none.")
        elif self.finished_reason in (strategy.DISABLED, strategy.INVALID_SETTINGS):
            self.finished_reason = None
            self.logger.info("Volume Booster enabled again: trading resumes.")

    def _exchange_accepts_the_minimums(self, market) -> bool:
        """The configured minimum amounts must be orders the exchange accepts: checked once the market's limits and
        price are known; an error names the setting and the allowed range."""
        if self._minimums_checked:
            return True
        error = strategy.minimum_amount_error(self.settings, market, self.symbol, self.quote)
        if error is not None:
            self.settings_error = str(error)
            self.logger.error(f"{self.settings_error}. No order is placed until it is fixed.")
            return False
        self._minimums_checked = True
        return True

    async def _follow_settings_file(self) -> None:
        """Live, a change of the profile's settings file (saved by OctoBot's settings page, or edited by hand) is
        read through OctoBot's own configuration reload before the step goes on: the running mode follows it
        without a restart."""
        if self.gateway.is_backtesting:
            return
        stamp = self.gateway.settings_file_stamp()
        if stamp is None or self._settings_file_stamp is None or stamp == self._settings_file_stamp:
            self._settings_file_stamp = stamp or self._settings_file_stamp
            return
        self._settings_file_stamp = stamp
        path = self.gateway.settings_file_path()
        try:
            await self.gateway.reload_settings()
        except Exception as err:
            self.logger.error(f"Settings file {path} could not be read ({err.__class__.__name__}: {err}): the "
                              f"current settings stay")
            return
        self.logger.info(f"Settings file {path} changed: settings reloaded")

    # ----- what the mode says -----
    def collect_fills(self) -> None:
        """Count the mode's new fills from the exchange's trades (each trade once)."""
        if self.books is not None:
            self.books.collect_fills()

    def status_text(self) -> str:
        """One line for OctoBot's interface and logs: progress, cost so far, state."""
        if self.books is None:
            return self.settings_error or "waiting to start"
        waiting = self.executor.waiting.current
        state = self.settings_error or self.finished_reason or (f"waiting: {waiting}" if waiting else "running")
        return self.wording.status(state, self.ledger, self.gateway.last_price(), len(self.books.orders),
                                   sum(self.executor.failures.values()))
