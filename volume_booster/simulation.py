"""Run the Volume Booster inside OctoBot's own backtesting engine, in this process.

OctoBot's `IndependentBacktesting` (the engine behind `OctoBot -b` and the web UI's backtesting)
reads a `.data` file with octobot-backtesting's importer and runs octobot-trading's simulated
exchange and trader; the trading mode is this project's `VolumeBoosterTradingMode`, configured
from a profile (by default `profiles/volume_booster`) with optional overrides.
"""
import asyncio
import contextlib
import copy
import dataclasses
import decimal
import json
import logging
import os
import pathlib
import shutil
import sys
import tempfile
import time
import typing

from volume_booster import REPO_ROOT
from volume_booster import datafile

MODE_NAME = "VolumeBoosterTradingMode"
DEFAULT_PROFILE = REPO_ROOT / "profiles" / "volume_booster"


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


@dataclasses.dataclass
class Profile:
    config: dict
    mode_settings: dict

    @classmethod
    def load(cls, folder: pathlib.Path = DEFAULT_PROFILE) -> "Profile":
        folder = pathlib.Path(folder)
        profile = json.loads((folder / "profile.json").read_text())
        settings_file = folder / "specific_config" / f"{MODE_NAME}.json"
        settings = json.loads(settings_file.read_text()) if settings_file.exists() else {}
        return cls(config=profile["config"], mode_settings=settings)


@dataclasses.dataclass
class SimulationResult:
    symbol: str
    data: str
    settings: dict
    volume: float
    target: float
    target_reached: bool
    orders_created: int
    orders_filled: int
    orders_cancelled: int
    fills: int
    buy_volume: float
    sell_volume: float
    fees: float
    sum_of_fills: float
    sum_of_fill_fees: float
    simulated_seconds: float
    wall_seconds: float
    time_to_target_seconds: typing.Optional[float]
    open_orders_left: int
    start_portfolio: dict
    end_portfolio: dict
    first_price: float
    last_price: float
    seed: typing.Optional[int]
    stopped_reason: typing.Optional[str]
    settings_error: typing.Optional[str]
    # value of the starting portfolio at the final price minus the final portfolio's value at that price
    net_cost: float
    net_cost_bps: float
    # (final base - starting base) at the final price, in percentage points of the final portfolio value
    inventory_drift_pp: float
    fill_ratio: float
    maker_share: float
    # one entry per traded pair (several pairs share the engine): symbol, volume, target, fees, ...
    pairs: list

    def to_json_dict(self) -> dict:
        return dataclasses.asdict(self)


# holdings given to a quote currency the profile's portfolio lacks (about 10,000 USD each in 2024)
_QUOTE_HOLDINGS = {"BTC": 0.15, "ETH": 3.0, "BNB": 20.0}
_DEFAULT_QUOTE_HOLDING = 10000.0


def portfolio_for_data(portfolio: dict, info) -> dict:
    """The profile's starting portfolio, completed for the data file's pairs: a missing quote currency
    gets a default holding and a missing base currency the same value as its quote holding, so the
    mode starts balanced on any data file."""
    completed = dict(portfolio)
    for symbol in info.symbols:
        base, quote = symbol.split("/")
        if quote not in completed:
            completed[quote] = _QUOTE_HOLDINGS.get(quote, _DEFAULT_QUOTE_HOLDING)
        if base not in completed:
            completed[base] = float(f"{completed[quote] / info.first_close[symbol]:.8g}")
    return completed


def parse_overrides(pairs: typing.Iterable[str]) -> dict:
    """`name=value` strings into a dict; values are read as JSON when possible (numbers, booleans)."""
    overrides = {}
    for pair in pairs:
        if "=" not in pair:
            raise ValueError(f"--set expects name=value, got {pair!r}")
        name, value = pair.split("=", 1)
        try:
            overrides[name.strip()] = json.loads(value)
        except json.JSONDecodeError:
            overrides[name.strip()] = value
    return overrides


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


async def run_simulation(
    data_file: typing.Union[str, pathlib.Path],
    overrides: typing.Optional[dict] = None,
    profile: typing.Optional[Profile] = None,
    starting_portfolio: typing.Optional[dict] = None,
    fees: typing.Optional[dict] = None,
    progress: typing.Optional[typing.Callable[[float], None]] = None,
    observer: typing.Optional[typing.Callable[[object], None]] = None,
) -> SimulationResult:
    """Backtest the mode on `data_file` and return what it did.

    `observer(exchange_manager)` is called at each progress poll (tests and reports sample state with it).
    """
    import octobot.api.backtesting as octobot_backtesting_api
    import octobot_tentacles_manager.api as tentacles_api
    import octobot_tentacles_manager.configuration as tentacles_configuration
    import octobot_trading.api as trading_api

    import_mode_module()
    _ensure_exchange_data_importer()
    profile = profile or Profile.load()
    mode_settings = {**profile.mode_settings, **(overrides or {})}
    config = copy.deepcopy(profile.config)
    simulator_config = config["trader-simulator"]
    simulator_config["starting-portfolio"] = starting_portfolio if starting_portfolio is not None \
        else portfolio_for_data(simulator_config["starting-portfolio"], datafile.read_info(data_file))
    if fees is not None:
        simulator_config["fees"] = fees
    setup_config = tentacles_configuration.TentaclesSetupConfiguration()
    setup_config.tentacles_activation = {"Trading": {MODE_NAME: True}}
    config_by_tentacle = {MODE_NAME: mode_settings}

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
                while not backtest.has_finished():
                    if progress is not None:
                        progress(backtest.get_progress())
                    if observer is not None:
                        observer(exchange_manager)
                    await asyncio.sleep(0.2)
                if progress is not None:
                    progress(1.0)
                wall_seconds = time.perf_counter() - started
                result = _collect_result(exchange_manager, backtest, data_file, mode_settings, wall_seconds)
            finally:
                await octobot_backtesting_api.stop_independent_backtesting(backtest)
    return result


def _collect_result(exchange_manager, backtest, data_file, mode_settings, wall_seconds) -> SimulationResult:
    import octobot_trading.api as trading_api

    mode = exchange_manager.trading_modes[0]
    booster = mode.get_booster()
    booster.collect_fills()
    ledger = booster.ledger
    symbol = mode.symbol
    own_ids = booster._own_order_ids
    pairs = [_pair_summary(trading_mode, exchange_manager) for trading_mode in exchange_manager.trading_modes]
    own_trades = [
        trade for trade in exchange_manager.exchange_personal_data.trades_manager.trades.values()
        if trade.symbol == symbol and trade.origin_order_id in own_ids and trade.executed_quantity > 0
    ]
    sum_of_fills = sum((trade.executed_quantity * trade.executed_price for trade in own_trades), decimal.Decimal(0))
    sum_of_fees = sum((booster._fill_from_trade(trade).fee_quote for trade in own_trades), decimal.Decimal(0))
    time_manager = backtest.octobot_backtesting.backtesting.time_manager \
        if backtest.octobot_backtesting.backtesting else None
    start_time = time_manager.starting_timestamp if time_manager else 0
    end_time = exchange_manager.exchange.get_exchange_current_time()
    closes = trading_api.get_symbol_close_candles(
        trading_api.get_symbol_data(exchange_manager, symbol),
        _min_time_frame(exchange_manager),
    )
    open_orders = [o for o in exchange_manager.exchange_personal_data.orders_manager.get_open_orders(symbol=symbol)
                   if o.order_id in own_ids]
    target = ledger.target if ledger else decimal.Decimal(str(mode_settings.get("volume_target", 0)))
    start_portfolio = _as_floats(trading_api.get_origin_portfolio(exchange_manager, as_decimal=False))
    end_portfolio = _as_floats(trading_api.get_portfolio(exchange_manager, as_decimal=False))
    last_price = float(closes[-1]) if len(closes) else 0.0
    prices = _final_prices(exchange_manager, start_portfolio, end_portfolio)
    start_value = sum(amount * prices.get(currency, 0.0) for currency, amount in start_portfolio.items())
    end_value = sum(amount * prices.get(currency, 0.0) for currency, amount in end_portfolio.items())
    net_cost = start_value - end_value
    volume = float(ledger.volume) if ledger else 0.0
    base = symbol.split("/")[0]
    drift = (end_portfolio.get(base, 0.0) - start_portfolio.get(base, 0.0)) * last_price
    return SimulationResult(
        symbol=symbol,
        data=str(data_file),
        settings=mode_settings,
        volume=float(ledger.volume) if ledger else 0.0,
        target=float(target),
        target_reached=bool(ledger and ledger.target_reached),
        orders_created=ledger.orders_created if ledger else 0,
        orders_filled=ledger.orders_filled if ledger else 0,
        orders_cancelled=ledger.orders_cancelled if ledger else 0,
        fills=ledger.fills_count if ledger else 0,
        buy_volume=float(ledger.buy_volume) if ledger else 0.0,
        sell_volume=float(ledger.sell_volume) if ledger else 0.0,
        fees=float(ledger.fees) if ledger else 0.0,
        sum_of_fills=float(sum_of_fills),
        sum_of_fill_fees=float(sum_of_fees),
        simulated_seconds=float(end_time - start_time) if start_time else 0.0,
        wall_seconds=wall_seconds,
        time_to_target_seconds=(ledger.target_reached_time - start_time)
        if ledger and ledger.target_reached_time is not None and start_time else None,
        open_orders_left=len(open_orders),
        start_portfolio=start_portfolio,
        end_portfolio=end_portfolio,
        first_price=float(closes[0]) if len(closes) else 0.0,
        last_price=last_price,
        seed=booster.seed,
        stopped_reason=booster.finished_reason,
        settings_error=booster.settings_error,
        net_cost=net_cost,
        net_cost_bps=net_cost / volume * 10000 if volume else 0.0,
        inventory_drift_pp=drift / end_value * 100 if end_value else 0.0,
        fill_ratio=ledger.orders_filled / ledger.orders_created if ledger and ledger.orders_created else 0.0,
        maker_share=float(ledger.maker_volume / ledger.volume) if ledger and ledger.volume else 0.0,
        pairs=pairs,
    )


def _final_prices(exchange_manager, *portfolios) -> dict:
    """Each held currency's final price in the reference market (quote of the traded pairs)."""
    import octobot_trading.api as trading_api
    reference = trading_api.get_reference_market(exchange_manager.config)
    prices = {reference: 1.0}
    for trading_mode in exchange_manager.trading_modes:
        base, quote = trading_mode.symbol.split("/")
        closes = trading_api.get_symbol_close_candles(
            trading_api.get_symbol_data(exchange_manager, trading_mode.symbol), _min_time_frame(exchange_manager)
        )
        if len(closes):
            if quote == reference:
                prices[base] = float(closes[-1])
            elif base == reference:
                prices[quote] = 1 / float(closes[-1])
    for portfolio in portfolios:
        for currency in portfolio:
            if currency not in prices:
                # a single pair quoted in a currency that is not the reference: value in its quote
                for trading_mode in exchange_manager.trading_modes:
                    base, quote = trading_mode.symbol.split("/")
                    if currency == quote:
                        prices[currency] = 1.0
                        prices.setdefault(base, prices[currency] * _last_close(exchange_manager, trading_mode.symbol))
    return prices


def _last_close(exchange_manager, symbol) -> float:
    import octobot_trading.api as trading_api
    closes = trading_api.get_symbol_close_candles(trading_api.get_symbol_data(exchange_manager, symbol),
                                                  _min_time_frame(exchange_manager))
    return float(closes[-1]) if len(closes) else 0.0


def _pair_summary(trading_mode, exchange_manager) -> dict:
    booster = trading_mode.get_booster()
    ledger = booster.ledger
    if ledger is None:
        return {"symbol": trading_mode.symbol, "volume": 0.0, "target_reached": False,
                "settings_error": booster.settings_error}
    booster.collect_fills()
    price = decimal.Decimal(str(_last_close(exchange_manager, trading_mode.symbol)))
    return {
        "symbol": trading_mode.symbol,
        "volume": float(ledger.volume),
        "target": float(ledger.target),
        "target_reached": ledger.target_reached,
        "fees": float(ledger.fees),
        "net_cost": float(ledger.net_cost(price)),
        "fills": ledger.fills_count,
        "orders_created": ledger.orders_created,
        "base_delta": float(ledger.base_delta),
        "quote_delta": float(ledger.quote_delta),
        "allocation": {currency: float(amount) for currency, amount in booster.allocation.items()},
        "stopped_reason": booster.finished_reason,
    }


def _min_time_frame(exchange_manager):
    import octobot_commons.time_frame_manager as time_frame_manager
    import octobot_trading.api as trading_api
    return time_frame_manager.find_min_time_frame(trading_api.get_trading_timeframes(exchange_manager))


def _as_floats(portfolio: dict) -> dict:
    return {
        currency: float(values.get("total", 0)) if isinstance(values, dict) else float(values)
        for currency, values in portfolio.items()
    }


def run(data_file, overrides=None, **kwargs) -> SimulationResult:
    return asyncio.run(run_simulation(data_file, overrides, **kwargs))
