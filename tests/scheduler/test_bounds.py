"""The capacity bound is an independent LP: a later dose counts only for pupils whose dose it
follows can be done too (HPV2 without HPV1 is never planned, so the bound does not count it)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from clbhealth.scheduler.bounds import coverage_bound
from clbhealth.scheduler.calendar import HalfDay
from clbhealth.scheduler.goals import DEFAULT_WEIGHTS
from clbhealth.scheduler.model import Person, PlanningProblem, Site, Task, Visit
from clbhealth.scheduler.solve import earliest_days

D = dt.date


def _problem(doctor_days: list[HalfDay]) -> PlanningProblem:
    first = [Task(i, "300", "3A", "S3", ("HPV1",), 10, frozenset({"doctor"}), D(2026, 9, 1), D(2026, 12, 18), "HPV1",
                  follow_ups=(("HPV2", 5),)) for i in range(1, 4)]
    second = [replace(t, moments=("HPV2",), bundle="HPV2", earliest=D(2027, 1, 1), latest=D(2027, 6, 30), follow_ups=())
              for t in first]
    visits = [Visit("hpv1", "300", first, frozenset({"doctor"}), D(2026, 9, 1), D(2026, 12, 18), 15, "HPV1"),
              Visit("hpv2", "300", second, frozenset({"doctor"}), D(2027, 1, 1), D(2027, 6, 30), 15, "HPV2",
                    after=(("hpv1", 5),))]
    doctor = Person("D1", "D1", "doctor", 51.16, 4.99, frozenset({"mon-am"}))
    halves = sorted({*doctor_days, HalfDay(D(2026, 9, 7), "am"), HalfDay(D(2027, 3, 1), "am")})
    return PlanningProblem(2026, halves, [doctor], {"300": Site("300", "300", 51.17, 4.98)}, visits,
                           {"D1": set(doctor_days)}, {}, {"am": 210, "pm": 135}, dict(DEFAULT_WEIGHTS),
                           {("D1", "300"): 10.0}, {("D1", "300"): 10})


def _bound(problem: PlanningProblem) -> int:
    return coverage_bound(problem, problem.visits, earliest_days(problem, {}), 15)["at_most"]


def test_a_later_dose_counts_only_when_the_dose_it_follows_can_be_done():
    assert _bound(_problem([HalfDay(D(2027, 3, 1), "am")])) == 0  # no doctor before Christmas: no HPV1, so no HPV2
    assert _bound(_problem([HalfDay(D(2026, 9, 7), "am"), HalfDay(D(2027, 3, 1), "am")])) == 6


def test_pupils_with_and_without_a_linked_first_dose_are_counted_side_by_side():
    """One pupil's HPV2 follows their HPV1 in the plan, another's HPV1 leads to no HPV2 of theirs
    (their series goes on elsewhere): the two profiles differ only in that link, and the bound
    still orders and counts them (it once failed comparing a missing link with a task index)."""
    problem = _problem([HalfDay(D(2026, 9, 7), "am"), HalfDay(D(2027, 3, 1), "am")])
    first, second = problem.visits
    first.tasks[2] = replace(first.tasks[2], follow_ups=())
    assert _bound(problem) == 6
