"""Running the real OctoBot CLI in a temporary bot folder, for end-to-end tests.

- `build_bot_folder`: a fresh OctoBot folder with the test fixtures and the package installed through
  `OctoBot tentacles --install --all --location <zip>`, the volume_booster profile selected in user/config.json and
  its settings overridden.
- `run_octobot`: one bounded OctoBot command (own process group, killed on timeout).
- `OctoBotProcess`: a running `OctoBot` (live) whose log is read while it runs, stopped with SIGINT or SIGKILL.

Offline, OctoBot has none of its default tentacles, so the fixtures of tests/fixtures/octobot_tentacles (packaged
into a second zip, never shipped) provide what it needs: a Backtesting collector, a profile with id "default" and,
for live runs, a test-only `binance` exchange that talks to the local exchange stand-in.
"""
import importlib.metadata
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import typing

import pytest

from volume_booster import REPO_ROOT
from volume_booster import package

FIXTURE_TENTACLES = REPO_ROOT / "tests" / "fixtures" / "octobot_tentacles"
# the test-only exchange: installed for live runs only (a backtest keeps OctoBot's simulator defaults)
EXCHANGE_FIXTURES = pathlib.PurePosixPath("Trading") / "Exchange"
PROFILE_ID = "volume_booster"
SETTINGS_FILE = pathlib.PurePosixPath("specific_config") / "VolumeBoosterTradingMode.json"
INSTALL_TIMEOUT = 180
SEGFAULT_RETURN_CODES = (-signal.SIGSEGV, 128 + signal.SIGSEGV)
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


def octobot_version() -> str:
    return importlib.metadata.version("OctoBot")


def octobot_executable() -> pathlib.Path:
    script = pathlib.Path(sys.executable).parent / "OctoBot"
    if not script.is_file():
        found = shutil.which("OctoBot")
        assert found, f"the OctoBot console script is missing beside {sys.executable} and on PATH"
        script = pathlib.Path(found)
    return script


def octobot_environment(extra: typing.Optional[dict] = None) -> dict:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # the OctoBot folder's tentacles/ must be the one imported
    # offline: never let OctoBot try to (re)download its default tentacles, exit instead
    env["EXIT_BEFORE_TENTACLES_AUTO_REINSTALL"] = "true"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra or {})
    return env


def run_octobot(args, cwd: pathlib.Path, log_name: str, timeout: float, env: typing.Optional[dict] = None):
    """Run the OctoBot CLI in cwd (own process group, killed on timeout); return (rc, output, seconds)."""
    stdout_path = cwd / f"{log_name}.stdout"
    stderr_path = cwd / f"{log_name}.stderr"
    started = time.monotonic()
    with open(stdout_path, "wb") as stdout, open(stderr_path, "wb") as stderr:
        process = subprocess.Popen([str(octobot_executable()), *args], cwd=cwd, env=octobot_environment(env),
                                   stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            rc = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            pytest.fail(f"OctoBot {' '.join(args)} timed out after {timeout} s in {cwd}\n"
                        f"{tail(stdout_path)}\n--- stderr\n{tail(stderr_path)}")
    seconds = time.monotonic() - started
    output = ANSI_ESCAPE.sub("", stdout_path.read_text(errors="replace") + stderr_path.read_text(errors="replace"))
    return rc, output, seconds


def tail(path: pathlib.Path, chars=4000) -> str:
    return ANSI_ESCAPE.sub("", path.read_text(errors="replace"))[-chars:] if path.exists() else ""


def is_known_segfault_at_exit(rc: int, report_printed: bool) -> bool:
    """OctoBot 2.0.15 prints its backtesting report and then crashes at exit (SIGSEGV): a known defect of that
    version, accepted only when the report was printed."""
    return octobot_version() == "2.0.15" and rc in SEGFAULT_RETURN_CODES and report_printed


def build_fixture_zip(output: pathlib.Path, with_exchange: bool = False) -> pathlib.Path:
    """The test fixtures as a tentacles package; the test-only exchange only `with_exchange`."""
    members = [
        (f"{package.ARCHIVE_ROOT}/{path.relative_to(FIXTURE_TENTACLES).as_posix()}", path)
        for path in sorted(FIXTURE_TENTACLES.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
        and (with_exchange or not path.relative_to(FIXTURE_TENTACLES).as_posix().startswith(str(EXCHANGE_FIXTURES)))
    ]
    return package.write_zip(members, output)


def install(zip_path: pathlib.Path, bot: pathlib.Path, log_name: str) -> str:
    rc, output, seconds = run_octobot(["tentacles", "--install", "--all", "--location", str(zip_path)], bot,
                                      log_name, INSTALL_TIMEOUT)
    print(f"\nOctoBot {octobot_version()} tentacles --install {zip_path.name}: rc {rc}, {seconds:.1f} s")
    succeeded = "have been successfully processed" in output
    assert rc == 0 or is_known_segfault_at_exit(rc, succeeded), f"install of {zip_path.name}: rc {rc}\n{output[-4000:]}"
    assert succeeded, f"install of {zip_path.name} reported errors:\n{output[-4000:]}"
    errors = [line for line in output.splitlines() if re.search(r"\b(ERROR|CRITICAL)\b", line)]
    assert errors == [], f"install of {zip_path.name} logged errors:\n" + "\n".join(errors)
    return output


def profile_folder(bot: pathlib.Path) -> pathlib.Path:
    return bot / "user" / "profiles" / PROFILE_ID


def settings_path(bot: pathlib.Path) -> pathlib.Path:
    return profile_folder(bot) / SETTINGS_FILE


def build_bot_folder(work: pathlib.Path, settings: typing.Optional[dict] = None, with_exchange: bool = False,
                     profile_config: typing.Optional[typing.Callable[[dict], None]] = None) -> pathlib.Path:
    """A fresh OctoBot folder under `work` with the fixtures and the package installed and the volume_booster
    profile selected. `settings` overrides the mode's settings (by name, in the profile's grouped layout);
    `profile_config` may edit the profile's config dict."""
    bot = work / "octobot"
    bot.mkdir(parents=True)
    package_zip = package.build_package(work / "dist")
    fixture_zip = build_fixture_zip(work / "dist" / "octobot_test_fixtures.zip", with_exchange=with_exchange)
    install(fixture_zip, bot, "install_fixtures")
    install(package_zip, bot, "install_package")

    activation = json.loads((profile_folder(bot) / "tentacles_config.json").read_text())["tentacle_activation"]
    assert activation["Trading"]["VolumeBoosterTradingMode"] is True

    # select the profile: OctoBot -b ignores FORCED_PROFILE, user/config.json is what it reads
    import octobot
    config = json.loads((pathlib.Path(octobot.__file__).parent / "config" / "default_config.json").read_text())
    config["profile"] = PROFILE_ID
    (bot / "user" / "config.json").write_text(json.dumps(config, indent=2))
    if settings:
        write_settings(bot, settings)
    if profile_config is not None:
        profile_file = profile_folder(bot) / "profile.json"
        profile = json.loads(profile_file.read_text())
        profile_config(profile["config"])
        profile_file.write_text(json.dumps(profile, indent=2))
    return bot


def write_settings(bot: pathlib.Path, settings: dict) -> dict:
    """Set some of the mode's settings in the profile's specific_config file, in the grouped layout OctoBot's
    settings page saves (every setting inside its group); returns the whole file."""
    from tentacles.Trading.Mode.volume_booster_trading_mode import settings as vb_settings
    path = settings_path(bot)
    current = json.loads(path.read_text())
    values = vb_settings.flatten(current)
    unknown = set(settings) - {spec.name for spec in vb_settings.SPECS}
    assert not unknown, f"unknown Volume Booster settings {unknown}"
    values.update(settings)
    grouped = {key: value for key, value in current.items() if key not in vb_settings.GROUP_KEYS.values()
               and key not in values}
    for spec in vb_settings.SPECS:
        if spec.name in values:
            grouped.setdefault(vb_settings.GROUP_KEYS[spec.group], {})[spec.name] = values[spec.name]
    # written whole at once, as a save does: a reader never sees half a file
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(grouped, indent=2))
    os.replace(temporary, path)
    return grouped


class OctoBotProcess:
    """`OctoBot -nw` running live in a bot folder: its own process group, its output in files read as it grows,
    never outliving `timeout` seconds."""

    def __init__(self, bot: pathlib.Path, log_name: str, env: typing.Optional[dict] = None, timeout: float = 300,
                 args=("-nw",)):
        self.bot = bot
        self.log_name = log_name
        self.stdout_path = bot / f"{log_name}.stdout"
        self.stderr_path = bot / f"{log_name}.stderr"
        self.deadline = time.monotonic() + timeout
        self.timeout = timeout
        self._files = (open(self.stdout_path, "wb"), open(self.stderr_path, "wb"))
        self.process = subprocess.Popen([str(octobot_executable()), *args], cwd=bot, env=octobot_environment(env),
                                        stdout=self._files[0], stderr=self._files[1], stdin=subprocess.DEVNULL,
                                        start_new_session=True)
        # whatever the test does meanwhile, the process group never outlives its time
        self._watchdog = threading.Timer(timeout, self._kill_group)
        self._watchdog.daemon = True
        self._watchdog.start()

    def output(self) -> str:
        return ANSI_ESCAPE.sub("", self.stdout_path.read_text(errors="replace")
                               + self.stderr_path.read_text(errors="replace"))

    def is_running(self) -> bool:
        return self.process.poll() is None

    def wait_for(self, pattern, timeout: float, count: int = 1, start: int = 0) -> list:
        """Wait until the output (from character `start`) holds `count` matches of `pattern`; return them.
        Fails the test when OctoBot exits or the time runs out first."""
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        until = min(time.monotonic() + timeout, self.deadline)
        while True:
            matches = list(regex.finditer(self.output(), start))
            if len(matches) >= count:
                return matches
            if not self.is_running():
                self.kill()
                pytest.fail(f"OctoBot exited (rc {self.process.returncode}) before {count} x {regex.pattern!r}\n"
                            f"{self.output()[-6000:]}")
            if time.monotonic() > until:
                self.kill()
                pytest.fail(f"no {count} x {regex.pattern!r} within {timeout} s "
                            f"({len(matches)} seen)\n{self.output()[-6000:]}")
            time.sleep(0.5)

    def interrupt(self, timeout: float = 60) -> int:
        """One SIGINT, as Ctrl+C does; the exit code (the process group is killed if it does not exit)."""
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            return self.process.wait(timeout=min(timeout, max(1.0, self.deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"OctoBot did not stop within {timeout} s of SIGINT\n{self.output()[-6000:]}")

    def kill(self) -> int:
        """SIGKILL to the whole process group (a crash, or the cleanup of a test)."""
        self._kill_group()
        rc = self.process.wait()
        self._watchdog.cancel()
        for file in self._files:
            file.close()
        return rc

    def _kill_group(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()
