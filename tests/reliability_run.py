"""Runs and reports shared by the reliability tests (restart, faults, settings, stop, soak).

What the mode did is always compared with what really happened in the engine, recorded independently of the
mode (tests/mode_observers.py): every trade OctoBot adds to its trade history, recorded as it is added (OctoBot
itself keeps only the last MAX_TRADES_COUNT trades, so its history can't be summed at the end of a long run; the
mode's own trades are those of orders carrying the mode's order tag), and every order really created through
the trading mode's create_order. Each test prints its counts (run pytest with -s): faults injected, crashes,
orders, volume vs. the sum of the trades, RSS at start and end.
"""
import dataclasses
import decimal
import typing

import psutil
import pytest

from tests.mode_observers import ORDER_TAG, EngineRecorder, StepRecorder, patch_started_booster_hook, record_cancels
from volume_booster import simulation

ADA_BTC_FILE = "AbstractExchangeHistoryCollector_1581775117.1713624.data"  # bittrex, 10 days of 1m candles
XRP_BTC_FILE = "AbstractExchangeHistoryCollector_1581775149.6372743.data"  # bittrex, 10 days of 1m candles
BTC_USDT_FILE = "AbstractExchangeHistoryCollector_1586017993.616272.data"  # binance, 502 1m candles (8 h)

D = decimal.Decimal
ZERO = D(0)

# amounts on the BTC-quoted bittrex pairs: the exchange minimum there is 0.001 BTC
BTC_QUOTED = dict(min_buy_amount=0.0012, max_buy_amount=0.003, min_sell_amount=0.0012, max_sell_amount=0.003)
# a long run of resting limit orders on the 8-hour BTC/USDT file
RESTING_ORDERS = dict(
    volume_target=10 ** 7, order_type="limit", price_offset_percent=0.3, min_interval_seconds=20,
    max_interval_seconds=60, limit_order_timeout_seconds=3600, max_open_orders=10,
)


def rss() -> int:
    return psutil.Process().memory_info().rss


def mb(value: float) -> str:
    return f"{value / 2 ** 20:.1f} MB"


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


def run(data_file, overrides, observer=None, seed=7):
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
            tagged_open={order.order_id: order for order in open_orders if order.tag == ORDER_TAG},
            other_open={order.order_id: order for order in open_orders if order.tag != ORDER_TAG},
            rss=rss(),
            now=exchange_manager.exchange.get_exchange_current_time(),
            engine_trades_kept=len(exchange_manager.exchange_personal_data.trades_manager.trades),
        ))

    with simulation.quiet_octobot_logs():
        result = simulation.run(data_file, overrides, observer=observer, on_finished=on_finished, timeline=False)
    assert final, "the engine run did not complete"
    return result, final[0]


def open_ids(booster) -> set:
    """Ids of the mode's own open orders, as it publishes them."""
    return set(booster.view().open_order_ids)


def crashes(booster) -> dict:
    return {key: count for key, count in booster.view().failures.items()
            if key.startswith("step:") or key.endswith(":unexpected")}


def report(title, booster, recorder, result=None, faults=None, **extra):
    ledger = booster.ledger
    failures = booster.view().failures
    lines = [
        f"\n=== {title} ===",
        f"faults injected: {sum(faults.values()) if faults else 0}"
        + (f" {dict(sorted(faults.items()))}" if faults else ""),
        f"failures counted by the mode: {dict(sorted(failures.items()))}",
        f"crashes (step failures / unexpected): {sum(crashes(booster).values())} {crashes(booster)}",
        f"orders: created {ledger.orders_created} (engine saw {recorder.created_count} created through the mode), "
        f"filled {ledger.orders_filled}, cancelled {ledger.orders_cancelled}, expired {ledger.orders_expired}"
        f"+{ledger.orders_expired_self_trade}, still open {len(open_ids(booster))}",
        f"volume {ledger.volume:.10f} vs sum of own trades {recorder.own_volume:.10f} "
        f"(total cost {recorder.own_cost:.10f}); fees {ledger.fees:.10f} vs sum of trade fees "
        f"{recorder.own_fees:.10f}; fills {ledger.fills_count} vs own trades {recorder.own_trades}",
        f"RSS start {mb(recorder.rss_start or 0)}, end {mb(recorder.rss_end or 0)}, "
        f"growth {mb((recorder.rss_end or 0) - (recorder.rss_start or 0))}",
    ]
    if result is not None:
        lines.append(f"run: {result.symbol}, {result.simulated_seconds / 3600:.1f} simulated hours in "
                     f"{result.wall_seconds:.1f} s, stopped_reason={result.stopped_reason!r}")
    for name, value in extra.items():
        lines.append(f"{name}: {value}")
    print("\n".join(lines))


def assert_accounting_exact(booster, recorder):
    """The mode's volume and fees are exactly the engine's trades of its own orders, each counted once."""
    ledger = booster.ledger
    assert recorder.own_trades > 0
    assert ledger.fills_count == recorder.own_trades
    assert ledger.volume == pytest.approx(recorder.own_cost, rel=1e-12, abs=D("1e-18"))
    assert float(ledger.volume) == pytest.approx(float(recorder.own_volume), rel=1e-9)
    assert ledger.fees == pytest.approx(recorder.own_fees, rel=1e-12, abs=D("1e-18"))


def steps_between(records, start, end=None):
    return [record for record in records if record["time"] >= start and (end is None or record["time"] < end)]


def assert_withdrawn_and_idle(steps, label):
    """Steps that started with the mode not trading: the first one already leaves no own order open, and none
    places an order."""
    assert steps, f"no loop step ran while {label}"
    assert steps[0]["own_open_after"] == 0 and steps[0]["tagged_open_after"] == 0, \
        f"own orders still open after the first step while {label}"
    for record in steps:
        assert record["created_after"] == record["created"], f"an order was placed while {label}: {record}"
        assert record["tagged_open_after"] == 0, f"an own order is open while {label}: {record}"


def run_resting_orders_with_hook(data_file, hook, errors):
    """A long run of resting limit orders on `data_file` with `hook(trading_mode, booster, now)` called at each
    engine step once the mode started; returns the engine recorder, the step records, the cancels, the result
    and the final state."""
    with pytest.MonkeyPatch.context() as patcher:
        recorder = EngineRecorder(patcher)
        steps = StepRecorder(patcher)
        cancelled = record_cancels(patcher)
        patch_started_booster_hook(patcher, hook, errors)
        result, final = run(data_file, RESTING_ORDERS, observer=lambda exchange_manager: recorder.sample_rss())
        recorder.rss_end = final.rss
    return recorder, steps, cancelled, result, final
