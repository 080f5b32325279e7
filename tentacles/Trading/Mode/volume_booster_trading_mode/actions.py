"""What one step of the mode decides, as typed actions the executor carries out. Pure Python.

A Decision lists cancels first, then at most one final action: a Place, a Wait or a Stop. With `replan`,
the step decides again on a fresh market view once its cancels are done (within the same step).
"""
import dataclasses
import decimal
import typing

BUY = "buy"
SELL = "sell"
SIDES = (BUY, SELL)


def opposite(side: str) -> str:
    return SELL if side == BUY else BUY


@dataclasses.dataclass(frozen=True)
class Place:
    side: str
    quote_amount: decimal.Decimal
    price: decimal.Decimal
    # resting (limit) or taking (market)
    resting: bool
    # post-only at the exchange (the maker style)
    post_only: bool = False
    # the last order's size before it was raised to the exchange minimum (None: not raised)
    raised_from: typing.Optional[decimal.Decimal] = None
    # why `auto` rests or takes this order (None for the other order types)
    choice: typing.Optional[str] = None

    @property
    def quantity(self) -> decimal.Decimal:
        return self.quote_amount / self.price


@dataclasses.dataclass(frozen=True)
class Cancel:
    order_id: str
    reason: str
    # the order had its chance and did not fill (timed out, or the market moved away): not a withdrawal
    missed: bool = False


@dataclasses.dataclass(frozen=True)
class Wait:
    """No order this step; `reason` says what blocks it (and which setting to change when one does). With
    `withdraw`, the mode's own open orders are cancelled (not trading: disabled or invalid settings)."""
    reason: str
    withdraw: bool = False


@dataclasses.dataclass(frozen=True)
class Stop:
    """The run ends: its open orders are cancelled and, with `flatten`, the inventory is brought back."""
    reason: str
    flatten: bool = False


class Decision(typing.NamedTuple):
    cancels: tuple = ()
    final: typing.Union[Place, Wait, Stop, None] = None
    # decide again on a fresh view once the cancels are done
    replan: bool = False

    @property
    def actions(self) -> tuple:
        return self.cancels + ((self.final,) if self.final is not None else ())

    def then(self, other: "Decision") -> "Decision":
        """This decision's cancels, followed by the other decision."""
        return Decision(self.cancels + other.cancels, other.final, other.replan)
