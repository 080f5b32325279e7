"""Reliability in OctoBot's real backtesting engine: a restart from the state file. The mode is stopped once it
has fills and resting orders, stays down while some of them fill, then new consumers (as OctoBot creates them at
start) resume the run from its state file."""
import dataclasses

import pytest

from tests import reliability_run as rr
from tests.mode_observers import EngineRecorder, patch_engine_hook, record_cancels, tagged_open_orders
from volume_booster import simulation

D = rr.D
VolumeBoosterTradingMode = simulation.import_mode_module().volume_booster_trading.VolumeBoosterTradingMode


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
    data_file = shared_data / rr.BTC_USDT_FILE
    with pytest.MonkeyPatch.context() as patcher:
        patcher.setattr(VolumeBoosterTradingMode, "STATE_FOLDER", str(state_folder))
        recorder = EngineRecorder(patcher)
        cancelled_ids = record_cancels(patcher, key=lambda mode, order: (id(mode.get_booster()), order.order_id))
        span = {}

        async def hook(trading_mode, now):
            # the restart is driven by the engine's own time steps: deterministic in simulated time
            await _restart_hook(trading_mode, now, scenario, recorder, span)

        patch_engine_hook(patcher, hook, scenario.errors)
        result, final = rr.run(data_file, dict(
            volume_target=10 ** 7, order_type="limit", price_offset_percent=0.15, min_interval_seconds=20,
            max_interval_seconds=60, limit_order_timeout_seconds=1500, max_open_orders=8,
        ), observer=lambda exchange_manager: recorder.sample_rss())
        recorder.rss_end = final.rss
    journal_files = sorted(path.name for path in state_folder.iterdir())
    return scenario, recorder, result, final, cancelled_ids, journal_files


async def _restart_hook(trading_mode, now, scenario, recorder, span):
    exchange_manager = trading_mode.exchange_manager
    span.setdefault("start", now)
    booster = trading_mode.get_booster()
    if not scenario.stopped:
        if now < span["start"] + scenario.stop_after_seconds:
            return
        if booster.ledger is None or booster.ledger.fills_count == 0 or len(rr.open_ids(booster)) < 2:
            return
        # OctoBot's shutdown: the loop stops after its step, orders stay on the exchange
        await booster.stop_loop(cancel_open_orders=False)
        await booster.stop()
        view = booster.view()
        scenario.stopped = {
            "time": now,
            "consumer": booster,
            "ledger": booster.ledger.to_dict(),
            "open_ids": set(view.open_order_ids),
            "own_ids": set(booster.books.orders.known_ids),
            "engine_volume": recorder.own_cost,
            "engine_trades": recorder.own_trades,
        }
        return
    if not scenario.restarted and now >= scenario.stopped["time"] + scenario.down_seconds:
        # a restart: new consumers for the same trading mode (AbstractTradingMode.create_consumers), whose
        # loop is started as the producer's start() does
        open_on_exchange = {order.order_id for order in tagged_open_orders(exchange_manager, trading_mode.symbol)}
        trading_mode.consumers = await trading_mode.create_consumers()
        new_booster = trading_mode.get_booster()
        assert new_booster is not scenario.stopped["consumer"]
        await new_booster.start_loop()
        view = new_booster.view()
        scenario.restarted = {
            "time": now,
            "consumer": new_booster,
            "restored": view.restored,
            "ledger": new_booster.ledger.to_dict(),
            "adopted_ids": set(view.open_order_ids),
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
    rr.report("restart: progress restored", booster, recorder, result, **_restart_summary(scenario, recorder),
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
    rr.assert_accounting_exact(booster, recorder)
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
    assert set(final.tagged_open) <= rr.open_ids(booster)
    # every order the engine created through the mode is known to the mode
    assert all(booster.books.orders.is_own(order_id) for order_id in recorder.created)


def test_restart_order_counts_balance(restart_run):
    scenario, recorder, result, final, _, _ = restart_run
    booster = final.booster
    ledger = booster.ledger
    still_open = len(rr.open_ids(booster))
    closed = ledger.orders_filled + ledger.orders_cancelled + ledger.orders_expired + ledger.orders_expired_self_trade
    closed_while_down = scenario.stopped["open_ids"] - scenario.restarted["open_on_exchange"]
    print(f"\n=== restart: order counts ===\ncreated {ledger.orders_created} vs filled {ledger.orders_filled} + "
          f"cancelled {ledger.orders_cancelled} + expired {ledger.orders_expired} + open {still_open}"
          f" = {closed + still_open}\nown orders that filled while the mode was down: "
          f"{len(closed_while_down)} (with trades: "
          f"{sum(1 for order_id in closed_while_down if recorder.own_trades_by_order.get(order_id))})")
    assert ledger.orders_created == recorder.created_count
    assert ledger.orders_created == closed + still_open
