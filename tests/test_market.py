"""Tests of the embedded default market (volume_booster/market.py)."""
import asyncio
import hashlib
import json
import math
import os
import sqlite3
import statistics
import subprocess
import sys
import textwrap

import pytest

import volume_booster
from volume_booster import market

# sha256 of json.dumps(generate_candles()) for each generator version. Changing the model, a
# default or the file layout must bump market.GENERATOR_VERSION (cached files are named after it)
# and add its fingerprint here; this test fails when the candles change without a version bump.
FINGERPRINTS = {
    1: "a3c1ad456c21043a3fd29e743607460bb4c1bb93abbfca7684579d92cb43671f",
    # same candles, description table in data file format 1.1 (readable by OctoBot 2.0 and 2.1)
    2: "a3c1ad456c21043a3fd29e743607460bb4c1bb93abbfca7684579d92cb43671f",
}
# the description table of the OctoBot data file format 1.1, the one both OctoBot 2.0 and 2.1 read
FORMAT_1_1_COLUMNS = ["timestamp", "version", "exchange", "symbols", "time_frames", "start_timestamp",
                      "end_timestamp"]


def _log_returns(candles):
    closes = [candle[4] for candle in candles]
    return [math.log(after / before) for before, after in zip(closes, closes[1:])]


def _run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def _description_table(path):
    """(column names, the one row as a dict) of a data file's description table, read with sqlite3."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        columns = [row[1] for row in connection.execute("PRAGMA table_info(description)")]
        rows = connection.execute("SELECT * FROM description").fetchall()
    finally:
        connection.close()
    assert len(rows) == 1, rows
    return columns, dict(zip(columns, rows[0]))


@pytest.fixture(scope="module")
def default_candles():
    return market.generate_candles()


@pytest.fixture(scope="module")
def default_file(tmp_path_factory):
    return market.default_market_file(tmp_path_factory.mktemp("markets"))


def test_same_seed_same_candles_other_seed_different(default_candles):
    assert market.generate_candles() == default_candles
    assert market.generate_candles(minutes=300, seed=7) == market.generate_candles(minutes=300, seed=7)
    other = market.generate_candles(seed=market.DEFAULT_SEED + 1)
    assert len(other) == len(default_candles)
    assert [c[0] for c in other] == [c[0] for c in default_candles]
    assert [c[4] for c in other] != [c[4] for c in default_candles]
    # a shorter run is a prefix of the longer one with the same seed
    assert market.generate_candles(minutes=100) == default_candles[:100]


def test_generator_fingerprint_matches_version(default_candles):
    digest = hashlib.sha256(json.dumps(default_candles).encode()).hexdigest()
    assert FINGERPRINTS.get(market.GENERATOR_VERSION) == digest, (
        "candles changed: bump market.GENERATOR_VERSION and record the new fingerprint"
    )


def test_default_candles_are_sane(default_candles):
    candles = default_candles
    assert len(candles) == market.DEFAULT_MINUTES >= 1440
    assert candles[0][0] == market.DEFAULT_START_TIMESTAMP
    assert all(after[0] - before[0] == 60 for before, after in zip(candles, candles[1:]))
    for timestamp, open_, high, low, close, volume in candles:
        assert isinstance(timestamp, int)
        assert high >= max(open_, close)
        assert low <= min(open_, close)
        assert low > 0
        assert volume > 0
    assert all(after[1] == before[4] for before, after in zip(candles, candles[1:]))
    assert candles[0][1] == market.DEFAULT_START_PRICE

    returns = _log_returns(candles)
    # BTC/USDT 1m moves: typically 0.03 % to 0.1 %
    assert 0.0003 <= statistics.pstdev(returns) <= 0.0015
    assert 0.0001 <= statistics.median(abs(r) for r in returns) <= 0.001
    # realistic wicks: bars have a range, but not absurd ones
    ranges = [(c[2] - c[3]) / c[4] for c in candles]
    assert 0.0003 <= statistics.median(ranges) <= 0.003
    assert max(ranges) < 0.05
    # volatility clustering: absolute returns are autocorrelated (i.i.d. returns give ~0)
    absolute = [abs(r) for r in returns]
    mean = statistics.fmean(absolute)
    lag1 = sum((a - mean) * (b - mean) for a, b in zip(absolute, absolute[1:]))
    assert lag1 / sum((a - mean) ** 2 for a in absolute) > 0.05
    # volumes in BTC: typically 5 to 50 per minute
    assert 5 <= statistics.median(c[5] for c in candles) <= 50
    # the price stays in a plausible two-day band
    assert 0.8 < candles[-1][4] / candles[0][1] < 1.25


def test_aggregate_candles_drops_partial_buckets():
    start = 1704067200 + 3 * 60  # 3 minutes into a 5m bucket
    candles = [[start + i * 60, 100.0 + i, 102.0 + i, 99.0 + i, 101.0 + i, 1.0 + i] for i in range(14)]
    aggregated = market.aggregate_candles(candles, 5)
    # minutes 3-16: 3-4 and 15-16 are partial buckets, 5-9 and 10-14 are complete
    assert aggregated == [
        [1704067200 + 300, 102.0, 108.0, 101.0, 107.0, 3.0 + 4 + 5 + 6 + 7],
        [1704067200 + 600, 107.0, 113.0, 106.0, 112.0, 8.0 + 9 + 10 + 11 + 12],
    ]
    assert market.aggregate_candles(candles, 1) == candles


def test_written_file_reads_back_through_octobot_importer(default_file, default_candles):
    import octobot_backtesting.api as backtesting_api
    import octobot_backtesting.importers as importers
    import octobot_commons.enums as commons_enums

    assert default_file.name == market.data_file_name()
    assert default_file.name.startswith(market.COLLECTOR_CLASS_NAME + "_")

    description = _run(backtesting_api.get_file_description(default_file.name, data_path=str(default_file.parent)))
    assert description["exchange"] == "binance"
    assert description["symbols"] == ["BTC/USDT"]
    assert description["time_frames"] == ["1m", "5m", "15m", "1h"]
    assert description["candles_length"] == len(default_candles)
    assert description["start_timestamp"] == default_candles[0][0]
    assert description["end_timestamp"] == default_candles[-1][0] + 60

    async def read():
        # OctoBot's prefix lookup resolves the file name to our collector and its importer
        assert market.get_collector_class().__name__ == market.COLLECTOR_CLASS_NAME
        looked_up = await backtesting_api.create_importer({}, str(default_file))
        await looked_up.stop()
        importer = importers.ExchangeDataImporter({}, str(default_file))
        await importer.initialize()
        try:
            by_time_frame = {}
            for time_frame in importer.time_frames:
                rows = await importer.get_ohlcv(exchange_name="binance", symbol="BTC/USDT", time_frame=time_frame)
                by_time_frame[time_frame.value] = rows
            interval = await backtesting_api.get_data_timestamp_interval(
                importer, commons_enums.TimeFrames.ONE_MINUTE)
            return type(looked_up), importer, by_time_frame, interval
        finally:
            await importer.stop()

    looked_up_class, importer, by_time_frame, interval = _run(read())
    assert looked_up_class is importers.ExchangeDataImporter
    assert importer.exchange_name == "binance"
    assert importer.symbols == ["BTC/USDT"]
    # every time frame covers the whole period (what makes the 1m prices accurate in a backtest);
    # an attribute in OctoBot 2.0 and 2.1 (provides_accurate_price_time_frame() is 2.1 only)
    assert importer.has_all_time_frames_candles_history is True

    one_minute_rows = by_time_frame["1m"]
    read_candles = sorted((row[-1] for row in one_minute_rows), key=lambda candle: candle[0])
    assert len(read_candles) == len(default_candles)
    assert read_candles[0][4] == default_candles[0][4]
    assert read_candles[-1][4] == default_candles[-1][4]
    assert read_candles == default_candles
    # row timestamp = candle close time, as in OctoBot's collected files
    assert all(row[0] == row[-1][0] + 60 for row in one_minute_rows)
    assert interval == (default_candles[0][0] + 60, default_candles[-1][0] + 60)

    for time_frame, minutes in (("5m", 5), ("15m", 15), ("1h", 60)):
        read_aggregated = sorted((row[-1] for row in by_time_frame[time_frame]), key=lambda candle: candle[0])
        assert len(read_aggregated) == len(default_candles) // minutes
        assert read_aggregated == market.aggregate_candles(default_candles, minutes)
    first_hour = default_candles[:60]
    assert sorted(row[-1] for row in by_time_frame["1h"])[0] == [
        first_hour[0][0], first_hour[0][1], max(c[2] for c in first_hour), min(c[3] for c in first_hour),
        first_hour[-1][4], round(sum(c[5] for c in first_hour), 5),
    ]


def test_file_uses_the_data_format_every_octobot_version_reads(default_file, default_candles):
    """OctoBot 2.0 reads data file formats 1.0 and 1.1 only ("Unknown datafile version" otherwise); OctoBot
    2.1's collector writes 2.0 (with a `type` column) but still reads 1.1: the market is always written as 1.1."""
    assert market.DATA_FILE_FORMAT_VERSION == "1.1"
    columns, description = _description_table(default_file)
    assert columns == FORMAT_1_1_COLUMNS
    assert description["version"] == "1.1"
    assert description["exchange"] == "binance"
    assert json.loads(description["symbols"]) == ["BTC/USDT"]
    assert json.loads(description["time_frames"]) == ["1m", "5m", "15m", "1h"]
    assert int(description["start_timestamp"]) == default_candles[0][0]
    assert int(description["end_timestamp"]) == default_candles[-1][0] + 60


def test_files_of_an_older_layout_are_never_reused(tmp_path, monkeypatch):
    """A cached file of generator version 1 (written by OctoBot 2.1 in format 2.0) has another name."""
    assert market.GENERATOR_VERSION >= 2
    current_name = market.data_file_name(minutes=60)
    with monkeypatch.context() as patch:
        patch.setattr(market, "GENERATOR_VERSION", 1)
        stale_name = market.data_file_name(minutes=60)
    assert "-gen1-" in stale_name and f"-gen{market.GENERATOR_VERSION}-" in current_name
    (tmp_path / stale_name).write_bytes(b"stale format 2.0 file")
    path = market.default_market_file(tmp_path, minutes=60)
    assert path.name == current_name
    assert _description_table(path)[1]["version"] == "1.1"
    assert (tmp_path / stale_name).read_bytes() == b"stale format 2.0 file"


def test_default_market_file_is_created_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # OctoBot's collector would otherwise create backtesting/data here
    cache_dir = tmp_path / "cache"
    path = market.default_market_file(cache_dir)
    assert path == cache_dir / market.data_file_name()
    assert path.is_file()
    assert f"gen{market.GENERATOR_VERSION}" in path.name and f"seed{market.DEFAULT_SEED}" in path.name
    assert os.listdir(cache_dir) == [path.name]  # no temporary leftovers
    assert not (tmp_path / "backtesting").exists()
    before = path.stat()

    def must_not_write(*_, **__):
        raise AssertionError("existing market file rewritten")

    monkeypatch.setattr(market, "write_data_file", must_not_write)
    assert market.default_market_file(cache_dir) == path
    assert market.default_market_file(str(cache_dir)) == path

    async def from_running_loop():
        return market.default_market_file(cache_dir), await market.ensure_default_market_file(cache_dir)

    assert _run(from_running_loop()) == (path, path)
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns, after.st_size) == (before.st_ino, before.st_mtime_ns, before.st_size)


def test_generation_from_running_loop_and_async(tmp_path):
    async def generate():
        sync_path = market.default_market_file(tmp_path / "sync", minutes=120, seed=5)
        async_path = await market.ensure_default_market_file(tmp_path / "async", minutes=120, seed=5)
        # the caller's loop is still usable after the sync call
        await asyncio.sleep(0)
        return sync_path, async_path

    sync_path, async_path = _run(generate())
    assert sync_path.name == async_path.name == market.data_file_name(seed=5, minutes=120)
    assert sync_path.name != market.data_file_name()
    description = _run(market_description(sync_path))
    assert description["candles_length"] == 120
    assert description["time_frames"] == ["1m", "5m", "15m", "1h"]


async def market_description(path):
    import octobot_backtesting.api as backtesting_api
    return await backtesting_api.get_file_description(path.name, data_path=str(path.parent))


ENGINE_SCRIPT = textwrap.dedent("""
    import asyncio, json, sys
    import octobot_backtesting.api as backtesting_api
    import octobot_backtesting.backtesting as backtesting
    import octobot_backtesting.importers as importers
    import octobot_commons.constants as commons_constants
    import octobot_commons.enums as commons_enums
    import octobot_evaluators.api as evaluators_api
    import octobot_trading.api as trading_api
    import octobot_trading.exchanges as exchanges

    async def main(data_file):
        config = {
            commons_constants.CONFIG_CRYPTO_CURRENCIES: {"Bitcoin": {"pairs": ["BTC/USDT"]}},
            commons_constants.CONFIG_EXCHANGES: {"binance": {"enabled": True}},
            commons_constants.CONFIG_TIME_FRAME: [],
            commons_constants.CONFIG_TRADER: {"enabled": False},
            commons_constants.CONFIG_SIMULATOR: {"enabled": False},
            commons_constants.CONFIG_TRADING: {"reference-market": "USDT", "risk": 1},
            "backtesting": {},
        }
        matrix_id = evaluators_api.create_matrix()
        await evaluators_api.create_evaluator_channels(matrix_id, is_backtesting=True)
        importer = importers.ExchangeDataImporter(config, data_file)
        await importer.initialize()
        engine = backtesting.Backtesting(config, exchange_ids=[], matrix_id=matrix_id,
                                         backtesting_files=[data_file],
                                         importers_by_data_file={data_file: importer})
        await engine.initialize()
        await engine.create_importers()
        start, end = await backtesting_api.adapt_backtesting_channels(
            engine, config, importers.ExchangeDataImporter)
        exchange_manager = exchanges.ExchangeManager(config, "binance")
        exchange_manager.is_backtesting = exchange_manager.is_simulated = True
        exchange_manager.use_cached_markets = False
        exchange_manager.backtesting = engine
        await exchange_manager.initialize(exchange_config_by_exchange=None)
        engine.exchange_ids.append(exchange_manager.id)
        await backtesting_api.start_backtesting(engine)
        await engine.time_updater.finished_event.wait()
        closes = trading_api.get_symbol_close_candles(
            trading_api.get_symbol_data(exchange_manager, "BTC/USDT"), commons_enums.TimeFrames.ONE_MINUTE)
        result = {"start": start, "end": end, "time": exchange_manager.exchange.get_exchange_current_time(),
                  "count": len(closes), "first_close": float(closes[0]), "last_close": float(closes[-1])}
        await exchange_manager.stop()
        await importer.stop()
        print("RESULT " + json.dumps(result))

    asyncio.run(asyncio.wait_for(main(sys.argv[1]), 60))
""")


def test_octobot_backtesting_engine_replays_the_file(default_file, default_candles, tmp_path):
    # in a subprocess: the engine registers process-wide channels; a hang is bounded by the timeout
    script = tmp_path / "replay.py"
    script.write_text(ENGINE_SCRIPT)
    env = dict(os.environ, PYTHONPATH=str(volume_booster.REPO_ROOT))
    completed = subprocess.run([sys.executable, str(script), str(default_file)], cwd=tmp_path, env=env,
                               capture_output=True, text=True, timeout=120)
    lines = [line for line in completed.stdout.splitlines() if line.startswith("RESULT ")]
    assert completed.returncode == 0 and lines, completed.stdout[-2000:] + completed.stderr[-3000:]
    result = json.loads(lines[-1][len("RESULT "):])
    assert result["start"] == default_candles[0][0] + 60
    assert result["end"] == default_candles[-1][0] + 60
    assert result["time"] == result["end"]
    assert result["count"] == len(default_candles)
    assert result["first_close"] == default_candles[0][4]
    assert result["last_close"] == default_candles[-1][4]
