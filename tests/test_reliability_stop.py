"""Reliability in OctoBot's real backtesting engine: disable / enable at runtime and stop. Disabling withdraws
the mode's own orders within one step and spares a user's manual orders; enabling again resumes trading; a stop
that comes while an order is being created waits for it and leaves no orphan order."""
import asyncio

import pytest

import octobot_trading.enums as trading_enums
import octobot_trading.modes as trading_modes
import octobot_trading.personal_data as trading_personal_data

from tests import reliability_run as rr
from tests.mode_observers import EngineRecorder, record_cancels, tagged_open_orders

D = rr.D


async def _place_manual_orders(trading_mode):
    """A user's own limit orders, far from the price, placed outside the mode."""
    exchange_manager = trading_mode.exchange_manager
    symbol = trading_mode.symbol
    price = trading_mode.get_booster().gateway.last_price()
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
    data_file = shared_data / rr.BTC_USDT_FILE
    errors, seen = [], {}

    async def hook(trading_mode, booster, now):
        seen.setdefault("start", now)
        if booster.gateway.last_price() is None:
            return
        if "manual" not in seen:
            seen["manual"] = await _place_manual_orders(trading_mode)
        elif "disabled" not in seen:
            if now >= seen["start"] + 2 * 3600 and len(rr.open_ids(booster)) >= 3:
                seen["disabled"] = now
                seen["open_when_disabled"] = rr.open_ids(booster)
                trading_mode.raw_settings["enabled"] = False
        elif "enabled" not in seen and now >= seen["disabled"] + 2 * 3600:
            seen["enabled"] = now
            seen["state_while_disabled"] = trading_mode.get_current_state()[0]
            trading_mode.raw_settings["enabled"] = True

    recorder, steps, cancelled, result, final = rr.run_resting_orders_with_hook(data_file, hook, errors)
    booster = final.booster
    disabled_steps = rr.steps_between(steps.records, seen.get("disabled", float("inf")), seen.get("enabled"))
    enabled_steps = rr.steps_between(steps.records, seen.get("enabled", float("inf")))
    manual_ids = [order.order_id for order in seen.get("manual", ())]
    rr.report("disable / enable at runtime with manual orders", booster, recorder, result,
              own_orders_open_when_disabled=len(seen.get("open_when_disabled", ())),
              steps_while_disabled=len(disabled_steps), state_while_disabled=seen.get("state_while_disabled"),
              orders_created_after_enable=sum(r["created_after"] - r["created"] for r in enabled_steps),
              manual_orders=manual_ids, manual_orders_open_at_end=sorted(set(manual_ids) & set(final.other_open)))
    assert not errors
    assert "disabled" in seen and "enabled" in seen
    rr.assert_withdrawn_and_idle(disabled_steps, "disabled")
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
    assert not any(booster.books.orders.is_own(order_id) for order_id in manual_ids)
    rr.assert_accounting_exact(booster, recorder)


def test_stop_during_an_order_creation_leaves_no_orphan(shared_data):
    data_file = shared_data / rr.BTC_USDT_FILE
    seen = {}

    with pytest.MonkeyPatch.context() as patcher:
        recorder = EngineRecorder(patcher)
        original_create = trading_modes.AbstractTradingMode.create_order
        gate = {}

        async def create_order(mode, order, *args, **kwargs):
            booster = mode.get_booster()
            if "in_flight" not in seen and booster.ledger.fills_count >= 3 and len(rr.open_ids(booster)) >= 3:
                seen["in_flight"] = True
                seen["open_before"] = rr.open_ids(booster)
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
            seen["tagged_open_after_stop"] = set(tagged_open_orders(booster.exchange_manager, booster.symbol))

        patcher.setattr(trading_modes.AbstractTradingMode, "create_order", create_order)
        cancelled = record_cancels(patcher)
        result, final = rr.run(data_file, dict(
            volume_target=10 ** 7, order_type="limit", price_offset_percent=0.3, min_interval_seconds=20,
            max_interval_seconds=60, limit_order_timeout_seconds=3600, max_open_orders=10,
        ), observer=lambda exchange_manager: recorder.sample_rss())
        recorder.rss_end = final.rss
    booster = final.booster
    in_flight = seen.get("created_in_flight")
    rr.report("stop_loop(cancel_open_orders=True) during an order creation", booster, recorder, result,
              stop_waited_for_the_step=seen.get("stop_waited_for_the_step"),
              in_flight_order=in_flight and (in_flight.order_id, in_flight.status.value),
              own_orders_open_before=len(seen.get("open_before", ())),
              own_orders_open_after_stop=len(seen.get("tagged_open_after_stop", ())))
    assert seen.get("stopped"), "the stop never completed"
    assert seen["stopper"].exception() is None
    assert seen["stop_waited_for_the_step"]
    assert in_flight is not None
    # the order being created ends known and cancelled, with every other own order
    assert booster.books.orders.is_own(in_flight.order_id)
    assert in_flight.order_id in cancelled and in_flight.is_cancelled()
    assert seen["open_before"] <= set(cancelled) | set(recorder.own_trades_by_order)
    assert not seen["tagged_open_after_stop"]
    assert not final.tagged_open
    # nothing created after the stop
    assert seen["created_at_stop"] == seen["created_at_stop_request"] + 1 == recorder.created_count
    # the loop is over (stop_loop let go of its task)
    assert not booster.view().running
    rr.assert_accounting_exact(booster, recorder)
    ledger = booster.ledger
    assert ledger.orders_created == ledger.orders_filled + ledger.orders_cancelled + ledger.orders_expired
