"""Volume Booster journal: the small state file that lets the mode resume after a restart.

What the exchange's record of trades cannot tell is kept here: which orders are the mode's own (so
their fills during a restart are counted and their trades are never confused with manual ones),
which trades were already counted (so nothing is counted twice), the order counters and the start of
the run (pacing). It is an append-only JSON-lines file: one line per event, written and flushed as the
event happens, so a crash loses nothing that was written; it is compacted into a single snapshot line
from time to time.

This module owns the file format only; what the lines mean (and which to trust) is recovery.py's job.
Each line is a JSON object ending with a CRC-32 of the rest of the line, `..., "crc": "1a2b3c4d"}`, so a
damaged line is recognised even when it is still valid JSON. Files written before the checksum (format 1,
no line has one) still load; in a file where some line has a valid checksum, a line without one is
damage. Pure Python, no OctoBot import.
"""
import json
import os
import pathlib
import re
import shutil
import typing
import zlib

SNAPSHOT = "snapshot"
ORDER = "order"
ORDER_CLOSED = "order_closed"
FILL = "fill"
# 2: every line carries its checksum
FORMAT_VERSION = 2
_CHECKSUMMED = re.compile(r'^(\{.*),"crc":"([0-9a-f]{8})"\}$', re.DOTALL)


class Contents(typing.NamedTuple):
    # (line number, event object) of every line that decoded as a JSON object with a valid checksum
    events: list
    # (line number, why it was skipped) of every other non-blank line
    problems: list


def encode_line(event: dict) -> str:
    """One journal line (without its newline): the event as compact JSON, its checksum as the last key."""
    body = json.dumps(event, separators=(",", ":"))
    return f'{body[:-1]},"crc":"{_checksum(body):08x}"}}'


def decode_line(raw: bytes) -> tuple:
    """(event dict or None, checksummed: bool, why it is not an event or None)."""
    try:
        text = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        return None, False, "not UTF-8 text"
    match = _CHECKSUMMED.match(text)
    checksummed = match is not None
    if checksummed:
        text = match.group(1) + "}"
        if _checksum(text) != int(match.group(2), 16):
            return None, True, "checksum mismatch (damaged line)"
    try:
        event = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None, checksummed, "not valid JSON (torn or damaged line)"
    if not isinstance(event, dict):
        return None, checksummed, f"not a JSON object ({type(event).__name__})"
    if "crc" in event:
        return None, checksummed, "misplaced checksum"
    return event, checksummed, None


class Journal:
    def __init__(self, path: typing.Union[str, pathlib.Path], compact_every: int = 2000):
        self.path = pathlib.Path(path)
        self.compact_every = compact_every
        self._lines_since_snapshot = 0
        self._file = None

    def read(self) -> Contents:
        """Every line of the file, decoded or with the reason it can't be (nothing when there is no file).
        Raises OSError when the file exists but can't be read."""
        if not self.path.exists():
            return Contents([], [])
        with open(self.path, "rb") as source:
            raw_lines = source.read().split(b"\n")
        decoded = []
        for number, raw in enumerate(raw_lines, start=1):
            if raw.strip():
                decoded.append((number, *decode_line(raw)))
        any_checksum = any(event is not None and checksummed for _, event, checksummed, _ in decoded)
        contents = Contents([], [])
        for number, event, checksummed, problem in decoded:
            if problem is None and any_checksum and not checksummed:
                problem = "no checksum, unlike the other lines (damaged or foreign line)"
            if problem is None:
                contents.events.append((number, event))
            else:
                contents.problems.append((number, problem))
        self._lines_since_snapshot = len(contents.events)
        return contents

    def append(self, event_type: str, **fields) -> None:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "a", encoding="utf-8")
        self._file.write(encode_line({"type": event_type, **fields}) + "\n")
        self._file.flush()
        self._lines_since_snapshot += 1

    @property
    def needs_compaction(self) -> bool:
        return self._lines_since_snapshot >= self.compact_every

    def compact(self, snapshot: dict) -> None:
        """Replace the file by one snapshot line (written to a temporary file, then renamed)."""
        self.close()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(self.path.suffix + ".tmp")
        with open(temporary, "w", encoding="utf-8") as target:
            target.write(encode_line({"type": SNAPSHOT, "version": FORMAT_VERSION, **snapshot}) + "\n")
            target.flush()
            os.fsync(target.fileno())
        os.replace(temporary, self.path)
        self._lines_since_snapshot = 0

    def keep_copy(self, suffix: str = ".damaged") -> pathlib.Path:
        """Copy the file aside (e.g. before compacting away damaged lines); returns the copy's path."""
        copy = self.path.with_suffix(self.path.suffix + suffix)
        shutil.copyfile(self.path, copy)
        return copy

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def state_file_name(exchange_name: str, symbol: str) -> str:
    return f"{exchange_name}-{symbol.replace('/', '_').replace(':', '_')}.jsonl"


def _checksum(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))
