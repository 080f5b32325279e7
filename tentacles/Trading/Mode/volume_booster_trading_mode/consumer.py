"""The mode's consumer: owns the randomized buy/sell loop. Each step reads as a list of named steps: it asks the
strategy (pure) for decisions on read-only views and has the executor carry them out, then publishes what it saw
and did to its listeners."""
import asyncio
import random
import typing
import zlib

import octobot_commons.logging as logging
import octobot_trading.modes as trading_modes

from . import books as vb_books
from . import clock as vb_clock
from . import executor as vb_executor
from . import faults as vb_faults
from . import fee_tier_follower as vb_fee_tier_follower
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
# a stalled loop (e.g. a suspended host) does not try to catch up more than this much schedule
MAX_SCHEDULE_LAG_SECONDS = 3600
# live, no order is priced from market data older than this (prices and order book both stale: the exchange is
# unreachable or silent); OctoBot polls trades about every 5 s
STALE_MARKET_SECONDS = 15


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
        self.wording = None
        # the fee level aimed at (target_mode next_fee_tier / keep_fee_tier)
        self.fee_tier = vb_fee_tier_follower.FeeTierFollower(self.gateway, self.logger)
        # called with (StepRecord, Decision) before each decision is carried out, and with each StepRecord once
        # its step is over
        self.decision_listeners = []
        self.step_listeners = []
        self._done = False
        self._loop_task = None
        self._step_lock = asyncio.Lock()
        self._raw_settings_seen = None
        self._minimums_checked = False

    @property
    def ledger(self) -> typing.Optional[vb_ledger.Ledger]:
        return self.books.ledger if self.books is not None else None

    def view(self) -> vb_views.BoosterView:
        return vb_views.BoosterView.of(self, running=self._loop_task is not None and not self._done)

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
        now = gateway.time_source()
        self.clock = vb_clock.ExchangeTimeClock(now) if gateway.is_backtesting else vb_clock.LiveClock(now)
        self.books = vb_books.Books(gateway, vb_ledger.Ledger(self.settings.volume_target), self.logger,
                                    lambda fill: self.wording.fill(fill, self.books.ledger),
                                    self.settings.markout_seconds)
        self.executor = vb_executor.Executor(
            gateway, self.books, self.clock, self.logger,
            lambda reason: self.wording.finish(reason, self.symbol, self.books.ledger))
        self.started_at = gateway.now()
        self.allocation = gateway.starting_allocation()
        resumed = vb_restart.resume(self.gateway.state_path(self.trading_mode.STATE_FOLDER), self.books, self.gateway,
                                    self.settings.volume_target, self.started_at, self.allocation, self.wording,
                                    self.logger)
        if resumed is not None:
            self.restored = True
            self.started_at, self.allocation = resumed
        await self._aim_at_fee_tier()
        self.seed = self.settings.random_seed or random.SystemRandom().randrange(1, 2 ** 31)
        # one stream per pair: two pairs with the same seed still act independently
        self.planner = vb_planner.Planner(self.settings, random.Random(self.seed ^ zlib.crc32(self.symbol.encode())))
        self.books.collect_fills()
        await vb_restart.settle_previous_orders(self.books, self.executor, self._trading, self.logger)
        self.logger.info(self.wording.started(self.restored, self.symbol, self.settings, self.ledger, self.allocation,
                                              self.seed))
        if self.settings_error:
            self.finished_reason = strategy.INVALID_SETTINGS
        elif not self.settings.enabled:
            self.finished_reason = strategy.DISABLED
            self.logger.info("Volume Booster is disabled (enabled: false): no order is placed.")
        self._loop_task = asyncio.create_task(self._run())

    @property
    def _trading(self) -> bool:
        return self.settings.enabled and self.settings_error is None

    def _apply_settings(self, raw: dict) -> bool:
        """Validate (new) settings; on error, keep trading nothing and say why."""
        self._raw_settings_seen = dict(raw)
        try:
            settings = vb_settings.parse_settings(raw)
            # the fee level is aimed at again with these settings at the next step
            self.fee_tier.apply(settings)
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
        self.gateway.stp_group = settings.gate_stp_group
        self.wording = vb_status.Wording(self.base, self.quote, settings.volume_target)
        if self.books is not None:
            self.ledger.target = settings.volume_target
            self.books.execution.markout_seconds = settings.markout_seconds
        if self.planner is not None:
            self.planner.settings = settings
        return True

    async def _aim_at_fee_tier(self) -> None:
        """With a fee-tier target mode, aim at the level and trade with the settings it needs."""
        if self.settings_error:
            return
        if await self.fee_tier.aim_at(self.settings, self.ledger, self.started_at):
            self._follow_fee_tier(self.gateway.now())

    def _follow_fee_tier(self, now: float):
        """Trade with the settings the fee level needs now; why nothing is traded for the level, if so."""
        view = self.fee_tier.follow(now, self.ledger)
        if view is None:
            return None
        self.settings = self.fee_tier.aim.effective
        self.ledger.target = self.settings.volume_target
        if self.planner is not None:
            self.planner.settings = self.settings
        return view.waiting

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
        await vb_clock.stop_loop_task(task, self._step_lock, STOP_STEP_TIMEOUT)
        if self.clock is not None:
            self.clock.release()
        if self.books is None:
            return
        if cancel_open_orders:
            await self.books.refresh()
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
        await self.gateway.follow_settings_file()
        if self.trading_mode.raw_settings != self._raw_settings_seen:
            self._apply_settings(self.trading_mode.raw_settings)
        books.collect_fills()
        await books.refresh()
        if self.fee_tier.aim is None:
            await self._aim_at_fee_tier()
        tier_waiting = self._follow_fee_tier(record.time)
        decision = strategy.before_market(self._step_view(record.time))
        self._note_trading_state(decision)
        await self._carry_out(record, decision)
        if decision.final is not None:
            return
        if tier_waiting:
            executor.note_wait(tier_waiting)
            return
        market = await executor.guarded("fetch", self._market_view())
        if market is None or isinstance(market, str):
            if market:
                executor.note_wait(market)
            return
        record.market = market.snapshot
        books.execution.observe(record.time, market.snapshot.mid)
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
            # the withdrawn orders no longer cover any of the target
            progress = record.progress = books.progress(self.clock.now(), self.started_at)
            decision = strategy.orders(self._step_view(record.time), market.snapshot, progress, self.planner,
                                       closing_done=True)
            await self._carry_out(record, decision, market, progress)
        books.collect_fills()
        await books.refresh()
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
        line = self.wording.status(state, self.ledger, self.gateway.last_price(), len(self.books.orders),
                                   sum(self.executor.failures.values()))
        tier = self.fee_tier.status_text()
        return line if tier is None else f"{line}; {tier}"
