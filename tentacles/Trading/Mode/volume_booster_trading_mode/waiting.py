"""Why the mode places no order: the latest reason, and what is worth logging about it.

A reason is logged the first time its kind appears in a summary window (its kind is its text without the
numbers, so "12 open orders" and "13 open orders" are one kind); at the end of each window one summary line
counts the steps that placed nothing, by kind. However long the mode waits, the log holds a few lines per
window, and the latest reason stays readable for the status line and the reports. Pure Python.
"""
import collections
import re
import typing

SUMMARY_SECONDS = 600.0
_NUMBER = re.compile(r"[-+]?\d[\d.,]*(?:[eE][-+]?\d+)?")


def kind_of(reason: str) -> str:
    """The reason without its numbers."""
    return _NUMBER.sub("#", reason)


class WaitingReasons:
    def __init__(self, summary_seconds: float = SUMMARY_SECONDS):
        self.summary_seconds = summary_seconds
        # the reason of the latest step that placed nothing; None once an order is placed
        self.current: typing.Optional[str] = None
        # steps that placed nothing over the whole run, by kind (first reason text of each kind kept)
        self.totals = collections.Counter()
        self.examples = {}
        self._window_start = None
        self._window = collections.Counter()

    def note(self, reason: str, now: float) -> list:
        """Record a step that placed nothing; returns the lines to log (possibly none)."""
        lines = self._close_window_if_due(now)
        kind = kind_of(reason)
        if kind not in self._window:
            lines.append(f"No order this step: {reason}")
        self._window[kind] += 1
        self.totals[kind] += 1
        self.examples.setdefault(kind, reason)
        self.current = reason
        return lines

    def placed(self, now: float) -> list:
        """An order was placed: no current reason; returns the lines to log (a summary when one is due)."""
        self.current = None
        return self._close_window_if_due(now)

    def _close_window_if_due(self, now: float) -> list:
        if self._window_start is None:
            self._window_start = now
        if now - self._window_start < self.summary_seconds:
            return []
        lines = []
        if self._window:
            minutes = (now - self._window_start) / 60
            counts = "; ".join(f"{count}x {self.examples[kind] if count == 1 else kind}"
                               for kind, count in self._window.most_common())
            lines.append(f"No order on {sum(self._window.values())} step(s) in the last {minutes:.0f} min: {counts}")
        self._window_start = now
        self._window = collections.Counter()
        return lines

    def summary(self) -> dict:
        """Steps that placed nothing over the run: the first reason text of each kind -> count."""
        return {self.examples[kind]: count for kind, count in self.totals.most_common()}
