"""Build the installable OctoBot tentacle package: `volume-booster package [--output DIR]`.

What OctoBot's tentacles manager (octobot_tentacles_manager) accepts, read from its installer:
- a zip file (`zipfile.ZipFile(path)`); a folder is not accepted;
- only members whose path starts with `reference_tentacles/<Type>/` (Type in its TENTACLE_TYPES:
  Agent, Automation, Backtesting, Evaluator, Meta, Services, Trading) or `reference_tentacles/profiles/`
  are extracted, everything else in the zip is silently ignored: no root `metadata.yaml`/`metadata.json` is
  read at install time (OctoBot's own exporter writes `metadata.yaml` *beside* the zip, not in it);
- a tentacle is any folder holding a `metadata.json` (`version`, `origin_package`, `tentacles`,
  `tentacles-requirements` are read and must all be present) one level below a type folder such as
  `Trading/Mode/`; the type folders need no `__init__.py` (the installer creates them in the bot's
  `tentacles/` and appends the import of each installed tentacle to the type's `__init__.py`);
- every folder of `reference_tentacles/profiles/` is installed as a profile into
  `<bot install dir>/user/profiles/<folder>/`. The command line's install uses the bot's folder; OctoBot's web
  interface passes the octobot Python package folder instead, so a profile installed from there never shows
  in the bot's profile selector. The profile is therefore also built alone, for the web interface's profile
  import (`volume_booster_profile-<version>.zip`).

The zip is deterministic: members sorted, fixed timestamps and permissions, fixed compression level, so two
builds of the same tree are byte-identical.
"""
import json
import pathlib
import sys
import zipfile

from volume_booster import REPO_ROOT

PACKAGE_NAME = "volume_booster"
ARCHIVE_ROOT = "reference_tentacles"
TENTACLE_TYPE_PATH = ("Trading", "Mode")
TENTACLE_FOLDER = "volume_booster_trading_mode"
TENTACLE_CLASS = "VolumeBoosterTradingMode"
PROFILE_ID = "volume_booster"
DEFAULT_OUTPUT_DIR = REPO_ROOT / "dist"

# 1980-01-01 00:00:00 is the earliest time a zip entry can hold
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644
COMPRESS_LEVEL = 9
IGNORED_DIR_NAMES = {"__pycache__", ".pytest_cache", ".mypy_cache", ".hypothesis"}
IGNORED_SUFFIXES = {".pyc", ".pyo"}
REQUIRED_TENTACLE_METADATA_KEYS = ("version", "origin_package", "tentacles", "tentacles-requirements")


class PackageError(Exception):
    pass


def package_version(repo_root: pathlib.Path = REPO_ROOT) -> str:
    metadata = _read_json(repo_root / "metadata.json")
    version = metadata.get("version")
    if not version:
        raise PackageError(f"{repo_root / 'metadata.json'} has no version")
    return str(version)


def zip_name(version: str) -> str:
    return f"{PACKAGE_NAME}-{version}.zip"


def _read_json(path: pathlib.Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise PackageError(f"missing {path}") from err
    except json.JSONDecodeError as err:
        raise PackageError(f"{path} is not valid JSON: {err}") from err


def _is_ignored(relative: pathlib.PurePath) -> bool:
    return any(part in IGNORED_DIR_NAMES or part.startswith(".") for part in relative.parts) \
        or relative.suffix in IGNORED_SUFFIXES


def _files_under(folder: pathlib.Path) -> list:
    return sorted(
        path for path in folder.rglob("*")
        if path.is_file() and not _is_ignored(path.relative_to(folder))
    )


def _check_tentacle(tentacle_dir: pathlib.Path, version: str) -> None:
    metadata = _read_json(tentacle_dir / "metadata.json")
    missing = [key for key in REQUIRED_TENTACLE_METADATA_KEYS if key not in metadata]
    if missing:
        raise PackageError(f"{tentacle_dir / 'metadata.json'} lacks {', '.join(missing)} "
                           f"(the tentacles manager reads them all)")
    if metadata["origin_package"] != PACKAGE_NAME:
        raise PackageError(f"{tentacle_dir / 'metadata.json'}: origin_package is {metadata['origin_package']!r}, "
                           f"expected {PACKAGE_NAME!r}")
    if TENTACLE_CLASS not in metadata["tentacles"]:
        raise PackageError(f"{tentacle_dir / 'metadata.json'}: tentacles does not list {TENTACLE_CLASS}")
    if str(metadata["version"]) != version:
        raise PackageError(f"{tentacle_dir / 'metadata.json'}: version {metadata['version']} differs from the "
                           f"package version {version} (metadata.json)")
    if not (tentacle_dir / "__init__.py").is_file():
        raise PackageError(f"{tentacle_dir} has no __init__.py")


def _check_profile(profile_dir: pathlib.Path) -> None:
    profile = _read_json(profile_dir / "profile.json")
    profile_id = profile.get("profile", {}).get("id")
    if profile_id != PROFILE_ID:
        raise PackageError(f"{profile_dir / 'profile.json'}: profile id is {profile_id!r}, expected {PROFILE_ID!r}")
    activation = _read_json(profile_dir / "tentacles_config.json").get("tentacle_activation", {})
    if activation.get("Trading", {}).get(TENTACLE_CLASS) is not True:
        raise PackageError(f"{profile_dir / 'tentacles_config.json'} does not activate {TENTACLE_CLASS}")


def package_members(repo_root: pathlib.Path = REPO_ROOT) -> list:
    """(archive name, source file) pairs of the package, sorted by archive name."""
    tentacle_dir = repo_root.joinpath("tentacles", *TENTACLE_TYPE_PATH, TENTACLE_FOLDER)
    profile_dir = repo_root / "profiles" / PROFILE_ID
    version = package_version(repo_root)
    _check_tentacle(tentacle_dir, version)
    _check_profile(profile_dir)
    tentacle_prefix = "/".join((ARCHIVE_ROOT, *TENTACLE_TYPE_PATH, TENTACLE_FOLDER))
    profile_prefix = "/".join((ARCHIVE_ROOT, "profiles", PROFILE_ID))
    members = [
        (f"{prefix}/{path.relative_to(folder).as_posix()}", path)
        for prefix, folder in ((tentacle_prefix, tentacle_dir), (profile_prefix, profile_dir))
        for path in _files_under(folder)
    ]
    return sorted(members, key=lambda member: member[0])


def write_zip(members, zip_path: pathlib.Path) -> pathlib.Path:
    """Write (archive name, source file) members into a deterministic zip (atomically replaced)."""
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    temp_path = zip_path.with_name(f".{zip_path.name}.tmp")
    try:
        with zipfile.ZipFile(temp_path, "w") as archive:
            for name, source in sorted(members, key=lambda member: member[0]):
                info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 3  # unix, so that the permissions below are meaningful everywhere
                info.external_attr = (0o100000 | FILE_MODE) << 16  # regular file, rw-r--r--
                archive.writestr(info, pathlib.Path(source).read_bytes(), compresslevel=COMPRESS_LEVEL)
        temp_path.replace(zip_path)
    finally:
        temp_path.unlink(missing_ok=True)
    return zip_path


def build_package(output_dir=DEFAULT_OUTPUT_DIR, repo_root: pathlib.Path = REPO_ROOT) -> pathlib.Path:
    """Write dist/volume_booster-<version>.zip (or into output_dir) and return its path."""
    output_dir = pathlib.Path(output_dir)
    zip_path = output_dir / zip_name(package_version(repo_root))
    return write_zip(package_members(repo_root), zip_path).resolve()


def profile_zip_name(version: str) -> str:
    return f"{PROFILE_ID}_profile-{version}.zip"


def build_profile_package(output_dir=DEFAULT_OUTPUT_DIR, repo_root: pathlib.Path = REPO_ROOT) -> pathlib.Path:
    """Write dist/volume_booster_profile-<version>.zip: the profile alone, its files at the zip's root, as
    OctoBot's profile export writes them and its web interface's profile import reads them (that import
    installs into the bot's user/profiles, where the web interface's tentacle install does not put it)."""
    profile_dir = repo_root / "profiles" / PROFILE_ID
    _check_profile(profile_dir)
    members = [(path.relative_to(profile_dir).as_posix(), path) for path in _files_under(profile_dir)]
    zip_path = pathlib.Path(output_dir) / profile_zip_name(package_version(repo_root))
    return write_zip(members, zip_path).resolve()


def main(argv=None) -> int:
    from volume_booster import cli_input
    prog = "volume-booster package"
    parser = cli_input.ArgumentParser(
        prog=prog,
        description="Build the installable OctoBot tentacle package (the Volume Booster trading mode and its "
                    "volume_booster profile) and the profile alone (for the profile import of OctoBot's web "
                    "interface). Install the package from an OctoBot folder with: "
                    "OctoBot tentacles --install --all --location <zip>",
    )
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT_DIR),
                        help=f"output folder (default: {DEFAULT_OUTPUT_DIR})")
    try:
        options = parser.parse_args(sys.argv[1:] if argv is None else argv)
        output = cli_input.output_folder("--output", options.output)
    except cli_input.InputError as err:
        return cli_input.report(prog, err)
    try:
        paths = (build_package(output), build_profile_package(output))
    except (PackageError, OSError) as err:
        return cli_input.report(prog, err)
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
