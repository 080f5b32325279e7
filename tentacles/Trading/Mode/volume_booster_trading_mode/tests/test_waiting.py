"""Waiting reasons: a few log lines per window however long the mode waits; the latest reason is readable."""
import decimal

from tentacles.Trading.Mode.volume_booster_trading_mode import display as vb_display
from tentacles.Trading.Mode.volume_booster_trading_mode import waiting as vb_waiting


def test_reasons_differing_only_by_numbers_are_one_kind():
    assert vb_waiting.kind_of("12 open orders (max_open_orders)") == vb_waiting.kind_of(
        "13 open orders (max_open_orders)")
    assert vb_waiting.kind_of("buy: not enough quote for a buy of 25.5 (1e-05)") == \
        vb_waiting.kind_of("buy: not enough quote for a buy of 30 (2E-7)")
    assert vb_waiting.kind_of("no market price yet") != vb_waiting.kind_of("daily volume cap reached")


def test_a_long_wait_logs_each_kind_once_per_window_and_one_summary():
    reasons = vb_waiting.WaitingReasons(summary_seconds=600)
    lines = []
    # two hours of steps every 5 s, the numbers changing at each step, two kinds alternating
    for step in range(1440):
        reason = f"not enough base for a sell of {step}.5" if step % 2 else f"{step} open orders"
        lines += reasons.note(reason, now=step * 5.0)
    summaries = [line for line in lines if line.startswith("No order on")]
    first_seen = [line for line in lines if line.startswith("No order this step")]
    assert len(summaries) == 11  # one per full 10-minute window after the first
    assert len(first_seen) == 2 * 12  # each kind once per window
    assert sorted(reasons.summary().values()) == [720, 720]
    assert reasons.current == "not enough base for a sell of 1439.5"


def test_placing_an_order_clears_the_current_reason():
    reasons = vb_waiting.WaitingReasons()
    reasons.note("no market price yet", now=0)
    assert reasons.current == "no market price yet"
    reasons.placed(now=1)
    assert reasons.current is None
    assert reasons.summary() == {"no market price yet": 1}


def test_quote_amounts_keep_the_significant_digits_of_the_target():
    D = decimal.Decimal
    assert vb_display.quote_decimals(D(50000)) == 2
    assert vb_display.quote_decimals(D(2)) == 5
    assert vb_display.quote_decimals(D("0.5")) == 6
    assert vb_display.amount(D("0.00123456"), vb_display.quote_decimals(D(2))) == "0.00123"
    assert vb_display.amount(D("0.00123456"), vb_display.quote_decimals(D(2))) != "0.00"
