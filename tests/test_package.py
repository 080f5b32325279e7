"""The installable package: built deterministically, accepted by OctoBot's own tentacles manager, and usable
from the OctoBot folder it is installed into (tentacle importable there, profile installed and activating the
mode)."""
import json
import os
import shutil
import signal
import subprocess
import sys
import zipfile

import pytest

from volume_booster import REPO_ROOT
from volume_booster import package

TENTACLE_MEMBER_PREFIX = "reference_tentacles/Trading/Mode/volume_booster_trading_mode/"
PROFILE_MEMBER_PREFIX = "reference_tentacles/profiles/volume_booster/"
TENTACLE_SOURCE = REPO_ROOT / "tentacles" / "Trading" / "Mode" / "volume_booster_trading_mode"
PROFILE_SOURCE = REPO_ROOT / "profiles" / "volume_booster"
SUBPROCESS_TIMEOUT = 180


def _subprocess_env() -> dict:
    env = dict(os.environ)
    # the OctoBot folder's own tentacles/ must be what gets imported, never the project's
    env.pop("PYTHONPATH", None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run_python(code: str, cwd, *args, timeout=SUBPROCESS_TIMEOUT):
    """Run `python -c code` in cwd (its own process group, killed on timeout); return (rc, stdout, stderr)."""
    process = subprocess.Popen(
        [sys.executable, "-c", code, *map(str, args)], cwd=cwd, env=_subprocess_env(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        pytest.fail(f"subprocess timed out after {timeout} s in {cwd}\n--- stdout\n{stdout[-3000:]}\n"
                    f"--- stderr\n{stderr[-3000:]}")
    return process.returncode, stdout, stderr


INSTALL_CODE = """
import asyncio, sys
import octobot_tentacles_manager.api as tentacles_manager_api
errors = asyncio.run(tentacles_manager_api.install_all_tentacles(sys.argv[1]))
print(f"INSTALL_ERRORS={errors}")
sys.exit(1 if errors else 0)
"""

INSPECT_CODE = """
import json, os, sys
sys.path.insert(0, os.getcwd())
import octobot_tentacles_manager.api as tentacles_manager_api
import octobot_trading.modes as trading_modes
arch_valid_and_imported = tentacles_manager_api.load_tentacles(verbose=True)
import tentacles.Trading.Mode.volume_booster_trading_mode as module
from tentacles.Trading.Mode.volume_booster_trading_mode import VolumeBoosterTradingMode
tentacles_manager_api.reload_tentacle_info()
setup_config = tentacles_manager_api.get_tentacles_setup_config(
    os.path.join("user", "profiles", "volume_booster", "tentacles_config.json"))
print("INSPECT=" + json.dumps({
    "arch_valid_and_imported": arch_valid_and_imported,
    "module_file": os.path.realpath(module.__file__),
    "class_name": VolumeBoosterTradingMode.__name__,
    "class_module": VolumeBoosterTradingMode.__module__,
    "is_trading_mode": issubclass(VolumeBoosterTradingMode, trading_modes.AbstractTradingMode),
    "version": tentacles_manager_api.get_tentacle_version(VolumeBoosterTradingMode),
    "origin_package": tentacles_manager_api.get_tentacle_origin_package(VolumeBoosterTradingMode),
    "activated_in_profile": tentacles_manager_api.is_tentacle_activated_in_tentacles_setup_config(
        setup_config, "VolumeBoosterTradingMode"),
}))
"""


# the call OctoBot's web interface makes to install a package (Advanced -> Tentacles; its
# web_interface/models/tentacles.py, install_packages): the edited tentacles config, the bot's aiohttp session
# and, as install folder, octobot.constants.OCTOBOT_FOLDER (the octobot Python package's folder); a stand-in
# folder replaces the latter here, so that nothing is written into the installed octobot package
WEB_INSTALL_CODE = """
import asyncio, sys
import octobot_tentacles_manager.api as tentacles_manager_api
zip_path, octobot_package_folder = sys.argv[1], sys.argv[2]
errors = asyncio.run(tentacles_manager_api.install_all_tentacles(
    zip_path,
    setup_config=tentacles_manager_api.get_tentacles_setup_config(),
    aiohttp_session=None,
    bot_install_dir=octobot_package_folder,
    authenticator=None,
))
print(f"INSTALL_ERRORS={errors}")
sys.exit(1 if errors else 0)
"""

# the web interface's profile import (profile page, import a profile; its web_interface/models/profiles.py,
# import_profile): octobot_commons' import_profile with the uploaded file and its secured file name, then the
# profiles OctoBot's configuration loads from the bot's user/profiles (the profile selector lists the live ones)
WEB_PROFILE_IMPORT_CODE = """
import json, os, sys
import werkzeug.utils
import octobot.constants as octobot_constants
import octobot_commons.configuration as configuration
import octobot_commons.enums as commons_enums
import octobot_commons.profiles as profiles
import octobot_tentacles_manager.api as tentacles_manager_api
zip_path = sys.argv[1]
with open(zip_path, "rb") as uploaded:
    profiles.import_profile(uploaded, octobot_constants.PROFILE_FILE_SCHEMA,
                            name=werkzeug.utils.secure_filename(os.path.basename(zip_path)))
config = configuration.Configuration(os.path.join("user", "config.json"), os.path.join("user", "profiles"),
                                     profile_schema_path=octobot_constants.PROFILE_FILE_SCHEMA)
config.load_profiles()
listed = [
    {
        "id": profile.profile_id,
        "name": profile.name,
        "path": os.path.realpath(profile.path),
        "live": profile.profile_type is commons_enums.ProfileType.LIVE,
        "activates_mode": tentacles_manager_api.is_tentacle_activated_in_tentacles_setup_config(
            tentacles_manager_api.get_tentacles_setup_config(profile.get_tentacles_config_path()),
            "VolumeBoosterTradingMode"),
    }
    for profile in config.profile_by_id.values()
]
print("PROFILES=" + json.dumps(listed))
"""


def _version() -> str:
    return json.loads((REPO_ROOT / "metadata.json").read_text())["version"]


def _source_files(folder):
    return sorted(
        path.relative_to(folder).as_posix() for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    )


@pytest.fixture(scope="module")
def built_zip(tmp_path_factory):
    return package.build_package(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="module")
def installed_bot(built_zip, tmp_path_factory):
    """A fresh OctoBot folder with the package installed by octobot_tentacles_manager's Python API."""
    bot = tmp_path_factory.mktemp("octobot")
    rc, stdout, stderr = run_python(INSTALL_CODE, bot, built_zip)
    assert rc == 0, f"install_all_tentacles failed (rc {rc})\n--- stdout\n{stdout[-3000:]}\n--- stderr\n{stderr[-3000:]}"
    assert "INSTALL_ERRORS=0" in stdout
    return bot


# ----- the zip itself -----
def test_zip_name_and_location(built_zip, tmp_path):
    assert built_zip.name == f"volume_booster-{_version()}.zip"
    assert built_zip.is_file()
    assert zipfile.is_zipfile(built_zip)


def test_two_builds_are_byte_identical(built_zip, tmp_path):
    again = package.build_package(tmp_path / "again")
    assert again.name == built_zip.name
    assert again.read_bytes() == built_zip.read_bytes()


def test_members_are_the_tentacle_and_the_profile_only(built_zip):
    with zipfile.ZipFile(built_zip) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names == sorted(names)
    assert len(names) == len(set(names))
    assert all(name.startswith((TENTACLE_MEMBER_PREFIX, PROFILE_MEMBER_PREFIX)) for name in names), names
    assert not [name for name in names if "__pycache__" in name or name.endswith((".pyc", ".pyo"))]
    assert all(info.date_time == package.FIXED_ZIP_TIME for info in infos)
    # the whole tentacle folder and the whole profile folder, nothing left out
    assert sorted(name[len(TENTACLE_MEMBER_PREFIX):] for name in names
                  if name.startswith(TENTACLE_MEMBER_PREFIX)) == _source_files(TENTACLE_SOURCE)
    assert sorted(name[len(PROFILE_MEMBER_PREFIX):] for name in names
                  if name.startswith(PROFILE_MEMBER_PREFIX)) == _source_files(PROFILE_SOURCE)
    for required in ("metadata.json", "__init__.py", "volume_booster_trading.py",
                     "config/VolumeBoosterTradingMode.json"):
        assert TENTACLE_MEMBER_PREFIX + required in names
    for required in ("profile.json", "tentacles_config.json", "specific_config/VolumeBoosterTradingMode.json"):
        assert PROFILE_MEMBER_PREFIX + required in names
    # a profile with id "default" must never ship (it would replace the user's default profile)
    assert not [name for name in names if name.startswith("reference_tentacles/profiles/default/")]


def test_every_member_passes_the_tentacles_manager_extraction_filter(built_zip):
    # the installer extracts only the members this filter accepts and silently drops the rest
    import octobot_tentacles_manager.api  # noqa: F401  (loads the package in its own order: avoids an import cycle)
    from octobot_tentacles_manager.util import tentacle_fetching
    with zipfile.ZipFile(built_zip) as archive:
        rejected = [name for name in archive.namelist()
                    if not tentacle_fetching._is_tentacle_valid_tentacle_file(name)]
    assert rejected == []


def test_tentacle_metadata_in_zip(built_zip):
    with zipfile.ZipFile(built_zip) as archive:
        metadata = json.loads(archive.read(TENTACLE_MEMBER_PREFIX + "metadata.json"))
        profile = json.loads(archive.read(PROFILE_MEMBER_PREFIX + "profile.json"))
    assert metadata["version"] == _version()
    assert metadata["origin_package"] == "volume_booster"
    assert metadata["tentacles"] == ["VolumeBoosterTradingMode"]
    assert metadata["tentacles-requirements"] == []
    assert profile["profile"]["id"] == "volume_booster"


def test_build_skips_generated_files(tmp_path):
    # a copy of the sources polluted with bytecode and caches builds the same zip as the clean tree
    repo = tmp_path / "repo"
    shutil.copytree(TENTACLE_SOURCE, repo / "tentacles" / "Trading" / "Mode" / "volume_booster_trading_mode",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copytree(PROFILE_SOURCE, repo / "profiles" / "volume_booster")
    shutil.copy(REPO_ROOT / "metadata.json", repo / "metadata.json")
    clean = package.write_zip(package.package_members(repo), tmp_path / "clean.zip").read_bytes()
    mode_dir = repo / "tentacles" / "Trading" / "Mode" / "volume_booster_trading_mode"
    (mode_dir / "__pycache__").mkdir()
    (mode_dir / "__pycache__" / "settings.cpython-312.pyc").write_bytes(b"\0junk")
    (mode_dir / "stray.pyc").write_bytes(b"\0junk")
    (mode_dir / ".pytest_cache").mkdir()
    (mode_dir / ".pytest_cache" / "README.md").write_text("cache")
    polluted = package.write_zip(package.package_members(repo), tmp_path / "polluted.zip").read_bytes()
    assert polluted == clean


def test_build_refuses_a_mismatched_tentacle_version(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(TENTACLE_SOURCE, repo / "tentacles" / "Trading" / "Mode" / "volume_booster_trading_mode",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copytree(PROFILE_SOURCE, repo / "profiles" / "volume_booster")
    metadata = json.loads((REPO_ROOT / "metadata.json").read_text())
    metadata["version"] = "99.0.0"
    (repo / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(package.PackageError, match="version"):
        package.build_package(tmp_path / "dist", repo_root=repo)


def test_cli_main_prints_the_zip_paths(tmp_path, capsys):
    assert package.main(["--output", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    assert printed == [str((tmp_path / "out" / f"volume_booster-{_version()}.zip").resolve()),
                       str((tmp_path / "out" / f"volume_booster_profile-{_version()}.zip").resolve())]
    assert all(zipfile.is_zipfile(path) for path in printed)


def test_profile_zip_holds_the_profile_at_its_root(tmp_path):
    profile_zip = package.build_profile_package(tmp_path)
    with zipfile.ZipFile(profile_zip) as archive:
        names = archive.namelist()
    assert names == _source_files(PROFILE_SOURCE)
    assert package.build_profile_package(tmp_path / "again").read_bytes() == profile_zip.read_bytes()


# ----- installed by OctoBot's tentacles manager -----
def test_install_copies_the_tentacle_files(installed_bot):
    installed = installed_bot / "tentacles" / "Trading" / "Mode" / "volume_booster_trading_mode"
    assert installed.is_dir()
    for relative in _source_files(TENTACLE_SOURCE):
        assert (installed / relative).read_bytes() == (TENTACLE_SOURCE / relative).read_bytes(), relative
    # the installer registered the tentacle in its type's __init__.py
    type_init = (installed_bot / "tentacles" / "Trading" / "Mode" / "__init__.py").read_text()
    assert "from .volume_booster_trading_mode import *" in type_init


def test_installed_tentacle_imports_from_the_octobot_folder(installed_bot):
    rc, stdout, stderr = run_python(INSPECT_CODE, installed_bot)
    assert rc == 0, f"--- stdout\n{stdout[-3000:]}\n--- stderr\n{stderr[-3000:]}"
    line = next(line for line in stdout.splitlines() if line.startswith("INSPECT="))
    found = json.loads(line[len("INSPECT="):])
    assert found["arch_valid_and_imported"] is True
    expected_dir = (installed_bot / "tentacles" / "Trading" / "Mode" / "volume_booster_trading_mode").resolve()
    assert found["module_file"] == str(expected_dir / "__init__.py")
    assert found["class_name"] == "VolumeBoosterTradingMode"
    assert found["class_module"] == "tentacles.Trading.Mode.volume_booster_trading_mode.volume_booster_trading"
    assert found["is_trading_mode"] is True
    assert found["version"] == _version()
    assert found["origin_package"] == "volume_booster"
    assert found["activated_in_profile"] is True


def test_profile_is_installed(installed_bot):
    profile_dir = installed_bot / "user" / "profiles" / "volume_booster"
    assert (profile_dir / "profile.json").is_file()
    assert (profile_dir / "tentacles_config.json").is_file()
    assert (profile_dir / "specific_config" / "VolumeBoosterTradingMode.json").is_file()
    profile = json.loads((profile_dir / "profile.json").read_text())
    source_profile = json.loads((PROFILE_SOURCE / "profile.json").read_text())
    assert profile["profile"]["id"] == "volume_booster"
    assert profile["profile"]["name"] == source_profile["profile"]["name"]
    assert profile["config"]["crypto-currencies"] == source_profile["config"]["crypto-currencies"]
    assert profile["config"]["trader-simulator"] == source_profile["config"]["trader-simulator"]
    installed_settings = json.loads((profile_dir / "specific_config" / "VolumeBoosterTradingMode.json").read_text())
    assert installed_settings == json.loads(
        (PROFILE_SOURCE / "specific_config" / "VolumeBoosterTradingMode.json").read_text())
    # only our profile: the package never brings a "default" profile
    assert sorted(path.name for path in (installed_bot / "user" / "profiles").iterdir()) == ["volume_booster"]


def test_installed_profile_activates_the_mode(installed_bot):
    tentacles_config = json.loads(
        (installed_bot / "user" / "profiles" / "volume_booster" / "tentacles_config.json").read_text())
    assert tentacles_config["tentacle_activation"]["Trading"]["VolumeBoosterTradingMode"] is True
    # OctoBot deactivates newly installed trading modes in its reference config: only the profile activates it
    reference = json.loads(
        (installed_bot / "user" / "reference_tentacles_config" / "tentacles_config.json").read_text())
    assert "VolumeBoosterTradingMode" in reference["tentacle_activation"]["Trading"]


# ----- installed from OctoBot's web interface -----
def test_web_interface_install_writes_the_profile_outside_the_bot_folder(built_zip, tmp_path):
    """Why the README's web route imports the profile zip: the web interface's install call writes the package's
    profile under the octobot package folder, where the bot's profile selector never looks."""
    bot, octobot_package_folder = tmp_path / "bot", tmp_path / "octobot_package"
    bot.mkdir()
    octobot_package_folder.mkdir()
    rc, stdout, stderr = run_python(WEB_INSTALL_CODE, bot, built_zip, octobot_package_folder)
    assert rc == 0 and "INSTALL_ERRORS=0" in stdout, f"--- stdout\n{stdout[-3000:]}\n--- stderr\n{stderr[-3000:]}"
    assert (bot / "tentacles" / "Trading" / "Mode" / "volume_booster_trading_mode" / "__init__.py").is_file()
    assert (octobot_package_folder / "user" / "profiles" / "volume_booster" / "profile.json").is_file()
    assert not (bot / "user" / "profiles" / "volume_booster").exists()


def test_web_interface_profile_import_makes_the_profile_selectable(built_zip, tmp_path):
    """The README's web route: install the package, then import the profile zip on the profile page; the
    Volume Booster profile is then among the live profiles OctoBot loads from the bot's user/profiles, with
    the mode activated."""
    bot, octobot_package_folder = tmp_path / "bot", tmp_path / "octobot_package"
    bot.mkdir()
    octobot_package_folder.mkdir()
    rc, stdout, stderr = run_python(WEB_INSTALL_CODE, bot, built_zip, octobot_package_folder)
    assert rc == 0, f"--- stdout\n{stdout[-3000:]}\n--- stderr\n{stderr[-3000:]}"
    profile_zip = package.build_profile_package(tmp_path / "dist")
    rc, stdout, stderr = run_python(WEB_PROFILE_IMPORT_CODE, bot, profile_zip)
    assert rc == 0, f"--- stdout\n{stdout[-3000:]}\n--- stderr\n{stderr[-3000:]}"
    listed = json.loads(next(line for line in stdout.splitlines() if line.startswith("PROFILES="))[len("PROFILES="):])
    source = json.loads((PROFILE_SOURCE / "profile.json").read_text())["profile"]
    booster = [profile for profile in listed if profile["name"] == source["name"]]
    assert len(booster) == 1, listed
    assert booster[0]["id"] == source["id"]
    assert booster[0]["live"] and booster[0]["activates_mode"]
    assert booster[0]["path"].startswith(str((bot / "user" / "profiles").resolve()))
