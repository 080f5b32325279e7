"""`volume-booster` command line: simulate the mode in OctoBot's backtesting engine, build the
installable tentacle package."""
import argparse
import json
import pathlib
import sys

from volume_booster import REPO_ROOT


def _duration(seconds) -> str:
    if seconds is None:
        return "-"
    seconds = int(round(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours:02d}h{minutes:02d}m"
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s"


def _settings_module():
    from volume_booster import simulation
    simulation.import_mode_module()
    from tentacles.Trading.Mode.volume_booster_trading_mode import settings as vb_settings
    return vb_settings


def simulate(argv) -> int:
    parser = argparse.ArgumentParser(
        prog="volume-booster simulate",
        description="Run the Volume Booster from a profile inside OctoBot's backtesting engine "
                    "(default: the embedded market, no network needed).",
    )
    parser.add_argument("--data", help="an OctoBot .data backtesting file (default: the embedded market)")
    parser.add_argument("--profile", default=str(REPO_ROOT / "profiles" / "volume_booster"),
                        help="profile folder (default: profiles/volume_booster)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="NAME=VALUE",
                        help="override a mode setting, e.g. --set volume_target=20000 (repeatable)")
    parser.add_argument("--json", dest="json_file", help="write the result as JSON to this file")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    options = parser.parse_args(argv)

    from volume_booster import simulation
    vb_settings = _settings_module()
    try:
        overrides = simulation.parse_overrides(options.overrides)
        profile = simulation.Profile.load(pathlib.Path(options.profile))
        unknown = sorted(set(overrides) - set(vb_settings.SPEC_BY_NAME))
        if unknown:
            raise ValueError(f"unknown setting(s) {', '.join(unknown)}; "
                             f"known: {', '.join(vb_settings.SPEC_BY_NAME)}")
        # checked before the engine starts: invalid settings never reach an exchange
        vb_settings.parse_settings({**profile.mode_settings, **overrides})
    except (ValueError, OSError) as err:
        print(f"volume-booster simulate: {err}", file=sys.stderr)
        return 2
    if options.data:
        data_file = pathlib.Path(options.data)
    else:
        from volume_booster import market
        data_file = market.default_market_file()
    progress_bar = None
    if not options.no_progress:
        import tqdm
        progress_bar = tqdm.tqdm(total=100, desc="simulating", unit="%", leave=False,
                                 bar_format="{desc} {bar} {percentage:3.0f}% [{elapsed}<{remaining}]")

    def on_progress(fraction):
        if progress_bar is not None:
            progress_bar.n = min(100, round(fraction * 100, 1))
            progress_bar.refresh()

    with simulation.quiet_octobot_logs():
        result = simulation.run(data_file, overrides, profile=profile, progress=on_progress)
    if progress_bar is not None:
        progress_bar.close()
    print(format_report(result))
    if options.json_file:
        pathlib.Path(options.json_file).write_text(json.dumps(result.to_json_dict(), indent=2, default=str))
        print(f"result written to {options.json_file}")
    return 0 if result.settings_error is None else 2


def format_report(result) -> str:
    quote = result.symbol.split("/")[1]
    percent = result.volume / result.target * 100 if result.target else 0
    reached = f"yes, after {_duration(result.time_to_target_seconds)} simulated" if result.target_reached else "no"
    lines = [
        f"Volume Booster simulation: {result.symbol} on {pathlib.Path(result.data).name}",
        f"  target          {result.target:,.2f} {quote}   reached: {reached}",
        f"  volume          {result.volume:,.2f} {quote} ({percent:.1f}%), from {result.fills} fills "
        f"(sum of fills {result.sum_of_fills:,.2f})",
        f"  orders          created {result.orders_created}, filled {result.orders_filled}, "
        f"cancelled {result.orders_cancelled}, still open {result.open_orders_left}",
        f"  fees paid       {result.fees:,.6f} {quote}",
        f"  simulated time  {_duration(result.simulated_seconds)}",
        f"  wall time       {result.wall_seconds:.1f} s",
    ]
    if result.settings_error:
        lines.append(f"  NOT STARTED     {result.settings_error}")
    elif result.stopped_reason:
        lines.append(f"  stopped         {result.stopped_reason}")
    return "\n".join(lines)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = {"simulate": simulate, "package": package}
    if not argv or argv[0] not in commands:
        print("usage: volume-booster {simulate,package} [options]\n"
              "  simulate  run the mode in OctoBot's backtesting engine and report volume, orders, fees\n"
              "  package   build the installable tentacle package zip into dist/", file=sys.stderr)
        return 2
    return commands[argv[0]](argv[1:])


def package(argv) -> int:
    from volume_booster import package as package_module
    return package_module.main(argv)


if __name__ == "__main__":
    sys.exit(main())
