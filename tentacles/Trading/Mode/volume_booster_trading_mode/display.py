"""How amounts are written in logs and the status line: quote values with as many decimals as the
scale of the run's target needs (2 for a 50,000 USDT target, 6 for a 2 BTC one), so runs quoted in a
small-unit currency never print 0.00. Pure Python."""
import decimal

SIGNIFICANT_DIGITS = 6
MIN_DECIMALS = 2
MAX_DECIMALS = 10
# fees and costs (about a thousandth of the volume) keep their significant digits with this many more decimals
FEE_EXTRA_DECIMALS = 4


def quote_decimals(scale: decimal.Decimal) -> int:
    """Decimals that show `scale` (e.g. the volume target) with SIGNIFICANT_DIGITS digits."""
    if not scale or scale <= 0:
        return 8
    exponent = scale.adjusted()  # floor(log10(scale))
    return max(MIN_DECIMALS, min(MAX_DECIMALS, SIGNIFICANT_DIGITS - 1 - exponent))


def amount(value: decimal.Decimal, decimals: int) -> str:
    return f"{value:.{decimals}f}"
