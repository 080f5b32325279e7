"""How figures are written in the command line's reports: durations, quote amounts at the pair's precision,
optional values."""
import math

from volume_booster import datafile


def duration(seconds) -> str:
    if seconds is None:
        return "-"
    seconds = int(round(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours:02d}h{minutes:02d}m"
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s"


MIN_QUOTE_DECIMALS = 2
MAX_QUOTE_DECIMALS = 8
# without the data file: decimals that show the target with this many significant digits
TARGET_SIGNIFICANT_DIGITS = 6


def amount(value: float, decimals: int = MIN_QUOTE_DECIMALS) -> str:
    """A quote amount with a fixed number of decimals (never in exponent notation)."""
    return f"{value:,.{decimals}f}"


def quote_decimals(price_decimals: int) -> int:
    """Decimals of quote amounts: those of the pair's prices (2 on BTC/USDT, 8 on ADA/BTC), at least 2."""
    return max(MIN_QUOTE_DECIMALS, min(MAX_QUOTE_DECIMALS, price_decimals))


def result_quote_decimals(result) -> int:
    """Decimals of the quote amounts of a result: from the data file's prices, else from the target's scale."""
    try:
        return quote_decimals(datafile.read_info(result.data).price_decimals)
    except (datafile.DataFileError, OSError):
        if not result.target or result.target <= 0:
            return MAX_QUOTE_DECIMALS
        return quote_decimals(TARGET_SIGNIFICANT_DIGITS - 1 - math.floor(math.log10(result.target)))


def optional(value, spec: str, missing: str = "-") -> str:
    """`value` formatted with `spec`; `missing` (right-aligned to the spec's width) when there is none."""
    if value is None:
        width = "".join(char for char in spec.split(".")[0] if char.isdigit())
        return format(missing, f">{width}") if width else missing
    return format(value, spec)


def percent(value: float) -> str:
    return f"{value:g}%"


def hours_or_minutes(seconds) -> str:
    """A duration in minutes below two hours, else in hours."""
    if seconds is None:
        return "-"
    minutes = seconds / 60
    if minutes < 120:
        return f"{minutes:.0f}m"
    return f"{minutes / 60:.1f}h"


def optional_amount(value, decimals: int) -> str:
    """A quote amount with the pair's quote decimals (never in exponent notation, never 0.00 BTC)."""
    return "-" if value is None else amount(value, decimals)
