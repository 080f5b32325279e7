"""Read what an OctoBot `.data` backtesting file holds (exchange, symbols, time frames, first and last
prices) without opening it for writing: it is an SQLite database with `description` and `ohlcv`
tables, opened here read-only."""
import dataclasses
import json
import pathlib
import sqlite3


@dataclasses.dataclass(frozen=True)
class DataFileInfo:
    path: pathlib.Path
    exchange: str
    symbols: tuple
    time_frames: tuple
    first_close: dict  # symbol -> close of the first candle of the finest time frame
    last_close: dict
    finest_time_frame: str
    candles: int  # candles of the first symbol in the finest time frame


_TIME_FRAME_SECONDS = {"1m": 60, "3m": 180, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600, "2h": 7200,
                       "4h": 14400, "6h": 21600, "8h": 28800, "12h": 43200, "1d": 86400, "3d": 259200,
                       "1w": 604800, "1M": 2592000}


def time_frame_seconds(time_frame: str) -> int:
    return _TIME_FRAME_SECONDS[time_frame]


def read_info(path) -> DataFileInfo:
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no data file at {path}")
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        _, _, exchange, symbols, time_frames = connection.execute(
            "SELECT timestamp, version, exchange, symbols, time_frames FROM description"
        ).fetchone()
        symbols = tuple(json.loads(symbols))
        time_frames = tuple(json.loads(time_frames))
        finest = min(time_frames, key=time_frame_seconds)
        first_close, last_close = {}, {}
        for symbol in symbols:
            rows = connection.execute(
                "SELECT candle FROM ohlcv WHERE symbol = ? AND time_frame = ? ORDER BY timestamp ASC LIMIT 1",
                (symbol, finest)).fetchone(), connection.execute(
                "SELECT candle FROM ohlcv WHERE symbol = ? AND time_frame = ? ORDER BY timestamp DESC LIMIT 1",
                (symbol, finest)).fetchone()
            first_close[symbol] = json.loads(rows[0][0])[4]
            last_close[symbol] = json.loads(rows[1][0])[4]
        candles = connection.execute(
            "SELECT COUNT(*) FROM ohlcv WHERE symbol = ? AND time_frame = ?", (symbols[0], finest)
        ).fetchone()[0]
    except (sqlite3.DatabaseError, TypeError, IndexError, ValueError) as err:
        raise ValueError(f"{path} is not a readable OctoBot exchange data file: {err}") from err
    finally:
        connection.close()
    return DataFileInfo(path, exchange, symbols, time_frames, first_close, last_close, finest, candles)
