"""What a simulation did: the result's figures, read from the mode's ledger and public view and from the engine's
own trades and portfolio once the data is played."""
import copy
import dataclasses
import decimal
import typing

from volume_booster.engine import as_floats, min_time_frame

if typing.TYPE_CHECKING:
    from volume_booster.timeline import Timeline


@dataclasses.dataclass
class SimulationResult:
    symbol: str
    data: str
    settings: dict
    volume: float
    target: float
    target_reached: bool
    orders_created: int
    orders_filled: int
    orders_cancelled: int
    fills: int
    buy_volume: float
    sell_volume: float
    fees: float
    sum_of_fills: float
    sum_of_fill_fees: float
    simulated_seconds: float
    wall_seconds: float
    time_to_target_seconds: typing.Optional[float]
    open_orders_left: int
    start_portfolio: dict
    end_portfolio: dict
    first_price: float
    last_price: float
    seed: typing.Optional[int]
    stopped_reason: typing.Optional[str]
    settings_error: typing.Optional[str]
    # value of the starting portfolio at the final price minus the final portfolio's value at that price
    net_cost: float
    net_cost_bps: float
    # (final base - starting base) at the final price, in percentage points of the final portfolio value
    inventory_drift_pp: float
    fill_ratio: float
    maker_share: float
    # orders cancelled per fill (None without a fill)
    cancels_per_fill: typing.Optional[float]
    # one entry per traded pair (several pairs share the engine): symbol, volume, target, fees, ...
    pairs: list
    # the engine's time step: the data file's finest time frame (e.g. "1m" -> 60 s)
    time_frame: typing.Optional[str] = None
    time_step_seconds: typing.Optional[float] = None
    # the mode's trades still held in the engine's trade record (OctoBot keeps at most 10,000 recent trades):
    # sum_of_fills and sum_of_fill_fees only cover these
    engine_trades_seen: typing.Optional[int] = None
    # own orders open when the mode stopped and gone at its restart without a trade (state file runs only)
    orders_vanished: int = 0
    # the largest |inventory drift| (pp, as inventory_drift_pp but at each engine time step's price) during
    # the run; None without a timeline
    peak_inventory_drift_pp: typing.Optional[float] = None
    # why the mode placed nothing at its last step (None when its last step placed an order or it stopped), and
    # the steps that placed nothing over the run: first reason text of each kind -> count
    waiting_reason: typing.Optional[str] = None
    waiting_reasons: dict = dataclasses.field(default_factory=dict)
    # the fee level aimed at (target_mode next_fee_tier / keep_fee_tier): levels, 30-day volume and its source,
    # volume needed and deadline or the day's volume, break-even figures and verdict, and the one-line text;
    # None with a fixed target
    fee_tier: typing.Optional[dict] = None
    # volume, fees, holdings and price over simulated time, sampled at each engine time step (downsampled);
    # not part of the JSON result
    timeline: typing.Optional["Timeline"] = dataclasses.field(default=None, repr=False, compare=False)

    def to_json_dict(self) -> dict:
        return {field.name: copy.deepcopy(getattr(self, field.name)) for field in dataclasses.fields(self)
                if field.name != "timeline"}


def collect_result(exchange_manager, backtest, data_file, mode_settings, wall_seconds) -> SimulationResult:
    import octobot_trading.api as trading_api

    mode = exchange_manager.trading_modes[0]
    booster = mode.get_booster()
    booster.collect_fills()
    ledger = booster.ledger
    symbol = mode.symbol
    view = booster.view()
    own_ids = view.own_order_ids
    pairs = [pair_summary(trading_mode, exchange_manager) for trading_mode in exchange_manager.trading_modes]
    own_trades = [
        trade for trade in exchange_manager.exchange_personal_data.trades_manager.trades.values()
        if trade.symbol == symbol and trade.origin_order_id in own_ids and trade.executed_quantity > 0
    ]
    sum_of_fills = sum((trade.executed_quantity * trade.executed_price for trade in own_trades), decimal.Decimal(0))
    sum_of_fees = sum((booster.gateway.fill(trade).fee_quote for trade in own_trades), decimal.Decimal(0))
    time_manager = backtest.octobot_backtesting.backtesting.time_manager \
        if backtest.octobot_backtesting.backtesting else None
    start_time = time_manager.starting_timestamp if time_manager else 0
    end_time = exchange_manager.exchange.get_exchange_current_time()
    closes = trading_api.get_symbol_close_candles(
        trading_api.get_symbol_data(exchange_manager, symbol),
        min_time_frame(exchange_manager),
    )
    open_orders = [o for o in exchange_manager.exchange_personal_data.orders_manager.get_open_orders(symbol=symbol)
                   if o.order_id in own_ids]
    target = ledger.target if ledger else decimal.Decimal(str(mode_settings.get("volume_target", 0)))
    start_portfolio = as_floats(trading_api.get_origin_portfolio(exchange_manager, as_decimal=False))
    end_portfolio = as_floats(trading_api.get_portfolio(exchange_manager, as_decimal=False))
    last_price = float(closes[-1]) if len(closes) else 0.0
    prices = final_prices(exchange_manager, start_portfolio, end_portfolio)
    start_value = sum(amount * prices.get(currency, 0.0) for currency, amount in start_portfolio.items())
    end_value = sum(amount * prices.get(currency, 0.0) for currency, amount in end_portfolio.items())
    net_cost = start_value - end_value
    volume = float(ledger.volume) if ledger else 0.0
    base = symbol.split("/")[0]
    drift = (end_portfolio.get(base, 0.0) - start_portfolio.get(base, 0.0)) * last_price
    return SimulationResult(
        symbol=symbol,
        data=str(data_file),
        settings=mode_settings,
        volume=float(ledger.volume) if ledger else 0.0,
        target=float(target),
        target_reached=bool(ledger and ledger.target_reached),
        orders_created=ledger.orders_created if ledger else 0,
        orders_filled=ledger.orders_filled if ledger else 0,
        orders_cancelled=ledger.orders_cancelled if ledger else 0,
        fills=ledger.fills_count if ledger else 0,
        buy_volume=float(ledger.buy_volume) if ledger else 0.0,
        sell_volume=float(ledger.sell_volume) if ledger else 0.0,
        fees=float(ledger.fees) if ledger else 0.0,
        sum_of_fills=float(sum_of_fills),
        sum_of_fill_fees=float(sum_of_fees),
        simulated_seconds=float(end_time - start_time) if start_time else 0.0,
        wall_seconds=wall_seconds,
        time_to_target_seconds=(ledger.target_reached_time - start_time)
        if ledger and ledger.target_reached_time is not None and start_time else None,
        open_orders_left=len(open_orders),
        start_portfolio=start_portfolio,
        end_portfolio=end_portfolio,
        first_price=float(closes[0]) if len(closes) else 0.0,
        last_price=last_price,
        seed=view.seed,
        stopped_reason=view.finished_reason,
        settings_error=view.settings_error,
        net_cost=net_cost,
        net_cost_bps=net_cost / volume * 10000 if volume else 0.0,
        inventory_drift_pp=drift / end_value * 100 if end_value else 0.0,
        fill_ratio=ledger.orders_filled / ledger.orders_created if ledger and ledger.orders_created else 0.0,
        maker_share=float(ledger.maker_volume / ledger.volume) if ledger and ledger.volume else 0.0,
        cancels_per_fill=ledger.orders_cancelled / ledger.fills_count if ledger and ledger.fills_count else None,
        pairs=pairs,
        engine_trades_seen=len(own_trades),
        orders_vanished=ledger.orders_vanished if ledger else 0,
        waiting_reason=None if view.finished_reason else view.waiting_reason,
        waiting_reasons=view.waiting_summary,
        fee_tier=view.fee_tier.as_dict() if view.fee_tier is not None else None,
    )


def final_prices(exchange_manager, *portfolios) -> dict:
    """Each held currency's final price in the reference market (quote of the traded pairs)."""
    import octobot_trading.api as trading_api
    reference = trading_api.get_reference_market(exchange_manager.config)
    prices = {reference: 1.0}
    for trading_mode in exchange_manager.trading_modes:
        base, quote = trading_mode.symbol.split("/")
        closes = trading_api.get_symbol_close_candles(
            trading_api.get_symbol_data(exchange_manager, trading_mode.symbol), min_time_frame(exchange_manager)
        )
        if len(closes):
            if quote == reference:
                prices[base] = float(closes[-1])
            elif base == reference:
                prices[quote] = 1 / float(closes[-1])
    for portfolio in portfolios:
        for currency in portfolio:
            if currency not in prices:
                # a single pair quoted in a currency that is not the reference: value in its quote
                for trading_mode in exchange_manager.trading_modes:
                    base, quote = trading_mode.symbol.split("/")
                    if currency == quote:
                        prices[currency] = 1.0
                        prices.setdefault(base, prices[currency] * last_close(exchange_manager, trading_mode.symbol))
    return prices


def last_close(exchange_manager, symbol) -> float:
    import octobot_trading.api as trading_api
    closes = trading_api.get_symbol_close_candles(trading_api.get_symbol_data(exchange_manager, symbol),
                                                  min_time_frame(exchange_manager))
    return float(closes[-1]) if len(closes) else 0.0


def pair_summary(trading_mode, exchange_manager) -> dict:
    booster = trading_mode.get_booster()
    ledger = booster.ledger
    if ledger is None:
        return {"symbol": trading_mode.symbol, "volume": 0.0, "target_reached": False,
                "settings_error": booster.settings_error}
    booster.collect_fills()
    price = decimal.Decimal(str(last_close(exchange_manager, trading_mode.symbol)))
    return {
        "symbol": trading_mode.symbol,
        "volume": float(ledger.volume),
        "target": float(ledger.target),
        "target_reached": ledger.target_reached,
        "fees": float(ledger.fees),
        "net_cost": float(ledger.net_cost(price)),
        "fills": ledger.fills_count,
        "orders_created": ledger.orders_created,
        "base_delta": float(ledger.base_delta),
        "quote_delta": float(ledger.quote_delta),
        "allocation": {currency: float(amount) for currency, amount in booster.allocation.items()},
        "stopped_reason": booster.finished_reason,
    }
