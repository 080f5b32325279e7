"""Engine runs and figures shared by the execution tests (tests/test_execution_*.py).

Each run goes through `simulation.run_simulation` (octobot-backtesting importer, octobot-trading simulated exchange
and trader) on real data from ../shared/data, recorded by tests/mode_observers.py. Every figure asserted is
recomputed from the engine's own orders, trades and portfolio, never taken from the mode's ledger.

Engine facts these tests rely on (octobot-notes.md): market orders fill at the close of the current candle, the
simulated time advances in steps of the finest time frame (60 s on 1m files), there is no order book, the
simulated market status has 8 decimals of amount and price precision, a 0.00001 minimum amount and a 0.001
minimum cost.
"""
import decimal
import functools

import pytest

from tests import mode_observers
from volume_booster import REPO_ROOT

SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
BTC_USDT = SHARED_DATA / "AbstractExchangeHistoryCollector_1586017993.616272.data"
ADA_BTC_10_DAYS = SHARED_DATA / "AbstractExchangeHistoryCollector_1581775117.1713624.data"
FOUR_PAIRS_4H = SHARED_DATA / "ExchangeHistoryDataCollector_1711122002.311132.data"

needs_shared_data = pytest.mark.skipif(not BTC_USDT.exists(), reason=f"shared market data missing: {SHARED_DATA}")

D = decimal.Decimal
ZERO = D(0)
ONE_MINUTE_STEP = 60
FEE_RATE = D("0.001")  # the profile's simulator fees: 0.1 % maker and taker
DEFAULT_AMOUNTS = {"min_buy_amount": 25, "max_buy_amount": 150, "min_sell_amount": 25, "max_sell_amount": 150}
BINANCE_STP_MODES = {"EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"}  # Binance's selfTradePreventionMode values

TARGET = 5000
MAX_ORDER = D(DEFAULT_AMOUNTS["max_buy_amount"])  # = max_sell_amount (USDT)
LIMIT_OFFSET = 0.1234567  # many decimals: the limit prices need OctoBot's price precision
MAKER = {"maker_offset_percent": 0.02, "reprice_percent": 0.05, "limit_order_timeout_seconds": 180}
STYLES = ("market", "limit", "maker")


def run_recorded(data_file, overrides, starting_portfolio=None, before_place=None,
                 warnings_of=None, fees=None) -> mode_observers.Recording:
    # the profile's sizes, set here so that the bounds of the tests never depend on the shipped profile
    overrides = {"random_seed": 7, **DEFAULT_AMOUNTS, **overrides}
    return mode_observers.run_recorded(data_file, overrides, starting_portfolio, before_place, warnings_of, fees)


# ----------------------------------------------------------------------------------------------- style runs
# each run once per test session, whichever test file asks for it first

@functools.cache
def market_run():
    return run_recorded(BTC_USDT, {"volume_target": TARGET, "order_type": "market"})


@functools.cache
def limit_run():
    return run_recorded(BTC_USDT, {"volume_target": TARGET, "order_type": "limit",
                                   "price_offset_percent": LIMIT_OFFSET, "limit_order_timeout_seconds": 180})


@functools.cache
def maker_run():
    return run_recorded(BTC_USDT, {"volume_target": TARGET, "order_type": "maker", "random_seed": 3, **MAKER})


@functools.cache
def switch_run():
    """Resting limit orders on both sides, then the user switches the running mode to market orders."""
    switched = {}

    def switch_to_market(booster):
        open_ids = booster.view().open_order_ids
        if not switched and booster.ledger.orders_created >= 20 and len(open_ids) >= 4:
            switched["open_sides"] = {booster.books.orders.get(order_id).side.value for order_id in open_ids}
            booster.trading_mode.raw_settings = {**booster.trading_mode.raw_settings, "order_type": "market"}

    run = run_recorded(BTC_USDT, {"volume_target": 8000, "order_type": "limit", "random_seed": 9,
                                  "max_open_orders": 20, "price_offset_percent": 0.5,
                                  "limit_order_timeout_seconds": 3600}, before_place=switch_to_market)
    run.switched = switched
    return run


RUNS = {"market": market_run, "limit": limit_run, "maker": maker_run, "switch": switch_run}


@pytest.fixture
def style_run(request):
    """The recorded run of the style named by the test's parameter."""
    return RUNS[request.param]()


# ----------------------------------------------------------------------------------------------- figures

def cost(start: dict, holdings: dict, base: str, quote: str, price) -> D:
    """What trading cost versus holding the starting portfolio, both valued at `price` (quote currency)."""
    def total(currency):
        value = holdings[currency]
        return value[0] if isinstance(value, tuple) else value
    return (start[base] - total(base)) * price + (start[quote] - total(quote))


def expected_resting_price(side, mark, offset_percent, tick):
    """Independent of the planner: a resting buy `offset_percent` below / sell above `mark`, at least one price
    step away, truncated to the price step (OctoBot truncates prices), a truncated sell kept above the mark."""
    offset = D(str(offset_percent)) / 100
    if side == "buy":
        price = min(mark * (1 - offset), mark - tick)
    else:
        price = max(mark * (1 + offset), mark + tick)
    price = price.quantize(tick, rounding=decimal.ROUND_DOWN)
    if side == "sell" and price <= mark:
        price += tick
    return price


def digits_tick(market_status, key) -> D:
    return D(1).scaleb(-int(market_status["precision"][key]))


def fee_in_quote(trade, quote):
    """The trade's fee in the quote currency (a fee in base converted at the fill price)."""
    fee = trade["fee"]
    fee_cost = D(str(fee.get("cost") or 0))
    if fee.get("currency") == quote:
        return fee_cost
    return fee_cost * trade["price"]


def exchange_minimums(run, symbol):
    """The smallest amount (base) and cost (quote) the engine's market accepts for `symbol`."""
    limits = run.markets[symbol]["limits"]
    return D(str(limits["amount"]["min"])), D(str(limits["cost"]["min"]))
