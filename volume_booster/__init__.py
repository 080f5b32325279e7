"""Volume Booster command line tools (simulate, compare, bench, package).

This module must stay importable with the standard library only: the bootstrap
(`python3 -m volume_booster.bootstrap`) runs before any dependency is installed.
"""
import pathlib

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
