"""Pure: the plan's soft goals measured as `goals.py` declares them."""

from __future__ import annotations

import datetime as dt

from clbhealth.scheduler.calendar import HalfDay
from clbhealth.scheduler.metrics import _apart
from clbhealth.scheduler.model import Placement, Task, Visit
from clbhealth.scheduler.solve import PlanResult

START, END = dt.date(2027, 9, 1), dt.date(2028, 6, 30)


def _visit(visit_id: str, role: str, pupil: int, moments: tuple[str, ...]) -> Visit:
    task = Task(pupil, "100", "1A", "L1", moments, 10, frozenset({role}), START, END, moments[0])
    return Visit(visit_id, "100", [task], frozenset({role}), START, END, 10, moments[0])


def _plan(*placed: tuple[Visit, dt.date]) -> PlanResult:
    visits = {v.visit_id: v for v, _ in placed}
    placements = {v.visit_id: Placement(v.visit_id, HalfDay(day, "am"), {next(iter(v.roles)): "N1"})
                  for v, day in placed}
    return PlanResult(placements, {}, visits)


def test_a_moments_parts_on_two_days_count_as_apart() -> None:
    nurse, doctor = _visit("n", "nurse", 1, ("L1",)), _visit("d", "doctor", 1, ("L1",))
    assert _apart(_plan((nurse, dt.date(2027, 10, 4)), (doctor, dt.date(2027, 10, 5)))) == 1
    assert _apart(_plan((nurse, dt.date(2027, 10, 4)), (doctor, dt.date(2027, 10, 4)))) == 0


def test_doses_months_apart_are_not_parts_apart() -> None:
    """HPV1 and HPV2 lie months apart by rule: that is not a moment's parts on different days."""
    first, second = _visit("h1", "doctor", 2, ("HPV1",)), _visit("h2", "doctor", 2, ("HPV2",))
    assert _apart(_plan((first, dt.date(2027, 10, 4)), (second, dt.date(2028, 4, 10)))) == 0
