"""The settings page: every setting is an OctoBot user input, grouped and ordered, with the validator's
bounds, and shown only when relevant."""
import octobot_commons.enums as commons_enums

from tentacles.Trading.Mode.volume_booster_trading_mode import settings as vb_settings
from tentacles.Trading.Mode.volume_booster_trading_mode import volume_booster_trading as vbt


def declare(config):
    mode = vbt.VolumeBoosterTradingMode.create_local_instance({}, None, config)
    inputs = {}
    mode.init_user_inputs(inputs)
    return mode, {user_input.name: user_input for user_input in inputs.values()}


def test_every_setting_is_a_user_input_with_the_validator_bounds():
    _, inputs = declare({})
    for spec in vb_settings.SPECS:
        user_input = inputs[spec.name]
        assert user_input.min_val == spec.min_val and user_input.max_val == spec.max_val, spec.name
        assert user_input.parent_input_name == vb_settings.GROUP_KEYS[spec.group]
        assert user_input.title == spec.title
        if spec.kind == vb_settings.OPTIONS:
            assert user_input.options == list(spec.options)


def test_groups_come_in_order_and_settings_follow_their_group():
    _, inputs = declare({})
    groups = [inputs[vb_settings.GROUP_KEYS[group]] for group in vb_settings.GROUPS]
    assert all(group.input_type == commons_enums.UserInputTypes.OBJECT.value or
               group.input_type == commons_enums.UserInputTypes.OBJECT for group in groups)
    if groups[0].order is not None:
        orders = [inputs[spec.name].order for spec in vb_settings.SPECS]
        group_orders = [group.order for group in groups]
        assert group_orders == sorted(group_orders)
        # each setting sorts after its group's header and before the next group
        for spec, order in zip(vb_settings.SPECS, orders):
            index = vb_settings.GROUPS.index(spec.group)
            assert group_orders[index] < order
            if index + 1 < len(group_orders):
                assert order < group_orders[index + 1]


def test_offset_fields_show_only_for_their_order_type():
    _, inputs = declare({})
    dependencies = commons_enums.UserInputOtherSchemaValuesTypes.DEPENDENCIES.value
    assert inputs["price_offset_percent"].editor_options[dependencies] == {"order_type": ["limit"]}
    assert inputs["maker_offset_percent"].editor_options[dependencies] == {"order_type": ["auto", "maker"]}
    assert inputs["markout_seconds"].editor_options[dependencies] == {"order_type": ["auto"]}
    assert inputs["inventory_band_pp"].editor_options[dependencies] == {"side_policy": ["balanced"]}
    assert inputs["volume_target"].editor_options is None
    tier_modes = ["next_fee_tier", "keep_fee_tier"]
    for name in ("volume_30d", "own_monthly_volume", "skip_unprofitable_tier", "tier_margin_percent",
                 "fee_tier_levels"):
        assert inputs[name].editor_options[dependencies] == {"target_mode": tier_modes}, name
    assert inputs["target_mode"].editor_options is None


def test_fee_tier_levels_is_a_text_field():
    _, inputs = declare({"fee_tier": {"fee_tier_levels": "VIP 1: 1000000 0.09 0.1"}})
    text = inputs["fee_tier_levels"].input_type
    assert text in (commons_enums.UserInputTypes.TEXT, commons_enums.UserInputTypes.TEXT.value)
    assert inputs["fee_tier_levels"].value == "VIP 1: 1000000 0.09 0.1"


def test_flat_and_grouped_configs_give_the_same_values():
    grouped_mode, _ = declare({"target_and_pacing": {"volume_target": 1234}, "orders": {"order_type": "maker"}})
    flat_mode, _ = declare({"volume_target": 1234, "order_type": "maker"})
    assert grouped_mode.raw_settings == flat_mode.raw_settings
    assert grouped_mode.raw_settings["volume_target"] == 1234
    # the flat config was regrouped in place, as the settings page will save it
    assert flat_mode.trading_config["target_and_pacing"]["volume_target"] == 1234
    assert "volume_target" not in flat_mode.trading_config
