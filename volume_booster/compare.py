"""`volume-booster compare`: run several execution styles of the Volume Booster on the same data, in one
process, and print one table of what each style cost.

A style is only a set of mode settings (same engine, same mode, same code):

* ``auto``                order_type auto,   side_policy balanced
* ``maker``               order_type maker,  side_policy balanced
* ``limit``               order_type limit,  side_policy balanced
* ``market``              order_type market, side_policy balanced
* ``coin-flip``           order_type market, side_policy random       (baseline)
* ``alternating-market``  order_type market, side_policy alternating  (baseline)

Every configuration (data file x fee schedule x style) runs with several seeds (1..N), because one run of
a style that lets its inventory drift is a lottery on the later price moves: the table reports the mean,
min and max of ``net_cost_bps`` over the seeds, the mean inventory drift and the mean time to target.

Target and order sizes are set per data file from the pair's starting quote holding (the profile's
starting portfolio completed by ``simulation.portfolio_for_data``): orders of 0.25 % to 1.5 % of it and a
target of 2x it, so that every style trades the same amounts toward the same target.
"""
import asyncio
import copy
import dataclasses
import decimal
import json
import math
import pathlib
import statistics
import sys
import time

from volume_booster import datafile, formatting
from volume_booster.compare_report import format_report
from volume_booster.paths import SHARED_DATA

# the shared real-data files with 1m candles (see ../shared/data/README.md), smallest first
SHARED_1M_FILES = (
    "AbstractExchangeHistoryCollector_1586017993.616272.data",   # binance BTC/USDT, 502 x 1m
    "AbstractExchangeHistoryCollector_1581776676.5721796.data",  # binance ETH/USDT, 500 x 1m
    "ExchangeHistoryDataCollector_1587769859.9278197.data",      # binance ADA/USDT, 500 x 1m
    "AbstractExchangeHistoryCollector_1581775117.1713624.data",  # bittrex ADA/BTC, 10 days
    "AbstractExchangeHistoryCollector_1581775149.6372743.data",  # bittrex XRP/BTC, 10 days
)
QUICK_FILE = SHARED_1M_FILES[0]
QUICK_SEEDS = 2

# style name -> the mode settings that make it; everything else is the same for every style
STYLES = {
    "auto": {"order_type": "auto", "side_policy": "balanced"},
    "maker": {"order_type": "maker", "side_policy": "balanced"},
    "limit": {"order_type": "limit", "side_policy": "balanced"},
    "market": {"order_type": "market", "side_policy": "balanced"},
    "coin-flip": {"order_type": "market", "side_policy": "random"},
    "alternating-market": {"order_type": "market", "side_policy": "alternating"},
}
BASELINES = ("coin-flip", "alternating-market")

# simulator fee schedules, in percent as OctoBot's trader-simulator config holds them
DEFAULT_FEES = ((0.1, 0.1), (0.02, 0.1))
DEFAULT_SEEDS = 5
MAX_SEEDS = 1000
MAX_TARGET_MULTIPLE = 1000.0
# sizes relative to the pair's starting quote holding
DEFAULT_TARGET_MULTIPLE = 2.0
MIN_AMOUNT_SHARE = 0.0025
MAX_AMOUNT_SHARE = 0.015

ROW_KEYS = ("style", "data", "maker_fee", "taker_fee", "volume", "target_reached", "time_to_target_seconds",
            "fees", "net_cost", "net_cost_bps", "inventory_drift_pp", "seeds", "net_cost_bps_min",
            "net_cost_bps_max", "fill_ratio", "cancels_per_fill", "cost_floor_ratio", "runs")


@dataclasses.dataclass(frozen=True)
class DataPlan:
    """One data file and the sizes every style uses on it."""
    path: pathlib.Path
    exchange: str
    symbol: str
    quote: str
    quote_holding: float
    target: float
    min_amount: float
    max_amount: float
    candles: int
    finest_time_frame: str
    # decimals of the pair's prices in the data: quote amounts are printed with as many (at least 2)
    price_decimals: int = 2

    @property
    def quote_decimals(self) -> int:
        return formatting.quote_decimals(self.price_decimals)

    @property
    def size_settings(self) -> dict:
        return {
            "volume_target": self.target,
            "min_buy_amount": self.min_amount,
            "max_buy_amount": self.max_amount,
            "min_sell_amount": self.min_amount,
            "max_sell_amount": self.max_amount,
        }


def plan_data_file(path, profile, target_multiple: float = DEFAULT_TARGET_MULTIPLE) -> DataPlan:
    """Sizes for `path` from the starting quote holding of its (first) pair."""
    from volume_booster import simulation
    info = datafile.read_info(path)
    symbol = info.symbols[0]
    quote = symbol.split("/")[1]
    portfolio = simulation.portfolio_for_data(profile.config["trader-simulator"]["starting-portfolio"], info)
    holding = float(portfolio[quote])
    return DataPlan(
        path=pathlib.Path(path), exchange=info.exchange, symbol=symbol, quote=quote, quote_holding=holding,
        target=_round_sig(holding * target_multiple), min_amount=_round_sig(holding * MIN_AMOUNT_SHARE),
        max_amount=_round_sig(holding * MAX_AMOUNT_SHARE), candles=info.candles,
        finest_time_frame=info.finest_time_frame, price_decimals=info.price_decimals,
    )


def _round_sig(value: float, digits: int = 8) -> float:
    return float(f"{value:.{digits}g}")


def default_data_files(folder: pathlib.Path = SHARED_DATA, out=sys.stderr) -> list:
    """The shared files whose finest time frame is 1m; a missing or unreadable one is skipped with a reason."""
    found = []
    if not folder.is_dir():
        print(f"skipped all shared data: folder {folder} is absent", file=out)
        return found
    for name in SHARED_1M_FILES:
        path = folder / name
        if not path.is_file():
            print(f"skipped {name}: absent from {folder}", file=out)
            continue
        try:
            info = datafile.read_info(path)
        except ValueError as err:
            print(f"skipped {name}: {err}", file=out)
            continue
        if info.finest_time_frame != "1m":
            print(f"skipped {name}: finest time frame is {info.finest_time_frame}, not 1m", file=out)
            continue
        found.append(path)
    return found


def parse_fees(text: str) -> tuple:
    """'0.1/0.1,0.02/0.1' (maker/taker in percent) into ((0.1, 0.1), (0.02, 0.1))."""
    schedules = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        parts = item.split("/")
        if len(parts) != 2:
            raise ValueError(f"--fees expects MAKER/TAKER in percent (e.g. 0.02/0.1), got {item!r}")
        try:
            maker, taker = float(parts[0]), float(parts[1])
        except ValueError:
            raise ValueError(f"--fees expects numbers, got {item!r}") from None
        if not (math.isfinite(maker) and math.isfinite(taker)) or not (0 <= maker <= 100 and 0 <= taker <= 100):
            raise ValueError(f"--fees expects percentages from 0 to 100, got {item!r}")
        schedules.append((maker, taker))
    if not schedules:
        raise ValueError("--fees got no fee schedule")
    return tuple(schedules)


def parse_styles(text: str) -> tuple:
    styles = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in styles if name not in STYLES]
    if unknown or not styles:
        raise ValueError(f"unknown style(s) {', '.join(unknown) or '(none)'}; known: {', '.join(STYLES)}")
    return styles


def style_settings(plan: DataPlan, style: str, seed: int) -> dict:
    """Every setting override of one run: sizes (same for all styles), the style's settings, the seed."""
    return {**plan.size_settings, **STYLES[style], "random_seed": seed}


def _mean(values):
    values = [value for value in values if value is not None]
    return statistics.fmean(values) if values else None


def fresh_profile(profile):
    """A deep copy of `profile` for one run: the mode regroups its settings dict in place (flat overrides are
    moved into the profile's group objects), so runs sharing one profile object would share, and rewrite, the
    settings recorded for the earlier runs."""
    from volume_booster import simulation
    return simulation.Profile(config=copy.deepcopy(profile.config), mode_settings=copy.deepcopy(profile.mode_settings))


def effective_settings(raw: dict) -> dict:
    """The settings a run used, flat and typed as the mode parses them (decimals as floats)."""
    from volume_booster.cli import settings_module
    vb_settings = settings_module()
    parsed = vb_settings.parse_settings(raw)
    return {field.name: float(value) if isinstance(value, decimal.Decimal) else value
            for field in dataclasses.fields(parsed) for value in (getattr(parsed, field.name),)}


def _run_record(result, seed: int, overrides: dict) -> dict:
    return {
        "seed": seed,
        "overrides": overrides,
        "settings": copy.deepcopy(result.settings),
        "effective_settings": effective_settings(result.settings),
        "volume": result.volume,
        "target": result.target,
        "target_reached": result.target_reached,
        "time_to_target_seconds": result.time_to_target_seconds,
        "fees": result.fees,
        "net_cost": result.net_cost,
        "net_cost_bps": result.net_cost_bps,
        "inventory_drift_pp": result.inventory_drift_pp,
        "peak_inventory_drift_pp": result.peak_inventory_drift_pp,
        "orders_created": result.orders_created,
        "orders_filled": result.orders_filled,
        "orders_cancelled": result.orders_cancelled,
        "fills": result.fills,
        "fill_ratio": result.fill_ratio,
        "cancels_per_fill": result.cancels_per_fill,
        "maker_share": result.maker_share,
        "start_portfolio": result.start_portfolio,
        "end_portfolio": result.end_portfolio,
        "first_price": result.first_price,
        "last_price": result.last_price,
        "stopped_reason": result.stopped_reason,
        "settings_error": result.settings_error,
        "wall_seconds": result.wall_seconds,
    }


def _ratio(runs: list, numerator: str, denominator: str):
    """Sum of `numerator` over sum of `denominator`, over the runs that have both."""
    counted = [run for run in runs if numerator in run and denominator in run]
    total = sum(run[denominator] for run in counted)
    return sum(run[numerator] for run in counted) / total if total else None


def cost_floor_ratio(net_cost_bps, fees: tuple):
    """Net cost per volume over the floor, the lower of the maker and taker fee rates (fees in percent)."""
    floor_bps = min(fees) * 100
    if net_cost_bps is None or floor_bps <= 0:
        return None
    return net_cost_bps / floor_bps


def aggregate(style: str, plan: DataPlan, fees: tuple, runs: list) -> dict:
    """One table row from the runs of one configuration over its seeds."""
    ok = [run for run in runs if "error" not in run]
    bps = [run["net_cost_bps"] for run in ok]
    reached = [run for run in ok if run["target_reached"]]
    return {
        "style": style,
        "data": str(plan.path),
        "symbol": plan.symbol,
        "exchange": plan.exchange,
        "maker_fee": fees[0],
        "taker_fee": fees[1],
        "style_settings": dict(STYLES[style]),
        "target": plan.target,
        "quote_holding": plan.quote_holding,
        "quote_decimals": plan.quote_decimals,
        "volume": _mean(run["volume"] for run in ok),
        "target_reached": bool(ok) and len(reached) == len(runs),
        "target_reached_runs": len(reached),
        # mean over the runs that reached the target (all of them when target_reached is true)
        "time_to_target_seconds": _mean(run["time_to_target_seconds"] for run in reached),
        "fees": _mean(run["fees"] for run in ok),
        "net_cost": _mean(run["net_cost"] for run in ok),
        "net_cost_bps": _mean(bps),
        "inventory_drift_pp": _mean(run["inventory_drift_pp"] for run in ok),
        "inventory_drift_pp_abs": _mean(abs(run["inventory_drift_pp"]) for run in ok),
        # the largest |drift| any run of this configuration reached at any time step
        "peak_inventory_drift_pp": max((run["peak_inventory_drift_pp"] for run in ok
                                        if run.get("peak_inventory_drift_pp") is not None), default=None),
        # orders filled / created, cancels per fill and the volume share filled as maker, over all the runs
        "fill_ratio": _ratio(ok, "orders_filled", "orders_created"),
        "cancels_per_fill": _ratio(ok, "orders_cancelled", "fills"),
        "maker_share": _mean(run.get("maker_share") for run in ok),
        # net cost per volume against the cheaper of the two fee rates (the least volume can cost)
        "cost_floor_ratio": cost_floor_ratio(_mean(bps), fees),
        "seeds": [run["seed"] for run in runs],
        "net_cost_bps_min": min(bps) if bps else None,
        "net_cost_bps_max": max(bps) if bps else None,
        "errors": len(runs) - len(ok),
        "runs": runs,
    }


async def compare_async(plans, styles, fee_schedules, seeds, profile=None, out=sys.stderr) -> list:
    """Run every (data file, fee schedule, style, seed) one after the other in this event loop."""
    from volume_booster import simulation
    profile = profile or simulation.Profile.load()
    total = len(plans) * len(fee_schedules) * len(styles) * len(seeds)
    done = 0
    started = time.perf_counter()
    rows = []
    for plan in plans:
        for fees in fee_schedules:
            for style in styles:
                runs = []
                for seed in seeds:
                    overrides = style_settings(plan, style, seed)
                    done += 1
                    label = (f"[{done}/{total}] {plan.path.name} {plan.symbol} fees {formatting.percent(fees[0])}/"
                             f"{formatting.percent(fees[1])} {style} seed {seed}")
                    try:
                        result = await simulation.run_simulation(
                            plan.path, overrides, profile=fresh_profile(profile),
                            fees={"maker": fees[0], "taker": fees[1]},
                        )
                    except Exception as err:  # one broken run must not lose the others
                        print(f"{label}: FAILED {type(err).__name__}: {err}", file=out, flush=True)
                        runs.append({"seed": seed, "overrides": overrides, "error": f"{type(err).__name__}: {err}"})
                        continue
                    record = _run_record(result, seed, overrides)
                    runs.append(record)
                    status = "reached" if result.target_reached else "NOT reached"
                    if result.settings_error:
                        status = f"settings error: {result.settings_error}"
                    print(f"{label}: {result.net_cost_bps:+.1f} bps, drift {result.inventory_drift_pp:+.2f} pp, "
                          f"target {status}, {result.wall_seconds:.1f} s "
                          f"(elapsed {time.perf_counter() - started:.0f} s)", file=out, flush=True)
                rows.append(aggregate(style, plan, fees, runs))
    return rows


def run_compare(plans, styles=tuple(STYLES), fee_schedules=DEFAULT_FEES, seeds=range(1, DEFAULT_SEEDS + 1),
                profile=None, out=sys.stderr) -> list:
    from volume_booster import simulation
    with simulation.quiet_octobot_logs():
        return asyncio.run(compare_async(plans, tuple(styles), tuple(fee_schedules), list(seeds), profile, out))


# ---------------------------------------------------------------- command line

def main(argv=None) -> int:
    from volume_booster import cli_input
    prog = "volume-booster compare"
    parser = cli_input.ArgumentParser(
        prog=prog,
        description="Run the execution styles (maker, limit, market) and two baselines (coin-flip, "
                    "alternating-market) of the Volume Booster on the same data in OctoBot's backtesting engine, "
                    "with several seeds each, and print one table of volume, fees and net cost.",
    )
    parser.add_argument("--data", action="append", default=[], metavar="FILE",
                        help="an OctoBot .data file (repeatable; default: every shared 1m file in "
                             f"{SHARED_DATA})")
    parser.add_argument("--styles", default=",".join(STYLES),
                        help=f"comma-separated styles (default: all: {','.join(STYLES)})")
    parser.add_argument("--fees", default=",".join(f"{m:g}/{t:g}" for m, t in DEFAULT_FEES),
                        help="comma-separated MAKER/TAKER fee schedules in percent "
                             "(default: 0.1/0.1,0.02/0.1)")
    parser.add_argument("--seeds", type=cli_input.whole_number(1, MAX_SEEDS), default=None,
                        help=f"runs per configuration, seeds 1..N "
                             f"(default {DEFAULT_SEEDS}; {QUICK_SEEDS} with --quick)")
    parser.add_argument("--target", type=cli_input.positive_number(MAX_TARGET_MULTIPLE),
                        default=DEFAULT_TARGET_MULTIPLE,
                        help="volume target as a multiple of the pair's starting quote holding "
                             f"(default {DEFAULT_TARGET_MULTIPLE:g}); orders are 0.25 %%-1.5 %% of that holding")
    parser.add_argument("--quick", action="store_true",
                        help=f"one small file ({QUICK_FILE}, or the embedded market when absent) "
                             f"and {QUICK_SEEDS} seeds")
    parser.add_argument("--json", dest="json_file", help="write the rows as a JSON list to this file")
    try:
        options = parser.parse_args(argv)
        from volume_booster import simulation
        try:
            styles = parse_styles(options.styles)
        except ValueError as err:
            raise cli_input.InputError(f"--styles: {err}") from None
        fee_schedules = parse_fees(options.fees)
        seed_count = options.seeds if options.seeds is not None else (QUICK_SEEDS if options.quick else DEFAULT_SEEDS)
        if options.json_file:
            cli_input.output_file("--json", options.json_file)
        profile = simulation.Profile.load()
        if options.data:
            files = [pathlib.Path(path) for path in options.data]
            for path in files:
                cli_input.data_file("--data", path)
            if options.quick:
                files = files[:1]
        elif options.quick:
            quick = SHARED_DATA / QUICK_FILE
            if quick.is_file():
                files = [quick]
            else:
                from volume_booster import market
                print(f"{quick} absent: --quick uses the embedded market", file=sys.stderr)
                files = [market.default_market_file()]
        else:
            files = default_data_files()
        if not files:
            raise ValueError("no data file to run on")
        plans = [plan_data_file(path, profile, options.target) for path in files]
        _check_settings(plans, styles, profile)
    except (ValueError, OSError) as err:
        return cli_input.report(prog, err)
    seeds = list(range(1, seed_count + 1))
    total = len(plans) * len(fee_schedules) * len(styles) * len(seeds)
    print(f"{total} runs: {len(plans)} data file(s) x {len(fee_schedules)} fee schedule(s) x {len(styles)} "
          f"style(s) x {len(seeds)} seed(s)", file=sys.stderr)
    started = time.perf_counter()
    rows = run_compare(plans, styles, fee_schedules, seeds, profile=profile)
    print(format_report(rows, plans, seeds))
    print(f"\n{total} runs in {time.perf_counter() - started:.0f} s of wall time")
    missed = [row for row in rows if not row["target_reached"]]
    if missed:
        print(f"warning: {len(missed)} configuration(s) missed the target in some run: their costs are not "
              "comparable with the others", file=sys.stderr)
    if options.json_file:
        pathlib.Path(options.json_file).write_text(json.dumps(rows, indent=2, default=str))
        print(f"rows written to {options.json_file}")
    failed = sum(row["errors"] for row in rows) + sum(
        1 for row in rows for run in row["runs"] if run.get("settings_error"))
    return 1 if failed else 0


def _check_settings(plans, styles, profile):
    """Every configuration is validated against the settings table before anything runs."""
    from volume_booster.cli import settings_module
    vb_settings = settings_module()
    for plan in plans:
        for style in styles:
            try:
                vb_settings.parse_settings({**profile.mode_settings, **style_settings(plan, style, 1)})
            except vb_settings.SettingsError as err:
                raise ValueError(f"{plan.path.name}, style {style}: {err}") from None


if __name__ == "__main__":
    sys.exit(main())
