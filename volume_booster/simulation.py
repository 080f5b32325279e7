"""Run the Volume Booster inside OctoBot's own backtesting engine, in this process.

OctoBot's `IndependentBacktesting` (the engine behind `OctoBot -b` and the web UI's backtesting)
reads a `.data` file with octobot-backtesting's importer and runs octobot-trading's simulated
exchange and trader; the trading mode is this project's `VolumeBoosterTradingMode`, configured
from a profile (by default `profiles/volume_booster`) with optional overrides.

The run is put together here from modules of one job each: profile (settings and config), engine (OctoBot's
backtest), timeline (sampling over simulated time), results (the figures).
"""
import asyncio
import copy
import pathlib
import typing

from volume_booster import datafile
from volume_booster.engine import engine_run, import_mode_module, quiet_octobot_logs, backtest_start_time
from volume_booster.paths import DEFAULT_PROFILE, MODE_NAME
from volume_booster.profiles import Profile, ProfileError, build_config, parse_overrides, portfolio_for_data
from volume_booster.results import SimulationResult, collect_result
from volume_booster.timeline import Timeline, TimelineSampler

__all__ = ["run", "run_simulation", "Profile", "ProfileError", "SimulationResult", "Timeline", "engine_run",
           "import_mode_module", "quiet_octobot_logs", "parse_overrides", "portfolio_for_data", "build_config",
           "DEFAULT_PROFILE", "MODE_NAME"]


async def run_simulation(
    data_file: typing.Union[str, pathlib.Path],
    overrides: typing.Optional[dict] = None,
    profile: typing.Optional[Profile] = None,
    starting_portfolio: typing.Optional[dict] = None,
    fees: typing.Optional[dict] = None,
    progress: typing.Optional[typing.Callable[[float], None]] = None,
    observer: typing.Optional[typing.Callable[[object], None]] = None,
    on_finished: typing.Optional[typing.Callable[[object], None]] = None,
    timeline: bool = True,
    max_timeline_points: int = 1500,
) -> SimulationResult:
    """Backtest the mode on `data_file` and return what it did.

    `observer(exchange_manager)` is called at each progress poll (tests and reports sample state with it);
    `on_finished(exchange_manager)` once when the data is played, before the engine stops (its state is then
    final). With `timeline`, the pair's volume, fees, holdings and price are sampled at each engine time step
    into `result.timeline`.
    """
    profile = profile or Profile.load()
    # deep copy: the mode regroups its settings in place, which must never reach the caller's profile
    mode_settings = copy.deepcopy({**profile.mode_settings, **(overrides or {})})
    config = build_config(profile, data_file, starting_portfolio, fees)
    info = datafile.read_info(data_file)
    async with engine_run(data_file, config, MODE_NAME, mode_settings) as run:
        exchange_manager = run.exchange_manager
        sampler = await TimelineSampler.register(
            exchange_manager, info, backtest_start_time(run.backtest, exchange_manager),
            config["trader-simulator"]["starting-portfolio"], max_timeline_points,
        ) if timeline else None
        wall_seconds = await run.wait_until_finished(progress, observer)
        if on_finished is not None:
            on_finished(exchange_manager)
        result = collect_result(exchange_manager, run.backtest, data_file, mode_settings, wall_seconds)
        result.time_frame = info.finest_time_frame
        result.time_step_seconds = float(datafile.time_frame_seconds(info.finest_time_frame))
        if sampler is not None:
            result.timeline = sampler.finish(result)
            result.peak_inventory_drift_pp = result.timeline.peak_drift_pp
    return result


def run(data_file, overrides=None, **kwargs) -> SimulationResult:
    return asyncio.run(run_simulation(data_file, overrides, **kwargs))
