"""Progress tells the share above the bound only once CP-SAT's bounds say something."""

from __future__ import annotations

from clbhealth.scheduler.solver import GapTracker


def test_the_share_above_the_bound_is_told_only_when_it_is_informative():
    seen = []
    tracker = GapTracker(seen.append, "improving", 10)
    tracker.update("A", 950.0, 100.0)  # 850% above: the bound is still weak
    assert seen[-1].above_bound is None
    tracker.update("A", 110.0, 100.0)
    assert abs(seen[-1].above_bound - 0.10) < 1e-9
    tracker.update("B", 50.0, 50.0)  # the models add up
    assert abs(seen[-1].above_bound - 10 / 150) < 1e-9
