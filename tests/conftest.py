import pytest

from volume_booster import REPO_ROOT

SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


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
