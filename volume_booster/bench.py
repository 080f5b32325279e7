"""`volume-booster bench`: what the Volume Booster costs the bot, measured in one process on one data file.

Runs, all in OctoBot's own backtesting engine on the same data file and starting portfolio:

* ``idle``: :class:`BenchIdleTradingMode`, a minimal trading mode defined here that subscribes to the
  candles like the booster does and places no orders. It is the bot without the booster: the engine
  playing the data file for one pair, with one trading mode listening. (The booster with ``enabled: false``
  is not used as the baseline because its loop still wakes up on every time step: that is part of what the
  booster costs. It is measured too, as ``disabled``, to split the cost between the loop and the orders.)
* ``market`` (the main figure): the booster with market orders and a target it cannot reach, so it trades
  the whole file; its order delays are set from the data's simulated span so it places at least
  ``--orders`` orders (50,000 by default). RSS is sampled during every booster run; the memory figures
  of the JSON's top level are this run's.
* ``limit`` and ``maker``: the same with resting orders (creation, cancels on timeout or repricing, fills by
  the engine's price updates), fewer orders to keep the bench short.

``ms_per_order = (booster wall - idle wall) / orders``; ``overhead_ratio = booster wall / idle wall``. Wall
times include OctoBot's start-up for that backtest (the same in every run), not the Python start-up.

Then, on 4h data (the shared 4h file by default), whole backtest processes of the booster against the idle mode
(see :mod:`volume_booster.bench_coarse`): what the loop costs when one engine step is much longer than its delays.
"""
import asyncio
import gc
import json
import logging
import pathlib
import sys
import threading
import time
import typing

from volume_booster import bench_report, datafile
from volume_booster.paths import SHARED_DATA
# bittrex ADA/BTC, 12,322 x 1m candles over 10 days
DEFAULT_DATA = SHARED_DATA / "AbstractExchangeHistoryCollector_1581775117.1713624.data"
IDLE_MODE_NAME = "BenchIdleTradingMode"
MAIN_ORDERS = 50000
RESTING_ORDERS = 12000
QUICK_MAIN_ORDERS = 3000
QUICK_RESTING_ORDERS = 1500
MAX_ORDERS = 10_000_000
# order sizes as a share of the pair's starting quote holding: small enough that 50,000 orders of fees
# (0.1 % each) leave the balances almost untouched, above the exchanges' minimum order size
MIN_ORDER_SHARE = 0.0012
MAX_ORDER_SHARE = 0.002
SEED = 11
BYTES_PER_MB = 1024 * 1024

_idle_mode_class = None


def idle_mode_class():
    """The idle trading mode, defined on first use (OctoBot is imported lazily)."""
    global _idle_mode_class
    if _idle_mode_class is not None:
        return _idle_mode_class
    import octobot_commons.channels_name as channels_name
    import octobot_trading.enums as trading_enums
    import octobot_trading.modes as trading_modes

    class BenchIdleProducer(trading_modes.AbstractTradingModeProducer):
        def get_channels_registration(self):
            return [channels_name.OctoBotTradingChannelsName.OHLCV_CHANNEL.value]

        async def ohlcv_callback(self, exchange: str, exchange_id: str, cryptocurrency: str, symbol: str,
                                 time_frame: str, candle: dict):
            return None

    class BenchIdleConsumer(trading_modes.AbstractTradingModeConsumer):
        pass

    class BenchIdleTradingMode(trading_modes.AbstractTradingMode):
        """Listens to the candles like the Volume Booster and places no orders."""

        def init_user_inputs(self, inputs: dict) -> None:
            return None

        @classmethod
        def get_is_symbol_wildcard(cls) -> bool:
            return False

        @classmethod
        def get_supported_exchange_types(cls) -> list:
            return [trading_enums.ExchangeTypes.SPOT]

        def get_mode_producer_classes(self) -> list:
            return [BenchIdleProducer]

        def get_mode_consumer_classes(self) -> list:
            return [BenchIdleConsumer]

    assert BenchIdleTradingMode.get_name() == IDLE_MODE_NAME
    _idle_mode_class = BenchIdleTradingMode
    return _idle_mode_class


class RssSampler:
    """Samples this process's resident memory in a thread (the engine keeps the event loop busy)."""

    def __init__(self, interval: float = 0.1):
        import psutil
        self._process = psutil.Process()
        self.interval = interval
        self.peak = 0
        self.samples = 0
        self.marks = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def rss(self) -> int:
        value = self._process.memory_info().rss
        self.peak = max(self.peak, value)
        return value

    def _run(self) -> None:
        while not self._stop.is_set():
            self.rss()
            self.samples += 1
            self._stop.wait(self.interval)

    def mark(self, name: str) -> None:
        self.marks[name] = self.rss()

    def __enter__(self) -> "RssSampler":
        self.mark("before")
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()


def order_settings(quote_holding: float, simulated_seconds: float, orders: int, order_type: str) -> dict:
    """Booster settings that place about `orders` orders over `simulated_seconds`: one order per delay, delays
    drawn from [2/3, 4/3] x the mean delay that gives 15 % more orders than asked (a margin for skipped steps)."""
    mean = simulated_seconds / (orders * 1.15)
    low, high = max(0.1, mean * 2 / 3), max(0.2, mean * 4 / 3)
    amount_low, amount_high = (float(f"{quote_holding * share:.6g}") for share in (MIN_ORDER_SHARE, MAX_ORDER_SHARE))
    return {
        "enabled": True,
        "order_type": order_type,
        "volume_target": 1e12,
        "min_interval_seconds": round(low, 3),
        "max_interval_seconds": round(high, 3),
        "min_buy_amount": amount_low,
        "max_buy_amount": amount_high,
        "min_sell_amount": amount_low,
        "max_sell_amount": amount_high,
        "random_seed": SEED,
    }


async def run_idle(data_file, profile, starting_portfolio: dict) -> dict:
    from volume_booster import simulation
    idle_mode_class()
    config = simulation.build_config(profile, data_file, starting_portfolio)
    cpu_started = time.process_time()
    async with simulation.engine_run(data_file, config, IDLE_MODE_NAME, {"required_strategies": []}) as run:
        start = simulation.backtest_start_time(run.backtest, run.exchange_manager)
        wall = await run.wait_until_finished()
        cpu = time.process_time() - cpu_started
        simulated = run.exchange_manager.exchange.get_exchange_current_time() - start
        orders = len(run.exchange_manager.exchange_personal_data.orders_manager.get_all_orders())
        trades = len(run.exchange_manager.exchange_personal_data.trades_manager.trades)
    return {"wall_seconds": wall, "cpu_seconds": cpu, "simulated_seconds": float(simulated), "orders": orders,
            "trades": trades}


async def run_booster(data_file, profile, starting_portfolio: dict, settings: dict, memory: bool = False) -> dict:
    from volume_booster import simulation
    sampler = RssSampler() if memory else None
    cpu = {}

    def on_progress(fraction):
        if fraction >= 1.0 and "end" not in cpu:
            cpu["end"] = time.process_time()
        if sampler is not None:
            if "start" not in sampler.marks:
                sampler.mark("start")  # engine initialized, data loaded: trading starts
            if fraction >= 1.0:
                sampler.mark("end")

    gc.collect()
    loggers_before = len(logging.Logger.manager.loggerDict)
    if sampler is not None:
        sampler.__enter__()
    cpu["start"] = time.process_time()
    try:
        result = await simulation.run_simulation(data_file, settings, profile=profile,
                                                 starting_portfolio=starting_portfolio,
                                                 progress=on_progress, timeline=False)
    finally:
        if sampler is not None:
            sampler.__exit__()
    figures = {
        "wall_seconds": result.wall_seconds,
        "cpu_seconds": cpu["end"] - cpu["start"],
        "simulated_seconds": result.simulated_seconds,
        "orders": result.orders_created,
        "orders_filled": result.orders_filled,
        "orders_cancelled": result.orders_cancelled,
        "fills": result.fills,
        "volume": result.volume,
        "settings_error": result.settings_error,
        "settings": {name: value for name, value in settings.items()},
        # OctoBot names a logger per order and per order state; Python's logging keeps every named logger
        # for the life of the process unless it is removed from the registry
        "named_loggers_added": len(logging.Logger.manager.loggerDict) - loggers_before,
    }
    if sampler is not None:
        marks = sampler.marks
        figures.update({
            "peak_rss_mb": sampler.peak / BYTES_PER_MB,
            "rss_before_mb": marks["before"] / BYTES_PER_MB,
            "rss_start_mb": marks.get("start", marks["before"]) / BYTES_PER_MB,
            "rss_end_mb": marks.get("end", marks["before"]) / BYTES_PER_MB,
            "rss_growth_mb": (marks.get("end", 0) - marks.get("start", 0)) / BYTES_PER_MB,
            "rss_samples": sampler.samples,
        })
    return figures


def per_order(run: dict, idle: dict) -> dict:
    """The cost figures of a booster run against the idle run."""
    orders = run["orders"]
    return {
        **run,
        "ms_per_order": (run["wall_seconds"] - idle["wall_seconds"]) / orders * 1000 if orders else None,
        "overhead_ratio": run["wall_seconds"] / idle["wall_seconds"] if idle["wall_seconds"] else None,
        "orders_per_second": orders / run["wall_seconds"] if run["wall_seconds"] else None,
        # the same from the process's CPU time: less sensitive to other processes sharing the cores
        "cpu_ms_per_order": (run["cpu_seconds"] - idle["cpu_seconds"]) / orders * 1000 if orders else None,
        "cpu_overhead_ratio": run["cpu_seconds"] / idle["cpu_seconds"] if idle["cpu_seconds"] else None,
        "simulated_hours_per_second": run["simulated_seconds"] / 3600 / run["wall_seconds"]
        if run["wall_seconds"] else None,
    }


async def run_bench(data_file, quick: bool = False, overrides: typing.Optional[dict] = None,
                    main_orders: typing.Optional[int] = None, resting_orders: typing.Optional[int] = None,
                    order_types: typing.Sequence[str] = ("limit", "maker"), log=print) -> dict:
    from volume_booster import simulation
    profile = simulation.Profile.load()
    info = datafile.read_info(data_file)
    symbol = info.symbols[0]
    starting_portfolio = simulation.portfolio_for_data(profile.config["trader-simulator"]["starting-portfolio"], info)
    quote_holding = starting_portfolio[symbol.split("/")[1]]
    main_orders = main_orders or (QUICK_MAIN_ORDERS if quick else MAIN_ORDERS)
    resting_orders = resting_orders or (QUICK_RESTING_ORDERS if quick else RESTING_ORDERS)
    overrides = overrides or {}
    started = time.perf_counter()

    # a first short run loads and warms OctoBot's modules (imports, exchange classes) for every later run
    log(f"warm-up: idle mode on {pathlib.Path(data_file).name} ...")
    warm_up = await run_idle(data_file, profile, starting_portfolio)
    log("idle mode (no orders) ...")
    idle = await run_idle(data_file, profile, starting_portfolio)
    simulated = idle["simulated_seconds"] or warm_up["simulated_seconds"]

    runs = {}
    market_settings = {**order_settings(quote_holding, simulated, main_orders, "market"), **overrides}
    log(f"booster, market orders (target {main_orders:,}+ orders, RSS sampled) ...")
    runs["market"] = per_order(await run_booster(data_file, profile, starting_portfolio, market_settings,
                                                 memory=True), idle)
    log("booster, enabled: false ...")
    disabled = per_order(await run_booster(data_file, profile, starting_portfolio,
                                           {**market_settings, "enabled": False}, memory=True), idle)
    for order_type in order_types:
        settings = {**order_settings(quote_holding, simulated, resting_orders, order_type), **overrides}
        log(f"booster, {order_type} orders (about {resting_orders:,} orders) ...")
        runs[order_type] = per_order(await run_booster(data_file, profile, starting_portfolio, settings,
                                                       memory=True), idle)
    main = runs["market"]
    return {
        # the main run: market orders
        "ms_per_order": main["ms_per_order"],
        "overhead_ratio": main["overhead_ratio"],
        "orders_per_second": main["orders_per_second"],
        "simulated_hours_per_second": main["simulated_hours_per_second"],
        "peak_rss_mb": main["peak_rss_mb"],
        "rss_growth_mb": main["rss_growth_mb"],
        "orders": main["orders"],
        "booster_wall_seconds": main["wall_seconds"],
        "idle_wall_seconds": idle["wall_seconds"],
        "cpu_ms_per_order": main["cpu_ms_per_order"],
        "booster_cpu_seconds": main["cpu_seconds"],
        "idle_cpu_seconds": idle["cpu_seconds"],
        "load_average": bench_report.load_average(),
        "simulated_seconds": main["simulated_seconds"],
        "orders_target": main_orders,
        "orders_target_met": main["orders"] >= main_orders,
        "by_order_type": runs,
        "idle": idle,
        "warm_up_idle": warm_up,
        "disabled": disabled,
        "data": str(data_file),
        "symbol": symbol,
        "time_frame": info.finest_time_frame,
        "candles": info.candles,
        "starting_portfolio": starting_portfolio,
        "quick": quick,
        "machine": bench_report.machine(),
        "bench_seconds": time.perf_counter() - started,
    }


def _check_run_settings(info, profile, overrides) -> None:
    """The --set overrides over the settings of every booster run, checked against the settings table before
    anything runs (a bad value raises the settings error naming the setting)."""
    from volume_booster import cli, simulation
    vb_settings = cli.settings_module()
    portfolio = simulation.portfolio_for_data(profile.config["trader-simulator"]["starting-portfolio"], info)
    simulated = (info.candles - 1) * datafile.time_frame_seconds(info.finest_time_frame)
    for order_type in ("market", "limit", "maker"):
        settings = order_settings(portfolio[info.symbols[0].split("/")[1]], simulated, MAIN_ORDERS, order_type)
        vb_settings.parse_settings({**profile.mode_settings, **settings, **overrides})


def _coarse_data(options) -> typing.Optional[pathlib.Path]:
    """The coarse-step runs' data file: --coarse-data, else the shared 4h file (not with --quick)."""
    from volume_booster import bench_coarse
    if options.coarse_data:
        return pathlib.Path(options.coarse_data)
    if options.quick or not bench_coarse.FOUR_HOUR_DATA.exists():
        return None
    return bench_coarse.FOUR_HOUR_DATA


def main(argv=None) -> int:
    from volume_booster import cli_input
    prog = "volume-booster bench"
    parser = cli_input.ArgumentParser(
        prog=prog,
        description="What the Volume Booster costs the bot: wall time per order and memory, in OctoBot's "
                    "backtesting engine, against a trading mode that places no orders, on the same data.",
    )
    parser.add_argument("--data", help=f"an OctoBot .data file (default: ../shared/data/{DEFAULT_DATA.name}, "
                                       f"10 days of 1m ADA/BTC; with --quick: the embedded market)")
    parser.add_argument("--quick", action="store_true",
                        help=f"small run: about {QUICK_MAIN_ORDERS:,} market and {QUICK_RESTING_ORDERS:,} resting "
                             f"orders (default data: the embedded 2-day market)")
    parser.add_argument("--orders", type=cli_input.whole_number(1, MAX_ORDERS),
                        help=f"orders to aim at in the market run "
                             f"(default {MAIN_ORDERS:,}, quick {QUICK_MAIN_ORDERS:,})")
    parser.add_argument("--resting-orders", type=cli_input.whole_number(1, MAX_ORDERS),
                        help=f"orders to aim at in the limit and maker runs (default {RESTING_ORDERS:,}, "
                             f"quick {QUICK_RESTING_ORDERS:,})")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="NAME=VALUE",
                        help="override a booster setting in every booster run (repeatable)")
    parser.add_argument("--json", dest="json_file", help="write the figures as JSON to this file")
    parser.add_argument("--coarse-data", metavar="FILE",
                        help="4h .data file of the coarse-step runs (whole backtest processes, booster vs idle mode; "
                             "default: ../shared/data/ExchangeHistoryDataCollector_1711122002.311132.data when "
                             "present; skipped with --quick unless given)")
    parser.add_argument("--coarse-repeat", type=cli_input.whole_number(1, 20), default=2,
                        help="processes per coarse-step run, the fastest kept (default 2)")
    try:
        options = parser.parse_args(argv)
        from volume_booster import cli
        overrides, profile = cli.checked_settings(options.overrides)
        if options.json_file:
            cli_input.output_file("--json", options.json_file)
        if options.data:
            data_file = pathlib.Path(options.data)
        elif options.quick or not DEFAULT_DATA.exists():
            from volume_booster import market
            data_file = market.default_market_file()
            if not options.quick:
                print(f"{DEFAULT_DATA} not found: using the embedded market", file=sys.stderr)
        else:
            data_file = DEFAULT_DATA
        _check_run_settings(cli_input.data_file("--data", data_file), profile, overrides)
        coarse_data = _coarse_data(options)
        if coarse_data is not None:
            cli_input.data_file("--coarse-data", coarse_data)
    except (ValueError, OSError) as err:
        return cli_input.report(prog, err)
    from volume_booster import simulation

    def log(message):
        print(message, file=sys.stderr, flush=True)

    with simulation.quiet_octobot_logs():
        bench = asyncio.run(run_bench(data_file, quick=options.quick, overrides=overrides,
                                      main_orders=options.orders, resting_orders=options.resting_orders, log=log))
    if coarse_data is not None:
        from volume_booster import bench_coarse
        bench["coarse"] = bench_coarse.run_coarse(coarse_data, repeat=options.coarse_repeat, log=log)
        bench["four_hour_ratio"] = bench["coarse"]["runs"]["profile"]["ratio"]
        bench["four_hour_unreachable_target_ratio"] = bench["coarse"]["runs"]["unreachable"]["ratio"]
    bench["command"] = "volume-booster bench " + " ".join(argv if argv is not None else sys.argv[2:])
    print(bench_report.format_bench(bench))
    if options.json_file:
        pathlib.Path(options.json_file).write_text(json.dumps(bench, indent=2, default=str))
        print(f"figures written to {options.json_file}")
    return 0
