"""A session moves to a nearer colleague's free half-day when that drives less and every rule
holds; never before the notice day, never to a person an objection excludes."""

from __future__ import annotations

import datetime as dt

from clbhealth.scheduler.calendar import HalfDay
from clbhealth.scheduler.goals import DEFAULT_WEIGHTS
from clbhealth.scheduler.model import Person, PlanningProblem, Site, Task, Visit
from clbhealth.scheduler.relocate import relocate_sessions
from clbhealth.scheduler.repair import _State

MON, TUE = HalfDay(dt.date(2026, 9, 7), "am"), HalfDay(dt.date(2026, 9, 8), "am")


def _world(excluded: frozenset[str] = frozenset(), notice: dt.date | None = None) -> tuple[PlanningProblem, Visit]:
    task = Task(1, "T1", "3A", "S3", ("S3",), 20, frozenset({"doctor"}), dt.date(2026, 9, 1), dt.date(2027, 6, 30),
                "S3", excluded_staff=excluded)
    visit = Visit("t", "T1", [task], frozenset({"doctor"}), task.earliest, task.latest, 15, "S3")
    doctors = [Person("NEAR", "N", "doctor", 51.32, 4.94, frozenset({"tue-am"})),
               Person("FAR", "F", "doctor", 51.19, 5.12, frozenset({"mon-am"}))]
    km = {("NEAR", "T1"): 4.0, ("FAR", "T1"): 60.0}
    problem = PlanningProblem(2026, [MON, TUE], doctors, {"T1": Site("T1", "T1", 51.32, 4.95)}, [visit],
                              {"NEAR": {TUE}, "FAR": {MON}}, {}, {"am": 210, "pm": 135}, dict(DEFAULT_WEIGHTS),
                              km, {k: 10 for k in km}, notice_day=notice)
    return problem, visit


def _run(problem: PlanningProblem, visit: Visit) -> _State:
    state = _State()
    state.place("t", MON, {"doctor": "FAR"})
    relocate_sessions(problem, state, {"t": visit}, {}, seconds=5)
    return state


def test_a_session_moves_to_a_nearer_colleagues_free_half_day():
    state = _run(*_world())
    assert state.days["t"] == TUE and state.staff["t"] == {"doctor": "NEAR"}
    assert MON not in state.busy["FAR"] and TUE in state.busy["NEAR"]


def test_never_to_a_colleague_an_objection_excludes():
    state = _run(*_world(excluded=frozenset({"NEAR"})))
    assert state.days["t"] == MON and state.staff["t"] == {"doctor": "FAR"}


def test_never_before_the_notice_day():
    state = _run(*_world(notice=dt.date(2026, 9, 9)))
    assert state.days["t"] == MON
