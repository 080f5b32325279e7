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


def test_journal_replays_events_after_the_last_snapshot_and_survives_a_torn_line(tmp_path):
    path = tmp_path / "state" / vb_journal.state_file_name("binance", "BTC/USDT")
    journal = vb_journal.Journal(path, compact_every=3)
    journal.compact({"ledger": {"volume": "1"}})
    journal.append("order", id="a")
    journal.append("fill", fill={"trade_id": "t"})
    assert not journal.needs_compaction
    journal.append("order_closed", id="a", how="filled")
    assert journal.needs_compaction
    journal.close()
    with open(path, "a", encoding="utf-8") as target:
        target.write('{"type": "fill", "fi')  # a crash while writing
    snapshot, events = vb_journal.Journal(path).load()
    assert snapshot["ledger"] == {"volume": "1"}
    assert [event["type"] for event in events] == ["order", "fill", "order_closed"]
    journal = vb_journal.Journal(path)
    journal.compact({"ledger": {"volume": "2"}})
    snapshot, events = journal.load()
    assert snapshot["ledger"] == {"volume": "2"} and events == []
    assert path.name == "binance-BTC_USDT.jsonl"


def test_fill_round_trips_through_json():
    fill = vb_ledger.Fill("t1", "o1", "sell", D("0.5"), D("100.25"), D("50.125"), D("0.05"), 12.5, True,
                          fee_in_quote=D("0.05"))
    assert vb_ledger.Fill.from_dict(json.loads(json.dumps(fill.to_dict()))) == fill
