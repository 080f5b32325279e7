"""A backtest ends with its report whatever state the Volume Booster is in when the data ends.

- `OctoBot -b` (the package installed with OctoBot's tentacles manager, as in test_octobot_e2e) on real binance
  BTC/USDT 1m data, with targets the data cannot reach: limit orders (the shipped profile as it is), market
  orders, and settings that stop the mode at start. Each run must print OctoBot's report and exit by itself; it
  is killed (and the test fails) if it is still alive after BACKTEST_TIMEOUT.
- `volume-booster simulate` (OctoBot's engine in this process) with an unreached target ends with its report.
- On 4h data (one engine time step = 4 hours) the loop runs a bounded number of steps per engine step: seen in
  the orders each pair created over the simulated span.
"""
import json
import re
import shutil

import pytest

from tentacles.Trading.Mode.volume_booster_trading_mode import clock as vb_clock
from tentacles.Trading.Mode.volume_booster_trading_mode.settings import flatten as flatten_settings
from tests.octobot_process import build_bot_folder, is_known_segfault_at_exit, run_octobot, write_settings
from volume_booster import cli, datafile, simulation


BTC_USDT_1M = "AbstractExchangeHistoryCollector_1586017993.616272.data"  # binance BTC/USDT, 1m, 502 candles
FOUR_HOURS = "ExchangeHistoryDataCollector_1711122002.311132.data"  # binance BNB, BTC, ETH, SOL /USDT, 500 x 4h
# a hang guard, not a speed check: these backtests take seconds
BACKTEST_TIMEOUT = 300
UNREACHABLE_TARGET = 10 ** 9
REPORT_HEADER = "**** Backtesting report ****"
REPORT_TRADES_LINE = re.compile(r"========= (?P<count>\d+) Trades on binance =========")
STARTED_LINE = re.compile(r"VolumeBooster\[BTC/USDT\] Volume Booster started on BTC/USDT: target (?P<target>[\d.]+) USDT")
FILL_PERCENT = re.compile(r"VolumeBooster\[BTC/USDT\] Fill .* \((?P<percent>[\d.]+)%\)")
NOT_TRADING_LINE = re.compile(r"VolumeBooster\[BTC/USDT\] Volume Booster is NOT trading on BTC/USDT: "
                              r"Invalid Volume Booster setting 'min_interval_seconds'")


@pytest.fixture(scope="module")
def bot(shared_data, tmp_path_factory):
    source = shared_data / BTC_USDT_1M
    if not source.is_file():
        pytest.skip(f"market data file missing: {source}")
    bot = build_bot_folder(tmp_path_factory.mktemp("backtest_exit"))
    data_dir = bot / "backtesting" / "data"
    data_dir.mkdir(parents=True)
    shutil.copyfile(source, data_dir / BTC_USDT_1M)  # a writable copy: the shared file stays untouched
    (data_dir / BTC_USDT_1M).chmod(0o644)
    return bot


def backtest(bot, name: str) -> str:
    rc, output, seconds = run_octobot(["-b", "-bf", BTC_USDT_1M, "-nw"], bot, name, BACKTEST_TIMEOUT)
    print(f"\nOctoBot -b ({name}): rc {rc}, {seconds:.1f} s")
    report_printed = REPORT_HEADER in output
    assert rc == 0 or is_known_segfault_at_exit(rc, report_printed), f"OctoBot -b exited with {rc}\n{output[-6000:]}"
    assert report_printed, f"no backtesting report\n{output[-6000:]}"
    assert "Traceback" not in output, output[-6000:]
    return output


def report_fill_percents(output: str, target) -> list:
    """The progress of each fill the mode logged, once its start line named `target` and the backtesting report
    counted as many trades as the mode logged fills."""
    assert float(STARTED_LINE.search(output)["target"]) == target
    percents = [float(match["percent"]) for match in FILL_PERCENT.finditer(output)]
    assert int(REPORT_TRADES_LINE.search(output)["count"]) == len(percents)
    return percents


@pytest.mark.e2e
def test_shipped_profile_exits_after_the_report(bot):
    # the shipped profile as installed: auto orders (taking at the profile's equal fees), target 50,000 USDT
    settings = json.loads((bot / "user" / "profiles" / "volume_booster" / "specific_config" /
                           "VolumeBoosterTradingMode.json").read_text())
    assert settings["orders"]["order_type"] == "auto"
    output = backtest(bot, "shipped_profile")
    percents = report_fill_percents(output, settings["target_and_pacing"]["volume_target"])
    assert percents and percents[-1] >= 100
    assert "target reached" in output


@pytest.mark.e2e
def test_limit_orders_short_of_the_target_exit_after_the_report(bot):
    # the shipped profile's target (50,000 USDT) with its limit orders at 0.2 %: more than 8 hours of 1m data can
    # give, so the run ends with orders still resting
    settings = write_settings(bot, {"order_type": "limit"})
    assert flatten_settings(settings)["price_offset_percent"] == 0.2
    output = backtest(bot, "limit_unreached")
    percents = report_fill_percents(output, settings["target_and_pacing"]["volume_target"])
    assert percents and percents[-1] < 100
    assert "target reached" not in output


@pytest.mark.e2e
def test_market_orders_short_of_the_target_exit_after_the_report(bot):
    write_settings(bot, {"order_type": "market", "volume_target": UNREACHABLE_TARGET, "random_seed": 3})
    output = backtest(bot, "market_unreached")
    percents = report_fill_percents(output, UNREACHABLE_TARGET)
    assert percents and percents[-1] < 100
    assert "target reached" not in output


@pytest.mark.e2e
def test_mode_stopped_by_invalid_settings_exits_after_the_report(bot):
    write_settings(bot, {"order_type": "limit", "volume_target": 50000, "min_interval_seconds": -5})
    output = backtest(bot, "invalid_settings")
    assert NOT_TRADING_LINE.search(output), output[-6000:]
    assert int(REPORT_TRADES_LINE.search(output)["count"]) == 0


def test_simulate_with_an_unreached_target_ends_with_its_report(shared_data, tmp_path, capsys):
    data_file = shared_data / BTC_USDT_1M
    json_file = tmp_path / "result.json"
    code = cli.main(["simulate", "--data", str(data_file), "--set", f"volume_target={UNREACHABLE_TARGET}",
                     "--set", "random_seed=3", "--no-progress", "--json", str(json_file)])
    printed = capsys.readouterr().out
    assert code == 0
    result = json.loads(json_file.read_text())
    assert not result["target_reached"] and result["stopped_reason"] is None
    assert result["orders_created"] > 0 and result["volume"] > 0
    # the whole file was played
    info = datafile.read_info(data_file)
    assert result["simulated_seconds"] >= (info.candles - 1) * 60
    assert "target NOT reached" in printed and "wall time" in printed


def test_four_hour_steps_run_a_bounded_number_of_loop_steps(shared_data):
    """On 4h data each engine step holds the schedule of one minute (what a 1m step holds), not hours of it: with
    market orders every loop step that trades creates one order, so the orders per pair are bounded by the
    engine steps times what one minute of delays holds."""
    data_file = shared_data / FOUR_HOURS
    if not data_file.is_file():
        pytest.skip(f"market data file missing: {data_file}")
    min_interval, max_interval = 30, 60
    with simulation.quiet_octobot_logs():
        result = simulation.run(data_file, {
            "order_type": "market", "volume_target": UNREACHABLE_TARGET, "random_seed": 5,
            "min_interval_seconds": min_interval, "max_interval_seconds": max_interval,
        }, timeline=False)
    assert result.time_frame == "4h" and result.time_step_seconds == 4 * 3600
    steps = result.simulated_seconds / result.time_step_seconds
    # the step already due, then one minute of schedule: at most 1 + 60 / min_interval more
    per_step = 2 + vb_clock.SCHEDULE_SECONDS_PER_STEP // min_interval
    assert len(result.pairs) == 4
    for pair in result.pairs:
        assert not pair["target_reached"], pair
        assert pair["orders_created"] <= (steps + 1) * per_step, pair
        # and the loop still trades along the whole file (most steps place an order)
        assert pair["orders_created"] >= steps / 2, pair
