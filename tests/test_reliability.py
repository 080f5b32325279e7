"""Issue 5 - reliability, checked inside OctoBot's real backtesting engine on real exchange data:
restart from the journal, exchange faults, bad settings, stop / disable, long-run memory and accounting.

What the mode did is always compared with what really happened in the engine, recorded independently of
the mode:
- every trade OctoBot adds to its trade history is recorded as it is added (OctoBot itself keeps only the
  last MAX_TRADES_COUNT trades, so its history can't be summed at the end of a long run); the mode's own
  trades are those of orders carrying the mode's order tag;
- every order really created through the trading mode's create_order.
Each test prints its counts (run pytest with -s): faults injected, crashes, orders, volume vs. the sum of
the trades, RSS at start and end.
"""
import asyncio
import collections
import copy
import dataclasses
import decimal
import gc
import inspect
import json
import logging
import os
import pathlib
import random
import re
import subprocess
import sys
import typing

import psutil
import pytest

from volume_booster import simulation

ADA_BTC_FILE = "AbstractExchangeHistoryCollector_1581775117.1713624.data"  # bittrex, 10 days of 1m candles
XRP_BTC_FILE = "AbstractExchangeHistoryCollector_1581775149.6372743.data"  # bittrex, 10 days of 1m candles
BTC_USDT_FILE = "AbstractExchangeHistoryCollector_1586017993.616272.data"  # binance, 502 1m candles (8 h)

D = decimal.Decimal
ZERO = D(0)

_mode_package = simulation.import_mode_module()
vb = _mode_package.volume_booster_trading
VolumeBoosterTradingMode = vb.VolumeBoosterTradingMode
VolumeBoosterConsumer = vb.VolumeBoosterConsumer
VolumeBoosterProducer = vb.VolumeBoosterProducer

import octobot_trading.enums as trading_enums  # noqa: E402
import octobot_trading.errors as trading_errors  # noqa: E402
import octobot_trading.personal_data as trading_personal_data  # noqa: E402

TradesManager = trading_personal_data.TradesManager

# amounts on the BTC-quoted bittrex pairs: the exchange minimum there is 0.001 BTC
BTC_QUOTED = dict(min_buy_amount=0.0012, max_buy_amount=0.003, min_sell_amount=0.0012, max_sell_amount=0.003)


def _rss() -> int:
    return psutil.Process().memory_info().rss


def _mb(value: float) -> str:
    return f"{value / 2 ** 20:.1f} MB"


# ----- independent record of the engine -----
class EngineRecorder:
    """Trades and really created orders, recorded from OctoBot's own code paths (class-level patches)."""

    def __init__(self, patcher, keep_details=True):
        self.keep_details = keep_details
        self.own_trades = 0
        self.own_volume = ZERO  # sum of executed quantity x executed price of the mode's own trades
        self.own_cost = ZERO  # sum of the trades' total cost (what OctoBot reports per trade)
        self.own_fees = ZERO  # in quote: quote fees as they are, base fees at the trade price
        self.own_trade_ids = collections.Counter()
        self.own_trades_by_order = collections.defaultdict(list)
        self.other_trades = 0
        self.created = {}  # order id -> (side, quantity, price, creation time) of orders really created
        self.created_count = 0
        self.rss_start = None
        self.rss_end = None
        original_add = TradesManager._add_trade_if_relevant
        recorder = self

        def add_trade(manager, trade_id, trade):
            added = original_add(manager, trade_id, trade)
            if added:
                recorder._on_trade(trade)
            return added

        original_create = VolumeBoosterTradingMode.create_order

        async def create_order(mode, order, *args, **kwargs):
            created = await original_create(mode, order, *args, **kwargs)
            if created is not None:
                recorder.created_count += 1
                if recorder.keep_details:
                    recorder.created[created.order_id] = (
                        created.side.value, created.origin_quantity, created.origin_price, created.creation_time
                    )
            return created

        patcher.setattr(TradesManager, "_add_trade_if_relevant", add_trade)
        patcher.setattr(VolumeBoosterTradingMode, "create_order", create_order)

    def _on_trade(self, trade):
        if trade.tag != vb.ORDER_TAG or trade.executed_quantity <= 0:
            self.other_trades += 1
            return
        self.own_trades += 1
        self.own_volume += trade.executed_quantity * trade.executed_price
        self.own_cost += trade.total_cost if trade.total_cost else trade.executed_quantity * trade.executed_price
        base, quote = trade.symbol.split("/")
        if trade.fee:
            cost = D(str(trade.fee.get(trading_enums.FeePropertyColumns.COST.value) or 0))
            currency = trade.fee.get(trading_enums.FeePropertyColumns.CURRENCY.value)
            if currency == quote:
                self.own_fees += cost
            elif currency == base:
                self.own_fees += cost * trade.executed_price
        if self.keep_details:
            self.own_trade_ids[str(trade.trade_id)] += 1
            self.own_trades_by_order[str(trade.origin_order_id)].append(trade)

    def sample_rss(self):
        rss = _rss()
        if self.rss_start is None:
            self.rss_start = rss
        self.rss_end = rss
        return rss


class StepRecorder:
    """One record per loop step of the consumer: settings seen, orders before/after, own orders left open."""

    def __init__(self, patcher):
        self.records = []
        original_step = VolumeBoosterConsumer._step
        recorder = self

        async def step(consumer):
            before = {
                "time": consumer.clock.now(),
                "raw": copy.deepcopy(consumer.trading_mode.raw_settings),
                "created": consumer.ledger.orders_created,
            }
            await original_step(consumer)
            recorder.records.append({
                **before,
                "consumer": id(consumer),
                "created_after": consumer.ledger.orders_created,
                "own_open_after": len(consumer._own_open_orders_on_exchange()),
                "tagged_open_after": len(_tagged_open_orders(consumer.exchange_manager, consumer.symbol)),
                "settings_error": consumer.settings_error,
                "finished_reason": consumer.finished_reason,
            })

        patcher.setattr(VolumeBoosterConsumer, "_step", step)


def _tagged_open_orders(exchange_manager, symbol):
    return [order for order in exchange_manager.exchange_personal_data.orders_manager.get_open_orders(symbol=symbol)
            if order.tag == vb.ORDER_TAG]


@dataclasses.dataclass
class FinalState:
    """The engine at the end of the run, taken before OctoBot stops it."""
    trading_mode: typing.Any
    booster: typing.Any
    tagged_open: dict  # order id -> order: open orders carrying the mode's tag
    other_open: dict  # open orders of the symbol without it (manual ones)
    rss: int
    now: float  # simulated time at the end
    engine_trades_kept: int  # trades in OctoBot's own (bounded) trade history


def _run(data_file, overrides, observer=None, seed=7):
    """One backtest; returns (simulation result, final state)."""
    overrides = {"random_seed": seed, **overrides}
    final = []

    def on_finished(exchange_manager):
        trading_mode = exchange_manager.trading_modes[0]
        booster = trading_mode.get_booster()
        booster.collect_fills()
        open_orders = exchange_manager.exchange_personal_data.orders_manager.get_open_orders(symbol=booster.symbol)
        final.append(FinalState(
            trading_mode=trading_mode, booster=booster,
            tagged_open={order.order_id: order for order in open_orders if order.tag == vb.ORDER_TAG},
            other_open={order.order_id: order for order in open_orders if order.tag != vb.ORDER_TAG},
            rss=_rss(),
            now=exchange_manager.exchange.get_exchange_current_time(),
            engine_trades_kept=len(exchange_manager.exchange_personal_data.trades_manager.trades),
        ))

    options = inspect.signature(simulation.run_simulation).parameters
    kwargs = {"observer": observer}
    with pytest.MonkeyPatch.context() as patcher, simulation.quiet_octobot_logs():
        if "on_finished" in options:
            kwargs["on_finished"] = on_finished
        else:  # older simulation module: its result collection sees the final engine
            original_collect = simulation._collect_result

            def collect_result(exchange_manager, *args, **more):
                on_finished(exchange_manager)
                return original_collect(exchange_manager, *args, **more)

            patcher.setattr(simulation, "_collect_result", collect_result)
        if "timeline" in options:
            kwargs["timeline"] = False
        result = simulation.run(data_file, overrides, **kwargs)
    assert final, "the engine run did not complete"
    return result, final[0]


def _crashes(booster) -> dict:
    return {key: count for key, count in booster.failures.items()
            if key.startswith("step:") or key.endswith(":unexpected")}


def _report(title, booster, recorder, result=None, faults=None, **extra):
    ledger = booster.ledger
    open_orders = len(booster._open_orders)
    lines = [
        f"\n=== {title} ===",
        f"faults injected: {sum(faults.values()) if faults else 0}"
        + (f" {dict(sorted(faults.items()))}" if faults else ""),
        f"failures counted by the mode: {dict(sorted(booster.failures.items()))}",
        f"crashes (step failures / unexpected): {sum(_crashes(booster).values())} {_crashes(booster)}",
        f"orders: created {ledger.orders_created} (engine saw {recorder.created_count} created through the mode), "
        f"filled {ledger.orders_filled}, cancelled {ledger.orders_cancelled}, expired {ledger.orders_expired}"
        f"+{ledger.orders_expired_self_trade}, still open {open_orders}",
        f"volume {ledger.volume:.10f} vs sum of own trades {recorder.own_volume:.10f} "
        f"(total cost {recorder.own_cost:.10f}); fees {ledger.fees:.10f} vs sum of trade fees "
        f"{recorder.own_fees:.10f}; fills {ledger.fills_count} vs own trades {recorder.own_trades}",
        f"RSS start {_mb(recorder.rss_start or 0)}, end {_mb(recorder.rss_end or 0)}, "
        f"growth {_mb((recorder.rss_end or 0) - (recorder.rss_start or 0))}",
    ]
    if result is not None:
        lines.append(f"run: {result.symbol}, {result.simulated_seconds / 3600:.1f} simulated hours in "
                     f"{result.wall_seconds:.1f} s, stopped_reason={result.stopped_reason!r}")
    for name, value in extra.items():
        lines.append(f"{name}: {value}")
    print("\n".join(lines))


def _assert_accounting_exact(booster, recorder):
    """The mode's volume and fees are exactly the engine's trades of its own orders, each counted once."""
    ledger = booster.ledger
    assert recorder.own_trades > 0
    assert ledger.fills_count == recorder.own_trades
    assert ledger.volume == pytest.approx(recorder.own_cost, rel=1e-12, abs=D("1e-18"))
    assert float(ledger.volume) == pytest.approx(float(recorder.own_volume), rel=1e-9)
    assert ledger.fees == pytest.approx(recorder.own_fees, rel=1e-12, abs=D("1e-18"))


# =====================================================================================================
# 1. Restart
# =====================================================================================================
@dataclasses.dataclass
class RestartScenario:
    stop_after_seconds: float  # simulated time after which the mode is stopped, once it has fills and resting orders
    down_seconds: float  # simulated time the mode stays down
    stopped: dict = dataclasses.field(default_factory=dict)
    restarted: dict = dataclasses.field(default_factory=dict)
    errors: list = dataclasses.field(default_factory=list)


@pytest.fixture(scope="module")
def restart_run(shared_data, tmp_path_factory):
    state_folder = tmp_path_factory.mktemp("volume-booster-state")
    scenario = RestartScenario(stop_after_seconds=2 * 3600, down_seconds=1.5 * 3600)
    data_file = shared_data / BTC_USDT_FILE
    with pytest.MonkeyPatch.context() as patcher:
        patcher.setattr(VolumeBoosterTradingMode, "STATE_FOLDER", str(state_folder))
        recorder = EngineRecorder(patcher)
        cancelled_ids = []
        original_cancel = VolumeBoosterTradingMode.cancel_order

        async def cancel_order(mode, order, *args, **kwargs):
            cancelled_ids.append((id(mode.get_booster()), order.order_id))
            return await original_cancel(mode, order, *args, **kwargs)

        patcher.setattr(VolumeBoosterTradingMode, "cancel_order", cancel_order)
        original_callback = VolumeBoosterProducer.ohlcv_callback
        span = {}

        async def ohlcv_callback(producer, *args, **kwargs):
            # the restart is driven by the engine's own time steps: deterministic in simulated time
            try:
                await _restart_hook(producer.trading_mode, scenario, recorder, span)
            except Exception as err:  # reported by the test, never swallowed silently
                scenario.errors.append(repr(err))
            await original_callback(producer, *args, **kwargs)

        patcher.setattr(VolumeBoosterProducer, "ohlcv_callback", ohlcv_callback)
        result, final = _run(data_file, dict(
            volume_target=10 ** 7, order_type="limit", price_offset_percent=0.15, min_interval_seconds=20,
            max_interval_seconds=60, limit_order_timeout_seconds=1500, max_open_orders=8,
        ), observer=lambda exchange_manager: recorder.sample_rss())
        recorder.rss_end = final.rss
    journal_files = sorted(path.name for path in state_folder.iterdir())
    return scenario, recorder, result, final, cancelled_ids, journal_files


async def _restart_hook(trading_mode, scenario, recorder, span):
    exchange_manager = trading_mode.exchange_manager
    now = exchange_manager.exchange.get_exchange_current_time()
    span.setdefault("start", now)
    booster = trading_mode.get_booster()
    if not scenario.stopped:
        if now < span["start"] + scenario.stop_after_seconds:
            return
        if booster.ledger is None or booster.ledger.fills_count == 0 or len(booster._open_orders) < 2:
            return
        # OctoBot's shutdown: the loop stops after its step, orders stay on the exchange
        await booster.stop_loop(cancel_open_orders=False)
        await booster.stop()
        scenario.stopped = {
            "time": now,
            "consumer": booster,
            "ledger": booster.ledger.to_dict(),
            "open_ids": set(booster._open_orders),
            "own_ids": set(booster._own_order_ids),
            "engine_volume": recorder.own_cost,
            "engine_trades": recorder.own_trades,
        }
        return
    if not scenario.restarted and now >= scenario.stopped["time"] + scenario.down_seconds:
        # a restart: new consumers for the same trading mode (AbstractTradingMode.create_consumers), whose
        # loop is started as the producer's start() does
        open_on_exchange = {order.order_id for order in _tagged_open_orders(exchange_manager, trading_mode.symbol)}
        trading_mode.consumers = await trading_mode.create_consumers()
        new_booster = trading_mode.get_booster()
        assert new_booster is not scenario.stopped["consumer"]
        await new_booster.start_loop()
        scenario.restarted = {
            "time": now,
            "consumer": new_booster,
            "restored": new_booster.restored,
            "ledger": new_booster.ledger.to_dict(),
            "adopted_ids": set(new_booster._open_orders),
            "open_on_exchange": open_on_exchange,
            "engine_volume": recorder.own_cost,
            "engine_fees": recorder.own_fees,
            "engine_trades": recorder.own_trades,
        }


def _restart_summary(scenario, recorder):
    stopped, restarted = scenario.stopped, scenario.restarted
    return {
        "stopped at": stopped.get("time"), "restarted at": restarted.get("time"),
        "own orders open at stop": len(stopped.get("open_ids", ())),
        "own orders still open at restart": len(restarted.get("open_on_exchange", ())),
        "adopted at restart": len(restarted.get("adopted_ids", ())),
        "fills while down": (restarted["engine_trades"] - stopped["engine_trades"]) if restarted else None,
        "volume at stop": stopped.get("ledger", {}).get("volume"),
        "volume restored": restarted.get("ledger", {}).get("volume"),
        "engine volume at restart": restarted.get("engine_volume"),
        "fills after the restart": (recorder.own_trades - restarted["engine_trades"]) if restarted else None,
    }


def test_restart_restores_progress_and_counts_fills_while_down_once(restart_run):
    scenario, recorder, result, final, _, journal_files = restart_run
    booster = final.booster
    _report("restart: progress restored", booster, recorder, result, **_restart_summary(scenario, recorder),
            journal_files=journal_files)
    assert not scenario.errors
    assert scenario.stopped and scenario.restarted, "the run never reached the stop / restart points"
    assert journal_files, "the mode wrote no journal in STATE_FOLDER"
    restarted = scenario.restarted
    assert restarted["restored"]
    assert restarted["consumer"] is booster
    # resting orders filled while the mode was down (otherwise this test checks nothing about them)
    assert restarted["engine_trades"] > scenario.stopped["engine_trades"]
    restored = restarted["ledger"]
    # progress restored = journal + the exchange's trades (including the fills that happened while down)
    assert D(restored["volume"]) == pytest.approx(restarted["engine_volume"], rel=1e-12)
    assert D(restored["fees"]) == pytest.approx(restarted["engine_fees"], rel=1e-12)
    assert restored["fills_count"] == restarted["engine_trades"]
    assert restored["orders_created"] == scenario.stopped["ledger"]["orders_created"]
    assert restored["orders_cancelled"] == scenario.stopped["ledger"]["orders_cancelled"]
    # nothing counted twice over the whole run
    assert max(recorder.own_trade_ids.values()) == 1
    _assert_accounting_exact(booster, recorder)
    assert booster.ledger.orders_created == recorder.created_count


def test_restart_adopts_open_orders_and_forgets_none(restart_run):
    scenario, recorder, result, final, cancelled_ids, _ = restart_run
    booster = final.booster
    restarted = scenario.restarted
    assert restarted, "the run never restarted the mode"
    still_open_at_restart = restarted["open_on_exchange"]
    print(f"\n=== restart: adoption ===\nown orders open at restart {sorted(still_open_at_restart)}\n"
          f"adopted {sorted(restarted['adopted_ids'])}")
    assert still_open_at_restart, "no order of the mode was still open at the restart"
    assert still_open_at_restart <= restarted["adopted_ids"]
    new_consumer_cancels = {order_id for consumer, order_id in cancelled_ids if consumer == id(booster)}
    for order_id in still_open_at_restart:
        # adopted = managed: it later filled or was cancelled by the new consumer (timeout)
        trades = recorder.own_trades_by_order.get(order_id)
        assert trades or order_id in new_consumer_cancels, f"adopted order {order_id} was forgotten"
    # at the end, no own order is open that the consumer does not know
    assert set(final.tagged_open) <= set(booster._open_orders)
    # every order the engine created through the mode is known to the mode
    assert set(recorder.created) <= booster._own_order_ids


def test_restart_order_counts_balance(restart_run):
    scenario, recorder, result, final, _, _ = restart_run
    booster = final.booster
    ledger = booster.ledger
    closed = ledger.orders_filled + ledger.orders_cancelled + ledger.orders_expired + ledger.orders_expired_self_trade
    closed_while_down = scenario.stopped["open_ids"] - scenario.restarted["open_on_exchange"]
    print(f"\n=== restart: order counts ===\ncreated {ledger.orders_created} vs filled {ledger.orders_filled} + "
          f"cancelled {ledger.orders_cancelled} + expired {ledger.orders_expired} + open {len(booster._open_orders)}"
          f" = {closed + len(booster._open_orders)}\nown orders that filled while the mode was down: "
          f"{len(closed_while_down)} (with trades: "
          f"{sum(1 for order_id in closed_while_down if recorder.own_trades_by_order.get(order_id))})")
    assert ledger.orders_created == recorder.created_count
    assert ledger.orders_created == closed + len(booster._open_orders)


# =====================================================================================================
# 2. Exchange faults
# =====================================================================================================
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
        original_create = VolumeBoosterTradingMode.create_order
        original_cancel = VolumeBoosterTradingMode.cancel_order

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
        patcher.setattr(VolumeBoosterTradingMode, "create_order", create_order)
        patcher.setattr(VolumeBoosterTradingMode, "cancel_order", cancel_order)

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
    data_file = shared_data / ADA_BTC_FILE
    with pytest.MonkeyPatch.context() as patcher:
        recorder = EngineRecorder(patcher)
        # layered over the recorder: orders created by a failing call are recorded as really created
        injector = FaultInjector(patcher, seed=20240515, fetch_rate=0.05, create_rate=0.12, cancel_rate=0.12)
        result, final = _run(data_file, dict(
            volume_target=10 ** 6, order_type="limit", price_offset_percent=0.1, min_interval_seconds=20,
            max_interval_seconds=60, limit_order_timeout_seconds=300, max_open_orders=10, **BTC_QUOTED,
        ), observer=lambda exchange_manager: recorder.sample_rss())
        recorder.rss_end = final.rss
    return injector, recorder, result, final


def _fault_report(title, fault_run, **extra):
    injector, recorder, result, final = fault_run
    _report(title, final.booster, recorder, result, faults=injector.injected,
            calls=dict(injector.calls), ambiguous_creates_that_created=len(injector.ambiguous_created),
            filled_while_cancelling=len(injector.filled_while_cancelling), **extra)


def test_faults_cause_no_crash_and_every_kind_is_counted(fault_run):
    injector, recorder, result, final = fault_run
    booster = final.booster
    _fault_report("faults: no crash, every kind counted", fault_run,
                  expected_failures=dict(sorted(injector.expected_failures.items())))
    assert sum(injector.injected.values()) >= 1000
    assert not _crashes(booster)
    assert result.simulated_seconds > 9 * 24 * 3600  # the whole file ran
    for call, faults in (("fetch", injector.FETCH_FAULTS), ("create", injector.CREATE_FAULTS),
                         ("cancel", injector.CANCEL_FAULTS)):
        for name, _, _ in faults:
            assert injector.injected[f"{call}:{name}"] > 0, f"{call}:{name} was never injected"
    # every injected failure is counted once under its kind; nothing else failed
    assert dict(booster.failures) == dict(injector.expected_failures)
    # the mode kept trading through the faults
    assert booster.ledger.orders_created > 1000 and booster.ledger.fills_count > 500


def test_faults_ambiguous_creates_are_never_duplicated(fault_run):
    injector, recorder, result, final = fault_run
    booster = final.booster
    signatures = collections.Counter(recorder.created.values())
    duplicates = {signature: count for signature, count in signatures.items() if count > 1}
    adopted = set(injector.ambiguous_created) & booster._own_order_ids
    _fault_report("faults: no duplicate after an ambiguous create", fault_run, duplicates=len(duplicates),
                  ambiguous_creates_adopted=len(adopted))
    assert len(injector.ambiguous_created) >= 100
    # no two orders with the same side, quantity, price and creation time (a blind retry would make one)
    assert not duplicates
    # the orders still open when the mode looked for them were adopted
    assert adopted
    # no own order is left open that the mode does not know
    assert set(final.tagged_open) <= set(booster._open_orders)


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
    known_trades = [trade for order_id in booster._own_order_ids for trade in recorder.own_trades_by_order.get(order_id, ())]
    volume = sum((trade.total_cost for trade in known_trades), ZERO)
    _fault_report("faults: accounting of known orders", fault_run,
                  known_orders_trades=len(known_trades), known_orders_volume=f"{volume:.10f}")
    assert booster.ledger.fills_count == len(known_trades)
    assert booster.ledger.volume == pytest.approx(volume, rel=1e-12)


def test_faults_ambiguous_creates_are_all_adopted(fault_run):
    injector, recorder, result, final = fault_run
    booster = final.booster
    unknown = sorted(set(injector.ambiguous_created) - booster._own_order_ids)
    filled_unknown = [order_id for order_id in unknown if recorder.own_trades_by_order.get(order_id)]
    delays = sorted(recorder.own_trades_by_order[order_id][0].executed_time
                    - injector.ambiguous_created[order_id].creation_time for order_id in filled_unknown)
    adopted_delays = sorted(recorder.own_trades_by_order[order_id][0].executed_time
                            - injector.ambiguous_created[order_id].creation_time
                            for order_id in set(injector.ambiguous_created) & booster._own_order_ids
                            if recorder.own_trades_by_order.get(order_id))
    _fault_report("faults: every ambiguous create adopted", fault_run, not_adopted=len(unknown),
                  not_adopted_and_filled=len(filled_unknown),
                  fill_delay_of_lost_orders_s=delays and f"min {delays[0]:.0f}, median {delays[len(delays) // 2]:.0f}, "
                                                         f"max {delays[-1]:.0f}",
                  fill_delay_of_adopted_orders_s=adopted_delays and f"min {adopted_delays[0]:.0f}, max "
                                                                   f"{adopted_delays[-1]:.0f}",
                  untracked_volume=f"{sum((t.total_cost for o in filled_unknown for t in recorder.own_trades_by_order[o]), ZERO):.10f}")
    assert not unknown
    assert set(recorder.created) <= booster._own_order_ids


def test_faults_accounting_equals_the_trades_that_happened(fault_run):
    injector, recorder, result, final = fault_run
    booster = final.booster
    ledger = booster.ledger
    closed = ledger.orders_filled + ledger.orders_cancelled + ledger.orders_expired + ledger.orders_expired_self_trade
    _fault_report("faults: accounting of every trade", fault_run,
                  order_balance=f"created {ledger.orders_created} vs closed {closed} + open {len(booster._open_orders)}")
    _assert_accounting_exact(booster, recorder)
    assert ledger.orders_created == recorder.created_count
    assert ledger.orders_created == closed + len(booster._open_orders)


# =====================================================================================================
# engine-driven hook: called at each of the engine's time steps (the mode's producer OHLCV callback)
# =====================================================================================================
def _patch_engine_hook(patcher, hook, errors):
    """`hook(trading_mode, now)` (a coroutine function) runs inside the engine before each time update reaches
    the mode: deterministic in simulated time (the wall-time observer of simulation.run is called only every
    0.2 s, a few times in a whole run of the 8-hour file). The mode's loop is parked between two steps there,
    as it is when a user changes settings or OctoBot stops it."""
    original_callback = VolumeBoosterProducer.ohlcv_callback

    async def ohlcv_callback(producer, *args, **kwargs):
        try:
            await hook(producer.trading_mode, producer.exchange_manager.exchange.get_exchange_current_time())
        except Exception as err:  # reported by the test
            errors.append(repr(err))
        await original_callback(producer, *args, **kwargs)

    patcher.setattr(VolumeBoosterProducer, "ohlcv_callback", ohlcv_callback)


def _record_cancels(patcher):
    cancelled = []
    original_cancel = VolumeBoosterTradingMode.cancel_order

    async def cancel_order(mode, order, *args, **kwargs):
        cancelled.append(order.order_id)
        return await original_cancel(mode, order, *args, **kwargs)

    patcher.setattr(VolumeBoosterTradingMode, "cancel_order", cancel_order)
    return cancelled


def _steps_between(records, start, end=None):
    return [record for record in records if record["time"] >= start and (end is None or record["time"] < end)]


def _assert_withdrawn_and_idle(steps, label):
    """Steps that started with the mode not trading: the first one already leaves no own order open, and none
    places an order."""
    assert steps, f"no loop step ran while {label}"
    assert steps[0]["own_open_after"] == 0 and steps[0]["tagged_open_after"] == 0, \
        f"own orders still open after the first step while {label}"
    for record in steps:
        assert record["created_after"] == record["created"], f"an order was placed while {label}: {record}"
        assert record["tagged_open_after"] == 0, f"an own order is open while {label}: {record}"


# =====================================================================================================
# 3. Bad settings
# =====================================================================================================
def test_invalid_configuration_places_no_order_names_the_setting_and_fixing_it_resumes(shared_data):
    data_file = shared_data / BTC_USDT_FILE
    errors, seen = [], {}

    async def hook(trading_mode, now):
        seen.setdefault("start", now)
        booster = trading_mode.get_booster()
        if booster is None or booster.ledger is None:
            return
        if "error" not in seen and booster.settings_error:
            seen["error"] = booster.settings_error
            seen["state"] = trading_mode.get_current_state()[0]
        if "fixed" not in seen and now >= seen["start"] + 4 * 3600:
            seen["fixed"] = now
            seen["created_before_fix"] = booster.ledger.orders_created
            trading_mode.raw_settings["price_offset_percent"] = 0.2

    with pytest.MonkeyPatch.context() as patcher:
        recorder = EngineRecorder(patcher)
        steps = StepRecorder(patcher)
        _patch_engine_hook(patcher, hook, errors)
        result, final = _run(data_file, dict(
            volume_target=10 ** 7, order_type="limit", price_offset_percent=50, min_interval_seconds=20,
            max_interval_seconds=60,
        ), observer=lambda exchange_manager: recorder.sample_rss())
        recorder.rss_end = final.rss
    booster = final.booster
    before_fix = _steps_between(steps.records, 0, seen.get("fixed"))
    after_fix = _steps_between(steps.records, seen.get("fixed", float("inf")))
    _report("bad settings at start, then fixed", booster, recorder, result, error=seen.get("error"),
            current_state=seen.get("state"), steps_before_fix=len(before_fix), steps_after_fix=len(after_fix),
            orders_created_before_fix=seen.get("created_before_fix"))
    assert not errors
    assert "fixed" in seen
    assert seen["error"] == ("Invalid Volume Booster setting 'price_offset_percent': 50 is out of range: "
                             "must be a number from 0 to 10")
    assert seen["state"].startswith(seen["error"])
    # nothing was placed while the settings were invalid
    assert seen["created_before_fix"] == 0
    _assert_withdrawn_and_idle(before_fix, "the settings were invalid")
    assert all(record["settings_error"] for record in before_fix)
    # fixed: trading resumes without a restart
    assert booster.settings_error is None
    assert booster.ledger.orders_created > 0 and recorder.own_trades > 0
    assert all(creation_time >= seen["fixed"] for _, _, _, creation_time in recorder.created.values())
    _assert_accounting_exact(booster, recorder)


def _run_resting_orders_with_hook(data_file, hook, errors):
    """A long run of resting limit orders on `data_file` with `hook` called at each engine step; returns the
    engine recorder, the step records, the cancels, the result and the final state."""
    with pytest.MonkeyPatch.context() as patcher:
        recorder = EngineRecorder(patcher)
        steps = StepRecorder(patcher)
        cancelled = _record_cancels(patcher)
        _patch_engine_hook(patcher, hook, errors)
        result, final = _run(data_file, dict(
            volume_target=10 ** 7, order_type="limit", price_offset_percent=0.3, min_interval_seconds=20,
            max_interval_seconds=60, limit_order_timeout_seconds=3600, max_open_orders=10,
        ), observer=lambda exchange_manager: recorder.sample_rss())
        recorder.rss_end = final.rss
    return recorder, steps, cancelled, result, final


def test_runtime_invalid_settings_cancel_own_orders_place_none_until_fixed(shared_data):
    data_file = shared_data / BTC_USDT_FILE
    errors, seen = [], {}

    async def hook(trading_mode, now):
        seen.setdefault("start", now)
        booster = trading_mode.get_booster()
        if booster is None or booster.ledger is None:
            return
        if "broken" not in seen:
            if now >= seen["start"] + 2 * 3600 and len(booster._open_orders) >= 3:
                seen["broken"] = now
                seen["open_when_broken"] = set(booster._open_orders)
                # a user saves a maximum below the minimum
                trading_mode.raw_settings["max_buy_amount"] = 10
        elif "error" not in seen and booster.settings_error:
            seen["error"] = booster.settings_error
        elif "fixed" not in seen and now >= seen["broken"] + 2 * 3600:
            seen["fixed"] = now
            trading_mode.raw_settings["max_buy_amount"] = 150

    recorder, steps, cancelled, result, final = _run_resting_orders_with_hook(data_file, hook, errors)
    booster = final.booster
    broken_steps = _steps_between(steps.records, seen.get("broken", float("inf")), seen.get("fixed"))
    fixed_steps = _steps_between(steps.records, seen.get("fixed", float("inf")))
    _report("settings made invalid at runtime, then fixed", booster, recorder, result, error=seen.get("error"),
            own_orders_open_when_broken=len(seen.get("open_when_broken", ())), steps_while_invalid=len(broken_steps),
            orders_created_after_fix=sum(r["created_after"] - r["created"] for r in fixed_steps))
    assert not errors
    assert "broken" in seen and "fixed" in seen
    assert seen["error"] == ("Invalid Volume Booster setting 'min_buy_amount': 25 is above max_buy_amount (10); "
                             "it must be at most max_buy_amount")
    _assert_withdrawn_and_idle(broken_steps, "the settings were invalid")
    # the resting orders were withdrawn by the mode (or had filled meanwhile)
    for order_id in seen["open_when_broken"]:
        assert order_id in cancelled or recorder.own_trades_by_order.get(order_id)
    assert sum(record["created_after"] - record["created"] for record in fixed_steps) > 0
    _assert_accounting_exact(booster, recorder)


def _binance_btc_usdt_limits(patcher):
    """Offline, OctoBot's simulated exchange has no market status of the real exchange and uses a generic one
    (minimum order cost 0.001 in the quote currency, 0.00001 base): binance's BTC/USDT limits are given to it
    here (10 USDT minimum order, 0.00001 BTC, 2 price decimals)."""
    import octobot_trading.exchanges.connectors.simulator.exchange_simulator_connector as simulator_connector
    columns = trading_enums.ExchangeConstantsMarketStatusColumns
    original = simulator_connector.ExchangeSimulatorConnector._get_default_market_status

    def market_status(connector):
        status = original(connector)
        status[columns.PRECISION.value] = {columns.PRECISION_AMOUNT.value: 5, columns.PRECISION_PRICE.value: 2}
        status[columns.LIMITS.value][columns.LIMITS_COST.value][columns.LIMITS_COST_MIN.value] = 10
        return status

    patcher.setattr(simulator_connector.ExchangeSimulatorConnector, "_get_default_market_status", market_status)


@pytest.mark.parametrize("setting", ["min_buy_amount", "min_sell_amount"])
def test_amounts_below_the_exchange_minimum_name_the_setting_and_the_minimum(shared_data, setting):
    data_file = shared_data / BTC_USDT_FILE
    errors, seen = [], {}

    async def hook(trading_mode, now):
        booster = trading_mode.get_booster()
        if "minimum" not in seen and booster is not None and booster._symbol_market is not None:
            seen["minimum"] = trading_personal_data.get_minimal_order_cost(booster._symbol_market,
                                                                           booster._last_price())
        if booster is not None and booster.settings_error and "error" not in seen:
            seen["error"] = booster.settings_error

    with pytest.MonkeyPatch.context() as patcher:
        _binance_btc_usdt_limits(patcher)
        recorder = EngineRecorder(patcher)
        cancelled = _record_cancels(patcher)
        _patch_engine_hook(patcher, hook, errors)
        result, final = _run(data_file, {
            "volume_target": 10 ** 7, "order_type": "limit", "min_buy_amount": 25, "min_sell_amount": 25,
            setting: 0.5,
        }, observer=lambda exchange_manager: recorder.sample_rss())
        recorder.rss_end = final.rss
    booster = final.booster
    _report(f"{setting} below the exchange minimum", booster, recorder, result, error=seen.get("error"),
            exchange_minimum_cost=seen.get("minimum"))
    assert not errors
    assert seen["minimum"] == 10
    assert seen["error"] == (f"Invalid Volume Booster setting '{setting}': 0.5 USDT is below the exchange's "
                             f"minimum order of 10 USDT on BTC/USDT: must be from 10 to 1e+12")
    assert booster.settings_error == seen["error"]
    assert booster.finished_reason == "invalid settings"
    assert result.orders_created == 0 and recorder.created_count == 0 and recorder.own_trades == 0
    assert not cancelled and not final.tagged_open


# =====================================================================================================
# 4. Stop and disable
# =====================================================================================================
async def _place_manual_orders(trading_mode):
    """A user's own limit orders, far from the price, placed outside the mode."""
    exchange_manager = trading_mode.exchange_manager
    symbol = trading_mode.symbol
    price = trading_mode.get_booster()._last_price()
    orders = []
    for order_type, factor, quantity in ((trading_enums.TraderOrderType.BUY_LIMIT, D("0.5"), D("0.01")),
                                         (trading_enums.TraderOrderType.SELL_LIMIT, D("1.5"), D("0.01"))):
        order = trading_personal_data.create_order_instance(
            trader=exchange_manager.trader, order_type=order_type, symbol=symbol, current_price=price,
            quantity=quantity, price=(price * factor).quantize(D("0.01")),
        )
        orders.append(await exchange_manager.trader.create_order(order))
    return orders


def test_disable_cancels_own_orders_within_one_step_spares_manual_orders_and_enable_resumes(shared_data):
    data_file = shared_data / BTC_USDT_FILE
    errors, seen = [], {}

    async def hook(trading_mode, now):
        seen.setdefault("start", now)
        booster = trading_mode.get_booster()
        if booster is None or booster.ledger is None or booster._last_price() is None:
            return
        if "manual" not in seen:
            seen["manual"] = await _place_manual_orders(trading_mode)
        elif "disabled" not in seen:
            if now >= seen["start"] + 2 * 3600 and len(booster._open_orders) >= 3:
                seen["disabled"] = now
                seen["open_when_disabled"] = set(booster._open_orders)
                trading_mode.raw_settings["enabled"] = False
        elif "enabled" not in seen and now >= seen["disabled"] + 2 * 3600:
            seen["enabled"] = now
            seen["state_while_disabled"] = trading_mode.get_current_state()[0]
            trading_mode.raw_settings["enabled"] = True

    recorder, steps, cancelled, result, final = _run_resting_orders_with_hook(data_file, hook, errors)
    booster = final.booster
    disabled_steps = _steps_between(steps.records, seen.get("disabled", float("inf")), seen.get("enabled"))
    enabled_steps = _steps_between(steps.records, seen.get("enabled", float("inf")))
    manual_ids = [order.order_id for order in seen.get("manual", ())]
    _report("disable / enable at runtime with manual orders", booster, recorder, result,
            own_orders_open_when_disabled=len(seen.get("open_when_disabled", ())),
            steps_while_disabled=len(disabled_steps), state_while_disabled=seen.get("state_while_disabled"),
            orders_created_after_enable=sum(r["created_after"] - r["created"] for r in enabled_steps),
            manual_orders=manual_ids, manual_orders_open_at_end=sorted(set(manual_ids) & set(final.other_open)))
    assert not errors
    assert "disabled" in seen and "enabled" in seen
    _assert_withdrawn_and_idle(disabled_steps, "disabled")
    assert all(record["finished_reason"] == "disabled" for record in disabled_steps)
    assert seen["state_while_disabled"].startswith("disabled")
    for order_id in seen["open_when_disabled"]:
        assert order_id in cancelled or recorder.own_trades_by_order.get(order_id)
    # enabled again: trading resumes
    assert sum(record["created_after"] - record["created"] for record in enabled_steps) > 0
    # the user's orders were never touched: never cancelled by the mode, still open at the end
    assert len(manual_ids) == 2
    assert not set(manual_ids) & set(cancelled)
    assert set(manual_ids) <= set(final.other_open)
    assert not set(manual_ids) & booster._own_order_ids
    _assert_accounting_exact(booster, recorder)


def test_stop_during_an_order_creation_leaves_no_orphan(shared_data):
    data_file = shared_data / BTC_USDT_FILE
    seen = {}

    with pytest.MonkeyPatch.context() as patcher:
        recorder = EngineRecorder(patcher)
        original_create = VolumeBoosterTradingMode.create_order
        gate = {}

        async def create_order(mode, order, *args, **kwargs):
            booster = mode.get_booster()
            if "in_flight" not in seen and booster.ledger.fills_count >= 3 and len(booster._open_orders) >= 3:
                seen["in_flight"] = True
                seen["open_before"] = set(booster._open_orders)
                gate["event"] = asyncio.Event()
                seen["stopper"] = asyncio.ensure_future(stop_while_in_flight(booster))
                await gate["event"].wait()  # the exchange answers only now
                created = await original_create(mode, order, *args, **kwargs)
                seen["created_in_flight"] = created
                return created
            return await original_create(mode, order, *args, **kwargs)

        async def stop_while_in_flight(booster):
            # OctoBot stops the mode (e.g. the user stops the bot) while the create request is in flight
            stop = asyncio.ensure_future(booster.stop_loop(cancel_open_orders=True))
            for _ in range(50):
                await asyncio.sleep(0)
            seen["stop_waited_for_the_step"] = not stop.done()
            seen["created_at_stop_request"] = recorder.created_count
            gate["event"].set()
            await stop
            seen["stopped"] = True
            seen["created_at_stop"] = recorder.created_count
            seen["tagged_open_after_stop"] = set(_tagged_open_orders(booster.exchange_manager, booster.symbol))

        patcher.setattr(VolumeBoosterTradingMode, "create_order", create_order)
        cancelled = _record_cancels(patcher)
        result, final = _run(data_file, dict(
            volume_target=10 ** 7, order_type="limit", price_offset_percent=0.3, min_interval_seconds=20,
            max_interval_seconds=60, limit_order_timeout_seconds=3600, max_open_orders=10,
        ), observer=lambda exchange_manager: recorder.sample_rss())
        recorder.rss_end = final.rss
    booster = final.booster
    in_flight = seen.get("created_in_flight")
    _report("stop_loop(cancel_open_orders=True) during an order creation", booster, recorder, result,
            stop_waited_for_the_step=seen.get("stop_waited_for_the_step"),
            in_flight_order=in_flight and (in_flight.order_id, in_flight.status.value),
            own_orders_open_before=len(seen.get("open_before", ())),
            own_orders_open_after_stop=len(seen.get("tagged_open_after_stop", ())))
    assert seen.get("stopped"), "the stop never completed"
    assert seen["stopper"].exception() is None
    assert seen["stop_waited_for_the_step"]
    assert in_flight is not None
    # the order being created ends known and cancelled, with every other own order
    assert in_flight.order_id in booster._own_order_ids
    assert in_flight.order_id in cancelled and in_flight.is_cancelled()
    assert seen["open_before"] <= set(cancelled) | set(recorder.own_trades_by_order)
    assert not seen["tagged_open_after_stop"]
    assert not final.tagged_open
    # nothing created after the stop
    assert seen["created_at_stop"] == seen["created_at_stop_request"] + 1 == recorder.created_count
    assert booster._loop_task is None
    _assert_accounting_exact(booster, recorder)
    ledger = booster.ledger
    assert ledger.orders_created == ledger.orders_filled + ledger.orders_cancelled + ledger.orders_expired


# =====================================================================================================
# 5. Soak: 10 days of real 1m data per pair
# =====================================================================================================
SOAK_OWN_IDS_KEPT = 2000
SOAK_COUNTED_IDS_KEPT = 3000
SOAK_SETTINGS = dict(
    volume_target=10 ** 6, order_type="limit", price_offset_percent=0.1, min_interval_seconds=20,
    max_interval_seconds=60, limit_order_timeout_seconds=300, max_open_orders=10, **BTC_QUOTED,
)


# OctoBot names a logger after each order and each of its states ("[OpenOrderState] BuyLimitOrder | <order id>
# [exchange id: ...]"): Python keeps every logger ever named, so the engine retains 3-4 loggers per order
_ORDER_LOGGER = re.compile(r"Order \| (?P<id>[^ ]+) \[exchange id: ")


def _order_loggers() -> list:
    return [name for name in list(logging.Logger.manager.loggerDict) if _ORDER_LOGGER.search(name)]


def _mode_state_bytes(booster) -> int:
    """Memory held by the mode's per-order id sets (the sets and their strings)."""
    containers = (booster._own_order_ids, booster.ledger._counted_trade_ids)
    return sum(sys.getsizeof(container) + sum(sys.getsizeof(item) for item in container) for container in containers)


def _soak(data_file, isolated) -> dict:
    """10 days of 1m candles with limit orders every 20-60 s (about 21,000 orders); runs in a fresh process (see
    _soak_in_child) and returns plain figures.
    isolated: the mode's windows of remembered ids are lowered so that they fill within the run, and the engine's
    own per-order retention is taken out, so that what remains is the mode's: the order
    loggers of closed orders are dropped from Python's logger registry as the run goes (OctoBot creates them, the
    mode can't avoid them), and OctoBot's trade history (bounded by design at MAX_TRADES_COUNT = 10,000 trades,
    about 1.8 KB each) is bounded at 1,000 so it is full within the first hours instead of growing all run long."""
    samples, pruned = [], [0]

    def observe(exchange_manager):
        booster = exchange_manager.trading_modes[0].get_booster()
        if isolated:
            open_ids = {order.order_id for order in
                        exchange_manager.exchange_personal_data.orders_manager.get_open_orders()}
            for name in _order_loggers():
                if _ORDER_LOGGER.search(name).group("id") not in open_ids:
                    logging.Logger.manager.loggerDict.pop(name, None)
                    pruned[0] += 1
        if booster is not None and booster.ledger is not None and booster.clock is not None:
            samples.append((booster.clock.now(), booster.ledger.orders_created, _rss()))

    with pytest.MonkeyPatch.context() as patcher:
        if isolated:
            patcher.setattr(TradesManager, "MAX_TRADES_COUNT", 1000)
            # the mode's windows of remembered ids, lowered so they fill within this run (still above the 1,000
            # trades OctoBot keeps, as the mode's design requires)
            patcher.setattr(vb, "OWN_IDS_KEPT", SOAK_OWN_IDS_KEPT)
            patcher.setattr(_mode_package.ledger, "COUNTED_IDS_KEPT", SOAK_COUNTED_IDS_KEPT)
        recorder = EngineRecorder(patcher, keep_details=False)
        gc.collect()
        result, final = _run(data_file, SOAK_SETTINGS, observer=observe)
    booster = final.booster
    ledger = booster.ledger
    return {
        "isolated": isolated, "symbol": result.symbol, "simulated_seconds": result.simulated_seconds,
        "wall_seconds": result.wall_seconds, "samples": samples, "rss_end": final.rss, "now_end": final.now,
        "loggers_at_end": len(_order_loggers()), "loggers_pruned": pruned[0],
        "engine_trades_kept": final.engine_trades_kept,
        "orders_created": ledger.orders_created, "orders_filled": ledger.orders_filled,
        "orders_cancelled": ledger.orders_cancelled, "orders_expired": ledger.orders_expired,
        "orders_expired_self_trade": ledger.orders_expired_self_trade, "open": sorted(booster._open_orders),
        "tagged_open": sorted(final.tagged_open), "fills": ledger.fills_count, "volume": str(ledger.volume),
        "fees": str(ledger.fees), "buy_volume": str(ledger.buy_volume), "sell_volume": str(ledger.sell_volume),
        "failures": dict(booster.failures),
        "engine_own_trades": recorder.own_trades, "engine_own_volume": str(recorder.own_volume),
        "engine_own_cost": str(recorder.own_cost), "engine_own_fees": str(recorder.own_fees),
        "engine_created": recorder.created_count,
        "id_sets": {"own order ids": len(booster._own_order_ids),
                    "counted trade ids": len(ledger._counted_trade_ids)},
        "id_sets_bytes": _mode_state_bytes(booster),
        "own_ids_kept": vb.OWN_IDS_KEPT if not isolated else SOAK_OWN_IDS_KEPT,
        "counted_ids_kept": _mode_package.ledger.COUNTED_IDS_KEPT if not isolated else SOAK_COUNTED_IDS_KEPT,
    }


def _soak_in_child(data_file, isolated) -> dict:
    """A fresh process: its heap holds nothing freed by earlier tests, which would hide any growth."""
    completed = subprocess.run(
        [sys.executable, __file__, "--soak", str(data_file), "isolated" if isolated else "whole"],
        cwd=str(simulation.REPO_ROOT), capture_output=True, text=True, timeout=900,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(simulation.REPO_ROOT),
                                                                      os.environ.get("PYTHONPATH")]))},
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith(_SOAK_MARK)]
    assert completed.returncode == 0 and lines, \
        f"soak process failed (rc {completed.returncode}):\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
    return json.loads(lines[-1][len(_SOAK_MARK):])


_SOAK_MARK = "VOLUME-BOOSTER-SOAK "


@pytest.fixture(scope="module")
def soak_ada_btc(shared_data):
    return _soak_in_child(shared_data / ADA_BTC_FILE, isolated=False)


@pytest.fixture(scope="module")
def soak_xrp_btc(shared_data):
    return _soak_in_child(shared_data / XRP_BTC_FILE, isolated=True)


def _soak_report(title, soak, **extra):
    print("\n".join([
        f"\n=== {title} ===",
        "faults injected: 0",
        f"failures counted by the mode: {soak['failures']}",
        f"crashes (step failures / unexpected): {sum(v for k, v in soak['failures'].items() if k.startswith('step:'))}",
        f"orders: created {soak['orders_created']} (engine saw {soak['engine_created']} created through the mode), "
        f"filled {soak['orders_filled']}, cancelled {soak['orders_cancelled']}, expired {soak['orders_expired']}"
        f"+{soak['orders_expired_self_trade']}, still open {len(soak['open'])}",
        f"volume {D(soak['volume']):.10f} vs sum of own trades {D(soak['engine_own_volume']):.10f} (total cost "
        f"{D(soak['engine_own_cost']):.10f}); fees {D(soak['fees']):.10f} vs sum of trade fees "
        f"{D(soak['engine_own_fees']):.10f}; fills {soak['fills']} vs own trades {soak['engine_own_trades']}",
        f"RSS start {_mb(soak['samples'][0][2])}, end {_mb(soak['rss_end'])}, "
        f"growth {_mb(soak['rss_end'] - soak['samples'][0][2])}",
        f"run: {soak['symbol']}, {soak['simulated_seconds'] / 3600:.1f} simulated hours in "
        f"{soak['wall_seconds']:.1f} s (fresh process)",
    ] + [f"{name}: {value}" for name, value in extra.items()]))


def _memory_figures(soak: dict, title: str) -> dict:
    samples = soak["samples"]
    assert len(samples) >= 20
    orders_end = soak["orders_created"]
    start = samples[0]
    middle = next(sample for sample in samples if sample[1] >= orders_end / 2)
    end = (soak["now_end"], orders_end, soak["rss_end"])
    figures = {
        "total": end[2] - start[2],
        "first_half": middle[2] - start[2],
        "second_half": end[2] - middle[2],
        "orders_first_half": middle[1] - start[1],
        "orders_second_half": end[1] - middle[1],
    }
    figures["per_order_second_half"] = figures["second_half"] / max(figures["orders_second_half"], 1)
    _soak_report(title, soak,
                 rss_middle=_mb(middle[2]), growth_first_half=_mb(figures["first_half"]),
                 growth_second_half=_mb(figures["second_half"]),
                 orders_first_half=figures["orders_first_half"], orders_second_half=figures["orders_second_half"],
                 growth_per_order_second_half=f"{figures['per_order_second_half']:.0f} bytes",
                 order_loggers=f"{soak['loggers_at_end']} left in the registry at the end, {soak['loggers_pruned']} "
                               f"dropped by the test during the run",
                 mode_id_sets=f"{soak['id_sets']}: {_mb(soak['id_sets_bytes'])}",
                 engine_trades_kept=soak["engine_trades_kept"],
                 rss_profile=" ".join(f"{orders}:{_mb(rss)}" for _, orders, rss in samples[::max(len(samples) // 8, 1)]))
    return figures


def test_soak_memory_stays_flat_apart_from_octobot_order_loggers(soak_xrp_btc):
    """Everything but OctoBot's own per-order loggers: flat. Bounds: a leak of 1 KB per order (e.g. one order or
    trade object kept per order) adds more than 10 MB over each half of this run; the total allows for the
    engine's start-up caches and its 1,000-trade history; the second half grows no faster than the first."""
    figures = _memory_figures(soak_xrp_btc, "soak XRP/BTC: memory without OctoBot's order loggers")
    assert soak_xrp_btc["orders_created"] > 15000
    assert figures["total"] < 32 * 2 ** 20
    assert figures["per_order_second_half"] < 1024
    assert figures["second_half"] < figures["first_half"] + 4 * 2 ** 20


def test_soak_memory_stays_flat(soak_ada_btc):
    """The whole process, as a user would run it. Bound: a few tens of MB for a 10-day run, and less than 1 KB
    per order in the second half (a month at this pace is about 65,000 orders)."""
    figures = _memory_figures(soak_ada_btc, "soak ADA/BTC: memory of the whole process")
    assert soak_ada_btc["orders_created"] > 15000
    assert figures["total"] < 32 * 2 ** 20
    assert figures["per_order_second_half"] < 1024


def _id_sets_report(soak):
    print(f"\n=== soak {soak['symbol']}: the mode's id sets ===\norders created {soak['orders_created']}, fills "
          f"{soak['fills']}, windows: own ids {soak['own_ids_kept']}, counted trade ids {soak['counted_ids_kept']}; "
          f"sizes at the end {soak['id_sets']}, {_mb(soak['id_sets_bytes'])}")


def test_soak_mode_keeps_bounded_windows_of_order_and_trade_ids(soak_xrp_btc):
    """Own order ids and counted trade ids are bounded by the mode's windows (own ids: pruned to the recent window
    plus the open orders once twice the window is reached) while the accounting of the same run stays exact
    (test_soak_accounting_is_exact[soak_xrp_btc])."""
    soak = soak_xrp_btc
    _id_sets_report(soak)
    assert soak["orders_created"] > 2 * soak["own_ids_kept"] and soak["fills"] > soak["counted_ids_kept"]
    assert soak["id_sets"]["own order ids"] <= 2 * soak["own_ids_kept"] + SOAK_SETTINGS["max_open_orders"]
    assert soak["id_sets"]["counted trade ids"] <= soak["counted_ids_kept"]


@pytest.mark.parametrize("soak_name", ["soak_ada_btc", "soak_xrp_btc"])
def test_soak_accounting_is_exact(request, soak_name):
    soak = request.getfixturevalue(soak_name)
    closed = soak["orders_filled"] + soak["orders_cancelled"] + soak["orders_expired"] + \
        soak["orders_expired_self_trade"]
    _soak_report(f"soak {soak['symbol']}: accounting", soak,
                 order_balance=f"created {soak['orders_created']} = filled {soak['orders_filled']} + cancelled "
                               f"{soak['orders_cancelled']} + expired {soak['orders_expired']} + open "
                               f"{len(soak['open'])}",
                 buy_sell_volume=f"{D(soak['buy_volume']):.8f} + {D(soak['sell_volume']):.8f}",
                 engine_trades_kept=soak["engine_trades_kept"])
    assert soak["simulated_seconds"] > 9 * 24 * 3600
    assert not soak["failures"]
    assert soak["engine_own_trades"] > 5000
    assert soak["fills"] == soak["engine_own_trades"]
    assert D(soak["volume"]) == pytest.approx(D(soak["engine_own_cost"]), rel=1e-12)
    assert float(soak["volume"]) == pytest.approx(float(soak["engine_own_volume"]), rel=1e-9)
    assert D(soak["fees"]) == pytest.approx(D(soak["engine_own_fees"]), rel=1e-12)
    assert soak["orders_created"] == soak["engine_created"]
    assert soak["orders_created"] == closed + len(soak["open"])
    assert soak["tagged_open"] == soak["open"]
    assert D(soak["buy_volume"]) + D(soak["sell_volume"]) == D(soak["volume"])


if __name__ == "__main__" and len(sys.argv) == 4 and sys.argv[1] == "--soak":
    # the soak's own process (see _soak_in_child)
    figures = _soak(pathlib.Path(sys.argv[2]), isolated=sys.argv[3] == "isolated")
    print(_SOAK_MARK + json.dumps(figures), flush=True)
