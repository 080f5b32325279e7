"""Aiming at a fee tier in OctoBot's real backtesting engine: `keep_fee_tier` trades each UTC day the volume it
computed and published for that day, spread over the day; `next_fee_tier` reaches the volume it needs before its
deadline; a level that does not pay, with `skip_unprofitable_tier`, places no order."""
import collections
import functools

import pytest

from tests import execution_runs as runs
from tests.execution_runs import ADA_BTC_10_DAYS, BTC_USDT, D, ZERO

pytestmark = runs.needs_shared_data

DAY = 86400
HOUR = 3600
# ADA/BTC on bittrex (no built-in fee table): the levels in BTC, the account 0.1 BTC above Silver
KEEP = {"target_mode": "keep_fee_tier", "fee_tier_levels": "Base=0:0.20:0.25; Silver=3:0.10:0.10",
        "volume_30d": 3.1, "own_monthly_volume": 1.5, "volume_target": 100, "order_type": "market",
        "random_seed": 5, "min_buy_amount": 0.001, "max_buy_amount": 0.005, "min_sell_amount": 0.001,
        "max_sell_amount": 0.005}
# BTC/USDT on binance: 1,000 USD short of VIP1, four hours to get there
NEXT = {"target_mode": "next_fee_tier", "volume_30d": 999000, "deadline_hours": 4, "order_type": "market",
        "random_seed": 3}


def _publishing_run(data_file, overrides):
    """The run, with what the mode published about its fee level at each order it placed."""
    published = []
    statuses = []

    def note(booster):
        published.append((booster.view().fee_tier, booster.gateway.now()))
        statuses.append(booster.status_text())

    run = runs.run_recorded(data_file, overrides, before_place=note)
    run.published = published
    run.statuses = statuses
    return run


@functools.cache
def keep_run():
    return _publishing_run(ADA_BTC_10_DAYS, KEEP)


@functools.cache
def next_run(skip: bool):
    return _publishing_run(BTC_USDT, {**NEXT, "skip_unprofitable_tier": skip})


def _full_days(run):
    """Trades of each UTC day the data covers from its start to its end."""
    days = collections.defaultdict(list)
    for trade in run.trades:
        days[int(trade["t"] // DAY)].append(trade)
    first, last = min(days), max(days)
    return {day: trades for day, trades in days.items() if first < day < last}


def test_keep_fee_tier_trades_each_day_the_volume_it_published():
    if not ADA_BTC_10_DAYS.exists():
        pytest.skip("10-day ADA/BTC file missing")
    run = keep_run()
    daily = {}
    for view, now in run.published:
        assert view is not None and view.target_mode == "keep_fee_tier"
        assert view.day == int(now // DAY)
        daily.setdefault(view.day, view.daily_volume)
    days = _full_days(run)
    assert len(days) >= 7
    exchange_minimum = runs.exchange_minimums(run, "ADA/BTC")[1] * D("1.001")
    for day, trades in days.items():
        volume = sum((trade["qty"] * trade["price"] for trade in trades), ZERO)
        # the day's volume within one exchange-minimum order: the last order is trimmed to what is left (raised to
        # the exchange's minimum), and less than a minimum order left counts as done
        assert daily[day] > 0
        assert abs(volume - daily[day]) <= exchange_minimum, (day, volume, daily[day])
    # recomputed each day: a day whose volume fell short of the window's steady share asks for more the next day
    assert len(set(daily.values())) > 1


def test_keep_fee_tier_spreads_each_days_volume_over_the_day():
    if not ADA_BTC_10_DAYS.exists():
        pytest.skip("10-day ADA/BTC file missing")
    for day, trades in _full_days(keep_run()).items():
        volume = sum((trade["qty"] * trade["price"] for trade in trades), ZERO)
        per_hour = collections.Counter()
        for trade in trades:
            per_hour[int(trade["t"] % DAY // HOUR)] += trade["qty"] * trade["price"]
        times = sorted(trade["t"] % DAY for trade in trades)
        # not a burst at the start of the day: its orders span most of it, no hour holds a third of it
        assert times[-1] - times[0] >= 12 * HOUR, (day, times[0] / HOUR, times[-1] / HOUR)
        assert max(per_hour.values()) <= volume / 3, (day, max(per_hour.values()), volume)


def test_keep_fee_tier_reports_the_level_and_the_break_even():
    if not ADA_BTC_10_DAYS.exists():
        pytest.skip("10-day ADA/BTC file missing")
    run = keep_run()
    fee_tier = run.result.fee_tier
    assert fee_tier["current_level"] == "Silver" and fee_tier["volume_currency"] == "BTC"
    # the status line OctoBot shows carries the same figures and verdict
    view = run.published[-1][0]
    assert run.statuses[-1].endswith(view.text())
    assert "break-even: cost" in run.statuses[-1] and f"({view.verdict})" in run.statuses[-1]
    # keeping Silver for 30 days against falling to Base, at the own monthly volume of 1.5 BTC
    assert fee_tier["monthly_saving"] == pytest.approx(1.5 * (0.0025 - 0.001))
    assert fee_tier["pays_off"] is (fee_tier["monthly_saving"] > fee_tier["expected_cost"])
    assert "break-even: cost" in fee_tier["text"] and fee_tier["verdict"] in fee_tier["text"]


def test_next_fee_tier_reaches_the_volume_needed_before_its_deadline():
    run = next_run(skip=False)
    view = run.published[0][0]
    start = run.published[0][1]
    # 1,000 USD short, plus 4 h of the evenly spread 999,000 ageing out, plus the 2 % margin
    assert abs(view.volume_needed - (D(1000) + D(999000) / 30 / 6) * D("1.02")) < D("1e-9")
    assert view.deadline == pytest.approx(start + 4 * HOUR, abs=60)
    assert run.result.target == pytest.approx(float(view.volume_needed))
    volume, reached = ZERO, None
    for trade in sorted(run.trades, key=lambda trade: trade["t"]):
        volume += trade["qty"] * trade["price"]
        if volume >= view.volume_needed:
            reached = trade["t"]
            break
    assert reached is not None and reached <= view.deadline
    # spread toward the deadline, not all at once
    assert reached - start >= 2 * HOUR


def test_a_level_that_does_not_pay_is_skipped_without_an_order():
    run = next_run(skip=True)
    assert run.created == []
    assert "skip_unprofitable_tier" in run.result.waiting_reason
    fee_tier = run.result.fee_tier
    assert fee_tier["pays_off"] is False
    # binance's taker fee is the same on Regular and VIP1: the own volume saves nothing at the taker fee
    assert fee_tier["monthly_saving"] == 0 and fee_tier["expected_cost"] > 0
