"""A profile folder read for a run: OctoBot's config and the mode's settings, checked; the config of a run
on a data file (its starting portfolio completed for the file's pairs); command-line setting overrides."""
import copy
import dataclasses
import json
import pathlib
import typing

from volume_booster import datafile
from volume_booster.paths import DEFAULT_PROFILE, MODE_NAME


@dataclasses.dataclass
class Profile:
    config: dict
    mode_settings: dict

    @classmethod
    def load(cls, folder: pathlib.Path = DEFAULT_PROFILE) -> "Profile":
        """The profile folder's config and mode settings; raises :class:`ProfileError` (naming the file and
        what it lacks) for anything a run could not use."""
        folder = pathlib.Path(folder)
        if not folder.is_dir():
            raise ProfileError(f"{folder}: {'is a file' if folder.exists() else 'no such folder'}; "
                               f"expected an OctoBot profile folder holding profile.json")
        profile_file = folder / "profile.json"
        config = _json_object(profile_file).get("config")
        if not isinstance(config, dict):
            raise ProfileError(f"{profile_file}: no \"config\" object; expected an OctoBot profile")
        simulator = config.get("trader-simulator")
        if not isinstance(simulator, dict):
            raise ProfileError(f"{profile_file}: config has no \"trader-simulator\" object; expected the "
                               f"simulator's settings with its \"starting-portfolio\"")
        portfolio = simulator.get("starting-portfolio")
        if not isinstance(portfolio, dict) or not all(
                isinstance(amount, (int, float)) and not isinstance(amount, bool) and amount >= 0
                for amount in portfolio.values()):
            raise ProfileError(f"{profile_file}: config.trader-simulator.starting-portfolio must map each "
                               f"currency to an amount of 0 or more, got {portfolio!r}")
        settings_file = folder / "specific_config" / f"{MODE_NAME}.json"
        settings = _json_object(settings_file) if settings_file.exists() else {}
        return cls(config=config, mode_settings=settings)


class ProfileError(ValueError):
    """A profile folder a run cannot use: the message names the file and what is wrong."""


def _json_object(path: pathlib.Path) -> dict:
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProfileError(f"{path}: no such file; expected an OctoBot profile folder holding it") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ProfileError(f"{path}: cannot be read ({err})") from None
    except json.JSONDecodeError as err:
        raise ProfileError(f"{path}: not valid JSON ({err.msg} at line {err.lineno} column {err.colno})") from None
    if not isinstance(content, dict):
        raise ProfileError(f"{path}: expected a JSON object, got {type(content).__name__}")
    return content


# holdings given to a quote currency the profile's portfolio lacks (about 10,000 USD each in 2024)
_QUOTE_HOLDINGS = {"BTC": 0.15, "ETH": 3.0, "BNB": 20.0}


_DEFAULT_QUOTE_HOLDING = 10000.0


def portfolio_for_data(portfolio: dict, info) -> dict:
    """The profile's starting portfolio, completed for the data file's pairs: a missing quote currency
    gets a default holding and a missing base currency the same value as its quote holding, so the
    mode starts balanced on any data file."""
    completed = dict(portfolio)
    for symbol in info.symbols:
        base, quote = symbol.split("/")
        if quote not in completed:
            completed[quote] = _QUOTE_HOLDINGS.get(quote, _DEFAULT_QUOTE_HOLDING)
        if base not in completed:
            completed[base] = float(f"{completed[quote] / info.first_close[symbol]:.8g}")
    return completed


def parse_overrides(pairs: typing.Iterable[str]) -> dict:
    """`name=value` strings into a dict; values are read as JSON when possible (numbers, booleans)."""
    overrides = {}
    for pair in pairs:
        name, separator, value = pair.partition("=")
        name = name.strip()
        if not separator or not name:
            raise ValueError(f"--set expects NAME=VALUE with a setting name before '=', got {pair!r}")
        try:
            overrides[name] = json.loads(value)
        except json.JSONDecodeError:
            overrides[name] = value
    return overrides


def build_config(profile: Profile, data_file, starting_portfolio: typing.Optional[dict] = None,
                 fees: typing.Optional[dict] = None) -> dict:
    """The profile's OctoBot config for a run on `data_file` (starting portfolio completed for its pairs)."""
    config = copy.deepcopy(profile.config)
    simulator_config = config["trader-simulator"]
    simulator_config["starting-portfolio"] = starting_portfolio if starting_portfolio is not None \
        else portfolio_for_data(simulator_config["starting-portfolio"], datafile.read_info(data_file))
    if fees is not None:
        simulator_config["fees"] = fees
    return config
