"""`volume-booster` command line: simulate the mode in OctoBot's backtesting engine (report and chart),
measure what it costs the bot (bench), build the installable tentacle package, plan a fee tier (fee-tier)."""
import json
import pathlib
import sys

from volume_booster import REPO_ROOT
from volume_booster import cli_input


def settings_module():
    from volume_booster import simulation
    simulation.import_mode_module()
    from tentacles.Trading.Mode.volume_booster_trading_mode import settings as vb_settings
    return vb_settings


def simulate(argv) -> int:
    prog = "volume-booster simulate"
    parser = cli_input.ArgumentParser(
        prog=prog,
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
    try:
        options = parser.parse_args(argv)
        from volume_booster import simulation
        overrides, profile = checked_settings(options.overrides, options.profile)
        if options.data:
            data_file = pathlib.Path(options.data)
            cli_input.data_file("--data", data_file)
        else:
            from volume_booster import market
            data_file = market.default_market_file()
        # the starting portfolio completed for the data's pairs, as the run will build it
        simulation.build_config(profile, data_file)
        if options.json_file:
            cli_input.output_file("--json", options.json_file)
        if options.chart_file:
            cli_input.output_file("--chart", options.chart_file, suffix=".png")
    except (ValueError, OSError) as err:
        return cli_input.report(prog, err)
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


def checked_settings(override_texts, profile_folder=None) -> tuple:
    """(overrides, profile): --set values parsed, the profile loaded, and both checked against the settings
    table, so that invalid settings never reach an exchange. Raises ValueError naming the option."""
    from volume_booster import simulation
    vb_settings = settings_module()
    overrides = simulation.parse_overrides(override_texts)
    unknown = sorted(set(overrides) - set(vb_settings.SPEC_BY_NAME))
    if unknown:
        raise cli_input.InputError(f"--set: unknown setting(s) {', '.join(unknown)}; "
                                   f"known: {', '.join(vb_settings.SPEC_BY_NAME)}")
    try:
        profile = simulation.Profile.load(pathlib.Path(profile_folder or simulation.DEFAULT_PROFILE))
    except simulation.ProfileError as err:
        raise cli_input.InputError(f"--profile {err}") from None
    vb_settings.parse_settings({**profile.mode_settings, **overrides})
    return overrides, profile


def format_report(result) -> str:
    from volume_booster import report
    return report.format_report(result)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = {"simulate": simulate, "compare": compare, "package": package, "bench": bench, "fee-tier": fee_tier}
    if argv and argv[0] not in commands and argv[0] not in ("-h", "--help"):
        return cli_input.report("volume-booster", cli_input.InputError(
            f"unknown command {argv[0]!r}; commands: {', '.join(commands)}"))
    if not argv or argv[0] not in commands:
        print("usage: volume-booster {simulate,compare,bench,package,fee-tier} [options]\n"
              "  simulate  run the mode in OctoBot's backtesting engine: volume, orders, fees, costs; --chart\n"
              "  bench     what the booster costs the bot: wall time per order, memory, vs a mode placing none\n"
              "  compare   run the execution styles and baselines on the same data, several seeds, one table\n"
              "  package   build the installable tentacle package zip into dist/\n"
              "  fee-tier  plan an exchange's next fee tier: volume needed, deadline, cost, saving, verdict",
              file=sys.stderr)
        return 2
    return commands[argv[0]](argv[1:])


def package(argv) -> int:
    from volume_booster import package as package_module
    return package_module.main(argv)


def bench(argv) -> int:
    from volume_booster import bench as bench_module
    return bench_module.main(argv)


def fee_tier(argv) -> int:
    from volume_booster import fee_tier as fee_tier_module
    return fee_tier_module.main(argv)


def compare(argv) -> int:
    from volume_booster import compare as compare_module
    return compare_module.main(argv)


if __name__ == "__main__":
    sys.exit(main())
