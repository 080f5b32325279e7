"""`volume-booster fee-tier`: the printed plan, its JSON against the calculator, the table listings, and bad
input as one line naming the option with exit code 2 (nothing written)."""
import datetime
import decimal
import json
import subprocess
import sys

import pytest

from volume_booster import REPO_ROOT, bootstrap, cli
from tentacles.Trading.Mode.volume_booster_trading_mode import fee_tiers

D = decimal.Decimal
PROG = "volume-booster fee-tier"
NOW = "2026-12-02T12:00"
JSON_KEYS = ("exchange", "current_level", "next_level", "threshold", "volume_30d", "volume_needed", "deadline",
             "expected_cost", "monthly_saving", "pays_off")
SUBPROCESS_TIMEOUT = 120


def epoch(text):
    return datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.timezone.utc).timestamp()


def run(capsys, *args):
    code = cli.main(["fee-tier", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_prints_the_plan_and_writes_the_json_the_calculator_gives(capsys, tmp_path):
    out_file = tmp_path / "plan.json"
    code, out, err = run(capsys, "--exchange", "okx", "--volume-30d", "9600000", "--own-monthly-volume", "50000000",
                         "--now", NOW, "--json", str(out_file))
    assert (code, err) == (0, "")
    expected = fee_tiers.plan(fee_tiers.load_schedule("okx"), D(9_600_000), epoch(NOW), D(50_000_000))
    for text in ("current level    Lv1: maker 0.08 %, taker 0.1 %",
                 "next level       VIP1 from 10,000,000.00 USD", "or 100,000 USD assets: shown, not checked",
                 f"volume needed    {expected.volume_needed:,.2f} USD by 2026-12-02 16:00 UTC",
                 f"expected cost    {expected.expected_cost:,.2f} USD (at 10.00 bps of volume)",
                 "monthly saving   10,000.00 USD on 50,000,000.00 USD of own monthly volume",
                 "verdict          pays off", "keep it          0.00 USD a day"):
        assert text in out, (text, out)
    document = json.loads(out_file.read_text())
    assert tuple(document)[:len(JSON_KEYS)] == JSON_KEYS
    assert document["exchange"] == "okx" and document["current_level"] == "Lv1"
    assert document["next_level"] == "VIP1" and document["threshold"] == 10_000_000
    assert document["volume_30d"] == 9_600_000
    assert document["volume_needed"] == pytest.approx(float(expected.volume_needed), abs=0.005)
    assert document["expected_cost"] == pytest.approx(float(expected.expected_cost), abs=0.005)
    assert document["monthly_saving"] == float(expected.monthly_saving) == 10_000
    assert document["deadline"] == "2026-12-02T16:00:00Z"
    assert document["pays_off"] is True


def test_cost_deadline_and_maker_share_reach_the_calculator(capsys, tmp_path):
    out_file = tmp_path / "plan.json"
    code, out, _ = run(capsys, "--exchange", "binance", "--volume-30d", "800,000", "--own-monthly-volume", "300000",
                       "--cost-bps", "2.5", "--deadline", "2026-12-12T12:00", "--maker-share", "1", "--now", NOW,
                       "--json", str(out_file))
    assert code == 0
    expected = fee_tiers.plan(fee_tiers.load_schedule("binance"), D(800_000), epoch(NOW), D(300_000),
                              D("0.00025"), epoch("2026-12-12T12:00"), maker_share=D(1))
    document = json.loads(out_file.read_text())
    # ten days of an even 800,000 window leave: 200,000 + 266,666.67
    assert document["volume_needed"] == pytest.approx(float(expected.volume_needed), abs=0.005) == 466_666.67
    assert document["expected_cost"] == pytest.approx(116.67, abs=0.005)
    assert document["monthly_saving"] == 30.0  # 300,000 x (0.10 % - 0.09 %) at the maker fee
    assert document["pays_off"] is False and document["deadline"] == "2026-12-12T12:00:00Z"
    assert "does not pay" in out and "and 25 BNB held: shown, not checked" in out
    # keeping VIP1: an even 1,000,000 window loses 33,333.33 a day, the user's own volume brings 10,000
    assert document["keep_daily_volume"] == 23_333.33
    assert document["keep_monthly_cost"] == pytest.approx(175.0, abs=0.005)  # 700,000 at 2.5 bps


def test_the_default_cost_is_the_current_taker_fee_and_levels_override_the_table(capsys, tmp_path):
    out_file = tmp_path / "plan.json"
    code, out, _ = run(capsys, "--exchange", "binance", "--volume-30d", "800000", "--own-monthly-volume", "300000",
                       "--levels", "VIP1=1000000:0.09:0.08", "--now", NOW, "--json", str(out_file))
    assert code == 0
    document = json.loads(out_file.read_text())
    assert document["cost_bps"] == 10.0
    assert document["monthly_saving"] == 60.0  # 300,000 x (0.10 % - 0.08 %) with the user's VIP1
    assert "taker 0.08 %" in out


def test_daily_volumes_decide_what_leaves_the_window(capsys, tmp_path):
    out_file = tmp_path / "plan.json"
    # gate recomputes at 00:00 UTC: by then half of the oldest day (20,000) has left the window
    days = ",".join(["20000"] + ["1000"] * 29)
    code, _, _ = run(capsys, "--exchange", "gate", "--daily-volumes", days, "--now", NOW, "--json", str(out_file))
    assert code == 0
    document = json.loads(out_file.read_text())
    assert document["volume_30d"] == 49_000 and document["next_level"] == "VIP1"
    assert document["volume_needed"] == 60_000 - 49_000 + 10_000
    code, _, err = run(capsys, "--exchange", "gate", "--daily-volumes", ",".join(["1"] * 31))
    assert code == 2 and err.startswith(f"{PROG}: --daily-volumes: 31 days given")


def test_top_level_has_no_next_level(capsys, tmp_path):
    out_file = tmp_path / "plan.json"
    code, out, _ = run(capsys, "--exchange", "kraken", "--volume-30d", "300000", "--now", NOW, "--json",
                       str(out_file))
    assert code == 0 and "next level       none" in out and "top level" in out
    document = json.loads(out_file.read_text())
    assert document["next_level"] is None and document["threshold"] is None
    assert document["volume_needed"] == 0 and document["pays_off"] is False


def test_list_and_table(capsys):
    code, out, _ = run(capsys, "--list")
    assert code == 0
    assert all(exchange in out for exchange in fee_tiers.known_exchanges())
    assert "daily at 16:00 UTC" in out and "after every trade" in out and "hourly" in out
    code, out, _ = run(capsys, "--exchange", "okx", "--table")
    assert code == 0 and "https://www.okx.com/fees" in out and "checked 2026-12-02" in out
    assert "VIP1" in out and "10,000,000" in out and "or 100,000 USD assets" in out


@pytest.mark.parametrize("args, option", [
    (["--exchange", "mtgox", "--volume-30d", "1"], "--exchange 'mtgox'"),
    (["--volume-30d", "1"], "--exchange is required"),
    (["--exchange", "binance"], "--volume-30d is required"),
    (["--exchange", "binance", "--volume-30d", "-5"], "--volume-30d: expects an amount"),
    (["--exchange", "binance", "--volume-30d", "lots"], "--volume-30d: expects an amount"),
    (["--exchange", "binance", "--volume-30d", "1", "--own-monthly-volume", "-1"], "--own-monthly-volume:"),
    (["--exchange", "binance", "--volume-30d", "1", "--cost-bps", "20000"], "--cost-bps: expects"),
    (["--exchange", "binance", "--volume-30d", "1", "--maker-share", "2"], "--maker-share: expects a share"),
    (["--exchange", "binance", "--daily-volumes", "1,x,3"], "--daily-volumes: expects the window's daily"),
    (["--exchange", "binance", "--volume-30d", "1", "--now", "2026-13-01T00:00"], "--now: expects a UTC date"),
    (["--exchange", "binance", "--volume-30d", "1", "--deadline", "tomorrow"], "--deadline: expects a UTC date"),
    (["--exchange", "binance", "--volume-30d", "1", "--now", NOW, "--deadline", "2026-12-01T00:00"],
     "--deadline 2026-12-01T00:00:00Z is before --now"),
    (["--exchange", "binance", "--volume-30d", "1", "--levels", "VIP1=1000000:0.09"], "--levels: 'VIP1=1000000"),
    (["--exchange", "binance", "--volume-30d", "1", "--json", "/nonexistent-folder/plan.json"], "--json "),
])
def test_bad_input_is_one_line_naming_the_option_exit_2(capsys, args, option):
    code, out, err = run(capsys, *args)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    assert lines[0].startswith(f"{PROG}: {option}"), lines[0]
    if option.startswith("--levels"):
        assert "NAME=THRESHOLD:MAKER%:TAKER%" in lines[0]


def test_bootstrap_forwards_fee_tier_to_the_command_line(monkeypatch, tmp_path):
    """`python3 -m volume_booster.bootstrap fee-tier ...` runs the command in the project's environment."""
    monkeypatch.setattr(bootstrap, "ensure_environment", lambda octobot_line: sys.executable)
    ran = []
    real_run = subprocess.run

    def bounded_run(command, **kwargs):
        ran.append(command)
        return real_run(command, timeout=SUBPROCESS_TIMEOUT, capture_output=True, text=True, **kwargs)

    monkeypatch.setattr(bootstrap.subprocess, "run", bounded_run)
    out_file = tmp_path / "plan.json"
    assert bootstrap.main(["fee-tier", "--exchange", "gate", "--volume-30d", "50000", "--now", NOW,
                           "--json", str(out_file)]) == 0
    assert ran[0][1:4] == ["-m", "volume_booster.cli", "fee-tier"]
    assert json.loads(out_file.read_text())["next_level"] == "VIP1"


def test_the_command_needs_no_octobot():
    """The planning command loads the pure calculator from its file: OctoBot is never imported."""
    code = ("import sys; from volume_booster import cli; rc = cli.main(['fee-tier', '--exchange', 'bybit', "
            "'--volume-30d', '10', '--now', '2026-12-02T12:00']); "
            "assert not [m for m in sys.modules if m.startswith('octobot')], 'octobot imported'; sys.exit(rc)")
    finished = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True,
                              timeout=SUBPROCESS_TIMEOUT)
    assert finished.returncode == 0, finished.stderr
    assert "bybit fee tiers" in finished.stdout and "VIP1 from 1,000,000.00 USD" in finished.stdout


def test_the_tables_ship_in_the_tentacle_package():
    """The mode reads its tables beside fee_tiers.py once installed: the package carries every one of them (the
    tentacle's metadata.json has no `include` filter, so OctoBot's installer copies the whole folder)."""
    from volume_booster import package
    members = {name for name, _ in package.package_members()}
    prefix = "reference_tentacles/Trading/Mode/volume_booster_trading_mode/"
    assert f"{prefix}fee_tiers.py" in members
    for exchange in fee_tiers.known_exchanges():
        assert f"{prefix}fee_tier_tables/{exchange}.json" in members
    metadata = json.loads((fee_tiers.TABLES_FOLDER.parent / "metadata.json").read_text())
    assert "include" not in metadata


def test_the_documented_example_is_the_real_output(capsys, tmp_path, monkeypatch):
    """README.md and the documentation page show the worked example's exact output."""
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "--exchange", "okx", "--volume-30d", "9600000", "--own-monthly-volume", "9000000",
                       "--now", NOW, "--json", "plan.json")
    assert code == 0
    page = REPO_ROOT / "tentacles/Trading/Mode/volume_booster_trading_mode/resources/VolumeBoosterTradingMode.md"
    for document in (REPO_ROOT / "README.md", page):
        assert out in document.read_text(), document
