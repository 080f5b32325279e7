"""Clocks: the exchange-time clock wakes the loop only when simulated time reaches its due time, and the
engine waits for the loop to park again before moving on."""
import asyncio

from tentacles.Trading.Mode.volume_booster_trading_mode import clock as vb_clock


def test_exchange_clock_runs_due_steps_at_each_time_update():
    async def scenario():
        now = {"t": 0.0}
        clock = vb_clock.ExchangeTimeClock(lambda: now["t"])
        acted = []

        async def loop():
            due = 0.0
            while True:
                await clock.sleep_until(due)
                acted.append((due, now["t"]))
                due += 25

        task = asyncio.create_task(loop())
        await asyncio.sleep(0)
        for step in range(1, 4):
            now["t"] = step * 60.0
            await clock.on_time_update()  # returns only once the loop is parked again
            assert acted[-1][1] == now["t"]
        task.cancel()
        clock.release()
        return acted

    acted = asyncio.run(scenario())
    # due times 0, 25, 50, ... acted at the first engine time at or after them; none early
    assert [due for due, _ in acted] == [0, 25, 50, 75, 100, 125, 150, 175]
    assert all(at >= due for due, at in acted)


def test_time_update_before_due_does_not_wake_the_loop():
    async def scenario():
        now = {"t": 0.0}
        clock = vb_clock.ExchangeTimeClock(lambda: now["t"])
        woke = []

        async def loop():
            await clock.sleep_until(100)
            woke.append(now["t"])

        task = asyncio.create_task(loop())
        await asyncio.sleep(0)
        now["t"] = 60
        await clock.on_time_update()
        assert woke == []
        now["t"] = 120
        await asyncio.wait_for(clock.on_time_update(), 1)
        await task
        return woke

    assert asyncio.run(scenario()) == [120]


def test_released_clock_never_blocks_the_engine():
    async def scenario():
        now = {"t": 0.0}
        clock = vb_clock.ExchangeTimeClock(lambda: now["t"])

        async def failing_loop():
            try:
                await clock.sleep_until(10)
                raise RuntimeError("step failed")
            finally:
                clock.release()

        task = asyncio.create_task(failing_loop())
        await asyncio.sleep(0)
        now["t"] = 20
        await asyncio.wait_for(clock.on_time_update(), 1)
        await asyncio.gather(task, return_exceptions=True)
        await asyncio.wait_for(clock.on_time_update(), 1)

    asyncio.run(scenario())


def test_live_clock_sleeps_until_due():
    async def scenario():
        loop = asyncio.get_running_loop()
        clock = vb_clock.LiveClock(loop.time, max_sleep=0.01)
        start = loop.time()
        await clock.sleep_until(start + 0.05)
        return loop.time() - start

    assert asyncio.run(scenario()) >= 0.05


def _loop_steps(time_step, updates, bounded=True, seed=4, max_lag=3600):
    """Engine times at which a loop paced like the mode's (2-8 s delays) runs its steps, driven by `updates`;
    its schedule is bounded by `earliest_due` (or not at all)."""
    import random

    async def scenario():
        now = {"t": updates[0]}
        clock = vb_clock.ExchangeTimeClock(lambda: now["t"])
        delays = random.Random(seed)
        steps = []

        async def loop():
            due = clock.now()
            while True:
                await clock.sleep_until(due)
                steps.append((due, now["t"]))
                floor = clock.earliest_due(max_lag, time_step) if bounded else float("-inf")
                due = max(due + delays.uniform(2, 8), floor)

        task = asyncio.create_task(loop())
        await asyncio.sleep(0)
        for update in updates:
            now["t"] = update
            await clock.on_time_update()
        task.cancel()
        clock.release()
        return steps

    return asyncio.run(scenario())


def test_one_minute_steps_keep_the_whole_schedule_even_over_gaps():
    # 1m data with missing candles (jumps of 2, 5 and 13 minutes): every due time runs, as without any bound
    updates = [0.0]
    for jump in [1] * 30 + [2, 1, 5, 1, 1, 13] + [1] * 20:
        updates.append(updates[-1] + jump * 60)
    assert _loop_steps(60, updates) == _loop_steps(60, updates, bounded=False)
    assert len(_loop_steps(60, updates)) > (updates[-1] - updates[0]) / 8


def test_four_hour_steps_hold_what_one_minute_holds():
    time_step = 4 * 3600
    updates = [index * time_step for index in range(20)]
    steps = _loop_steps(time_step, updates)
    per_update = [sum(1 for _, at in steps if at == update) for update in updates[1:]]
    # the step already due, then one minute of 2-8 s delays: at most 1 + 60 / 2 more
    assert max(per_update) <= 2 + vb_clock.SCHEDULE_SECONDS_PER_STEP // 2
    assert min(per_update) >= 1
    # the schedule never trails the engine by more than one minute after a step
    unbounded = _loop_steps(time_step, updates, bounded=False)
    assert len(steps) * 20 < len(unbounded)


def test_a_gap_in_coarse_data_holds_one_minute_per_missing_step():
    time_step = 4 * 3600
    updates = [0.0, time_step, 3 * time_step]
    steps = _loop_steps(time_step, updates)
    # caught up: after each update the schedule is due again only after the engine's time
    after_gap = [due for due, at in steps if at == updates[2]]
    assert updates[2] - after_gap[1] <= 2 * vb_clock.SCHEDULE_SECONDS_PER_STEP
    assert updates[2] - after_gap[1] > vb_clock.SCHEDULE_SECONDS_PER_STEP


def test_live_clock_replays_at_most_the_given_lag():
    clock = vb_clock.LiveClock(lambda: 10000.0)
    assert clock.earliest_due(3600) == 10000.0 - 3600
    assert clock.earliest_due(3600, time_step=14400) == 10000.0 - 3600
