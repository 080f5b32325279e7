"""Execution in OctoBot's real backtesting engine (issue 3): reach the target cheaply, stay balanced, never trade
with yourself.

Each run goes through `simulation.run_simulation` (octobot-backtesting importer, octobot-trading simulated exchange
and trader) on real data from ../shared/data. A recorder wraps, for the run only, the calls the mode makes:
`trading_mode.create_order` (the order, its params, the engine portfolio and the mode's own open orders on the
exchange at that moment), the consumer's `_cancel` (reason), `_finish` (stop reason, price, portfolio),
`_market_snapshot`, `_place_next_order` and `Planner.plan` (the decisions), and reads the engine's trade record
when the data is played. Every figure asserted is recomputed here from the engine's own orders, trades and
portfolio, never taken from the mode's ledger.

Engine facts these tests rely on (octobot-notes.md): market orders fill at the close of the current candle, the
simulated time advances in steps of the finest time frame (60 s on 1m files), there is no order book, the
simulated market status has 8 decimals of amount and price precision, a 0.00001 minimum amount and a 0.001
minimum cost.
"""
import asyncio
import collections
import dataclasses
import decimal
import inspect
import logging
import math
import random

import pytest

from volume_booster import REPO_ROOT, datafile, simulation

SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
BTC_USDT = SHARED_DATA / "AbstractExchangeHistoryCollector_1586017993.616272.data"
ADA_BTC_10_DAYS = SHARED_DATA / "AbstractExchangeHistoryCollector_1581775117.1713624.data"
FOUR_PAIRS_4H = SHARED_DATA / "ExchangeHistoryDataCollector_1711122002.311132.data"

pytestmark = pytest.mark.skipif(not BTC_USDT.exists(), reason=f"shared market data missing: {SHARED_DATA}")

D = decimal.Decimal
ZERO = D(0)
# a hang guard only (an exception inside the engine can leave it waiting forever), never an assertion
ENGINE_RUN_TIMEOUT = 600
ONE_MINUTE_STEP = 60
FEE_RATE = D("0.001")  # the profile's simulator fees: 0.1 % maker and taker
DEFAULT_AMOUNTS = {"min_buy_amount": 25, "max_buy_amount": 150, "min_sell_amount": 25, "max_sell_amount": 150}
BINANCE_STP_MODES = {"EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"}  # Binance's selfTradePreventionMode values


def _mode_classes():
    package = simulation.import_mode_module()
    module = package.volume_booster_trading
    return module.VolumeBoosterTradingMode, module.VolumeBoosterConsumer, module.vb_planner.Planner


# ----------------------------------------------------------------------------------------------- recording

@dataclasses.dataclass
class Recording:
    result: object = None
    created: list = dataclasses.field(default_factory=list)
    cancels: list = dataclasses.field(default_factory=list)
    snapshots: list = dataclasses.field(default_factory=list)
    plans: list = dataclasses.field(default_factory=list)
    finishes: list = dataclasses.field(default_factory=list)
    trades: list = dataclasses.field(default_factory=list)
    markets: dict = dataclasses.field(default_factory=dict)
    book_tops: set = dataclasses.field(default_factory=set)
    warnings: list = dataclasses.field(default_factory=list)

    def trades_of(self, symbol=None):
        return [trade for trade in self.trades if symbol is None or trade["symbol"] == symbol]

    def volume(self, symbol=None):
        return sum((trade["qty"] * trade["price"] for trade in self.trades_of(symbol)), ZERO)

    @property
    def start(self):
        return {currency: D(str(amount)) for currency, amount in self.result.start_portfolio.items()}

    @property
    def end(self):
        return {currency: D(str(amount)) for currency, amount in self.result.end_portfolio.items()}


def _portfolio(exchange_manager) -> dict:
    """currency -> (total, available), straight from the engine's portfolio."""
    holdings = exchange_manager.exchange_personal_data.portfolio_manager.portfolio.portfolio
    return {currency: (asset.total, asset.available) for currency, asset in holdings.items()}


def _mark_price(exchange_manager, symbol):
    return exchange_manager.exchange_symbols_data.get_exchange_symbol_data(
        symbol, allow_creation=False).prices_manager.mark_price


def _own_open_orders(exchange_manager, symbol, booster) -> list:
    """The mode's own orders the exchange holds open for `symbol`."""
    return [order for order in exchange_manager.exchange_personal_data.orders_manager.get_open_orders(symbol=symbol)
            if order.order_id in booster._own_order_ids]


class _WarningCatcher(logging.Handler):
    def __init__(self, sink):
        super().__init__(logging.WARNING)
        self.sink = sink

    def emit(self, record):
        self.sink.append(record.getMessage())


def run_recorded(data_file, overrides, starting_portfolio=None, before_place=None,
                 warnings_of=None) -> Recording:
    """One engine run with the recorder installed; `before_place(consumer)` runs at each order decision;
    `warnings_of`: symbol whose mode warnings are captured."""
    mode_class, consumer_class, planner_class = _mode_classes()
    recording = Recording()
    deciding = {}
    original = {
        "create_order": mode_class.create_order,
        "_cancel": consumer_class._cancel,
        "_finish": consumer_class._finish,
        "_market_snapshot": consumer_class._market_snapshot,
        "_place_next_order": consumer_class._place_next_order,
        "plan": planner_class.plan,
        "_collect_result": simulation._collect_result,
    }

    async def create_order(trading_mode, order, *args, **kwargs):
        exchange_manager = trading_mode.exchange_manager
        booster = trading_mode.get_booster()
        entry = {
            "symbol": trading_mode.symbol,
            "t": exchange_manager.exchange.get_exchange_current_time(),
            "side": order.side.value,
            "type": order.order_type.value,
            "price": order.origin_price,
            "qty": order.origin_quantity,
            "params": dict(kwargs.get("params") or {}),
            "own": [(o.order_id, o.side.value, o.origin_price, o.creation_time)
                    for o in _own_open_orders(exchange_manager, trading_mode.symbol, booster)],
            "mark": _mark_price(exchange_manager, trading_mode.symbol),
            "portfolio_before": _portfolio(exchange_manager),
        }
        created = await original["create_order"](trading_mode, order, *args, **kwargs)
        entry["created"] = created is not None
        entry["order_id"] = created.order_id if created is not None else None
        entry["portfolio_after"] = _portfolio(exchange_manager)
        recording.created.append(entry)
        return created

    async def cancel(consumer, order, reason, *args, **kwargs):
        exchange_manager = consumer.exchange_manager
        recording.cancels.append({
            "symbol": consumer.symbol, "t": exchange_manager.exchange.get_exchange_current_time(),
            "side": order.side.value, "price": order.origin_price, "created": order.creation_time,
            "reason": reason, "mark": _mark_price(exchange_manager, consumer.symbol),
        })
        return await original["_cancel"](consumer, order, reason, *args, **kwargs)

    async def finish(consumer, reason, *args, **kwargs):
        exchange_manager = consumer.exchange_manager
        result = await original["_finish"](consumer, reason, *args, **kwargs)
        recording.finishes.append({
            "symbol": consumer.symbol, "t": exchange_manager.exchange.get_exchange_current_time(),
            "reason": reason, "mark": _mark_price(exchange_manager, consumer.symbol),
            "portfolio": _portfolio(exchange_manager),
        })
        return result

    async def market_snapshot(consumer, *args, **kwargs):
        market = await original["_market_snapshot"](consumer, *args, **kwargs)
        if market is not None:
            exchange_manager = consumer.exchange_manager
            recording.snapshots.append({
                "symbol": consumer.symbol, "t": exchange_manager.exchange.get_exchange_current_time(),
                "market": market, "portfolio": _portfolio(exchange_manager),
            })
        return market

    async def place_next_order(consumer, *args, **kwargs):
        deciding["consumer"] = consumer
        recording.book_tops.add(consumer._book_top())
        if before_place is not None:
            before_place(consumer)
        return await original["_place_next_order"](consumer, *args, **kwargs)

    def plan(planner, progress, market):
        outcome = original["plan"](planner, progress, market)
        consumer = deciding.get("consumer")
        exchange_manager = consumer.exchange_manager if consumer is not None else None
        recording.plans.append({
            "symbol": consumer.symbol if consumer is not None else None,
            "t": progress.now, "net_cost": progress.net_cost, "price": market.price, "outcome": outcome,
            "pending": progress.pending,
            "portfolio": _portfolio(exchange_manager) if exchange_manager else None,
            # the trades the engine already had when this decision was taken
            "trade_ids": set(exchange_manager.exchange_personal_data.trades_manager.trades)
            if exchange_manager else set(),
        })
        return outcome

    def collect_result(exchange_manager, *args, **kwargs):
        # the data is played: read the engine's final state before it stops
        for trading_mode in exchange_manager.trading_modes:
            booster = trading_mode.get_booster()
            symbol = trading_mode.symbol
            recording.markets[symbol] = exchange_manager.exchange.get_market_status(symbol, with_fixer=False)
            for trade in exchange_manager.exchange_personal_data.trades_manager.trades.values():
                if trade.symbol == symbol and trade.origin_order_id in booster._own_order_ids \
                        and trade.executed_quantity > 0:
                    recording.trades.append({
                        "symbol": symbol, "id": trade.trade_id, "order_id": trade.origin_order_id,
                        "side": trade.side.value,
                        "qty": trade.executed_quantity, "price": trade.executed_price, "t": trade.executed_time,
                        "taker_or_maker": trade.taker_or_maker, "fee": dict(trade.fee or {}),
                    })
        return original["_collect_result"](exchange_manager, *args, **kwargs)

    kwargs = {"starting_portfolio": starting_portfolio}
    if "timeline" in inspect.signature(simulation.run_simulation).parameters:
        kwargs["timeline"] = False  # not needed here
    # the profile's sizes, set here so that the bounds below never depend on the shipped profile
    overrides = {"random_seed": 7, **DEFAULT_AMOUNTS, **overrides}
    catcher = None
    mode_logger = logging.getLogger(f"VolumeBooster[{warnings_of}]") if warnings_of else None
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mode_class, "create_order", create_order)
        patch.setattr(consumer_class, "_cancel", cancel)
        patch.setattr(consumer_class, "_finish", finish)
        patch.setattr(consumer_class, "_market_snapshot", market_snapshot)
        patch.setattr(consumer_class, "_place_next_order", place_next_order)
        patch.setattr(planner_class, "plan", plan)
        patch.setattr(simulation, "_collect_result", collect_result)
        previous_level = mode_logger.level if mode_logger else None
        if mode_logger is not None:
            catcher = _WarningCatcher(recording.warnings)
            mode_logger.addHandler(catcher)
            mode_logger.setLevel(logging.WARNING)
        try:
            with simulation.quiet_octobot_logs():
                recording.result = asyncio.run(asyncio.wait_for(
                    simulation.run_simulation(data_file, overrides, **kwargs), ENGINE_RUN_TIMEOUT))
        finally:
            if mode_logger is not None:
                mode_logger.removeHandler(catcher)
                mode_logger.setLevel(previous_level)
    recording.trades.sort(key=lambda trade: trade["t"])
    return recording


# ----------------------------------------------------------------------------------------------- helpers

def _cost(start: dict, holdings: dict, base: str, quote: str, price) -> D:
    """What trading cost versus holding the starting portfolio, both valued at `price` (quote currency)."""
    def total(currency):
        value = holdings[currency]
        return value[0] if isinstance(value, tuple) else value
    return (start[base] - total(base)) * price + (start[quote] - total(quote))


def _expected_resting_price(side, mark, offset_percent, tick):
    """Independent of the planner: a resting buy `offset_percent` below / sell above `mark`, at least one price
    step away, truncated to the price step (OctoBot truncates prices), a truncated sell kept above the mark."""
    offset = D(str(offset_percent)) / 100
    if side == "buy":
        price = min(mark * (1 - offset), mark - tick)
    else:
        price = max(mark * (1 + offset), mark + tick)
    price = price.quantize(tick, rounding=decimal.ROUND_DOWN)
    if side == "sell" and price <= mark:
        price += tick
    return price


def _digits_tick(market_status, key) -> D:
    return D(1).scaleb(-int(market_status["precision"][key]))


def _fee_in_quote(trade, quote):
    """The trade's fee in the quote currency (a fee in base converted at the fill price)."""
    fee = trade["fee"]
    cost = D(str(fee.get("cost") or 0))
    if fee.get("currency") == quote:
        return cost
    return cost * trade["price"]


# ----------------------------------------------------------------------------------------------- runs

TARGET = 5000
MAX_ORDER = D(DEFAULT_AMOUNTS["max_buy_amount"])  # = max_sell_amount (USDT)
LIMIT_OFFSET = 0.1234567  # many decimals: the limit prices need OctoBot's price precision
MAKER = {"maker_offset_percent": 0.02, "reprice_percent": 0.05, "limit_order_timeout_seconds": 180}


@pytest.fixture(scope="module")
def market_run():
    return run_recorded(BTC_USDT, {"volume_target": TARGET, "order_type": "market"})


@pytest.fixture(scope="module")
def limit_run():
    return run_recorded(BTC_USDT, {"volume_target": TARGET, "order_type": "limit",
                                   "price_offset_percent": LIMIT_OFFSET, "limit_order_timeout_seconds": 180})


@pytest.fixture(scope="module")
def maker_run():
    return run_recorded(BTC_USDT, {"volume_target": TARGET, "order_type": "maker", "random_seed": 3, **MAKER})


@pytest.fixture
def style_run(request):
    return request.getfixturevalue(f"{request.param}_run")


STYLES = ("market", "limit", "maker")


# ======================================================================= 1. execution styles (maker)

def test_maker_orders_rest_at_the_offset_from_the_mark_price_without_order_book(maker_run):
    run = maker_run
    # the backtester has no order book: the mode saw none at any decision
    assert run.book_tops == {(None, None)}
    tick = _digits_tick(run.markets["BTC/USDT"], "price")
    makers = [order for order in run.created if order["created"]]
    assert len(makers) > 50
    for order in makers:
        assert order["type"] == f"{order['side']}_limit"
        expected = _expected_resting_price(order["side"], order["mark"], MAKER["maker_offset_percent"], tick)
        assert abs(order["price"] - expected) <= tick, order
        # buys rest below, sells above the mark, a small offset away
        distance = (order["mark"] - order["price"]) if order["side"] == "buy" else (order["price"] - order["mark"])
        assert ZERO < distance <= order["mark"] * D(str(MAKER["maker_offset_percent"])) / 100 + tick, order
    assert {order["side"] for order in makers} == {"buy", "sell"}


def test_maker_fills_are_maker_fills_at_the_resting_price_or_better(maker_run):
    run = maker_run
    assert len(run.trades) > 10
    assert {trade["taker_or_maker"] for trade in run.trades} == {"maker"}
    # a resting order fills at its own price or better (the simulator gives the candle's price when the market
    # jumped through the order between two steps), never worse
    orders = {order["order_id"]: order for order in run.created}
    at_own_price = 0
    for trade in run.trades:
        order = orders[trade["order_id"]]
        assert trade["side"] == order["side"] and trade["qty"] <= order["qty"]
        if trade["side"] == "buy":
            assert trade["price"] <= order["price"], (trade, order["price"])
        else:
            assert trade["price"] >= order["price"], (trade, order["price"])
        at_own_price += trade["price"] == order["price"]
    assert at_own_price >= len(run.trades) / 2
    assert run.result.maker_share == pytest.approx(1.0)


def test_maker_orders_are_repriced_when_the_market_moves_away(maker_run):
    run = maker_run
    tick = _digits_tick(run.markets["BTC/USDT"], "price")
    threshold = D(str(MAKER["reprice_percent"]))

    def moved_percent(side, price, mark):
        wanted = _expected_resting_price(side, mark, MAKER["maker_offset_percent"], tick)
        return abs(wanted - price) / mark * 100

    repriced = [cancel for cancel in run.cancels if cancel["reason"].startswith("repriced")]
    assert len(repriced) >= 5
    # each reprice: the market had moved away by more than reprice_percent
    for cancel in repriced:
        assert moved_percent(cancel["side"], cancel["price"], cancel["mark"]) > threshold, cancel
    # and no resting order stays further away than that: at each new order, every own resting order is within it
    # (one price step of rounding)
    checked = 0
    for order in run.created:
        for _, side, price, _ in order["own"]:
            assert moved_percent(side, price, order["mark"]) <= threshold + tick / order["mark"] * 100, order
            checked += 1
    assert checked > 100


@pytest.mark.parametrize("style_run", ["limit", "maker"], indirect=True)
def test_unfilled_resting_orders_are_cancelled_on_timeout(style_run):
    run = style_run
    timeout = 180
    timeouts = [cancel for cancel in run.cancels if cancel["reason"] == "timeout"]
    assert timeouts, "no order reached its timeout: the scenario does not test it"
    assert all(cancel["t"] - cancel["created"] >= timeout for cancel in timeouts)
    # no own order is ever seen older than the timeout plus one engine step
    ages = [order["t"] - created for order in run.created for _, _, _, created in order["own"]]
    assert ages and max(ages) <= timeout + ONE_MINUTE_STEP


# ======================================================================= 2. inventory band

BAND_PP = 1.0
BAND_AMOUNTS = {"min_buy_amount": 100, "max_buy_amount": 300, "min_sell_amount": 100, "max_sell_amount": 300}


def _drift_pp(start_base, holdings, price):
    """Base bought minus sold (fees included), at `price`, in percentage points of the pair's value."""
    base, quote = holdings["BTC"][0], holdings["USDT"][0]
    return (base - start_base) * price / (base * price + quote) * 100


@pytest.fixture(scope="module")
def band_runs():
    settings = {"volume_target": 20000, "order_type": "market", "random_seed": 21, **BAND_AMOUNTS}
    balanced = run_recorded(BTC_USDT, {**settings, "side_policy": "balanced", "inventory_band_pp": BAND_PP})
    coin_flip = run_recorded(BTC_USDT, {**settings, "side_policy": "random"})
    return balanced, coin_flip


def test_balanced_inventory_stays_within_the_band_and_ends_near_zero(band_runs):
    balanced, coin_flip = band_runs
    start_base = balanced.start["BTC"]
    max_order = D(BAND_AMOUNTS["max_buy_amount"])
    worst_excess = None
    samples = 0
    for order in balanced.created:
        pair_value = order["portfolio_before"]["BTC"][0] * order["mark"] + order["portfolio_before"]["USDT"][0]
        # inside the band any side may be drawn, so one order (at most max_order of value) can step out of it
        one_order_pp = max_order / pair_value * 100
        for holdings in (order["portfolio_before"], order["portfolio_after"]):
            drift = abs(_drift_pp(start_base, holdings, order["mark"]))
            excess = drift - (D(str(BAND_PP)) + one_order_pp)
            worst_excess = excess if worst_excess is None else max(worst_excess, excess)
            samples += 1
    assert samples > 100
    assert worst_excess <= D("0.01"), f"drift exceeded band + one order by {worst_excess} pp"
    # what the mode itself saw at each decision (its snapshot) obeys the same bound
    for snapshot in balanced.snapshots:
        market = snapshot["market"]
        assert abs(market.inventory_drift_pp) <= D(str(BAND_PP)) + max_order / market.pair_value * 100 + D("0.01")
    # ends near zero: within one order of the start
    end_price = D(str(balanced.result.last_price))
    end = {currency: (amount, amount) for currency, amount in balanced.end.items()}
    end_value = end["BTC"][0] * end_price + end["USDT"][0]
    assert abs(_drift_pp(start_base, end, end_price)) <= max_order / end_value * 100
    # the band is what kept it there: the same run with coin-flip sides drifts far beyond it
    coin_start = coin_flip.start["BTC"]
    coin_drift = max(abs(_drift_pp(coin_start, order["portfolio_after"], order["mark"])) for order in coin_flip.created)
    coin_value = coin_start * D(str(coin_flip.result.first_price)) + coin_flip.start["USDT"]
    assert coin_drift > 2 * (D(str(BAND_PP)) + max_order / coin_value * 100), coin_drift


def test_both_sides_occur_inside_the_band(band_runs):
    balanced, _ = band_runs
    start_base = balanced.start["BTC"]
    sides = collections.Counter(
        order["side"] for order in balanced.created
        if abs(_drift_pp(start_base, order["portfolio_before"], order["mark"])) < D(str(BAND_PP))
    )
    assert sides["buy"] >= 5 and sides["sell"] >= 5, sides


@pytest.mark.parametrize("order_type", ["limit", "maker"])
def test_resting_orders_never_carry_the_inventory_past_the_band(order_type):
    """With many resting orders on both sides, the fills of one side alone (the market falling through the
    buys while the sells wait) must not take the real holdings out of the band: checked at every engine step."""
    band = 2.0
    result = simulation.run(BTC_USDT, {
        "order_type": order_type, "side_policy": "balanced", "inventory_band_pp": band, "max_open_orders": 10,
        "volume_target": 12000, "random_seed": 3, "price_offset_percent": 0.1,
        "limit_order_timeout_seconds": 1800, **DEFAULT_AMOUNTS})
    timeline = result.timeline
    # one point per 1m candle of the file: no step is left out of the check
    assert len(timeline.points) >= 490
    drifts = [share - start for share, start in zip(timeline.base_share_pct, timeline.start_share_pct)]
    assert max(abs(drift) for drift in drifts) <= band + 0.01, max(drifts, key=abs)
    # the band was really used (the scenario reaches its edge), and the run still traded its volume
    assert max(abs(drift) for drift in drifts) >= band / 2
    assert result.orders_filled >= 30 and result.volume >= 3000


# ======================================================================= 3. self-trade prevention

@pytest.fixture(scope="module")
def switch_run():
    """Resting limit orders on both sides, then the user switches the running mode to market orders."""
    switched = {}

    def switch_to_market(consumer):
        if not switched and consumer.ledger.orders_created >= 20 and len(consumer._open_orders) >= 4:
            switched["open_sides"] = {order.side.value for order in consumer._open_orders.values()}
            consumer.trading_mode.raw_settings = {**consumer.trading_mode.raw_settings, "order_type": "market"}

    run = run_recorded(BTC_USDT, {"volume_target": 8000, "order_type": "limit", "random_seed": 9,
                                  "max_open_orders": 20, "price_offset_percent": 0.5,
                                  "limit_order_timeout_seconds": 3600}, before_place=switch_to_market)
    run.switched = switched
    return run


def _crossings(run):
    """Created orders that could match one of the mode's own orders open on the exchange at that moment."""
    found = []
    for order in run.created:
        for _, side, price, _ in order["own"]:
            if side == order["side"]:
                continue
            if order["type"].endswith("market"):
                found.append((order, side, price))  # a market order takes any opposite resting order
            elif order["side"] == "buy" and order["price"] >= price:
                found.append((order, side, price))
            elif order["side"] == "sell" and order["price"] <= price:
                found.append((order, side, price))
    return found


@pytest.mark.parametrize("style_run", ["limit", "maker", "switch"], indirect=True)
def test_no_order_ever_crosses_the_modes_own_resting_orders(style_run):
    run = style_run
    with_opposite = sum(1 for order in run.created if any(side != order["side"] for _, side, _, _ in order["own"]))
    # the runs do have resting orders on the other side when new orders are placed
    assert with_opposite >= 10
    assert _crossings(run) == []


def test_opposite_resting_orders_are_cancelled_before_a_market_order(switch_run):
    run = switch_run
    assert run.switched.get("open_sides") == {"buy", "sell"}, "the switch found no resting orders on both sides"
    markets = [order for order in run.created if order["type"].endswith("market")]
    limits = [order for order in run.created if order["type"].endswith("limit")]
    assert len(markets) >= 10 and len(limits) >= 20
    out_of_the_way = [cancel for cancel in run.cancels if "market order" in cancel["reason"]]
    assert out_of_the_way, "no resting order was in the way of a market order"
    for order in markets:
        assert all(side == order["side"] for _, side, _, _ in order["own"]), order
    assert run.result.target_reached


@pytest.mark.parametrize("style_run", STYLES, indirect=True)
def test_orders_carry_the_exchange_stp_parameter_and_maker_orders_post_only(style_run, request):
    run = style_run
    style = request.node.callspec.params["style_run"]
    assert datafile.read_info(BTC_USDT).exchange == "binance"
    assert run.created
    for order in run.created:
        assert order["params"].get("selfTradePrevention") in BINANCE_STP_MODES, order["params"]
        if style == "maker":
            assert order["params"].get("postOnly") is True
        else:
            assert not order["params"].get("postOnly")


# ======================================================================= 4. pacing

PACED = {"volume_target": 0.3, "order_type": "market", "random_seed": 5, "min_buy_amount": 0.001,
         "max_buy_amount": 0.005, "min_sell_amount": 0.001, "max_sell_amount": 0.005}
DEADLINE_HOURS = 48


@pytest.fixture(scope="module")
def deadline_run():
    if not ADA_BTC_10_DAYS.exists():
        pytest.skip("10-day ADA/BTC file missing")
    return run_recorded(ADA_BTC_10_DAYS, {**PACED, "deadline_hours": DEADLINE_HOURS})


def test_deadline_spreads_the_volume_over_the_deadline(deadline_run):
    run = deadline_run
    volume = run.volume()
    assert volume >= D(str(PACED["volume_target"]))
    first = run.created[0]["t"]
    reached = _time_target_reached(run)
    # not in the first small fraction of the time: at least half of it passed
    assert reached - first >= DEADLINE_HOURS * 3600 / 2
    per_hour = collections.Counter()
    for trade in run.trades:
        per_hour[int((trade["t"] - first) // 3600)] += trade["qty"] * trade["price"]
    # spread: fills in most hours, no single hour above 10 % of the volume (2.1 % if perfectly even)
    assert len(per_hour) >= DEADLINE_HOURS / 2
    assert max(per_hour.values()) <= volume * D("0.10"), max(per_hour.values()) / volume


def test_deadline_target_is_reached_before_the_deadline(deadline_run):
    run = deadline_run
    assert _time_target_reached(run) - run.created[0]["t"] <= DEADLINE_HOURS * 3600


def _time_target_reached(run):
    target = D(str(run.result.target))
    volume = ZERO
    for trade in run.trades:
        volume += trade["qty"] * trade["price"]
        if volume >= target:
            return trade["t"]
    raise AssertionError(f"target {target} never reached (volume {volume})")


def test_deadline_delay_never_schedules_past_the_deadline():
    """Pure check of the same rule over many seeds: one order's worth of volume missing, one hour left."""
    from tentacles.Trading.Mode.volume_booster_trading_mode import planner as vb_planner
    from tentacles.Trading.Mode.volume_booster_trading_mode import settings as vb_settings
    settings = vb_settings.parse_settings({**PACED, "deadline_hours": DEADLINE_HOURS})
    started = 1_531_427_700.0
    now = started + (DEADLINE_HOURS - 1) * 3600
    late = 0
    for seed in range(1000):
        planner = vb_planner.Planner(settings, random.Random(seed))
        progress = vb_planner.Progress(volume=D("0.298"), now=now, started_at=started, fill_ratio=1.0)
        if now + planner.next_delay(progress) > started + DEADLINE_HOURS * 3600:
            late += 1
    assert late == 0, f"{late} of 1000 seeds schedule the last order after the deadline"


DAILY_CAP = D("0.1")


@pytest.fixture(scope="module")
def daily_cap_run():
    if not ADA_BTC_10_DAYS.exists():
        pytest.skip("10-day ADA/BTC file missing")
    return run_recorded(ADA_BTC_10_DAYS, {**PACED, "volume_target": 0.3, "daily_volume_cap": float(DAILY_CAP)})


def _volume_per_utc_day(run):
    days = collections.Counter()
    for trade in run.trades:
        days[int(trade["t"] // 86400)] += trade["qty"] * trade["price"]
    return days


def test_daily_cap_spreads_the_target_over_utc_days(daily_cap_run):
    run = daily_cap_run
    days = _volume_per_utc_day(run)
    target = D(str(PACED["volume_target"]))
    assert run.volume() >= target
    # the target needs at least target / cap days
    assert len(days) >= math.ceil(target / DAILY_CAP)
    # within one exchange-minimum order (0.001 BTC raised by 0.1 %) of the cap on every day
    exchange_minimum = _exchange_minimums(run, "ADA/BTC")[1] * D("1.001")
    for day, volume in days.items():
        assert volume <= DAILY_CAP + exchange_minimum + D("1e-9"), (day, volume)


def test_daily_cap_is_never_exceeded(daily_cap_run):
    for day, volume in _volume_per_utc_day(daily_cap_run).items():
        assert volume <= DAILY_CAP + D("1e-9"), (day, volume)


# ======================================================================= 5. budget

MAX_COST = D(5)


@pytest.fixture(scope="module", params=STYLES)
def budget_run(request):
    return run_recorded(BTC_USDT, {"volume_target": 50000, "order_type": request.param, "random_seed": 11,
                                   "max_cost": float(MAX_COST)})


def _budget_figures(run):
    start = run.start
    stop = run.finishes[-1]
    # the last decision that passed the budget check (every non-final planner outcome passed it)
    stop_type = simulation.import_mode_module().planner.Stop
    checks = [plan for plan in run.plans if not isinstance(plan["outcome"], stop_type)]
    check = checks[-1]
    return start, stop, check


def _flattening(run, stop, start):
    """The market order the mode places at its budget stop: created at the stop and bringing the base holdings
    back to the start (within the amount precision)."""
    orders = [entry for entry in run.created
              if entry["created"] and entry["t"] == stop["t"] and entry["type"].endswith("market")
              and abs(entry["portfolio_after"]["BTC"][0] - start["BTC"]) <= D("0.00001")]
    ids = {entry["order_id"] for entry in orders}
    return orders, [trade for trade in run.trades if trade["order_id"] in ids]


@pytest.mark.parametrize("budget_run", STYLES, indirect=True)
def test_budget_stops_the_mode_before_the_cost_exceeds_max_cost(budget_run):
    """The mode's check, for the holdings H_c and price P_c of the last decision that passed it, reserves the
    fees of its open orders and of one more order, and the fee of flattening the inventory X_c (the largest
    of: none, all, or one side of its open orders filled):

        C(H_c, P_c) + (max_order + open orders' quote) * fee + |X_c| * P_c * taker_fee <= max_cost

    At the stop it cancels its orders and flattens the inventory with one market order. With S the starting
    holdings and C(H, P) = (S_base - H_base) * P + S_quote - H_quote, the cost at the stop is
    C(H_c, P_c) + the inventory price effect until the stop + the fills after the check (fees and price
    effects), so:

        C(E, P_s) <= max_cost + |S_base - H_c,base| * |P_s - P_c| + sum q * |p - P_s|
                     + (fees after the check - (max_order + open orders' quote) * fee - flattening fee)
                     when positive."""
    run = budget_run
    start, stop, check = _budget_figures(run)
    assert run.result.stopped_reason.startswith("budget reached")
    assert stop["reason"].startswith("budget reached")
    # the mode's own cost at the check is the engine portfolio's cost at the check price
    assert check["net_cost"] == pytest.approx(_cost(start, check["portfolio"], "BTC", "USDT", check["price"]),
                                              abs=D("1e-9"))
    one_order_fee = MAX_ORDER * FEE_RATE
    open_at_check_fee = check["pending"] * FEE_RATE
    assert _cost(start, check["portfolio"], "BTC", "USDT", check["price"]) + one_order_fee + open_at_check_fee \
        <= MAX_COST
    after = [trade for trade in run.trades if trade["id"] not in check["trade_ids"]]
    flattening_orders, flattening_trades = _flattening(run, stop, start)
    flattening_fee = sum((_fee_in_quote(trade, "USDT") for trade in flattening_trades), ZERO)
    # besides the flattening, the fills after the check pay at most the fees of the orders open at the check
    # and of one more order
    assert sum((_fee_in_quote(trade, "USDT") for trade in after if trade not in flattening_trades), ZERO) \
        <= one_order_fee + open_at_check_fee
    inventory_effect = abs(start["BTC"] - check["portfolio"]["BTC"][0]) * abs(stop["mark"] - check["price"])
    fills_effect = sum((trade["qty"] * abs(trade["price"] - stop["mark"]) for trade in after), ZERO)
    cost_at_stop = _cost(start, stop["portfolio"], "BTC", "USDT", stop["mark"])
    # the order after the check moved the inventory to flatten by at most one order: one order's fee more
    assert cost_at_stop <= MAX_COST + one_order_fee + inventory_effect + fills_effect + D("1e-9")
    # the flattening order brought the base holdings back to the start (within the amount precision)
    if flattening_orders:
        assert abs(stop["portfolio"]["BTC"][0] - start["BTC"]) <= D("0.00001")
        assert flattening_fee <= MAX_COST - _cost(start, check["portfolio"], "BTC", "USDT", check["price"])
    # nothing trades after the stop: the final holdings are the ones at the stop
    assert all(trade["t"] <= stop["t"] for trade in run.trades)
    assert run.result.open_orders_left == 0


@pytest.mark.parametrize("budget_run", STYLES, indirect=True)
def test_budget_final_net_cost_within_one_order_of_max_cost(budget_run):
    """Final net cost (starting vs final portfolio at the last price) <= max_cost + one order's cost, one order's
    cost being its fee (max_order * fee rate) plus its price effect: max_order of base held from the last check
    to the end, (max_order / P_c) * (|P_s - P_c| + |P_end - P_s|)."""
    run = budget_run
    start, stop, check = _budget_figures(run)
    end_price = D(str(run.result.last_price))
    net_cost = _cost(start, run.end, "BTC", "USDT", end_price)
    assert float(net_cost) == pytest.approx(run.result.net_cost, abs=1e-6)
    price_effect = MAX_ORDER / check["price"] * (abs(stop["mark"] - check["price"]) + abs(end_price - stop["mark"]))
    assert net_cost <= MAX_COST + MAX_ORDER * FEE_RATE + price_effect, (net_cost, price_effect)


# ======================================================================= 6. exchange rules

@pytest.mark.parametrize("style_run", STYLES, indirect=True)
def test_order_sizes_and_prices_respect_the_market_precision_and_minimums(style_run):
    run = style_run
    market_status = run.markets["BTC/USDT"]
    amount_digits = int(market_status["precision"]["amount"])
    price_digits = int(market_status["precision"]["price"])
    min_amount, min_cost = _exchange_minimums(run, "BTC/USDT")
    assert run.created
    for order in run.created:
        assert order["qty"].as_tuple().exponent >= -amount_digits, order
        assert order["price"].as_tuple().exponent >= -price_digits, order
        assert order["qty"] >= min_amount and order["qty"] * order["price"] >= min_cost, order


def test_limit_prices_were_truncated_to_the_price_precision(limit_run):
    run = limit_run
    tick = _digits_tick(run.markets["BTC/USDT"], "price")
    needed_truncation = 0
    for order in run.created:
        raw = order["mark"] * (1 - D(str(LIMIT_OFFSET)) / 100) if order["side"] == "buy" \
            else order["mark"] * (1 + D(str(LIMIT_OFFSET)) / 100)
        assert order["price"] == _expected_resting_price(order["side"], order["mark"], LIMIT_OFFSET, tick), order
        needed_truncation += raw.as_tuple().exponent < tick.as_tuple().exponent
    # the offset gives prices finer than the price step: OctoBot's precision helper had to act
    assert needed_truncation > len(run.created) / 2


def _exchange_minimums(run, symbol):
    """The smallest amount (base) and cost (quote) the engine's market accepts for `symbol`."""
    limits = run.markets[symbol]["limits"]
    return D(str(limits["amount"]["min"])), D(str(limits["cost"]["min"]))


def test_a_remainder_below_the_exchange_minimum_is_raised_to_it_with_a_warning():
    # one order of 0.1 USDT, then a remainder of ~0.05 USDT, below the 0.00001 BTC (~0.09 USDT) minimum
    run = run_recorded(BTC_USDT, {"volume_target": 0.15, "order_type": "market", "min_buy_amount": 0.1,
                                  "max_buy_amount": 0.1, "min_sell_amount": 0.1, "max_sell_amount": 0.1},
                       warnings_of="BTC/USDT")
    min_amount, min_cost = _exchange_minimums(run, "BTC/USDT")
    assert run.result.settings_error is None
    assert len(run.created) == 2
    first, second = run.created
    remainder = D("0.15") - first["qty"] * first["price"]
    floor = max(min_amount, min_cost / second["mark"])
    assert remainder / second["mark"] < floor, "the remainder was not below the exchange minimum"
    # raised to the minimum (not beyond a small margin), and said so
    assert floor <= second["qty"] <= floor * D("1.01")
    assert any("below the exchange minimum" in message for message in run.warnings), run.warnings
    volume = run.volume()
    assert D("0.15") <= volume <= D("0.15") + D("0.1")


def test_configured_amounts_below_the_exchange_minimum_never_send_an_order_below_it():
    """Sizes of 0.01-0.05 USDT (a tenth of the 0.00001 BTC minimum): whatever the mode does with them (raise each
    order to the minimum, or refuse the settings), no order below the minimum reaches the exchange and the user is
    told, naming the setting or the minimum."""
    run = run_recorded(BTC_USDT, {"volume_target": 2, "order_type": "market", "min_buy_amount": 0.01,
                                  "max_buy_amount": 0.05, "min_sell_amount": 0.01, "max_sell_amount": 0.05},
                       warnings_of="BTC/USDT")
    min_amount, min_cost = _exchange_minimums(run, "BTC/USDT")
    assert all(order["qty"] >= min_amount and order["qty"] * order["price"] >= min_cost for order in run.created)
    told = (run.result.settings_error or "") + " ".join(run.warnings)
    assert "min_buy_amount" in told or "below the exchange minimum" in told, told
    if run.created:
        assert any("below the exchange minimum" in message for message in run.warnings)


RESERVE_PERCENT = 40
RESERVE_PORTFOLIO = {"BTC": 0.1, "USDT": 1000.0}


def test_reserve_percent_of_each_starting_balance_is_never_traded():
    run = run_recorded(BTC_USDT, {"volume_target": 20000, "order_type": "limit", "random_seed": 4,
                                  "side_policy": "random", "reserve_percent": RESERVE_PERCENT,
                                  "min_buy_amount": 50, "max_buy_amount": 200, "min_sell_amount": 50,
                                  "max_sell_amount": 200}, starting_portfolio=RESERVE_PORTFOLIO)
    reserve = {currency: D(str(amount)) * RESERVE_PERCENT / 100 for currency, amount in RESERVE_PORTFOLIO.items()}
    samples = [order["portfolio_before"] for order in run.created] + \
              [order["portfolio_after"] for order in run.created] + [s["portfolio"] for s in run.snapshots]
    assert len(samples) > 100
    lowest = {}
    for currency, kept in reserve.items():
        # neither the balance nor what is free of open orders ever goes below the reserve
        lowest[currency] = min(holdings[currency][1] for holdings in samples)
        assert min(holdings[currency][0] for holdings in samples) >= kept
        assert lowest[currency] >= kept
        assert run.end[currency] >= kept
    # the reserve was what stopped the mode: it came within one max order (200 USDT) of it
    price = D(str(run.result.first_price))
    assert lowest["USDT"] <= reserve["USDT"] + 200 or lowest["BTC"] <= reserve["BTC"] + D(200) / price * 2


# ======================================================================= 7. several pairs

@pytest.fixture(scope="module")
def four_pairs_run():
    if not FOUR_PAIRS_4H.exists():
        pytest.skip("4-pair 4h file missing")
    info = datafile.read_info(FOUR_PAIRS_4H)
    # scarce USDT (200 per pair) next to 1,000 USDT of each base: buying is limited by each pair's share
    portfolio = {"USDT": 800.0}
    for symbol in info.symbols:
        portfolio[symbol.split("/")[0]] = float(f"{1000 / info.first_close[symbol]:.8g}")
    run = run_recorded(FOUR_PAIRS_4H, {"volume_target": 1500, "order_type": "market", "side_policy": "random",
                                       "random_seed": 8}, starting_portfolio=portfolio)
    run.info = info
    run.portfolio = portfolio
    return run


def test_each_pair_gets_its_own_mode_and_reaches_its_own_target(four_pairs_run):
    run = four_pairs_run
    symbols = sorted(run.info.symbols)
    assert sorted(pair["symbol"] for pair in run.result.pairs) == symbols
    for symbol in symbols:
        volume = run.volume(symbol)
        assert D(1500) <= volume <= D(1500) + MAX_ORDER, (symbol, volume)
        pair = next(pair for pair in run.result.pairs if pair["symbol"] == symbol)
        assert pair["volume"] == pytest.approx(float(volume), rel=1e-12)
        sides = {trade["side"] for trade in run.trades_of(symbol)}
        assert sides == {"buy", "sell"}


def test_pairs_never_use_the_same_funds(four_pairs_run):
    run = four_pairs_run
    start_usdt = D(str(run.portfolio["USDT"]))
    users = sum(1 for symbol in run.info.symbols if symbol.endswith("/USDT"))
    allocations = {pair["symbol"]: D(str(pair["allocation"]["USDT"])) for pair in run.result.pairs}
    assert sum(allocations.values()) <= start_usdt
    for symbol, allocation in allocations.items():
        assert allocation == pytest.approx(start_usdt / users)
        # the pair's running quote flow (sells minus buys minus quote fees) never spends more than its share
        flow = ZERO
        lowest = ZERO
        for trade in run.trades_of(symbol):
            value = trade["qty"] * trade["price"]
            flow += (value if trade["side"] == "sell" else -value) - (
                D(str(trade["fee"].get("cost") or 0)) if trade["fee"].get("currency") == "USDT" else ZERO)
            lowest = min(lowest, flow)
        assert lowest >= -allocation, (symbol, lowest, allocation)
        # and it did spend a good part of it: the share was what limited the buys
        assert lowest <= -allocation / 2, (symbol, lowest, allocation)


# ======================================================================= 8. target precision

@pytest.mark.parametrize("style_run", STYLES, indirect=True)
def test_final_volume_lands_between_the_target_and_one_order_above(style_run):
    run = style_run
    volume = run.volume()
    assert D(TARGET) <= volume <= D(TARGET) + MAX_ORDER, volume
    assert run.result.volume == pytest.approx(float(volume), rel=1e-12)
    assert run.result.stopped_reason == "target reached"
    assert run.result.open_orders_left == 0
