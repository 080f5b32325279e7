"""Fee tiers: an exchange's fee levels by rolling 30-day volume, the volume the next level still needs before
the exchange recomputes it, the daily volume that keeps the level reached, and whether the next level pays.

- Tables: `fee_tier_tables/<exchange>.json` (ccxt ids), one per exchange: levels (threshold on the rolling
  volume, maker and taker fee in percent, extra condition in words), the window, when the exchange recomputes
  the level, the volume currency, the exchange pages they come from and the date they were checked.
- Fees are fractions in code (0.001 for 0.1 %); amounts are Decimal; times are epoch seconds (UTC).
- Extra conditions (a token or asset balance) are carried as text to show, never checked.

Pure Python, no OctoBot import.
"""
import dataclasses
import datetime
import decimal
import json
import pathlib
import re
import typing

D = decimal.Decimal
ZERO = D(0)
HUNDRED = D(100)
HOUR_SECONDS = 3600
DAY_SECONDS = 86400
TABLES_FOLDER = pathlib.Path(__file__).resolve().parent / "fee_tier_tables"
LEVELS_SETTING = "fee_tier_levels"
LEVELS_FORMAT = ("NAME=THRESHOLD:MAKER%:TAKER% separated by ';', e.g. "
                 "\"VIP1=1000000:0.09:0.10; VIP2=5000000:0.08:0.10\"")
RECOMPUTE_KINDS = ("daily", "hourly", "per_trade")
DEFAULT_KEEP_MARGIN = D("0.02")
MAX_THRESHOLD = D("1e15")


class FeeTierError(ValueError):
    """A table or a levels text that cannot be used; the message is one line naming it."""


@dataclasses.dataclass(frozen=True)
class FeeLevel:
    """One level: reached when the rolling volume is at least `threshold`; fees as fractions."""
    name: str
    threshold: D
    maker: D
    taker: D
    condition: str = ""

    def __post_init__(self):
        for field in ("threshold", "maker", "taker"):
            object.__setattr__(self, field, D(str(getattr(self, field))))


@dataclasses.dataclass(frozen=True)
class Recompute:
    """When the exchange recomputes the level: `daily` at `time_utc` ("HH:MM"), `hourly`, or `per_trade`."""
    kind: str
    time_utc: str = ""

    def __post_init__(self):
        if self.kind not in RECOMPUTE_KINDS:
            raise FeeTierError(f"recompute kind {self.kind!r}: expected one of {', '.join(RECOMPUTE_KINDS)}")
        if self.kind == "daily" and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", self.time_utc or ""):
            raise FeeTierError(f"recompute time_utc {self.time_utc!r}: expected HH:MM (UTC) for a daily recompute")

    def describe(self) -> str:
        if self.kind == "daily":
            return f"daily at {self.time_utc} UTC"
        return "hourly" if self.kind == "hourly" else "after every trade"


@dataclasses.dataclass(frozen=True)
class FeeSchedule:
    exchange: str
    levels: tuple
    window_days: int
    recompute: Recompute
    volume_currency: str
    source: tuple
    checked: str
    note: str = ""


@dataclasses.dataclass(frozen=True)
class BreakEven:
    expected_cost: D
    monthly_saving: D
    pays_off: bool


@dataclasses.dataclass(frozen=True)
class TierPlan:
    """The plan for the next level; the first fields are the `fee-tier --json` keys."""
    exchange: str
    current_level: str
    next_level: typing.Optional[str]
    threshold: typing.Optional[D]
    volume_30d: D
    volume_needed: D
    deadline: float
    expected_cost: D
    monthly_saving: D
    pays_off: bool
    reason: str
    current: FeeLevel
    next: typing.Optional[FeeLevel]
    cost_per_volume: D
    own_monthly_volume: D
    ageing_out: D

    JSON_KEYS = ("exchange", "current_level", "next_level", "threshold", "volume_30d", "volume_needed",
                 "deadline", "expected_cost", "monthly_saving", "pays_off")


def known_exchanges() -> tuple:
    return tuple(sorted(path.stem for path in TABLES_FOLDER.glob("*.json")))


def load_schedule(exchange: str, extra_levels=()) -> FeeSchedule:
    """The exchange's table; `extra_levels` replace the level of the same name or add one."""
    path = TABLES_FOLDER / f"{exchange}.json"
    if exchange not in known_exchanges():
        raise FeeTierError(f"no fee tier table for exchange {exchange!r}; known: {', '.join(known_exchanges())}")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"), parse_float=D)
        schedule = FeeSchedule(
            exchange=raw["exchange"],
            levels=tuple(FeeLevel(level["name"], D(str(level["volume_30d"])), D(str(level["maker_percent"])) / HUNDRED,
                                  D(str(level["taker_percent"])) / HUNDRED, level.get("condition", ""))
                         for level in raw["levels"]),
            window_days=int(raw["window_days"]),
            recompute=Recompute(raw["recompute"]["kind"], raw["recompute"].get("time_utc", "")),
            volume_currency=raw["volume_currency"],
            source=tuple(raw["source"]),
            checked=raw["checked"],
            note=raw.get("note", ""),
        )
    except (KeyError, TypeError, ValueError, decimal.InvalidOperation) as err:
        raise FeeTierError(f"fee tier table {path}: {type(err).__name__} {err}") from None
    return with_levels(schedule, extra_levels)


def with_levels(schedule: FeeSchedule, extra_levels=()) -> FeeSchedule:
    """The schedule with `extra_levels` replacing same-named levels or added, sorted by threshold."""
    by_name = {level.name: level for level in schedule.levels}
    by_name.update({level.name: level for level in extra_levels})
    levels = tuple(sorted(by_name.values(), key=lambda level: (level.threshold, -level.taker, -level.maker)))
    if not levels or levels[0].threshold != ZERO:
        raise FeeTierError(f"{schedule.exchange}: the lowest level must start at a volume of 0")
    return dataclasses.replace(schedule, levels=levels)


def parse_levels(text: str) -> tuple:
    """The user's levels from `name=threshold:maker%:taker%` items separated by ';' (empty text: none)."""
    levels = tuple(_parse_level(item) for item in (part.strip() for part in (text or "").split(";")) if item)
    names = [level.name for level in levels]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise FeeTierError(f"{LEVELS_SETTING}: level {', '.join(duplicates)} given twice; expected {LEVELS_FORMAT}")
    return levels


def _parse_level(item: str) -> FeeLevel:
    match = re.fullmatch(r"([^=:;]+?)\s*=\s*([^:]+):([^:]+):([^:]+)", item)
    try:
        if not match or not match.group(1).strip():
            raise ValueError
        threshold, maker, taker = (D(match.group(index).strip().replace(",", "")) for index in (2, 3, 4))
        if not all(value.is_finite() for value in (threshold, maker, taker)) \
                or not ZERO <= threshold <= MAX_THRESHOLD or not ZERO <= taker <= HUNDRED \
                or not -HUNDRED <= maker <= HUNDRED:
            raise ValueError
    except (ValueError, decimal.InvalidOperation):
        raise FeeTierError(f"{LEVELS_SETTING}: {item!r} is not a level; expected {LEVELS_FORMAT} "
                           f"(threshold from 0 to {MAX_THRESHOLD:,.0f}, fees in percent)") from None
    return FeeLevel(match.group(1).strip(), threshold, maker / HUNDRED, taker / HUNDRED)


def current_level(schedule: FeeSchedule, volume_30d) -> FeeLevel:
    volume = D(volume_30d)
    return [level for level in schedule.levels if level.threshold <= volume][-1]


def next_level(schedule: FeeSchedule, volume_30d) -> typing.Optional[FeeLevel]:
    volume = D(volume_30d)
    return next((level for level in schedule.levels if level.threshold > volume), None)


def next_recompute(schedule: FeeSchedule, now: float) -> float:
    """The next time the exchange recomputes the level: now for per-trade, the next full hour for hourly,
    the next daily time (strictly after now) for daily."""
    recompute = schedule.recompute
    if recompute.kind == "per_trade":
        return float(now)
    if recompute.kind == "hourly":
        return float((int(now) // HOUR_SECONDS + 1) * HOUR_SECONDS)
    hours, minutes = (int(part) for part in recompute.time_utc.split(":"))
    day_start = int(now) // DAY_SECONDS * DAY_SECONDS
    at = day_start + hours * HOUR_SECONDS + minutes * 60
    return float(at if at > now else at + DAY_SECONDS)


def even_daily_volumes(schedule: FeeSchedule, volume_30d) -> list:
    """The window's daily volumes, oldest first, when only the total is known: spread evenly."""
    return [D(volume_30d) / schedule.window_days] * schedule.window_days


def ageing_out(schedule: FeeSchedule, volume_30d, now: float, until: float, daily_volumes=None) -> D:
    """Volume of the window's oldest days that leaves the window between `now` and `until`.

    `daily_volumes`: the last window_days daily volumes, oldest first (the last one is today); None: volume_30d
    spread evenly. A partly elapsed day leaves in proportion to the time elapsed."""
    days = _window(schedule, volume_30d, daily_volumes)
    elapsed_days = D(max(0.0, float(until) - float(now))) / DAY_SECONDS
    whole = min(int(elapsed_days), len(days))
    gone = sum(days[:whole], ZERO)
    if whole < len(days):
        gone += days[whole] * (elapsed_days - whole)
    return gone


def volume_needed(schedule: FeeSchedule, volume_30d, now: float, deadline: float = None, daily_volumes=None) -> D:
    """Volume still to trade so that the rolling volume reaches the next level at the deadline (default: the
    next recompute): next threshold - volume_30d + what ages out until then; 0 at the top or when reached."""
    upcoming = next_level(schedule, volume_30d)
    if upcoming is None:
        return ZERO
    until = next_recompute(schedule, now) if deadline is None else deadline
    missing = upcoming.threshold - D(volume_30d) + ageing_out(schedule, volume_30d, now, until, daily_volumes)
    return max(ZERO, missing)


def keep_daily_volume(schedule: FeeSchedule, volume_30d, own_monthly_volume, daily_volumes=None,
                      margin=DEFAULT_KEEP_MARGIN) -> D:
    """The daily volume that keeps the rolling window at or above the current level's threshold (times
    1 + margin) on every day of the coming window, given what ages out each day and the user's own volume
    (own_monthly_volume / window_days a day counts toward it); 0 when nothing is needed."""
    level = current_level(schedule, volume_30d)
    floor = level.threshold * (1 + D(margin))
    if level.threshold == ZERO:
        return ZERO
    days = _window(schedule, volume_30d, daily_volumes)
    own_daily = D(own_monthly_volume) / schedule.window_days
    needed = ZERO
    # after k days, the window holds the newest (window - k) days kept plus k new days
    for elapsed in range(1, len(days) + 1):
        kept = sum(days[elapsed:], ZERO)
        needed = max(needed, (floor - kept) / elapsed - own_daily)
    return max(ZERO, needed)


def break_even(volume_needed, cost_per_volume, own_monthly_volume, level_now: FeeLevel, level_next: FeeLevel,
               maker_share=ZERO) -> BreakEven:
    """Cost of the volume still needed against the fees saved over the next 30 days on the user's own volume.

    The saving counts the user's own monthly volume at the taker fee by default (maker_share 0): the taker fee
    usually drops less from one level to the next than the maker fee, so the saving is not overstated.
    `maker_share` (0 to 1) blends in the maker fee for the share of the own volume that rests in the book."""
    share = D(maker_share)
    if not ZERO <= share <= 1:
        raise FeeTierError(f"maker_share {maker_share}: expected a share from 0 to 1")
    fee_now = level_now.taker * (1 - share) + level_now.maker * share
    fee_next = level_next.taker * (1 - share) + level_next.maker * share
    cost = D(volume_needed) * D(cost_per_volume)
    saving = D(own_monthly_volume) * (fee_now - fee_next)
    return BreakEven(cost, saving, saving > cost)


def plan(schedule: FeeSchedule, volume_30d, now: float, own_monthly_volume=ZERO, cost_per_volume=None,
         deadline: float = None, daily_volumes=None, maker_share=ZERO) -> TierPlan:
    """Current and next level, volume needed by the deadline (default: the next recompute), its expected cost
    (default cost per volume: the current level's taker fee) and the monthly saving, and the verdict."""
    volume = D(volume_30d)
    own = D(own_monthly_volume)
    if volume < ZERO or own < ZERO:
        raise FeeTierError("volumes must be >= 0")
    level = current_level(schedule, volume)
    upcoming = next_level(schedule, volume)
    per_volume = level.taker if cost_per_volume is None else D(cost_per_volume)
    until = next_recompute(schedule, now) if deadline is None else float(deadline)
    if until < now:
        raise FeeTierError("the deadline is in the past")
    aged = ageing_out(schedule, volume, now, until, daily_volumes)
    if upcoming is None:
        return TierPlan(schedule.exchange, level.name, None, None, volume, ZERO, until, ZERO, ZERO, False,
                        f"{level.name} is the top level of the table: no next level", level, None, per_volume,
                        own, aged)
    needed = volume_needed(schedule, volume, now, until, daily_volumes)
    verdict = break_even(needed, per_volume, own, level, upcoming, maker_share)
    if own == ZERO:
        reason = "no own monthly volume given: the lower fee saves nothing"
    elif verdict.pays_off:
        reason = "the fees saved in 30 days exceed the cost of the volume needed"
    else:
        reason = "the volume needed costs more than the fees saved in 30 days"
    return TierPlan(schedule.exchange, level.name, upcoming.name, upcoming.threshold, volume, needed, until,
                    verdict.expected_cost, verdict.monthly_saving, verdict.pays_off, reason, level, upcoming,
                    per_volume, own, aged)


def iso_utc(epoch_seconds: float) -> str:
    return datetime.datetime.fromtimestamp(epoch_seconds, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def readable_utc(epoch_seconds: float) -> str:
    """A time as reports print it: 2026-12-02 16:00 UTC."""
    return datetime.datetime.fromtimestamp(epoch_seconds, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _window(schedule: FeeSchedule, volume_30d, daily_volumes) -> list:
    if daily_volumes is None:
        return even_daily_volumes(schedule, volume_30d)
    days = [D(str(day)) for day in daily_volumes]
    if len(days) > schedule.window_days or any(day < ZERO for day in days):
        raise FeeTierError(f"daily volumes: expected at most {schedule.window_days} volumes >= 0, oldest first")
    return [ZERO] * (schedule.window_days - len(days)) + days
