"""Following a fee level: the cost per volume the break-even is judged at (the account's taker fee, then what the
mode paid), the account's volume when the level is aimed at again while running, and the log line said once per
change. A backtest has no account to ask, so the gateway's account answers are given here."""
import asyncio
import decimal

from tentacles.Trading.Mode.volume_booster_trading_mode import account_volume as vb_account_volume
from tentacles.Trading.Mode.volume_booster_trading_mode import fee_tier_follower as vb_fee_tier_follower
from tentacles.Trading.Mode.volume_booster_trading_mode import ledger as vb_ledger
from tentacles.Trading.Mode.volume_booster_trading_mode import settings as vb_settings

D = decimal.Decimal
DAY = 86400
# 2026-12-02 12:00 UTC
NOON = 1_796_212_800.0
SETTINGS = vb_settings.parse_settings({"target_mode": "next_fee_tier", "volume_30d": 500,
                                       "fee_tier_levels": "Base=0:0.10:0.10; Silver=1000:0.05:0.06"})


class AccountAnswers:
    """The gateway's answers about the account, on an exchange without a built-in fee table."""
    exchange_name, symbol, quote = "bittrex", "ETH/BTC", "BTC"

    def __init__(self, rates=None):
        self.rates = rates
        self.time = NOON

    async def account_volume(self, settings):
        return vb_account_volume.AccountVolume(settings.volume_30d, "setting volume_30d", from_setting=True)

    async def account_fee_rates(self):
        return self.rates

    def now(self):
        return self.time

    def fee_rate(self, maker: bool):
        return D("0.001") if maker else D("0.0025")


class Said:
    def __init__(self):
        self.lines = []

    def info(self, line):
        self.lines.append(line)

    warning = info


def _follower(rates=None):
    follower = vb_fee_tier_follower.FeeTierFollower(AccountAnswers(rates), Said())
    follower.apply(SETTINGS)
    return follower


def _fills(ledger, count, start=0):
    # 0.1 BTC each at a fee rate of 0.1 %
    for number in range(start, start + count):
        ledger.record_fill(vb_ledger.Fill(f"t{number}", f"o{number}", "buy", D(1), D("0.1"), D("0.1"),
                                          D("0.0001"), NOON + number))


def test_the_break_even_cost_is_the_account_taker_fee_until_enough_fills_then_what_the_mode_paid():
    ledger = vb_ledger.Ledger(D(1))
    follower = _follower(vb_account_volume.FeeRates(maker=D("0.001"), taker=D("0.002")))
    assert asyncio.run(follower.aim_at(SETTINGS, ledger, NOON))
    assert follower.follow(NOON, ledger).cost_per_volume == D("0.002")
    _fills(ledger, vb_fee_tier_follower.MEASURED_COST_FILLS - 1)
    # the verdict is judged again when a UTC day starts
    assert follower.follow(NOON + DAY, ledger).cost_per_volume == D("0.002")
    _fills(ledger, 1, start=vb_fee_tier_follower.MEASURED_COST_FILLS - 1)
    assert follower.follow(NOON + 2 * DAY, ledger).cost_per_volume == D("0.001")


def test_without_the_account_fee_rates_the_cost_is_the_market_taker_fee():
    ledger = vb_ledger.Ledger(D(1))
    follower = _follower()
    asyncio.run(follower.aim_at(SETTINGS, ledger, NOON))
    assert follower.follow(NOON, ledger).cost_per_volume == D("0.0025")


def test_the_account_volume_holds_the_run_s_volume_when_aimed_again_or_resumed():
    # a fresh run, then one aimed at again while running or resumed from its state file with 3 fills done
    fresh = vb_ledger.Ledger(D(1))
    resumed = vb_ledger.Ledger(D(1))
    _fills(resumed, 3)
    for ledger, volume_30d in ((fresh, D(500)), (resumed, D(500) + resumed.volume)):
        follower = _follower()
        asyncio.run(follower.aim_at(SETTINGS, ledger, NOON))
        view = follower.follow(NOON, ledger)
        assert view.volume_30d == volume_30d
    # what is left to trade after the resume is what the level still needs, not the whole amount again
    assert follower.aim.effective.volume_target - resumed.volume == view.volume_needed


def test_the_fee_level_is_said_once_per_change_and_ends_the_status_line():
    keep = vb_settings.parse_settings({"target_mode": "keep_fee_tier", "volume_30d": 1500,
                                       "fee_tier_levels": "Base=0:0.10:0.10; Silver=1000:0.05:0.06"})
    # next_fee_tier keeps its aim and verdict the next day; keep_fee_tier aims at each new UTC day
    for settings, lines in ((SETTINGS, 1), (keep, 2)):
        ledger = vb_ledger.Ledger(D(1))
        follower = vb_fee_tier_follower.FeeTierFollower(AccountAnswers(), Said())
        follower.apply(settings)
        assert follower.status_text() is None
        asyncio.run(follower.aim_at(settings, ledger, NOON))
        views = [follower.follow(now, ledger) for now in (NOON, NOON + 60, NOON + DAY)]
        said = [line for line in follower.logger.lines if line.startswith("Fee tier: ")]
        assert said == [f"Fee tier: {views[0].text()}", f"Fee tier: {views[-1].text()}"][:lines]
        assert follower.status_text() == views[-1].text()
