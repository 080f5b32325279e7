"""Own orders: bounded ids, the open set, the recently closed."""
from tentacles.Trading.Mode.volume_booster_trading_mode import own_orders as vb_own_orders


def test_a_closed_order_stays_known_as_own():
    registry = vb_own_orders.OwnOrders()
    registry.add("a", open_order="order a")
    registry.add("b")  # filled at once: own, never open
    assert registry.is_own("a") and registry.is_own("b") and not registry.is_own("c")
    assert registry.open_ids == ["a"] and registry.get("a") == "order a" and len(registry) == 1
    assert registry.close("a") is True
    assert registry.close("a") is False and registry.close("b") is False
    assert registry.is_own("a") and not registry.is_open("a")
    assert list(registry.recently_closed) == ["a", "a", "b"]


def test_ids_stay_bounded_but_open_orders_are_never_forgotten():
    registry = vb_own_orders.OwnOrders(ids_kept=10, closed_kept=5)
    registry.add("first", open_order=object())
    for index in range(1000):
        registry.add(f"id-{index}", open_order=object())
        registry.close(f"id-{index}")
    assert registry.is_own("first") and registry.is_open("first")
    assert registry.is_own("id-999") and not registry.is_own("id-0")
    assert len(registry.recent_ids) <= 11 and registry.recent_ids[-1] == "first"
    assert len(registry.recently_closed) == 5
