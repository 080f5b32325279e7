"""What a user gives the `volume-booster` commands, checked before anything runs: one line naming the option
or file and what is allowed, exit code 2, no traceback."""
import argparse
import os
import pathlib
import sys

EXIT_BAD_INPUT = 2


class InputError(ValueError):
    """Bad command-line input; the message names the option or file and what is allowed."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse that raises :class:`InputError` instead of printing its usage and exiting."""

    def error(self, message):
        raise InputError(message.removeprefix("argument "))


def report(prog: str, error: Exception) -> int:
    """Print `prog: error` as one line on stderr; returns the bad-input exit code."""
    print(f"{prog}: {' '.join(str(error).split())}", file=sys.stderr)
    return EXIT_BAD_INPUT


def whole_number(low: int, high: int):
    """argparse type: a whole number from `low` to `high`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expects a whole number from {low:,} to {high:,}, got {text!r}")
        return value

    return parse


def positive_number(high: float):
    """argparse type: a number above 0, at most `high`."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = None
        if value is None or not 0 < value <= high:
            raise argparse.ArgumentTypeError(f"expects a number above 0 and at most {high:g}, got {text!r}")
        return value

    return parse


def data_file(option: str, path):
    """The checked data file's info (everything the engine will read)."""
    from volume_booster import datafile
    try:
        return datafile.check(path)
    except datafile.DataFileError as err:
        raise InputError(f"{option} {err}") from None


def output_file(option: str, path, suffix: str = None) -> pathlib.Path:
    """A file path the command can write at its end: checked before the run, so no run is lost."""
    path = pathlib.Path(path)
    if suffix and path.suffix.lower() != suffix:
        raise InputError(f"{option} {path}: expected a file name ending in {suffix}")
    if path.is_dir():
        raise InputError(f"{option} {path}: is a folder; expected the path of a file to write")
    folder = path.parent
    if not folder.exists():
        raise InputError(f"{option} {path}: folder {folder} does not exist; expected a file in an existing folder")
    if not folder.is_dir():
        raise InputError(f"{option} {path}: {folder} is not a folder; expected a file in an existing folder")
    if path.exists() and not os.access(path, os.W_OK):
        raise InputError(f"{option} {path}: the file is not writable")
    if not path.exists() and not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"{option} {path}: folder {folder} is not writable")
    return path


def output_folder(option: str, path) -> pathlib.Path:
    """A folder the command can write into (created if missing)."""
    path = pathlib.Path(path)
    if path.exists() and not path.is_dir():
        raise InputError(f"{option} {path}: is a file; expected a folder (created if missing)")
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(f"{option} {path}: {existing} is a file, so the folder cannot be created; expected a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(f"{option} {path}: {existing} is not writable; expected a folder this user can write")
    return path
