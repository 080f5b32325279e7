"""Ledger: volume and fees only from fills, each trade counted once, state survives a round trip."""
import decimal
import json

from tentacles.Trading.Mode.volume_booster_trading_mode import ledger as vb_ledger

D = decimal.Decimal


def fill(trade_id, side="buy", amount="0.01", price="10000", fee="0.1", maker=False, ts=1.0):
    amount, price = D(amount), D(price)
    return vb_ledger.Fill(trade_id, f"o{trade_id}", side, amount, price, amount * price, D(fee), ts, maker)


def test_fills_add_volume_and_fees_once():
    ledger = vb_ledger.Ledger(D(250))
    assert ledger.record_fill(fill("1"))
    assert not ledger.record_fill(fill("1"))  # same trade seen again
    assert ledger.record_fill(fill("2", side="sell", maker=True))
    assert ledger.volume == D(200) and ledger.fees == D("0.2")
    assert ledger.buy_volume == ledger.sell_volume == D(100)
    assert ledger.maker_volume == D(100)
    assert ledger.fills_count == 2
    assert not ledger.target_reached and ledger.remaining == D(50)


def test_empty_fill_counts_nothing():
    ledger = vb_ledger.Ledger(D(100))
    assert not ledger.record_fill(fill("1", amount="0"))
    assert ledger.volume == 0 and ledger.fills_count == 0


def test_partial_fills_add_their_filled_part():
    ledger = vb_ledger.Ledger(D(1000))
    ledger.record_fill(fill("a", amount="0.003"))
    ledger.record_fill(fill("b", amount="0.002"))
    assert ledger.volume == D(50)


def test_target_reached_time_is_the_crossing_fill():
    ledger = vb_ledger.Ledger(D(150))
    ledger.record_fill(fill("1", ts=10))
    ledger.record_fill(fill("2", ts=20))
    ledger.record_fill(fill("3", ts=30))
    assert ledger.target_reached and ledger.target_reached_time == 20
    assert ledger.progress_percent == D(200)


def test_round_trip_keeps_everything_and_still_refuses_duplicates():
    ledger = vb_ledger.Ledger(D(1000))
    ledger.record_fill(fill("1"))
    ledger.orders_created, ledger.orders_cancelled = 3, 1
    restored = vb_ledger.Ledger.from_dict(json.loads(json.dumps(ledger.to_dict())))
    assert restored.to_dict() == ledger.to_dict()
    assert not restored.record_fill(fill("1"))
    assert restored.record_fill(fill("2"))
    assert restored.volume == D(200)


def test_net_cost_is_fees_plus_trading_loss_versus_holding():
    ledger = vb_ledger.Ledger(D(10 ** 6))
    # buy 1 base at 100 paying 0.001 base fee, sell 1 base at 99 paying 0.099 quote fee
    ledger.record_fill(vb_ledger.Fill("b", "o1", "buy", D(1), D(100), D(100), D("0.1"), 1.0,
                                      fee_in_base=D("0.001")))
    ledger.record_fill(vb_ledger.Fill("s", "o2", "sell", D(1), D(99), D(99), D("0.099"), 2.0,
                                      fee_in_quote=D("0.099")))
    assert ledger.base_delta == D("-0.001")
    assert ledger.quote_delta == D("-1.099")
    # at 100: paid 1 of spread + 0.099 quote fee + 0.001 base (0.1 quote)
    assert ledger.net_cost(D(100)) == D("1.199")
    assert ledger.net_cost(D(0)) == D("1.099")


def test_remembered_trade_ids_are_bounded_and_recent_ones_still_refused(monkeypatch):
    monkeypatch.setattr(vb_ledger, "COUNTED_IDS_KEPT", 100)
    ledger = vb_ledger.Ledger(D(10 ** 9))
    for index in range(250):
        assert ledger.record_fill(fill(str(index)))
    assert len(ledger.to_dict()["counted_trade_ids"]) == 100
    assert not ledger.record_fill(fill("249")) and not ledger.record_fill(fill("150"))
    assert ledger.fills_count == 250
    restored = vb_ledger.Ledger.from_dict(ledger.to_dict())
    assert not restored.record_fill(fill("200"))
    assert restored.to_dict() == ledger.to_dict()
