"""Bad command-line input of `simulate`, `compare`, `bench` and `package`: one line on stderr naming the option
or file and what is allowed, exit code 2, no traceback, and nothing run (no engine started, nothing written)."""
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys

import pytest

from volume_booster import REPO_ROOT, cli, datafile, market, simulation

PROFILE_SOURCE = REPO_ROOT / "profiles" / "volume_booster"
EXPECTED_DATA = "expected an OctoBot .data backtesting file"
SUBPROCESS_TIMEOUT = 120


@pytest.fixture
def engine_calls(monkeypatch):
    """Every way a command starts OctoBot's engine, replaced by a recorder: bad input must start none."""
    calls = []

    def record(name):
        def started(*args, **kwargs):
            calls.append(name)
            raise AssertionError(f"{name} was called on bad input")
        return started

    monkeypatch.setattr(simulation, "run_simulation", record("run_simulation"))
    monkeypatch.setattr(simulation, "engine_run", record("engine_run"))
    return calls


def _one_line_error(capsys, code, prog):
    captured = capsys.readouterr()
    assert code == 2, captured
    assert "Traceback" not in captured.err
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"{prog}: "), lines[0]
    assert captured.out == ""
    return lines[0]


# ---------------------------------------------------------------- data files

def _copy_market(tmp_path, name="market.data"):
    path = tmp_path / name
    shutil.copyfile(market.default_market_file(), path)
    return path


def _edit(path, *statements):
    connection = sqlite3.connect(path)
    for statement in statements:
        connection.execute(statement)
    connection.commit()
    connection.close()
    return path


def _bad_data_files(tmp_path) -> dict:
    """name -> (path, what the message must say)."""
    text = tmp_path / "notes.data"
    text.write_text("date,open,high,low,close\n2024-01-01,1,2,0.5,1.5\n")
    empty = tmp_path / "empty.data"
    empty.write_bytes(b"")
    folder = tmp_path / "folder.data"
    folder.mkdir()
    source = market.default_market_file().read_bytes()
    truncated = tmp_path / "truncated.data"
    truncated.write_bytes(source[:len(source) // 2])
    no_tables = _edit(tmp_path / "other.data", "CREATE TABLE notes (text TEXT)")
    no_ohlcv = _edit(_copy_market(tmp_path, "no_ohlcv.data"), "DROP TABLE ohlcv")
    no_description = _edit(_copy_market(tmp_path, "no_description.data"), "DROP TABLE description")
    no_symbols = _edit(_copy_market(tmp_path, "no_symbols.data"), "UPDATE description SET symbols = '[]'")
    bad_time_frame = _edit(_copy_market(tmp_path, "bad_tf.data"), "UPDATE description SET time_frames = '[\"7m\"]'")
    one_candle = _edit(_copy_market(tmp_path, "one_candle.data"),
                       "DELETE FROM ohlcv WHERE rowid NOT IN (SELECT rowid FROM ohlcv WHERE time_frame = '1m' "
                       "ORDER BY timestamp LIMIT 1)")
    return {
        "missing": (tmp_path / "missing.data", "no such file"),
        "text": (text, "is not an SQLite database"),
        "empty": (empty, "is empty"),
        "folder": (folder, "is a folder"),
        "truncated": (truncated, "truncated"),
        "no tables": (no_tables, "has no description table"),
        "no ohlcv": (no_ohlcv, "has no ohlcv table"),
        "no description": (no_description, "has no description table"),
        "no symbols": (no_symbols, "symbols [] are not a list of BASE/QUOTE pairs"),
        "unknown time frame": (bad_time_frame, "time frames ['7m'] are not a list of 1m"),
        "one candle": (one_candle, "holds 1 binance BTC/USDT 1m candle(s), at least 2 are needed"),
    }


def test_simulate_rejects_every_bad_data_file(tmp_path, capsys, engine_calls):
    for name, (path, problem) in _bad_data_files(tmp_path).items():
        line = _one_line_error(capsys, cli.main(["simulate", "--no-progress", "--data", str(path)]),
                               "volume-booster simulate")
        assert f"--data {path}: " in line, (name, line)
        assert problem in line, (name, line)
        assert EXPECTED_DATA in line, (name, line)
    assert engine_calls == []


def test_compare_and_bench_reject_a_bad_data_file(tmp_path, capsys, engine_calls):
    text = tmp_path / "prices.csv"
    text.write_text("not a database")
    for command in ("compare", "bench"):
        line = _one_line_error(capsys, cli.main([command, "--data", str(text)]), f"volume-booster {command}")
        assert f"--data {text}: is not an SQLite database" in line
    assert engine_calls == []


def test_good_data_files_pass_the_check(shared_data):
    files = sorted(shared_data.glob("*.data")) + [market.default_market_file()]
    for path in files:
        info = datafile.check(path)
        assert info.candles >= datafile.MIN_CANDLES and all(price > 0 for price in info.first_close.values())
    assert datafile.check(market.default_market_file()).price_decimals == 2
    assert datafile.check(shared_data / "AbstractExchangeHistoryCollector_1581775117.1713624.data").price_decimals == 8


# ---------------------------------------------------------------- profiles

def _profile(tmp_path, edit=None, name="profile", text=None):
    folder = tmp_path / name
    shutil.copytree(PROFILE_SOURCE, folder)
    profile_file = folder / "profile.json"
    if text is not None:
        profile_file.write_text(text)
    elif edit is not None:
        content = json.loads(profile_file.read_text())
        edit(content)
        profile_file.write_text(json.dumps(content))
    return folder


def test_simulate_rejects_bad_profiles(tmp_path, capsys, engine_calls):
    no_config = _profile(tmp_path, lambda content: content.pop("config"), "no_config")
    no_simulator = _profile(tmp_path, lambda content: content["config"].pop("trader-simulator"), "no_simulator")
    bad_portfolio = _profile(
        tmp_path, lambda content: content["config"]["trader-simulator"].update({"starting-portfolio": {"BTC": "1"}}),
        "bad_portfolio")
    broken = _profile(tmp_path, name="broken", text='{"config": {"trader-simulator": ')
    broken_settings = _profile(tmp_path, name="broken_settings")
    (broken_settings / "specific_config" / f"{simulation.MODE_NAME}.json").write_text("{enabled: true}")
    cases = {
        no_config: f"--profile {no_config / 'profile.json'}: no \"config\" object",
        no_simulator: f"--profile {no_simulator / 'profile.json'}: config has no \"trader-simulator\" object",
        bad_portfolio: f"--profile {bad_portfolio / 'profile.json'}: config.trader-simulator.starting-portfolio "
                       f"must map each currency to an amount of 0 or more",
        broken: f"--profile {broken / 'profile.json'}: not valid JSON (",
        broken_settings: f"--profile {broken_settings / 'specific_config' / simulation.MODE_NAME}.json: "
                         f"not valid JSON (",
        tmp_path / "absent": f"--profile {tmp_path / 'absent'}: no such folder; expected an OctoBot profile folder",
    }
    for folder, expected in cases.items():
        line = _one_line_error(capsys, cli.main(["simulate", "--no-progress", "--profile", str(folder)]),
                               "volume-booster simulate")
        assert expected in line, line
    assert engine_calls == []


def test_profile_load_names_the_file_and_what_it_lacks(tmp_path):
    folder = _profile(tmp_path, lambda content: content["config"].pop("trader-simulator"))
    with pytest.raises(simulation.ProfileError, match="trader-simulator"):
        simulation.Profile.load(folder)
    assert simulation.Profile.load(PROFILE_SOURCE).config["trader-simulator"]["starting-portfolio"]


# ---------------------------------------------------------------- settings and options

@pytest.mark.parametrize("args, expected", [
    (["--set", "=5"], "--set expects NAME=VALUE with a setting name before '=', got '=5'"),
    (["--set", " =5"], "with a setting name before '='"),
    (["--set", "volume_target"], "--set expects NAME=VALUE"),
    (["--set", "volume_targt=5"], "--set: unknown setting(s) volume_targt; known: enabled, volume_target"),
    (["--set", "volume_target=-1"], "'volume_target'"),
    (["--set", "order_type=taker"], "'order_type'"),
    (["--json", "{missing}/out.json"], "does not exist; expected a file in an existing folder"),
    (["--json", "{tmp}"], "is a folder; expected the path of a file to write"),
    (["--chart", "{tmp}/chart.jpg"], "--chart {tmp}/chart.jpg: expected a file name ending in .png"),
    (["--seed", "3"], "unrecognized arguments: --seed 3"),
    (["--data"], "--data: expected one argument"),
])
def test_simulate_rejects_bad_options(tmp_path, capsys, engine_calls, args, expected):
    fill = {"missing": tmp_path / "missing", "tmp": tmp_path}
    args = [arg.format(**fill) for arg in args]
    line = _one_line_error(capsys, cli.main(["simulate", "--no-progress", *args]), "volume-booster simulate")
    assert expected.format(**fill) in line
    assert engine_calls == []
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args, expected", [
    (["--seeds", "0"], "--seeds: expects a whole number from 1 to 1,000, got '0'"),
    (["--seeds", "two"], "--seeds: expects a whole number from 1 to 1,000, got 'two'"),
    (["--styles", "maker,taker"], "--styles: unknown style(s) taker; known: auto, maker, limit, market"),
    (["--styles", ","], "--styles: unknown style(s) (none)"),
    (["--fees", "0.1"], "--fees expects MAKER/TAKER in percent"),
    (["--fees", "0.1/150"], "--fees expects percentages from 0 to 100, got '0.1/150'"),
    (["--target", "0"], "--target: expects a number above 0"),
    (["--target", "nan"], "--target: expects a number above 0"),
    (["--json", "{missing}/rows.json"], "--json {missing}/rows.json: folder {missing} does not exist"),
])
def test_compare_rejects_bad_options(tmp_path, capsys, engine_calls, args, expected):
    fill = {"missing": tmp_path / "missing"}
    args = [arg.format(**fill) for arg in args]
    line = _one_line_error(capsys, cli.main(["compare", "--quick", *args]), "volume-booster compare")
    assert expected.format(**fill) in line
    assert engine_calls == []


@pytest.mark.parametrize("args, expected", [
    (["--orders", "0"], "--orders: expects a whole number from 1 to 10,000,000, got '0'"),
    (["--resting-orders", "many"], "--resting-orders: expects a whole number"),
    (["--set", "=5"], "--set expects NAME=VALUE with a setting name before '='"),
    (["--set", "side_policy=sometimes"], "'side_policy'"),
    (["--json", "{tmp}"], "--json {tmp}: is a folder"),
])
def test_bench_rejects_bad_options(tmp_path, capsys, engine_calls, args, expected):
    fill = {"tmp": tmp_path}
    args = [arg.format(**fill) for arg in args]
    line = _one_line_error(capsys, cli.main(["bench", "--quick", *args]), "volume-booster bench")
    assert expected.format(**fill) in line
    assert engine_calls == []


def test_package_rejects_an_output_that_is_not_a_folder(tmp_path, capsys):
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    line = _one_line_error(capsys, cli.main(["package", "--output", str(a_file)]), "volume-booster package")
    assert f"--output {a_file}: is a file; expected a folder" in line
    line = _one_line_error(capsys, cli.main(["package", "--output", str(a_file / "dist")]), "volume-booster package")
    assert f"{a_file} is a file, so the folder cannot be created" in line
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a_file"]


def test_unknown_command_is_one_line(capsys):
    line = _one_line_error(capsys, cli.main(["simulte"]), "volume-booster")
    assert "unknown command 'simulte'; commands: simulate, compare, package, bench" in line


def test_no_traceback_from_the_installed_command(tmp_path):
    text = tmp_path / "notes.data"
    text.write_text("not a database")
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    process = subprocess.Popen(
        [sys.executable, "-m", "volume_booster.cli", "simulate", "--no-progress", "--data", str(text)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=SUBPROCESS_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"volume-booster simulate did not exit within {SUBPROCESS_TIMEOUT} s")
    assert process.returncode == 2
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines() == [
        f"volume-booster simulate: --data {text}: is not an SQLite database; {EXPECTED_DATA} "
        f"(SQLite with description and ohlcv tables)"]
    assert stdout == ""
