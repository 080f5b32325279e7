"""`volume-booster compare`: styles are settings of one mode, rows aggregate real engine runs, and each row's
figures can be recomputed independently."""
import io
import json
import shutil

import pytest

from volume_booster import compare, compare_report, datafile, simulation

BTC_USDT_NAME = "AbstractExchangeHistoryCollector_1586017993.616272.data"
FOUR_HOUR_NAME = "ExchangeHistoryDataCollector_1711122002.311132.data"
QUICK_FEES = (0.02, 0.1)  # maker below taker: the fee schedule must show in the fees paid


def _settings_module():
    simulation.import_mode_module()
    from tentacles.Trading.Mode.volume_booster_trading_mode import settings as vb_settings
    return vb_settings


# ---------------------------------------------------------------- without the engine

def test_parse_fees_and_styles():
    assert compare.parse_fees("0.1/0.1, 0.02/0.1") == ((0.1, 0.1), (0.02, 0.1))
    for bad in ("0.1", "a/b", "-0.1/0.1", "", "0.1/0.1/0.1"):
        with pytest.raises(ValueError):
            compare.parse_fees(bad)
    assert compare.parse_styles("maker,coin-flip") == ("maker", "coin-flip")
    with pytest.raises(ValueError, match="unknown style"):
        compare.parse_styles("maker,taker")


def test_styles_differ_only_by_order_type_and_side_policy():
    vb_settings = _settings_module()
    assert compare.STYLES["maker"] == {"order_type": "maker", "side_policy": "balanced"}
    assert compare.STYLES["limit"] == {"order_type": "limit", "side_policy": "balanced"}
    assert compare.STYLES["market"] == {"order_type": "market", "side_policy": "balanced"}
    assert compare.STYLES["coin-flip"] == {"order_type": "market", "side_policy": "random"}
    assert compare.STYLES["alternating-market"] == {"order_type": "market", "side_policy": "alternating"}
    for style in compare.STYLES:
        for key, value in compare.STYLES[style].items():
            assert value in vb_settings.SPEC_BY_NAME[key].options


def test_sizes_follow_the_quote_holding(shared_data):
    profile = simulation.Profile.load()
    btc_usdt = compare.plan_data_file(shared_data / BTC_USDT_NAME, profile)
    # the profile holds 10,000 USDT: orders of 25-150 USDT, target 20,000 USDT
    assert (btc_usdt.quote, btc_usdt.quote_holding) == ("USDT", 10000.0)
    assert (btc_usdt.min_amount, btc_usdt.max_amount, btc_usdt.target) == (25.0, 150.0, 20000.0)
    ada_btc = compare.plan_data_file(shared_data / "AbstractExchangeHistoryCollector_1581775117.1713624.data",
                                     profile, target_multiple=3)
    holding = simulation.portfolio_for_data(profile.config["trader-simulator"]["starting-portfolio"],
                                            datafile.read_info(ada_btc.path))["BTC"]
    assert ada_btc.quote == "BTC" and ada_btc.quote_holding == holding
    assert ada_btc.target == pytest.approx(3 * holding)
    assert ada_btc.min_amount == pytest.approx(0.0025 * holding)
    assert ada_btc.max_amount == pytest.approx(0.015 * holding)


def test_default_files_are_the_1m_ones_and_absent_ones_are_reported(shared_data, tmp_path):
    found = compare.default_data_files(shared_data, out=io.StringIO())
    assert [path.name for path in found] == [
        name for name in compare.SHARED_1M_FILES if (shared_data / name).is_file()
    ]
    assert all(datafile.read_info(path).finest_time_frame == "1m" for path in found)
    # a folder with one 1m file, the 4h file under a 1m file's name, and the rest absent
    shutil.copyfile(shared_data / BTC_USDT_NAME, tmp_path / BTC_USDT_NAME)
    shutil.copyfile(shared_data / FOUR_HOUR_NAME, tmp_path / compare.SHARED_1M_FILES[1])
    out = io.StringIO()
    found = compare.default_data_files(tmp_path, out=out)
    assert found == [tmp_path / BTC_USDT_NAME]
    text = out.getvalue()
    assert f"skipped {compare.SHARED_1M_FILES[1]}: finest time frame is 4h, not 1m" in text
    for name in compare.SHARED_1M_FILES[2:]:
        assert f"skipped {name}: absent" in text


def _run(seed, bps, drift=0.0, reached=True, peak=None, band=5.0):
    return {"seed": seed, "volume": 100.0 + seed, "target_reached": reached, "time_to_target_seconds": 60.0 * seed,
            "fees": 0.1, "net_cost": bps / 100, "net_cost_bps": bps, "inventory_drift_pp": drift,
            "peak_inventory_drift_pp": abs(drift) if peak is None else peak,
            "effective_settings": {"inventory_band_pp": band}, "orders_created": 4 * seed, "orders_filled": seed,
            "orders_cancelled": 3 * seed, "fills": 2 * seed, "maker_share": 0.5}


def _row(style, bps_values, drifts=None, reached=True, peaks=None, band=5.0, fees=(0.1, 0.1)):
    plan = compare.DataPlan(path=compare.SHARED_DATA / "x.data", exchange="binance", symbol="BTC/USDT",
                            quote="USDT", quote_holding=10000.0, target=20000.0, min_amount=25.0, max_amount=150.0,
                            candles=500, finest_time_frame="1m")
    drifts = drifts or [0.0] * len(bps_values)
    peaks = peaks or [None] * len(bps_values)
    return compare.aggregate(style, plan, fees, [
        _run(seed, bps, drift, reached, peak, band)
        for seed, (bps, drift, peak) in enumerate(zip(bps_values, drifts, peaks), start=1)
    ])


def test_aggregate_mean_min_max_over_seeds():
    row = _row("coin-flip", [-60.0, 10.0, 65.0], drifts=[-4.0, 1.0, 6.0])
    assert row["seeds"] == [1, 2, 3] and len(row["runs"]) == 3
    assert row["net_cost_bps"] == pytest.approx(5.0)
    assert (row["net_cost_bps_min"], row["net_cost_bps_max"]) == (-60.0, 65.0)
    assert row["inventory_drift_pp"] == pytest.approx(1.0)
    assert row["inventory_drift_pp_abs"] == pytest.approx(11 / 3)
    assert row["volume"] == pytest.approx(102.0)
    assert row["time_to_target_seconds"] == pytest.approx(120.0)
    assert row["target_reached"] is True
    missed = _row("limit", [1.0, 2.0], reached=False)
    assert missed["target_reached"] is False and missed["target_reached_runs"] == 0
    assert missed["time_to_target_seconds"] is None


def test_churn_and_cost_against_the_fee_floor():
    row = _row("auto", [10.0, 12.0], fees=(0.02, 0.1))
    # summed over the runs: 3 filled of 12 created, 9 cancels for 6 fills
    assert row["fill_ratio"] == pytest.approx(0.25) and row["cancels_per_fill"] == pytest.approx(1.5)
    # 11 bps against the lower fee, 2 bps
    assert row["cost_floor_ratio"] == pytest.approx(5.5)
    assert compare.cost_floor_ratio(None, (0.1, 0.1)) is None and compare.cost_floor_ratio(5.0, (0.0, 0.1)) is None
    assert "| 5.50 | 25% | 1.50 | 50% |" in "\n".join(compare_report.table_lines([row]))


def test_auto_is_put_next_to_the_cheaper_of_maker_and_market():
    fees = (0.02, 0.1)
    rows = [_row("auto", [5.0, 6.0, 7.0], fees=fees), _row("maker", [5.5, 6.0, 6.6], fees=fees),
            _row("market", [10.0, 10.5, 11.0], fees=fees)]
    text = "\n".join(compare_report.verdict_lines(rows))
    assert "vs the cheaper of maker and market, maker, +6.0 bps" in text
    assert "same-seed gap -0.03 bps" in text and "within one standard error" in text
    assert "auto reached the target in 3 of 3 runs" in text
    assert "4.5 bps below market, at least half the fee difference (4.0 bps)" in text
    worse = [_row("auto", [9.0, 9.5, 10.0], fees=fees), _row("maker", [5.0, 5.2, 5.1], fees=fees),
             _row("market", [10.0, 10.5, 11.0], fees=fees)]
    text = "\n".join(compare_report.verdict_lines(worse))
    assert "ABOVE one standard error" in text and "LESS than half the fee difference" in text
    cheaper = [_row("auto", [3.0, 3.2, 3.1], fees=fees), _row("maker", [5.0, 5.2, 5.1], fees=fees)]
    assert "BELOW one standard error (cheaper)" in "\n".join(compare_report.verdict_lines(cheaper))


def test_verdict_names_the_cheapest_style_and_says_where_maker_is_not_cheaper():
    cheap_coin = [_row("maker", [12.0, 13.0]), _row("coin-flip", [-60.0, 40.0]), _row("market", [11.0, 11.5])]
    text = "\n".join(compare_report.verdict_lines(cheap_coin))
    assert "cheapest on mean net cost: coin-flip (-10.0 bps)" in text
    assert "maker is NOT cheaper than coin-flip (coin-flip cheaper by 22.5 bps on the mean)" in text
    assert "coin-flip was cheaper in 1 of 2 same-seed runs" in text
    assert "maker cheaper than coin-flip on mean net cost in 0 of 1" in text
    cheap_maker = [_row("maker", [12.0, 13.0]), _row("coin-flip", [30.0, 5.0])]
    text = "\n".join(compare_report.verdict_lines(cheap_maker))
    assert "cheapest on mean net cost: maker (+12.5 bps)" in text
    assert "maker IS cheaper than coin-flip by 5.0 bps on the mean" in text
    # a style that missed the target is never named the cheapest
    missed = [_row("maker", [12.0]), _row("limit", [1.0], reached=False)]
    text = "\n".join(compare_report.verdict_lines(missed))
    assert "cheapest on mean net cost: maker" in text and "not comparable (target missed in some run): limit" in text


def test_verdict_weighs_the_gap_against_its_noise_and_the_band():
    # same-seed gaps (coin-flip minus maker) of -72, +27: mean -22.5, standard error 49.5: the seeds can't tell
    noisy = [_row("maker", [12.0, 13.0], peaks=[3.0, 4.5]), _row("coin-flip", [-60.0, 40.0])]
    text = "\n".join(compare_report.verdict_lines(noisy))
    assert "same-seed gap -22.5 bps, standard error 49.5 bps: within the noise" in text
    assert "maker's largest drift 4.50 pp, inside its 5 pp band" in text
    # gaps of +18, +20, +22: mean +20, standard error 1.15: beyond it
    clear = [_row("maker", [10.0, 10.0, 10.0], peaks=[2.0, 6.0, 1.0]), _row("coin-flip", [28.0, 30.0, 32.0])]
    text = "\n".join(compare_report.verdict_lines(clear))
    assert "same-seed gap +20.0 bps, standard error 1.2 bps: beyond the noise" in text
    assert "maker's largest drift 6.00 pp, OUTSIDE its 5 pp band" in text
    assert compare_report.paired_difference([1.0]) is None
    tiny = [_row("maker", [12.0, 13.0]), _row("coin-flip", [12.02, 13.0])]
    assert "maker IS cheaper than coin-flip by 0.01 bps on the mean" in "\n".join(compare_report.verdict_lines(tiny))
    assert _row("maker", [1.0, 2.0], peaks=[2.5, 0.5])["peak_inventory_drift_pp"] == 2.5


def test_invalid_options_stop_before_running(capsys):
    assert compare.main(["--styles", "maker,taker"]) == 2
    assert compare.main(["--fees", "0.1"]) == 2
    assert compare.main(["--seeds", "0"]) == 2
    assert compare.main(["--target", "-1"]) == 2
    assert "unknown style(s) taker" in capsys.readouterr().err


# ---------------------------------------------------------------- in OctoBot's engine

@pytest.fixture(scope="module")
def quick(shared_data, tmp_path_factory):
    """`compare --quick` (the small binance BTC/USDT file, seeds 1 and 2), all styles, one fee schedule."""
    json_file = tmp_path_factory.mktemp("compare") / "rows.json"
    code = compare.main(["--quick", "--fees", f"{QUICK_FEES[0]}/{QUICK_FEES[1]}", "--json", str(json_file)])
    assert code == 0
    return json.loads(json_file.read_text())


def test_quick_rows_have_every_key_and_every_style(quick, shared_data):
    assert [row["style"] for row in quick] == list(compare.STYLES)
    for row in quick:
        assert set(compare.ROW_KEYS) <= set(row)
        assert row["data"] == str(shared_data / BTC_USDT_NAME)
        assert (row["maker_fee"], row["taker_fee"]) == QUICK_FEES
        assert row["seeds"] == [1, 2] and [run["seed"] for run in row["runs"]] == [1, 2]
        assert row["target_reached"] is True, f"{row['style']} missed the target"
        assert row["volume"] >= row["target"] == 20000.0
        assert row["time_to_target_seconds"] > 0
        bps = [run["net_cost_bps"] for run in row["runs"]]
        assert row["net_cost_bps"] == pytest.approx(sum(bps) / len(bps))
        assert (row["net_cost_bps_min"], row["net_cost_bps_max"]) == (min(bps), max(bps))
        assert row["volume"] == pytest.approx(sum(run["volume"] for run in row["runs"]) / 2)
        assert row["fees"] == pytest.approx(sum(run["fees"] for run in row["runs"]) / 2)
        assert row["inventory_drift_pp"] == pytest.approx(
            sum(run["inventory_drift_pp"] for run in row["runs"]) / 2)


def test_rows_used_the_fee_schedule(quick):
    by_style = {row["style"]: row for row in quick}
    # market orders pay the taker fee on all their volume
    for style in ("market", "coin-flip", "alternating-market"):
        for run in by_style[style]["runs"]:
            assert run["maker_share"] == 0
            assert run["fees"] == pytest.approx(run["volume"] * QUICK_FEES[1] / 100, rel=1e-6)
    # the maker style's fills are (nearly all) maker fills, at the lower maker fee
    for run in by_style["maker"]["runs"]:
        assert run["maker_share"] > 0.9
        assert run["fees"] < run["volume"] * QUICK_FEES[1] / 100 * 0.5


def test_row_figures_match_an_independent_recomputation(quick):
    for row in quick:
        for run in row["runs"]:
            # net cost from the two portfolios valued at the last price, in the pair's quote currency
            base, quote = row["symbol"].split("/")
            start, end = run["start_portfolio"], run["end_portfolio"]
            net_cost = (start[base] - end[base]) * run["last_price"] + (start[quote] - end[quote])
            assert run["net_cost"] == pytest.approx(net_cost, rel=1e-9, abs=1e-9)
            assert run["net_cost_bps"] == pytest.approx(net_cost / run["volume"] * 10000, rel=1e-9, abs=1e-9)
    # the same configurations re-run alone through simulation.run give the same figures
    for style in ("maker", "coin-flip"):
        row = next(row for row in quick if row["style"] == style)
        run = row["runs"][0]
        with simulation.quiet_octobot_logs():
            alone = simulation.run(row["data"], run["overrides"],
                                   fees={"maker": row["maker_fee"], "taker": row["taker_fee"]})
        assert alone.settings == run["settings"]
        assert compare.effective_settings(alone.settings) == run["effective_settings"]
        assert run["effective_settings"]["order_type"] == compare.STYLES[style]["order_type"]
        assert run["effective_settings"]["side_policy"] == compare.STYLES[style]["side_policy"]
        assert alone.volume == pytest.approx(run["volume"], rel=1e-12)
        assert alone.fees == pytest.approx(run["fees"], rel=1e-12)
        assert alone.net_cost_bps == pytest.approx(run["net_cost_bps"], rel=1e-9, abs=1e-9)
        assert alone.inventory_drift_pp == pytest.approx(run["inventory_drift_pp"], rel=1e-9, abs=1e-9)


def test_baselines_differ_from_the_maker_config_only_by_settings(quick):
    vb_settings = _settings_module()
    by_style = {row["style"]: row for row in quick}

    def effective(style, seed_index=0):
        return vb_settings.parse_settings(by_style[style]["runs"][seed_index]["settings"])

    def differing(style_a, style_b):
        a, b = effective(style_a), effective(style_b)
        return {field for field in vb_settings.Settings.__dataclass_fields__
                if getattr(a, field) != getattr(b, field)}

    assert differing("maker", "coin-flip") == {"order_type", "side_policy"}
    assert differing("maker", "alternating-market") == {"order_type", "side_policy"}
    assert differing("maker", "limit") == {"order_type"}
    assert differing("maker", "market") == {"order_type"}
    assert differing("market", "coin-flip") == {"side_policy"}
    assert effective("coin-flip").side_policy == "random"
    assert effective("alternating-market").side_policy == "alternating"
    assert effective("maker").order_type == "maker"
    # seeds are the only difference between the runs of one row
    for row in quick:
        first, second = (vb_settings.parse_settings(run["settings"]) for run in row["runs"])
        assert {field for field in vb_settings.Settings.__dataclass_fields__
                if getattr(first, field) != getattr(second, field)} == {"random_seed"}
        assert (first.random_seed, second.random_seed) == (1, 2)
