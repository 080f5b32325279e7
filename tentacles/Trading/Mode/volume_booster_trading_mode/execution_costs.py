"""What each way of trading costs per unit of volume, measured on the mode's own orders, and the `auto` choice
between resting and taking.

- Taking costs the taker fee plus half the spread of the book (none known: no spread).
- Resting costs the maker fee plus the adverse selection of resting fills: the markout, i.e. how far the mid
  price moved against a resting fill `markout_seconds` after it (a buy filled, then the price kept falling).
  Before enough fills were measured, a prior stands in for the missing ones (a shrunk mean).
- Resting gives way to taking when the run falls behind its deadline pace, or when recent resting orders
  almost never fill (each unfilled one is an order created and cancelled for nothing).
Pure Python (Decimal amounts), no OctoBot import.
"""
import collections
import decimal
import math
import statistics
import typing

from . import actions

ZERO = decimal.Decimal(0)
TWO = decimal.Decimal(2)
BPS = decimal.Decimal(10000)
# the markouts averaged: the most recent ones, none older than this, so a market that changes character is
# followed, and a run that turned to taking tries resting again once its bad markouts are that old
MARKOUTS_KEPT = 50
MARKOUT_MAX_AGE_SECONDS = 3600
# fills waiting for their markout: at most this many (a burst beyond it drops the oldest unmeasured fills, so
# memory stays flat whatever the fill rate)
PENDING_MARKOUTS_KEPT = 1000
# the prior counts as this many measured fills
PRIOR_WEIGHT = 5
# resting orders judged on their recent outcomes: at most this many, none older than this (after a quiet spell,
# resting is tried again this soon)
OUTCOMES_KEPT = 50
OUTCOMES_MAX_AGE_SECONDS = 600
# below this share of recent resting orders filled (once enough closed), the market is too quiet for resting
# orders: more than twenty would be created per fill, auto takes instead
MIN_RESTING_FILL_RATIO = 0.05
MIN_OUTCOMES = 20
# behind the deadline pace by more than this many of the largest orders: auto takes
PACE_SLACK_ORDERS = 2


class ExecutionStats:
    """Markouts of the mode's resting fills and outcomes of its resting orders."""

    def __init__(self, markout_seconds: float):
        self.markout_seconds = markout_seconds
        # (due time, side, fill price, fill window) waiting for their markout
        self._pending = collections.deque(maxlen=PENDING_MARKOUTS_KEPT)
        # (measure time, fill window, adverse selection of the fill as a fraction of its price; positive: a cost)
        self._measured = collections.deque(maxlen=MARKOUTS_KEPT)
        # (close time, filled) of recent resting orders
        self._outcomes = collections.deque(maxlen=OUTCOMES_KEPT)

    def resting_fill(self, time: float, side: str, price: decimal.Decimal) -> None:
        # fills of the same window of markout_seconds see the same price move: one observation together
        self._pending.append((time + self.markout_seconds, side, price, int(time // self.markout_seconds)))

    def observe(self, now: float, mid: typing.Optional[decimal.Decimal]) -> None:
        """Measure the markouts that are due with the mid price of `now`."""
        if not mid or mid <= ZERO:
            return
        while self._pending and self._pending[0][0] <= now:
            _, side, price, window = self._pending.popleft()
            moved = (price - mid) if side == actions.BUY else (mid - price)
            self._measured.append((now, window, moved / price))

    def resting_closed(self, time: float, filled: bool) -> None:
        self._outcomes.append((time, filled))

    @property
    def markouts(self) -> list:
        """The markouts kept (fractions), oldest first."""
        return [markout for _, _, markout in self._measured]

    def recent_markouts(self, now: float) -> list:
        """The observations of the markouts measured within the last MARKOUT_MAX_AGE_SECONDS of `now`: the mean
        markout of the fills of each window of markout_seconds, oldest first."""
        windows = {}
        for time, window, markout in self._measured:
            if now - time <= MARKOUT_MAX_AGE_SECONDS:
                windows.setdefault(window, []).append(markout)
        return [sum(markouts, ZERO) / len(markouts) for markouts in windows.values()]

    def resting_fill_ratio(self, now: float) -> typing.Optional[float]:
        """Share of the recent resting orders that filled (even partly); None until enough closed."""
        recent = [filled for time, filled in self._outcomes if now - time <= OUTCOMES_MAX_AGE_SECONDS]
        if len(recent) < MIN_OUTCOMES:
            return None
        return sum(recent) / len(recent)


def expected_adverse_selection(prior: decimal.Decimal, markouts: typing.Sequence[decimal.Decimal]) -> decimal.Decimal:
    """Expected adverse selection of a resting fill (fraction): the measured markouts' mean, shrunk toward the
    prior, which counts as PRIOR_WEIGHT more markouts."""
    return (prior * PRIOR_WEIGHT + sum(markouts, ZERO)) / (PRIOR_WEIGHT + len(markouts))


def markout_error(markouts: typing.Sequence[decimal.Decimal]) -> decimal.Decimal:
    """Standard error of the markouts' mean (none below two markouts): a minute's price move is noisy, a few
    markouts say little."""
    if len(markouts) < 2:
        return ZERO
    return decimal.Decimal(str(statistics.stdev(float(markout) for markout in markouts) / math.sqrt(len(markouts))))


class Choice(typing.NamedTuple):
    resting: bool
    # costs per unit of volume (fractions)
    take_cost: decimal.Decimal
    rest_cost: decimal.Decimal
    reason: str


def half_spread(best_bid, best_ask) -> decimal.Decimal:
    """Half the book's spread as a fraction of its mid (no book: none)."""
    if not best_bid or not best_ask or best_ask <= best_bid:
        return ZERO
    mid = (best_bid + best_ask) / TWO
    return (best_ask - best_bid) / TWO / mid


def choose(maker_fee: decimal.Decimal, taker_fee: decimal.Decimal, spread_half: decimal.Decimal,
           adverse_selection: decimal.Decimal, behind_pace: bool,
           resting_fill_ratio: typing.Optional[float], adverse_error: decimal.Decimal = ZERO) -> Choice:
    """Rest or take. Resting gives way only when it costs more than taking by more than the standard error of
    its measured adverse selection: a handful of noisy markouts does not turn the mode to the dearer taker fee."""
    take_cost = taker_fee + spread_half
    rest_cost = maker_fee + adverse_selection
    error = f" ± {adverse_error * BPS:.1f}" if adverse_error else ""
    costs = (f"rest {rest_cost * BPS:.1f}{error} bps (maker fee + adverse selection) vs take "
             f"{take_cost * BPS:.1f} bps")
    if behind_pace:
        return Choice(False, take_cost, rest_cost, f"taking: behind the deadline pace ({costs})")
    if resting_fill_ratio is not None and resting_fill_ratio < MIN_RESTING_FILL_RATIO:
        return Choice(False, take_cost, rest_cost,
                      f"taking: only {resting_fill_ratio:.0%} of recent resting orders filled ({costs})")
    if rest_cost - adverse_error < take_cost:
        return Choice(True, take_cost, rest_cost, f"resting: cheaper ({costs})")
    return Choice(False, take_cost, rest_cost, f"taking: cheaper or equal ({costs})")


def behind_pace(volume: decimal.Decimal, target: decimal.Decimal, started_at: float, now: float,
                deadline_seconds: float, slack: decimal.Decimal) -> bool:
    """With a deadline: the filled volume lags the even pace toward the target by more than `slack`, a slack that
    shrinks to nothing at the deadline (past it, any volume still missing is late)."""
    if deadline_seconds <= 0 or now <= started_at:
        return False
    elapsed = min(decimal.Decimal(str((now - started_at) / deadline_seconds)), decimal.Decimal(1))
    return volume + slack * (1 - elapsed) < target * elapsed
