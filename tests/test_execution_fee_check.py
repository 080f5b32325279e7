"""The fee check in OctoBot's real backtesting engine: the simulator charges its configured maker and taker fees;
when the fees OctoBot reports for the pair (the exchange's get_fees, the only place the mode reads them) say
otherwise, the mode warns once, naming both rates; in a normal run it says nothing."""
import asyncio
import logging

import octobot_trading.enums as trading_enums
import octobot_trading.exchanges as trading_exchanges
import pytest

from tests import execution_runs as runs
from tests import mode_observers
from volume_booster import simulation

pytestmark = runs.needs_shared_data

# the simulator's real fees (%): maker 0.02, taker 0.05
REAL_FEES = {"maker": 0.02, "taker": 0.05}
SETTINGS = {"volume_target": 3000, "order_type": "limit", "price_offset_percent": 0.05,
            "limit_order_timeout_seconds": 600, "random_seed": 3, **runs.DEFAULT_AMOUNTS}
MAKER = trading_enums.ExchangeConstantsMarketPropertyColumns.MAKER.value
TAKER = trading_enums.ExchangeConstantsMarketPropertyColumns.TAKER.value


class _Lines(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.lines = []

    def emit(self, record):
        self.lines.append((record.levelno, record.getMessage()))


def run_with_fees(reported=None):
    """One engine run; `reported`: the fees OctoBot's exchange reports for the pair instead of the real ones."""
    logger = logging.getLogger("VolumeBooster[BTC/USDT]")
    lines = _Lines()
    previous = logger.level
    logger.addHandler(lines)
    logger.setLevel(logging.INFO)
    trades = []
    try:
        with pytest.MonkeyPatch.context() as patch:
            if reported is not None:
                real_get_fees = trading_exchanges.ExchangeSimulator.get_fees

                def get_fees(exchange, symbol):
                    return {**real_get_fees(exchange, symbol), MAKER: reported[MAKER], TAKER: reported[TAKER]}
                patch.setattr(trading_exchanges.ExchangeSimulator, "get_fees", get_fees)

            def on_finished(exchange_manager):
                trades.extend(exchange_manager.exchange_personal_data.trades_manager.trades.values())
            with simulation.quiet_octobot_logs():
                asyncio.run(asyncio.wait_for(simulation.run_simulation(
                    runs.BTC_USDT, SETTINGS, fees=REAL_FEES, on_finished=on_finished, timeline=False),
                    mode_observers.ENGINE_RUN_TIMEOUT))
    finally:
        logger.removeHandler(lines)
        logger.setLevel(previous)
    return lines.lines, trades


def fee_lines(lines):
    return [(level, text) for level, text in lines if text.startswith("Fee check")]


def test_swapped_reported_fees_are_warned_once_naming_both_rates():
    lines, trades = run_with_fees(reported={MAKER: 0.0005, TAKER: 0.0002})
    # the engine charged its real maker rate on maker fills
    maker_trades = [trade for trade in trades if trade.taker_or_maker == MAKER]
    assert len(maker_trades) > 10
    said = fee_lines(lines)
    assert len(said) == 1, said
    level, text = said[0]
    assert level == logging.WARNING
    assert "maker fills were charged 0.02 %" in text and "maker fee of 0.05 %" in text and "taker 0.02 %" in text
    assert "maker and taker may be swapped" in text


def test_a_normal_run_says_nothing_about_fees():
    lines, trades = run_with_fees()
    assert len(trades) > 10
    assert fee_lines(lines) == []
    assert any(text.startswith("Fill ") for _, text in lines)
