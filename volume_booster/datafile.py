"""Read and check what an OctoBot `.data` backtesting file holds (exchange, symbols, time frames, first and last
prices, price precision) without opening it for writing: it is an SQLite database with `description` and
`ohlcv` tables, opened here read-only.

:func:`read_info` rejects, with one sentence naming the file, anything the backtesting engine could not play:
a missing path, a folder, an empty, truncated or non-SQLite file, a database without the description or
ohlcv table, a description without exchange, symbols or known time frames, and a pair with fewer than
:data:`MIN_CANDLES` candles of the finest time frame. :func:`check` adds SQLite's own integrity check."""
import dataclasses
import decimal
import json
import pathlib
import sqlite3

SQLITE_HEADER = b"SQLite format 3\x00"
# the engine needs a first price and at least one step after it
MIN_CANDLES = 2
# candles read to find the price precision
PRECISION_SAMPLE = 500
MAX_PRICE_DECIMALS = 12
EXPECTED = "an OctoBot .data backtesting file (SQLite with description and ohlcv tables)"


class DataFileError(ValueError):
    """A data file the backtesting engine cannot play: the message names the file and what is wrong."""


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
    # decimals of the first symbol's prices in the finest time frame (2 for 9089.02, 8 for 0.00001234)
    price_decimals: int = 8


_TIME_FRAME_SECONDS = {"1m": 60, "3m": 180, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600, "2h": 7200,
                       "4h": 14400, "6h": 21600, "8h": 28800, "12h": 43200, "1d": 86400, "3d": 259200,
                       "1w": 604800, "1M": 2592000}


def time_frame_seconds(time_frame: str) -> int:
    return _TIME_FRAME_SECONDS[time_frame]


def _fail(path, problem: str) -> DataFileError:
    return DataFileError(f"{path}: {problem}; expected {EXPECTED}")


def _check_file(path: pathlib.Path) -> None:
    if not path.exists():
        raise _fail(path, "no such file")
    if path.is_dir():
        raise _fail(path, "is a folder")
    if not path.is_file():
        raise _fail(path, "is not a regular file")
    try:
        with path.open("rb") as file:
            header = file.read(len(SQLITE_HEADER))
    except OSError as err:
        raise _fail(path, f"cannot be read ({err.strerror})") from None
    if not header:
        raise _fail(path, "is empty")
    if header != SQLITE_HEADER:
        raise _fail(path, "is not an SQLite database")


def _description(connection, path) -> tuple:
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    for table in ("description", "ohlcv"):
        if table not in tables:
            raise _fail(path, f"has no {table} table")
    row = connection.execute("SELECT exchange, symbols, time_frames FROM description").fetchone()
    if row is None:
        raise _fail(path, "its description table is empty")
    exchange, symbols, time_frames = row
    try:
        symbols, time_frames = json.loads(symbols), json.loads(time_frames)
    except (TypeError, json.JSONDecodeError):
        raise _fail(path, "its description's symbols or time frames are not JSON lists") from None
    if not isinstance(exchange, str) or not exchange:
        raise _fail(path, "its description names no exchange")
    if not isinstance(symbols, list) or not symbols or not all(
            isinstance(symbol, str) and symbol.count("/") == 1 and all(symbol.split("/")) for symbol in symbols):
        raise _fail(path, f"its description's symbols {symbols!r} are not a list of BASE/QUOTE pairs")
    if not isinstance(time_frames, list) or not time_frames \
            or not all(time_frame in _TIME_FRAME_SECONDS for time_frame in time_frames):
        raise _fail(path, f"its description's time frames {time_frames!r} are not a list of "
                          f"{', '.join(_TIME_FRAME_SECONDS)}")
    return exchange, tuple(symbols), tuple(time_frames)


def _close(candle_text, path, symbol) -> float:
    try:
        candle = json.loads(candle_text)
        close = float(candle[4])
    except (TypeError, ValueError, IndexError, KeyError):
        raise _fail(path, f"a {symbol} candle is not a [time, open, high, low, close, volume] list") from None
    if not close > 0:
        raise _fail(path, f"a {symbol} candle has a close of {close}, not a positive price")
    return close


def _decimals(value: float) -> int:
    exponent = decimal.Decimal(repr(float(value))).normalize().as_tuple().exponent
    return max(0, min(MAX_PRICE_DECIMALS, -exponent)) if isinstance(exponent, int) else 0


def _price_decimals(connection, exchange, symbol, time_frame) -> int:
    rows = connection.execute(
        "SELECT candle FROM ohlcv WHERE exchange_name = ? AND symbol = ? AND time_frame = ? LIMIT ?",
        (exchange, symbol, time_frame, PRECISION_SAMPLE)).fetchall()
    decimals = 0
    for (candle_text,) in rows:
        try:
            decimals = max([decimals] + [_decimals(price) for price in json.loads(candle_text)[1:5]])
        except (TypeError, ValueError, IndexError, KeyError):
            continue
    return decimals


def _read(connection, path) -> DataFileInfo:
    exchange, symbols, time_frames = _description(connection, path)
    finest = min(time_frames, key=time_frame_seconds)
    first_close, last_close, candles = {}, {}, {}
    for symbol in symbols:
        where = "FROM ohlcv WHERE exchange_name = ? AND symbol = ? AND time_frame = ?"
        key = (exchange, symbol, finest)
        candles[symbol] = connection.execute(f"SELECT COUNT(*) {where}", key).fetchone()[0]
        if candles[symbol] < MIN_CANDLES:
            raise _fail(path, f"it holds {candles[symbol]} {exchange} {symbol} {finest} candle(s), at least "
                              f"{MIN_CANDLES} are needed")
        first = connection.execute(f"SELECT candle {where} ORDER BY timestamp ASC LIMIT 1", key).fetchone()
        last = connection.execute(f"SELECT candle {where} ORDER BY timestamp DESC LIMIT 1", key).fetchone()
        first_close[symbol] = _close(first[0], path, symbol)
        last_close[symbol] = _close(last[0], path, symbol)
    return DataFileInfo(path, exchange, symbols, time_frames, first_close, last_close, finest,
                        candles[symbols[0]], _price_decimals(connection, exchange, symbols[0], finest))


def read_info(path, integrity_check: bool = False) -> DataFileInfo:
    """What the file holds; raises :class:`DataFileError` when the engine could not play it. With
    `integrity_check`, SQLite also checks every page (finds files truncated or damaged anywhere)."""
    path = pathlib.Path(path)
    _check_file(path)
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as err:
        raise _fail(path, f"cannot be opened ({err})") from None
    try:
        if integrity_check:
            result = connection.execute("PRAGMA quick_check").fetchone()
            if not result or result[0] != "ok":
                raise _fail(path, f"is damaged or truncated (SQLite integrity check: {result and result[0]})")
        return _read(connection, path)
    except sqlite3.DatabaseError as err:
        raise _fail(path, f"is damaged, truncated or not readable ({err})") from None
    finally:
        connection.close()


def check(path) -> DataFileInfo:
    """Everything the engine will read, checked before it starts (the command line's --data)."""
    return read_info(path, integrity_check=True)
