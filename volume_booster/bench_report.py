"""The bench command's report: the machine it ran on and the figures of each run against the idle mode."""
import importlib.metadata
import os
import pathlib
import platform
import typing

from volume_booster import formatting


def machine() -> dict:
    model = None
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import psutil
        memory_gb = round(psutil.virtual_memory().total / 1024 ** 3, 1)
    except Exception:  # the figure is informative only
        memory_gb = None
    return {
        "cores": os.cpu_count(),
        "cpu_model": model or platform.processor() or "unknown",
        "memory_gb": memory_gb,
        "python": platform.python_version(),
        "octobot": _version("octobot"),
        "platform": platform.platform(),
    }


def load_average() -> typing.Optional[str]:
    try:
        return " ".join(pathlib.Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return None


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def format_bench(bench: dict) -> str:
    mach = bench["machine"]
    idle = bench["idle"]
    lines = [
        f"Volume Booster bench: {bench['symbol']} on {pathlib.Path(bench['data']).name} "
        f"({bench['candles']:,} x {bench['time_frame']} candles, {bench['simulated_seconds'] / 86400:.1f} simulated days)",
        f"machine: {mach['cores']} cores, {mach['cpu_model']}, {mach['memory_gb']} GB, Python {mach['python']}, "
        f"OctoBot {mach['octobot']}",
        "",
        f"{'run':<22} {'orders':>8} {'filled':>8} {'wall s':>7} {'ms/order':>9} {'x idle':>7} "
        f"{'orders/s':>9} {'sim h/s':>8} {'cpu s':>7} {'cpu ms/order':>13} {'loggers+':>9} {'RSS+ MB':>8}",
        f"{'idle mode (no orders)':<22} {idle['orders']:>8,} {'-':>8} {idle['wall_seconds']:>7.1f} {'-':>9} "
        f"{1.0:>7.2f} {'-':>9} {idle['simulated_seconds'] / 3600 / idle['wall_seconds']:>8.1f} "
        f"{idle['cpu_seconds']:>7.1f} {'-':>13} {'-':>9} {'-':>8}",
    ]
    rows = [("booster disabled", bench["disabled"])] + \
        [(f"booster {name}", run) for name, run in bench["by_order_type"].items()]
    for label, run in rows:
        lines.append(
            f"{label:<22} {run['orders']:>8,} {run['orders_filled']:>8,} {run['wall_seconds']:>7.1f} "
            f"{formatting.optional(run['ms_per_order'], '9.3f')} {formatting.optional(run['overhead_ratio'], '7.2f')} "
            f"{formatting.optional(run['orders_per_second'], '9.0f')} {formatting.optional(run['simulated_hours_per_second'], '8.1f')} "
            f"{run['cpu_seconds']:>7.1f} {formatting.optional(run['cpu_ms_per_order'], '13.3f')} {run['named_loggers_added']:>9,} "
            f"{run['rss_growth_mb']:>+8.1f}"
        )
    market = bench["by_order_type"]["market"]
    lines += [
        "",
        f"main figures (market orders): ms_per_order {formatting.optional(bench['ms_per_order'], '.3f')}, overhead_ratio "
        f"{formatting.optional(bench['overhead_ratio'], '.2f')} (booster {bench['booster_wall_seconds']:.1f} s / idle "
        f"{bench['idle_wall_seconds']:.1f} s), {formatting.optional(bench['orders_per_second'], ',.0f')} orders per wall second, "
        f"{formatting.optional(bench['simulated_hours_per_second'], '.1f')} simulated hours per wall second; in CPU time "
        f"{formatting.optional(bench['cpu_ms_per_order'], '.3f')} ms per order",
        f"memory over the market run ({bench['orders']:,} orders): peak RSS {bench['peak_rss_mb']:.0f} MB, "
        f"RSS {market['rss_start_mb']:.0f} MB when trading started -> {market['rss_end_mb']:.0f} MB at the end "
        f"(growth {bench['rss_growth_mb']:+.1f} MB; {market['rss_before_mb']:.0f} MB before the engine started); "
        f"{market['named_loggers_added']:,} named loggers added to Python's logging registry during the run",
    ]
    if not bench["orders_target_met"]:
        lines.append(f"WARNING: the market run placed {bench['orders']:,} orders, fewer than the "
                     f"{bench['orders_target']:,} aimed at")
    errors = {name: run["settings_error"] for name, run in bench["by_order_type"].items() if run["settings_error"]}
    for name, error in errors.items():
        lines.append(f"WARNING: {name} run did not trade: {error}")
    lines += [
        "",
        "idle mode: a trading mode defined in volume_booster/bench.py that listens to the candles like the booster "
        "and places no orders (the bot without the booster); 'booster disabled' is the booster with enabled: false "
        "(its loop still wakes up every time step). ms/order = (run wall - idle wall) / orders; x idle = run wall / "
        "idle wall. Wall times include each backtest's OctoBot start-up. cpu: this process's CPU time for the same "
        "span (all its threads), less sensitive than wall time to other processes sharing the cores. loggers+: "
        "named loggers left in Python's logging registry by the run (kept for the life of the process). RSS+: "
        "resident memory at the end of the data minus when trading started (later runs can reuse memory freed "
        "by earlier ones).",
        f"load average at the end (1, 5, 15 min): {bench['load_average']}; bench total: {bench['bench_seconds']:.0f} s",
    ]
    if bench.get("coarse"):
        from volume_booster import bench_coarse
        lines += [""] + bench_coarse.format_coarse(bench["coarse"])
    return "\n".join(lines)
