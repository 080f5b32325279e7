"""Fee tiers: every table loads and is consistent, levels by volume, window ageing, recompute times, the volume
needed and kept, break-even verdicts, the user's levels and their one-line errors."""
import datetime
import decimal
import json
import re

import hypothesis
import hypothesis.strategies as st
import pytest

from tentacles.Trading.Mode.volume_booster_trading_mode import fee_tiers

D = decimal.Decimal
UTC = datetime.timezone.utc


def at(text: str) -> float:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def schedule(recompute=fee_tiers.Recompute("daily", "16:00"), levels=None, window_days=30):
    levels = levels or (fee_tiers.FeeLevel("L0", 0, D("0.001"), D("0.001")),
                        fee_tiers.FeeLevel("L1", 1000, D("0.0008"), D("0.0009")),
                        fee_tiers.FeeLevel("L2", 5000, D("0.0005"), D("0.0006")))
    return fee_tiers.FeeSchedule("test", tuple(levels), window_days, recompute, "USD", ("https://example",),
                                 "2026-12-02")


# ---------------------------------------------------------------- tables

@pytest.mark.parametrize("exchange", fee_tiers.known_exchanges())
def test_every_table_loads_and_is_consistent(exchange):
    table = fee_tiers.load_schedule(exchange)
    raw = json.loads((fee_tiers.TABLES_FOLDER / f"{exchange}.json").read_text())
    assert table.exchange == exchange == raw["exchange"]
    thresholds = [level.threshold for level in table.levels]
    assert thresholds[0] == 0 and thresholds == sorted(set(thresholds))
    for lower, higher in zip(table.levels, table.levels[1:]):
        assert higher.maker <= lower.maker and higher.taker <= lower.taker, (lower, higher)
    for level in table.levels:
        assert D(0) <= level.maker <= level.taker < D("0.05"), level
    assert table.window_days == 30
    assert table.source and all(url.startswith(("https://", "http://")) for url in table.source)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", table.checked)
    assert table.volume_currency in ("USD", "USDT")
    # fees are read as percent and kept as fractions
    assert table.levels[0].taker == D(str(raw["levels"][0]["taker_percent"])) / 100


def test_the_seven_exchanges_have_tables_named_by_their_ccxt_ids():
    assert set(fee_tiers.known_exchanges()) == {"binance", "okx", "bybit", "kucoin", "gate", "coinbase", "kraken"}


def test_table_facts_from_the_exchanges_pages():
    binance = fee_tiers.load_schedule("binance")
    assert (binance.levels[0].maker, binance.levels[0].taker) == (D("0.001"), D("0.001"))
    assert binance.levels[1].threshold == 1_000_000 and "25 BNB" in binance.levels[1].condition
    okx = fee_tiers.load_schedule("okx")
    assert okx.recompute == fee_tiers.Recompute("daily", "16:00")
    assert okx.levels[1].threshold == 10_000_000 and "100,000 USD assets" in okx.levels[1].condition
    assert fee_tiers.load_schedule("bybit").recompute == fee_tiers.Recompute("daily", "07:00")
    assert fee_tiers.load_schedule("kucoin").levels[1].threshold == 1_000_000
    assert fee_tiers.load_schedule("gate").levels[1].threshold == 60_000
    assert fee_tiers.load_schedule("coinbase").recompute.kind == "hourly"
    assert fee_tiers.load_schedule("kraken").recompute.kind == "per_trade"


def test_unknown_exchange_is_one_line_listing_the_known_ones():
    with pytest.raises(ValueError) as error:
        fee_tiers.load_schedule("mtgox")
    message = str(error.value)
    assert "\n" not in message and "'mtgox'" in message
    assert all(exchange in message for exchange in fee_tiers.known_exchanges())


# ---------------------------------------------------------------- levels

@pytest.mark.parametrize("volume, now_name, next_name", [
    (0, "L0", "L1"), (999.99, "L0", "L1"), (1000, "L1", "L2"), (4999, "L1", "L2"), (5000, "L2", None),
    (10 ** 9, "L2", None)])
def test_current_and_next_level_by_threshold(volume, now_name, next_name):
    table = schedule()
    assert fee_tiers.current_level(table, D(str(volume))).name == now_name
    upcoming = fee_tiers.next_level(table, D(str(volume)))
    assert (upcoming.name if upcoming else None) == next_name


def test_binance_volume_of_800k_is_regular_with_vip1_next():
    table = fee_tiers.load_schedule("binance")
    assert fee_tiers.current_level(table, 800_000).name == "Regular"
    assert fee_tiers.next_level(table, 800_000).name == "VIP1"
    assert fee_tiers.current_level(table, 1_000_000).name == "VIP1"


# ---------------------------------------------------------------- recompute times

def test_daily_recompute_before_and_after_its_time():
    okx = fee_tiers.load_schedule("okx")
    assert fee_tiers.next_recompute(okx, at("2026-12-02T12:00")) == at("2026-12-02T16:00")
    assert fee_tiers.next_recompute(okx, at("2026-12-02T16:00")) == at("2026-12-03T16:00")
    assert fee_tiers.next_recompute(okx, at("2026-12-02T16:00:01")) == at("2026-12-03T16:00")
    assert fee_tiers.next_recompute(okx, at("2026-12-31T23:59")) == at("2027-01-01T16:00")


def test_hourly_recompute_is_the_next_full_hour():
    coinbase = fee_tiers.load_schedule("coinbase")
    assert fee_tiers.next_recompute(coinbase, at("2026-12-02T12:00")) == at("2026-12-02T13:00")
    assert fee_tiers.next_recompute(coinbase, at("2026-12-02T12:59:59")) == at("2026-12-02T13:00")


def test_per_trade_recompute_is_now():
    kraken = fee_tiers.load_schedule("kraken")
    now = at("2026-12-02T12:34:56")
    assert fee_tiers.next_recompute(kraken, now) == now


def test_a_daily_recompute_needs_a_time():
    with pytest.raises(ValueError, match="HH:MM"):
        fee_tiers.Recompute("daily", "25:00")
    with pytest.raises(ValueError, match="daily, hourly, per_trade"):
        fee_tiers.Recompute("weekly")


# ---------------------------------------------------------------- window ageing

def test_even_window_ages_out_one_thirtieth_a_day():
    table = schedule()
    now = at("2026-12-02T12:00")
    assert fee_tiers.ageing_out(table, 3000, now, now) == 0
    assert fee_tiers.ageing_out(table, 3000, now, now + 86400) == 100
    assert fee_tiers.ageing_out(table, 3000, now, now + 4 * 3600) == D(100) / 6
    assert fee_tiers.ageing_out(table, 3000, now, now + 40 * 86400) == 3000


def test_daily_history_ages_out_its_oldest_days_first():
    table = schedule(window_days=5)
    now = at("2026-12-02T12:00")
    history = [500, 0, 200, 100, 50]  # oldest first
    assert fee_tiers.ageing_out(table, 850, now, now + 86400, history) == 500
    assert fee_tiers.ageing_out(table, 850, now, now + 1.5 * 86400, history) == 500
    assert fee_tiers.ageing_out(table, 850, now, now + 2.5 * 86400, history) == 600
    # a shorter history: the missing oldest days traded nothing
    assert fee_tiers.ageing_out(table, 150, now, now + 3 * 86400, [100, 50]) == 0


def test_daily_history_longer_than_the_window_is_refused():
    with pytest.raises(ValueError, match="at most 5"):
        fee_tiers.ageing_out(schedule(window_days=5), 0, 0, 86400, [1] * 6)


def test_volume_needed_adds_what_ages_out_before_the_recompute():
    table = schedule()
    now = at("2026-12-02T12:00")  # recompute at 16:00: 4 h of the even window age out
    assert fee_tiers.volume_needed(table, 600, now) == 400 + D(600) / 30 / 6
    deadline = now + 10 * 86400
    assert fee_tiers.volume_needed(table, 600, now, deadline) == 400 + 200
    assert fee_tiers.volume_needed(table, 6000, now) == 0  # top level


def test_per_trade_exchange_needs_only_the_gap():
    kraken = fee_tiers.load_schedule("kraken")
    assert fee_tiers.volume_needed(kraken, 30_000, at("2026-12-02T12:00")) == 20_000


@hypothesis.given(volume=st.decimals(min_value=0, max_value=20000, places=2),
                  hours=st.integers(min_value=0, max_value=24 * 40),
                  history=st.one_of(st.none(), st.lists(st.decimals(min_value=0, max_value=1000, places=2),
                                                       min_size=30, max_size=30)))
@hypothesis.settings(max_examples=150, deadline=None, database=None)
def test_trading_the_volume_needed_reaches_the_next_level_at_the_deadline(volume, hours, history):
    table = schedule()
    if history is not None:
        volume = sum(history, D(0))
    now = at("2026-12-02T12:00")
    deadline = now + hours * 3600
    needed = fee_tiers.volume_needed(table, volume, now, deadline, history)
    assert needed >= 0
    upcoming = fee_tiers.next_level(table, volume)
    if upcoming is None:
        assert needed == 0
        return
    at_deadline = volume - fee_tiers.ageing_out(table, volume, now, deadline, history) + needed
    # exactly the threshold (up to Decimal's rounding of the even spread): the next level, not beyond
    assert abs(at_deadline - upcoming.threshold) < D("1e-18")
    assert fee_tiers.current_level(table, at_deadline + D("1e-18")) == upcoming


# ---------------------------------------------------------------- keeping a level

def test_keep_daily_volume_replaces_what_ages_out():
    table = schedule()
    # 1,500 spread evenly over 30 days at L1 (threshold 1,000, margin 2 %: floor 1,020)
    keep = fee_tiers.keep_daily_volume(table, 1500, 0)
    assert keep == D(1020) / 30
    # the user's own volume counts toward it
    assert fee_tiers.keep_daily_volume(table, 1500, 600) == D(1020) / 30 - 20
    assert fee_tiers.keep_daily_volume(table, 1500, 30600) == 0
    assert fee_tiers.keep_daily_volume(table, 500, 0) == 0  # lowest level: nothing to keep


def test_keep_daily_volume_with_a_front_loaded_history():
    table = schedule(window_days=3)
    # all 1,200 in the oldest day: it leaves tomorrow, so tomorrow alone must bring 1,020
    assert fee_tiers.keep_daily_volume(table, 1200, 0, [1200, 0, 0]) == 1020
    # all in today: two days pass before anything leaves, then 1,020 over three days
    assert fee_tiers.keep_daily_volume(table, 1200, 0, [0, 0, 1200]) == 340


@hypothesis.given(history=st.lists(st.decimals(min_value=0, max_value=500, places=2), min_size=10, max_size=10),
                  own=st.decimals(min_value=0, max_value=3000, places=2))
@hypothesis.settings(max_examples=150, deadline=None, database=None)
def test_trading_the_keep_volume_every_day_keeps_the_level(history, own):
    table = schedule(window_days=10)
    volume = sum(history, D(0))
    level = fee_tiers.current_level(table, volume)
    daily = fee_tiers.keep_daily_volume(table, volume, own, history) + own / 10
    window = list(history)
    for _ in range(10):
        window = window[1:] + [daily]
        assert sum(window, D(0)) >= level.threshold


# ---------------------------------------------------------------- break-even and plan

def test_break_even_both_verdicts():
    now, upcoming = schedule().levels[0], schedule().levels[1]
    # saving: 100,000 x (0.10 % - 0.09 %) = 10
    paying = fee_tiers.break_even(D(5000), D("0.001"), D(100_000), now, upcoming)
    assert paying == fee_tiers.BreakEven(D(5), D(10), True)
    losing = fee_tiers.break_even(D(20000), D("0.001"), D(100_000), now, upcoming)
    assert losing == fee_tiers.BreakEven(D(20), D(10), False)
    assert fee_tiers.break_even(D(10000), D("0.001"), D(100_000), now, upcoming).pays_off is False  # equal


def test_break_even_maker_share_blends_the_maker_fee():
    now, upcoming = schedule().levels[0], schedule().levels[1]
    all_maker = fee_tiers.break_even(D(0), D(0), D(100_000), now, upcoming, maker_share=1)
    assert all_maker.monthly_saving == D(20)
    half = fee_tiers.break_even(D(0), D(0), D(100_000), now, upcoming, maker_share=D("0.5"))
    assert half.monthly_saving == D(15)
    with pytest.raises(ValueError, match="maker_share"):
        fee_tiers.break_even(D(0), D(0), D(1), now, upcoming, maker_share=2)


def test_plan_defaults_to_the_taker_fee_and_the_next_recompute():
    okx = fee_tiers.load_schedule("okx")
    now = at("2026-12-02T12:00")
    result = fee_tiers.plan(okx, D(9_600_000), now, own_monthly_volume=D(50_000_000))
    assert (result.current_level, result.next_level, result.threshold) == ("Lv1", "VIP1", D(10_000_000))
    assert result.deadline == at("2026-12-02T16:00")
    ageing = D(9_600_000) / 30 / 6
    assert result.volume_needed == 400_000 + ageing
    assert result.expected_cost == result.volume_needed * D("0.001")
    assert result.monthly_saving == D(50_000_000) * D("0.0002")
    assert result.pays_off is True
    costly = fee_tiers.plan(okx, D(9_600_000), now, own_monthly_volume=D(1_000_000))
    assert costly.pays_off is False and "costs more" in costly.reason


def test_plan_with_a_measured_cost_and_a_deadline():
    table = schedule()
    now = at("2026-12-02T12:00")
    result = fee_tiers.plan(table, 600, now, own_monthly_volume=D(1_000_000), cost_per_volume=D("0.0002"),
                            deadline=now + 10 * 86400)
    assert result.volume_needed == 600 and result.expected_cost == D("0.12")
    assert result.monthly_saving == 100 and result.pays_off


def test_plan_at_the_top_level_says_so():
    result = fee_tiers.plan(schedule(), 7000, at("2026-12-02T12:00"), own_monthly_volume=10 ** 6)
    assert result.next_level is None and result.threshold is None
    assert result.volume_needed == 0 and result.pays_off is False
    assert "top level" in result.reason


def test_plan_json_keys_are_fields():
    fields = {field for field in fee_tiers.TierPlan.__dataclass_fields__}
    assert set(fee_tiers.TierPlan.JSON_KEYS) <= fields


# ---------------------------------------------------------------- the user's levels

def test_parse_levels_and_override_a_table():
    levels = fee_tiers.parse_levels(" VIP1=1000000:0.09:0.10; VIP2=5,000,000:0.08:0.095 ;")
    assert levels == (fee_tiers.FeeLevel("VIP1", D(1_000_000), D("0.0009"), D("0.001")),
                      fee_tiers.FeeLevel("VIP2", D(5_000_000), D("0.0008"), D("0.00095")))
    assert fee_tiers.parse_levels("") == ()
    binance = fee_tiers.load_schedule("binance", levels)
    assert fee_tiers.next_level(binance, 2_000_000).taker == D("0.00095")  # replaced
    added = fee_tiers.load_schedule("kraken", fee_tiers.parse_levels("Tier 2b=75000:0.13:0.23"))
    assert [level.name for level in added.levels] == ["Tier 0", "Tier 1", "Tier 2", "Tier 2b", "Tier 3"]
    assert fee_tiers.next_level(added, 60_000).threshold == 75_000  # added, in threshold order


@pytest.mark.parametrize("text", ["VIP1=abc:0.1:0.1", "VIP1=1000:0.1", "VIP1 1000:0.1:0.1", "=1000:0.1:0.1",
                                  "VIP1=-5:0.1:0.1", "VIP1=1000:0.1:101", "VIP1=1e999999:0.1:0.1",
                                  "VIP1=1:0.1:0.1;VIP1=2:0.1:0.1", "VIP1=NaN:0.1:0.1"])
def test_bad_levels_text_is_one_line_naming_the_setting_and_the_format(text):
    with pytest.raises(ValueError) as error:
        fee_tiers.parse_levels(text)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith("fee_tier_levels: ")
    assert "NAME=THRESHOLD:MAKER%:TAKER%" in message
