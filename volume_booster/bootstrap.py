"""Create the project's virtual environment when needed, then run a command in it.

    python3 -m volume_booster.bootstrap simulate [simulate options]
    python3 -m volume_booster.bootstrap test [pytest options]
    python3 -m volume_booster.bootstrap --octobot 2.0 test

Standard library only. OctoBot 2.1 (the default) needs Python 3.12 and lives in `.venv/`;
OctoBot 2.0 runs on Python 3.11 and lives in `.venv-octobot2.0/`. What gets installed is this
project itself (`pip install -e <repo>[test]`): the pinned dependencies come from its
pyproject.toml only (the octobot pin follows the venv's Python version); a venv is reinstalled
when pyproject.toml changes.

Every subprocess is bounded: venv creation, installation (VOLUME_BOOSTER_INSTALL_TIMEOUT seconds,
default 1800) and the test run (VOLUME_BOOSTER_TEST_TIMEOUT seconds, default 3600) are killed with
their children when they exceed it. `test` exits non-zero when pytest fails or collects no test.
"""
import argparse
import contextlib
import hashlib
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time

from volume_booster import REPO_ROOT

ENVIRONMENTS = {
    # OctoBot line: (venv folder, required python minor version)
    "2.1": (".venv", (3, 12)),
    "2.0": (".venv-octobot2.0", (3, 11)),
}
STAMP = ".volume-booster-installed"
VENV_TIMEOUT = 300
INSTALL_TIMEOUT = int(os.environ.get("VOLUME_BOOSTER_INSTALL_TIMEOUT", "1800"))
TEST_TIMEOUT = int(os.environ.get("VOLUME_BOOSTER_TEST_TIMEOUT", "3600"))
PYTEST_NO_TESTS_COLLECTED = 5


def _log(message):
    print(f"[bootstrap] {message}", flush=True)


def _python_version(executable, require_venv=False):
    """(major, minor) of a python executable; None when it doesn't run (or can't create a venv)."""
    check = "import sys; print(sys.version_info[0], sys.version_info[1])"
    if require_venv:
        check = "import ensurepip, venv; " + check
    try:
        out = subprocess.run(
            [executable, "-c", check], capture_output=True, text=True, timeout=30, check=True,
        ).stdout.split()
        return int(out[0]), int(out[1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


def run_bounded(command, timeout, cwd=None):
    """Run command in its own process group; kill the whole group on timeout or interruption.

    Returns the exit code (negative: killed by that signal); raises SystemExit on timeout."""
    process = subprocess.Popen(command, cwd=cwd, start_new_session=True)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop_group(process, signal.SIGKILL)
        raise SystemExit(f"[bootstrap] timed out after {timeout} s, killed: {' '.join(map(str, command))}")
    except BaseException:  # Ctrl-C reaches this process only: pass it on, then make sure
        _stop_group(process, signal.SIGINT)
        raise


def _stop_group(process, first_signal):
    for sent in (first_signal, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sent)
        try:
            process.wait(timeout=10)
            break
        except subprocess.TimeoutExpired:
            continue
    # the group may outlive its leader
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def find_python(version):
    """A python executable of the given (major, minor) version: PATH first, then pyenv."""
    name = f"python{version[0]}.{version[1]}"
    candidates = []
    if sys.version_info[:2] == version:
        candidates.append(sys.executable)
    on_path = shutil.which(name)
    if on_path:
        candidates.append(on_path)
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    versions = pathlib.Path(pyenv_root, "versions")
    if versions.is_dir():
        for folder in sorted(versions.glob(f"{version[0]}.{version[1]}.*"), reverse=True):
            candidates.append(str(folder / "bin" / name))
    for candidate in candidates:
        if _python_version(candidate, require_venv=True) == version:
            return candidate
    raise SystemExit(
        f"volume-booster needs Python {version[0]}.{version[1]} to build its environment: "
        f"install it (e.g. `pyenv install {version[0]}.{version[1]}`) so that `{name}` is on PATH "
        f"or under $PYENV_ROOT/versions."
    )


def _requirements_digest():
    return hashlib.sha256((REPO_ROOT / "pyproject.toml").read_bytes()).hexdigest()


@contextlib.contextmanager
def _exclusive(path):
    """Serialize bootstraps of one venv (two concurrent pip installs into it would clash)."""
    try:
        import fcntl
    except ImportError:  # not on POSIX: no lock
        yield
        return
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_environment(octobot_line="2.1"):
    """Return the venv's python, creating and installing the venv when needed."""
    folder, version = ENVIRONMENTS[octobot_line]
    venv = REPO_ROOT / folder
    python = venv / "bin" / "python"
    started = time.monotonic()
    lock_dir = REPO_ROOT / ".cache"  # git-ignored
    lock_dir.mkdir(exist_ok=True)
    with _exclusive(lock_dir / f"bootstrap{folder}.lock"):
        if not python.exists():
            interpreter = find_python(version)
            _log(f"creating {folder}/ with Python {version[0]}.{version[1]} ({interpreter})")
            if run_bounded([interpreter, "-m", "venv", str(venv)], VENV_TIMEOUT) != 0:
                raise SystemExit(f"[bootstrap] could not create {folder}/ with {interpreter}")
        venv_version = _python_version(str(python))
        if venv_version != version:
            raise SystemExit(
                f"[bootstrap] {folder}/ runs Python {venv_version} but OctoBot {octobot_line} needs "
                f"Python {version[0]}.{version[1]}: remove {venv} and run the command again."
            )
        stamp = venv / STAMP
        digest = _requirements_digest()
        if not stamp.exists() or stamp.read_text().strip() != digest:
            _log(f"installing volume-booster and its pinned dependencies (from {REPO_ROOT / 'pyproject.toml'}) "
                 f"into {folder}/")
            rc = run_bounded(
                [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input",
                 "-e", f"{REPO_ROOT}[test]"],
                INSTALL_TIMEOUT,
            )
            if rc != 0:
                raise SystemExit(f"[bootstrap] installing into {folder}/ failed (pip exit code {rc})")
            stamp.write_text(digest)
            _log(f"{folder}/ created/installed in {time.monotonic() - started:.1f} s")
        else:
            _log(f"{folder}/ up to date (Python {version[0]}.{version[1]}, OctoBot {octobot_line})")
    return python


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m volume_booster.bootstrap", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--octobot", choices=sorted(ENVIRONMENTS), default="2.1",
                        help="OctoBot line to run against (default: 2.1)")
    parser.add_argument("command", choices=["simulate", "compare", "bench", "package", "fee-tier", "test", "install"])
    parser.add_argument("args", nargs=argparse.REMAINDER)
    options = parser.parse_args(argv)
    python = ensure_environment(options.octobot)
    if options.command == "install":
        return 0
    if options.command == "test":
        return run_tests(python, options.args)
    command = [str(python), "-m", "volume_booster.cli", options.command, *options.args]
    return subprocess.run(command, cwd=REPO_ROOT).returncode


def run_tests(python, pytest_args):
    """Run pytest in the venv; non-zero when it fails, is killed, or collects no test."""
    started = time.monotonic()
    rc = run_bounded([str(python), "-m", "pytest", *pytest_args], TEST_TIMEOUT, cwd=REPO_ROOT)
    seconds = time.monotonic() - started
    if rc == PYTEST_NO_TESTS_COLLECTED:
        _log(f"FAILED: pytest collected no test (exit code {rc}) in {seconds:.1f} s")
    elif rc < 0:
        _log(f"FAILED: pytest killed by signal {-rc} after {seconds:.1f} s")
        rc = 128 - rc
    else:
        _log(f"pytest finished in {seconds:.1f} s with exit code {rc}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
