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
