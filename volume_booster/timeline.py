"""The traded pair over simulated time: volume, fees, holdings and price sampled at each engine time step."""
import dataclasses
import typing

from volume_booster.engine import as_floats, min_time_frame


@dataclasses.dataclass
class Timeline:
    """The traded pair over simulated time, one point per engine time step, kept under 2 x `max_points` points:
    when full, every other point is dropped and the sampling stride doubles (evenly spaced points).

    A point is (seconds since the start, volume, fees, base holdings, quote holdings, price); holdings are the
    engine portfolio's totals of the pair's two currencies, the price is the close of the step's candle in the
    finest time frame. The first point is the starting portfolio at the first price, the last one the final
    portfolio at the final price (the figures of the result)."""
    symbol: str
    start_time: float
    start_base: float
    start_quote: float
    # the mode's inventory band (percentage points) and whether the side policy enforces it
    inventory_band_pp: typing.Optional[float] = None
    band_enforced: bool = False
    max_points: int = 1500
    points: list = dataclasses.field(default_factory=list)
    stride: int = 1
    steps_seen: int = 0
    # largest |inventory drift| (pp) over every sample, kept or not: (base - start base) at the sample's
    # price, in % of the pair's value then
    peak_drift_pp: float = 0.0
    # sample number of each kept point
    _indices: list = dataclasses.field(default_factory=list, repr=False)

    def add(self, point: tuple, force: bool = False) -> None:
        """Add one sample; kept when its number is a multiple of the stride (or `force`: the start, the end)."""
        index = self.steps_seen
        self.steps_seen += 1
        _, _, _, base, quote, price = point
        value = base * price + quote
        if value:
            self.peak_drift_pp = max(self.peak_drift_pp, abs(base - self.start_base) * price / value * 100)
        if not force and index % self.stride:
            return
        self.points.append(point)
        self._indices.append(index)
        if len(self.points) >= 2 * self.max_points:
            # every other point of the grid goes: the kept points stay evenly spaced, the start (sample 0) stays
            self.stride *= 2
            kept = [(i, p) for i, p in zip(self._indices, self.points) if i % self.stride == 0]
            self._indices = [i for i, _ in kept]
            self.points = [p for _, p in kept]

    def column(self, index: int) -> list:
        return [point[index] for point in self.points]

    @property
    def seconds(self) -> list:
        return self.column(0)

    @property
    def volume(self) -> list:
        return self.column(1)

    @property
    def fees(self) -> list:
        return self.column(2)

    @property
    def prices(self) -> list:
        return self.column(5)

    @property
    def net_cost(self) -> list:
        """Value of the starting holdings at each point's price minus the value of the holdings then."""
        return [(self.start_base - base) * price + (self.start_quote - quote)
                for _, _, _, base, quote, price in self.points]

    @property
    def base_share_pct(self) -> list:
        """Share of the pair's value held in base, in %."""
        return [base * price / (base * price + quote) * 100 if base * price + quote else 0.0
                for _, _, _, base, quote, price in self.points]

    @property
    def start_share_pct(self) -> list:
        """The share the starting base amount makes of the pair's value at each point (both at that price):
        the mode's inventory drift is the base share minus this, and its band is drawn around it."""
        return [self.start_base * price / (base * price + quote) * 100 if base * price + quote else 0.0
                for _, _, _, base, quote, price in self.points]


class TimelineSampler:
    """Samples the traded pair at each engine time step, from an extra consumer of the exchange's OHLCV
    channel (the candles of the finest time frame are the engine's heartbeat)."""

    def __init__(self, exchange_manager, timeline: Timeline, base: str, quote: str):
        self.exchange_manager = exchange_manager
        self.timeline = timeline
        self.base = base
        self.quote = quote
        self.portfolio = exchange_manager.exchange_personal_data.portfolio_manager.portfolio
        self.booster = exchange_manager.trading_modes[0].get_booster()

    @classmethod
    async def register(cls, exchange_manager, info, start_time: float, starting_portfolio: dict,
                       max_points: int) -> "TimelineSampler":
        import async_channel.enums as channel_enums
        import octobot_commons.channels_name as channels_name
        import octobot_trading.exchange_channel as exchange_channel

        symbol = exchange_manager.trading_modes[0].symbol
        base, quote = symbol.split("/")
        # what the engine was given (its own origin portfolio is only set once prices are known)
        origin = as_floats(starting_portfolio)
        timeline = Timeline(symbol=symbol, start_time=float(start_time), start_base=origin.get(base, 0.0),
                            start_quote=origin.get(quote, 0.0), max_points=max_points)
        timeline.add((0.0, 0.0, 0.0, timeline.start_base, timeline.start_quote,
                      float(info.first_close.get(symbol, 0.0))), force=True)
        sampler = cls(exchange_manager, timeline, base, quote)
        # same priority level as the trading mode's own candle consumer, registered after it: within a time
        # step the mode acts first, then the sample is taken
        await exchange_channel.get_chan(
            channels_name.OctoBotTradingChannelsName.OHLCV_CHANNEL.value, exchange_manager.id
        ).new_consumer(
            sampler.on_candle,
            symbol=symbol,
            time_frame=min_time_frame(exchange_manager).value,
            priority_level=channel_enums.ChannelConsumerPriorityLevels.MEDIUM.value,
        )
        return sampler

    async def on_candle(self, exchange: str, exchange_id: str, cryptocurrency: str, symbol: str,
                        time_frame: str, candle):
        try:
            price = float(candle[4])
        except (TypeError, IndexError, KeyError):
            return
        self.timeline.add(self._point(self.exchange_manager.exchange.get_exchange_current_time(), price))

    def _point(self, now: float, price: float) -> tuple:
        ledger = self.booster.ledger if self.booster is not None else None
        return (
            float(now - self.timeline.start_time),
            float(ledger.volume) if ledger else 0.0,
            float(ledger.fees) if ledger else 0.0,
            float(self.portfolio.get_currency_portfolio(self.base).total),
            float(self.portfolio.get_currency_portfolio(self.quote).total),
            price,
        )

    def finish(self, result) -> Timeline:
        """The final state (the result's figures) as the last point."""
        self.timeline.add(self._point(self.timeline.start_time + result.simulated_seconds, result.last_price),
                          force=True)
        settings = self.booster.settings if self.booster is not None else None
        if settings is not None:
            self.timeline.inventory_band_pp = float(settings.inventory_band_pp)
            self.timeline.band_enforced = settings.side_policy == "balanced"
        return self.timeline
