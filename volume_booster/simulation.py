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
        """The profile folder's config and mode settings; raises :class:`ProfileError` (naming the file and
        what it lacks) for anything a run could not use."""
        folder = pathlib.Path(folder)
        if not folder.is_dir():
            raise ProfileError(f"{folder}: {'is a file' if folder.exists() else 'no such folder'}; "
                               f"expected an OctoBot profile folder holding profile.json")
        profile_file = folder / "profile.json"
        config = _json_object(profile_file).get("config")
        if not isinstance(config, dict):
            raise ProfileError(f"{profile_file}: no \"config\" object; expected an OctoBot profile")
        simulator = config.get("trader-simulator")
        if not isinstance(simulator, dict):
            raise ProfileError(f"{profile_file}: config has no \"trader-simulator\" object; expected the "
                               f"simulator's settings with its \"starting-portfolio\"")
        portfolio = simulator.get("starting-portfolio")
        if not isinstance(portfolio, dict) or not all(
                isinstance(amount, (int, float)) and not isinstance(amount, bool) and amount >= 0
                for amount in portfolio.values()):
            raise ProfileError(f"{profile_file}: config.trader-simulator.starting-portfolio must map each "
                               f"currency to an amount of 0 or more, got {portfolio!r}")
        settings_file = folder / "specific_config" / f"{MODE_NAME}.json"
        settings = _json_object(settings_file) if settings_file.exists() else {}
        return cls(config=config, mode_settings=settings)


class ProfileError(ValueError):
    """A profile folder a run cannot use: the message names the file and what is wrong."""


def _json_object(path: pathlib.Path) -> dict:
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProfileError(f"{path}: no such file; expected an OctoBot profile folder holding it") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ProfileError(f"{path}: cannot be read ({err})") from None
    except json.JSONDecodeError as err:
        raise ProfileError(f"{path}: not valid JSON ({err.msg} at line {err.lineno} column {err.colno})") from None
    if not isinstance(content, dict):
        raise ProfileError(f"{path}: expected a JSON object, got {type(content).__name__}")
    return content


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
    # the engine's time step: the data file's finest time frame (e.g. "1m" -> 60 s)
    time_frame: typing.Optional[str] = None
    time_step_seconds: typing.Optional[float] = None
    # the mode's trades still held in the engine's trade record (OctoBot keeps at most 10,000 recent trades):
    # sum_of_fills and sum_of_fill_fees only cover these
    engine_trades_seen: typing.Optional[int] = None
    # own orders open when the mode stopped and gone at its restart without a trade (state file runs only)
    orders_vanished: int = 0
    # the largest |inventory drift| (pp, as inventory_drift_pp but at each engine time step's price) during
    # the run; None without a timeline
    peak_inventory_drift_pp: typing.Optional[float] = None
    # why the mode placed nothing at its last step (None when its last step placed an order or it stopped), and
    # the steps that placed nothing over the run: first reason text of each kind -> count
    waiting_reason: typing.Optional[str] = None
    waiting_reasons: dict = dataclasses.field(default_factory=dict)
    # volume, fees, holdings and price over simulated time, sampled at each engine time step (downsampled);
    # not part of the JSON result
    timeline: typing.Optional["Timeline"] = dataclasses.field(default=None, repr=False, compare=False)

    def to_json_dict(self) -> dict:
        return {field.name: copy.deepcopy(getattr(self, field.name)) for field in dataclasses.fields(self)
                if field.name != "timeline"}


@dataclasses.dataclass
class Timeline:
    """The traded pair over simulated time, one point per engine time step, kept under 2 x `max_points` points:
    when full, every other point is dropped and the sampling stride doubles (evenly spaced points).

    A point is (seconds since the start, volume, fees, base holdings, quote holdings, price); holdings are the
    engine portfolio's totals of the pair's two currencies, the price is the close of the step's candle in the
    finest time frame. The first point is the starting portfolio at the first price, the last one the final
    portfolio at the final price (the figures of the result)."""
    symbol: str
    start_time: float
    start_base: float
    start_quote: float
    # the mode's inventory band (percentage points) and whether the side policy enforces it
    inventory_band_pp: typing.Optional[float] = None
    band_enforced: bool = False
    max_points: int = 1500
    points: list = dataclasses.field(default_factory=list)
    stride: int = 1
    steps_seen: int = 0
    # largest |inventory drift| (pp) over every sample, kept or not: (base - start base) at the sample's
    # price, in % of the pair's value then
    peak_drift_pp: float = 0.0
    # sample number of each kept point
    _indices: list = dataclasses.field(default_factory=list, repr=False)

    def add(self, point: tuple, force: bool = False) -> None:
        """Add one sample; kept when its number is a multiple of the stride (or `force`: the start, the end)."""
        index = self.steps_seen
        self.steps_seen += 1
        _, _, _, base, quote, price = point
        value = base * price + quote
        if value:
            self.peak_drift_pp = max(self.peak_drift_pp, abs(base - self.start_base) * price / value * 100)
        if not force and index % self.stride:
            return
        self.points.append(point)
        self._indices.append(index)
        if len(self.points) >= 2 * self.max_points:
            # every other point of the grid goes: the kept points stay evenly spaced, the start (sample 0) stays
            self.stride *= 2
            kept = [(i, p) for i, p in zip(self._indices, self.points) if i % self.stride == 0]
            self._indices = [i for i, _ in kept]
            self.points = [p for _, p in kept]

    def column(self, index: int) -> list:
        return [point[index] for point in self.points]

    @property
    def seconds(self) -> list:
        return self.column(0)

    @property
    def volume(self) -> list:
        return self.column(1)

    @property
    def fees(self) -> list:
        return self.column(2)

    @property
    def prices(self) -> list:
        return self.column(5)

    @property
    def net_cost(self) -> list:
        """Value of the starting holdings at each point's price minus the value of the holdings then."""
        return [(self.start_base - base) * price + (self.start_quote - quote)
                for _, _, _, base, quote, price in self.points]

    @property
    def base_share_pct(self) -> list:
        """Share of the pair's value held in base, in %."""
        return [base * price / (base * price + quote) * 100 if base * price + quote else 0.0
                for _, _, _, base, quote, price in self.points]

    @property
    def start_share_pct(self) -> list:
        """The share the starting base amount makes of the pair's value at each point (both at that price):
        the mode's inventory drift is the base share minus this, and its band is drawn around it."""
        return [self.start_base * price / (base * price + quote) * 100 if base * price + quote else 0.0
                for _, _, _, base, quote, price in self.points]


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
        name, separator, value = pair.partition("=")
        name = name.strip()
        if not separator or not name:
            raise ValueError(f"--set expects NAME=VALUE with a setting name before '=', got {pair!r}")
        try:
            overrides[name] = json.loads(value)
        except json.JSONDecodeError:
            overrides[name] = value
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


def build_config(profile: Profile, data_file, starting_portfolio: typing.Optional[dict] = None,
                 fees: typing.Optional[dict] = None) -> dict:
    """The profile's OctoBot config for a run on `data_file` (starting portfolio completed for its pairs)."""
    config = copy.deepcopy(profile.config)
    simulator_config = config["trader-simulator"]
    simulator_config["starting-portfolio"] = starting_portfolio if starting_portfolio is not None \
        else portfolio_for_data(simulator_config["starting-portfolio"], datafile.read_info(data_file))
    if fees is not None:
        simulator_config["fees"] = fees
    return config


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
        sampler = await _TimelineSampler.register(
            exchange_manager, info, backtest_start_time(run.backtest, exchange_manager),
            config["trader-simulator"]["starting-portfolio"], max_timeline_points,
        ) if timeline else None
        wall_seconds = await run.wait_until_finished(progress, observer)
        if on_finished is not None:
            on_finished(exchange_manager)
        result = _collect_result(exchange_manager, run.backtest, data_file, mode_settings, wall_seconds)
        result.time_frame = info.finest_time_frame
        result.time_step_seconds = float(datafile.time_frame_seconds(info.finest_time_frame))
        if sampler is not None:
            result.timeline = sampler.finish(result)
            result.peak_inventory_drift_pp = result.timeline.peak_drift_pp
    return result


class _TimelineSampler:
    """Samples the traded pair at each engine time step, from an extra consumer of the exchange's OHLCV
    channel (the candles of the finest time frame are the engine's heartbeat)."""

    def __init__(self, exchange_manager, timeline: Timeline, base: str, quote: str):
        self.exchange_manager = exchange_manager
        self.timeline = timeline
        self.base = base
        self.quote = quote
        self.portfolio = exchange_manager.exchange_personal_data.portfolio_manager.portfolio
        self.booster = exchange_manager.trading_modes[0].get_booster()

    @classmethod
    async def register(cls, exchange_manager, info, start_time: float, starting_portfolio: dict,
                       max_points: int) -> "_TimelineSampler":
        import async_channel.enums as channel_enums
        import octobot_commons.channels_name as channels_name
        import octobot_trading.exchange_channel as exchange_channel

        symbol = exchange_manager.trading_modes[0].symbol
        base, quote = symbol.split("/")
        # what the engine was given (its own origin portfolio is only set once prices are known)
        origin = _as_floats(starting_portfolio)
        timeline = Timeline(symbol=symbol, start_time=float(start_time), start_base=origin.get(base, 0.0),
                            start_quote=origin.get(quote, 0.0), max_points=max_points)
        timeline.add((0.0, 0.0, 0.0, timeline.start_base, timeline.start_quote,
                      float(info.first_close.get(symbol, 0.0))), force=True)
        sampler = cls(exchange_manager, timeline, base, quote)
        # same priority level as the trading mode's own candle consumer, registered after it: within a time
        # step the mode acts first, then the sample is taken
        await exchange_channel.get_chan(
            channels_name.OctoBotTradingChannelsName.OHLCV_CHANNEL.value, exchange_manager.id
        ).new_consumer(
            sampler.on_candle,
            symbol=symbol,
            time_frame=_min_time_frame(exchange_manager).value,
            priority_level=channel_enums.ChannelConsumerPriorityLevels.MEDIUM.value,
        )
        return sampler

    async def on_candle(self, exchange: str, exchange_id: str, cryptocurrency: str, symbol: str,
                        time_frame: str, candle):
        try:
            price = float(candle[4])
        except (TypeError, IndexError, KeyError):
            return
        self.timeline.add(self._point(self.exchange_manager.exchange.get_exchange_current_time(), price))

    def _point(self, now: float, price: float) -> tuple:
        ledger = self.booster.ledger if self.booster is not None else None
        return (
            float(now - self.timeline.start_time),
            float(ledger.volume) if ledger else 0.0,
            float(ledger.fees) if ledger else 0.0,
            float(self.portfolio.get_currency_portfolio(self.base).total),
            float(self.portfolio.get_currency_portfolio(self.quote).total),
            price,
        )

    def finish(self, result: SimulationResult) -> Timeline:
        """The final state (the result's figures) as the last point."""
        self.timeline.add(self._point(self.timeline.start_time + result.simulated_seconds, result.last_price),
                          force=True)
        settings = self.booster.settings if self.booster is not None else None
        if settings is not None:
            self.timeline.inventory_band_pp = float(settings.inventory_band_pp)
            self.timeline.band_enforced = settings.side_policy == "balanced"
        return self.timeline


def backtest_start_time(backtest, exchange_manager) -> float:
    """The first timestamp of the backtest (the engine's time manager), else the exchange's time now."""
    backtesting = backtest.octobot_backtesting.backtesting
    time_manager = backtesting.time_manager if backtesting else None
    if time_manager and time_manager.starting_timestamp:
        return time_manager.starting_timestamp
    return exchange_manager.exchange.get_exchange_current_time()


def _collect_result(exchange_manager, backtest, data_file, mode_settings, wall_seconds) -> SimulationResult:
    import octobot_trading.api as trading_api

    mode = exchange_manager.trading_modes[0]
    booster = mode.get_booster()
    booster.collect_fills()
    ledger = booster.ledger
    symbol = mode.symbol
    own_ids = booster.view().own_order_ids
    pairs = [_pair_summary(trading_mode, exchange_manager) for trading_mode in exchange_manager.trading_modes]
    own_trades = [
        trade for trade in exchange_manager.exchange_personal_data.trades_manager.trades.values()
        if trade.symbol == symbol and trade.origin_order_id in own_ids and trade.executed_quantity > 0
    ]
    sum_of_fills = sum((trade.executed_quantity * trade.executed_price for trade in own_trades), decimal.Decimal(0))
    sum_of_fees = sum((booster.gateway.fill(trade).fee_quote for trade in own_trades), decimal.Decimal(0))
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
        engine_trades_seen=len(own_trades),
        orders_vanished=ledger.orders_vanished if ledger else 0,
        waiting_reason=None if booster.finished_reason else booster.view().waiting_reason,
        waiting_reasons=booster.waiting_summary(),
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
