"""`volume-booster bench` on a small quick run of the embedded market: every key written, the ratios
consistent with the raw walls and counts it also reports (no speed thresholds)."""
import importlib.metadata
import json

import pytest

from volume_booster import bench, datafile, market

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
