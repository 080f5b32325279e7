"""Volume Booster faults: what kind of failure an exchange call met, and how long to back off.

Failures are classified by the exception's class names (OctoBot's trading errors, asyncio and
network errors), so this module needs no OctoBot import. Every kind is counted; the loop goes on.
"""
import dataclasses
import typing

NETWORK = "network"
RATE_LIMIT = "rate_limit"
MISSING_FUNDS = "missing_funds"
BELOW_MINIMUM = "below_minimum"
REJECTED = "rejected"
TRADER_DISABLED = "trader_disabled"
ALREADY_CLOSED = "already_closed"
UNEXPECTED = "unexpected"

# class name -> kind, checked along the exception's class hierarchy (most specific first)
_KINDS = {
    "RateLimitExceeded": RATE_LIMIT,
    "DDoSProtection": RATE_LIMIT,
    "MissingFunds": MISSING_FUNDS,
    "InsufficientFunds": MISSING_FUNDS,
    "MissingMinimalExchangeTradeVolume": BELOW_MINIMUM,
    "TraderDisabledError": TRADER_DISABLED,
    "FilledOrderError": ALREADY_CLOSED,
    "ClosedOrderError": ALREADY_CLOSED,
    "OrderNotFoundOnCancelError": ALREADY_CLOSED,
    "NetworkError": NETWORK,
    "RetriableFailedRequest": NETWORK,
    "UnreachableExchange": NETWORK,
    "RequestTimeout": NETWORK,
    "TimeoutError": NETWORK,
    "ConnectionError": NETWORK,
    "OrderCreationError": REJECTED,
    "InvalidOrder": REJECTED,
    "OrderCancelError": REJECTED,
    "OctoBotExchangeError": REJECTED,
    "ExchangeError": REJECTED,
}
# a failure after which the exchange may still have acted (the order may exist even though the call failed)
AMBIGUOUS = (NETWORK, UNEXPECTED)


def classify(error: BaseException) -> str:
    for klass in type(error).__mro__:
        kind = _KINDS.get(klass.__name__)
        if kind is not None:
            return kind
    return UNEXPECTED


@dataclasses.dataclass
class Backoff:
    """Exponential pause after consecutive failures, reset by a success."""
    base_seconds: float = 2.0
    max_seconds: float = 300.0
    failures: int = 0
    resume_at: float = 0.0

    def failed(self, now: float, kind: str) -> float:
        self.failures += 1
        factor = 4 if kind == RATE_LIMIT else 1
        delay = min(self.max_seconds, self.base_seconds * factor * 2 ** (self.failures - 1))
        self.resume_at = now + delay
        return delay

    def succeeded(self) -> None:
        self.failures = 0
        self.resume_at = 0.0

    def waiting(self, now: float) -> bool:
        return now < self.resume_at


def find_adoptable(attempt: dict, candidates: typing.Iterable[dict], tolerance: float = 1e-6) -> typing.Optional[str]:
    """After an ambiguous create failure: the id of an unknown open order that is the one we tried to create
    (same side, quantity and price, created no earlier than the attempt), so it is adopted, not duplicated.
    `attempt` and each candidate hold side, quantity, price and time."""
    for candidate in candidates:
        if candidate["side"] != attempt["side"] or candidate["time"] + 1 < attempt["time"]:
            continue
        if _close(candidate["quantity"], attempt["quantity"], tolerance) and \
                _close(candidate["price"], attempt["price"], tolerance):
            return candidate["id"]
    return None


def _close(a, b, tolerance) -> bool:
    a, b = float(a), float(b)
    return abs(a - b) <= tolerance * max(abs(a), abs(b), 1e-12)
