"""In OctoBot's backtesting engine: the last order never stalls, no dust order is placed while open orders may
still fill, and a mode that cannot trade says why (status, result, a bounded number of log lines)."""
import decimal
import logging

import pytest

from volume_booster import REPO_ROOT, report, simulation

SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
BTC_USDT = SHARED_DATA / "AbstractExchangeHistoryCollector_1586017993.616272.data"  # 502 x 1m

pytestmark = pytest.mark.skipif(not BTC_USDT.exists(), reason=f"shared market data missing: {SHARED_DATA}")
D = decimal.Decimal


class _ModeLines(logging.Handler):
    """The mode's own log lines (the engine turns the root logger down to errors, the mode's logger is set to
    INFO for the run)."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def _run(overrides, starting_portfolio=None, states=None):
    """One engine run; `states` receives the mode's status line when the data is played."""
    handler = _ModeLines()
    mode_logger = logging.getLogger("VolumeBooster[BTC/USDT]")
    previous_level = mode_logger.level
    mode_logger.addHandler(handler)
    mode_logger.setLevel(logging.INFO)
    try:
        with simulation.quiet_octobot_logs():
            result = simulation.run(
                BTC_USDT, {"random_seed": 3, **overrides}, starting_portfolio=starting_portfolio, timeline=False,
                on_finished=lambda exchange_manager: states is not None and states.append(
                    exchange_manager.trading_modes[0].get_current_state()[0]))
    finally:
        mode_logger.removeHandler(handler)
        mode_logger.setLevel(previous_level)
    return result, handler.lines


def _record_creations(patcher):
    """Every order the mode asks OctoBot to create: (quote value, type, the mode's orders open on the exchange
    then), in creation order."""
    import octobot_trading.modes as trading_modes
    created = []
    original = trading_modes.AbstractTradingMode.create_order

    async def create_order(self, order, *args, **kwargs):
        open_orders = self.exchange_manager.exchange_personal_data.orders_manager.get_open_orders(symbol=self.symbol)
        created.append((order.origin_quantity * order.origin_price, order.order_type.value,
                        sum(1 for open_order in open_orders if open_order.tag == order.tag)))
        return await original(self, order, *args, **kwargs)

    patcher.setattr(trading_modes.AbstractTradingMode, "create_order", create_order)
    return created


def test_a_last_order_the_fee_reserve_shrinks_below_the_minimum_ends_the_run_instead_of_stalling():
    """OctoBot shrinks a buy when the quote left cannot pay its worst-case fee; a last order raised to the exchange
    minimum and shrunk below it again can never be placed: the run ends within one minimum order of the target."""
    import octobot_trading.personal_data as personal_data
    original = personal_data.decimal_adapt_order_quantity_because_fees

    def tight_quote(exchange_manager, symbol, order_type, quantity, price, side):
        adapted = original(exchange_manager, symbol, order_type, quantity, price, side)
        # what OctoBot does when the quote is nearly all used: the order shrinks to what the rest can pay
        return adapted / 2 if quantity * price < 1 else adapted

    with pytest.MonkeyPatch.context() as patcher:
        patcher.setattr(personal_data, "decimal_adapt_order_quantity_because_fees", tight_quote)
        created = _record_creations(patcher)
        # fixed 50 USDT buys (no base to sell); 500.05 leaves a remainder under the 0.09 USDT exchange minimum
        result, lines = _run({"volume_target": 500.05, "order_type": "market", "side_policy": "random",
                              "min_buy_amount": 50, "max_buy_amount": 50, "min_sell_amount": 50,
                              "max_sell_amount": 50, "min_interval_seconds": 5, "max_interval_seconds": 5},
                             starting_portfolio={"BTC": 0, "USDT": 10000})
    assert result.stopped_reason is not None, f"the run stalled: {result.waiting_reasons}"
    assert result.stopped_reason.startswith("target reached within one exchange minimum order")
    assert 500.05 - result.volume < 0.09 * 1.001
    # ten 50 USDT orders, then a last one of 0.09 USDT that could never be created
    assert len(created) == 10 and all(value > 49 for value, _, _ in created)
    # raised once, then the run ended: no raise repeated at every step
    assert sum("raised to" in line for line in lines) == 1


def test_no_order_below_the_configured_minimum_but_the_last_one():
    with pytest.MonkeyPatch.context() as patcher:
        created = _record_creations(patcher)
        result, _ = _run({"volume_target": 3000, "order_type": "limit", "price_offset_percent": 0.05,
                          "max_open_orders": 10, "min_buy_amount": 100, "max_buy_amount": 150,
                          "min_sell_amount": 100, "max_sell_amount": 150, "limit_order_timeout_seconds": 600})
    assert result.target_reached
    # the last order (smaller than the minimum) may be placed again after a timeout, never beside open orders
    small = [(value, open_orders) for value, _, open_orders in created if value < D(100) * D("0.999")]
    assert small, "no last order below the minimum: the case is not exercised"
    dust = [value for value, open_orders in small if open_orders]
    assert not dust, f"orders below min amount placed while other orders could still fill: {dust}"


def test_a_mode_that_cannot_trade_says_why_once_per_kind_and_names_the_setting():
    """Amounts far above what the pair holds: nothing can be placed, every step of the 8-hour file."""
    states = []
    result, lines = _run({"volume_target": 50000, "order_type": "market", "min_interval_seconds": 2,
                          "max_interval_seconds": 8},
                         starting_portfolio={"BTC": D("0.001"), "USDT": 10}, states=states)
    assert result.orders_created == 0 and not result.target_reached
    assert "min_buy_amount" in result.waiting_reason and "min_sell_amount" in result.waiting_reason
    assert states and states[0].startswith(f"waiting: {result.waiting_reason}")
    text = report.format_report(result)
    assert f"waiting at the end: {result.waiting_reason}" in text
    assert f"steps that placed nothing: {sum(result.waiting_reasons.values()):,}" in text
    steps = sum(result.waiting_reasons.values())
    assert steps > 3000  # 8 hours of 2-8 s steps
    waiting_lines = [line for line in lines if line.startswith("No order")]
    windows = result.simulated_seconds / 600 + 1
    # the one kind once per 10-minute window plus that window's summary
    assert len(waiting_lines) <= 2 * windows, (len(waiting_lines), waiting_lines[:5])
    assert any(line.startswith("No order on") for line in waiting_lines)


def test_contradicting_settings_are_the_first_line_and_the_status_of_the_mode():
    states = []
    result, lines = _run({"volume_target": 1000, "min_buy_amount": 200, "max_buy_amount": 100}, states=states)
    assert result.orders_created == 0
    assert lines and "NOT trading" in lines[0] and "'min_buy_amount'" in lines[0] and "max_buy_amount" in lines[0]
    assert states[0].startswith(result.settings_error) and "'min_buy_amount'" in states[0]


def test_amounts_in_the_log_keep_the_digits_of_a_small_target():
    """A target of 0.5 quote: fill values and volume are written with the digits that scale needs, never 0.00."""
    result, lines = _run({"volume_target": 0.5, "order_type": "market", "min_buy_amount": 0.1,
                          "max_buy_amount": 0.2, "min_sell_amount": 0.1, "max_sell_amount": 0.2})
    assert result.target_reached
    fills = [line for line in lines if line.startswith("Fill ")]
    assert fills
    for line in fills:
        value = line.split("(")[1].split(" ")[0]
        assert decimal.Decimal(value) >= D("0.09") and len(value.split(".")[1]) == 6, line
    assert f"volume {result.volume:.6f}/0.5 USDT" in fills[-1]
