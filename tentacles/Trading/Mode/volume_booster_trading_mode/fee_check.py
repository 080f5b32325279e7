"""Fee rates the exchange reports for the pair, checked against the rates of the mode's actual fills.

Some exchange libraries have shipped an exchange's maker and taker rates swapped: the mode plans and budgets with
the reported rates, so a fill charged at another rate is said once per kind (maker, taker) of mismatch, naming
both rates. Pure functions and a small tracker, no OctoBot import.
"""
import decimal
import statistics
import typing

D = decimal.Decimal
MAKER, TAKER = "maker", "taker"
# fills of each kind checked one by one at first, then one in every CHECK_EVERY
FIRST_CHECKED_FILLS = 5
CHECK_EVERY = 50
# the latest fill rates of each kind the check looks at (their median)
KEPT_RATES = 20
# a rate matches when within this share of the reported one, or within the absolute margin (fee rounding)
RELATIVE_TOLERANCE = D("0.05")
ABSOLUTE_TOLERANCE = D("0.000002")


def fill_fee_rate(fee_cost, fee_currency: typing.Optional[str], amount: D, quote_value: D, base: str,
                  quote: str) -> typing.Optional[D]:
    """The rate one fill was charged: its fee over what it traded, in the fee's currency. None when the fee is in
    another currency (e.g. BNB), which the mode cannot value, or when nothing was traded."""
    cost = D(str(fee_cost or 0))
    if fee_currency == quote and quote_value > 0:
        return cost / quote_value
    if fee_currency == base and amount > 0:
        return cost / amount
    if not fee_currency and cost == 0 and quote_value > 0:
        return D(0)  # no fee charged at all
    return None


def matches(rate: D, reported: D) -> bool:
    return abs(rate - reported) <= max(abs(reported) * RELATIVE_TOLERANCE, ABSOLUTE_TOLERANCE)


def mismatch_line(kind: str, actual: D, reported_maker: D, reported_taker: D) -> typing.Optional[str]:
    """One warning line when the `kind` fills' rate `actual` is not the reported rate of that kind; None when
    it is."""
    reported = reported_maker if kind == MAKER else reported_taker
    if matches(actual, reported):
        return None
    other_kind, other = (TAKER, reported_taker) if kind == MAKER else (MAKER, reported_maker)
    line = (f"Fee check: {kind} fills were charged {_percent(actual)} but the exchange reports a {kind} fee of "
            f"{_percent(reported)} ({other_kind} {_percent(other)}) for this pair")
    if not matches(reported_maker, reported_taker) and matches(actual, other):
        line += ": maker and taker may be swapped"
    return line + ". Budgets and cost estimates use the reported fees."


class FeeCheck:
    """Fill rates by kind; checked over the first fills of each kind, then periodically; each kind of mismatch
    said once."""

    def __init__(self):
        self.rates = {MAKER: [], TAKER: []}
        self.counts = {MAKER: 0, TAKER: 0}
        self.said = set()
        self.unvalued_currencies = set()

    def unvalued(self, fee_currency: typing.Optional[str]) -> typing.Optional[str]:
        """A fill whose fee the check cannot value: the line to say it, once per currency."""
        if fee_currency in self.unvalued_currencies:
            return None
        self.unvalued_currencies.add(fee_currency)
        return (f"Fee check: fees paid in {fee_currency} are not checked against the reported rates (the mode "
                f"cannot value {fee_currency})")

    def observe(self, is_maker: bool, rate: D, reported_maker: D, reported_taker: D) -> typing.Optional[str]:
        """Note one fill charged `rate`; the warning line when it is time to check and its kind's rate does not
        match the reported one (each kind said once)."""
        kind = MAKER if is_maker else TAKER
        rates = self.rates[kind]
        rates.append(rate)
        del rates[:-KEPT_RATES]
        self.counts[kind] += 1
        count = self.counts[kind]
        if kind in self.said or not (count <= FIRST_CHECKED_FILLS or count % CHECK_EVERY == 0):
            return None
        line = mismatch_line(kind, statistics.median(rates), reported_maker, reported_taker)
        if line is not None:
            self.said.add(kind)
        return line


def _percent(rate: D) -> str:
    return f"{(rate * 100).normalize():f} %"
