"""Restoring from the state file: damaged lines, foreign events, repeats and reordering, reconciliation with
the exchange's record of trades."""
import decimal
import json
import random

import hypothesis
import hypothesis.strategies as st
import pytest

from tentacles.Trading.Mode.volume_booster_trading_mode import journal as vb_journal
from tentacles.Trading.Mode.volume_booster_trading_mode import ledger as vb_ledger
from tentacles.Trading.Mode.volume_booster_trading_mode import recovery as vb_recovery

D = decimal.Decimal
TARGET = D(1000)
T0 = 1_600_000_000.0


def _fill(trade_id, order_id, amount="0.1", price="100", timestamp=T0 + 60, side="buy"):
    return vb_ledger.Fill(trade_id, order_id, side, D(amount), D(price), D(amount) * D(price),
                          D(amount) * D(price) / 1000, timestamp, fee_in_quote=D(amount) * D(price) / 1000)


def _snapshot_fields(volume_fill=None, open_ids=("o2",)):
    ledger = vb_ledger.Ledger(TARGET)
    ledger.orders_created = 2
    ledger.orders_filled = 1
    if volume_fill is not None:
        ledger.record_fill(volume_fill)
    return {"symbol": "BTC/USDT", "ledger": ledger.to_dict(), "started_at": T0, "allocation": {"BTC": "1",
            "USDT": "10000"}, "placed_volume": "20", "own_order_ids": ["o1", "o2"], "open_order_ids": list(open_ids)}


def _genuine_journal(path):
    """Snapshot (o1 filled by t1, o2 open), then o3 placed, o2 and o3 filled, o2 closed."""
    journal = vb_journal.Journal(path)
    journal.compact(_snapshot_fields(_fill("t1", "o1", timestamp=T0 + 10)))
    journal.append("order", id="o3", side="sell", quantity="0.1", price="101", time=T0 + 100)
    journal.append("fill", fill=_fill("t2", "o2", timestamp=T0 + 110).to_dict())
    journal.append("order_closed", id="o2", how="filled")
    journal.append("fill", fill=_fill("t3", "o3", price="101", timestamp=T0 + 120, side="sell").to_dict())
    journal.close()
    return journal


def _restore(path, record=vb_recovery.ExchangeRecord()):
    return vb_recovery.restore(vb_journal.Journal(path).read(), str(path), TARGET, record)


def test_a_genuine_journal_is_restored(tmp_path):
    path = tmp_path / "state.jsonl"
    _genuine_journal(path)
    restored = _restore(path)
    assert restored.warnings == []
    ledger = restored.ledger
    assert ledger.volume == D("10") + D("10") + D("10.1")
    assert ledger.fills_count == 3 and ledger.orders_created == 3 and ledger.orders_filled == 2
    assert restored.own_order_ids == ["o1", "o2", "o3"]
    assert restored.open_at_stop == {"o3"}
    assert restored.filled_order_ids == {"o2", "o3"}
    assert restored.placed_volume == D("20") + D("10.1")
    assert restored.started_at == T0 and restored.allocation == {"BTC": D(1), "USDT": D(10000)}
    assert not restored.adopts(T0 - 1) and restored.adopts(T0)


def test_every_damaged_line_is_skipped_with_one_warning_naming_file_and_line(tmp_path):
    path = tmp_path / "state.jsonl"
    _genuine_journal(path)
    fill_missing_fields = _fill("t9", "o3").to_dict()
    del fill_missing_fields["amount"]
    damaged = [
        b"[1,2,3]", b"42", vb_journal.encode_line({"id": "o3"}).encode(),
        vb_journal.encode_line({"type": "order_closed", "id": "o3", "how": "exploded"}).encode(),
        vb_journal.encode_line({"type": "fill", "fill": fill_missing_fields}).encode(),
        vb_journal.encode_line({"type": "counters", "x": 1}).encode(),
        vb_journal.encode_line({"type": "order", "id": "o9", "side": "buy", "quantity": "NaN", "price": "1"}).encode(),
        b"\xc3\x28\xa0\xa1 not utf-8", b'{"type":"order","id":"o8"}', b'{"type":"fill","fill":{"trade_id"',
    ]
    with open(path, "ab") as target:
        target.write(b"\n".join(damaged))
    restored = _restore(path)
    assert len(restored.warnings) == len(damaged)
    for number, warning in zip(range(6, 6 + len(damaged)), restored.warnings):
        assert warning.startswith(f"{path} line {number}: ") and warning.endswith(": skipped")
    assert "unknown event type 'counters'" in restored.warnings[5]
    assert "'exploded'" in restored.warnings[3] and "fill amount is missing" in restored.warnings[4]
    # the valid lines still count, the damaged ones add nothing
    assert restored.ledger.volume == D("30.1") and restored.ledger.orders_created == 3
    assert restored.open_at_stop == {"o3"}


def test_events_about_orders_the_mode_never_placed_are_ignored(tmp_path):
    path = tmp_path / "state.jsonl"
    journal = _genuine_journal(path)
    journal.append("fill", fill=_fill("t8", "stranger").to_dict())
    journal.append("order_closed", id="stranger", how="cancelled")
    journal.close()
    restored = _restore(path)
    assert len(restored.warnings) == 2
    assert "order stranger, never placed by the mode" in restored.warnings[0]
    assert "order stranger was never placed by the mode" in restored.warnings[1]
    assert restored.ledger.volume == D("30.1") and restored.ledger.orders_cancelled == 0


def test_an_invalid_snapshot_is_skipped_and_events_of_its_orders_ignored(tmp_path):
    path = tmp_path / "state.jsonl"
    _genuine_journal(path)
    lines = path.read_text().splitlines()
    snapshot = json.loads(lines[0])
    del snapshot["crc"]
    snapshot["ledger"]["volume"] = "-5"
    lines[0] = vb_journal.encode_line(snapshot)
    path.write_text("\n".join(lines) + "\n")
    restored = _restore(path)
    assert "invalid snapshot line (ledger volume is '-5', out of range)" in restored.warnings[0]
    # o2 was only known from the snapshot: its fill and closure are foreign now; o3's fill still counts
    assert len(restored.warnings) == 3
    assert restored.ledger.volume == D("10.1") and restored.own_order_ids == ["o3"]
    assert restored.started_at is None and restored.allocation is None and restored.adopts(0)


@hypothesis.settings(max_examples=60, derandomize=True, deadline=None)
@hypothesis.given(order=st.permutations(range(5)), repeats=st.lists(st.integers(0, 4), max_size=6))
def test_reordered_or_repeated_lines_restore_the_same_progress(tmp_path_factory, order, repeats):
    path = tmp_path_factory.mktemp("journal") / "state.jsonl"
    _genuine_journal(path)
    reference = _restore(path)
    lines = path.read_text().splitlines()
    shuffled = [lines[index] for index in order] + [lines[index] for index in repeats]
    path.write_text("\n".join(shuffled) + "\n")
    restored = _restore(path)
    assert restored.ledger.to_dict() == reference.ledger.to_dict() | {
        "counted_trade_ids": restored.ledger.to_dict()["counted_trade_ids"]}
    assert sorted(restored.ledger.to_dict()["counted_trade_ids"]) == ["t1", "t2", "t3"]
    assert restored.open_at_stop == reference.open_at_stop
    assert restored.placed_volume == reference.placed_volume
    assert len(restored.warnings) == len(repeats)
    assert all("repeats" in warning or "already closed" in warning or "second snapshot" in warning
               for warning in restored.warnings)


def test_journalled_fills_are_reconciled_with_the_exchange_record(tmp_path):
    path = tmp_path / "state.jsonl"
    _genuine_journal(path)
    # the record holds t2 with other figures (the exchange's count), not t3, and covers t3's time
    exchange_t2 = _fill("t2", "o2", amount="0.2", timestamp=T0 + 110)
    record = vb_recovery.ExchangeRecord(fills={"t2": exchange_t2}, oldest=T0 + 50, newest=T0 + 500)
    restored = _restore(path, record)
    assert restored.ledger.volume == D("10") + D("20")
    assert restored.filled_order_ids == {"o2"}
    assert len(restored.warnings) == 1 and "trade t3 is not in the exchange's record" in restored.warnings[0]
    # a record that starts after t3 (bounded, or a paper-trading restart) can't judge it: the line counts
    later = vb_recovery.ExchangeRecord(fills={"t2": exchange_t2}, oldest=T0 + 120, newest=T0 + 500)
    assert _restore(path, later).ledger.volume == D("10") + D("20") + D("10.1")
    assert _restore(path, vb_recovery.ExchangeRecord()).ledger.volume == D("30.1")
    # the record's trade belongs to another order: not counted from the journal
    other_order = vb_recovery.ExchangeRecord(fills={"t2": _fill("t2", "o7", timestamp=T0 + 110)},
                                             oldest=T0, newest=T0 + 500)
    restored = _restore(path, other_order)
    assert any("belongs to order o7" in warning for warning in restored.warnings)
    assert restored.ledger.volume == D("10")


def test_state_files_without_checksums_or_vanished_counter_still_load(tmp_path):
    path = tmp_path / "old.jsonl"
    fields = _snapshot_fields(_fill("t1", "o1"))
    del fields["ledger"]["orders_vanished"]
    lines = [{"type": "snapshot", "version": 1, **fields},
             {"type": "order_closed", "id": "o2", "how": "expired"},
             {"type": "order", "id": "o3", "side": "buy", "quantity": "1", "price": "100", "time": T0}]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    restored = _restore(path)
    assert restored.warnings == []
    assert restored.ledger.orders_expired == 1 and restored.ledger.orders_vanished == 0
    assert restored.open_at_stop == {"o3"} and restored.ledger.volume == D(10)


def test_vanished_orders_are_counted_and_kept_in_the_ledger():
    ledger = vb_ledger.Ledger(TARGET)
    ledger.orders_vanished = 3
    assert vb_ledger.Ledger.from_dict(json.loads(json.dumps(ledger.to_dict()))).orders_vanished == 3
    assert vb_ledger.CLOSED_COUNTERS["vanished"] == "orders_vanished"


@pytest.mark.parametrize("seed", range(5))
def test_random_bytes_never_raise(tmp_path, seed):
    rng = random.Random(seed)
    path = tmp_path / "state.jsonl"
    _genuine_journal(path)
    data = bytearray(path.read_bytes())
    for _ in range(20):
        data[rng.randrange(len(data))] = rng.randrange(256)
    path.write_bytes(bytes(data))
    restored = _restore(path)
    # a line changed by a random byte is rejected by its checksum: what is left never exceeds the truth
    assert restored.ledger.volume <= D("30.1")
