"""Volume Booster clocks: the one loop of the mode waits on a clock, which is wall time when trading
live and the exchange's simulated time in a backtest.

In a backtest nothing happens between two time steps of the engine, so `asyncio.sleep` would let the
whole backtest run past the loop. :class:`ExchangeTimeClock` instead parks the loop until the
engine's time reaches the loop's due time; the engine calls :meth:`ExchangeTimeClock.on_time_update`
at each step and waits there until the loop is parked again, so the loop acts at the right simulated
time and the engine never runs ahead of it. Pure asyncio, no OctoBot import.

Both clocks also bound how far the loop's schedule may trail their time (:meth:`earliest_due`): live, a
stalled host does not replay more than a given lag; in a backtest, one engine time step holds at most
:data:`SCHEDULE_SECONDS_PER_STEP` of schedule, so the loop's cost follows the engine's steps, not its interval.
On 1m data a step holds its whole minute (and a gap of k missing minutes its k minutes), as it always did;
a 4h step holds what one minute holds, not an hour of 2-8 s delays at one price.
"""
import asyncio
import typing

# schedule (seconds) one backtesting time step may hold: the whole of a 1m step
SCHEDULE_SECONDS_PER_STEP = 60


class LiveClock:
    """Wall-clock waiting; `now` comes from the exchange (its time is wall time live)."""

    def __init__(self, now: typing.Callable[[], float], max_sleep: float = 1.0):
        self.now = now
        # sleep in short slices so a stop request or settings change is seen quickly
        self._max_sleep = max_sleep

    async def sleep_until(self, due: float) -> None:
        while True:
            remaining = due - self.now()
            if remaining <= 0:
                return
            await asyncio.sleep(min(remaining, self._max_sleep))

    async def on_time_update(self) -> None:
        """Live time flows by itself: nothing to do."""

    def earliest_due(self, max_lag: float, time_step: typing.Optional[float] = None) -> float:
        """The oldest due time the schedule may keep: a stalled host replays at most `max_lag` seconds of it
        (`time_step` is for the exchange-time clock: live time has no steps)."""
        return self.now() - max_lag

    def release(self) -> None:
        """Nothing is waiting on a live clock."""


class ExchangeTimeClock:
    """Simulated-time waiting driven by the backtesting engine's time updates."""

    def __init__(self, now: typing.Callable[[], float]):
        self.now = now
        self._due = None
        self._wake_up = None
        self._sleeper = None
        self._parked = asyncio.Event()
        # the engine's time at its latest time update and at the one before
        self._update_time = None
        self._previous_update_time = None

    async def sleep_until(self, due: float) -> None:
        while self.now() < due:
            self._due = due
            self._sleeper = asyncio.current_task()
            self._wake_up = asyncio.get_running_loop().create_future()
            self._parked.set()
            try:
                await self._wake_up
            finally:
                self._wake_up = None

    async def on_time_update(self) -> None:
        """Called by the engine after each time step: runs the loop until it waits again."""
        now = self.now()
        if self._update_time is None or now > self._update_time:
            self._previous_update_time, self._update_time = self._update_time, now
        wake_up = self._wake_up
        if wake_up is None or wake_up.done() or self.now() < self._due:
            return
        self._parked.clear()
        wake_up.set_result(None)
        sleeper = self._sleeper
        parked = asyncio.ensure_future(self._parked.wait())
        try:
            # the loop parks again, or its task ends (even without release): never wait forever
            await asyncio.wait({parked, sleeper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            parked.cancel()

    def earliest_due(self, max_lag: float, time_step: typing.Optional[float] = None) -> float:
        """The oldest due time the schedule may keep: at most `max_lag` seconds behind, and the engine's latest
        move holds at most SCHEDULE_SECONDS_PER_STEP of schedule per `time_step` (the engine's step, seconds)
        it spans. When a 1m step holds its whole minute, this never drops a due time: the loop parked at a due
        time after the previous update."""
        now = self.now()
        earliest = now - max_lag
        if time_step and self._previous_update_time is not None:
            held = (now - self._previous_update_time) * min(1.0, SCHEDULE_SECONDS_PER_STEP / time_step)
            earliest = max(earliest, now - held)
        return earliest

    def release(self) -> None:
        """The loop ended (or failed): never keep the engine waiting for it."""
        self._parked.set()
        if self._wake_up is not None and not self._wake_up.done():
            self._wake_up.cancel()


async def stop_loop_task(task: typing.Optional[asyncio.Task], step_lock: asyncio.Lock, timeout: float) -> None:
    """Stop a loop task after the step in progress (bounded by `timeout`), so an order being created is known.
    A task parked between two steps (always so when a backtest ends) is cancelled and not waited for: the stop
    must not hand control to the event loop, or another task of OctoBot's backtest starts closing the data file,
    `OctoBot -b` stops its event loop before that task is done and the file's database thread keeps the process
    alive for ever."""
    if task is None or task.done():
        return
    if not step_lock.locked():
        task.cancel()
        return
    try:
        async with asyncio.timeout(timeout):
            async with step_lock:
                task.cancel()
    except TimeoutError:
        task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
