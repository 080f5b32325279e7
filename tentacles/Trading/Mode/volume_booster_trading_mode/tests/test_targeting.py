"""Aiming at a fee tier: the target, deadline and daily volume the planner gets, the break-even verdict, and the one
clear line for an exchange without fee levels."""
import decimal
import random

import pytest

from tentacles.Trading.Mode.volume_booster_trading_mode import fee_tiers
from tentacles.Trading.Mode.volume_booster_trading_mode import planner as vb_planner
from tentacles.Trading.Mode.volume_booster_trading_mode import settings as vb_settings
from tentacles.Trading.Mode.volume_booster_trading_mode import targeting

D = decimal.Decimal
DAY = 86400
# 2026-12-02 12:00 UTC
NOON = 1_796_212_800.0
assert NOON % DAY == 12 * 3600


def _settings(**values):
    return vb_settings.parse_settings({"target_mode": "next_fee_tier", **values})


def _binance(settings):
    return targeting.load_schedule(settings, "binance", "USDT")


def test_next_tier_targets_the_missing_volume_plus_what_ages_out_by_the_recompute():
    settings = _settings(own_monthly_volume=50_000_000, volume_30d=900_000)
    effective, view = targeting.next_tier(settings, _binance(settings), D(900_000), "setting", NOON, NOON,
                                          cost=D("0.001"))
    # VIP1 at 1,000,000; half a day of the evenly spread 900,000 ages out before 00:00 UTC; 2 % margin
    expected = (D(100_000) + D(900_000) / 30 / 2) * D("1.02")
    assert effective.volume_target == expected
    assert view.volume_needed == expected
    assert view.deadline == NOON + 12 * 3600
    assert effective.deadline_hours == pytest.approx(12)
    assert (view.current_level, view.next_level) == ("Regular", "VIP1")
    # the taker fee does not change from Regular to VIP1 on binance's table: the maker fee saves nothing here
    assert view.expected_cost == expected * D("0.001")


def test_a_deadline_set_by_the_user_wins_over_the_recompute():
    settings = _settings(own_monthly_volume=1_000_000, volume_30d=900_000, deadline_hours=36)
    effective, view = targeting.next_tier(settings, _binance(settings), D(900_000), "setting", NOON, NOON,
                                          cost=D("0.001"))
    assert effective.deadline_hours == 36
    assert view.deadline == NOON + 36 * 3600
    # a day and a half of the window ages out by then
    assert view.volume_needed == (D(100_000) + D(900_000) / 30 * D("1.5")) * D("1.02")


LEVELS = "Base=0:0.10:0.10; Silver=1000:0.05:0.06"


def test_a_level_that_does_not_pay_is_skipped_naming_the_setting():
    settings = _settings(fee_tier_levels=LEVELS, own_monthly_volume=1000)
    schedule = targeting.load_schedule(settings, "bittrex", "BTC")
    _, view = targeting.next_tier(settings, schedule, D(950), "setting", NOON, NOON, cost=D("0.001"))
    # saving 1000 x (0.10 - 0.06) % = 0.4 against a cost of about 0.1 x volume needed
    assert view.monthly_saving == D(1000) * D("0.0004")
    assert view.pays_off is (view.monthly_saving > view.expected_cost)
    settings = _settings(fee_tier_levels=LEVELS, own_monthly_volume=10)
    _, view = targeting.next_tier(settings, schedule, D(950), "setting", NOON, NOON, cost=D("0.001"))
    assert view.pays_off is False
    assert "skip_unprofitable_tier" in view.waiting
    assert "does not pay" in view.text()
    settings = _settings(fee_tier_levels=LEVELS, own_monthly_volume=10, skip_unprofitable_tier=False)
    _, view = targeting.next_tier(settings, schedule, D(950), "setting", NOON, NOON, cost=D("0.001"))
    assert view.pays_off is False and view.waiting is None


def test_an_exchange_without_a_table_is_one_line_naming_target_mode_and_the_known_exchanges():
    settings = _settings()
    with pytest.raises(vb_settings.SettingsError) as error:
        targeting.load_schedule(settings, "bittrex", "BTC")
    assert error.value.setting == "target_mode"
    message = str(error.value)
    assert "\n" not in message and "fee_tier_levels" in message
    assert all(exchange in message for exchange in fee_tiers.known_exchanges())


def test_bad_levels_name_fee_tier_levels_once():
    with pytest.raises(vb_settings.SettingsError) as error:
        targeting.load_schedule(_settings(fee_tier_levels="Silver=lots"), "binance", "USDT")
    assert error.value.setting == "fee_tier_levels"
    assert str(error.value).count("fee_tier_levels") == 1
    with pytest.raises(vb_settings.SettingsError) as error:
        # no level at 0 for an exchange without a table
        targeting.load_schedule(_settings(fee_tier_levels="Silver=1000:0.05:0.06"), "bittrex", "BTC")
    assert error.value.setting == "fee_tier_levels"


def test_user_levels_of_an_exchange_without_a_table_are_in_the_pairs_quote():
    schedule = targeting.load_schedule(_settings(fee_tier_levels=LEVELS), "bittrex", "BTC")
    assert [level.name for level in schedule.levels] == ["Base", "Silver"]
    assert schedule.volume_currency == "BTC"


def _keep(**values):
    return vb_settings.parse_settings({"target_mode": "keep_fee_tier", "fee_tier_levels": LEVELS,
                                       "own_monthly_volume": 300, **values})


def test_keep_tier_gives_the_day_its_volume_as_the_daily_cap():
    settings = _keep()
    schedule = targeting.load_schedule(settings, "bittrex", "BTC")
    days = targeting.DailyVolumes(NOON, D(1050))
    effective, view = targeting.keep_tier(settings, schedule, days, "setting", NOON, cost=D("0.001"))
    expected = fee_tiers.keep_daily_volume(schedule, D(1050), D(300), daily_volumes=days.window(
        targeting.utc_day(NOON)), margin=D("0.02"))
    assert expected > 0
    assert effective.daily_volume_cap == view.daily_volume == expected
    assert view.current_level == "Silver" and view.day == targeting.utc_day(NOON)
    assert effective.volume_target == settings.volume_target


def test_keep_tier_at_the_first_level_has_nothing_to_keep():
    settings = _keep()
    schedule = targeting.load_schedule(settings, "bittrex", "BTC")
    _, view = targeting.keep_tier(settings, schedule, targeting.DailyVolumes(NOON, D(500)), "setting", NOON,
                                  cost=D("0.001"))
    assert "no level to keep" in view.waiting


def test_each_utc_day_gets_its_volume_again_from_what_the_mode_traded():
    settings = _keep(own_monthly_volume=0)
    schedule = targeting.load_schedule(settings, "bittrex", "BTC")
    traded = {}
    aim = targeting.TierAim(settings, schedule, D(1050), "setting", None, NOON)
    first = aim.update(NOON, D("0.001"), lambda day: traded.get(day, D(0)), D(0))
    assert aim.update(NOON + 3600, D("0.001"), lambda day: D(0), D(0)) is first
    # 1020 (Silver's 1000 + 2 %) over 30 days
    assert first.daily_volume == D(1020) / 30
    # the mode traded only half of it on the first day: the next day needs more
    traded[targeting.utc_day(NOON)] = first.daily_volume / 2
    second = aim.update(NOON + DAY, D("0.001"), lambda day: traded.get(day, D(0)), D(0))
    assert second.day == first.day + 1
    # the hardest day is when only the half day is left of the window: 29 days to make up 1020 - 17
    assert second.daily_volume == (D(1020) - first.daily_volume / 2) / 29
    assert second.daily_volume > first.daily_volume
    assert aim.effective.daily_volume_cap == second.daily_volume


def test_keep_tier_paces_the_days_volume_over_the_day():
    settings = dataclasses_replace(_keep(min_interval_seconds=2, max_interval_seconds=8, min_buy_amount=0.001,
                                         max_buy_amount=0.005, min_sell_amount=0.001, max_sell_amount=0.005),
                                   daily_volume_cap=D("0.3"))
    planner = vb_planner.Planner(settings, random.Random(1))
    day_start = NOON - 12 * 3600
    progress = vb_planner.Progress(volume=D(0), day_volume=D(0), now=day_start, started_at=day_start)
    delays = [planner.next_delay(progress) for _ in range(200)]
    # 0.3 over 90 % of the day at 0.003 per order: about 100 orders, one every ~780 s
    assert 500 < sum(delays) / len(delays) < 1100
    fixed = vb_planner.Planner(dataclasses_replace(settings, target_mode="fixed"), random.Random(1))
    assert max(fixed.next_delay(progress) for _ in range(200)) <= 8


def dataclasses_replace(settings, **values):
    import dataclasses
    return dataclasses.replace(settings, **values)


def test_a_volume_in_another_currency_than_the_table_is_not_compared():
    # a BTC-quoted pair's trades against a table in USD: not comparable; stablecoins count as dollars
    assert not targeting.same_currency("BTC", "USD")
    assert targeting.same_currency("USDT", "USD") and targeting.same_currency("ZUSD", "USD")
    assert targeting.same_currency(None, "USD") and targeting.same_currency("BTC", "BTC")


def test_at_the_top_level_next_fee_tier_keeps_waiting_on_the_following_days():
    settings = _settings(volume_30d=10 ** 9)
    aim = targeting.TierAim(settings, _binance(settings), D(10 ** 9), "setting", None, NOON, now=NOON)
    first = aim.update(NOON, D("0.001"), lambda day: D(0), D(0))
    assert first.next_level is None and "top fee level" in first.waiting
    later = aim.update(NOON + 2 * DAY, D("0.001"), lambda day: D(0), D(0))
    assert later.waiting == first.waiting


def test_a_level_recomputed_after_every_trade_has_no_deadline_to_race():
    settings = _settings(volume_30d=5000)
    kraken = targeting.load_schedule(settings, "kraken", "USD")
    effective, view = targeting.next_tier(settings, kraken, D(5000), "setting", NOON, NOON, cost=D("0.004"))
    assert effective.deadline_hours == 0 and view.deadline is None
    assert "no deadline" in view.text()
    assert effective.volume_target > 0


def test_today_s_volume_adds_to_the_day_before():
    days = targeting.DailyVolumes(NOON, D(0), {targeting.utc_day(NOON) - 1: D(500), targeting.utc_day(NOON): D(20)})
    assert days.window(targeting.utc_day(NOON))[-1] == D(520)


def test_octobot_s_gateio_uses_the_gate_table():
    settings = _settings()
    assert targeting.load_schedule(settings, "gateio", "USDT").exchange == "gate"
