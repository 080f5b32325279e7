"""The mode's own orders: which ids are its own (a bounded window of the recent ones plus every open one),
which are open, and which closed recently. Pure Python: an
open order is kept as given (the OctoBot order object, for the gateway), its id is what this module knows.
"""
import collections
import typing

# own order ids kept beyond the open ones: far more than an exchange's record of recent trades holds
IDS_KEPT = 20000
# recently closed own orders (whose OctoBot loggers are dropped while the engine may still create them)
RECENTLY_CLOSED_KEPT = 200


class OwnOrders:
    def __init__(self, ids_kept: typing.Optional[int] = None, closed_kept: typing.Optional[int] = None):
        self._ids_kept = ids_kept or IDS_KEPT
        self._ids = set()
        # the most recent own ids, in creation order (what the state file keeps)
        self._recent = collections.deque(maxlen=self._ids_kept)
        self._open = {}
        self.recently_closed = collections.deque(maxlen=closed_kept or RECENTLY_CLOSED_KEPT)

    def add(self, order_id: str, open_order: typing.Any = None) -> None:
        """An order of the mode: placed, adopted or restored; `open_order` when it is open."""
        if order_id not in self._ids:
            self._ids.add(order_id)
            self._recent.append(order_id)
        if open_order is not None:
            self._open[order_id] = open_order
        if len(self._ids) > 2 * self._ids_kept:
            # bounded memory on endless runs: keep the recent ids and every order still open
            self._ids = set(self._recent) | set(self._open)

    def close(self, order_id: str) -> bool:
        """The order is no longer open (or never was: filled at once); True when it was open."""
        self.recently_closed.append(order_id)
        return self._open.pop(order_id, None) is not None

    def is_own(self, order_id: str) -> bool:
        return order_id in self._ids

    def is_open(self, order_id: str) -> bool:
        return order_id in self._open

    def get(self, order_id: str):
        return self._open.get(order_id)

    @property
    def open_orders(self) -> list:
        return list(self._open.values())

    def iter_open(self):
        """The open orders, not copied: the registry must not change while they are iterated."""
        return iter(self._open.values())

    @property
    def open_ids(self) -> list:
        return list(self._open)

    @property
    def recent_ids(self) -> list:
        """Own ids in creation order, the open ones included (what a state file keeps)."""
        return list(dict.fromkeys([*self._recent, *self._open]))

    @property
    def known_ids(self) -> frozenset:
        """Every id recognised as own now: the recent window, the open ones and the older ones not pruned yet."""
        return frozenset(self._ids)

    def __len__(self) -> int:
        return len(self._open)
