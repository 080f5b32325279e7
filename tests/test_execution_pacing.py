"""Pacing in OctoBot's real backtesting engine: a deadline spreads the volume over its window and reaches the target
before it, and a daily cap spreads the target over UTC days without exceeding the cap."""
import collections
import math
import random

import pytest

from tests import execution_runs as runs
from tests.execution_runs import ADA_BTC_10_DAYS, D, ZERO

pytestmark = runs.needs_shared_data


PACED = {"volume_target": 0.3, "order_type": "market", "random_seed": 5, "min_buy_amount": 0.001,
         "max_buy_amount": 0.005, "min_sell_amount": 0.001, "max_sell_amount": 0.005}
DEADLINE_HOURS = 48


@pytest.fixture(scope="module")
def deadline_run():
    if not ADA_BTC_10_DAYS.exists():
        pytest.skip("10-day ADA/BTC file missing")
    return runs.run_recorded(ADA_BTC_10_DAYS, {**PACED, "deadline_hours": DEADLINE_HOURS})


def test_deadline_spreads_the_volume_over_the_deadline(deadline_run):
    run = deadline_run
    volume = run.volume()
    assert volume >= D(str(PACED["volume_target"]))
    first = run.created[0]["t"]
    reached = _time_target_reached(run)
    # not in the first small fraction of the time: at least half of it passed
    assert reached - first >= DEADLINE_HOURS * 3600 / 2
    per_hour = collections.Counter()
    for trade in run.trades:
        per_hour[int((trade["t"] - first) // 3600)] += trade["qty"] * trade["price"]
    # spread: fills in most hours, no single hour above 10 % of the volume (2.1 % if perfectly even)
    assert len(per_hour) >= DEADLINE_HOURS / 2
    assert max(per_hour.values()) <= volume * D("0.10"), max(per_hour.values()) / volume


def test_deadline_target_is_reached_before_the_deadline(deadline_run):
    run = deadline_run
    assert _time_target_reached(run) - run.created[0]["t"] <= DEADLINE_HOURS * 3600


def _time_target_reached(run):
    target = D(str(run.result.target))
    volume = ZERO
    for trade in run.trades:
        volume += trade["qty"] * trade["price"]
        if volume >= target:
            return trade["t"]
    raise AssertionError(f"target {target} never reached (volume {volume})")


def test_deadline_delay_never_schedules_past_the_deadline():
    """Pure check of the same rule over many seeds: one order's worth of volume missing, one hour left."""
    from tentacles.Trading.Mode.volume_booster_trading_mode import planner as vb_planner
    from tentacles.Trading.Mode.volume_booster_trading_mode import settings as vb_settings
    settings = vb_settings.parse_settings({**PACED, "deadline_hours": DEADLINE_HOURS})
    started = 1_531_427_700.0
    now = started + (DEADLINE_HOURS - 1) * 3600
    late = 0
    for seed in range(1000):
        planner = vb_planner.Planner(settings, random.Random(seed))
        progress = vb_planner.Progress(volume=D("0.298"), now=now, started_at=started, fill_ratio=1.0)
        if now + planner.next_delay(progress) > started + DEADLINE_HOURS * 3600:
            late += 1
    assert late == 0, f"{late} of 1000 seeds schedule the last order after the deadline"


DAILY_CAP = D("0.1")


@pytest.fixture(scope="module")
def daily_cap_run():
    if not ADA_BTC_10_DAYS.exists():
        pytest.skip("10-day ADA/BTC file missing")
    return runs.run_recorded(ADA_BTC_10_DAYS, {**PACED, "volume_target": 0.3, "daily_volume_cap": float(DAILY_CAP)})


def _volume_per_utc_day(run):
    days = collections.Counter()
    for trade in run.trades:
        days[int(trade["t"] // 86400)] += trade["qty"] * trade["price"]
    return days


def test_daily_cap_spreads_the_target_over_utc_days(daily_cap_run):
    run = daily_cap_run
    days = _volume_per_utc_day(run)
    target = D(str(PACED["volume_target"]))
    assert run.volume() >= target
    # the target needs at least target / cap days
    assert len(days) >= math.ceil(target / DAILY_CAP)
    # within one exchange-minimum order (0.001 BTC raised by 0.1 %) of the cap on every day
    exchange_minimum = runs.exchange_minimums(run, "ADA/BTC")[1] * D("1.001")
    for day, volume in days.items():
        assert volume <= DAILY_CAP + exchange_minimum + D("1e-9"), (day, volume)


def test_daily_cap_is_never_exceeded(daily_cap_run):
    for day, volume in _volume_per_utc_day(daily_cap_run).items():
        assert volume <= DAILY_CAP + D("1e-9"), (day, volume)
