"""Where things are: the repository, the shared market data beside it, the shipped profile."""
from volume_booster import REPO_ROOT

SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
DEFAULT_PROFILE = REPO_ROOT / "profiles" / "volume_booster"
MODE_NAME = "VolumeBoosterTradingMode"
