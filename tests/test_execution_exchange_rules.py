"""Exchange rules in OctoBot's real backtesting engine: sizes and prices follow the market's precision and
minimums, limit prices are truncated to the price step, amounts below the minimum are raised to it (or refused) and
said, and the reserve of each starting balance is never traded."""
import pytest

from tests import execution_runs as runs
from tests.execution_runs import BTC_USDT, D, LIMIT_OFFSET, STYLES, style_run  # noqa: F401 (a fixture)

pytestmark = runs.needs_shared_data


@pytest.fixture
def limit_run():
    return runs.limit_run()


@pytest.mark.parametrize("style_run", STYLES, indirect=True)
def test_order_sizes_and_prices_respect_the_market_precision_and_minimums(style_run):
    run = style_run
    market_status = run.markets["BTC/USDT"]
    amount_digits = int(market_status["precision"]["amount"])
    price_digits = int(market_status["precision"]["price"])
    min_amount, min_cost = runs.exchange_minimums(run, "BTC/USDT")
    assert run.created
    for order in run.created:
        assert order["qty"].as_tuple().exponent >= -amount_digits, order
        assert order["price"].as_tuple().exponent >= -price_digits, order
        assert order["qty"] >= min_amount and order["qty"] * order["price"] >= min_cost, order


def test_limit_prices_were_truncated_to_the_price_precision(limit_run):
    run = limit_run
    tick = runs.digits_tick(run.markets["BTC/USDT"], "price")
    needed_truncation = 0
    for order in run.created:
        raw = order["mark"] * (1 - D(str(LIMIT_OFFSET)) / 100) if order["side"] == "buy" \
            else order["mark"] * (1 + D(str(LIMIT_OFFSET)) / 100)
        assert order["price"] == runs.expected_resting_price(order["side"], order["mark"], LIMIT_OFFSET, tick), order
        needed_truncation += raw.as_tuple().exponent < tick.as_tuple().exponent
    # the offset gives prices finer than the price step: OctoBot's precision helper had to act
    assert needed_truncation > len(run.created) / 2


def test_a_remainder_below_the_exchange_minimum_is_raised_to_it_with_a_warning():
    # one order of 0.1 USDT, then a remainder of ~0.05 USDT, below the 0.00001 BTC (~0.09 USDT) minimum
    run = runs.run_recorded(BTC_USDT, {"volume_target": 0.15, "order_type": "market", "min_buy_amount": 0.1,
                                       "max_buy_amount": 0.1, "min_sell_amount": 0.1, "max_sell_amount": 0.1},
                            warnings_of="BTC/USDT")
    min_amount, min_cost = runs.exchange_minimums(run, "BTC/USDT")
    assert run.result.settings_error is None
    assert len(run.created) == 2
    first, second = run.created
    remainder = D("0.15") - first["qty"] * first["price"]
    floor = max(min_amount, min_cost / second["mark"])
    assert remainder / second["mark"] < floor, "the remainder was not below the exchange minimum"
    # raised to the minimum (not beyond a small margin), and said so
    assert floor <= second["qty"] <= floor * D("1.01")
    assert any("below the exchange minimum" in message for message in run.warnings), run.warnings
    volume = run.volume()
    assert D("0.15") <= volume <= D("0.15") + D("0.1")


def test_configured_amounts_below_the_exchange_minimum_never_send_an_order_below_it():
    """Sizes of 0.01-0.05 USDT (a tenth of the 0.00001 BTC minimum): whatever the mode does with them (raise each
    order to the minimum, or refuse the settings), no order below the minimum reaches the exchange and the user is
    told, naming the setting or the minimum."""
    run = runs.run_recorded(BTC_USDT, {"volume_target": 2, "order_type": "market", "min_buy_amount": 0.01,
                                       "max_buy_amount": 0.05, "min_sell_amount": 0.01, "max_sell_amount": 0.05},
                            warnings_of="BTC/USDT")
    min_amount, min_cost = runs.exchange_minimums(run, "BTC/USDT")
    assert all(order["qty"] >= min_amount and order["qty"] * order["price"] >= min_cost for order in run.created)
    told = (run.result.settings_error or "") + " ".join(run.warnings)
    assert "min_buy_amount" in told or "below the exchange minimum" in told, told
    if run.created:
        assert any("below the exchange minimum" in message for message in run.warnings)


RESERVE_PERCENT = 40
RESERVE_PORTFOLIO = {"BTC": 0.1, "USDT": 1000.0}


def test_reserve_percent_of_each_starting_balance_is_never_traded():
    run = runs.run_recorded(BTC_USDT, {"volume_target": 20000, "order_type": "limit", "random_seed": 4,
                                       "side_policy": "random", "reserve_percent": RESERVE_PERCENT,
                                       "min_buy_amount": 50, "max_buy_amount": 200, "min_sell_amount": 50,
                                       "max_sell_amount": 200}, starting_portfolio=RESERVE_PORTFOLIO)
    reserve = {currency: D(str(amount)) * RESERVE_PERCENT / 100 for currency, amount in RESERVE_PORTFOLIO.items()}
    samples = [order["portfolio_before"] for order in run.created] + \
              [order["portfolio_after"] for order in run.created] + [s["portfolio"] for s in run.snapshots]
    assert len(samples) > 100
    lowest = {}
    for currency, kept in reserve.items():
        # neither the balance nor what is free of open orders ever goes below the reserve
        lowest[currency] = min(holdings[currency][1] for holdings in samples)
        assert min(holdings[currency][0] for holdings in samples) >= kept
        assert lowest[currency] >= kept
        assert run.end[currency] >= kept
    # the reserve was what stopped the mode: it came within one max order (200 USDT) of it
    price = D(str(run.result.first_price))
    assert lowest["USDT"] <= reserve["USDT"] + 200 or lowest["BTC"] <= reserve["BTC"] + D(200) / price * 2
