"""`volume-booster bench` on a small quick run of the embedded market: every key written, the ratios
consistent with the raw walls and counts it also reports (no speed thresholds)."""
import importlib.metadata
import json

import pytest

from volume_booster import bench, bench_report, datafile, market

KEYS = ("ms_per_order", "overhead_ratio", "orders_per_second", "simulated_hours_per_second", "peak_rss_mb",
        "rss_growth_mb", "orders")


@pytest.fixture(scope="module")
def quick_bench(tmp_path_factory):
    json_file = tmp_path_factory.mktemp("bench") / "bench.json"
    code = bench.main(["--quick", "--orders", "600", "--resting-orders", "300", "--json", str(json_file)])
    assert code == 0
    return json.loads(json_file.read_text())


def test_bench_json_has_every_key(quick_bench):
    for key in KEYS:
        assert quick_bench[key] is not None, key
    assert set(quick_bench["by_order_type"]) == {"market", "limit", "maker"}
    for key in ("cores", "cpu_model", "python", "octobot"):
        assert quick_bench["machine"][key]
    assert quick_bench["machine"]["octobot"] == importlib.metadata.version("OctoBot")


def test_bench_ratios_are_recomputed_from_the_raw_figures(quick_bench):
    b = quick_bench
    booster, idle = b["booster_wall_seconds"], b["idle_wall_seconds"]
    assert booster > 0 and idle > 0
    assert b["overhead_ratio"] == pytest.approx(booster / idle, rel=1e-12)
    assert b["ms_per_order"] == pytest.approx((booster - idle) / b["orders"] * 1000, rel=1e-12)
    assert b["orders_per_second"] == pytest.approx(b["orders"] / booster, rel=1e-12)
    assert b["simulated_hours_per_second"] == pytest.approx(b["simulated_seconds"] / 3600 / booster, rel=1e-12)
    market_run = b["by_order_type"]["market"]
    assert market_run["orders"] == b["orders"] and market_run["wall_seconds"] == booster
    assert b["idle"]["wall_seconds"] == idle
    assert b["cpu_ms_per_order"] == pytest.approx(
        (b["booster_cpu_seconds"] - b["idle_cpu_seconds"]) / b["orders"] * 1000, rel=1e-12)
    assert market_run["cpu_seconds"] == b["booster_cpu_seconds"] and b["idle"]["cpu_seconds"] == b["idle_cpu_seconds"]
    for name, run in b["by_order_type"].items():
        assert run["orders"] > 0, name
        assert run["cpu_seconds"] > 0, name
        assert run["cpu_overhead_ratio"] == pytest.approx(run["cpu_seconds"] / b["idle_cpu_seconds"], rel=1e-12)
        assert run["ms_per_order"] == pytest.approx((run["wall_seconds"] - idle) / run["orders"] * 1000, rel=1e-12)
        assert run["overhead_ratio"] == pytest.approx(run["wall_seconds"] / idle, rel=1e-12)


def test_bench_runs_play_the_same_data(quick_bench):
    info = datafile.read_info(market.default_market_file())
    span = (info.candles - 1) * 60
    assert quick_bench["data"] == str(market.default_market_file())
    assert quick_bench["candles"] == info.candles
    # the idle mode played the whole file and placed nothing
    assert quick_bench["idle"]["simulated_seconds"] == span
    assert quick_bench["idle"]["orders"] == 0 and quick_bench["idle"]["trades"] == 0
    assert quick_bench["disabled"]["orders"] == 0
    for run in quick_bench["by_order_type"].values():
        assert run["simulated_seconds"] == span
        assert run["settings_error"] is None


def test_bench_market_run_reaches_its_order_count_and_fills_every_order(quick_bench):
    market_run = quick_bench["by_order_type"]["market"]
    assert quick_bench["orders_target"] == 600
    assert quick_bench["orders"] >= 600 and quick_bench["orders_target_met"]
    assert market_run["orders_filled"] == market_run["fills"] == market_run["orders"]
    assert quick_bench["by_order_type"]["limit"]["orders_cancelled"] > 0


def test_bench_memory_figures_are_consistent(quick_bench):
    market_run = quick_bench["by_order_type"]["market"]
    assert market_run["rss_samples"] > 0
    assert quick_bench["peak_rss_mb"] >= max(market_run["rss_start_mb"], market_run["rss_end_mb"])
    assert quick_bench["rss_growth_mb"] == pytest.approx(market_run["rss_end_mb"] - market_run["rss_start_mb"])
    for run in quick_bench["by_order_type"].values():
        assert run["named_loggers_added"] >= 0


def test_order_settings_aim_above_the_order_count():
    settings = bench.order_settings(quote_holding=10000, simulated_seconds=864000, orders=50000, order_type="market")
    mean_delay = (settings["min_interval_seconds"] + settings["max_interval_seconds"]) / 2
    assert 864000 / mean_delay >= 50000 * 1.1
    assert settings["min_buy_amount"] == pytest.approx(10000 * bench.MIN_ORDER_SHARE)
    assert settings["max_sell_amount"] == pytest.approx(10000 * bench.MAX_ORDER_SHARE)
    assert settings["volume_target"] == 1e12 and settings["order_type"] == "market"


@pytest.fixture(scope="module")
def coarse_bench(shared_data, tmp_path_factory):
    from volume_booster import bench_coarse
    if not bench_coarse.FOUR_HOUR_DATA.is_file():
        pytest.skip(f"4h market data file missing: {bench_coarse.FOUR_HOUR_DATA}")
    json_file = tmp_path_factory.mktemp("bench_coarse") / "bench.json"
    code = bench.main(["--quick", "--orders", "200", "--resting-orders", "100", "--coarse-data",
                       str(bench_coarse.FOUR_HOUR_DATA), "--coarse-repeat", "1", "--json", str(json_file)])
    assert code == 0
    return json.loads(json_file.read_text())


def test_coarse_bench_ratios_are_recomputed_from_the_process_walls(coarse_bench):
    coarse = coarse_bench["coarse"]
    runs = coarse["runs"]
    assert set(runs) == {"idle", "profile", "unreachable"}
    idle = runs["idle"]
    for name, run in runs.items():
        assert run["process_wall_seconds"] > run["engine_wall_seconds"] > 0, name
        assert run["ratio"] == pytest.approx(run["process_wall_seconds"] / idle["process_wall_seconds"], rel=1e-12)
        assert run["engine_ratio"] == pytest.approx(run["engine_wall_seconds"] / idle["engine_wall_seconds"],
                                                    rel=1e-12)
        assert run["process_walls_tried"] == [run["process_wall_seconds"]]
    assert coarse_bench["four_hour_ratio"] == runs["profile"]["ratio"]
    assert coarse_bench["four_hour_unreachable_target_ratio"] == runs["unreachable"]["ratio"]


def test_coarse_bench_runs_play_the_whole_4h_file(coarse_bench):
    coarse = coarse_bench["coarse"]
    runs = coarse["runs"]
    assert coarse["time_frame"] == "4h" and len(coarse["symbols"]) == 4
    span = (coarse["candles"] - 1) * 4 * 3600
    for name, run in runs.items():
        assert run["simulated_seconds"] >= span, name
        assert run["pairs"] == 4, name
    assert runs["idle"]["orders"] == 0 and runs["idle"]["fills"] == 0
    assert runs["profile"]["settings_error"] is None and runs["profile"]["orders"] > 0
    # a target no pair reaches: the loop trades to the end of the data, more than with the profile's target
    assert runs["unreachable"]["targets_reached"] == 0
    assert runs["unreachable"]["orders"] > runs["profile"]["orders"]


def test_coarse_bench_report_prints_the_ratio_against_the_goal(coarse_bench):
    from volume_booster import bench_coarse
    text = bench_report.format_bench(coarse_bench)
    profile = coarse_bench["coarse"]["runs"]["profile"]
    assert f"4h ratio (booster, profile settings): {profile['ratio']:.2f}x the idle backtest's wall time" in text
    assert f"the {bench_coarse.GOAL_RATIO:g}x goal" in text


def test_bench_rejects_a_bad_coarse_data_file(tmp_path, capsys):
    missing = tmp_path / "missing.data"
    assert bench.main(["--quick", "--coarse-data", str(missing)]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "--coarse-data" in error[0] and str(missing) in error[0]
