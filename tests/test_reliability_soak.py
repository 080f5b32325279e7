"""Reliability in OctoBot's real backtesting engine: soak runs of 10 days of real 1m data per pair (about
21,000 limit orders each), each in a fresh process. Memory stays flat, the mode's windows of remembered ids stay
bounded, and the accounting stays exact (compared with the engine's own record of trades and created orders)."""
import gc
import json
import logging
import os
import pathlib
import re
import subprocess
import sys

import pytest

import octobot_trading.personal_data as trading_personal_data

from tests import reliability_run as rr
from tests.mode_observers import EngineRecorder
from volume_booster import REPO_ROOT, simulation

D = rr.D
_mode_package = simulation.import_mode_module()
own_orders = _mode_package.own_orders
ledger_module = _mode_package.ledger
TradesManager = trading_personal_data.TradesManager

SOAK_OWN_IDS_KEPT = 2000
SOAK_COUNTED_IDS_KEPT = 3000
SOAK_SETTINGS = dict(
    volume_target=10 ** 6, order_type="limit", price_offset_percent=0.1, min_interval_seconds=20,
    max_interval_seconds=60, limit_order_timeout_seconds=300, max_open_orders=10, **rr.BTC_QUOTED,
)
_SOAK_MARK = "VOLUME-BOOSTER-SOAK "
# the soak's own process: the project's tests/ is made the `tests` package (a dependency installs another one in
# site-packages), then this module runs the soak
_CHILD = ("import sys, types; package = types.ModuleType('tests'); package.__path__ = [sys.argv[1]]; "
          "sys.modules['tests'] = package; from tests import test_reliability_soak as soak; soak.child_main(sys.argv[2:])")

# OctoBot names a logger after each order and each of its states ("[OpenOrderState] BuyLimitOrder | <order id>
# [exchange id: ...]"): Python keeps every logger ever named, so the engine retains 3-4 loggers per order
_ORDER_LOGGER = re.compile(r"Order \| (?P<id>[^ ]+) \[exchange id: ")


def _order_loggers() -> list:
    return [name for name in list(logging.Logger.manager.loggerDict) if _ORDER_LOGGER.search(name)]


def _mode_state_bytes(id_sets) -> int:
    """Memory held by the mode's per-order id sets (the sets and their strings)."""
    return sum(sys.getsizeof(container) + sum(sys.getsizeof(item) for item in container) for container in id_sets)


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
        # the ledger exists once the loop started (plain attribute reads: sampling must not allocate)
        if booster is not None and booster.ledger is not None:
            samples.append((booster.gateway.now(), booster.ledger.orders_created, rr.rss()))

    with pytest.MonkeyPatch.context() as patcher:
        if isolated:
            patcher.setattr(TradesManager, "MAX_TRADES_COUNT", 1000)
            # the mode's windows of remembered ids, lowered so they fill within this run (still above the 1,000
            # trades OctoBot keeps, as the mode's design requires)
            patcher.setattr(own_orders, "IDS_KEPT", SOAK_OWN_IDS_KEPT)
            patcher.setattr(ledger_module, "COUNTED_IDS_KEPT", SOAK_COUNTED_IDS_KEPT)
        recorder = EngineRecorder(patcher, keep_details=False)
        gc.collect()
        result, final = rr.run(data_file, SOAK_SETTINGS, observer=observe)
    booster = final.booster
    ledger = booster.ledger
    view = booster.view()
    own_ids, counted_ids = booster.books.orders.known_ids, ledger.counted_trade_ids
    return {
        "isolated": isolated, "symbol": result.symbol, "simulated_seconds": result.simulated_seconds,
        "wall_seconds": result.wall_seconds, "samples": samples, "rss_end": final.rss, "now_end": final.now,
        "loggers_at_end": len(_order_loggers()), "loggers_pruned": pruned[0],
        "engine_trades_kept": final.engine_trades_kept,
        "orders_created": ledger.orders_created, "orders_filled": ledger.orders_filled,
        "orders_cancelled": ledger.orders_cancelled, "orders_expired": ledger.orders_expired,
        "orders_expired_self_trade": ledger.orders_expired_self_trade, "open": sorted(view.open_order_ids),
        "tagged_open": sorted(final.tagged_open), "fills": ledger.fills_count, "volume": str(ledger.volume),
        "fees": str(ledger.fees), "buy_volume": str(ledger.buy_volume), "sell_volume": str(ledger.sell_volume),
        "failures": dict(view.failures),
        "engine_own_trades": recorder.own_trades, "engine_own_volume": str(recorder.own_volume),
        "engine_own_cost": str(recorder.own_cost), "engine_own_fees": str(recorder.own_fees),
        "engine_created": recorder.created_count,
        "id_sets": {"own order ids": len(own_ids), "counted trade ids": len(counted_ids)},
        "id_sets_bytes": _mode_state_bytes((own_ids, counted_ids)),
        "own_ids_kept": own_orders.IDS_KEPT if not isolated else SOAK_OWN_IDS_KEPT,
        "counted_ids_kept": ledger_module.COUNTED_IDS_KEPT if not isolated else SOAK_COUNTED_IDS_KEPT,
    }


def child_main(args) -> None:
    """The soak's own process (see _soak_in_child): prints its figures on one marked line."""
    data_file, kind = args
    figures = _soak(pathlib.Path(data_file), isolated=kind == "isolated")
    print(_SOAK_MARK + json.dumps(figures), flush=True)


def _soak_in_child(data_file, isolated) -> dict:
    """A fresh process: its heap holds nothing freed by earlier tests, which would hide any growth."""
    completed = subprocess.run(
        [sys.executable, "-c", _CHILD, str(REPO_ROOT / "tests"), str(data_file), "isolated" if isolated else "whole"],
        cwd=str(REPO_ROOT), capture_output=True, text=True, timeout=900,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT),
                                                                      os.environ.get("PYTHONPATH")]))},
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith(_SOAK_MARK)]
    assert completed.returncode == 0 and lines, \
        f"soak process failed (rc {completed.returncode}):\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
    return json.loads(lines[-1][len(_SOAK_MARK):])


@pytest.fixture(scope="module")
def soak_ada_btc(shared_data):
    return _soak_in_child(shared_data / rr.ADA_BTC_FILE, isolated=False)


@pytest.fixture(scope="module")
def soak_xrp_btc(shared_data):
    return _soak_in_child(shared_data / rr.XRP_BTC_FILE, isolated=True)


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
        f"RSS start {rr.mb(soak['samples'][0][2])}, end {rr.mb(soak['rss_end'])}, "
        f"growth {rr.mb(soak['rss_end'] - soak['samples'][0][2])}",
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
                 rss_middle=rr.mb(middle[2]), growth_first_half=rr.mb(figures["first_half"]),
                 growth_second_half=rr.mb(figures["second_half"]),
                 orders_first_half=figures["orders_first_half"], orders_second_half=figures["orders_second_half"],
                 growth_per_order_second_half=f"{figures['per_order_second_half']:.0f} bytes",
                 order_loggers=f"{soak['loggers_at_end']} left in the registry at the end, {soak['loggers_pruned']} "
                               f"dropped by the test during the run",
                 mode_id_sets=f"{soak['id_sets']}: {rr.mb(soak['id_sets_bytes'])}",
                 engine_trades_kept=soak["engine_trades_kept"],
                 rss_profile=" ".join(f"{orders}:{rr.mb(rss)}"
                                      for _, orders, rss in samples[::max(len(samples) // 8, 1)]))
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
          f"sizes at the end {soak['id_sets']}, {rr.mb(soak['id_sets_bytes'])}")


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
