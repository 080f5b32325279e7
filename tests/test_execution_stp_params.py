"""Self-trade prevention parameters in OctoBot's real backtesting engine, as each order reaches OctoBot's
create_order: exactly the exchange's own parameter, and a parameter that needs the account in an STP group (Gate's
`stp_act`) only with the Gate setting on.

The backtest data is binance's. For the group case, the runs give binance the role of a group-only exchange in the
mode's pure table (exchange_rules, itself tested per exchange in the tentacle's tests), so that the setting is
seen going from the settings through the mode to OctoBot's create_order."""
import pytest

from tests import execution_runs as runs
from volume_booster import simulation

pytestmark = runs.needs_shared_data

SETTINGS = {"volume_target": 600, "order_type": "market"}
GROUP_PARAM = {"stp_act": "cb"}


def created_params(overrides, binance_needs_a_group=False):
    with pytest.MonkeyPatch.context() as patch:
        if binance_needs_a_group:
            rules = simulation.import_mode_module().exchange_rules
            patch.delitem(rules.SELF_TRADE_PREVENTION_PARAMS, "binance")
            patch.setitem(rules.STP_GROUP_PARAMS, "binance", GROUP_PARAM)
        run = runs.run_recorded(runs.BTC_USDT, {**SETTINGS, **overrides})
    assert len(run.created) >= 3
    return [order["params"] for order in run.created]


@pytest.mark.parametrize("gate_stp_group", [False, True])
def test_binance_orders_carry_exactly_binance_s_parameter(gate_stp_group):
    params = created_params({"gate_stp_group": gate_stp_group})
    assert all(sent == {"selfTradePrevention": "EXPIRE_BOTH"} for sent in params), params


def test_a_group_only_parameter_is_sent_only_with_the_setting_on():
    assert all(sent == {} for sent in created_params({"gate_stp_group": False}, binance_needs_a_group=True))
    assert all(sent == GROUP_PARAM for sent in created_params({"gate_stp_group": True}, binance_needs_a_group=True))
