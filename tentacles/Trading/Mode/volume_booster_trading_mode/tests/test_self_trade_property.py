"""Self-trade prevention as a property: over many randomized situations (settings anywhere inside the settings
table's bounds, prices, price steps, the mode's own resting orders, balances, inventory and progress), no order
the mode would place can match one of its own resting orders.

Pure: the planner and the consumer's final checks only, no OctoBot engine. The consumer's last steps are
reproduced independently here: OctoBot's price precision truncates the price to the exchange's price step
(`decimal_check_and_adapt_order_details_if_necessary` with truncate=True), a resting sell truncated onto the
price is moved one step up, then `planner.crosses_own_orders` is the final check; a market order first
cancels the orders `planner.opposite_orders_in_the_way` returns.
"""
import decimal
import math
import random

from tentacles.Trading.Mode.volume_booster_trading_mode import actions
from tentacles.Trading.Mode.volume_booster_trading_mode import planner as vb_planner
from tentacles.Trading.Mode.volume_booster_trading_mode import strategy
from tentacles.Trading.Mode.volume_booster_trading_mode import settings as vb_settings

D = decimal.Decimal
SITUATIONS = 12_000
SEED = 20240917


def _log_uniform(rng, low, high):
    low = max(low, 1e-12)
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def _random_number(rng, spec):
    """A value inside the spec's bounds, spread over its orders of magnitude, bounds included now and then."""
    roll = rng.random()
    if roll < 0.04:
        value = spec.min_val
    elif roll < 0.08:
        value = spec.max_val
    elif spec.max_val / max(spec.min_val, 1e-12) > 1000:
        value = _log_uniform(rng, spec.min_val, spec.max_val)
    else:
        value = rng.uniform(spec.min_val, spec.max_val)
    # floating-point rounding of exp/log must not leave the bounds
    value = min(max(value, spec.min_val), spec.max_val)
    if spec.kind == vb_settings.INT:
        return int(min(max(round(value), spec.min_val), spec.max_val))
    return value


def random_settings(rng, price):
    """Raw settings within the settings table's bounds; amounts often near the order of magnitude of the
    balances used below so that funds, targets and caps all come into play."""
    raw = {}
    for spec in vb_settings.SPECS:
        if spec.kind == vb_settings.BOOLEAN:
            raw[spec.name] = True
        elif spec.kind == vb_settings.OPTIONS:
            raw[spec.name] = rng.choice(spec.options)
        elif spec.kind == vb_settings.TEXT:
            raw[spec.name] = spec.default
        else:
            raw[spec.name] = _random_number(rng, spec)
    if rng.random() < 0.7:
        # realistic sizes: 10 to 10,000 quote units (prices go from 1e-6 to 1e6, so quantities vary widely)
        for side in ("buy", "sell"):
            low = _log_uniform(rng, 10, 10_000)
            raw[f"min_{side}_amount"] = low
            raw[f"max_{side}_amount"] = low * rng.uniform(1, 10)
        raw["volume_target"] = _log_uniform(rng, 10, 1e7)
        raw["daily_volume_cap"] = 0.0 if rng.random() < 0.5 else _log_uniform(rng, 10, 1e7)
        raw["max_cost"] = 0.0 if rng.random() < 0.5 else _log_uniform(rng, 0.01, 1e7)
    for lower, upper in vb_settings.ORDERED_PAIRS:
        if raw[lower] > raw[upper]:
            raw[lower], raw[upper] = raw[upper], raw[lower]
    return vb_settings.parse_settings(raw)


def random_own_orders(rng, price, tick):
    """The mode's own resting orders: usually buys below and sells above the price, sometimes anywhere
    (orders from before a price jump, a restart, a settings change)."""
    orders = []
    for index in range(rng.choice((0, 0, 1, 2, 3, 5, 10))):
        side = rng.choice((vb_planner.BUY, vb_planner.SELL))
        if rng.random() < 0.8:
            distance = D(str(round(_log_uniform(rng, 1e-6, 0.2), 12)))
            order_price = price * (1 - distance) if side == vb_planner.BUY else price * (1 + distance)
        else:
            order_price = price * D(str(round(rng.uniform(0.7, 1.3), 12)))
        if rng.random() < 0.3:
            # exactly one or two steps from the price: where rounding matters most
            steps = tick * rng.choice((1, 2))
            order_price = price - steps if side == vb_planner.BUY else price + steps
        if tick and rng.random() < 0.8:
            order_price = order_price.quantize(tick, rounding=decimal.ROUND_DOWN)
        if order_price > 0:
            orders.append((f"own-{index}", side, order_price))
    return orders


def random_situation(rng):
    price = D(str(float(f"{_log_uniform(rng, 1e-6, 1e6):.8g}")))
    # a price step from far finer than the price to the price's own order of magnitude (or none known)
    digits = rng.randint(-1, 10)
    tick = D(0) if rng.random() < 0.1 else D(1).scaleb(-digits)
    if tick and tick >= price:
        tick = D(0)
    settings = random_settings(rng, price)
    own_orders = random_own_orders(rng, price, tick)
    buys = [order_price for _, side, order_price in own_orders if side == vb_planner.BUY]
    sells = [order_price for _, side, order_price in own_orders if side == vb_planner.SELL]
    scale = settings.max_order_amount * D(str(round(_log_uniform(rng, 0.01, 100), 8)))
    quote_available = D(0) if rng.random() < 0.1 else scale * D(str(round(rng.random(), 8)))
    base_available = D(0) if rng.random() < 0.1 else scale * D(str(round(rng.random(), 8))) / price
    pair_value = scale * 2
    base_excess = None if rng.random() < 0.1 else \
        pair_value * D(str(round(rng.uniform(-0.6, 0.6), 8))) / price
    book = rng.random() < 0.3
    bid = price * D(str(round(1 - _log_uniform(rng, 1e-6, 0.01), 10))) if book else None
    ask = price * D(str(round(1 + _log_uniform(rng, 1e-6, 0.01), 10))) if book else None
    market = vb_planner.MarketSnapshot(
        price=price,
        base_available=base_available,
        quote_available=quote_available,
        own_highest_buy=max(buys, default=None),
        own_lowest_sell=min(sells, default=None),
        fee_rate=D(str(round(rng.uniform(0, 0.01), 6))),
        best_bid=bid,
        best_ask=ask,
        price_tick=tick,
        base_excess=base_excess,
        pending_buy_base=D(0) if not buys else scale * D(str(round(rng.uniform(0, 0.3), 8))) / price,
        pending_sell_base=D(0) if not sells else scale * D(str(round(rng.uniform(0, 0.3), 8))) / price,
        pair_value=pair_value,
    )
    target = settings.volume_target
    now = 1_700_000_000 + rng.uniform(0, 10 * 86400)
    # mostly mid-run (room left for orders), sometimes at the end of the target, the day or the budget
    near_end = rng.random() < 0.2
    progress = vb_planner.Progress(
        volume=target * D(str(round(rng.uniform(0.8, 1.05) if near_end else rng.uniform(0, 0.8), 8))),
        pending=target * D(str(round(rng.uniform(0, 0.2 if near_end else 0.05), 8))),
        net_cost=(settings.max_cost or D(10)) * D(str(round(rng.uniform(0.8, 1.2) if near_end
                                                               else rng.uniform(-0.5, 0.5), 8))),
        day_volume=(settings.daily_volume_cap or target) * D(str(round(rng.uniform(0.8, 1.1) if near_end
                                                                        else rng.uniform(0, 0.5), 8))),
        now=now,
        started_at=now - rng.uniform(0, 5 * 86400),
        fill_ratio=None if rng.random() < 0.3 else rng.uniform(0.01, 1),
    )
    return settings, market, progress, own_orders


def crosses_any(side, price, own_orders):
    """Independent of the planner: would an order at `price` match any of these resting orders?"""
    for _, own_side, own_price in own_orders:
        if side == vb_planner.BUY and own_side == vb_planner.SELL and price >= own_price:
            return True
        if side == vb_planner.SELL and own_side == vb_planner.BUY and price <= own_price:
            return True
    return False


def as_place(plan):
    return actions.Place(plan.side, plan.quote_amount, plan.price, resting=plan.is_limit)


def precision_rounded(plan, market):
    """The price after OctoBot's precision rounding: truncated to the price step."""
    tick = market.price_tick
    return plan.price.quantize(tick, rounding=decimal.ROUND_DOWN) if tick else plan.price


def test_no_randomized_situation_ever_crosses_own_resting_orders(record_property):
    rng = random.Random(SEED)
    counts = {
        "situations": 0, "plans": 0, "limit_plans": 0, "market_plans": 0, "situations_with_own_orders": 0,
        # a plan the planner returned that would match an own resting order (must stay 0)
        "planned_crossings": 0,
        # after the consumer's price precision: caught by crosses_own_orders (the order is skipped)
        "caught_by_final_check": 0,
        # orders that would reach the exchange and match an own order (must stay 0)
        "sent_crossings": 0,
        # market orders: own opposite orders left open after the strategy's cancels (must stay 0)
        "market_orders_left_in_the_way": 0,
    }
    first_failure = None
    for situation_index in range(SITUATIONS):
        settings, market, progress, own_orders = random_situation(rng)
        planner = vb_planner.Planner(settings, random.Random(situation_index))
        counts["situations"] += 1
        counts["situations_with_own_orders"] += bool(own_orders)
        plan = planner.plan(progress, market)
        if not isinstance(plan, vb_planner.OrderPlan):
            continue
        counts["plans"] += 1
        failure = None
        if plan.is_limit:
            counts["limit_plans"] += 1
            if crosses_any(plan.side, plan.price, own_orders):
                counts["planned_crossings"] += 1
                failure = "planned crossing"
            final_price = strategy.rounded(as_place(plan), precision_rounded(plan, market), market)
            if isinstance(final_price, actions.Wait):
                counts["caught_by_final_check"] += 1
            elif crosses_any(plan.side, final_price, own_orders):
                counts["sent_crossings"] += 1
                failure = f"sent crossing at {final_price}"
        else:
            counts["market_plans"] += 1
            cancelled = {cancel.order_id for cancel in strategy.in_the_way(as_place(plan), as_own_orders(own_orders))}
            left = [order for order in own_orders if order[0] not in cancelled]
            # a market order takes whatever rests on the other side, at any price
            if any(side != plan.side for _, side, _ in left):
                counts["market_orders_left_in_the_way"] += 1
                failure = "opposite order left open before a market order"
        if failure and first_failure is None:
            first_failure = (failure, settings, market, progress, own_orders, plan)
    print(f"self-trade property: {counts}")
    for name, value in counts.items():
        record_property(name, value)
    assert counts["situations"] >= 10_000
    # the generator reaches the interesting cases: many plans of both kinds, many with own orders around
    assert counts["limit_plans"] >= 1000 and counts["market_plans"] >= 500, counts
    assert counts["situations_with_own_orders"] >= 5000, counts
    assert counts["planned_crossings"] == 0, first_failure
    assert counts["sent_crossings"] == 0, first_failure
    assert counts["market_orders_left_in_the_way"] == 0, first_failure


def as_own_orders(own_orders):
    return [strategy.OwnOrder(order_id, side, price, D(1), 0.0) for order_id, side, price in own_orders]


def test_a_market_order_cancels_every_opposite_order_and_only_those():
    rng = random.Random(SEED + 1)
    checked = 0
    for _ in range(SITUATIONS):
        price = D(str(float(f"{_log_uniform(rng, 1e-6, 1e6):.8g}")))
        own_orders = [
            (f"id-{index}", rng.choice((vb_planner.BUY, vb_planner.SELL)),
             price * D(str(round(rng.uniform(0.5, 1.5), 10))))
            for index in range(rng.randint(0, 12))
        ]
        for side in (vb_planner.BUY, vb_planner.SELL):
            market_order = actions.Place(side, D(10), price, resting=False)
            returned = [cancel.order_id for cancel in strategy.in_the_way(market_order, as_own_orders(own_orders))]
            assert not strategy.in_the_way(actions.Place(side, D(10), price, resting=True), as_own_orders(own_orders))
            expected = [order_id for order_id, order_side, _ in own_orders if order_side != side]
            assert sorted(returned) == sorted(expected), (side, own_orders, returned)
            # each one once
            assert len(returned) == len(set(returned))
            checked += 1
    print(f"in_the_way: {checked} checks")
    assert checked == 2 * SITUATIONS
