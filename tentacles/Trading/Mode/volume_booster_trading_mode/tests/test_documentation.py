"""The documentation page shown on the mode's settings page documents every setting under its group, with its
default, options and bounds, names every setting as the settings form shows it (its title, the key in
parentheses), and keeps to what OctoBot's web interface renders (no blank line: it turns them into line breaks
and its renderer has no tables)."""
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


def _flexible(text: str) -> str:
    """A regex of `text` where each space matches any run of whitespace (the page wraps its lines)."""
    return r"\s+".join(re.escape(word) for word in text.split())


def _titled(spec) -> str:
    """A regex of the setting named as the form shows it: its title in italics or bold, then (`key`)."""
    titles = "|".join(_flexible(title) for title in (spec.title, short_title(spec)))
    return rf"(\*{{1,2}})(?:{titles})\1\s+\(`{spec.name}`\)"


def test_every_setting_is_documented_under_its_group_with_default_and_bounds():
    page = PAGE.read_text()
    headings = [(match.start(), match.group(1)) for match in re.finditer(r"^#### (.+)$", page, re.M)]
    problems = []
    for spec in vb_settings.SPECS:
        match = re.search(rf"^- \*\*{_flexible(spec.title)}\*\*\s+\(`{spec.name}`\).*?(?=^- \*\*|^####|^###|\Z)",
                          page, re.M | re.S)
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


def short_title(spec) -> str:
    """The start of the form's label, before its details: "Volume target" for "Volume target (quote currency...)"."""
    return re.split(r" \(|:", spec.title, maxsplit=1)[0]


def _without_command_lines(page: str) -> str:
    """The page without command-line examples (`volume-booster ... --set NAME=VALUE`), where keys are what to type."""
    return re.sub(r"`[^`\n]*(?:volume-booster|--set )[^`\n]*`", "", page)


def test_settings_are_named_by_their_form_title_with_the_key_in_parentheses():
    page = _without_command_lines(PAGE.read_text())
    problems = []
    for spec in vb_settings.SPECS:
        named = len(re.findall(_titled(spec), page))
        mentions = len(re.findall(rf"(?<![\w-]){spec.name}(?!\w)", page))
        if named == 0 or named != mentions:
            problems.append(f"{spec.name}: named {mentions} time(s), {named} with its title "
                            f"'{short_title(spec)}' (italic) or '{spec.title}' (bold) before (`{spec.name}`)")
    assert problems == []


def test_a_setting_named_by_its_key_alone_fails_the_check():
    page = _without_command_lines(PAGE.read_text())
    spec = vb_settings.SPEC_BY_NAME["max_cost"]
    bare = page.replace(f"*Budget* (`{spec.name}`)", f"`{spec.name}`", 1)
    assert bare != page
    assert len(re.findall(_titled(spec), bare)) < len(re.findall(rf"(?<![\w-]){spec.name}(?!\w)", bare))


def test_page_says_where_the_simulate_command_runs():
    text = " ".join(PAGE.read_text().split())
    assert "`volume-booster simulate` runs it in OctoBot's backtesting engine. It is a command of the Volume " \
           "Booster project's own command line" in text
    assert "not something to run inside OctoBot" in text
