"""Small sessions ride along: a lone small session moves behind another session of its role at the
same school (or one nearby) on that half-day when both fit, so its own half-day is free; never
across a dose interval, never past the day its later dose needs, never an announced session."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from clbhealth.scheduler.calendar import HalfDay
from clbhealth.scheduler.goals import DEFAULT_WEIGHTS
from clbhealth.scheduler.join import join_small_sessions
from clbhealth.scheduler.model import Person, PlanningProblem, Site, Task, Visit
from clbhealth.scheduler.repair import _State

DAYS = [dt.date(2026, 9, 7), dt.date(2026, 10, 5), dt.date(2027, 3, 1), dt.date(2027, 4, 5), dt.date(2027, 6, 7)]
HALVES = [HalfDay(d, "am") for d in DAYS]


def _visit(visit_id: str, school: str, pupils: range, code: str = "S3", minutes: int = 10,
           after: tuple = (), latest: dt.date = dt.date(2027, 6, 30)) -> Visit:
    tasks = [Task(p, school, "3A", "S3", (code,), minutes, frozenset({"doctor"}), dt.date(2026, 9, 1), latest, code)
             for p in pupils]
    return Visit(visit_id, school, tasks, frozenset({"doctor"}), dt.date(2026, 9, 1), latest, 15, code, after=after)


def _world(visits: list[Visit]) -> PlanningProblem:
    doctor = Person("D", "D", "doctor", 51.3, 4.9, frozenset({"mon-am"}))
    sites = {"A": Site("A", "A", 51.30, 4.95), "B": Site("B", "B", 51.301, 4.951), "FAR": Site("FAR", "F", 50.9, 5.6)}
    km = {("D", s): 10.0 for s in sites}
    return PlanningProblem(2026, HALVES, [doctor], sites, visits, {"D": set(HALVES)}, {}, {"am": 210, "pm": 135},
                           dict(DEFAULT_WEIGHTS), km, {k: 10 for k in km})


def _placed(problem: PlanningProblem, days: dict[str, HalfDay]) -> _State:
    state = _State()
    for visit_id, half in days.items():
        state.place(visit_id, half, {"doctor": "D"})
    return state


def test_a_small_session_joins_the_same_schools_session_and_frees_its_half_day():
    big, small = _visit("big", "A", range(15)), _visit("small", "A", range(100, 102))  # 165 and 35 minutes
    problem = _world([big, small])
    state = _placed(problem, {"big": HALVES[0], "small": HALVES[1]})
    assert join_small_sessions(problem, state, {v.visit_id: v for v in problem.visits}, {}) == 1
    assert state.days["small"] == HALVES[0] and state.after["small"] == ("big", big.minutes)
    assert HALVES[1] not in state.busy["D"]


def test_it_also_joins_a_school_a_short_drive_away_but_not_one_far_away():
    problem = _world([_visit("big", "A", range(12)), _visit("near", "B", range(100, 102)),
                      _visit("far", "FAR", range(200, 202))])
    state = _placed(problem, {"big": HALVES[0], "near": HALVES[1], "far": HALVES[2]})
    join_small_sessions(problem, state, {v.visit_id: v for v in problem.visits}, {})
    assert state.days["near"] == HALVES[0] and state.after["near"][0] == "big"
    assert state.days["far"] == HALVES[2] and "far" not in state.after


def test_no_join_when_the_two_do_not_fit_the_block():
    problem = _world([_visit("big", "A", range(18)), _visit("small", "A", range(100, 104))])  # 195 + 55 > 210
    state = _placed(problem, {"big": HALVES[0], "small": HALVES[1]})
    join_small_sessions(problem, state, {v.visit_id: v for v in problem.visits}, {})
    assert state.days["small"] == HALVES[1] and "small" not in state.after  # a new one may come behind it
    assert state.days["small"] == HALVES[1]


def test_a_later_dose_never_joins_a_session_before_its_interval():
    first = _visit("hpv1", "A", range(3), code="HPV1")
    second = _visit("hpv2", "A", range(3), code="HPV2", after=(("hpv1", 5),))
    problem = _world([first, _visit("october", "A", range(100, 110)), second])
    state = _placed(problem, {"hpv1": HALVES[0], "october": HALVES[1], "hpv2": HALVES[3]})
    join_small_sessions(problem, state, {v.visit_id: v for v in problem.visits}, {})
    assert state.days["hpv2"] == HALVES[3]  # October is not five months after September


def test_a_dose_whose_third_dose_is_unplanned_joins_only_early_enough_for_it():
    hpv2 = _visit("hpv2", "A", range(2), code="HPV2")
    hpv3 = _visit("hpv3", "A", range(2), code="HPV3", after=(("hpv2", 3),))
    problem = _world([_visit("march", "A", range(100, 110)), _visit("june", "A", range(200, 210)),
                      hpv2, replace(hpv2, visit_id="anchor"), hpv3])
    problem.visits = [v for v in problem.visits if v.visit_id != "anchor"]
    hpv2.after = (("march", 0),)  # a follow-up itself (its HPV1 in the March session)
    state = _placed(problem, {"march": HALVES[2], "june": HALVES[4], "hpv2": HALVES[3]})
    join_small_sessions(problem, state, {v.visit_id: v for v in problem.visits}, {})
    assert state.days["hpv2"] == HALVES[2]  # 1 March leaves the HPV3 room by 30 June; 7 June would not


def test_an_announced_session_keeps_its_half_day():
    small = replace(_visit("small", "A", range(100, 102)), previous=HALVES[1], previous_staff=frozenset({"D"}))
    problem = _world([_visit("big", "A", range(12)), small])
    state = _placed(problem, {"big": HALVES[0], "small": HALVES[1]})
    join_small_sessions(problem, state, {v.visit_id: v for v in problem.visits}, {})
    assert state.days["small"] == HALVES[1] and "small" not in state.after  # a new one may come behind it
