"""Volume Booster settings: one table of every setting (type, default, bounds, title, group) and a
validator that turns raw user-input values into a typed, checked :class:`Settings`.

The table is the single source of the bounds: the trading mode declares its OctoBot user inputs
from it (min_val / max_val / options) and :func:`parse_settings` checks values against it, so the
settings page and the validator can never disagree. Pure Python, no OctoBot import.
"""
import dataclasses
import decimal
import math
import typing

BOOLEAN = "boolean"
INT = "int"
# a number kept as a float (durations), and one kept as decimal.Decimal (amounts, prices, percentages)
FLOAT = "float"
DECIMAL = "decimal"
NUMBER_KINDS = (INT, FLOAT, DECIMAL)
OPTIONS = "options"
# free text (checked by the module that reads it)
TEXT = "text"

MARKET = "market"
LIMIT = "limit"
MAKER = "maker"
AUTO = "auto"
ORDER_TYPES = (AUTO, MAKER, LIMIT, MARKET)
# order types whose orders may rest on the book (auto chooses per order)
RESTING_ORDER_TYPES = (AUTO, MAKER, LIMIT)
# order types resting at the best price, post-only
BEST_PRICE_ORDER_TYPES = (AUTO, MAKER)

BALANCED = "balanced"
RANDOM = "random"
ALTERNATING = "alternating"
SIDE_POLICIES = (BALANCED, RANDOM, ALTERNATING)

FIXED = "fixed"
NEXT_FEE_TIER = "next_fee_tier"
KEEP_FEE_TIER = "keep_fee_tier"
TARGET_MODES = (FIXED, NEXT_FEE_TIER, KEEP_FEE_TIER)
FEE_TIER_MODES = (NEXT_FEE_TIER, KEEP_FEE_TIER)

GROUP_TARGET = "Target and pacing"
GROUP_ORDERS = "Orders"
GROUP_AMOUNTS = "Amounts"
GROUP_SAFETY = "Safety"
GROUP_FEE_TIER = "Fee tier"
GROUPS = (GROUP_TARGET, GROUP_ORDERS, GROUP_AMOUNTS, GROUP_SAFETY, GROUP_FEE_TIER)
# config key of each group: the settings page stores a group's settings in a nested object
GROUP_KEYS = {
    GROUP_TARGET: "target_and_pacing",
    GROUP_ORDERS: "orders",
    GROUP_AMOUNTS: "amounts",
    GROUP_SAFETY: "safety",
    GROUP_FEE_TIER: "fee_tier",
}

# smallest positive amount of any quote currency that we accept (1 satoshi)
MIN_QUOTE_AMOUNT = 1e-8
MAX_QUOTE_AMOUNT = 1e12
MAX_INTERVAL_SECONDS = 7 * 24 * 3600


@dataclasses.dataclass(frozen=True)
class SettingSpec:
    name: str
    kind: str
    default: typing.Any
    title: str
    group: str
    min_val: typing.Optional[float] = None
    max_val: typing.Optional[float] = None
    options: tuple = ()
    # (other setting name, values of it for which this setting is relevant)
    shown_when: typing.Optional[tuple] = None

    def allowed_range(self) -> str:
        if self.kind == BOOLEAN:
            return "true or false"
        if self.kind == OPTIONS:
            return "one of " + ", ".join(repr(option) for option in self.options)
        if self.kind == TEXT:
            return "a text"
        kind = "a whole number" if self.kind == INT else "a number"
        return f"{kind} from {_fmt(self.min_val)} to {_fmt(self.max_val)}"


SPECS: tuple = (
    SettingSpec("enabled", BOOLEAN, True, "Enabled: place orders (off cancels this mode's open orders)",
                GROUP_TARGET),
    SettingSpec("volume_target", DECIMAL, 50000.0, "Volume target (quote currency, e.g. USDT)", GROUP_TARGET,
                MIN_QUOTE_AMOUNT, MAX_QUOTE_AMOUNT),
    SettingSpec("deadline_hours", FLOAT, 0.0,
                "Reach the target within (hours from start; 0: no deadline, go at the interval pace)",
                GROUP_TARGET, 0.0, 24 * 366),
    SettingSpec("daily_volume_cap", DECIMAL, 0.0, "Daily volume cap (quote currency per UTC day; 0: no cap)",
                GROUP_TARGET, 0.0, MAX_QUOTE_AMOUNT),
    SettingSpec("min_interval_seconds", FLOAT, 2.0, "Minimum delay between two orders (seconds)", GROUP_TARGET,
                0.1, MAX_INTERVAL_SECONDS),
    SettingSpec("max_interval_seconds", FLOAT, 8.0,
                "Maximum delay between two orders (seconds; with a deadline, the pace may be slower)",
                GROUP_TARGET, 0.1, MAX_INTERVAL_SECONDS),
    SettingSpec("order_type", OPTIONS, AUTO,
                "Order type: auto (per order, the cheaper of resting at the best price and taking), maker "
                "(rests at the best price), limit (offset from the price) or market (taker)", GROUP_ORDERS,
                options=ORDER_TYPES),
    SettingSpec("price_offset_percent", DECIMAL, 0.2,
                "Limit price offset (%): buys below, sells above the current price", GROUP_ORDERS,
                0.0, 10.0, shown_when=("order_type", (LIMIT,))),
    SettingSpec("maker_offset_percent", DECIMAL, 0.02,
                "Maker price offset (%) from the mark price when no order book is available", GROUP_ORDERS,
                0.0, 1.0, shown_when=("order_type", BEST_PRICE_ORDER_TYPES)),
    SettingSpec("reprice_percent", DECIMAL, 0.1,
                "Reprice a resting maker order when the market moved away by more than (%)", GROUP_ORDERS,
                0.01, 10.0, shown_when=("order_type", BEST_PRICE_ORDER_TYPES)),
    SettingSpec("markout_seconds", FLOAT, 60.0,
                "Markout delay: adverse selection is the price move this long after a resting fill (seconds; auto)",
                GROUP_ORDERS, 1.0, 3600.0, shown_when=("order_type", (AUTO,))),
    SettingSpec("adverse_selection_prior_bps", DECIMAL, 5.0,
                "Adverse selection assumed until resting fills are measured (bps; auto)",
                GROUP_ORDERS, 0.0, 1000.0, shown_when=("order_type", (AUTO,))),
    SettingSpec("limit_order_timeout_seconds", FLOAT, 120.0,
                "Cancel an unfilled resting order after (seconds)", GROUP_ORDERS,
                1.0, MAX_INTERVAL_SECONDS, shown_when=("order_type", RESTING_ORDER_TYPES)),
    SettingSpec("max_open_orders", INT, 10, "Maximum open orders of this mode at once", GROUP_ORDERS,
                1, 500, shown_when=("order_type", RESTING_ORDER_TYPES)),
    SettingSpec("side_policy", OPTIONS, BALANCED,
                "Order side: balanced (keeps the inventory inside the band), random (coin flip) or "
                "alternating", GROUP_ORDERS, options=SIDE_POLICIES),
    SettingSpec("inventory_band_pp", DECIMAL, 5.0,
                "Inventory band (percentage points of the pair's value held in base, around the start share)",
                GROUP_ORDERS, 0.5, 50.0, shown_when=("side_policy", (BALANCED,))),
    SettingSpec("gate_stp_group", BOOLEAN, False,
                "Gate: the account joined a self-trade prevention group (sends stp_act)", GROUP_ORDERS),
    SettingSpec("min_buy_amount", DECIMAL, 25.0, "Minimum buy order size (quote currency)", GROUP_AMOUNTS,
                MIN_QUOTE_AMOUNT, MAX_QUOTE_AMOUNT),
    SettingSpec("max_buy_amount", DECIMAL, 150.0, "Maximum buy order size (quote currency)", GROUP_AMOUNTS,
                MIN_QUOTE_AMOUNT, MAX_QUOTE_AMOUNT),
    SettingSpec("min_sell_amount", DECIMAL, 25.0, "Minimum sell order size (quote currency)", GROUP_AMOUNTS,
                MIN_QUOTE_AMOUNT, MAX_QUOTE_AMOUNT),
    SettingSpec("max_sell_amount", DECIMAL, 150.0, "Maximum sell order size (quote currency)", GROUP_AMOUNTS,
                MIN_QUOTE_AMOUNT, MAX_QUOTE_AMOUNT),
    SettingSpec("max_cost", DECIMAL, 0.0,
                "Budget: stop before fees plus trading loss versus holding exceed (quote currency; 0: no budget)",
                GROUP_SAFETY, 0.0, MAX_QUOTE_AMOUNT),
    SettingSpec("reserve_percent", DECIMAL, 0.0,
                "Reserve (%) of each starting balance this mode never trades", GROUP_SAFETY, 0.0, 95.0),
    SettingSpec("random_seed", INT, 0, "Random seed (0: different every run; other: reproducible runs)",
                GROUP_SAFETY, 0, 2 ** 31 - 1),
    SettingSpec("target_mode", OPTIONS, FIXED,
                "Target mode: fixed (the volume target), next_fee_tier (the volume that reaches the next fee "
                "level) or keep_fee_tier (a daily volume that keeps the current level)", GROUP_FEE_TIER,
                options=TARGET_MODES),
    SettingSpec("volume_30d", DECIMAL, 0.0,
                "Account's 30-day volume (in the fee table's currency; used in paper trading and backtests, or "
                "when the exchange does not report it)", GROUP_FEE_TIER, 0.0, MAX_QUOTE_AMOUNT,
                shown_when=("target_mode", FEE_TIER_MODES)),
    SettingSpec("own_monthly_volume", DECIMAL, 0.0,
                "Your own monthly volume outside this mode (in the fee table's currency; for the break-even)",
                GROUP_FEE_TIER, 0.0, MAX_QUOTE_AMOUNT, shown_when=("target_mode", FEE_TIER_MODES)),
    SettingSpec("skip_unprofitable_tier", BOOLEAN, True,
                "Skip a fee level whose volume costs more than it saves in 30 days", GROUP_FEE_TIER,
                shown_when=("target_mode", FEE_TIER_MODES)),
    SettingSpec("tier_margin_percent", DECIMAL, 2.0,
                "Fee level margin (%): volume traded above the threshold, in case of rounding or late fills",
                GROUP_FEE_TIER, 0.0, 100.0, shown_when=("target_mode", FEE_TIER_MODES)),
    SettingSpec("fee_tier_levels", TEXT, "",
                "Fee levels to use instead of the built-in table (empty: the exchange's table)", GROUP_FEE_TIER,
                shown_when=("target_mode", FEE_TIER_MODES)),
)
SPEC_BY_NAME = {spec.name: spec for spec in SPECS}

# (lower setting, upper setting): lower must not exceed upper
ORDERED_PAIRS = (
    ("min_interval_seconds", "max_interval_seconds"),
    ("min_buy_amount", "max_buy_amount"),
    ("min_sell_amount", "max_sell_amount"),
)


class SettingsError(ValueError):
    """An invalid setting: names the setting and its allowed range."""

    def __init__(self, setting: str, message: str):
        super().__init__(f"Invalid Volume Booster setting '{setting}': {message}")
        self.setting = setting


PYTHON_TYPES = {BOOLEAN: bool, INT: int, FLOAT: float, DECIMAL: decimal.Decimal, OPTIONS: str, TEXT: str}


class _SettingsViews:
    """What the typed settings derive from their values."""

    @property
    def uses_limit_orders(self) -> bool:
        """True when orders may rest on the book (limit, maker, and auto when it chooses to)."""
        return self.order_type in RESTING_ORDER_TYPES

    @property
    def always_rests(self) -> bool:
        """True when every order rests on the book (limit and maker)."""
        return self.order_type in (MAKER, LIMIT)

    @property
    def max_order_amount(self) -> decimal.Decimal:
        return max(self.max_buy_amount, self.max_sell_amount)

    def amount_range(self, side: str) -> tuple:
        if side == "buy":
            return self.min_buy_amount, self.max_buy_amount
        return self.min_sell_amount, self.max_sell_amount


# the typed, checked settings: one field per row of SPECS, of the Python type its kind declares
Settings = dataclasses.make_dataclass(
    "Settings", [(spec.name, PYTHON_TYPES[spec.kind]) for spec in SPECS], bases=(_SettingsViews,), frozen=True,
)


def default_values() -> dict:
    return {spec.name: spec.default for spec in SPECS}


def flatten(raw: dict) -> dict:
    """Settings from a config that holds them grouped (as the settings page saves them) and/or flat (as a
    profile or a command-line override may write them); a flat value wins over a grouped one."""
    flat = {}
    for spec in SPECS:
        group = raw.get(GROUP_KEYS[spec.group])
        if isinstance(group, dict) and spec.name in group:
            flat[spec.name] = group[spec.name]
        if spec.name in raw:
            flat[spec.name] = raw[spec.name]
    return flat


def nest(flat: dict) -> dict:
    """The grouped layout of flat settings."""
    grouped = {key: {} for key in GROUP_KEYS.values()}
    for spec in SPECS:
        if spec.name in flat:
            grouped[GROUP_KEYS[spec.group]][spec.name] = flat[spec.name]
    return grouped


def parse_settings(raw: dict) -> Settings:
    """Validate raw values, grouped or flat (missing ones take their default), and return typed settings.

    Raises SettingsError naming the first invalid setting and its allowed range.
    """
    raw = flatten(raw)
    values = {}
    for spec in SPECS:
        values[spec.name] = _parse_value(spec, raw.get(spec.name, spec.default))
    for lower, upper in ORDERED_PAIRS:
        if values[lower] > values[upper]:
            raise SettingsError(
                lower, f"{_fmt(values[lower])} is above {upper} ({_fmt(values[upper])}); "
                       f"it must be at most {upper}"
            )
    for spec in SPECS:
        if spec.kind == DECIMAL:
            values[spec.name] = decimal.Decimal(str(values[spec.name]))
    return Settings(**values)


def _parse_value(spec: SettingSpec, value):
    if spec.kind == BOOLEAN:
        if isinstance(value, bool):
            return value
        raise SettingsError(spec.name, f"{value!r} is not {spec.allowed_range()}")
    if spec.kind == OPTIONS:
        if isinstance(value, str) and value in spec.options:
            return value
        raise SettingsError(spec.name, f"{value!r} is not {spec.allowed_range()}")
    if spec.kind == TEXT:
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        raise SettingsError(spec.name, f"{value!r} is not {spec.allowed_range()}")
    number = _to_number(spec, value)
    if number < spec.min_val or number > spec.max_val:
        raise SettingsError(spec.name, f"{_fmt(number)} is out of range: must be {spec.allowed_range()}")
    return number


def _to_number(spec: SettingSpec, value):
    if isinstance(value, bool) or value is None:
        raise SettingsError(spec.name, f"{value!r} is not {spec.allowed_range()}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SettingsError(spec.name, f"{value!r} is not {spec.allowed_range()}") from None
    if not math.isfinite(number):
        raise SettingsError(spec.name, f"{value!r} is not {spec.allowed_range()}")
    if spec.kind == INT:
        if number != int(number):
            raise SettingsError(spec.name, f"{value!r} is not {spec.allowed_range()}")
        return int(number)
    return number


def _fmt(number) -> str:
    if number is None:
        return "-"
    if isinstance(number, float) and number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return f"{number:g}" if isinstance(number, float) else str(number)
