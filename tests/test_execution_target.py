"""Target precision in OctoBot's real backtesting engine: with every style, the final volume lands between the
target and one order above it, and the run ends with no open order."""
import pytest

from tests import execution_runs as runs
from tests.execution_runs import D, MAX_ORDER, STYLES, TARGET, style_run  # noqa: F401 (a fixture)

pytestmark = runs.needs_shared_data


@pytest.mark.parametrize("style_run", STYLES, indirect=True)
def test_final_volume_lands_between_the_target_and_one_order_above(style_run):
    run = style_run
    volume = run.volume()
    assert D(TARGET) <= volume <= D(TARGET) + MAX_ORDER, volume
    assert run.result.volume == pytest.approx(float(volume), rel=1e-12)
    assert run.result.stopped_reason == "target reached"
    assert run.result.open_orders_left == 0
