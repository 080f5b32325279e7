"""Aiming at a fee tier: from the settings, the exchange's fee schedule, the account's 30-day volume and the time,
the effective settings the planner runs with, the break-even verdict and one line saying both.

- `next_fee_tier`: the volume target is the volume still needed for the next fee level (with the volume that
  ages out before the exchange recomputes the level, plus `tier_margin_percent`), the deadline the exchange's next
  recompute unless `deadline_hours` is set.
- `keep_fee_tier`: each UTC day, a daily volume (the day's `daily_volume_cap`, paced over the day) that keeps the
  rolling 30-day volume above the current level's threshold as the account's older days age out.
- Break-even: the cost of the volume still to trade (at the measured cost per volume, else the taker fee) against
  the fee saved over 30 days at the user's own monthly volume; with `skip_unprofitable_tier`, a level that does not
  pay is not traded for.
Pure Python, no OctoBot import.
"""
import dataclasses
import decimal
import typing

from . import fee_tiers
from . import settings as vb_settings
from .ledger import DAY_SECONDS, utc_day

D = decimal.Decimal
ZERO = D(0)
HUNDRED = D(100)
WINDOW_DAYS = 30
# the shortest deadline the planner is given (an exchange recompute due now still leaves this much)
MIN_DEADLINE_HOURS = 0.1


@dataclasses.dataclass(frozen=True)
class TierView:
    """What the mode publishes about the fee level it aims at (status line, log, reports, tests)."""
    target_mode: str
    exchange: str
    current_level: typing.Optional[str]
    next_level: typing.Optional[str]
    threshold: typing.Optional[D]
    volume_30d: D
    volume_source: str
    volume_currency: str
    # next_fee_tier: the volume to trade and its deadline (epoch seconds)
    volume_needed: typing.Optional[D] = None
    deadline: typing.Optional[float] = None
    # keep_fee_tier: the UTC day (day number) and the volume to trade on it
    day: typing.Optional[int] = None
    daily_volume: typing.Optional[D] = None
    expected_cost: typing.Optional[D] = None
    monthly_saving: typing.Optional[D] = None
    pays_off: typing.Optional[bool] = None
    cost_per_volume: typing.Optional[D] = None
    # why nothing is traded for the level (None: trading for it)
    waiting: typing.Optional[str] = None

    @property
    def verdict(self) -> str:
        if self.pays_off is None:
            return "no break-even"
        return "pays off" if self.pays_off else "does not pay"

    def break_even_text(self) -> str:
        if self.expected_cost is None:
            return "break-even: none"
        return (f"break-even: cost {_amount(self.expected_cost)} vs saving {_amount(self.monthly_saving)} "
                f"{self.volume_currency} over 30 days ({self.verdict})")

    def text(self) -> str:
        """One line for the status, the log and the reports."""
        currency = self.volume_currency
        if self.target_mode == vb_settings.NEXT_FEE_TIER:
            if self.next_level is None:
                aim = f"at the top fee level {self.current_level}"
            else:
                aim = (f"{self.next_level} from {self.current_level} (threshold {_amount(self.threshold)} "
                       f"{currency}): needs {_amount(self.volume_needed)} {currency} "
                       + (f"by {_utc(self.deadline)}" if self.deadline is not None else
                          "(the level follows the volume: no deadline)"))
        else:
            aim = (f"keep {self.current_level} (threshold {_amount(self.threshold)} {currency}): "
                   f"{_amount(self.daily_volume)} {currency} on {_utc_day(self.day)}")
        line = (f"{self.target_mode} on {self.exchange}: {aim}; 30-day volume {_amount(self.volume_30d)} {currency} "
                f"({self.volume_source}); {self.break_even_text()}")
        return line + (f"; waiting: {self.waiting}" if self.waiting else "")

    def as_dict(self) -> dict:
        return {field.name: _plain(getattr(self, field.name)) for field in dataclasses.fields(self)} | {
            "verdict": self.verdict, "text": self.text()}


def _plain(value):
    return float(value) if isinstance(value, D) else value


def _amount(value) -> str:
    if value is None:
        return "-"
    value = D(value)
    if not value:
        return "0"
    return f"{value:.5g}" if abs(value) < 1000 else f"{value:.0f}"


def _utc(timestamp) -> str:
    return "-" if timestamp is None else fee_tiers.readable_utc(timestamp)


def _utc_day(day) -> str:
    return "-" if day is None else _utc(day * DAY_SECONDS)[:10]


# OctoBot's name of an exchange -> the name of its table, where they differ
TABLE_NAMES = {"gateio": "gate"}


def load_schedule(settings, exchange: str, quote: str):
    """The exchange's fee schedule with the user's levels (`fee_tier_levels`); an exchange without a built-in table
    takes the user's levels alone, in the pair's quote currency, recomputed daily at 00:00 UTC. A SettingsError
    names the setting at fault."""
    levels = ()
    if settings.fee_tier_levels.strip():
        try:
            levels = fee_tiers.parse_levels(settings.fee_tier_levels)
        except fee_tiers.FeeTierError as err:
            raise vb_settings.SettingsError("fee_tier_levels", _without_setting_name(err)) from None
    exchange = TABLE_NAMES.get(exchange, exchange)
    if exchange in fee_tiers.known_exchanges():
        try:
            return fee_tiers.load_schedule(exchange, extra_levels=levels)
        except fee_tiers.FeeTierError as err:
            raise vb_settings.SettingsError("fee_tier_levels" if levels else "target_mode", str(err)) from None
    if not levels:
        raise vb_settings.SettingsError(
            "target_mode", f"{settings.target_mode!r} needs the fee levels of {exchange}, which has no built-in "
                           f"table (known exchanges: {', '.join(fee_tiers.known_exchanges())}): give them in "
                           f"fee_tier_levels or set target_mode to 'fixed'")
    own = fee_tiers.FeeSchedule(exchange=exchange, levels=levels, window_days=WINDOW_DAYS,
                                recompute=fee_tiers.Recompute("daily", "00:00"), volume_currency=quote,
                                source=("fee_tier_levels",), checked="")
    try:
        return fee_tiers.with_levels(own)
    except fee_tiers.FeeTierError as err:
        raise vb_settings.SettingsError("fee_tier_levels", f"{err} ({exchange} has no built-in table to add "
                                                           f"them to)") from None


def _without_setting_name(err) -> str:
    text = str(err)
    prefix = f"{fee_tiers.LEVELS_SETTING}: "
    return text[len(prefix):] if text.startswith(prefix) else text


# currencies a fee table in USD counts as dollars (exchanges count stablecoin volume at par)
DOLLARS = frozenset(("USD", "ZUSD", "USDT", "USDC", "BUSD", "FDUSD", "TUSD", "DAI"))


def same_currency(volume_currency: typing.Optional[str], table_currency: str) -> bool:
    """Whether a volume stated in `volume_currency` can be compared with the table's thresholds (None: it is
    already in the table's currency)."""
    if volume_currency is None or volume_currency == table_currency:
        return True
    return volume_currency in DOLLARS and table_currency in DOLLARS


class DailyVolumes:
    """The account's volume per UTC day over the 30 days before today: its days at start (from its trades, else its
    30-day volume spread evenly), then the volume of each day as the days pass."""

    def __init__(self, start: float, volume_30d: D, daily_volumes: typing.Optional[dict] = None):
        today = utc_day(start)
        if daily_volumes:
            # today's trades so far count with the day before (the window ends with a whole day)
            self.days = {}
            for day, volume in daily_volumes.items():
                if 0 <= today - day <= WINDOW_DAYS:
                    self.record(min(day, today - 1), D(volume))
        else:
            self.days = {today - offset: D(volume_30d) / WINDOW_DAYS for offset in range(1, WINDOW_DAYS + 1)}

    def record(self, day: int, volume: D) -> None:
        self.days[day] = self.days.get(day, ZERO) + volume

    def window(self, today: int) -> list:
        """The volumes of the 30 whole days before `today`, oldest first: today is the first day still to trade."""
        return [self.days.get(day, ZERO) for day in range(today - WINDOW_DAYS, today)]

    def volume_30d(self, today: int) -> D:
        return sum(self.window(today), ZERO)


def cost_per_volume(measured: typing.Optional[D], taker_fee_rate: D) -> D:
    """What one unit of volume is expected to cost: what the mode has measured, else the taker fee."""
    return measured if measured is not None and measured > ZERO else taker_fee_rate


def next_tier(settings, schedule, volume_30d: D, source: str, now: float, started_at: float,
              cost: D, daily_volumes: typing.Optional[list] = None) -> typing.Tuple[typing.Any, TierView]:
    """The effective settings toward the next fee level, and what the mode publishes about it."""
    deadline = max(started_at + settings.deadline_hours * 3600, now) if settings.deadline_hours else None
    tier_plan = fee_tiers.plan(schedule, volume_30d, now, own_monthly_volume=settings.own_monthly_volume,
                               cost_per_volume=cost, deadline=deadline, daily_volumes=daily_volumes)
    view = TierView(
        target_mode=settings.target_mode, exchange=schedule.exchange, current_level=tier_plan.current_level,
        next_level=tier_plan.next_level, threshold=tier_plan.threshold, volume_30d=D(volume_30d),
        volume_source=source, volume_currency=schedule.volume_currency, cost_per_volume=cost,
    )
    if tier_plan.next is None:
        return settings, dataclasses.replace(view, waiting=f"{tier_plan.current_level} is the top fee level: "
                                                           f"nothing to aim at (target_mode next_fee_tier)")
    needed = tier_plan.volume_needed * (1 + settings.tier_margin_percent / HUNDRED)
    deadline = tier_plan.deadline
    verdict = fee_tiers.break_even(needed, cost, settings.own_monthly_volume, tier_plan.current, tier_plan.next)
    view = _verdict(settings, dataclasses.replace(view, volume_needed=needed, deadline=deadline,
                                                  expected_cost=verdict.expected_cost,
                                                  monthly_saving=verdict.monthly_saving))
    if settings.deadline_hours:
        hours = settings.deadline_hours
    elif schedule.recompute.kind == "daily":
        hours = max((deadline - started_at) / 3600, MIN_DEADLINE_HOURS)
    else:
        # recomputed every hour or after every trade: the level follows the volume, no deadline to race
        hours = 0.0
        view = dataclasses.replace(view, deadline=None)
    effective = dataclasses.replace(settings, volume_target=max(needed, D(str(vb_settings.MIN_QUOTE_AMOUNT))),
                                    deadline_hours=float(hours))
    return effective, view


def keep_tier(settings, schedule, days: DailyVolumes, source: str, now: float,
              cost: D) -> typing.Tuple[typing.Any, TierView]:
    """The effective settings that keep the current fee level on the UTC day of `now`."""
    today = utc_day(now)
    window = days.window(today)
    volume_30d = sum(window, ZERO)
    current = fee_tiers.current_level(schedule, volume_30d)
    levels = sorted(schedule.levels, key=lambda level: level.threshold)
    below = [level for level in levels if level.threshold < current.threshold]
    daily = fee_tiers.keep_daily_volume(schedule, volume_30d, settings.own_monthly_volume, daily_volumes=window,
                                        margin=settings.tier_margin_percent / HUNDRED)
    view = TierView(
        target_mode=settings.target_mode, exchange=schedule.exchange, current_level=current.name,
        next_level=None, threshold=D(current.threshold), volume_30d=volume_30d, volume_source=source,
        volume_currency=schedule.volume_currency, day=today, daily_volume=daily, cost_per_volume=cost,
    )
    if not below:
        return settings, dataclasses.replace(view, daily_volume=ZERO, waiting=(
            f"the account is at the first fee level {current.name}: no level to keep (target_mode keep_fee_tier)"))
    # keeping the level for 30 days, against falling to the level below
    verdict = fee_tiers.break_even(daily * WINDOW_DAYS, cost, settings.own_monthly_volume, below[-1], current)
    view = _verdict(settings, dataclasses.replace(view, expected_cost=verdict.expected_cost,
                                                  monthly_saving=verdict.monthly_saving))
    cap = max(daily, D(str(vb_settings.MIN_QUOTE_AMOUNT)))
    if not daily:
        view = dataclasses.replace(view, waiting=f"the 30-day volume stays above {current.name} today without trading")
    return dataclasses.replace(settings, daily_volume_cap=cap), view


def _verdict(settings, view: TierView) -> TierView:
    # as the calculator judges it: the saving must exceed the cost
    pays_off = view.monthly_saving > view.expected_cost
    view = dataclasses.replace(view, pays_off=pays_off)
    if not pays_off and settings.skip_unprofitable_tier:
        return dataclasses.replace(view, waiting=(
            f"skipping the fee level: its volume costs {_amount(view.expected_cost)} {view.volume_currency}, not "
            f"less than the {_amount(view.monthly_saving)} it saves in 30 days (skip_unprofitable_tier)"))
    return view



class TierAim:
    """The fee level one run aims at: built once the account's 30-day volume is known, then asked at each step for
    the settings to trade with. The target of `next_fee_tier` is set when the aim is built (on top of the volume
    already done); `keep_fee_tier` computes each UTC day's volume when the day starts. The break-even is judged
    then too, at the cost per volume measured so far."""

    def __init__(self, settings, schedule, volume_30d: D, source: str, daily_volumes: typing.Optional[dict],
                 started_at: float, volume_done: D = ZERO, now: typing.Optional[float] = None):
        """`started_at`: the run's start (a deadline counts from it); `now`: when the 30-day volume was read."""
        self.settings = settings
        self.schedule = schedule
        self.source = source
        self.volume_30d = D(volume_30d)
        self.started_at = started_at
        self.volume_done = volume_done
        self.days = DailyVolumes(started_at if now is None else now, self.volume_30d, daily_volumes)
        self.effective = None
        self.view: typing.Optional[TierView] = None
        self._day = None

    def update(self, now: float, cost: D, mode_day_volume: typing.Callable[[int], D], volume: D) -> TierView:
        """The view at `now` (recomputed when a UTC day starts); `mode_day_volume(day)`: this mode's volume that
        day, added to the account's days as they pass; `volume`: this mode's volume so far."""
        today = utc_day(now)
        if today == self._day:
            return self.view
        if self._day is not None:
            # the days gone by: this mode's volume and the user's own (its monthly volume spread evenly)
            own_daily = self.settings.own_monthly_volume / WINDOW_DAYS
            for day in range(self._day, today):
                self.days.record(day, mode_day_volume(day) + own_daily)
        first = self._day is None
        self._day = today
        if self.settings.target_mode == vb_settings.KEEP_FEE_TIER:
            self.effective, self.view = keep_tier(self.settings, self.schedule, self.days, self.source, now, cost)
        elif first:
            effective, self.view = next_tier(self.settings, self.schedule, self.volume_30d, self.source, now,
                                             self.started_at, cost, self.days.window(today))
            self.effective = dataclasses.replace(effective, volume_target=effective.volume_target + self.volume_done)
        elif self.view.expected_cost is None:
            # no level to aim at (the top one): still nothing to trade
            pass
        else:
            # the target stays; the verdict is judged again at the cost measured so far
            left = max(self.effective.volume_target - volume, ZERO)
            self.view = _verdict(self.settings, dataclasses.replace(self.view, expected_cost=left * cost,
                                                                   cost_per_volume=cost, waiting=None))
        return self.view
