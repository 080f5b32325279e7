"""What the mode publishes about itself: a read-only view of its state, and a record of each step (what it saw
and decided, and what carrying the decisions out did). Listeners of the consumer receive the records."""
import dataclasses
import typing

from . import planner as vb_planner


@dataclasses.dataclass(frozen=True)
class BoosterView:
    """A read-only view of the mode's state, for the interface, the reports and the tests."""
    symbol: str
    settings: typing.Any
    settings_error: typing.Optional[str]
    # why the mode does not trade now ("disabled", "target reached", "budget reached: ..."), None while it does
    finished_reason: typing.Optional[str]
    # why its latest step placed nothing, None once an order is placed
    waiting_reason: typing.Optional[str]
    seed: typing.Optional[int]
    started_at: typing.Optional[float]
    allocation: dict
    restored: bool
    failures: dict
    open_order_ids: tuple
    own_order_ids: frozenset
    running: bool
    # steps that placed nothing over the run: the first reason text of each kind -> count
    waiting_summary: dict
    # `auto`: why its latest order rests or takes (None for the other order types)
    execution_choice: typing.Optional[str] = None
    # the fee level aimed at (targeting.TierView), None with a fixed target
    fee_tier: typing.Any = None

    @classmethod
    def of(cls, booster, running: bool) -> "BoosterView":
        executor, books = booster.executor, booster.books
        return cls(
            symbol=booster.symbol, settings=booster.settings, settings_error=booster.settings_error,
            finished_reason=booster.finished_reason,
            waiting_reason=executor.waiting.current if executor is not None else None,
            seed=booster.seed, started_at=booster.started_at, allocation=dict(booster.allocation),
            restored=booster.restored, failures=dict(executor.failures) if executor is not None else {},
            open_order_ids=tuple(books.orders.open_ids) if books is not None else (),
            own_order_ids=frozenset(books.orders.recent_ids) if books is not None else frozenset(),
            running=running, waiting_summary=executor.waiting.summary() if executor is not None else {},
            execution_choice=executor.execution_choice if executor is not None else None,
            fee_tier=booster.fee_tier.view,
        )


@dataclasses.dataclass
class StepRecord:
    """What one step saw and did, as published to the consumer's listeners (each decision before it is carried
    out, the whole step once it is over)."""
    time: float
    market: typing.Optional[vb_planner.MarketSnapshot] = None
    progress: typing.Optional[vb_planner.Progress] = None
    # (decision, outcome) in the order they were carried out
    decisions: list = dataclasses.field(default_factory=list)
