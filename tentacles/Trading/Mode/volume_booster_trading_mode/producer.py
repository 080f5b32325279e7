"""The mode's producer: OctoBot's entry point that starts the consumer's loop directly (no evaluator signal),
relays the exchange's time steps to the loop's clock and, live, keeps the pair's order book coming."""
import asyncio

import octobot_commons.channels_name as channels_name
import octobot_trading.exchange_channel as exchange_channel
import octobot_trading.modes as trading_modes

from . import settings as vb_settings

# live, how long a `maker` mode waits at start for the first order book before resting at its offset instead
ORDER_BOOK_WAIT_SECONDS = 20
ORDER_BOOK_POLL_SECONDS = 0.2


class VolumeBoosterProducer(trading_modes.AbstractTradingModeProducer):
    def __init__(self, channel, config, trading_mode, exchange_manager):
        super().__init__(channel, config, trading_mode, exchange_manager)
        self.order_book_consumer = None
        # exchange time of the latest order book update (live)
        self.order_book_time = None

    def get_channels_registration(self):
        # candles are the exchange's heartbeat: live and in backtests they bring the time forward
        return [channels_name.OctoBotTradingChannelsName.OHLCV_CHANNEL.value]

    async def start(self) -> None:
        await super().start()
        await self._consume_order_book()
        booster = self.trading_mode.get_booster()
        if booster is None:
            self.logger.error("Volume Booster consumer is missing: nothing to start")
            return
        try:
            await booster.start_loop()
        except Exception as err:
            # this start runs in a task nobody awaits: unless said here, the mode would silently never trade
            self.logger.exception(err, True, f"Volume Booster could not start on {self.trading_mode.symbol}: "
                                             f"{err.__class__.__name__}: {err}. No order is placed.")

    async def _consume_order_book(self) -> None:
        """Live, OctoBot fetches an order book only while something consumes it: this consumer keeps the pair's
        book fresh, so that `maker` orders rest at its best bid and ask. Backtests have no book (`maker` then
        rests at `maker_offset_percent` from the price)."""
        if self.exchange_manager.is_backtesting or self.order_book_consumer is not None:
            return
        symbol = self.trading_mode.symbol
        self.order_book_consumer = await exchange_channel.get_chan(
            channels_name.OctoBotTradingChannelsName.ORDER_BOOK_CHANNEL.value, self.exchange_manager.id
        ).new_consumer(self.order_book_callback, priority_level=self.priority_level, symbol=symbol)
        if vb_settings.flatten(self.trading_mode.raw_settings).get(
                "order_type", vb_settings.SPEC_BY_NAME["order_type"].default) not in vb_settings.BEST_PRICE_ORDER_TYPES:
            return
        # the first maker orders rest at the book's prices too: its first fetch is awaited (bounded)
        book = self.exchange_manager.get_symbol_data(symbol).order_book_manager
        for _ in range(int(ORDER_BOOK_WAIT_SECONDS / ORDER_BOOK_POLL_SECONDS)):
            if book.order_book_initialized or self.should_stop:
                return
            await asyncio.sleep(ORDER_BOOK_POLL_SECONDS)
        self.logger.warning(f"No order book of {symbol} after {ORDER_BOOK_WAIT_SECONDS} s: maker orders rest at "
                            f"maker_offset_percent from the price until one arrives")

    async def order_book_callback(self, exchange: str, exchange_id: str, cryptocurrency: str, symbol: str,
                                  asks, bids):
        """Orders read the book OctoBot keeps when they are priced: only its freshness is noted here."""
        self.order_book_time = self.exchange_manager.exchange.get_exchange_current_time()

    async def ohlcv_callback(self, exchange: str, exchange_id: str, cryptocurrency: str, symbol: str,
                             time_frame: str, candle: dict):
        booster = self.trading_mode.get_booster() if self.trading_mode is not None else None
        if booster is not None:
            await booster.on_time_update()

    async def stop(self) -> None:
        if self.trading_mode is not None:
            booster = self.trading_mode.get_booster()
            if booster is not None:
                await booster.stop_loop()
        if self.order_book_consumer is not None:
            consumer, self.order_book_consumer = self.order_book_consumer, None
            try:
                await exchange_channel.get_chan(channels_name.OctoBotTradingChannelsName.ORDER_BOOK_CHANNEL.value,
                                                self.exchange_manager.id).remove_consumer(consumer)
            except KeyError:
                pass  # the exchange's channels are already gone
        await super().stop()
