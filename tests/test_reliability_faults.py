"""Reliability in OctoBot's real backtesting engine: seeded random exchange faults on the mode's calls over
10 days of real 1m data (ADA/BTC). No crash, every fault counted under its kind, no duplicate after a create
that failed but was executed, fills during a cancel counted once, accounting equal to the engine's trades."""
import asyncio
import collections
import random

import pytest

import octobot_trading.errors as trading_errors
import octobot_trading.modes as trading_modes
import octobot_trading.personal_data as trading_personal_data

from tests import reliability_run as rr
from tests.mode_observers import EngineRecorder

ZERO = rr.ZERO


class FaultInjector:
    """Seeded random OctoBot / network errors on the mode's exchange calls (market data, create, cancel),
    including a create that really creates the order and then fails, and orders that fill while being
    cancelled."""

    # (name, probability weight, kind the mode should count it as)
    FETCH_FAULTS = (
        ("network", 3, "network"),
        ("timeout", 2, "network"),
        ("rate_limit", 2, "rate_limit"),
    )
    CREATE_FAULTS = (
        ("network", 2, "network"),
        ("timeout", 1, "network"),
        ("rate_limit", 2, "rate_limit"),
        ("rejected", 1, "rejected"),
        ("untradable", 1, "rejected"),
        ("missing_funds", 2, "missing_funds"),
        ("below_minimum", 1, "below_minimum"),
        ("created_then_network", 3, "network"),
        ("created_then_timeout", 1, "network"),
    )
    CANCEL_FAULTS = (
        ("network", 2, "network"),
        ("timeout", 1, "network"),
        ("rate_limit", 1, "rate_limit"),
        ("rejected", 1, "rejected"),
        ("filled_then_error", 3, "already_closed"),
        ("filled_then_cancel", 2, None),  # the order fills, then the real cancel is asked for: no error
    )

    def __init__(self, patcher, seed, fetch_rate, create_rate, cancel_rate):
        self.rng = random.Random(seed)
        self.rates = {"fetch": fetch_rate, "create": create_rate, "cancel": cancel_rate}
        self.injected = collections.Counter()  # "call:name"
        self.expected_failures = collections.Counter()  # "call:kind" as the mode should count them
        self.calls = collections.Counter()
        self.ambiguous_created = {}  # order id -> order: created although the call raised
        self.filled_while_cancelling = set()
        self.enabled = True
        injector = self
        original_pre_order_data = trading_personal_data.get_pre_order_data
        original_create = trading_modes.AbstractTradingMode.create_order
        original_cancel = trading_modes.AbstractTradingMode.cancel_order

        async def get_pre_order_data(exchange_manager, *args, **kwargs):
            fault = injector._draw("fetch", injector.FETCH_FAULTS)
            if fault is not None:
                raise injector._error(fault)
            return await original_pre_order_data(exchange_manager, *args, **kwargs)

        async def create_order(mode, order, *args, **kwargs):
            fault = injector._draw("create", injector.CREATE_FAULTS)
            if fault is None:
                return await original_create(mode, order, *args, **kwargs)
            if fault.startswith("created_then_"):
                created = await original_create(mode, order, *args, **kwargs)
                if created is not None:
                    injector.ambiguous_created[created.order_id] = created
                raise injector._error(fault[len("created_then_"):])
            raise injector._error(fault)

        async def cancel_order(mode, order, *args, **kwargs):
            fault = injector._draw("cancel", injector.CANCEL_FAULTS)
            if fault is None:
                return await original_cancel(mode, order, *args, **kwargs)
            if fault.startswith("filled_then_"):
                if order.is_open():
                    # the exchange fills it while the cancel request travels
                    await order.on_fill(force_fill=True)
                    injector.filled_while_cancelling.add(order.order_id)
                if fault == "filled_then_error":
                    raise trading_errors.FilledOrderError(f"injected: order {order.order_id} is already filled")
                return await original_cancel(mode, order, *args, **kwargs)
            raise injector._error(fault)

        patcher.setattr(trading_personal_data, "get_pre_order_data", get_pre_order_data)
        patcher.setattr(trading_modes.AbstractTradingMode, "create_order", create_order)
        patcher.setattr(trading_modes.AbstractTradingMode, "cancel_order", cancel_order)

    def _draw(self, call, faults):
        self.calls[call] += 1
        if not self.enabled or self.rng.random() >= self.rates[call]:
            return None
        names = [name for name, _, _ in faults]
        weights = [weight for _, weight, _ in faults]
        name = self.rng.choices(names, weights)[0]
        kind = next(kind for fault_name, _, kind in faults if fault_name == name)
        self.injected[f"{call}:{name}"] += 1
        if kind is not None:
            self.expected_failures[f"{call}:{kind}"] += 1
        return name

    @staticmethod
    def _error(name):
        if name == "network":
            return trading_errors.NetworkError("injected: connection reset by peer")
        if name == "timeout":
            return asyncio.TimeoutError()
        if name == "rate_limit":
            return trading_errors.RateLimitExceeded("injected: 429 too many requests")
        if name == "rejected":
            return trading_errors.OrderCreationError("injected: order rejected")
        if name == "untradable":
            return trading_errors.UntradableSymbolError("injected: symbol not tradable now")
        if name == "missing_funds":
            return trading_errors.MissingFunds("injected: insufficient balance")
        if name == "below_minimum":
            return trading_errors.MissingMinimalExchangeTradeVolume("injected: below the minimal volume")
        raise AssertionError(name)


@pytest.fixture(scope="module")
def fault_run(shared_data):
    data_file = shared_data / rr.ADA_BTC_FILE
    with pytest.MonkeyPatch.context() as patcher:
        recorder = EngineRecorder(patcher)
        # layered over the recorder: orders created by a failing call are recorded as really created
        injector = FaultInjector(patcher, seed=20240515, fetch_rate=0.05, create_rate=0.12, cancel_rate=0.12)
        result, final = rr.run(data_file, dict(
            volume_target=10 ** 6, order_type="limit", price_offset_percent=0.1, min_interval_seconds=20,
            max_interval_seconds=60, limit_order_timeout_seconds=300, max_open_orders=10, **rr.BTC_QUOTED,
        ), observer=lambda exchange_manager: recorder.sample_rss())
        recorder.rss_end = final.rss
    return injector, recorder, result, final


def _fault_report(title, fault_run, **extra):
    injector, recorder, result, final = fault_run
    rr.report(title, final.booster, recorder, result, faults=injector.injected,
              calls=dict(injector.calls), ambiguous_creates_that_created=len(injector.ambiguous_created),
              filled_while_cancelling=len(injector.filled_while_cancelling), **extra)


def _known(booster, order_ids) -> set:
    """The ids the mode recognises as its own."""
    return {order_id for order_id in order_ids if booster.books.orders.is_own(order_id)}


def test_faults_cause_no_crash_and_every_kind_is_counted(fault_run):
    injector, recorder, result, final = fault_run
    booster = final.booster
    _fault_report("faults: no crash, every kind counted", fault_run,
                  expected_failures=dict(sorted(injector.expected_failures.items())))
    assert sum(injector.injected.values()) >= 1000
    assert not rr.crashes(booster)
    assert result.simulated_seconds > 9 * 24 * 3600  # the whole file ran
    for call, faults in (("fetch", injector.FETCH_FAULTS), ("create", injector.CREATE_FAULTS),
                         ("cancel", injector.CANCEL_FAULTS)):
        for name, _, _ in faults:
            assert injector.injected[f"{call}:{name}"] > 0, f"{call}:{name} was never injected"
    # every injected failure is counted once under its kind; nothing else failed
    assert dict(booster.view().failures) == dict(injector.expected_failures)
    # the mode kept trading through the faults
    assert booster.ledger.orders_created > 1000 and booster.ledger.fills_count > 500


def test_faults_ambiguous_creates_are_never_duplicated(fault_run):
    injector, recorder, result, final = fault_run
    booster = final.booster
    signatures = collections.Counter(recorder.created.values())
    duplicates = {signature: count for signature, count in signatures.items() if count > 1}
    adopted = _known(booster, injector.ambiguous_created)
    _fault_report("faults: no duplicate after an ambiguous create", fault_run, duplicates=len(duplicates),
                  ambiguous_creates_adopted=len(adopted))
    assert len(injector.ambiguous_created) >= 100
    # no two orders with the same side, quantity, price and creation time (a blind retry would make one)
    assert not duplicates
    # the orders still open when the mode looked for them were adopted
    assert adopted
    # no own order is left open that the mode does not know
    assert set(final.tagged_open) <= rr.open_ids(booster)


def test_faults_orders_filled_while_being_cancelled_count_their_fill_once(fault_run):
    injector, recorder, result, final = fault_run
    booster = final.booster
    _fault_report("faults: fill during cancel", fault_run)
    assert len(injector.filled_while_cancelling) >= 100
    for order_id in injector.filled_while_cancelling:
        trades = recorder.own_trades_by_order.get(order_id)
        assert trades and len(trades) == 1, order_id
        assert booster.ledger.has_counted(str(trades[0].trade_id)), order_id
    assert max(recorder.own_trade_ids.values()) == 1


def test_faults_volume_equals_the_trades_of_the_orders_the_mode_knows(fault_run):
    """Every trade of an order the mode knows is counted exactly once (the orders it lost are the subject of the
    next test)."""
    injector, recorder, result, final = fault_run
    booster = final.booster
    known_trades = [trade for order_id in booster.books.orders.known_ids
                    for trade in recorder.own_trades_by_order.get(order_id, ())]
    volume = sum((trade.total_cost for trade in known_trades), ZERO)
    _fault_report("faults: accounting of known orders", fault_run,
                  known_orders_trades=len(known_trades), known_orders_volume=f"{volume:.10f}")
    assert booster.ledger.fills_count == len(known_trades)
    assert booster.ledger.volume == pytest.approx(volume, rel=1e-12)


def test_faults_ambiguous_creates_are_all_adopted(fault_run):
    injector, recorder, result, final = fault_run
    booster = final.booster
    adopted = _known(booster, injector.ambiguous_created)
    unknown = sorted(set(injector.ambiguous_created) - adopted)
    filled_unknown = [order_id for order_id in unknown if recorder.own_trades_by_order.get(order_id)]
    delays = sorted(recorder.own_trades_by_order[order_id][0].executed_time
                    - injector.ambiguous_created[order_id].creation_time for order_id in filled_unknown)
    adopted_delays = sorted(recorder.own_trades_by_order[order_id][0].executed_time
                            - injector.ambiguous_created[order_id].creation_time
                            for order_id in adopted if recorder.own_trades_by_order.get(order_id))
    untracked = sum((trade.total_cost for order_id in filled_unknown
                     for trade in recorder.own_trades_by_order[order_id]), ZERO)
    _fault_report("faults: every ambiguous create adopted", fault_run, not_adopted=len(unknown),
                  not_adopted_and_filled=len(filled_unknown),
                  fill_delay_of_lost_orders_s=delays and f"min {delays[0]:.0f}, median {delays[len(delays) // 2]:.0f}, "
                                                         f"max {delays[-1]:.0f}",
                  fill_delay_of_adopted_orders_s=adopted_delays and f"min {adopted_delays[0]:.0f}, max "
                                                                   f"{adopted_delays[-1]:.0f}",
                  untracked_volume=f"{untracked:.10f}")
    assert not unknown
    assert _known(booster, recorder.created) == set(recorder.created)


def test_faults_accounting_equals_the_trades_that_happened(fault_run):
    injector, recorder, result, final = fault_run
    booster = final.booster
    ledger = booster.ledger
    still_open = len(rr.open_ids(booster))
    closed = ledger.orders_filled + ledger.orders_cancelled + ledger.orders_expired + ledger.orders_expired_self_trade
    _fault_report("faults: accounting of every trade", fault_run,
                  order_balance=f"created {ledger.orders_created} vs closed {closed} + open {still_open}")
    rr.assert_accounting_exact(booster, recorder)
    assert ledger.orders_created == recorder.created_count
    assert ledger.orders_created == closed + still_open
