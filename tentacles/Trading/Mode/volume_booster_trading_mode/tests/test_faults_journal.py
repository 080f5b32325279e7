"""Failure classification, backoff, adoption after an ambiguous create, and the restart journal."""
import asyncio
import decimal
import json

from tentacles.Trading.Mode.volume_booster_trading_mode import faults as vb_faults
from tentacles.Trading.Mode.volume_booster_trading_mode import journal as vb_journal
from tentacles.Trading.Mode.volume_booster_trading_mode import ledger as vb_ledger

D = decimal.Decimal


def test_failures_are_classified_by_their_class_hierarchy():
    import octobot_trading.errors as errors
    assert vb_faults.classify(errors.RateLimitExceeded("x")) == vb_faults.RATE_LIMIT
    assert vb_faults.classify(errors.MissingFunds("x")) == vb_faults.MISSING_FUNDS
    assert vb_faults.classify(errors.NetworkError("x")) == vb_faults.NETWORK
    assert vb_faults.classify(errors.UnreachableExchange("x")) == vb_faults.NETWORK
    assert vb_faults.classify(asyncio.TimeoutError()) == vb_faults.NETWORK
    assert vb_faults.classify(errors.MissingMinimalExchangeTradeVolume("x")) == vb_faults.BELOW_MINIMUM
    assert vb_faults.classify(errors.UntradableSymbolError("x")) == vb_faults.REJECTED
    assert vb_faults.classify(errors.FilledOrderError("x")) == vb_faults.ALREADY_CLOSED
    assert vb_faults.classify(ValueError("x")) == vb_faults.UNEXPECTED


def test_backoff_grows_caps_and_resets():
    backoff = vb_faults.Backoff(base_seconds=2, max_seconds=30)
    delays = [backoff.failed(100, vb_faults.NETWORK) for _ in range(6)]
    assert delays == [2, 4, 8, 16, 30, 30]
    assert backoff.waiting(110) and not backoff.waiting(130)
    backoff.succeeded()
    assert not backoff.waiting(100)
    assert backoff.failed(0, vb_faults.RATE_LIMIT) == 8


def test_ambiguous_create_adopts_only_the_matching_order():
    attempt = {"side": "buy", "quantity": D("0.01"), "price": D("100"), "time": 50}
    candidates = [
        {"id": "older", "side": "buy", "quantity": D("0.01"), "price": D("100"), "time": 10},
        {"id": "other-side", "side": "sell", "quantity": D("0.01"), "price": D("100"), "time": 55},
        {"id": "other-size", "side": "buy", "quantity": D("0.02"), "price": D("100"), "time": 55},
        {"id": "it", "side": "buy", "quantity": D("0.01"), "price": D("100"), "time": 51},
    ]
    assert vb_faults.find_adoptable(attempt, candidates) == "it"
    assert vb_faults.find_adoptable(attempt, candidates[:3]) is None


def test_journal_lines_carry_a_checksum_and_a_torn_line_is_reported(tmp_path):
    path = tmp_path / "state" / vb_journal.state_file_name("binance", "BTC/USDT")
    journal = vb_journal.Journal(path, compact_every=3)
    journal.compact({"ledger": {"volume": "1"}})
    journal.append("order", id="a")
    journal.append("fill", fill={"trade_id": "t"})
    assert not journal.needs_compaction
    journal.append("order_closed", id="a", how="filled")
    assert journal.needs_compaction
    journal.close()
    assert all(line.endswith('"}') and ',"crc":"' in line for line in path.read_text().splitlines())
    with open(path, "a", encoding="utf-8") as target:
        target.write('{"type": "fill", "fi')  # a crash while writing
    events, problems = vb_journal.Journal(path).read()
    assert [(number, event["type"]) for number, event in events] == \
        [(1, "snapshot"), (2, "order"), (3, "fill"), (4, "order_closed")]
    assert events[0][1]["ledger"] == {"volume": "1"} and "crc" not in events[0][1]
    assert [number for number, _ in problems] == [5] and "torn" in problems[0][1]
    journal = vb_journal.Journal(path)
    journal.compact({"ledger": {"volume": "2"}})
    events, problems = journal.read()
    assert [event["ledger"] for _, event in events] == [{"volume": "2"}] and problems == []
    assert path.name == "binance-BTC_USDT.jsonl"


def test_journal_reports_each_damaged_line_with_its_reason(tmp_path):
    path = tmp_path / "state.jsonl"
    good = vb_journal.encode_line({"type": "order", "id": "a"})
    flipped = good.replace('"a"', '"b"')
    path.write_bytes("\n".join([good, flipped, "[1,2,3]", "42", '{"type":"order","id":"c"}', ""]).encode()
                     + b"\xff\xfe{\n\n")
    events, problems = vb_journal.Journal(path).read()
    assert events == [(1, {"type": "order", "id": "a"})]
    assert [(number, reason.split(" (")[0]) for number, reason in problems] == [
        (2, "checksum mismatch"), (3, "not a JSON object"), (4, "not a JSON object"),
        (5, "no checksum, unlike the other lines"), (6, "not UTF-8 text"),
    ]


def test_journal_without_checksums_still_loads(tmp_path):
    # a state file written before lines carried their checksum
    path = tmp_path / "old.jsonl"
    path.write_text('{"type":"snapshot","version":1,"ledger":{}}\n{"type":"order","id":"a"}\n{"type":"fi')
    events, problems = vb_journal.Journal(path).read()
    assert [event["type"] for _, event in events] == ["snapshot", "order"]
    assert [number for number, _ in problems] == [3]


def test_fill_round_trips_through_json():
    fill = vb_ledger.Fill("t1", "o1", "sell", D("0.5"), D("100.25"), D("50.125"), D("0.05"), 12.5, True,
                          fee_in_quote=D("0.05"))
    assert vb_ledger.Fill.from_dict(json.loads(json.dumps(fill.to_dict()))) == fill
