"""Observers of the Volume Booster in OctoBot's real engine, for the tests.

The mode is seen only through what it publishes (`booster.view()`, its decision and step listeners, its books'
public registry of own orders) and at OctoBot's boundary (the trading mode's create_order / cancel_order, the
engine's portfolio, open orders and trade record). Listeners are attached as each booster is created, through
OctoBot's own `AbstractTradingMode.create_consumers`, so they see every step of the run.
"""
import asyncio
import dataclasses
import decimal
import logging

import octobot_trading.modes as trading_modes
import pytest

from volume_booster import simulation

D = decimal.Decimal
ZERO = D(0)
# a hang guard only (an exception inside the engine can leave it waiting forever), never an assertion
ENGINE_RUN_TIMEOUT = 600


def on_each_booster(patch: pytest.MonkeyPatch, attach) -> None:
    """Call `attach(booster)` on each Volume Booster consumer as OctoBot creates it (before its loop starts)."""
    original = trading_modes.AbstractTradingMode.create_consumers

    async def create_consumers(trading_mode, *args, **kwargs):
        consumers = await original(trading_mode, *args, **kwargs)
        for consumer in consumers:
            if hasattr(consumer, "decision_listeners") and hasattr(consumer, "step_listeners"):
                attach(consumer)
        return consumers

    patch.setattr(trading_modes.AbstractTradingMode, "create_consumers", create_consumers)


# ----------------------------------------------------------------------------------------------- engine reads

def portfolio(exchange_manager) -> dict:
    """currency -> (total, available), straight from the engine's portfolio."""
    holdings = exchange_manager.exchange_personal_data.portfolio_manager.portfolio.portfolio
    return {currency: (asset.total, asset.available) for currency, asset in holdings.items()}


def mark_price(exchange_manager, symbol):
    return exchange_manager.exchange_symbols_data.get_exchange_symbol_data(
        symbol, allow_creation=False).prices_manager.mark_price


def exchange_time(exchange_manager) -> float:
    return exchange_manager.exchange.get_exchange_current_time()


def own_open_orders(exchange_manager, symbol, booster) -> list:
    """The mode's own orders the exchange holds open for `symbol`."""
    orders = booster.books.orders if booster is not None and booster.books is not None else None
    return [order for order in exchange_manager.exchange_personal_data.orders_manager.get_open_orders(symbol=symbol)
            if orders is not None and orders.is_own(order.order_id)]


def own_trades(exchange_manager, booster) -> list:
    """The engine's trades of the mode's own orders (executed ones), in the engine's record order."""
    own_ids = booster.view().own_order_ids
    return [trade for trade in exchange_manager.exchange_personal_data.trades_manager.trades.values()
            if trade.symbol == booster.symbol and trade.origin_order_id in own_ids and trade.executed_quantity > 0]


def plans_its_order(booster, record) -> bool:
    """At a published decision: the step has reached the point where the planner decides its order (the
    market was read and priced, no failed create is in doubt, fewer open orders than max_open_orders)."""
    return record.progress is not None and booster.books.in_doubt is None \
        and len(booster.books.orders) < booster.settings.max_open_orders


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


class _WarningCatcher(logging.Handler):
    def __init__(self, sink):
        super().__init__(logging.WARNING)
        self.sink = sink

    def emit(self, record):
        self.sink.append(record.getMessage())


class Recorder:
    """Fills a Recording from one engine run: each order the mode sends (with the engine portfolio and the
    mode's own open orders at that moment), each cancel (with the reason its decision gave), each market the
    mode priced, each planner decision, each stop, and the engine's trades once the data is played."""

    def __init__(self, recording: Recording, before_place=None):
        self.recording = recording
        self.before_place = before_place
        # symbol -> {order id: reason} of the decision being carried out, and its final action's reason
        self.cancel_reasons = {}
        self.final_reasons = {}
        self.seen_markets = set()
        self.placing_steps = set()

    def install(self, patch: pytest.MonkeyPatch) -> None:
        original_create = trading_modes.AbstractTradingMode.create_order
        original_cancel = trading_modes.AbstractTradingMode.cancel_order
        recording = self.recording

        async def create_order(trading_mode, order, *args, **kwargs):
            exchange_manager = trading_mode.exchange_manager
            booster = trading_mode.get_booster()
            entry = {
                "symbol": trading_mode.symbol,
                "t": exchange_time(exchange_manager),
                "side": order.side.value,
                "type": order.order_type.value,
                "price": order.origin_price,
                "qty": order.origin_quantity,
                "params": dict(kwargs.get("params") or {}),
                "own": [(o.order_id, o.side.value, o.origin_price, o.creation_time)
                        for o in own_open_orders(exchange_manager, trading_mode.symbol, booster)],
                "mark": mark_price(exchange_manager, trading_mode.symbol),
                "portfolio_before": portfolio(exchange_manager),
            }
            created = await original_create(trading_mode, order, *args, **kwargs)
            entry["created"] = created is not None
            entry["order_id"] = created.order_id if created is not None else None
            entry["portfolio_after"] = portfolio(exchange_manager)
            recording.created.append(entry)
            return created

        async def cancel_order(trading_mode, order, *args, **kwargs):
            exchange_manager = trading_mode.exchange_manager
            symbol = trading_mode.symbol
            recording.cancels.append({
                "symbol": symbol, "t": exchange_time(exchange_manager),
                "side": order.side.value, "price": order.origin_price, "created": order.creation_time,
                "reason": self.cancel_reasons.get(symbol, {}).get(order.order_id, self.final_reasons.get(symbol)),
                "mark": mark_price(exchange_manager, symbol),
            })
            return await original_cancel(trading_mode, order, *args, **kwargs)

        patch.setattr(trading_modes.AbstractTradingMode, "create_order", create_order)
        patch.setattr(trading_modes.AbstractTradingMode, "cancel_order", cancel_order)
        on_each_booster(patch, self.attach)

    def attach(self, booster) -> None:
        booster.decision_listeners.append(lambda record, decision: self.on_decision(booster, record, decision))
        booster.step_listeners.append(lambda record: self.on_step(booster, record))

    def _note_market(self, booster, record) -> None:
        if record.market is not None and id(record.market) not in self.seen_markets:
            self.seen_markets.add(id(record.market))
            exchange_manager = booster.trading_mode.exchange_manager
            self.recording.snapshots.append({
                "symbol": booster.symbol, "t": exchange_time(exchange_manager),
                "market": record.market, "portfolio": portfolio(exchange_manager),
            })

    def on_decision(self, booster, record, decision) -> None:
        symbol = booster.symbol
        self.cancel_reasons[symbol] = {cancel.order_id: cancel.reason for cancel in decision.cancels}
        self.final_reasons[symbol] = getattr(decision.final, "reason", None)
        self._note_market(booster, record)
        if not plans_its_order(booster, record):
            return
        if id(record) not in self.placing_steps:
            # once per step, where the mode comes to its order
            self.placing_steps.add(id(record))
            self.recording.book_tops.add((record.market.best_bid, record.market.best_ask))
            if self.before_place is not None:
                self.before_place(booster)
        if decision.final is None:
            return  # orders withdrawn before the step decides again: no planner outcome yet
        exchange_manager = booster.trading_mode.exchange_manager
        progress = record.progress
        self.recording.plans.append({
            "symbol": symbol, "t": progress.now, "net_cost": progress.net_cost, "price": record.market.price,
            "outcome": decision.final, "pending": progress.pending,
            "portfolio": portfolio(exchange_manager),
            # the trades the engine already had when this decision was taken
            "trade_ids": set(exchange_manager.exchange_personal_data.trades_manager.trades),
        })

    def on_step(self, booster, record) -> None:
        symbol = booster.symbol
        self.cancel_reasons.pop(symbol, None)
        self.final_reasons.pop(symbol, None)
        self._note_market(booster, record)
        self.placing_steps.discard(id(record))
        exchange_manager = booster.trading_mode.exchange_manager
        for _, outcome in record.decisions:
            if outcome.stopped:
                self.recording.finishes.append({
                    "symbol": symbol, "t": exchange_time(exchange_manager), "reason": outcome.stopped,
                    "mark": mark_price(exchange_manager, symbol), "portfolio": portfolio(exchange_manager),
                })

    def on_finished(self, exchange_manager) -> None:
        """The data is played: the engine's final state, before it stops."""
        for trading_mode in exchange_manager.trading_modes:
            booster = trading_mode.get_booster()
            symbol = trading_mode.symbol
            self.recording.markets[symbol] = exchange_manager.exchange.get_market_status(symbol, with_fixer=False)
            for trade in own_trades(exchange_manager, booster):
                self.recording.trades.append({
                    "symbol": symbol, "id": trade.trade_id, "order_id": trade.origin_order_id,
                    "side": trade.side.value,
                    "qty": trade.executed_quantity, "price": trade.executed_price, "t": trade.executed_time,
                    "taker_or_maker": trade.taker_or_maker, "fee": dict(trade.fee or {}),
                })


def run_recorded(data_file, overrides, starting_portfolio=None, before_place=None,
                 warnings_of=None, fees=None) -> Recording:
    """One engine run with the recorder installed; `before_place(booster)` runs once per step where the mode
    comes to its order; `warnings_of`: symbol whose mode warnings are captured; `fees`: the simulator's
    {"maker": %, "taker": %} (default: the profile's)."""
    recording = Recording()
    recorder = Recorder(recording, before_place)
    mode_logger = logging.getLogger(f"VolumeBooster[{warnings_of}]") if warnings_of else None
    catcher = None
    with pytest.MonkeyPatch.context() as patch:
        recorder.install(patch)
        previous_level = mode_logger.level if mode_logger else None
        if mode_logger is not None:
            catcher = _WarningCatcher(recording.warnings)
            mode_logger.addHandler(catcher)
            mode_logger.setLevel(logging.WARNING)
        try:
            with simulation.quiet_octobot_logs():
                recording.result = asyncio.run(asyncio.wait_for(
                    simulation.run_simulation(data_file, overrides, starting_portfolio=starting_portfolio,
                                              on_finished=recorder.on_finished, timeline=False, fees=fees),
                    ENGINE_RUN_TIMEOUT))
        finally:
            if mode_logger is not None:
                mode_logger.removeHandler(catcher)
                mode_logger.setLevel(previous_level)
    recording.trades.sort(key=lambda trade: trade["t"])
    return recording


# =====================================================================================================
# Reliability: the engine's own record (trades, created orders, cancels), the mode's steps, an engine hook
# =====================================================================================================
import collections  # noqa: E402
import traceback  # noqa: E402

import psutil  # noqa: E402

import octobot_commons.channels_name as channels_name  # noqa: E402
import octobot_trading.enums as trading_enums  # noqa: E402
import octobot_trading.personal_data as trading_personal_data  # noqa: E402

ORDER_TAG = simulation.import_mode_module().gateway.ORDER_TAG
TradesManager = trading_personal_data.TradesManager


class EngineRecorder:
    """Trades and really created orders, recorded from OctoBot's own code paths (class-level patches of
    TradesManager and AbstractTradingMode), independently of the mode's ledger."""

    def __init__(self, patcher, keep_details=True):
        self.keep_details = keep_details
        self.own_trades = 0
        self.own_volume = ZERO  # sum of executed quantity x executed price of the mode's own trades
        self.own_cost = ZERO  # sum of the trades' total cost (what OctoBot reports per trade)
        self.own_fees = ZERO  # in quote: quote fees as they are, base fees at the trade price
        self.own_trade_ids = collections.Counter()
        self.own_trades_by_order = collections.defaultdict(list)
        self.other_trades = 0
        self.created = {}  # order id -> (side, quantity, price, creation time) of orders really created
        self.created_count = 0
        self.rss_start = None
        self.rss_end = None
        original_add = TradesManager._add_trade_if_relevant
        original_create = trading_modes.AbstractTradingMode.create_order
        recorder = self

        def add_trade(manager, trade_id, trade):
            added = original_add(manager, trade_id, trade)
            if added:
                recorder.on_trade(trade)
            return added

        async def create_order(mode, order, *args, **kwargs):
            created = await original_create(mode, order, *args, **kwargs)
            if created is not None:
                recorder.created_count += 1
                if recorder.keep_details:
                    recorder.created[created.order_id] = (
                        created.side.value, created.origin_quantity, created.origin_price, created.creation_time
                    )
            return created

        patcher.setattr(TradesManager, "_add_trade_if_relevant", add_trade)
        patcher.setattr(trading_modes.AbstractTradingMode, "create_order", create_order)

    def on_trade(self, trade):
        if trade.tag != ORDER_TAG or trade.executed_quantity <= 0:
            self.other_trades += 1
            return
        self.own_trades += 1
        self.own_volume += trade.executed_quantity * trade.executed_price
        self.own_cost += trade.total_cost if trade.total_cost else trade.executed_quantity * trade.executed_price
        base, quote = trade.symbol.split("/")
        if trade.fee:
            cost = D(str(trade.fee.get(trading_enums.FeePropertyColumns.COST.value) or 0))
            currency = trade.fee.get(trading_enums.FeePropertyColumns.CURRENCY.value)
            if currency == quote:
                self.own_fees += cost
            elif currency == base:
                self.own_fees += cost * trade.executed_price
        if self.keep_details:
            self.own_trade_ids[str(trade.trade_id)] += 1
            self.own_trades_by_order[str(trade.origin_order_id)].append(trade)

    def sample_rss(self):
        rss = psutil.Process().memory_info().rss
        if self.rss_start is None:
            self.rss_start = rss
        self.rss_end = rss
        return rss


def tagged_open_orders(exchange_manager, symbol) -> list:
    """Open orders of `symbol` on the exchange that carry the mode's order tag."""
    return [order for order in exchange_manager.exchange_personal_data.orders_manager.get_open_orders(symbol=symbol)
            if order.tag == ORDER_TAG]


class StepRecorder:
    """One record per loop step of every consumer (published through its step_listeners): time, settings error
    and finished reason seen at the end, orders the mode created since its previous step, own orders left open.
    `created` is the mode's order count at the end of its previous step (for a first step: the count minus the
    orders the step placed), `created_after` at the end of this one."""

    def __init__(self, patcher):
        self.records = []
        on_each_booster(patcher, self.watch)

    def watch(self, consumer):
        last = {}

        def on_step(record):
            view = consumer.view()
            created_after = consumer.ledger.orders_created
            placed = sum(1 for _, outcome in record.decisions if outcome.placed)
            exchange_open = consumer.gateway.open_orders()
            self.records.append({
                "time": record.time,
                "consumer": id(consumer),
                "created": last.get("created", created_after - placed),
                "created_after": created_after,
                "own_open_after": sum(1 for order in exchange_open if consumer.books.orders.is_own(order.order_id)),
                "tagged_open_after": sum(1 for order in exchange_open if order.tag == ORDER_TAG),
                "settings_error": view.settings_error,
                "finished_reason": view.finished_reason,
            })
            last["created"] = created_after

        consumer.step_listeners.append(on_step)


def patch_engine_hook(patcher, hook, errors):
    """`hook(trading_mode, now)` (a coroutine function) runs inside the engine before each candle reaches the
    mode's producer (OctoBot's producer callback for the OHLCV channel is wrapped): deterministic in simulated
    time (the wall-time observer of simulation.run is called only every 0.2 s). The mode's loop is parked
    between two steps there, as it is when a user changes settings or OctoBot stops it. Errors of the hook are
    appended to `errors` (for the test to report), never swallowed."""
    original_get_callback = trading_modes.AbstractTradingModeProducer.get_callback
    ohlcv = channels_name.OctoBotTradingChannelsName.OHLCV_CHANNEL.value

    def get_callback(producer, chan_name):
        callback = original_get_callback(producer, chan_name)
        if chan_name != ohlcv:
            return callback

        async def ohlcv_callback(*args, **kwargs):
            try:
                await hook(producer.trading_mode, producer.exchange_manager.exchange.get_exchange_current_time())
            except Exception:  # reported by the test
                errors.append(traceback.format_exc())
            await callback(*args, **kwargs)

        return ohlcv_callback

    patcher.setattr(trading_modes.AbstractTradingModeProducer, "get_callback", get_callback)


def patch_started_booster_hook(patcher, hook, errors):
    """`hook(trading_mode, booster, now)`, called as patch_engine_hook's hook once the mode's consumer has started
    (its books exist)."""
    async def started(trading_mode, now):
        booster = trading_mode.get_booster()
        if booster is not None and booster.ledger is not None:
            await hook(trading_mode, booster, now)

    patch_engine_hook(patcher, started, errors)


def record_cancels(patcher, key=None) -> list:
    """Order ids (or `key(mode, order)`) of every cancel asked through OctoBot's AbstractTradingMode.cancel_order."""
    cancelled = []
    original_cancel = trading_modes.AbstractTradingMode.cancel_order

    async def cancel_order(mode, order, *args, **kwargs):
        cancelled.append(key(mode, order) if key is not None else order.order_id)
        return await original_cancel(mode, order, *args, **kwargs)

    patcher.setattr(trading_modes.AbstractTradingMode, "cancel_order", cancel_order)
    return cancelled
