"""`volume-booster` command line: simulate the mode in OctoBot's backtesting engine (report and chart),
measure what it costs the bot (bench), build the installable tentacle package."""
import argparse
import json
import pathlib
import sys

from volume_booster import REPO_ROOT


def _duration(seconds) -> str:
    from volume_booster import report
    return report.duration(seconds)


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
    parser.add_argument("--chart", dest="chart_file", metavar="FILE.png",
                        help="write a PNG chart over simulated time: volume vs target, inventory with its band, "
                             "fees and net cost")
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
    if options.chart_file:
        from volume_booster import report
        report.write_chart(result, options.chart_file)
        print(f"chart written to {options.chart_file}")
    return 0 if result.settings_error is None else 2


def format_report(result) -> str:
    from volume_booster import report
    return report.format_report(result)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = {"simulate": simulate, "compare": compare, "package": package, "bench": bench}
    if not argv or argv[0] not in commands:
        print("usage: volume-booster {simulate,compare,bench,package} [options]\n"
              "  simulate  run the mode in OctoBot's backtesting engine: volume, orders, fees, costs; --chart\n"
              "  bench     what the booster costs the bot: wall time per order, memory, vs a mode placing none\n"
              "  compare   run the execution styles and baselines on the same data, several seeds, one table\n"
              "  package   build the installable tentacle package zip into dist/", file=sys.stderr)
        return 2
    return commands[argv[0]](argv[1:])


def package(argv) -> int:
    from volume_booster import package as package_module
    return package_module.main(argv)


def bench(argv) -> int:
    from volume_booster import bench as bench_module
    return bench_module.main(argv)


def compare(argv) -> int:
    from volume_booster import compare as compare_module
    return compare_module.main(argv)


if __name__ == "__main__":
    sys.exit(main())
