"""End to end, offline, with the real OctoBot CLI: a fresh OctoBot folder, the package installed with
`OctoBot tentacles --install --all --location <zip>`, the volume_booster profile selected in user/config.json,
then `OctoBot -b` on real binance BTC/USDT 1m data. The Volume Booster must trade up to its target, as seen in
its own log lines, in OctoBot's backtesting report and in the run data OctoBot stores.

Offline, OctoBot has none of its default tentacles, so the test installs two fixtures from
tests/fixtures/octobot_tentacles (packaged into a second zip here, never shipped): a Backtesting collector
(OctoBot takes its data importer from a subclass of AbstractExchangeHistoryCollector) and a profile with id
"default" (OctoBot refuses to start without one).
"""
import json
import os
import re
import shutil

import pytest

from volume_booster import REPO_ROOT
from tests.octobot_process import build_bot_folder, is_known_segfault_at_exit, octobot_version, run_octobot

pytestmark = pytest.mark.e2e

DATA_FILE = "AbstractExchangeHistoryCollector_1586017993.616272.data"  # binance BTC/USDT, 1m, 502 candles
VOLUME_TARGET = 2000
BACKTEST_TIMEOUT = 600
# the mode's own log lines
FILL_LINE = re.compile(
    r"VolumeBooster\[BTC/USDT\] Fill (?P<side>buy|sell) (?P<amount>[\d.]+) BTC @ (?P<price>[\d.]+) "
    r"\((?P<value>[\d.]+) USDT\) - volume (?P<volume>[\d.]+)/(?P<target>[\d.]+) USDT \((?P<percent>[\d.]+)%\)"
)
STARTED_LINE = re.compile(r"VolumeBooster\[BTC/USDT\] Volume Booster started on BTC/USDT: target (?P<target>[\d.]+) USDT")
TARGET_REACHED_LINE = re.compile(
    r"VolumeBooster\[BTC/USDT\] Volume Booster target reached on BTC/USDT: volume (?P<volume>[\d.]+)/"
)
# OctoBot's backtesting report
REPORT_HEADER = "**** Backtesting report ****"
REPORT_TRADES_LINE = re.compile(r"========= (?P<count>\d+) Trades on binance =========")
REPORT_TRADE = re.compile(r"^(?P<side>BUY|SELL) MARKET: (?P<amount>[\d.]+) BTC at (?P<price>[\d.]+) USDT", re.M)


@pytest.fixture(scope="module")
def backtest(shared_data, tmp_path_factory):
    source = shared_data / DATA_FILE
    if not source.is_file():
        pytest.skip(f"market data file missing: {source}")
    work = tmp_path_factory.mktemp("e2e")
    # a short run that trades: market orders, a small target, reproducible randomness
    bot = build_bot_folder(work, settings=dict(order_type="market", volume_target=VOLUME_TARGET, random_seed=7))

    data_dir = bot / "backtesting" / "data"
    data_dir.mkdir(parents=True)
    shutil.copyfile(source, data_dir / DATA_FILE)  # a writable copy: the shared file stays untouched
    os.chmod(data_dir / DATA_FILE, 0o644)

    rc, output, seconds = run_octobot(["-b", "-bf", DATA_FILE, "-nw"], bot, "backtest", BACKTEST_TIMEOUT)
    print(f"\nOctoBot {octobot_version()} backtest: rc {rc}, {seconds:.1f} s wall time, folder {bot}")
    return {"bot": bot, "rc": rc, "output": output, "seconds": seconds}


def test_backtest_runs_to_its_report(backtest):
    output = backtest["output"]
    report_printed = REPORT_HEADER in output
    assert backtest["rc"] == 0 or is_known_segfault_at_exit(backtest["rc"], report_printed), \
        f"OctoBot -b exited with {backtest['rc']}\n{output[-6000:]}"
    assert "Using Volume Booster profile." in output, output[-6000:]
    assert report_printed, f"no backtesting report in the output\n{output[-6000:]}"
    assert "Traceback" not in output, output[-6000:]


def test_volume_booster_started_with_the_profile_settings(backtest):
    started = STARTED_LINE.search(backtest["output"])
    assert started, f"the Volume Booster never started\n{backtest['output'][-6000:]}"
    assert float(started["target"]) == VOLUME_TARGET


def test_volume_booster_filled_buys_and_sells_up_to_its_target(backtest):
    output = backtest["output"]
    fills = [match.groupdict() for match in FILL_LINE.finditer(output)]
    assert fills, f"no Volume Booster fill line\n{output[-6000:]}"
    assert {fill["side"] for fill in fills} == {"buy", "sell"}
    volumes = [float(fill["volume"]) for fill in fills]
    percents = [float(fill["percent"]) for fill in fills]
    assert volumes == sorted(volumes) and percents == sorted(percents)
    # each fill adds its own value to the running volume (log values are rounded to cents)
    running = 0.0
    for fill in fills:
        running += float(fill["value"])
        assert float(fill["volume"]) == pytest.approx(running, abs=0.01 * len(fills))
        assert float(fill["target"]) == VOLUME_TARGET
    assert percents[-1] >= 100
    # it stops at the target: at most one (maximum sized) order above it
    assert VOLUME_TARGET <= volumes[-1] <= VOLUME_TARGET + float(settings_max_order())
    reached = TARGET_REACHED_LINE.search(output)
    assert reached, "no 'target reached' line"
    assert float(reached["volume"]) == pytest.approx(volumes[-1], abs=0.01)
    assert not re.search(r"VolumeBooster\[BTC/USDT\].*(step failed|Invalid Volume Booster setting)", output)


def test_octobot_report_lists_the_volume_booster_trades(backtest):
    output = backtest["output"]
    fills = FILL_LINE.findall(output)
    count = REPORT_TRADES_LINE.search(output)
    assert count, f"no trade count in the backtesting report\n{output[-6000:]}"
    assert int(count["count"]) == len(fills)
    report = output[output.index(REPORT_HEADER):]
    trades = [match.groupdict() for match in REPORT_TRADE.finditer(report)]
    assert len(trades) == len(fills)
    assert {trade["side"] for trade in trades} == {"BUY", "SELL"}


def test_stored_run_data_matches_the_mode_volume(backtest):
    runs = sorted((backtest["bot"] / "user" / "data" / "VolumeBoosterTradingMode").glob(
        "*/backtesting/*/binance/trades_*.json"))
    assert len(runs) == 1, f"expected one stored backtesting run, found {runs}"
    trades = list(json.loads(runs[0].read_text())["all_trades"].values())
    fills = [match.groupdict() for match in FILL_LINE.finditer(backtest["output"])]
    assert len(trades) == len(fills)
    assert all(trade["origin_value"]["tag"] == "volume_booster" for trade in trades)
    assert all(trade["trading_mode"] == "VolumeBoosterTradingMode" for trade in trades)
    # OctoBot's own record of the trades sums to the volume the mode reported
    total = sum(trade["origin_value"]["cost"] for trade in trades)
    assert total >= VOLUME_TARGET
    assert total == pytest.approx(float(fills[-1]["volume"]), abs=0.01)


def settings_max_order() -> float:
    from tentacles.Trading.Mode.volume_booster_trading_mode import settings as vb_settings
    source = vb_settings.flatten(json.loads((REPO_ROOT / "profiles" / "volume_booster" / "specific_config" /
                                             "VolumeBoosterTradingMode.json").read_text()))
    return max(float(source["max_buy_amount"]), float(source["max_sell_amount"]))
