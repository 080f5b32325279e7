"""Reliability in OctoBot's real backtesting engine: bad settings. Invalid settings at start or saved at runtime
place no order, name the setting and its allowed values, withdraw the mode's orders within one step, and
trading resumes once they are fixed, without a restart; minimum amounts below the exchange's minimum order are
refused the same way."""
import pytest

import octobot_trading.enums as trading_enums
import octobot_trading.personal_data as trading_personal_data

from tests import reliability_run as rr
from tests.mode_observers import (
    EngineRecorder, StepRecorder, patch_engine_hook, patch_started_booster_hook, record_cancels,
)


def test_invalid_configuration_places_no_order_names_the_setting_and_fixing_it_resumes(shared_data):
    data_file = shared_data / rr.BTC_USDT_FILE
    errors, seen = [], {}

    async def hook(trading_mode, booster, now):
        seen.setdefault("start", now)
        settings_error = booster.view().settings_error
        if "error" not in seen and settings_error:
            seen["error"] = settings_error
            seen["state"] = trading_mode.get_current_state()[0]
        if "fixed" not in seen and now >= seen["start"] + 4 * 3600:
            seen["fixed"] = now
            seen["created_before_fix"] = booster.ledger.orders_created
            trading_mode.raw_settings["price_offset_percent"] = 0.2

    with pytest.MonkeyPatch.context() as patcher:
        recorder = EngineRecorder(patcher)
        steps = StepRecorder(patcher)
        patch_started_booster_hook(patcher, hook, errors)
        result, final = rr.run(data_file, dict(
            volume_target=10 ** 7, order_type="limit", price_offset_percent=50, min_interval_seconds=20,
            max_interval_seconds=60,
        ), observer=lambda exchange_manager: recorder.sample_rss())
        recorder.rss_end = final.rss
    booster = final.booster
    before_fix = rr.steps_between(steps.records, 0, seen.get("fixed"))
    after_fix = rr.steps_between(steps.records, seen.get("fixed", float("inf")))
    rr.report("bad settings at start, then fixed", booster, recorder, result, error=seen.get("error"),
              current_state=seen.get("state"), steps_before_fix=len(before_fix), steps_after_fix=len(after_fix),
              orders_created_before_fix=seen.get("created_before_fix"))
    assert not errors
    assert "fixed" in seen
    assert seen["error"] == ("Invalid Volume Booster setting 'price_offset_percent': 50 is out of range: "
                             "must be a number from 0 to 10")
    assert seen["state"].startswith(seen["error"])
    # nothing was placed while the settings were invalid
    assert seen["created_before_fix"] == 0
    rr.assert_withdrawn_and_idle(before_fix, "the settings were invalid")
    assert all(record["settings_error"] for record in before_fix)
    # fixed: trading resumes without a restart
    assert booster.view().settings_error is None
    assert booster.ledger.orders_created > 0 and recorder.own_trades > 0
    assert all(creation_time >= seen["fixed"] for _, _, _, creation_time in recorder.created.values())
    rr.assert_accounting_exact(booster, recorder)


def test_runtime_invalid_settings_cancel_own_orders_place_none_until_fixed(shared_data):
    data_file = shared_data / rr.BTC_USDT_FILE
    errors, seen = [], {}

    async def hook(trading_mode, booster, now):
        seen.setdefault("start", now)
        if "broken" not in seen:
            if now >= seen["start"] + 2 * 3600 and len(rr.open_ids(booster)) >= 3:
                seen["broken"] = now
                seen["open_when_broken"] = rr.open_ids(booster)
                # a user saves a maximum below the minimum
                trading_mode.raw_settings["max_buy_amount"] = 10
        elif "error" not in seen and booster.view().settings_error:
            seen["error"] = booster.view().settings_error
        elif "fixed" not in seen and now >= seen["broken"] + 2 * 3600:
            seen["fixed"] = now
            trading_mode.raw_settings["max_buy_amount"] = 150

    recorder, steps, cancelled, result, final = rr.run_resting_orders_with_hook(data_file, hook, errors)
    booster = final.booster
    broken_steps = rr.steps_between(steps.records, seen.get("broken", float("inf")), seen.get("fixed"))
    fixed_steps = rr.steps_between(steps.records, seen.get("fixed", float("inf")))
    rr.report("settings made invalid at runtime, then fixed", booster, recorder, result, error=seen.get("error"),
              own_orders_open_when_broken=len(seen.get("open_when_broken", ())),
              steps_while_invalid=len(broken_steps),
              orders_created_after_fix=sum(r["created_after"] - r["created"] for r in fixed_steps))
    assert not errors
    assert "broken" in seen and "fixed" in seen
    assert seen["error"] == ("Invalid Volume Booster setting 'min_buy_amount': 25 is above max_buy_amount (10); "
                             "it must be at most max_buy_amount")
    rr.assert_withdrawn_and_idle(broken_steps, "the settings were invalid")
    # the resting orders were withdrawn by the mode (or had filled meanwhile)
    for order_id in seen["open_when_broken"]:
        assert order_id in cancelled or recorder.own_trades_by_order.get(order_id)
    assert sum(record["created_after"] - record["created"] for record in fixed_steps) > 0
    rr.assert_accounting_exact(booster, recorder)


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
    data_file = shared_data / rr.BTC_USDT_FILE
    errors, seen = [], {}

    async def hook(trading_mode, now):
        booster = trading_mode.get_booster()
        if "minimum" not in seen and booster is not None and booster.gateway.last_price() is not None:
            # the exchange's own minimum, as OctoBot gives it for an order of the pair
            _, _, _, price, symbol_market = await trading_personal_data.get_pre_order_data(
                trading_mode.exchange_manager, trading_mode.symbol)
            seen["minimum"] = trading_personal_data.get_minimal_order_cost(symbol_market, price)
        if booster is not None and booster.view().settings_error and "error" not in seen:
            seen["error"] = booster.view().settings_error

    with pytest.MonkeyPatch.context() as patcher:
        _binance_btc_usdt_limits(patcher)
        recorder = EngineRecorder(patcher)
        cancelled = record_cancels(patcher)
        patch_engine_hook(patcher, hook, errors)
        result, final = rr.run(data_file, {
            "volume_target": 10 ** 7, "order_type": "limit", "min_buy_amount": 25, "min_sell_amount": 25,
            setting: 0.5,
        }, observer=lambda exchange_manager: recorder.sample_rss())
        recorder.rss_end = final.rss
    booster = final.booster
    view = booster.view()
    rr.report(f"{setting} below the exchange minimum", booster, recorder, result, error=seen.get("error"),
              exchange_minimum_cost=seen.get("minimum"))
    assert not errors
    assert seen["minimum"] == 10
    assert seen["error"] == (f"Invalid Volume Booster setting '{setting}': 0.5 USDT is below the exchange's "
                             f"minimum order of 10 USDT on BTC/USDT: must be from 10 to 1e+12")
    assert view.settings_error == seen["error"]
    assert view.finished_reason == "invalid settings"
    assert result.orders_created == 0 and recorder.created_count == 0 and recorder.own_trades == 0
    assert not cancelled and not final.tagged_open
