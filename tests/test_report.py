"""The simulation report and chart, checked against OctoBot's own engine state: the mode's trades in the
engine's trade record, the engine portfolio at the end, the data file's own candles.

Runs on the embedded market (no shared data needed)."""
import dataclasses
import json
import struct

import pytest

from volume_booster import cli, compare_report, datafile, formatting, market, report, simulation

START = {"BTC": 1.0, "USDT": 30000.0}


def _engine_snapshot(store: dict):
    """on_finished hook: what the engine holds once the data is played, read from the engine itself."""

    def on_finished(exchange_manager):
        booster = exchange_manager.trading_modes[0].get_booster()
        portfolio = exchange_manager.exchange_personal_data.portfolio_manager.portfolio
        store["final"] = {currency: float(portfolio.get_currency_portfolio(currency).total) for currency in START}
        store["trades"] = [
            {
                "side": trade.side.value,
                "quantity": float(trade.executed_quantity),
                "price": float(trade.executed_price),
                "fee_cost": float((trade.fee or {}).get("cost") or 0),
                "fee_currency": (trade.fee or {}).get("currency"),
                "maker": trade.taker_or_maker == "maker",
                "order_id": trade.origin_order_id,
                "order_price": float(trade.origin_price),
            }
            for trade in exchange_manager.exchange_personal_data.trades_manager.trades.values()
            if trade.origin_order_id in booster.view().own_order_ids and trade.executed_quantity > 0
        ]

    return on_finished


def _simulate(**overrides):
    store = {}
    overrides.setdefault("random_seed", 17)
    with simulation.quiet_octobot_logs():
        result = simulation.run(market.default_market_file(), overrides, starting_portfolio=dict(START),
                                on_finished=_engine_snapshot(store))
    return result, store


@pytest.fixture(scope="module")
def market_run():
    return _simulate(order_type="market", volume_target=30000, min_buy_amount=100, max_buy_amount=400,
                     min_sell_amount=100, max_sell_amount=400)


@pytest.fixture(scope="module")
def limit_run():
    return _simulate(order_type="limit", volume_target=15000, price_offset_percent=0.05)


def _expected_from_engine(store, last_price):
    """Volume, fees, net cost and drift recomputed from the engine's trades and portfolio."""
    trades = store["trades"]
    volume = sum(t["quantity"] * t["price"] for t in trades)
    fees = sum(t["fee_cost"] if t["fee_currency"] == "USDT" else t["fee_cost"] * t["price"] for t in trades)
    final = store["final"]
    net_cost = (START["BTC"] - final["BTC"]) * last_price + (START["USDT"] - final["USDT"])
    # the same from the trades alone: fees plus the trading loss, at the final price
    bought = sum(t["quantity"] for t in trades if t["side"] == "buy")
    sold = sum(t["quantity"] for t in trades if t["side"] == "sell")
    spent = sum(t["quantity"] * t["price"] for t in trades if t["side"] == "buy")
    received = sum(t["quantity"] * t["price"] for t in trades if t["side"] == "sell")
    base_fees = sum(t["fee_cost"] for t in trades if t["fee_currency"] == "BTC")
    quote_fees = sum(t["fee_cost"] for t in trades if t["fee_currency"] == "USDT")
    net_cost_from_trades = -((received - spent - quote_fees) + (bought - sold - base_fees) * last_price)
    final_value = final["BTC"] * last_price + final["USDT"]
    return {
        "volume": volume,
        "fees": fees,
        "fills": len(trades),
        "orders_filled": len({t["order_id"] for t in trades}),
        "maker_share": sum(t["quantity"] * t["price"] for t in trades if t["maker"]) / volume,
        "net_cost": net_cost,
        "net_cost_from_trades": net_cost_from_trades,
        "net_cost_bps": net_cost / volume * 10000,
        "inventory_drift_pp": (final["BTC"] - START["BTC"]) * last_price / final_value * 100,
    }


def test_report_figures_match_the_engine_trades_and_portfolio(market_run):
    result, store = market_run
    info = datafile.read_info(market.default_market_file())
    last_price = info.last_close["BTC/USDT"]
    assert result.last_price == pytest.approx(last_price, rel=1e-12)
    expected = _expected_from_engine(store, last_price)
    assert expected["fills"] > 20
    # every trade of the mode is still in the engine's record on this short run
    assert result.engine_trades_seen == expected["fills"] == result.fills
    figures = report.summary(result)
    assert figures["volume"] == pytest.approx(expected["volume"], rel=1e-9)
    assert figures["fees"] == pytest.approx(expected["fees"], rel=1e-9)
    assert figures["fees"] == pytest.approx(expected["volume"] * 0.001, rel=1e-6)
    assert expected["net_cost"] == pytest.approx(expected["net_cost_from_trades"], rel=1e-6, abs=1e-6)
    assert figures["net_cost"] == pytest.approx(expected["net_cost"], rel=1e-9, abs=1e-9)
    assert figures["net_cost_bps"] == pytest.approx(expected["net_cost_bps"], rel=1e-9, abs=1e-9)
    assert figures["inventory_drift_pp"] == pytest.approx(expected["inventory_drift_pp"], rel=1e-9, abs=1e-9)
    # market orders: each order is one fill, taker only
    assert figures["orders_filled"] == expected["orders_filled"] == figures["orders_created"]
    assert figures["fill_ratio"] == 1.0
    assert figures["maker_share"] == expected["maker_share"] == 0.0
    assert figures["target_reached"] and 30000 <= figures["volume"] <= 30000 + 400
    assert figures["time_to_target_seconds"] is not None
    assert 0 < figures["time_to_target_seconds"] <= figures["simulated_seconds"]
    assert figures["simulated_seconds"] == (info.candles - 1) * 60


def test_report_text_shows_the_figures_and_what_the_simulation_cannot_show(market_run):
    result, _ = market_run
    text = report.format_report(result)
    assert text == cli.format_report(result)
    for figure in ("volume / target", "orders", "fills", "fill_ratio", "maker_share", "fees", "net_cost",
                   "net_cost_bps", "inventory_drift_pp", "time_to_target", "simulated duration", "wall time"):
        assert f"  {figure} " in text
    # USDT amounts with the data's 2 price decimals
    assert f"{result.volume:,.2f} / {result.target:,.2f} USDT" in text
    assert f"created {result.orders_created}, filled {result.orders_filled}, cancelled {result.orders_cancelled}" \
        in text
    assert f"{result.fees:,.2f} USDT" in text
    assert f"{result.net_cost:,.2f} USDT" in text
    assert f"{result.net_cost_bps:.2f} bps" in text
    assert f"{result.inventory_drift_pp:+.2f} pp" in text
    assert formatting.duration(result.time_to_target_seconds) in text
    # the time step comes from the data file's finest time frame
    assert result.time_frame == "1m" and result.time_step_seconds == 60
    assert "60 s steps on 1m data" in text
    assert "no spread, no slippage and no liquidity limit" in text
    assert "not a promise" in text
    # nothing fell out of the engine's trade record here, so no such warning
    assert "most recent trades" not in text


def test_maker_share_and_fill_ratio_from_limit_orders(limit_run):
    result, store = limit_run
    expected = _expected_from_engine(store, result.last_price)
    assert result.fills > 0 and result.orders_cancelled > 0
    assert result.volume == pytest.approx(expected["volume"], rel=1e-9)
    assert result.maker_share == pytest.approx(expected["maker_share"], rel=1e-9)
    assert result.maker_share == 1.0
    assert result.fill_ratio == pytest.approx(result.orders_filled / result.orders_created, rel=1e-12)
    assert 0 < result.fill_ratio < 1
    assert result.net_cost == pytest.approx(expected["net_cost"], rel=1e-9, abs=1e-9)


def test_timeline_ends_on_the_result_figures(market_run):
    result, store = market_run
    timeline = result.timeline
    assert timeline is not None and len(timeline.points) > 100
    seconds = timeline.seconds
    assert seconds[0] == 0 and seconds[-1] == result.simulated_seconds
    assert all(later >= earlier for earlier, later in zip(seconds, seconds[1:]))
    volume = timeline.volume
    assert volume[0] == 0 and all(later >= earlier for earlier, later in zip(volume, volume[1:]))
    assert volume[-1] == pytest.approx(result.volume, rel=1e-12)
    assert timeline.fees[-1] == pytest.approx(result.fees, rel=1e-12)
    # start: the starting holdings; end: the engine's final holdings, valued at the final price
    assert (timeline.start_base, timeline.start_quote) == (START["BTC"], START["USDT"])
    assert timeline.net_cost[0] == 0
    assert timeline.net_cost[-1] == pytest.approx(result.net_cost, rel=1e-9, abs=1e-9)
    expected_share = store["final"]["BTC"] * result.last_price / (
        store["final"]["BTC"] * result.last_price + store["final"]["USDT"]) * 100
    assert timeline.base_share_pct[-1] == pytest.approx(expected_share, rel=1e-9)
    # base share minus start share is the mode's inventory drift
    assert timeline.base_share_pct[-1] - timeline.start_share_pct[-1] == pytest.approx(
        result.inventory_drift_pp, rel=1e-6, abs=1e-9)
    assert timeline.inventory_band_pp == 5.0 and timeline.band_enforced
    # one point per engine time step (plus the start and the end) on this 2-day file
    assert timeline.stride == 1 and len(timeline.points) == datafile.read_info(result.data).candles + 2
    # the peak drift is the largest |base share - start share| over those points, and stays in the band
    peak = max(abs(share - start) for share, start in zip(timeline.base_share_pct, timeline.start_share_pct))
    assert result.peak_inventory_drift_pp == timeline.peak_drift_pp == pytest.approx(peak, rel=1e-9)
    assert abs(result.inventory_drift_pp) <= result.peak_inventory_drift_pp <= timeline.inventory_band_pp


def test_peak_drift_counts_samples_the_timeline_drops():
    timeline = simulation.Timeline(symbol="X/Y", start_time=0, start_base=1, start_quote=1, max_points=10)
    for step in range(100):
        # one spike (2 base instead of 1, at price 1 with 1 quote: 2/3 of the value, +33.3 pp) at an odd step
        timeline.add((step * 60.0, 0.0, 0.0, 2.0 if step == 37 else 1.0, 1.0, 1.0))
    assert all(point[3] == 1.0 for point in timeline.points)
    assert timeline.peak_drift_pp == pytest.approx(100 / 3)


def test_timeline_memory_stays_bounded():
    timeline = simulation.Timeline(symbol="X/Y", start_time=0, start_base=1, start_quote=1, max_points=100)
    for step in range(10000):
        timeline.add((step * 60.0, float(step), 0.0, 1.0, 1.0, 1.0))
    assert len(timeline.points) < 200
    assert timeline.points[0][0] == 0
    assert timeline.stride in (64, 128)
    gaps = {later[0] - earlier[0] for earlier, later in zip(timeline.points, timeline.points[1:])}
    assert gaps == {timeline.stride * 60.0}


def test_json_keeps_its_keys_and_leaves_the_timeline_out(market_run):
    result, _ = market_run
    data = json.loads(json.dumps(result.to_json_dict(), default=str))
    for key in ("symbol", "volume", "target", "target_reached", "orders_created", "orders_filled",
                "orders_cancelled", "fees", "simulated_seconds", "wall_seconds", "net_cost", "net_cost_bps",
                "inventory_drift_pp", "time_to_target_seconds", "fill_ratio", "maker_share", "time_frame",
                "time_step_seconds"):
        assert key in data
    assert "timeline" not in data
    assert data["net_cost"] == result.net_cost


def test_limitations_warn_when_the_engine_record_lost_trades(market_run):
    result, _ = market_run
    truncated = dataclasses.replace(result, engine_trades_seen=result.fills - 5)
    text = report.format_report(truncated)
    assert "most recent trades (at most 10,000" in text
    assert f"{result.fills - 5:,} of {result.fills:,} fills" in text


def _png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_chart_has_three_panels(market_run, tmp_path):
    result, _ = market_run
    figure = report.build_figure(result)
    axes = figure.get_axes()
    assert len(axes) == 3
    volume_axes = axes[0]
    # panel (a): the volume line ends at the result's volume, the target line at the target
    lines = {line.get_label(): line for line in volume_axes.get_lines()}
    assert list(lines["cumulative volume"].get_ydata())[-1] == pytest.approx(result.volume)
    assert any(label.startswith("target ") and set(line.get_ydata()) == {result.target}
               for label, line in lines.items())
    # panel (c): the net cost line ends at the result's net cost
    cost_lines = [line for line in axes[2].get_lines() if line.get_label().startswith("net cost")]
    assert list(cost_lines[0].get_ydata())[-1] == pytest.approx(result.net_cost, rel=1e-9, abs=1e-9)
    path = report.write_chart(result, tmp_path / "chart.png")
    assert _png_size(path) == (1000, 1000)


def test_simulate_command_writes_chart_and_json(tmp_path, capsys):
    chart = tmp_path / "out.png"
    json_file = tmp_path / "out.json"
    code = cli.main(["simulate", "--no-progress", "--set", "order_type=market", "--set", "volume_target=5000",
                     "--set", "random_seed=3", "--chart", str(chart), "--json", str(json_file)])
    assert code == 0
    output = capsys.readouterr().out
    assert "What this simulation cannot show" in output and "60 s steps on 1m data" in output
    assert _png_size(chart) == (1000, 1000)
    data = json.loads(json_file.read_text())
    assert data["target_reached"] and data["orders_created"] == data["fills"] > 0
    assert f"{data['net_cost']:,.2f} USDT" in output


# ----- wording of the fill price, amounts in the quote's precision -----
def test_resting_orders_can_fill_at_a_better_price_and_the_report_says_so(shared_data):
    """In OctoBot's backtester a resting order priced beyond the whole price range of a step fills at the
    range's edge: a better price than its own. The report must not claim that limit orders fill at their price."""
    store = {}
    with simulation.quiet_octobot_logs():
        result = simulation.run(shared_data / "AbstractExchangeHistoryCollector_1586017993.616272.data",
                                {"order_type": "maker", "volume_target": 20000, "random_seed": 1},
                                starting_portfolio=dict(START), on_finished=_engine_snapshot(store), timeline=False)
    fills = store["trades"]
    assert fills and all(trade["maker"] for trade in fills)

    def better(trade):
        return trade["price"] < trade["order_price"] if trade["side"] == "buy" \
            else trade["price"] > trade["order_price"]

    at_own_price = [trade for trade in fills if trade["price"] == trade["order_price"]]
    at_better_price = [trade for trade in fills if better(trade)]
    # every fill is at the order's price or better, and better ones are common (about a quarter here)
    assert len(at_own_price) + len(at_better_price) == len(fills)
    assert len(at_better_price) >= len(fills) // 10
    text = report.format_report(result)
    assert "at their own price" not in text
    assert "at its own price or at a better one" in text
    assert "fills at the highest of them" in text and "at the lowest" in text


def test_btc_quoted_amounts_keep_the_quote_precision(market_run, shared_data):
    result, _ = market_run
    ada_btc = dataclasses.replace(
        result, symbol="ADA/BTC", data=str(shared_data / "AbstractExchangeHistoryCollector_1581775117.1713624.data"),
        volume=0.3004, target=0.3, fees=0.0003004, net_cost=0.00001234, time_frame="1m", time_step_seconds=60.0)
    text = report.format_report(ada_btc)
    assert "0.00 BTC" not in text and "e-0" not in text
    # the data's prices have 8 decimals (satoshis)
    assert "0.30040000 / 0.30000000 BTC" in text
    assert "0.00030040 BTC" in text and "0.00001234 BTC" in text


def test_amounts_without_the_data_file_follow_the_target_scale(market_run, tmp_path):
    result, _ = market_run
    moved = dataclasses.replace(result, symbol="ETH/BTC", data=str(tmp_path / "gone.data"), target=2.0,
                                volume=2.0125, fees=0.0020125, net_cost=0.0004, time_frame="1m",
                                time_step_seconds=60.0)
    text = report.format_report(moved)
    assert "0.00 BTC" not in text
    assert "2.01250 / 2.00000 BTC" in text and "0.00201 BTC" in text and "0.00040 BTC" in text


def test_compare_table_keeps_the_quote_precision():
    from volume_booster import compare
    plan = compare.DataPlan(path=compare.SHARED_DATA / "x.data", exchange="bittrex", symbol="ADA/BTC", quote="BTC",
                            quote_holding=0.15, target=0.3, min_amount=0.000375, max_amount=0.00225, candles=500,
                            finest_time_frame="1m", price_decimals=8)
    run = {"seed": 1, "volume": 0.30012, "target_reached": True, "time_to_target_seconds": 600.0, "fees": 0.00030012,
           "net_cost": 0.0000151, "net_cost_bps": 0.5, "inventory_drift_pp": 0.1, "peak_inventory_drift_pp": 1.0,
           "effective_settings": {"inventory_band_pp": 5.0}}
    row = compare.aggregate("maker", plan, (0.1, 0.1), [run])
    table = "\n".join(compare_report.table_lines([row]))
    assert "0.30012000 BTC" in table and "| 0.00030012 |" in table and "| 0.00001510 |" in table
    assert "e-0" not in table and "| 0.00 |" not in table
    header = compare_report.format_report([row], [plan], [1])
    assert "quote holding 0.15000000 BTC, target 0.30000000 BTC, orders 0.00037500-0.00225000 BTC" in header
