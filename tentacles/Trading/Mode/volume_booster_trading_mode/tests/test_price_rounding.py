"""Price step and rounding: a market status gives its precision as decimals (OctoBot's form, after its fix) or as
ccxt's tick sizes (e.g. binance without the fix); the mode's step and OctoBot's rounding helpers are right either
way."""
import decimal
import random

import pytest

import octobot_trading.personal_data as trading_personal_data

from tentacles.Trading.Mode.volume_booster_trading_mode import planner as vb_planner
from tentacles.Trading.Mode.volume_booster_trading_mode import settings as vb_settings
from tentacles.Trading.Mode.volume_booster_trading_mode.gateway import (
    price_tick, with_decimal_precision,
)

D = decimal.Decimal


def market_status(amount_precision, price_precision) -> dict:
    """A binance BTC/USDT spot market status as OctoBot's connector gives it."""
    return {
        "symbol": "BTC/USDT",
        "precision": {"amount": amount_precision, "price": price_precision},
        "limits": {"amount": {"min": 1e-05, "max": 9000.0}, "cost": {"min": 5.0, "max": 9000000.0},
                   "price": {"min": None, "max": None}},
    }


DECIMALS = market_status(5, 2)
TICK_SIZES = market_status(1e-05, 0.01)


@pytest.mark.parametrize("status", [DECIMALS, TICK_SIZES], ids=["decimals", "tick sizes"])
def test_price_step_is_the_market_tick_in_either_form(status):
    assert price_tick(status) == D("0.01")


@pytest.mark.parametrize("precision, tick", [(0, "1"), (1, "0.1"), (8, "0.00000001"), (0.1, "0.1"),
                                             (0.0001, "0.0001"), ("0.001", "0.001")])
def test_price_step_of_other_precisions(precision, tick):
    assert price_tick(market_status(8, precision)) == D(tick)


def test_price_step_without_precision_is_zero():
    assert price_tick({"precision": {"price": None}}) == D(0)
    assert price_tick({}) == D(0)


@pytest.mark.parametrize("status", [DECIMALS, TICK_SIZES], ids=["decimals", "tick sizes"])
def test_octobot_rounds_every_order_in_either_form(status):
    quantity, price = trading_personal_data.decimal_check_and_adapt_order_details_if_necessary(
        D("0.0123456789"), D("9158.123456"), with_decimal_precision(status)
    )[0]
    assert quantity == D("0.01234") and price == D("9158.12")


def test_decimals_are_kept_as_they_are():
    assert with_decimal_precision(DECIMALS) is DECIMALS


def test_tick_sizes_are_converted_without_touching_the_original():
    converted = with_decimal_precision(TICK_SIZES)
    assert converted["precision"] == {"amount": 5, "price": 2}
    assert converted["limits"] == TICK_SIZES["limits"]
    assert TICK_SIZES["precision"] == {"amount": 1e-05, "price": 0.01}


def test_a_small_limit_offset_stays_a_small_offset_with_tick_sizes():
    """A 0.001 % offset (0.09 USDT at 9158) is not widened to a whole quote unit by the price step."""
    planner = vb_planner.Planner(vb_settings.parse_settings({"order_type": "limit", "price_offset_percent": 0.001}),
                                 random.Random(1))
    snapshot = vb_planner.MarketSnapshot(D("9158.00"), D("1"), D("10000"), price_tick=price_tick(TICK_SIZES))
    assert snapshot.price - planner.price_for(vb_planner.BUY, snapshot) < D("0.1")
    assert planner.price_for(vb_planner.SELL, snapshot) - snapshot.price < D("0.1")
