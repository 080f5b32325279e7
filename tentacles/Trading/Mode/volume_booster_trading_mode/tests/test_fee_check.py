"""The fee check: each fill's charged rate against the maker and taker rates the exchange reports for the pair."""
import decimal

from tentacles.Trading.Mode.volume_booster_trading_mode import fee_check

D = decimal.Decimal
MAKER_RATE, TAKER_RATE = D("0.0002"), D("0.0005")


def test_a_fill_s_rate_in_quote_or_base_and_none_in_another_currency():
    # 0.001 BTC at 50000: 50 USDT traded
    assert fee_check.fill_fee_rate(D("0.025"), "USDT", D("0.001"), D("50"), "BTC", "USDT") == D("0.0005")
    assert fee_check.fill_fee_rate(D("0.0000002"), "BTC", D("0.001"), D("50"), "BTC", "USDT") == D("0.0002")
    assert fee_check.fill_fee_rate(D("0.0001"), "BNB", D("0.001"), D("50"), "BTC", "USDT") is None
    assert fee_check.fill_fee_rate(None, None, D("0.001"), D("50"), "BTC", "USDT") == 0


def test_rounding_of_the_fee_is_tolerated():
    # 0.02 % of 0.00123457 BTC is 0.000000246914, charged rounded to 8 decimals: 0.00000025
    rate = fee_check.fill_fee_rate(D("0.00000025"), "BTC", D("0.00123457"), D("61.7"), "BTC", "USDT")
    assert rate != MAKER_RATE and fee_check.matches(rate, MAKER_RATE)
    assert fee_check.mismatch_line("maker", D("0.000201"), MAKER_RATE, TAKER_RATE) is None
    assert fee_check.mismatch_line("taker", D("0.000498"), MAKER_RATE, TAKER_RATE) is None


def test_swapped_rates_are_said_with_both_rates():
    line = fee_check.mismatch_line("maker", TAKER_RATE, MAKER_RATE, TAKER_RATE)
    assert line is not None
    assert "maker fills were charged 0.05 %" in line and "maker fee of 0.02 %" in line and "taker 0.05 %" in line
    assert "maker and taker may be swapped" in line
    line = fee_check.mismatch_line("taker", MAKER_RATE, MAKER_RATE, TAKER_RATE)
    assert "taker fills were charged 0.02 %" in line and "maker and taker may be swapped" in line


def test_another_mismatch_is_said_without_the_swap_hint():
    line = fee_check.mismatch_line("taker", D("0.001"), MAKER_RATE, TAKER_RATE)
    assert "taker fills were charged 0.1 %" in line and "taker fee of 0.05 %" in line
    assert "swapped" not in line
    # equal reported rates: a wrong rate is no swap
    assert "swapped" not in fee_check.mismatch_line("maker", D("0.002"), D("0.001"), D("0.001"))


def test_the_tracker_checks_the_first_fills_then_periodically_and_says_each_kind_once():
    check = fee_check.FeeCheck()
    lines = [check.observe(True, TAKER_RATE, MAKER_RATE, TAKER_RATE) for _ in range(3 * fee_check.CHECK_EVERY)]
    said = [line for line in lines if line]
    assert len(said) == 1 and lines[0] is not None and "swapped" in said[0]
    # a taker mismatch is another kind: said once too
    taker = [check.observe(False, D("0.003"), MAKER_RATE, TAKER_RATE) for _ in range(10)]
    assert len([line for line in taker if line]) == 1


def test_a_mismatch_appearing_later_is_caught_at_a_periodic_check():
    check = fee_check.FeeCheck()
    for _ in range(fee_check.FIRST_CHECKED_FILLS + 5):
        assert check.observe(False, TAKER_RATE, MAKER_RATE, TAKER_RATE) is None
    # the exchange starts charging the maker rate on taker fills: past the first fills, found at a periodic check
    lines = [check.observe(False, MAKER_RATE, MAKER_RATE, TAKER_RATE) for _ in range(2 * fee_check.CHECK_EVERY)]
    said = [index for index, line in enumerate(lines) if line]
    assert len(said) == 1
    assert (fee_check.FIRST_CHECKED_FILLS + 5 + said[0] + 1) % fee_check.CHECK_EVERY == 0


def test_matching_fills_say_nothing_and_another_currency_is_said_once():
    check = fee_check.FeeCheck()
    assert all(check.observe(True, MAKER_RATE, MAKER_RATE, TAKER_RATE) is None for _ in range(200))
    assert all(check.observe(False, TAKER_RATE, MAKER_RATE, TAKER_RATE) is None for _ in range(200))
    first = check.unvalued("BNB")
    assert first is not None and "BNB" in first and "not checked" in first
    assert check.unvalued("BNB") is None
