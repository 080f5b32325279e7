"""Volume Booster trading mode: the OctoBot tentacle.

VolumeBoosterTradingMode declares the settings as OctoBot user inputs (from settings.SPECS); its producer
(producer.py) starts its consumer (consumer.py) directly, and the consumer owns the randomized buy/sell loop.
The rest lives in modules of one job each: settings, planner and strategy (decisions), gateway and
gateway_account (the only code that talks to OctoBot), executor (carrying decisions out), books and own_orders (what the mode owns and has
filled), recovery and restart (resuming a run), ledger, journal, clock, waiting, status, views.
"""
import inspect

import octobot_commons.configuration as commons_configuration
import octobot_commons.enums as commons_enums
import octobot_trading.enums as trading_enums
import octobot_trading.modes as trading_modes

from . import gateway as vb_gateway
from . import settings as vb_settings
from .consumer import VolumeBoosterConsumer
from .producer import VolumeBoosterProducer

# the mode's orders carry this tag
ORDER_TAG = vb_gateway.ORDER_TAG
__all__ = ["VolumeBoosterTradingMode", "VolumeBoosterProducer", "VolumeBoosterConsumer", "ORDER_TAG"]

_UI_TYPES = {
    vb_settings.BOOLEAN: commons_enums.UserInputTypes.BOOLEAN,
    vb_settings.INT: commons_enums.UserInputTypes.INT,
    vb_settings.FLOAT: commons_enums.UserInputTypes.FLOAT,
    vb_settings.DECIMAL: commons_enums.UserInputTypes.FLOAT,
    vb_settings.OPTIONS: commons_enums.UserInputTypes.OPTIONS,
    vb_settings.TEXT: commons_enums.UserInputTypes.TEXT,
}


class VolumeBoosterTradingMode(trading_modes.AbstractTradingMode):
    # folder of the state files that let the mode resume after a restart; None: OctoBot's user folder when
    # trading live, no state file in backtests
    STATE_FOLDER = None
    def __init__(self, config, exchange_manager):
        super().__init__(config, exchange_manager)
        self.raw_settings = vb_settings.default_values()

    def init_user_inputs(self, inputs: dict) -> None:
        """Declare every setting, grouped and ordered as settings.SPECS lists them. A config written flat
        (profile files, command-line overrides) is regrouped first, so both layouts work."""
        config = self.trading_config if self.trading_config is not None else {}
        flat = vb_settings.flatten(config)
        for spec in vb_settings.SPECS:
            config.pop(spec.name, None)
        for position, group in enumerate(vb_settings.GROUPS):
            key = vb_settings.GROUP_KEYS[group]
            if not isinstance(config.get(key), dict):
                config[key] = {}
            self.UI.user_input(key, commons_enums.UserInputTypes.OBJECT, config[key], inputs, title=group,
                               **_order_kwarg(position * 100))
        values = {}
        for position, spec in enumerate(vb_settings.SPECS):
            editor_options = None
            if spec.shown_when is not None:
                other, shown_values = spec.shown_when
                editor_options = {
                    commons_enums.UserInputOtherSchemaValuesTypes.DEPENDENCIES.value: {other: list(shown_values)}
                }
            values[spec.name] = self.UI.user_input(
                spec.name, _UI_TYPES[spec.kind], spec.default, inputs,
                value=flat.get(spec.name),
                min_val=spec.min_val, max_val=spec.max_val,
                options=list(spec.options) or None,
                title=spec.title,
                editor_options=editor_options,
                parent_input_name=vb_settings.GROUP_KEYS[spec.group],
                **_order_kwarg(vb_settings.GROUPS.index(spec.group) * 100 + position + 1),
            )
        self.raw_settings = values

    def get_current_state(self) -> tuple:
        consumers = self.get_trading_mode_consumers() if self.consumers else []
        if consumers and consumers[0].ledger is not None:
            return consumers[0].status_text(), float(consumers[0].ledger.progress_percent)
        return "waiting to start", 0

    @classmethod
    def get_is_symbol_wildcard(cls) -> bool:
        return False

    @staticmethod
    def is_backtestable() -> bool:
        return True

    @classmethod
    def get_supported_exchange_types(cls) -> list:
        return [trading_enums.ExchangeTypes.SPOT]

    def get_mode_producer_classes(self) -> list:
        return [VolumeBoosterProducer]

    def get_mode_consumer_classes(self) -> list:
        return [VolumeBoosterConsumer]

    def get_booster(self):
        """This pair's consumer (the loop), or None before creation."""
        consumers = self.get_trading_mode_consumers()
        return consumers[0] if consumers else None


def _order_kwarg(position: int) -> dict:
    """`order` places inputs on the settings page (OctoBot versions without it keep declaration order)."""
    if "order" in inspect.signature(commons_configuration.UserInputFactory.user_input).parameters:
        return {"order": position}
    return {}
