"""Volume Booster journal: the small state file that lets the mode resume after a restart.

What the exchange's record of trades cannot tell is kept here: which orders are the mode's own (so
their fills during a restart are counted and their trades are never confused with manual ones),
which trades were already counted (so nothing is counted twice), the order counters and the start of
the run (pacing). It is an append-only JSON-lines file: one line per event, written and flushed as the
event happens, so a crash loses nothing that was written; it is compacted into a single snapshot line
from time to time. Pure Python, no OctoBot import.
"""
import json
import os
import pathlib
import typing

SNAPSHOT = "snapshot"
ORDER = "order"
ORDER_CLOSED = "order_closed"
FILL = "fill"
COUNTERS = "counters"
FORMAT_VERSION = 1


class Journal:
    def __init__(self, path: typing.Union[str, pathlib.Path], compact_every: int = 2000):
        self.path = pathlib.Path(path)
        self.compact_every = compact_every
        self._lines_since_snapshot = 0
        self._file = None

    def load(self) -> tuple:
        """(snapshot dict or None, events after it). A torn last line (crash while writing) is ignored."""
        if not self.path.exists():
            return None, []
        snapshot, events = None, []
        with open(self.path, encoding="utf-8") as source:
            for line in source:
                line = line.strip()
                if not line:
                    continue
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if event.get("type") == SNAPSHOT:
                    snapshot, events = event, []
                else:
                    events.append(event)
        self._lines_since_snapshot = len(events)
        return snapshot, events

    def append(self, event_type: str, **fields) -> None:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "a", encoding="utf-8")
        self._file.write(json.dumps({"type": event_type, **fields}, separators=(",", ":")) + "\n")
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
            target.write(json.dumps({"type": SNAPSHOT, "version": FORMAT_VERSION, **snapshot},
                                    separators=(",", ":")) + "\n")
            target.flush()
            os.fsync(target.fileno())
        os.replace(temporary, self.path)
        self._lines_since_snapshot = 0

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def state_file_name(exchange_name: str, symbol: str) -> str:
    return f"{exchange_name}-{symbol.replace('/', '_').replace(':', '_')}.jsonl"
