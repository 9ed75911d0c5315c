"""Fill and dose chains: a later-dose visit that follows several first-dose visits waits, per
pupil, only for the visit holding that pupil's first dose."""

from __future__ import annotations

import datetime as dt

from clbhealth.scheduler.calendar import HalfDay
from clbhealth.scheduler.fill import fill_free_half_days
from clbhealth.scheduler.goals import DEFAULT_WEIGHTS
from clbhealth.scheduler.model import Person, PlanningProblem, Site, Task, Visit
from clbhealth.scheduler.repair import _State

OCTOBER = HalfDay(dt.date(2026, 10, 5), "am")
APRIL = HalfDay(dt.date(2027, 4, 12), "am")


def _task(pupil: int, code: str) -> Task:
    return Task(pupil, "100", "1A", "S1", (code,), 5, frozenset({"doctor"}), dt.date(2026, 9, 1),
                dt.date(2027, 6, 30), code)


def _world() -> tuple[PlanningProblem, dict[str, Visit]]:
    first_a = Visit("hpv1-a", "100", [_task(1, "HPV1")], frozenset({"doctor"}), dt.date(2026, 9, 1),
                    dt.date(2027, 6, 30), 15, "HPV1")
    first_b = Visit("hpv1-b", "100", [_task(2, "HPV1")], frozenset({"doctor"}), dt.date(2026, 9, 1),
                    dt.date(2027, 6, 30), 15, "HPV1")
    second = Visit("hpv2", "100", [_task(1, "HPV2"), _task(2, "HPV2")], frozenset({"doctor"}), dt.date(2026, 9, 1),
                   dt.date(2027, 6, 30), 15, "HPV2", after=(("hpv1-a", 5), ("hpv1-b", 5)))
    doctor = Person("D1", "D1", "doctor", 51.16, 4.99, frozenset({"mon-am"}))
    visits = [first_a, first_b, second]
    problem = PlanningProblem(2026, [OCTOBER, APRIL], [doctor], {"100": Site("100", "100", 51.17, 4.98)}, visits,
                              {"D1": {OCTOBER, APRIL}}, {}, {"am": 210, "pm": 135}, dict(DEFAULT_WEIGHTS),
                              {("D1", "100"): 10.0}, {("D1", "100"): 10})
    return problem, {v.visit_id: v for v in visits}


def _doses(state: _State, by_id: dict[str, Visit]) -> dict[tuple[int, str], dt.date]:
    return {(t.pupil_id, code): state.days[v].day for v in state.days if v in by_id
            for t in by_id[v].tasks for code in t.moments}


def test_a_pupil_whose_first_dose_is_planned_gets_the_second_though_another_first_dose_is_not():
    problem, by_id = _world()
    state = _State()
    state.place("hpv1-a", OCTOBER, {"doctor": "D1"})  # pupil 1's HPV1; pupil 2's HPV1 is not planned
    fill_free_half_days(problem, state, by_id, {})
    doses = _doses(state, by_id)
    assert doses[(1, "HPV2")] == APRIL.day  # before, the whole HPV2 visit waited for pupil 2's HPV1
    assert doses[(2, "HPV1")] == APRIL.day  # April's room also takes pupil 2's first dose ...
    assert (2, "HPV2") not in doses  # ... whose second dose waits its interval
    for visit_id in state.days:
        visit = by_id[visit_id]
        held = {t.pupil_id for t in visit.tasks if "HPV2" in t.moments}
        assert all({t.pupil_id for t in by_id[b].tasks} & held for b, _ in visit.after)  # follows only its pupils' doses
    [left] = [v for v in by_id.values() if v.visit_id not in state.days and "HPV2" in v.moments]
    assert [t.pupil_id for t in left.tasks] == [2]
    assert [b for b, _ in left.after] and all(
        2 in {t.pupil_id for t in by_id[b].tasks} and b in state.days for b, _ in left.after)  # waits for April's


def test_no_second_dose_before_its_interval():
    problem, by_id = _world()
    problem.half_days = [OCTOBER]
    problem.available = {"D1": {OCTOBER}}
    state = _State()
    fill_free_half_days(problem, state, by_id, {})
    assert not any(by_id[v].bundle == "HPV2" for v in state.days if v in by_id)
