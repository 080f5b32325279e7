"""What the mode says about itself: the status line OctoBot shows, and its log lines for a fill, a start and a
finish. Amounts keep the digits the scale of the target needs. Pure Python."""
import dataclasses
import decimal
import typing

from . import display as vb_display

ZERO = decimal.Decimal(0)


@dataclasses.dataclass(frozen=True)
class Wording:
    """Amounts of one pair, written at the scale of its target."""
    base: str
    quote: str
    target: typing.Optional[decimal.Decimal]

    def quote_amount(self, value) -> str:
        return vb_display.amount(value, vb_display.quote_decimals(self.target))

    def fee_amount(self, value) -> str:
        """Fees and costs, three orders of magnitude below the volume, with as many more decimals."""
        return vb_display.amount(value, vb_display.quote_decimals(self.target) + vb_display.FEE_EXTRA_DECIMALS)

    def started(self, resumed: bool, symbol: str, settings, ledger, allocation: dict, seed: int) -> str:
        return (f"Volume Booster {'resumed' if resumed else 'started'} on {symbol}: target {settings.volume_target} "
                f"{self.quote} (done {self.quote_amount(ledger.volume)}), {settings.order_type} orders every "
                f"{settings.min_interval_seconds:g}-{settings.max_interval_seconds:g} s, {settings.side_policy} sides, "
                f"allocation {allocation[self.base]} {self.base} + {allocation[self.quote]} {self.quote} (seed {seed})")

    def restored(self, path: str, ledger) -> str:
        return (f"Restored progress from {path}: volume {self.quote_amount(ledger.volume)} {self.quote}, fees "
                f"{self.fee_amount(ledger.fees)} {self.quote}, {ledger.fills_count} fills")

    def fill(self, fill, ledger) -> str:
        return (f"Fill {fill.side} {fill.amount} {self.base} @ {fill.price} ({self.quote_amount(fill.quote_value)} "
                f"{self.quote}) - volume {self.quote_amount(ledger.volume)}/{ledger.target} {self.quote} "
                f"({ledger.progress_percent:.2f}%)")

    def finish(self, reason: str, symbol: str, ledger) -> str:
        return (f"Volume Booster {reason} on {symbol}: volume {self.quote_amount(ledger.volume)}/{ledger.target} "
                f"{self.quote}, fees {self.fee_amount(ledger.fees)} {self.quote}, orders created "
                f"{ledger.orders_created}, filled {ledger.orders_filled}, cancelled {ledger.orders_cancelled}")

    def status(self, state: str, ledger, price, open_orders: int, failures: int) -> str:
        cost = ledger.net_cost(price) if price else ledger.fees
        cost_bps = cost / ledger.volume * 10000 if ledger.volume else ZERO
        return (
            f"{state}: volume {self.quote_amount(ledger.volume)}/{ledger.target} {self.quote} "
            f"({ledger.progress_percent:.1f}%), fees {self.fee_amount(ledger.fees)} {self.quote}, cost so far "
            f"{self.fee_amount(cost)} {self.quote} ({cost_bps:.1f} bps), "
            f"{ledger.fills_count} fills, {open_orders} open orders"
            + (f", {failures} exchange failures" if failures else "")
        )
