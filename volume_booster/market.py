"""Embedded default market: seeded synthetic 1-minute candles written as an OctoBot data file.

The project must be able to simulate and test without network access and without the
``../shared`` folder. This module generates a deterministic, realistic-looking BTC/USDT market
(2 days of 1m candles by default) and writes it as a genuine OctoBot backtesting ``.data`` file
(OctoBot's SQLite format) through OctoBot's own collector code, so that
``octobot_backtesting.importers.ExchangeDataImporter`` and the backtesting engine read it like
any collected file.

Price model (per minute, all randomness from one seeded ``random.Random``):

* log returns ``r = s(hour) * sqrt(h) * z`` where ``h`` follows a GARCH(1,1) recursion
  (volatility clustering, about 0.06 % typical 1m move), ``s`` is an intraday activity profile
  (busier around 15:00 UTC, quieter around 03:00 UTC) and rare jumps add fat tails;
* each minute is simulated as a path of sub-steps; high/low are the path extremes plus a small
  microstructure wick, so ``low <= min(open, close) <= max(open, close) <= high``;
  ``open`` equals the previous ``close`` (prices are rounded to the 0.01 USDT tick);
* volumes (BTC) are lognormal, larger when the market is active or the candle moved a lot.

Normal variates are built from ``Random.random()`` (Box-Muller) only, the one part of the
``random`` module whose sequence Python guarantees across versions: the same seed gives the
same candles everywhere. Bump ``GENERATOR_VERSION`` whenever the model, a default or the file
layout changes, so that cached files (named after it) are never reused stale.

Data file naming: OctoBot names a data file ``<collector class name>_<identifier>.data`` and
chooses the importer by looking up a collector class named like the prefix. Files written here
carry the collector class name ``VolumeBoosterMarketCollector`` (a subclass of
``octobot_backtesting.collectors.ExchangeDataCollector`` whose importer is
``ExchangeDataImporter``), e.g.
``VolumeBoosterMarketCollector_binance-BTC-USDT-gen2-seed20240301-2880m.data``.

Data file format: the file's ``description`` table is always written in OctoBot's exchange data
file format ``1.1`` (columns timestamp, version, exchange, symbols, time_frames, start_timestamp,
end_timestamp), whatever OctoBot writes it: that is the newest format every supported OctoBot
reads. OctoBot 2.1's collector would write format ``2.0`` (an extra ``type`` column), which
OctoBot 2.0 refuses (``RuntimeError: Unknown datafile version: 2.0``); OctoBot 2.1 still reads
``1.1``. The candle tables are the same in both versions.
Inside a Python process that has used this module the prefix resolves to that class. An
``OctoBot -b`` process does not import this module: there the lookup fails and OctoBot falls
back to the importer of the first installed ``AbstractExchangeHistoryCollector`` subclass (the
default ``ExchangeHistoryDataCollector`` tentacle, or a test fixture of that kind), which is
the same ``ExchangeDataImporter``. Without any such collector tentacle installed OctoBot's
fallback itself fails (``IndexError`` in ``get_default_importer``), whatever the file prefix.

The file holds 1m candles plus 5m, 15m and 1h candles aggregated from them (complete, aligned
buckets only). As in OctoBot's own files, each OHLCV row's ``timestamp`` column is the candle's
close time (open time + time frame) while the candle itself starts with its open time.
"""
import asyncio
import concurrent.futures
import json
import math
import os
import pathlib
import random
import shutil
import tempfile
import threading
import time

import volume_booster

# 1: first model; 2: same candles, description table in data file format 1.1 (version 1 files
# written with OctoBot 2.1 carry format 2.0, which OctoBot 2.0 can't read: never reuse them)
GENERATOR_VERSION = 2
# OctoBot data file format of the description table (see the module docstring)
DATA_FILE_FORMAT_VERSION = "1.1"
DEFAULT_SEED = 20240301
DEFAULT_MINUTES = 2 * 24 * 60
DEFAULT_START_PRICE = 30000.0
DEFAULT_START_TIMESTAMP = 1704067200  # 2024-01-01 00:00:00 UTC
DEFAULT_EXCHANGE = "binance"
DEFAULT_SYMBOL = "BTC/USDT"
# time frames written to data files, as minutes per candle; 1m must come first
DEFAULT_TIME_FRAMES = {"1m": 1, "5m": 5, "15m": 15, "1h": 60}
COLLECTOR_CLASS_NAME = "VolumeBoosterMarketCollector"
DATA_FILE_EXTENSION = ".data"

MINUTE_SECONDS = 60
PRICE_DECIMALS = 2  # BTC/USDT tick on binance: 0.01
VOLUME_DECIMALS = 5  # BTC/USDT amount step on binance: 0.00001

# model parameters (per minute)
_BASE_VOLATILITY = 0.0006  # unconditional 1m log-return standard deviation (0.06 %)
_GARCH_ALPHA = 0.06
_GARCH_BETA = 0.92
_INTRADAY_AMPLITUDE = 0.35  # activity swings +-35 % around the daily mean
_INTRADAY_PEAK_HOUR_UTC = 15.0
_JUMP_PROBABILITY = 0.003
_JUMP_SIZE = 6.0  # jump standard deviation, in units of the base volatility
_SUB_STEPS = 12  # intrabar path resolution
_WICK_SIZE = 0.25  # extra wick beyond the path extremes, in units of the current volatility
_MEDIAN_VOLUME = 10.0  # BTC per minute
_VOLUME_NOISE = 0.45
_MIN_VOLUME = 10 ** -VOLUME_DECIMALS

_SYNC_GENERATION_LOCK = threading.Lock()


class _NormalSource:
    """Standard normal variates from Random.random() only (Box-Muller, both outputs used)."""

    def __init__(self, seed):
        self._random = random.Random(seed)
        self._spare = None

    def uniform(self):
        return self._random.random()

    def normal(self):
        if self._spare is not None:
            value, self._spare = self._spare, None
            return value
        radius = math.sqrt(-2.0 * math.log(1.0 - self._random.random()))
        angle = 2.0 * math.pi * self._random.random()
        self._spare = radius * math.sin(angle)
        return radius * math.cos(angle)


def _intraday_activity(timestamp):
    hour = (timestamp % 86400) / 3600.0
    return 1.0 + _INTRADAY_AMPLITUDE * math.cos(2.0 * math.pi * (hour - _INTRADAY_PEAK_HOUR_UTC) / 24.0)


def generate_candles(minutes=DEFAULT_MINUTES, seed=DEFAULT_SEED, start_price=DEFAULT_START_PRICE,
                     start_timestamp=DEFAULT_START_TIMESTAMP):
    """Return ``minutes`` consecutive 1m candles ``[timestamp_seconds, open, high, low, close, volume]``.

    Pure and deterministic: the same arguments always give the same list. ``timestamp_seconds``
    is the candle open time (an int, 60 s apart, starting at ``start_timestamp``); prices are
    rounded to 0.01 and volumes (base currency units) to 0.00001.
    """
    if minutes < 1:
        raise ValueError(f"minutes must be >= 1, got {minutes}")
    if start_price <= 0:
        raise ValueError(f"start_price must be > 0, got {start_price}")
    start_timestamp = int(start_timestamp)
    normals = _NormalSource(seed)
    omega = _BASE_VOLATILITY ** 2 * (1.0 - _GARCH_ALPHA - _GARCH_BETA)
    variance = _BASE_VOLATILITY ** 2
    sub_step_scale = 1.0 / math.sqrt(_SUB_STEPS)
    volume_log_median = math.log(_MEDIAN_VOLUME)

    candles = []
    log_price = math.log(start_price)
    open_price = round(start_price, PRICE_DECIMALS)
    for index in range(minutes):
        timestamp = start_timestamp + index * MINUTE_SECONDS
        activity = _intraday_activity(timestamp)
        deseasonalized_volatility = math.sqrt(variance)
        volatility = activity * deseasonalized_volatility

        # intrabar path of the log price, with an occasional jump at a random sub-step
        jump_step = -1
        jump = 0.0
        if normals.uniform() < _JUMP_PROBABILITY:
            jump_step = int(normals.uniform() * _SUB_STEPS)
            jump = _JUMP_SIZE * _BASE_VOLATILITY * normals.normal()
        path_log_price = log_price
        path_high = path_low = log_price
        for step in range(_SUB_STEPS):
            path_log_price += volatility * sub_step_scale * normals.normal()
            if step == jump_step:
                path_log_price += activity * jump
            path_high = max(path_high, path_log_price)
            path_low = min(path_low, path_log_price)
        log_return = path_log_price - log_price
        log_price = path_log_price

        # microstructure wicks beyond the simulated path
        path_high += abs(normals.normal()) * _WICK_SIZE * volatility
        path_low -= abs(normals.normal()) * _WICK_SIZE * volatility

        close_price = round(math.exp(log_price), PRICE_DECIMALS)
        high_price = max(round(math.exp(path_high), PRICE_DECIMALS), open_price, close_price)
        low_price = min(round(math.exp(path_low), PRICE_DECIMALS), open_price, close_price)

        # volume: more when the market is active or the candle moved a lot
        move_size = abs(log_return) / volatility
        volume = math.exp(
            volume_log_median
            + 1.0 * math.log(volatility / _BASE_VOLATILITY)
            + 0.35 * (move_size - 0.8)
            + _VOLUME_NOISE * normals.normal()
        )
        volume = max(round(volume, VOLUME_DECIMALS), _MIN_VOLUME)

        candles.append([timestamp, open_price, high_price, low_price, close_price, volume])
        open_price = close_price

        # GARCH(1,1) update on the deseasonalized shock
        shock = log_return / activity
        variance = omega + _GARCH_ALPHA * shock * shock + _GARCH_BETA * variance
    return candles


def aggregate_candles(candles, time_frame_minutes):
    """Aggregate consecutive 1m candles into ``time_frame_minutes`` candles.

    Only complete buckets aligned on the time frame (open time multiple of its length, as on
    exchanges) are returned; leading and trailing partial buckets are dropped.
    """
    if time_frame_minutes == 1:
        return [list(candle) for candle in candles]
    bucket_seconds = time_frame_minutes * MINUTE_SECONDS
    aggregated = []
    bucket = []
    for candle in candles:
        bucket_start = candle[0] - candle[0] % bucket_seconds
        if bucket and bucket[0][0] - bucket[0][0] % bucket_seconds != bucket_start:
            bucket = []
        if not bucket and candle[0] != bucket_start:
            continue  # partial leading bucket
        bucket.append(candle)
        if len(bucket) == time_frame_minutes:
            aggregated.append([
                bucket_start,
                bucket[0][1],
                max(c[2] for c in bucket),
                min(c[3] for c in bucket),
                bucket[-1][4],
                round(sum(c[5] for c in bucket), VOLUME_DECIMALS),
            ])
            bucket = []
    return aggregated


def data_file_name(seed=DEFAULT_SEED, minutes=DEFAULT_MINUTES, exchange=DEFAULT_EXCHANGE,
                   symbol=DEFAULT_SYMBOL):
    """File name of a generated market: collector class prefix, generator version, seed, length."""
    pair = symbol.replace("/", "-").replace(":", "-")
    return (f"{COLLECTOR_CLASS_NAME}_{exchange}-{pair}-gen{GENERATOR_VERSION}"
            f"-seed{seed}-{minutes}m{DATA_FILE_EXTENSION}")


_collector_class = None
_COLLECTOR_CLASS_LOCK = threading.Lock()


def get_collector_class():
    """The OctoBot collector class used to write data files (created on first use).

    Created lazily so that importing this module and generating candles need no OctoBot import.
    Once created, OctoBot's file-prefix lookup (``octobot_backtesting.api.create_importer``)
    resolves ``VolumeBoosterMarketCollector_*.data`` files to ``ExchangeDataImporter`` in this
    process.
    """
    global _collector_class
    with _COLLECTOR_CLASS_LOCK:
        if _collector_class is None:
            _collector_class = _build_collector_class()
    return _collector_class


def _build_collector_class():
    import octobot_backtesting.collectors as collectors
    import octobot_backtesting.enums as backtesting_enums
    import octobot_commons.enums as commons_enums
    import octobot_commons.symbols as commons_symbols
    import octobot_trading.enums as trading_enums

    class VolumeBoosterMarketCollector(collectors.ExchangeDataCollector):
        """Writes given candles (no exchange access) with OctoBot's exchange data collector code."""

        # rows per INSERT statement (OctoBot builds one SQL statement per save_ohlcv call)
        INSERT_CHUNK_SIZE = 1000

        def __init__(self, output_dir, identifier, candles_by_time_frame, exchange_name, symbol):
            # read by get_file_identifier() during the parent constructor
            self._identifier = identifier
            self._candles_by_time_frame = candles_by_time_frame
            one_minute = candles_by_time_frame[commons_enums.TimeFrames.ONE_MINUTE]
            super().__init__(
                {},
                exchange_name,
                trading_enums.ExchangeTypes.SPOT,
                None,
                [commons_symbols.parse_symbol(symbol)],
                list(candles_by_time_frame),
                use_all_available_timeframes=False,
                # milliseconds, as OctoBot's collectors receive them; a non-zero start tells the
                # importer that every time frame covers the whole period
                start_timestamp=one_minute[0][0] * 1000,
                end_timestamp=(one_minute[-1][0] + MINUTE_SECONDS) * 1000,
            )
            # the parent constructor targets backtesting/data in the working directory
            self.path = str(output_dir)
            self.set_file_path()

        def get_file_identifier(self):
            return self._identifier

        def _ensure_file_path(self):
            # the parent would create backtesting/data in the working directory: the caller
            # creates the output folder instead
            pass

        def _load_all_available_timeframes(self):
            pass

        async def _create_description(self):
            # format 1.1 whatever the OctoBot version (see the module docstring): the column order
            # is the one OctoBot's readers index, the version string selects their 1.1 branch
            await self.database.insert(
                backtesting_enums.DataTables.DESCRIPTION,
                timestamp=time.time(),
                version=DATA_FILE_FORMAT_VERSION,
                exchange=self.exchange_name,
                symbols=json.dumps([symbol.symbol_str for symbol in self.symbols]),
                time_frames=json.dumps([time_frame.value for time_frame in self.time_frames]),
                start_timestamp=int(self.start_timestamp / 1000),
                end_timestamp=int(self.end_timestamp / 1000),
            )

        async def start(self):
            self.in_progress = True
            try:
                await self._create_description()
                for symbol in self.symbols:
                    for time_frame, candles in self._candles_by_time_frame.items():
                        candle_seconds = commons_enums.TimeFramesMinutes[time_frame] * MINUTE_SECONDS
                        for first in range(0, len(candles), self.INSERT_CHUNK_SIZE):
                            chunk = candles[first:first + self.INSERT_CHUNK_SIZE]
                            await self.save_ohlcv(
                                # row timestamp = candle close time, as in OctoBot's collectors
                                timestamp=[candle[0] + candle_seconds for candle in chunk],
                                exchange=self.exchange_name,
                                cryptocurrency=symbol.base,
                                symbol=symbol.symbol_str,
                                time_frame=time_frame,
                                candle=chunk,
                                multiple=True,
                            )
            finally:
                await self.database.stop()
                self.in_progress = False
            self.finalize_database()
            self.finished = True

    return VolumeBoosterMarketCollector


def _check_one_minute_candles(candles):
    if not candles:
        raise ValueError("no candle to write")
    for previous, current in zip(candles, candles[1:]):
        if current[0] - previous[0] != MINUTE_SECONDS:
            raise ValueError(f"1m candles must be consecutive: {previous[0]} then {current[0]}")


async def write_data_file(path, candles, exchange=DEFAULT_EXCHANGE, symbol=DEFAULT_SYMBOL):
    """Write consecutive 1m ``candles`` as an OctoBot data file at ``path`` and return its path.

    The file gets 1m candles plus the 5m, 15m and 1h candles aggregated from them (time frames
    without any complete candle are left out). It is written by ``VolumeBoosterMarketCollector``
    in a private temporary folder next to ``path`` then moved into place with an atomic rename:
    readers never see a partial file. Give ``path`` a ``VolumeBoosterMarketCollector_`` prefix
    (see ``data_file_name``) so OctoBot's prefix lookup works; the importer itself reads any name.
    """
    import octobot_commons.enums as commons_enums

    path = pathlib.Path(path)
    _check_one_minute_candles(candles)
    candles_by_time_frame = {}
    for time_frame, minutes_per_candle in DEFAULT_TIME_FRAMES.items():
        aggregated = aggregate_candles(candles, minutes_per_candle)
        if aggregated:
            candles_by_time_frame[commons_enums.TimeFrames(time_frame)] = aggregated

    path.parent.mkdir(parents=True, exist_ok=True)
    temp_dir = tempfile.mkdtemp(prefix=".writing-", dir=path.parent)
    try:
        collector = get_collector_class()(temp_dir, "partial", candles_by_time_frame, exchange, symbol)
        await collector.initialize()
        await collector.start()
        os.replace(collector.file_path, path)
    finally:
        shutil.rmtree(temp_dir, ignore_errors=True)
    return path


def _default_cache_dir():
    return volume_booster.REPO_ROOT / ".cache" / "markets"


def _default_market_path(cache_dir, seed, minutes):
    cache_dir = pathlib.Path(cache_dir) if cache_dir is not None else _default_cache_dir()
    return cache_dir / data_file_name(seed=seed, minutes=minutes)


async def ensure_default_market_file(cache_dir=None, *, seed=DEFAULT_SEED, minutes=DEFAULT_MINUTES):
    """Async ``default_market_file``: generates in the running event loop when missing."""
    path = _default_market_path(cache_dir, seed, minutes)
    if not path.is_file():
        await write_data_file(path, generate_candles(minutes=minutes, seed=seed))
    return path


def default_market_file(cache_dir=None, *, seed=DEFAULT_SEED, minutes=DEFAULT_MINUTES):
    """Path of the embedded default market data file, generated on first use.

    ``cache_dir`` defaults to ``<repo>/.cache/markets/``. The file name holds the generator
    version, seed and length, so an existing file is returned as is (never rewritten) and a
    changed generator gets a new file. Safe to call from sync code and from inside a running
    event loop: the writer runs in its own thread and event loop, leaving the caller's loop and
    event loop policy untouched.
    """
    path = _default_market_path(cache_dir, seed, minutes)
    if path.is_file():
        return path
    with _SYNC_GENERATION_LOCK:
        if not path.is_file():
            candles = generate_candles(minutes=minutes, seed=seed)
            with concurrent.futures.ThreadPoolExecutor(max_workers=1) as executor:
                executor.submit(asyncio.run, write_data_file(path, candles)).result()
    return path
