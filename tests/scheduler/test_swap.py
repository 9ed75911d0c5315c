"""Who goes, chosen again per half-day: people of one role working the same half-day swap their
sessions when that drives less; never to a person an objection excludes, never an announced one."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from clbhealth.scheduler.calendar import HalfDay
from clbhealth.scheduler.goals import DEFAULT_WEIGHTS
from clbhealth.scheduler.model import Person, PlanningProblem, Site, Task, Visit
from clbhealth.scheduler.repair import _State
from clbhealth.scheduler.solve import SolveOptions, solve
from clbhealth.scheduler.swap import swap_people

MONDAY = HalfDay(dt.date(2026, 9, 7), "am")
NEAR, FAR = 4.0, 60.0


def _visit(visit_id: str, school: str, pupil: int, excluded: frozenset[str] = frozenset()) -> Visit:
    task = Task(pupil, school, "A", None, ("HPV2",), 5, frozenset({"doctor"}), dt.date(2026, 9, 1),
                dt.date(2027, 6, 30), "HPV2", excluded_staff=excluded)
    return Visit(visit_id, school, [task], frozenset({"doctor"}), task.earliest, task.latest, 15, "HPV2")


def _world(visits: list[Visit]) -> PlanningProblem:
    doctors = [Person("TURNHOUT", "T", "doctor", 51.32, 4.94, frozenset({"mon-am"})),
               Person("MOL", "M", "doctor", 51.19, 5.12, frozenset({"mon-am"}))]
    sites = {"T1": Site("T1", "T1", 51.32, 4.95), "M1": Site("M1", "M1", 51.19, 5.11)}
    km = {("TURNHOUT", "T1"): NEAR, ("TURNHOUT", "M1"): FAR, ("MOL", "M1"): NEAR, ("MOL", "T1"): FAR}
    return PlanningProblem(2026, [MONDAY], doctors, sites, visits, {d.staff_id: {MONDAY} for d in doctors}, {},
                           {"am": 210, "pm": 135}, dict(DEFAULT_WEIGHTS), km, {k: 10 for k in km})


def _crossed(problem: PlanningProblem) -> _State:
    """Each doctor at the other one's school."""
    state = _State()
    state.place("t", MONDAY, {"doctor": "MOL"})
    state.place("m", MONDAY, {"doctor": "TURNHOUT"})
    return state


def test_two_doctors_at_each_others_school_swap():
    problem = _world([_visit("t", "T1", 1), _visit("m", "M1", 2)])
    state = _crossed(problem)
    assert swap_people(problem, state, {v.visit_id: v for v in problem.visits}) == 2
    assert state.staff == {"t": {"doctor": "TURNHOUT"}, "m": {"doctor": "MOL"}}
    assert state.days == {"t": MONDAY, "m": MONDAY}  # the day stays


def test_no_swap_to_a_doctor_an_objection_excludes():
    problem = _world([_visit("t", "T1", 1, excluded=frozenset({"TURNHOUT"})), _visit("m", "M1", 2)])
    state = _crossed(problem)
    assert swap_people(problem, state, {v.visit_id: v for v in problem.visits}) == 0
    assert state.staff["t"] == {"doctor": "MOL"}


def test_an_announced_session_keeps_its_person():
    announced = replace(_visit("t", "T1", 1), previous=MONDAY, previous_staff=frozenset({"MOL"}),
                        session_id="S-1")
    problem = _world([announced, _visit("m", "M1", 2)])
    state = _crossed(problem)
    assert swap_people(problem, state, {v.visit_id: v for v in problem.visits}) == 0


def test_the_whole_planner_sends_each_doctor_to_the_school_near_them():
    problem = _world([_visit("t", "T1", 1), _visit("m", "M1", 2)])
    result = solve(problem, SolveOptions(seconds=2, workers=1))
    assert {v: p.staff["doctor"] for v, p in result.placements.items()} == {"t": "TURNHOUT", "m": "MOL"}


def test_a_colleague_free_that_half_day_takes_the_session_of_one_who_drives_farther():
    problem = _world([_visit("t", "T1", 1)])
    state = _State()
    state.place("t", MONDAY, {"doctor": "MOL"})  # Mol drives to Turnhout; the Turnhout doctor is free
    assert swap_people(problem, state, {v.visit_id: v for v in problem.visits}) == 1
    assert state.staff["t"] == {"doctor": "TURNHOUT"}
    assert MONDAY in state.busy["TURNHOUT"] and MONDAY not in state.busy["MOL"]


def test_a_free_colleague_an_objection_excludes_does_not_take_it():
    problem = _world([_visit("t", "T1", 1, excluded=frozenset({"TURNHOUT"}))])
    state = _State()
    state.place("t", MONDAY, {"doctor": "MOL"})
    assert swap_people(problem, state, {v.visit_id: v for v in problem.visits}) == 0
    assert state.staff["t"] == {"doctor": "MOL"} and MONDAY in state.busy["MOL"]
