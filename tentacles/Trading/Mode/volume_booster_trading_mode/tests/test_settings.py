"""Settings validation: every bad value gives one error naming the setting and its allowed range."""
import decimal

import pytest

from tentacles.Trading.Mode.volume_booster_trading_mode import settings as vb_settings


def test_defaults_are_valid_and_typed():
    parsed = vb_settings.parse_settings({})
    assert parsed.enabled is True
    assert isinstance(parsed.volume_target, decimal.Decimal)
    assert parsed.order_type == vb_settings.AUTO
    assert parsed.min_interval_seconds <= parsed.max_interval_seconds


def test_profile_values_parse_exactly():
    parsed = vb_settings.parse_settings({"volume_target": 50000, "min_buy_amount": "25.5", "order_type": "market"})
    assert parsed.volume_target == decimal.Decimal("50000")
    assert parsed.min_buy_amount == decimal.Decimal("25.5")
    assert not parsed.uses_limit_orders


def test_every_default_is_inside_its_own_bounds():
    for spec in vb_settings.SPECS:
        if spec.min_val is not None:
            assert spec.min_val <= spec.default <= spec.max_val, spec.name
        if spec.kind == vb_settings.OPTIONS:
            assert spec.default in spec.options


BAD = [
    ("volume_target", 0, "from 1e-08 to 1000000000000"),
    ("volume_target", -5, "out of range"),
    ("volume_target", "abc", "is not a number"),
    ("volume_target", float("nan"), "is not a number"),
    ("volume_target", float("inf"), "is not a number"),
    ("volume_target", None, "is not a number"),
    ("volume_target", True, "is not a number"),
    ("volume_target", 1e13, "out of range"),
    ("enabled", "yes", "true or false"),
    ("enabled", 1, "true or false"),
    ("order_type", "stop", "one of 'auto', 'maker', 'limit', 'market'"),
    ("order_type", 3, "one of"),
    ("min_interval_seconds", 0, "from 0.1 to 604800"),
    ("max_interval_seconds", 10 ** 7, "from 0.1 to 604800"),
    ("price_offset_percent", -0.1, "from 0 to 10"),
    ("price_offset_percent", 25, "from 0 to 10"),
    ("limit_order_timeout_seconds", 0.5, "from 1 to 604800"),
    ("max_open_orders", 0, "whole number from 1 to 500"),
    ("max_open_orders", 2.5, "whole number"),
    ("min_buy_amount", 0, "from 1e-08"),
    ("max_buy_amount", -1, "out of range"),
    ("min_sell_amount", "", "is not a number"),
    ("max_sell_amount", [], "is not a number"),
    ("random_seed", -1, "whole number from 0"),
    ("deadline_hours", -1, "from 0 to 8784"),
    ("daily_volume_cap", -10, "from 0 to"),
    ("maker_offset_percent", 2, "from 0 to 1"),
    ("reprice_percent", 0, "from 0.01 to 10"),
    ("side_policy", "smart", "one of 'balanced', 'random', 'alternating'"),
    ("inventory_band_pp", 0.1, "from 0.5 to 50"),
    ("inventory_band_pp", 60, "from 0.5 to 50"),
    ("max_cost", -1, "from 0 to"),
    ("reserve_percent", 99, "from 0 to 95"),
    ("random_seed", 2 ** 40, "out of range"),
    ("target_mode", "cheapest", "one of 'fixed', 'next_fee_tier', 'keep_fee_tier'"),
    ("volume_30d", -1, "from 0 to 1000000000000"),
    ("own_monthly_volume", "lots", "is not a number"),
    ("skip_unprofitable_tier", "no", "true or false"),
    ("tier_margin_percent", 150, "from 0 to 100"),
    ("fee_tier_levels", 5, "is not a text"),
]


@pytest.mark.parametrize("name,value,expected", BAD, ids=[f"{n}={v!r}" for n, v, _ in BAD])
def test_bad_value_names_setting_and_range(name, value, expected):
    with pytest.raises(vb_settings.SettingsError) as error:
        vb_settings.parse_settings({name: value})
    assert error.value.setting == name
    assert f"'{name}'" in str(error.value)
    assert expected in str(error.value)


@pytest.mark.parametrize("lower,upper", vb_settings.ORDERED_PAIRS)
def test_min_above_max_is_rejected(lower, upper):
    spec = vb_settings.SPEC_BY_NAME[upper]
    with pytest.raises(vb_settings.SettingsError) as error:
        vb_settings.parse_settings({lower: spec.default * 2, upper: spec.default})
    assert error.value.setting == lower
    assert upper in str(error.value)


def test_min_equal_max_is_allowed():
    parsed = vb_settings.parse_settings({"min_buy_amount": 40, "max_buy_amount": 40})
    assert parsed.amount_range("buy") == (decimal.Decimal(40), decimal.Decimal(40))


def test_shipped_default_config_matches_the_settings_table():
    import json
    import pathlib
    folder = pathlib.Path(vb_settings.__file__).parent
    shipped = json.loads((folder / "config" / "VolumeBoosterTradingMode.json").read_text())
    assert shipped.pop("required_strategies") == []
    # stored grouped, as the settings page saves it
    assert shipped == vb_settings.nest(vb_settings.default_values())
    assert vb_settings.flatten(shipped) == vb_settings.default_values()


def test_profile_config_is_valid():
    import json
    import pathlib
    profile = pathlib.Path(vb_settings.__file__).parents[4] / "profiles" / "volume_booster"
    raw = json.loads((profile / "specific_config" / "VolumeBoosterTradingMode.json").read_text())
    assert raw.pop("required_strategies") == []
    assert set(raw) <= set(vb_settings.GROUP_KEYS.values())
    parsed = vb_settings.parse_settings(raw)
    assert parsed.volume_target == 50000 and parsed.order_type == "auto"
    assert (parsed.min_interval_seconds, parsed.max_interval_seconds) == (2, 8)
    assert parsed.amount_range("buy") == parsed.amount_range("sell") == (25, 150)
    assert parsed.price_offset_percent == decimal.Decimal("0.2")


def test_flat_values_win_over_grouped_ones_and_unknown_keys_are_ignored():
    raw = {"orders": {"order_type": "maker", "max_open_orders": 7}, "order_type": "market", "other": 1}
    flat = vb_settings.flatten(raw)
    assert flat == {"order_type": "market", "max_open_orders": 7}
    assert vb_settings.parse_settings(raw).order_type == "market"
    assert vb_settings.flatten(vb_settings.nest(vb_settings.default_values())) == vb_settings.default_values()


def test_every_setting_is_one_table_row_typed_as_its_kind_declares():
    """Adding a setting is one row of SPECS (plus the default config and its documentation line): the typed
    Settings hold exactly the table's settings, each of the type its kind declares."""
    import dataclasses
    assert [field.name for field in dataclasses.fields(vb_settings.Settings)] == [spec.name for spec in vb_settings.SPECS]
    parsed = vb_settings.parse_settings({})
    for spec in vb_settings.SPECS:
        assert type(getattr(parsed, spec.name)) is vb_settings.PYTHON_TYPES[spec.kind], spec.name
    assert isinstance(parsed.volume_target, decimal.Decimal) and isinstance(parsed.min_interval_seconds, float)


def test_fee_tier_settings_default_to_a_fixed_target():
    parsed = vb_settings.parse_settings({})
    assert parsed.target_mode == vb_settings.FIXED
    assert parsed.skip_unprofitable_tier is True
    assert parsed.fee_tier_levels == ""
    parsed = vb_settings.parse_settings({"fee_tier": {"target_mode": "keep_fee_tier", "volume_30d": "120000",
                                                      "fee_tier_levels": "VIP 1: 1000000 0.09 0.1"}})
    assert parsed.target_mode == vb_settings.KEEP_FEE_TIER
    assert parsed.volume_30d == decimal.Decimal("120000")
    assert parsed.fee_tier_levels == "VIP 1: 1000000 0.09 0.1"
