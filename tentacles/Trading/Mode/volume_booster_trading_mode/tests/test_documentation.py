"""The documentation page shown on the mode's settings page documents every setting under its group, with its
default, options and bounds, and keeps to what OctoBot's web interface renders (no blank line: it turns them
into line breaks and its renderer has no tables)."""
import pathlib
import re

from tentacles.Trading.Mode.volume_booster_trading_mode import settings as vb_settings

PAGE = pathlib.Path(vb_settings.__file__).parent / "resources" / "VolumeBoosterTradingMode.md"


def _fmt(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return f"{value:.10f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


def test_every_setting_is_documented_under_its_group_with_default_and_bounds():
    page = PAGE.read_text()
    headings = [(match.start(), match.group(1)) for match in re.finditer(r"^#### (.+)$", page, re.M)]
    problems = []
    for spec in vb_settings.SPECS:
        match = re.search(rf"^- \*\*`{spec.name}`\*\*.*?(?=^- \*\*`|^####|^###|\Z)", page, re.M | re.S)
        if not match:
            problems.append(f"{spec.name}: not documented")
            continue
        group = [heading for position, heading in headings if position < match.start()][-1]
        if group != spec.group:
            problems.append(f"{spec.name}: under {group!r}, expected {spec.group!r}")
        text = " ".join(match.group(0).split()).replace("Default", "default")
        if f"default `{_fmt(spec.default)}`" not in text:
            problems.append(f"{spec.name}: default {_fmt(spec.default)} missing")
        if spec.kind in vb_settings.NUMBER_KINDS:
            bounds = f"from {_fmt(spec.min_val)} to {_fmt(spec.max_val)}"
            if bounds not in text and "same range" not in text:
                problems.append(f"{spec.name}: '{bounds}' missing")
        problems.extend(f"{spec.name}: option {option} missing" for option in spec.options
                        if f"`{option}`" not in text)
    assert problems == []


def test_page_renders_in_octobot_web_interface():
    page = PAGE.read_text()
    assert "\n\n" not in page
    assert not re.search(r"^\|.*\|$", page, re.M)
