"""The coarse-step part of `volume-booster bench`: a backtest on 4h data with the Volume Booster against the same
backtest with the idle mode, each as a whole process, as a user waits for it.

On 4h data the engine plays few steps (500 per pair on the shared file), so the idle backtest is mostly start-up
(imports, engine creation) and the booster's cost is what its loop does at each step. Each run is one fresh
Python process that imports OctoBot, plays the whole file in OctoBot's backtesting engine and exits; the process
wall time is measured around it, and the engine's own wall time (engine creation to end of data) inside it.

Runs: ``idle`` (the bench's idle mode), ``profile`` (the booster with the profile's settings: limit orders,
target 50,000 per pair) and ``unreachable`` (the same with a target no pair reaches, so the loop trades until the
end of the data). ``ratio = run process wall / idle process wall``; ``engine_ratio`` the same on engine walls.
"""
import json
import os
import pathlib
import signal
import subprocess
import sys
import time
import typing

from volume_booster import REPO_ROOT
from volume_booster import datafile
from volume_booster.paths import SHARED_DATA

FOUR_HOUR_DATA = SHARED_DATA / "ExchangeHistoryDataCollector_1711122002.311132.data"
GOAL_RATIO = 3.0
UNREACHABLE_TARGET = 1e12
SEED = 11
# one backtest of the 4h file takes seconds; a process still running after this is killed
PROCESS_TIMEOUT = 900
RUNS = {
    "idle": None,
    "profile": {"random_seed": SEED},
    "unreachable": {"random_seed": SEED, "volume_target": UNREACHABLE_TARGET},
}


def run_coarse(data_file=FOUR_HOUR_DATA, repeat: int = 1, log=print) -> dict:
    """Every run `repeat` times, alternating, each in a fresh process; the fastest of each is kept (the least
    disturbed by other processes sharing the machine)."""
    info = datafile.read_info(data_file)
    started = time.perf_counter()
    tries = {name: [] for name in RUNS}
    for attempt in range(repeat):
        for name, settings in RUNS.items():
            log(f"4h data, {name} ({attempt + 1}/{repeat}): one backtest process ...")
            tries[name].append(_process_run(data_file, settings))
    runs = {name: min(figures, key=lambda run: run["process_wall_seconds"]) for name, figures in tries.items()}
    idle = runs["idle"]
    for name, run in runs.items():
        run["ratio"] = run["process_wall_seconds"] / idle["process_wall_seconds"]
        run["engine_ratio"] = run["engine_wall_seconds"] / idle["engine_wall_seconds"]
        run["process_walls_tried"] = [figures["process_wall_seconds"] for figures in tries[name]]
    return {
        "data": str(data_file),
        "time_frame": info.finest_time_frame,
        "candles": info.candles,
        "symbols": list(info.symbols),
        "repeat": repeat,
        "goal_ratio": GOAL_RATIO,
        "runs": runs,
        "seconds": time.perf_counter() - started,
    }


def _process_run(data_file, settings: typing.Optional[dict]) -> dict:
    command = [sys.executable, "-m", "volume_booster.bench_coarse", str(data_file),
               json.dumps(settings) if settings is not None else "idle"]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                               start_new_session=True, cwd=REPO_ROOT, text=True)
    try:
        stdout, stderr = process.communicate(timeout=PROCESS_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise RuntimeError(f"a backtest process on {data_file} ran longer than {PROCESS_TIMEOUT} s: killed")
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"the backtest process on {data_file} failed (exit {process.returncode}):\n"
                           f"{stderr[-3000:]}")
    figures = json.loads(stdout.strip().splitlines()[-1])
    figures["process_wall_seconds"] = wall
    return figures


async def _one_backtest(data_file, settings: typing.Optional[dict]) -> dict:
    from volume_booster import bench, simulation
    profile = simulation.Profile.load()
    info = datafile.read_info(data_file)
    portfolio = simulation.portfolio_for_data(profile.config["trader-simulator"]["starting-portfolio"], info)
    if settings is None:
        run = await bench.run_idle(data_file, profile, portfolio)
        return {"engine_wall_seconds": run["wall_seconds"], "simulated_seconds": run["simulated_seconds"],
                "orders": run["orders"], "fills": run["trades"], "pairs": len(info.symbols), "targets_reached": 0}
    result = await simulation.run_simulation(data_file, settings, profile=profile, starting_portfolio=portfolio,
                                             timeline=False)
    return {
        "engine_wall_seconds": result.wall_seconds,
        "simulated_seconds": result.simulated_seconds,
        "orders": sum(pair.get("orders_created", 0) for pair in result.pairs),
        "fills": sum(pair.get("fills", 0) for pair in result.pairs),
        "pairs": len(result.pairs),
        "targets_reached": sum(1 for pair in result.pairs if pair["target_reached"]),
        "settings_error": result.settings_error,
    }


def format_coarse(coarse: dict) -> list:
    runs = coarse["runs"]
    idle = runs["idle"]
    lines = [
        f"4h data: {pathlib.Path(coarse['data']).name} ({', '.join(coarse['symbols'])}, {coarse['candles']:,} x "
        f"{coarse['time_frame']} candles each), one fresh process per backtest, fastest of {coarse['repeat']}",
        f"{'run':<30} {'orders':>8} {'fills':>8} {'targets':>8} {'process s':>10} {'x idle':>7} {'engine s':>9} "
        f"{'x idle':>7}",
    ]
    labels = {"idle": "idle mode (no orders)", "profile": "booster, profile settings",
              "unreachable": "booster, unreachable target"}
    for name, run in runs.items():
        lines.append(
            f"{labels[name]:<30} {run['orders']:>8,} {run['fills']:>8,} {run['targets_reached']:>4}/{run['pairs']:<3} "
            f"{run['process_wall_seconds']:>10.1f} {run['ratio']:>7.2f} {run['engine_wall_seconds']:>9.2f} "
            f"{run['engine_ratio']:>7.1f}"
        )
    for name in ("profile", "unreachable"):
        run = runs[name]
        verdict = "within" if run["ratio"] <= coarse["goal_ratio"] else "ABOVE"
        lines.append(f"4h ratio ({labels[name]}): {run['ratio']:.2f}x the idle backtest's wall time "
                     f"({run['process_wall_seconds']:.1f} s / {idle['process_wall_seconds']:.1f} s), {verdict} the "
                     f"{coarse['goal_ratio']:g}x goal")
    return lines


def main(argv) -> int:
    """One backtest in this process; prints its figures as one JSON line (used by run_coarse)."""
    import asyncio
    from volume_booster import simulation
    data_file, settings = pathlib.Path(argv[0]), None if argv[1] == "idle" else json.loads(argv[1])
    with simulation.quiet_octobot_logs():
        figures = asyncio.run(_one_backtest(data_file, settings))
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
