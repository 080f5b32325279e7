"""The state file is untrusted input: restarts in OctoBot's backtesting engine from damaged state files.

Each run trades the real binance BTC/USDT file with a state folder. After one hour the mode is stopped and
restarted at once (its state file then holds a snapshot with progress); after two hours it "crashes": the
state file is copied as it is at that moment (what a killed process leaves), the mode is stopped, and half
an hour later (simulated) it is restarted from the copy, damaged in some way. What the mode restores is
compared with the engine's own record of trades (OctoBot's trades manager: the trades carrying the mode's
order tag); the runs are far below OctoBot's 10,000-trade bound, so that record holds every trade.
"""
import asyncio
import dataclasses
import decimal
import json
import pathlib
import traceback
import typing

import hypothesis
import hypothesis.strategies as st
import pytest

import octobot_trading.modes as trading_modes

from tests import mode_observers
from volume_booster import simulation

BTC_USDT_FILE = "AbstractExchangeHistoryCollector_1586017993.616272.data"  # binance, 502 1m candles (8 h)
SETTINGS = dict(volume_target=10 ** 7, order_type="limit", price_offset_percent=0.15, min_interval_seconds=20,
                max_interval_seconds=60, limit_order_timeout_seconds=1500, max_open_orders=8, random_seed=7)
CLEAN_RESTART_AFTER = 3600
CRASH_AFTER = 2 * 3600
DOWN_SECONDS = 1800
D = decimal.Decimal

_mode_package = simulation.import_mode_module()
vb = _mode_package.volume_booster_trading
vb_journal = _mode_package.journal
VolumeBoosterTradingMode = vb.VolumeBoosterTradingMode


@dataclasses.dataclass
class Restart:
    """What a restart from a damaged state file gave, read when start_loop returned."""
    error: typing.Optional[str]
    restored: bool
    volume: D
    fills: int
    orders_created: int
    ledger: dict
    own_trades: dict  # trade id -> quote value of the engine's trades carrying the mode's tag
    uncounted: list  # of those, the ones the mode did not count
    engine_orders_created: int


class Context:
    """The engine at the moment of the restart."""

    def __init__(self, trading_mode, state_file: pathlib.Path, crash_file: bytes):
        self.trading_mode = trading_mode
        self.exchange_manager = trading_mode.exchange_manager
        self.state_file = state_file
        self.crash_file = crash_file
        self.created_orders = set()

    def own_trades(self) -> dict:
        return {
            str(trade.trade_id):
                trade.total_cost if trade.total_cost else trade.executed_quantity * trade.executed_price
            for trade in self.exchange_manager.exchange_personal_data.trades_manager.trades.values()
            if trade.tag == vb.ORDER_TAG and trade.symbol == self.trading_mode.symbol and trade.executed_quantity > 0
        }

    def trades_of(self, order_id) -> list:
        return self.exchange_manager.exchange_personal_data.trades_manager.get_trades(origin_order_id=order_id)

    def open_own_orders(self) -> list:
        return [order for order in self.exchange_manager.exchange_personal_data.orders_manager.get_open_orders(
            symbol=self.trading_mode.symbol) if order.tag == vb.ORDER_TAG]

    async def restart_from(self, state: bytes, keep_running: bool = False) -> Restart:
        """New consumers for the trading mode (as OctoBot creates them at start) on `state` as the state file."""
        self.state_file.write_bytes(state)
        error = None
        booster = None
        try:
            self.trading_mode.consumers = await self.trading_mode.create_consumers()
            booster = self.trading_mode.get_booster()
            await booster.start_loop()
        except Exception:  # reported by the test
            error = traceback.format_exc()
        ledger = booster.ledger if booster is not None else None
        own_trades = self.own_trades()
        restart = Restart(
            error=error, restored=bool(booster and booster.view().restored),
            volume=ledger.volume if ledger else D(0), fills=ledger.fills_count if ledger else 0,
            orders_created=ledger.orders_created if ledger else 0,
            ledger=ledger.to_dict() if ledger else {},
            own_trades=own_trades,
            uncounted=[trade_id for trade_id in own_trades if not (ledger and ledger.has_counted(trade_id))],
            engine_orders_created=len(self.created_orders),
        )
        if booster is not None and not keep_running:
            await booster.stop()
        return restart


@dataclasses.dataclass
class Scenario:
    # async (context) -> anything: what the test does at the restart (default: restart from the crash file)
    at_restart: typing.Callable
    # async (context) -> None: what happens to the exchange right after the crash
    at_crash: typing.Optional[typing.Callable] = None
    phase: str = "running"
    crash_time: float = 0.0
    context: typing.Optional[Context] = None
    outcome: typing.Any = None
    errors: list = dataclasses.field(default_factory=list)


def _run(shared_data, tmp_path, scenario: Scenario):
    data_file = shared_data / BTC_USDT_FILE
    state_folder = tmp_path / "state"
    created = set()
    with pytest.MonkeyPatch.context() as patcher:
        patcher.setattr(VolumeBoosterTradingMode, "STATE_FOLDER", str(state_folder))
        original_create = trading_modes.AbstractTradingMode.create_order

        async def create_order(mode, order, *args, **kwargs):
            result = await original_create(mode, order, *args, **kwargs)
            if result is not None:
                created.add(result.order_id)
            return result

        patcher.setattr(trading_modes.AbstractTradingMode, "create_order", create_order)
        start = {}

        async def drive(trading_mode, now):
            await _drive(trading_mode, scenario, state_folder, start, created)

        # errors of the scenario are reported by the test, never swallowed silently
        mode_observers.patch_engine_hook(patcher, drive, scenario.errors)
        with simulation.quiet_octobot_logs():
            result = simulation.run(data_file, SETTINGS, timeline=False)
    assert not scenario.errors, "\n".join(scenario.errors)
    assert scenario.phase == "done", f"the run stopped in phase {scenario.phase}"
    return result


async def _drive(trading_mode, scenario: Scenario, state_folder: pathlib.Path, start: dict, created: set):
    now = trading_mode.exchange_manager.exchange.get_exchange_current_time()
    start.setdefault("time", now)
    booster = trading_mode.get_booster()
    if scenario.phase == "running" and now >= start["time"] + CLEAN_RESTART_AFTER:
        await booster.stop()
        trading_mode.consumers = await trading_mode.create_consumers()
        await trading_mode.get_booster().start_loop()
        scenario.phase = "restarted"
    elif scenario.phase == "restarted" and now >= start["time"] + CRASH_AFTER:
        if booster.ledger.fills_count == 0 or len(_open_tagged(trading_mode)) < 2:
            return
        (state_file,) = state_folder.glob("*.jsonl")
        # the clean restart found nothing to skip in the file the mode wrote
        assert not list(state_folder.glob("*.damaged"))
        crash_file = state_file.read_bytes()
        await booster.stop()
        scenario.context = Context(trading_mode, state_file, crash_file)
        scenario.context.created_orders = created
        if scenario.at_crash is not None:
            await scenario.at_crash(scenario.context)
        scenario.crash_time = now
        scenario.phase = "down"
    elif scenario.phase == "down" and now >= scenario.crash_time + DOWN_SECONDS:
        scenario.phase = "restarting"
        scenario.outcome = await scenario.at_restart(scenario.context)
        scenario.phase = "done"


def _open_tagged(trading_mode) -> list:
    return [order for order in trading_mode.exchange_manager.exchange_personal_data.orders_manager.get_open_orders(
        symbol=trading_mode.symbol) if order.tag == vb.ORDER_TAG]


def _lines(state: bytes) -> list:
    return state.split(b"\n")[:-1] if state.endswith(b"\n") else state.split(b"\n")


def _event(line: bytes) -> typing.Optional[dict]:
    event, _, problem = vb_journal.decode_line(line)
    return event if problem is None else None


def _assert_counted_exactly(restart: Restart):
    """Every own trade the engine holds is counted once, and nothing else."""
    assert restart.error is None, restart.error
    assert restart.restored
    assert restart.uncounted == []
    assert restart.fills == len(restart.own_trades)
    assert restart.volume == pytest.approx(sum(restart.own_trades.values()), rel=1e-12)
    assert restart.orders_created <= restart.engine_orders_created


# ----- a torn last `order` line -----
def test_a_torn_order_line_keeps_the_fill_the_exchange_shows(shared_data, tmp_path):
    torn = {}

    async def at_restart(context: Context):
        lines = _lines(context.crash_file)
        # the last order placed before the crash that has a trade now: its line is torn by the crash
        index = max(i for i, line in enumerate(lines)
                    if (event := _event(line)) and event["type"] == "order" and context.trades_of(event["id"]))
        torn["order"] = _event(lines[index])["id"]
        torn["trades"] = [str(trade.trade_id) for trade in context.trades_of(torn["order"])]
        damaged = b"\n".join(lines[:index] + [lines[index][:len(lines[index]) // 2]])
        return await context.restart_from(damaged, keep_running=True)

    scenario = Scenario(at_restart=at_restart)
    _run(shared_data, tmp_path, scenario)
    restart = scenario.outcome
    print(f"\n=== torn order line ===\norder {torn['order']}, own trades held {len(restart.own_trades)}, counted "
          f"{restart.fills}, volume {restart.volume:.6f} vs engine {sum(restart.own_trades.values()):.6f}")
    assert torn["trades"] and not set(torn["trades"]) & set(restart.uncounted)
    _assert_counted_exactly(restart)


# ----- every kind of damaged line, events the exchange never saw -----
def test_damaged_and_foreign_lines_never_stop_the_mode_nor_add_volume(shared_data, tmp_path):
    async def at_restart(context: Context):
        lines = _lines(context.crash_file)
        events = [event for line in lines if (event := _event(line))]
        order_id = next(event["id"] for event in events if event["type"] == "order")
        fill = next(event["fill"] for event in events if event["type"] == "fill")
        missing_amount = {key: value for key, value in fill.items() if key != "amount"}
        # the snapshot's volume changed on disk (its checksum no longer matches)
        assert _event(lines[0])["type"] == "snapshot"
        inflated = lines[0].replace(b'"volume":"', b'"volume":"9', 1)
        damaged = [inflated] + lines[1:] + [
            b"[1,2,3]", b"42", b"\xff\xfe\x00 not UTF-8",
            vb_journal.encode_line({"id": order_id, "how": "cancelled"}).encode(),
            vb_journal.encode_line({"type": "order_closed", "id": order_id, "how": "exploded"}).encode(),
            vb_journal.encode_line({"type": "fill", "fill": missing_amount}).encode(),
            # a fill of an order the mode never placed, and one the exchange never made (its record covers it)
            vb_journal.encode_line({"type": "fill", "fill": {**fill, "order_id": "stranger",
                                                              "trade_id": "phantom-1"}}).encode(),
            vb_journal.encode_line({"type": "order_closed", "id": "stranger", "how": "cancelled"}).encode(),
            vb_journal.encode_line({"type": "fill", "fill": {**fill, "trade_id": "phantom-2"}}).encode(),
            lines[-1], b'{"type":"fill","fill":{"trade_id"',
        ]
        restart = await context.restart_from(b"\n".join(damaged) + b"\n", keep_running=True)
        genuine = [line for line in lines[1:] if _event(line)]
        return restart, len(damaged) - len(genuine)

    scenario = Scenario(at_restart=at_restart)
    result = _run(shared_data, tmp_path, scenario)
    restart, damaged_count = scenario.outcome
    state_file = scenario.context.state_file
    kept = state_file.with_suffix(state_file.suffix + ".damaged")
    print(f"\n=== damaged lines ===\n{damaged_count} damaged lines; restored volume {restart.volume:.6f} vs engine "
          f"{sum(restart.own_trades.values()):.6f}; fills {restart.fills} vs {len(restart.own_trades)}; "
          f"orders cancelled {restart.ledger['orders_cancelled']}")
    _assert_counted_exactly(restart)
    # the file as it was is kept aside; the state file itself is clean again
    assert kept.read_bytes().count(b"\n") >= damaged_count
    events, problems = vb_journal.Journal(state_file).read()
    assert events and problems == []
    assert result.volume > restart.volume and not result.settings_error


# ----- orders lost with the crash -----
def test_orders_lost_with_a_crash_are_counted_as_vanished(shared_data, tmp_path):
    lost = []

    async def at_crash(context: Context):
        # as a paper-trading simulator does when the bot process dies: its open orders are gone, without trades
        for order in context.open_own_orders():
            if not context.trades_of(order.order_id):
                await context.exchange_manager.trader.cancel_order(order)
                lost.append(order.order_id)

    async def at_restart(context: Context):
        return await context.restart_from(context.crash_file, keep_running=True)

    scenario = Scenario(at_restart=at_restart, at_crash=at_crash)
    result = _run(shared_data, tmp_path, scenario)
    restart = scenario.outcome
    crash_ledger = json.loads(_lines(scenario.context.crash_file)[0])["ledger"]
    print(f"\n=== vanished ===\nlost with the crash {len(lost)}; restored: vanished {restart.ledger['orders_vanished']}"
          f", expired {restart.ledger['orders_expired']} (at the last snapshot {crash_ledger['orders_expired']}); "
          f"result orders_vanished {result.orders_vanished}")
    assert len(lost) >= 2
    # a crash file is no damage: nothing was skipped
    assert not list(scenario.context.state_file.parent.glob("*.damaged"))
    assert restart.ledger["orders_vanished"] == len(lost)
    assert result.orders_vanished == len(lost)
    _assert_counted_exactly(restart)


# ----- property: random damage -----
INJECTED = ("garbage", "list", "number", "no type", "unknown how", "missing field", "stranger fill", "phantom fill",
            "without checksum")
OPERATION = st.one_of(
    st.tuples(st.just("drop"), st.integers(0, 10 ** 6)),
    st.tuples(st.just("duplicate"), st.integers(0, 10 ** 6)),
    st.tuples(st.just("swap"), st.integers(0, 10 ** 6), st.integers(0, 10 ** 6)),
    st.tuples(st.just("flip"), st.integers(0, 10 ** 6), st.integers(0, 10 ** 6), st.integers(1, 255)),
    st.tuples(st.just("inject"), st.integers(0, 10 ** 6), st.sampled_from(INJECTED)),
)
DAMAGE = st.tuples(st.lists(OPERATION, min_size=1, max_size=8), st.none() | st.floats(0, 1))
EXAMPLES = 120


def _injected(kind: str, events: list) -> bytes:
    order_id = next(event["id"] for event in events if event["type"] == "order")
    fill = next(event["fill"] for event in events if event["type"] == "fill")
    encode = vb_journal.encode_line
    return {
        "garbage": b"\x00\xff{\"type\":\xc3",
        "list": b"[1,2,3]",
        "number": b"42",
        "no type": encode({"id": order_id}).encode(),
        "unknown how": encode({"type": "order_closed", "id": order_id, "how": "exploded"}).encode(),
        "missing field": encode({"type": "fill", "fill": {k: v for k, v in fill.items() if k != "price"}}).encode(),
        "stranger fill": encode({"type": "fill", "fill": {**fill, "order_id": "stranger"}}).encode(),
        "phantom fill": encode({"type": "fill", "fill": {**fill, "trade_id": "phantom"}}).encode(),
        "without checksum": json.dumps({"type": "fill", "fill": {**fill, "trade_id": "unchecked"}}).encode(),
    }[kind]


def damage(state: bytes, operations: list, truncate_at: typing.Optional[float]) -> bytes:
    lines = _lines(state)
    events = [event for line in lines if (event := _event(line))]
    for operation in operations:
        name, position = operation[0], operation[1]
        if name == "inject":
            lines.insert(position % (len(lines) + 1), _injected(operation[2], events))
        elif not lines:
            continue
        elif name == "drop":
            del lines[position % len(lines)]
        elif name == "duplicate":
            lines.insert(position % len(lines), lines[position % len(lines)])
        elif name == "swap":
            i, j = position % len(lines), operation[2] % len(lines)
            lines[i], lines[j] = lines[j], lines[i]
        elif name == "flip" and lines[position % len(lines)]:
            line = bytearray(lines[position % len(lines)])
            line[operation[2] % len(line)] ^= operation[3]
            lines[position % len(lines)] = bytes(line)
    damaged = b"\n".join(lines) + b"\n"
    return damaged[:int(len(damaged) * truncate_at)] if truncate_at is not None else damaged


def _property(context: Context, loop) -> None:
    """Runs in a worker thread while the engine waits: each example restarts the mode in the engine's loop."""
    engine_volume = sum(context.own_trades().values())
    examples = []

    @hypothesis.settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                         suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(DAMAGE)
    def restarts_from_damaged_state(damage_plan):
        operations, truncate_at = damage_plan
        damaged = damage(context.crash_file, operations, truncate_at)
        restart = asyncio.run_coroutine_threadsafe(context.restart_from(damaged), loop).result(timeout=120)
        examples.append(restart)
        # the mode starts; volume never exceeds what the engine's own trades hold; every one of them counts once
        assert restart.error is None, restart.error
        assert restart.volume <= engine_volume * (1 + D("1e-12"))
        _assert_counted_exactly(restart)

    restarts_from_damaged_state()
    return examples


def test_random_damage_to_the_state_file_never_stops_the_mode_nor_miscounts(shared_data, tmp_path):
    async def at_restart(context: Context):
        examples = await asyncio.to_thread(_property, context, asyncio.get_running_loop())
        # the rest of the run goes on from the genuine state file
        await context.restart_from(context.crash_file, keep_running=True)
        return examples

    scenario = Scenario(at_restart=at_restart)
    _run(shared_data, tmp_path, scenario)
    examples = scenario.outcome
    print(f"\n=== random damage ===\n{len(examples)} restarts from damaged state files; restored volume from "
          f"{min(e.volume for e in examples):.4f} to {max(e.volume for e in examples):.4f} (engine "
          f"{sum(examples[0].own_trades.values()):.4f}); own trades held {len(examples[0].own_trades)}")
    assert len(examples) >= EXAMPLES // 2
