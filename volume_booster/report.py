"""Report of a simulation: a summary table, what the simulation cannot show, and a three-panel chart.

Every figure comes from a :class:`volume_booster.simulation.SimulationResult` (the mode's ledger, the
engine's portfolio and candles); the chart comes from its timeline, sampled at each engine time step.
Floats are fine here: this is a report, not the mode's accounting.
"""
import pathlib
import typing

from volume_booster import datafile
from volume_booster.formatting import amount, duration, result_quote_decimals

# the engine's trade record keeps at most this many trades (octobot_trading's TradesManager.MAX_TRADES_COUNT)
ENGINE_TRADES_KEPT = 10000


def time_step(result) -> tuple:
    """(time frame, seconds) of the engine's steps: the data file's finest time frame."""
    if result.time_frame and result.time_step_seconds:
        return result.time_frame, result.time_step_seconds
    info = datafile.read_info(result.data)
    return info.finest_time_frame, float(datafile.time_frame_seconds(info.finest_time_frame))


def summary(result) -> dict:
    """The report's figures, as numbers."""
    return {
        "volume": result.volume,
        "target": result.target,
        "volume_percent_of_target": result.volume / result.target * 100 if result.target else 0.0,
        "target_reached": result.target_reached,
        "orders_created": result.orders_created,
        "orders_filled": result.orders_filled,
        "orders_cancelled": result.orders_cancelled,
        "open_orders_left": result.open_orders_left,
        "fills": result.fills,
        "fill_ratio": result.fill_ratio,
        "cancels_per_fill": result.cancels_per_fill,
        "maker_share": result.maker_share,
        "fees": result.fees,
        "net_cost": result.net_cost,
        "net_cost_bps": result.net_cost_bps,
        "inventory_drift_pp": result.inventory_drift_pp,
        "peak_inventory_drift_pp": result.peak_inventory_drift_pp,
        "time_to_target_seconds": result.time_to_target_seconds,
        "simulated_seconds": result.simulated_seconds,
        "wall_seconds": result.wall_seconds,
    }


def rows(result) -> list:
    """(figure, value, meaning) rows of the summary table."""
    figures = summary(result)
    quote = result.symbol.split("/")[1]
    decimals = result_quote_decimals(result)
    reached = "reached" if result.target_reached else "NOT reached"
    simulated_hours_per_second = result.simulated_seconds / 3600 / result.wall_seconds \
        if result.wall_seconds else 0.0
    return [
        ("volume / target", f"{amount(result.volume, decimals)} / {amount(result.target, decimals)} {quote} "
                            f"({figures['volume_percent_of_target']:.1f}%)",
         f"target {reached}; filled quote value of the mode's own trades"),
        ("orders", f"created {result.orders_created}, filled {result.orders_filled}, "
                   f"cancelled {result.orders_cancelled}, open {result.open_orders_left}",
         "open: still resting at the end of the data"),
        ("fills", f"{result.fills}", "trades of the mode's orders (one order may fill in several)"),
        ("fill_ratio", f"{result.fill_ratio:.1%}", "orders filled / orders created"),
        ("cancels_per_fill", "-" if result.cancels_per_fill is None else f"{result.cancels_per_fill:.2f}",
         "orders cancelled per fill (order churn)"),
        ("maker_share", f"{result.maker_share:.1%}", "share of the volume filled as maker"),
        ("fees", f"{amount(result.fees, decimals)} {quote}",
         "summed from the fills, converted to the quote at the fill price"),
        ("net_cost", f"{amount(result.net_cost, decimals)} {quote}",
         "starting holdings minus final holdings, both valued at the final price"),
        ("net_cost_bps", f"{result.net_cost_bps:.2f} bps", "net_cost / volume x 10,000"),
        ("inventory_drift_pp", f"{result.inventory_drift_pp:+.2f} pp",
         "base bought minus sold, at the final price, in % of the final portfolio value"),
        ("peak_inventory_drift_pp",
         "-" if result.peak_inventory_drift_pp is None else f"{result.peak_inventory_drift_pp:.2f} pp",
         "the largest |inventory drift| at any engine time step of the run"),
        ("time_to_target", duration(result.time_to_target_seconds) if result.target_reached else "-",
         "simulated time from the start to the fill that reached the target"),
        ("simulated duration", duration(result.simulated_seconds), "data played by the engine"),
        ("wall time", f"{result.wall_seconds:.1f} s",
         f"engine start-up included; {simulated_hours_per_second:.1f} simulated hours per wall second"),
    ]


def limitations(result) -> list:
    """What this simulation cannot show, as sentences."""
    time_frame, step = time_step(result)
    lines = [
        f"Time moves in {step:g} s steps on {time_frame} data (the data file's finest time frame): delays "
        f"shorter than a step run in bursts, all orders of a step at one price; a step runs at most one minute "
        f"of the schedule (a 4h step places what a minute holds).",
        "OctoBot's backtester has no spread, no slippage and no liquidity limit: market orders fill at the "
        "candle's close whatever their size. A resting (maker or limit) order fills when the candle's low or high "
        "reaches it, at its own price or at a better one: a buy priced above all of the step's simulated trade "
        "prices (the candle's low, high and close) fills at the highest of them, a sell priced below them all at "
        "the lowest.",
        "So the simulated cost is fees plus the effect of price moves on the inventory; a live run also pays "
        "the spread and slippage. It is not a promise.",
    ]
    seen = result.engine_trades_seen
    if seen is not None and seen < result.fills:
        lines.append(
            f"OctoBot keeps only its most recent trades (at most {ENGINE_TRADES_KEPT:,}, the oldest tenth dropped "
            f"when full): sum_of_fills covers {seen:,} of {result.fills:,} fills; volume and fees come from the "
            f"mode's ledger, counted as the fills happened."
        )
    timeline = getattr(result, "timeline", None)
    if timeline is not None and timeline.stride > 1:
        lines.append(f"Chart: one point every {timeline.stride} time steps ({len(timeline.points):,} points).")
    return lines


# reasons listed under "steps that placed nothing"
WAITING_REASONS_SHOWN = 3


def waiting_lines(result) -> list:
    """The steps that placed nothing, by reason (most frequent first): what blocked the mode and which setting
    to change."""
    reasons = getattr(result, "waiting_reasons", None) or {}
    if not reasons:
        return []
    lines = [f"  steps that placed nothing: {sum(reasons.values()):,}, most often:"]
    for reason, count in list(reasons.items())[:WAITING_REASONS_SHOWN]:
        lines.append(f"    {count:,}x {reason}")
    return lines


def format_report(result) -> str:
    quote = result.symbol.split("/")[1]
    header = f"Volume Booster simulation: {result.symbol} on {pathlib.Path(result.data).name} (amounts in {quote})"
    table = rows(result)
    widths = [max(len(row[column]) for row in table) for column in range(2)]
    lines = [header, ""]
    lines += [f"  {name:<{widths[0]}}  {value:<{widths[1]}}  {meaning}" for name, value, meaning in table]
    if result.settings_error:
        lines.append(f"  NOT STARTED: {result.settings_error}")
    elif result.stopped_reason:
        lines.append(f"  stopped: {result.stopped_reason}")
    elif result.waiting_reason:
        lines.append(f"  waiting at the end: {result.waiting_reason}")
    lines += waiting_lines(result)
    fee_tier = getattr(result, "fee_tier", None)
    if fee_tier:
        lines.append(f"  fee tier: {fee_tier['text']}")
    lines += ["", "What this simulation cannot show:"]
    lines += [f"  - {line}" for line in limitations(result)]
    return "\n".join(lines)


# ----- chart -----
def build_figure(result):
    """A matplotlib Figure (Agg canvas, no pyplot state) with three panels over simulated time:
    volume vs target, base share of the pair's value with the inventory band, fees and net cost."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    timeline = result.timeline
    if timeline is None or not timeline.points:
        raise ValueError("this result has no timeline (run the simulation with timeline=True)")
    base, quote = result.symbol.split("/")
    seconds = timeline.seconds
    in_days = seconds[-1] > 3 * 86400
    scale, unit = (86400.0, "days") if in_days else (3600.0, "hours")
    x = [value / scale for value in seconds]

    figure = Figure(figsize=(10, 10), dpi=100)
    FigureCanvasAgg(figure)
    volume_axes, share_axes, cost_axes = figure.subplots(3, 1, sharex=True)
    time_frame, step = time_step(result)
    figure.suptitle(f"Volume Booster: {result.symbol} on {pathlib.Path(result.data).name}\n"
                    f"simulated in OctoBot's backtester, {step:g} s steps on {time_frame} data: "
                    f"no spread, no slippage, no liquidity limit", fontsize=10)

    volume_axes.plot(x, timeline.volume, color="tab:blue", label="cumulative volume")
    volume_axes.axhline(result.target, color="tab:red", linestyle="--",
                        label=f"target {amount(result.target, result_quote_decimals(result))}")
    if result.target_reached and result.time_to_target_seconds is not None:
        volume_axes.axvline(result.time_to_target_seconds / scale, color="tab:gray", linestyle=":",
                            label=f"target reached after {duration(result.time_to_target_seconds)}")
    volume_axes.set_ylabel(f"volume ({quote})")
    volume_axes.set_title("(a) cumulative volume vs target", fontsize=9, loc="left")
    volume_axes.legend(loc="lower right", fontsize=8)

    share = timeline.base_share_pct
    start_share = timeline.start_share_pct
    share_axes.plot(x, share, color="tab:blue", label=f"{base} share of the pair's value")
    share_axes.plot(x, start_share, color="tab:green", linestyle="--",
                    label="start share (starting holdings at each price)")
    if timeline.inventory_band_pp is not None:
        band = timeline.inventory_band_pp
        enforced = "side_policy balanced" if timeline.band_enforced else "not enforced by this side_policy"
        share_axes.fill_between(x, [value - band for value in start_share], [value + band for value in start_share],
                                color="tab:green", alpha=0.15, label=f"inventory band ±{band:g} pp ({enforced})")
    share_axes.set_ylabel("% in base")
    share_axes.set_title("(b) inventory", fontsize=9, loc="left")
    share_axes.legend(loc="lower right", fontsize=8)

    cost_axes.plot(x, timeline.fees, color="tab:orange", label="cumulative fees")
    cost_axes.plot(x, timeline.net_cost, color="tab:purple",
                   label="net cost (starting holdings minus current holdings, at that time's price)")
    cost_axes.axhline(0, color="black", linewidth=0.5)
    cost_axes.set_ylabel(quote)
    cost_axes.set_xlabel(f"simulated time ({unit})")
    cost_axes.set_title("(c) fees and net cost", fontsize=9, loc="left")
    cost_axes.legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    return figure


def write_chart(result, path: typing.Union[str, pathlib.Path]) -> pathlib.Path:
    path = pathlib.Path(path)
    figure = build_figure(result)
    figure.savefig(path, format="png")
    return path
