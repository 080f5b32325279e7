"""Following a fee level (target_mode next_fee_tier / keep_fee_tier) for the consumer: loads the fee levels the
settings name, reads the account's 30-day volume and fee rates through the gateway, and gives at each step the
settings the level needs and why nothing is traded for it, if so."""
import typing

from . import settings as vb_settings
from . import targeting as vb_targeting

# the fee rate the mode paid counts for the fee-level break-even after this many fills
MEASURED_COST_FILLS = 20


class FeeTierFollower:
    def __init__(self, gateway, logger):
        self.gateway = gateway
        self.logger = logger
        # the fee level aimed at, None with a fixed target and until the level is aimed at
        self.aim: typing.Optional[vb_targeting.TierAim] = None
        self._schedule = None
        self._said = None
        self._account_taker_fee = None

    @property
    def view(self) -> typing.Optional[vb_targeting.TierView]:
        return self.aim.view if self.aim is not None else None

    def apply(self, settings) -> None:
        """New settings: load the fee levels they name (SettingsError when they cannot be, nothing changed then);
        the level is aimed at again with them."""
        self._schedule = None if settings.target_mode == vb_settings.FIXED else \
            vb_targeting.load_schedule(settings, self.gateway.exchange_name, self.gateway.quote)
        self.aim = None

    async def aim_at(self, settings, ledger, started_at: float) -> bool:
        """With a fee-tier target mode, read the account's 30-day volume and aim at the level; False without one."""
        if self._schedule is None:
            return False
        account = await self.gateway.account_volume(settings)
        if not vb_targeting.same_currency(account.currency, self._schedule.volume_currency):
            self.logger.warning(f"The account's 30-day volume from {account.source} is in {account.currency}, the "
                                f"fee levels in {self._schedule.volume_currency}: using volume_30d "
                                f"{settings.volume_30d} instead")
            account = account._replace(volume_30d=settings.volume_30d, daily_volumes={}, from_setting=True,
                                       source=f"setting volume_30d, the exchange's figure is in {account.currency}")
        rates = await self.gateway.account_fee_rates()
        if rates is not None:
            self._account_taker_fee = rates.taker
            self.logger.info(f"Account fee rates on {self.gateway.symbol}: maker {rates.maker}, taker {rates.taker}"
                             + (f" (level {rates.level})" if rates.level else ""))
        volume_30d = account.volume_30d
        if account.from_setting:
            # the setting is the account's volume when the run started: this run's volume (traded since, or
            # restored from the state file at a restart) is in the account's volume now
            volume_30d += ledger.volume
        self.aim = vb_targeting.TierAim(settings, self._schedule, volume_30d, account.source,
                                        account.daily_volumes, started_at, ledger.volume, now=self.gateway.now())
        return True

    def follow(self, now: float, ledger) -> typing.Optional[vb_targeting.TierView]:
        """The fee level at `now` (a new UTC day gets its own volume), its settings in `aim.effective`; logged when
        the aim or its verdict changes. None without an aim."""
        aim = self.aim
        if aim is None:
            return None
        view = aim.update(now, self._cost_per_volume(ledger),
                          lambda day: ledger.day_volume(day * vb_targeting.DAY_SECONDS), ledger.volume)
        said = (view.day, view.current_level, view.next_level, view.verdict, view.waiting)
        if said != self._said:
            self._said = said
            self.logger.info(f"Fee tier: {view.text()}")
        return view

    def status_text(self) -> typing.Optional[str]:
        """The fee level's part of the status line, None without an aim."""
        view = self.view
        return view.text() if view is not None else None

    def _cost_per_volume(self, ledger):
        """The fee rate this mode has paid so far (its fees over its volume, after a few fills), else the taker
        fee. Price moves on the inventory are left out: over a day they outweigh the fees many times, either way."""
        measured = ledger.fees / ledger.volume if ledger.volume and ledger.fills_count >= MEASURED_COST_FILLS \
            else None
        taker = self._account_taker_fee if self._account_taker_fee is not None else self.gateway.fee_rate(maker=False)
        return vb_targeting.cost_per_volume(measured, taker)
