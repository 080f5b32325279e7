"""The Volume Booster inside OctoBot's real backtesting engine (octobot-backtesting importer,
octobot-trading simulated exchange and trader) on real exchange data from ../shared/data."""
import json

import pytest

from tests import mode_observers
from volume_booster import REPO_ROOT, simulation

SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
BTC_USDT = SHARED_DATA / "AbstractExchangeHistoryCollector_1586017993.616272.data"
ETH_USDT = SHARED_DATA / "AbstractExchangeHistoryCollector_1581776676.5721796.data"

pytestmark = pytest.mark.skipif(not BTC_USDT.exists(), reason=f"shared market data missing: {SHARED_DATA}")


def run(data=BTC_USDT, observer=None, **overrides):
    overrides.setdefault("random_seed", 7)
    with simulation.quiet_octobot_logs():
        return simulation.run(data, overrides, observer=observer)


def test_limit_orders_reach_target_with_volume_equal_to_fills():
    result = run(volume_target=20000, order_type="limit")
    assert result.target_reached
    assert result.fills > 0 and result.orders_filled > 0
    # volume is the engine's own fills, summed independently from its trades
    assert result.volume == pytest.approx(result.sum_of_fills, rel=1e-12)
    assert result.fees == pytest.approx(result.sum_of_fill_fees, rel=1e-12)
    assert 20000 <= result.volume <= 20000 + 150
    # 0.1% fees on the filled volume
    assert result.fees == pytest.approx(result.volume * 0.001, rel=1e-6)


def test_market_orders_reach_target_and_stop():
    result = run(volume_target=5000, order_type="market")
    assert result.target_reached
    assert result.stopped_reason == "target reached"
    assert 5000 <= result.volume <= 5000 + 150
    # market orders fill at once: every created order filled, none cancelled
    assert result.orders_created == result.orders_filled == result.fills
    assert result.orders_cancelled == 0
    assert result.volume == pytest.approx(result.sum_of_fills, rel=1e-12)


def test_buys_and_sells_both_occur():
    result = run(volume_target=10000, order_type="market")
    assert result.buy_volume > 0 and result.sell_volume > 0
    assert result.buy_volume + result.sell_volume == pytest.approx(result.volume, rel=1e-12)


def test_reaching_target_cancels_open_orders_and_stops_trading():
    created_after_target = []
    lowered = {}

    def observe(exchange_manager):
        booster = exchange_manager.trading_modes[0].get_booster()
        if booster.ledger is None:
            return
        open_orders = len(booster.view().open_order_ids)
        if not lowered and open_orders >= 3 and booster.ledger.volume > 0:
            # the target is lowered to what is already filled while orders rest on the book
            lowered["open"] = open_orders
            lowered["created"] = booster.ledger.orders_created
            booster.ledger.target = booster.ledger.volume
        elif lowered:
            created_after_target.append(booster.ledger.orders_created - lowered["created"])

    result = run(volume_target=20000, order_type="limit", max_open_orders=40, price_offset_percent=0.3,
                 limit_order_timeout_seconds=3600, observer=observe)
    assert lowered, "the run never had resting orders to cancel"
    assert result.target_reached and result.stopped_reason == "target reached"
    assert result.open_orders_left == 0
    assert result.orders_cancelled >= 1
    # after the target: no new order (at most the one of the step in progress when it was lowered)
    assert max(created_after_target, default=0) <= 1


def test_unfilled_limit_orders_count_nothing_and_expire_after_timeout():
    timeout = 300
    ages = []

    def observe(exchange_manager):
        now = exchange_manager.exchange.get_exchange_current_time()
        booster = exchange_manager.trading_modes[0].get_booster()
        for order_id in booster.view().open_order_ids:
            ages.append(now - booster.books.orders.get(order_id).creation_time)

    # 9% away from the price: nothing fills on this 8-hour file
    result = run(volume_target=20000, order_type="limit", price_offset_percent=9, observer=observe,
                 limit_order_timeout_seconds=timeout, max_open_orders=5)
    assert result.fills == 0 and result.volume == 0 and result.fees == 0
    assert result.orders_created > 10
    assert result.orders_cancelled >= result.orders_created - 5
    assert not result.target_reached
    # an order lives at most its timeout plus one engine time step (60 s on 1m data)
    assert ages and max(ages) <= timeout + 60


def test_disabled_mode_places_nothing():
    result = run(volume_target=20000, enabled=False)
    assert result.orders_created == 0 and result.fills == 0 and result.volume == 0
    assert result.stopped_reason == "disabled"


def test_invalid_settings_place_no_order():
    result = run(volume_target=20000, min_sell_amount=500, max_sell_amount=100)
    assert result.orders_created == 0 and result.fills == 0
    assert "min_sell_amount" in result.settings_error and "max_sell_amount" in result.settings_error


def test_producer_starts_consumer_without_any_signal(monkeypatch):
    mode_package = simulation.import_mode_module()
    producer_class = mode_package.volume_booster_trading.VolumeBoosterProducer
    original_start = producer_class.start
    calls = []

    async def recording_start(producer):
        await original_start(producer)
        booster = producer.trading_mode.get_booster()
        calls.append((booster.view().running, producer.trading_mode.consumers[0].__class__.__name__))

    signals = []
    consumer_class = mode_package.volume_booster_trading.VolumeBoosterConsumer
    monkeypatch.setattr(producer_class, "start", recording_start)
    monkeypatch.setattr(consumer_class, "internal_callback",
                        lambda *args, **kwargs: signals.append(args), raising=True)
    result = run(volume_target=2000, order_type="market")
    # the producer's start itself started the consumer's loop, and no signal ever reached the consumer
    assert calls == [(True, "VolumeBoosterConsumer")]
    assert signals == []
    assert result.orders_created > 0 and result.fills > 0


@pytest.mark.skipif(not ETH_USDT.exists(), reason="ETH/USDT shared data missing")
def test_other_pair_gets_a_balanced_portfolio_and_trades():
    result = run(data=ETH_USDT, volume_target=5000, order_type="market")
    assert result.symbol == "ETH/USDT"
    assert result.target_reached
    assert result.start_portfolio["ETH"] * result.first_price == pytest.approx(result.start_portfolio["USDT"],
                                                                               rel=1e-6)


def test_current_state_shows_progress_and_cost(monkeypatch):
    states = []

    def record_state_at_stop(booster, record):
        # the step that stopped the mode: its state as OctoBot shows it
        if any(outcome.stopped for _, outcome in record.decisions):
            states.append(booster.trading_mode.get_current_state())

    mode_observers.on_each_booster(monkeypatch, lambda booster: booster.step_listeners.append(
        lambda record: record_state_at_stop(booster, record)))
    result = run(volume_target=3000, order_type="market")
    description, percent = states[-1]
    assert percent == pytest.approx(result.volume / result.target * 100, rel=1e-9)
    assert description.startswith(f"target reached: volume {result.volume:.2f}/3000.0 USDT ({percent:.1f}%)")
    assert f"fees {result.fees:.6f} USDT" in description
    assert "cost so far" in description and "bps" in description
    assert f"{result.fills} fills, 0 open orders" in description


def test_a_run_leaves_the_callers_profile_untouched():
    profile = simulation.Profile.load()
    before = json.dumps(profile.mode_settings, sort_keys=True)
    with simulation.quiet_octobot_logs():
        simulation.run(BTC_USDT, {"volume_target": 1000, "order_type": "market", "random_seed": 3}, profile=profile)
    assert json.dumps(profile.mode_settings, sort_keys=True) == before
