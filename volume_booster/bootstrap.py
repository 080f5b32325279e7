"""Create the project's virtual environment when needed, then run a command in it.

    python3 -m volume_booster.bootstrap simulate [simulate options]
    python3 -m volume_booster.bootstrap test [pytest options]
    python3 -m volume_booster.bootstrap --octobot 2.0 test

Standard library only. OctoBot 2.1 (the default) needs Python 3.12 and lives in `.venv/`;
OctoBot 2.0 runs on Python 3.11 and lives in `.venv-octobot2.0/`. The pinned dependencies come
from pyproject.toml (the octobot pin follows the venv's Python version); a venv is reinstalled
when pyproject.toml changes.
"""
import argparse
import hashlib
import os
import pathlib
import shutil
import subprocess
import sys

from volume_booster import REPO_ROOT

ENVIRONMENTS = {
    # OctoBot line: (venv folder, required python minor version)
    "2.1": (".venv", (3, 12)),
    "2.0": (".venv-octobot2.0", (3, 11)),
}
STAMP = ".volume-booster-installed"


def _python_version(executable):
    try:
        out = subprocess.run(
            [executable, "-c", "import sys; print(sys.version_info[0], sys.version_info[1])"],
            capture_output=True, text=True, timeout=30, check=True,
        ).stdout.split()
        return int(out[0]), int(out[1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


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
        if _python_version(candidate) == version:
            return candidate
    raise SystemExit(
        f"volume-booster needs Python {version[0]}.{version[1]} to build its environment: "
        f"install it (e.g. `pyenv install {version[0]}.{version[1]}`) so that `{name}` is on PATH "
        f"or under $PYENV_ROOT/versions."
    )


def _requirements_digest():
    return hashlib.sha256((REPO_ROOT / "pyproject.toml").read_bytes()).hexdigest()


def ensure_environment(octobot_line="2.1"):
    """Return the venv's python, creating and installing the venv when needed."""
    folder, version = ENVIRONMENTS[octobot_line]
    venv = REPO_ROOT / folder
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"[bootstrap] creating {folder}/ with Python {version[0]}.{version[1]}", flush=True)
        subprocess.run([find_python(version), "-m", "venv", str(venv)], check=True)
    stamp = venv / STAMP
    digest = _requirements_digest()
    if not stamp.exists() or stamp.read_text().strip() != digest:
        print(f"[bootstrap] installing volume-booster and its pinned dependencies into {folder}/", flush=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "-e", f"{REPO_ROOT}[test]"],
            check=True,
        )
        stamp.write_text(digest)
    return python


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m volume_booster.bootstrap", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--octobot", choices=sorted(ENVIRONMENTS), default="2.1",
                        help="OctoBot line to run against (default: 2.1)")
    parser.add_argument("command", choices=["simulate", "compare", "bench", "package", "test", "install"])
    parser.add_argument("args", nargs=argparse.REMAINDER)
    options = parser.parse_args(argv)
    python = ensure_environment(options.octobot)
    if options.command == "install":
        return 0
    if options.command == "test":
        command = [str(python), "-m", "pytest", *options.args]
    else:
        command = [str(python), "-m", "volume_booster.cli", options.command, *options.args]
    return subprocess.run(command, cwd=REPO_ROOT).returncode


if __name__ == "__main__":
    sys.exit(main())
