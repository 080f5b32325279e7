"""`volume-booster fee-tier`: plan the next fee tier of an exchange, offline. For a 30-day volume (and the
user's own monthly volume and cost per volume) it prints the current and next level, the volume needed before
the exchange recomputes the level (or a deadline), its expected cost, the fees saved in 30 days and whether
the tier pays; `--json FILE` writes the same. `--list` lists the exchanges' tables, `--table` prints one."""
import argparse
import datetime
import decimal
import importlib.util
import json
import pathlib
import sys
import textwrap

from volume_booster import REPO_ROOT
from volume_booster import cli_input, formatting

PROG = "volume-booster fee-tier"
D = decimal.Decimal
FEE_TIERS_FILE = REPO_ROOT.joinpath("tentacles", "Trading", "Mode", "volume_booster_trading_mode", "fee_tiers.py")
TIME_FORMAT = "YYYY-MM-DDTHH:MM"
MAX_BPS = 10_000
MAX_VOLUME = D("1e15")


def fee_tiers_module():
    """The tentacle's pure fee_tiers module, loaded from its file: the planning command needs no OctoBot."""
    package_name = "tentacles.Trading.Mode.volume_booster_trading_mode"
    if package_name in sys.modules:
        return importlib.import_module(f"{package_name}.fee_tiers")
    name = "volume_booster_fee_tiers"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, FEE_TIERS_FILE)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def amount_type(high=MAX_VOLUME):
    def parse(text: str) -> D:
        try:
            value = D(text.replace(",", "").replace("_", ""))
        except decimal.InvalidOperation:
            value = None
        if value is None or not value.is_finite() or not 0 <= value <= high:
            raise argparse.ArgumentTypeError(f"expects an amount from 0 to {high:,.0f}, got {text!r}")
        return value
    return parse


def utc_time(text: str) -> float:
    """Epoch seconds of a UTC date and time written YYYY-MM-DDTHH:MM (seconds and a final Z allowed)."""
    try:
        parsed = datetime.datetime.fromisoformat(text.strip().removesuffix("Z").removesuffix("z"))
    except ValueError:
        parsed = None
    if parsed is None or "T" not in text or (parsed.tzinfo and parsed.utcoffset()):
        raise argparse.ArgumentTypeError(
            f"expects a UTC date and time as {TIME_FORMAT} (e.g. 2026-12-31T00:00), got {text!r}")
    return parsed.replace(tzinfo=datetime.timezone.utc).timestamp()


def daily_volumes(text: str) -> list:
    """Comma- or space-separated daily volumes, oldest first."""
    parse = amount_type()
    try:
        days = [parse(part) for part in text.replace(";", ",").replace(" ", ",").split(",") if part]
    except argparse.ArgumentTypeError:
        days = []
    if not days:
        raise argparse.ArgumentTypeError(f"expects the window's daily volumes, oldest first, separated by commas "
                                         f"(each from 0 to {MAX_VOLUME:,.0f}), got {text!r}")
    return days


def share(text: str) -> D:
    try:
        value = D(text)
    except decimal.InvalidOperation:
        value = None
    if value is None or not value.is_finite() or not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expects a share from 0 to 1, got {text!r}")
    return value


def build_parser():
    parser = cli_input.ArgumentParser(
        prog=PROG,
        description="Plan an exchange's next fee tier (offline, from the tables shipped with the mode): the "
                    "volume needed before the exchange recomputes the level, its cost, the fees it saves in "
                    "30 days on your own volume, and whether it pays.")
    parser.add_argument("--exchange", help="exchange (ccxt id), e.g. binance; --list shows them")
    parser.add_argument("--volume-30d", type=amount_type(), help="your volume over the exchange's rolling window")
    parser.add_argument("--daily-volumes", type=daily_volumes,
                        help="your daily volumes over the window, oldest first, comma-separated: what leaves the "
                             "window is then taken from them (default: --volume-30d spread evenly); their sum is "
                             "the 30-day volume when --volume-30d is not given")
    parser.add_argument("--own-monthly-volume", type=amount_type(), default=D(0),
                        help="what you trade in 30 days outside this mode (the volume the lower fee applies to)")
    parser.add_argument("--cost-bps", type=amount_type(MAX_BPS),
                        help="expected cost of the volume in bps (default: the current level's taker fee); "
                             "e.g. a simulation's net_cost_bps")
    parser.add_argument("--maker-share", type=share, default=D(0),
                        help="share of your own volume paid at the maker fee (default 0: all taker)")
    parser.add_argument("--deadline", type=utc_time, help=f"reach the level by then ({TIME_FORMAT} UTC; default: "
                                                          "the exchange's next recompute)")
    parser.add_argument("--now", type=utc_time, help=f"the time to plan from ({TIME_FORMAT} UTC; default: now)")
    parser.add_argument("--levels", default="",
                        help="your own levels, replacing those of the same name: NAME=THRESHOLD:MAKER%%:TAKER%% "
                             "separated by ';'")
    parser.add_argument("--json", dest="json_file", help="write the plan as JSON to this file")
    parser.add_argument("--list", action="store_true", help="list the exchanges with a table")
    parser.add_argument("--table", action="store_true", help="print the exchange's table")
    return parser


def main(argv=None) -> int:
    fee_tiers = fee_tiers_module()
    try:
        options = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
        if options.list:
            print(format_list(fee_tiers))
            return 0
        schedule = checked_schedule(fee_tiers, options)
        if options.table:
            print(format_table(fee_tiers, schedule))
            return 0
        if options.daily_volumes is not None and len(options.daily_volumes) > schedule.window_days:
            raise cli_input.InputError(f"--daily-volumes: {len(options.daily_volumes)} days given; expected at most "
                                       f"the window's {schedule.window_days} days, oldest first")
        if options.volume_30d is None and options.daily_volumes is not None:
            options.volume_30d = sum(options.daily_volumes, D(0))
        if options.volume_30d is None:
            raise cli_input.InputError("--volume-30d is required: your volume over the exchange's rolling window")
        now = datetime.datetime.now(datetime.timezone.utc).timestamp() if options.now is None else options.now
        if options.deadline is not None and options.deadline < now:
            raise cli_input.InputError(f"--deadline {fee_tiers.iso_utc(options.deadline)} is before --now "
                                       f"{fee_tiers.iso_utc(now)}; expected a time after it")
        if options.json_file:
            cli_input.output_file("--json", options.json_file)
    except ValueError as err:
        return cli_input.report(PROG, err)
    cost = None if options.cost_bps is None else options.cost_bps / MAX_BPS
    result = fee_tiers.plan(schedule, options.volume_30d, now, options.own_monthly_volume, cost, options.deadline,
                            options.daily_volumes, maker_share=options.maker_share)
    keep = keep_after(fee_tiers, schedule, result)
    print(format_plan(fee_tiers, schedule, result, keep, options.maker_share))
    if options.json_file:
        document = to_json(fee_tiers, schedule, result, keep)
        pathlib.Path(options.json_file).write_text(json.dumps(document, indent=2) + "\n")
        print(f"plan written to {options.json_file}")
    return 0


def checked_schedule(fee_tiers, options):
    if not options.exchange:
        raise cli_input.InputError(f"--exchange is required; known: {', '.join(fee_tiers.known_exchanges())}")
    if options.exchange not in fee_tiers.known_exchanges():
        raise cli_input.InputError(f"--exchange {options.exchange!r}: no fee tier table; known: "
                                   f"{', '.join(fee_tiers.known_exchanges())}")
    try:
        levels = fee_tiers.parse_levels(options.levels)
    except ValueError as err:
        raise cli_input.InputError(f"--levels: {str(err).removeprefix(fee_tiers.LEVELS_SETTING + ': ')}") from None
    try:
        return fee_tiers.load_schedule(options.exchange, levels)
    except ValueError as err:
        raise cli_input.InputError(f"--levels: {err}") from None


def keep_after(fee_tiers, schedule, result):
    """Daily volume that keeps the next level once reached: what leaves the window (assumed even at the
    threshold) less the user's own volume."""
    if result.next is None:
        return None
    return fee_tiers.keep_daily_volume(schedule, result.next.threshold, result.own_monthly_volume, margin=0)


def keep_monthly_cost(schedule, result, keep):
    return keep * schedule.window_days * result.cost_per_volume


def money(value, currency) -> str:
    return f"{formatting.amount(value)} {currency}"


def percent(fraction) -> str:
    return f"{fraction * 100:.4f}".rstrip("0").rstrip(".") + " %"


def fees(level) -> str:
    return f"maker {percent(level.maker)}, taker {percent(level.taker)}"


def format_plan(fee_tiers, schedule, result, keep, maker_share) -> str:
    currency = schedule.volume_currency
    deadline = fee_tiers.readable_utc(result.deadline)
    lines = [f"{schedule.exchange} fee tiers (table checked {schedule.checked}; level recomputed "
             f"{schedule.recompute.describe()}, rolling {schedule.window_days}-day {currency} volume)",
             f"  30-day volume    {money(result.volume_30d, currency)}",
             f"  current level    {result.current_level}: {fees(result.current)}"]
    if result.next is None:
        lines.append(f"  next level       none: {result.reason}")
        if schedule.note:
            lines.append(f"  table note       {schedule.note}")
        return "\n".join(lines)
    condition = f" ({result.next.condition}: shown, not checked)" if result.next.condition else ""
    lines += [
        f"  next level       {result.next_level} from {money(result.threshold, currency)}: "
        f"{fees(result.next)}{condition}",
        f"  volume needed    {money(result.volume_needed, currency)} by {deadline} "
        f"({money(result.ageing_out, currency)} of it replaces volume leaving the window)",
        f"  expected cost    {money(result.expected_cost, currency)} "
        f"(at {result.cost_per_volume * MAX_BPS:.2f} bps of volume)",
        f"  monthly saving   {money(result.monthly_saving, currency)} on "
        f"{money(result.own_monthly_volume, currency)} of own monthly volume "
        f"({'taker fees' if maker_share == 0 else f'{percent(maker_share)} at maker fees'})",
        f"  verdict          {'pays off' if result.pays_off else 'does not pay'}: {result.reason}",
        f"  keep it          {money(keep, currency)} a day on top of your own volume keeps {result.next_level} "
        f"once reached (about {money(keep_monthly_cost(schedule, result, keep), currency)} a month at that cost)",
    ]
    return "\n".join(lines)


def format_list(fee_tiers) -> str:
    lines = ["exchange  levels  recompute                volume  checked"]
    for exchange in fee_tiers.known_exchanges():
        schedule = fee_tiers.load_schedule(exchange)
        lines.append(f"{exchange:<9} {len(schedule.levels):>6}  {schedule.recompute.describe():<24} "
                     f"{schedule.volume_currency:<6}  {schedule.checked}")
    return "\n".join(lines)


def format_table(fee_tiers, schedule) -> str:
    lines = [f"{schedule.exchange}: rolling {schedule.window_days}-day {schedule.volume_currency} volume, level "
             f"recomputed {schedule.recompute.describe()}, checked {schedule.checked}"]
    for level in schedule.levels:
        condition = f"  {level.condition}" if level.condition else ""
        lines.append(f"  {level.name:<10} from {level.threshold:>16,.0f}  {fees(level)}{condition}")
    lines += [f"  source: {url}" for url in schedule.source]
    if schedule.note:
        lines += textwrap.wrap(f"note: {schedule.note}", width=110, initial_indent="  ", subsequent_indent="  ")
    return "\n".join(lines)


def number(value):
    return None if value is None else float(D(value).quantize(D("0.01"), rounding=decimal.ROUND_HALF_UP))


def to_json(fee_tiers, schedule, result, keep) -> dict:
    return {
        "exchange": result.exchange,
        "current_level": result.current_level,
        "next_level": result.next_level,
        "threshold": number(result.threshold),
        "volume_30d": number(result.volume_30d),
        "volume_needed": number(result.volume_needed),
        "deadline": fee_tiers.iso_utc(result.deadline),
        "expected_cost": number(result.expected_cost),
        "monthly_saving": number(result.monthly_saving),
        "pays_off": result.pays_off,
        "reason": result.reason,
        "volume_currency": schedule.volume_currency,
        "cost_bps": float(result.cost_per_volume * MAX_BPS),
        "own_monthly_volume": number(result.own_monthly_volume),
        "next_condition": result.next.condition if result.next else None,
        "keep_daily_volume": number(keep),
        "keep_monthly_cost": None if keep is None else number(keep_monthly_cost(schedule, result, keep)),
        "table_checked": schedule.checked,
        "sources": list(schedule.source),
    }


if __name__ == "__main__":
    sys.exit(main())
