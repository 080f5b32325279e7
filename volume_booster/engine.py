"""OctoBot's own backtesting engine (IndependentBacktesting: octobot-backtesting's importer, octobot-trading's
simulated exchange and trader) started in this process on a copy of a data file, with a trading mode."""
import asyncio
import contextlib
import copy
import logging
import pathlib
import shutil
import sys
import tempfile
import time

from volume_booster import REPO_ROOT


_IMPORTER_SELECTOR = None


def _ensure_exchange_data_importer():
    """OctoBot picks the importer of a data file through the collector classes it knows: a full
    OctoBot install brings its collector tentacles; here a minimal history collector class makes
    octobot-backtesting's ExchangeDataImporter the default one, whatever the file's name prefix."""
    import octobot_backtesting.collectors as collectors
    import octobot_commons.tentacles_management as tentacles_management
    global _IMPORTER_SELECTOR
    if not tentacles_management.get_all_classes_from_parent(collectors.AbstractExchangeHistoryCollector):
        # kept referenced: Python tracks subclasses weakly
        _IMPORTER_SELECTOR = type(
            "VolumeBoosterHistoryImporterSelector", (collectors.AbstractExchangeHistoryCollector,), {}
        )


def import_mode_module():
    """Import the tentacle from this repository's tentacles/ folder."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    import tentacles.Trading.Mode.volume_booster_trading_mode as mode_package
    return mode_package


@contextlib.contextmanager
def quiet_octobot_logs(level=logging.ERROR):
    """OctoBot logs every engine event at INFO: keep the console for the report."""
    import octobot_commons.logging as commons_logging
    previous = commons_logging.get_global_logger_level()
    previous_handlers = commons_logging.get_logger_level_per_handler()
    commons_logging.set_global_logger_level(level)
    try:
        yield
    finally:
        commons_logging.set_global_logger_level(previous, handler_levels=previous_handlers)


# pause between the end of the data and the engine's stop
SETTLE_SECONDS = 0.05


class EngineRun:
    """One backtest in OctoBot's engine (IndependentBacktesting), started and running."""

    def __init__(self, backtest, exchange_manager, started: float):
        self.backtest = backtest
        self.exchange_manager = exchange_manager
        # time.perf_counter() before the engine was created: wall times include OctoBot's start-up
        self.started = started

    async def wait_until_finished(self, progress=None, observer=None, poll_seconds: float = 0.2) -> float:
        """Wait for the end of the data; returns the wall seconds since the engine was created."""
        updater = self.backtest.octobot_backtesting.backtesting.time_updater
        # the wait ends as soon as the engine is done: the wall time is not rounded up to a poll
        finished = asyncio.ensure_future(updater.finished_event.wait())
        try:
            while not self.backtest.has_finished():
                if progress is not None:
                    progress(self.backtest.get_progress())
                if observer is not None:
                    observer(self.exchange_manager)
                await asyncio.wait({finished}, timeout=poll_seconds)
        finally:
            finished.cancel()
        wall_seconds = time.perf_counter() - self.started
        if progress is not None:
            progress(1.0)
        # the engine's last data reads finish in the background: stopping it at once can leave a database
        # request pending when the event loop closes
        await asyncio.sleep(SETTLE_SECONDS)
        return wall_seconds


@contextlib.asynccontextmanager
async def engine_run(data_file, config: dict, mode_name: str, mode_settings: dict):
    """Start a backtest of the trading mode class named `mode_name` (any AbstractTradingMode subclass
    imported in this process) on a copy of `data_file`; yields an :class:`EngineRun`, stops the engine on
    exit."""
    import octobot.api.backtesting as octobot_backtesting_api
    import octobot_tentacles_manager.api as tentacles_api
    import octobot_tentacles_manager.configuration as tentacles_configuration
    import octobot_trading.api as trading_api

    import_mode_module()
    _ensure_exchange_data_importer()
    setup_config = tentacles_configuration.TentaclesSetupConfiguration()
    setup_config.tentacles_activation = {"Trading": {mode_name: True}}
    config_by_tentacle = {mode_name: mode_settings}

    def tentacle_config(_setup_config, klass):
        return copy.deepcopy(config_by_tentacle.get(klass.get_name(), {}))

    with tempfile.TemporaryDirectory(prefix="volume-booster-sim-") as work_dir:
        # the engine opens data files for writing: never hand it the original
        local_file = pathlib.Path(work_dir) / pathlib.Path(data_file).name
        shutil.copyfile(data_file, local_file)
        started = time.perf_counter()
        with tentacles_api.local_tentacle_config_proxy(tentacle_config):
            backtest = octobot_backtesting_api.create_independent_backtesting(
                config, setup_config, [str(local_file)],
                data_file_path=work_dir,
                enable_logs=False,
                stop_when_finished=False,
                enable_storage=False,
                enforce_total_databases_max_size_after_run=False,
                config_by_tentacle=config_by_tentacle,
            )
            try:
                await octobot_backtesting_api.initialize_and_run_independent_backtesting(backtest, log_errors=True)
                exchange_manager = trading_api.get_exchange_manager_from_exchange_id(
                    backtest.octobot_backtesting.exchange_manager_ids[0]
                )
                yield EngineRun(backtest, exchange_manager, started)
            finally:
                await octobot_backtesting_api.stop_independent_backtesting(backtest)


def backtest_start_time(backtest, exchange_manager) -> float:
    """The first timestamp of the backtest (the engine's time manager), else the exchange's time now."""
    backtesting = backtest.octobot_backtesting.backtesting
    time_manager = backtesting.time_manager if backtesting else None
    if time_manager and time_manager.starting_timestamp:
        return time_manager.starting_timestamp
    return exchange_manager.exchange.get_exchange_current_time()


def min_time_frame(exchange_manager):
    import octobot_commons.time_frame_manager as time_frame_manager
    import octobot_trading.api as trading_api
    return time_frame_manager.find_min_time_frame(trading_api.get_trading_timeframes(exchange_manager))


def as_floats(portfolio: dict) -> dict:
    return {
        currency: float(values.get("total", 0)) if isinstance(values, dict) else float(values)
        for currency, values in portfolio.items()
    }
