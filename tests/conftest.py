import pytest

from volume_booster import REPO_ROOT

SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


def pytest_report_header(config):
    """Which OctoBot the suite runs against (CI runs it in two environments)."""
    import importlib
    import importlib.metadata
    try:
        versions = [f"OctoBot {importlib.metadata.version('OctoBot')}"]
    except importlib.metadata.PackageNotFoundError:
        return "volume-booster tests: OctoBot is not installed"
    # OctoBot 2.1 bundles these libraries in its own wheel: their modules know their version
    for module_name in ("octobot_trading", "octobot_backtesting", "octobot_commons"):
        try:
            versions.append(f"{module_name} {importlib.import_module(module_name).VERSION}")
        except Exception as err:  # the header must never break the run
            versions.append(f"{module_name} ({type(err).__name__})")
    return "volume-booster tests against " + ", ".join(versions)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "e2e: end-to-end run of the real OctoBot CLI (slower; deselect with -m 'not e2e')"
    )


@pytest.fixture(scope="session")
def shared_data():
    """../shared/data (real market data files, read-only); the test is skipped when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared market data folder missing: {SHARED_DATA}")
    return SHARED_DATA
