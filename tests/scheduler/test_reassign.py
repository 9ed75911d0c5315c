"""All of a role's lone sessions exchange people and half-days at once (a min-cost flow): chains a
single move cannot make, and never against a hard rule (dose intervals, objections, notice)."""

from __future__ import annotations

import datetime as dt

from clbhealth.scheduler.calendar import HalfDay, add_months
from clbhealth.scheduler.goals import DEFAULT_WEIGHTS
from clbhealth.scheduler.model import Person, PlanningProblem, Site, Task, Visit
from clbhealth.scheduler.reassign import reassign_sessions
from clbhealth.scheduler.repair import _State

MON, TUE = HalfDay(dt.date(2026, 9, 14), "am"), HalfDay(dt.date(2026, 9, 15), "am")
YEAR_END = dt.date(2027, 6, 30)


def _visit(visit_id: str, school: str, excluded: frozenset[str] = frozenset(), after=()) -> Visit:
    task = Task(int(abs(hash(visit_id)) % 10_000), school, "3A", "S3", ("S3",), 20, frozenset({"doctor"}),
                dt.date(2026, 9, 1), YEAR_END, "S3", excluded_staff=excluded)
    return Visit(visit_id, school, [task], frozenset({"doctor"}), task.earliest, task.latest, 15, "S3", after=after)


def _problem(visits: list[Visit], available: dict[str, set[HalfDay]], notice: dt.date | None = None) -> PlanningProblem:
    doctors = [Person("A", "A", "doctor", 51.32, 4.94, frozenset()), Person("B", "B", "doctor", 51.19, 5.12, frozenset())]
    km = {("A", "X"): 4.0, ("A", "Y"): 60.0, ("B", "X"): 60.0, ("B", "Y"): 4.0}
    halves = sorted({h for hs in available.values() for h in hs})
    sites = {s: Site(s, s, 51.3, 5.0) for s in ("X", "Y")}
    return PlanningProblem(2026, halves, doctors, sites, visits, available, {}, {"am": 210, "pm": 135},
                           dict(DEFAULT_WEIGHTS), km, {k: 10 for k in km}, notice_day=notice)


def _state(*placed: tuple[str, HalfDay, str]) -> _State:
    state = _State()
    for visit_id, half, person in placed:
        state.place(visit_id, half, {"doctor": person})
    return state


def test_two_fully_booked_doctors_trade_schools_across_days():
    """A works only Monday, B only Tuesday, each at the other's nearby school: no free half-day for
    a single move, and no common half-day for a swap; the exchange drives 112 km less."""
    x, y = _visit("x", "X"), _visit("y", "Y")
    problem = _problem([x, y], {"A": {MON}, "B": {TUE}})
    state = _state(("y", MON, "A"), ("x", TUE, "B"))
    assert reassign_sessions(problem, state, {"x": x, "y": y}, {}) == 2
    assert (state.days["x"], state.staff["x"]) == (MON, {"doctor": "A"})
    assert (state.days["y"], state.staff["y"]) == (TUE, {"doctor": "B"})
    assert state.busy["A"] == {MON} and state.busy["B"] == {TUE}


def test_never_to_a_doctor_an_objection_excludes():
    x, y = _visit("x", "X", excluded=frozenset({"A"})), _visit("y", "Y")
    problem = _problem([x, y], {"A": {MON}, "B": {TUE}})
    state = _state(("y", MON, "A"), ("x", TUE, "B"))
    reassign_sessions(problem, state, {"x": x, "y": y}, {})
    assert state.staff["x"] == {"doctor": "B"} and state.staff["y"] == {"doctor": "A"}


def test_never_before_the_notice_day():
    x, y = _visit("x", "X"), _visit("y", "Y")
    problem = _problem([x, y], {"A": {MON}, "B": {TUE}}, notice=TUE.day)
    state = _state(("y", MON, "A"), ("x", TUE, "B"))
    reassign_sessions(problem, state, {"x": x, "y": y}, {})
    assert state.days["x"] == TUE  # Monday lies before the notice day


def test_a_dose_interval_never_shrinks_when_both_doses_move():
    """HPV1 at Y and HPV2 a month later, both with the far doctor A. The near doctor B is free a
    week after HPV1's day and a week before HPV2's: each move alone keeps the interval, both
    together would not; a dose whose later dose may move only moves earlier, and the other way."""
    hpv1_day, hpv2_day = HalfDay(dt.date(2026, 9, 14), "am"), HalfDay(dt.date(2026, 10, 21), "am")
    b_early, b_late = HalfDay(dt.date(2026, 9, 21), "am"), HalfDay(dt.date(2026, 10, 14), "am")
    hpv1 = _visit("hpv1", "Y")
    hpv2 = _visit("hpv2", "Y", after=(("hpv1", 1),))
    problem = _problem([hpv1, hpv2], {"A": {hpv1_day, hpv2_day}, "B": {b_early, b_late}})
    state = _state(("hpv1", hpv1_day, "A"), ("hpv2", hpv2_day, "A"))
    reassign_sessions(problem, state, {"hpv1": hpv1, "hpv2": hpv2}, {})
    assert state.days["hpv2"].day >= add_months(state.days["hpv1"].day, 1)
    assert state.days == {"hpv1": hpv1_day, "hpv2": hpv2_day}


def test_a_plan_that_cannot_drive_less_stays_as_it_is():
    x, y = _visit("x", "X"), _visit("y", "Y")
    problem = _problem([x, y], {"A": {MON, TUE}, "B": {MON, TUE}})
    state = _state(("x", MON, "A"), ("y", TUE, "B"))
    assert reassign_sessions(problem, state, {"x": x, "y": y}, {}) == 0
    assert (state.days["x"], state.days["y"]) == (MON, TUE)
