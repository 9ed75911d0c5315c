"""Who goes, chosen again per half-day: the people of one role who work a half-day swap their
sessions of that half-day when that drives less, and a colleague free that half-day takes a
session from one who drives farther.

The stages choose a person per visit by two-week period and place each person's visits on their
own, so on one morning a doctor from Turnhout may be at a school in Mol while a doctor from Mol is
at one near Turnhout. Per half-day and role this is an exact assignment (each person's sessions of
the half-day, taken as a whole, go to one of the people working then). Days, loads, tours and
every hard rule stay as they are: only the person changes, never to one a pupil's objection
excludes, and an announced session keeps its person.
"""

from __future__ import annotations

from collections import defaultdict

from ortools.graph.python import linear_sum_assignment

from clbhealth.scheduler.assign import person_cost
from clbhealth.scheduler.calendar import HalfDay
from clbhealth.scheduler.model import Placement, PlanningProblem, Visit
from clbhealth.scheduler.repair import _State

SCALE = 10  # costs are integers: tenths of a km


def swap_people(problem: PlanningProblem, state: _State, by_id: dict[str, Visit]) -> int:
    """Give each half-day's sessions of a role to its people at least cost; returns the sessions moved."""
    moved = 0
    idle = _idle_people(problem, state)
    for (half, role), bundles in sorted(_bundles(state).items(), key=lambda item: item[0]):
        for person in idle.get((half, role), ()):
            bundles.setdefault(person, [])  # free then: may take a session, gives none
        if len(bundles) < 2:
            continue
        people = sorted(bundles)
        choice = _cheapest(problem, state, by_id, bundles, people)
        for giver, taker in choice.items():
            if giver != taker and bundles[giver]:
                for visit_id in bundles[giver]:
                    state.staff[visit_id][role] = taker
                moved += len(bundles[giver])
        for giver, taker in choice.items():  # who works this half-day now
            (state.busy[taker].add if bundles[giver] else state.busy[taker].discard)(half)
    return moved


def _idle_people(problem: PlanningProblem, state: _State) -> dict[tuple[HalfDay, str], list[str]]:
    """(half-day, role) -> the people of that role who work then and have no session."""
    idle: dict[tuple[HalfDay, str], list[str]] = defaultdict(list)
    for person in problem.persons:
        busy = state.busy.get(person.staff_id, set())
        for half in problem.available.get(person.staff_id, ()):
            if half not in busy:
                idle[(half, person.role)].append(person.staff_id)
    return idle


def _bundles(state: _State) -> dict[tuple[HalfDay, str], dict[str, list[str]]]:
    """(half-day, role) -> person -> the visits they do then."""
    result: dict[tuple[HalfDay, str], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for visit_id, half in state.days.items():
        for role, person in state.staff.get(visit_id, {}).items():
            result[(half, role)][person].append(visit_id)
    return result


def _cheapest(problem: PlanningProblem, state: _State, by_id: dict[str, Visit], bundles: dict[str, list[str]],
              people: list[str]) -> dict[str, str]:
    """giver -> taker: the assignment of the half-day's bundles to its people of least cost."""
    solver = linear_sum_assignment.SimpleLinearSumAssignment()
    for i, giver in enumerate(people):
        if not bundles[giver]:  # an empty hand goes to anyone, at no cost
            for j in range(len(people)):
                solver.add_arc_with_cost(i, j, 0)
            continue
        visits = [by_id[v] for v in bundles[giver] if v in by_id]
        fixed = len(visits) < len(bundles[giver]) or not _movable(visits, bundles[giver], state)
        for j, taker in enumerate(people):
            if taker == giver or (not fixed and not any(taker in v.excluded_staff for v in visits)):
                solver.add_arc_with_cost(i, j, int(round(SCALE * bundle_cost(problem, state, visits, taker))))
    if solver.solve() != solver.OPTIMAL:
        return {p: p for p in people}
    return {giver: people[solver.right_mate(i)] for i, giver in enumerate(people)}


def _movable(visits: list[Visit], ids: list[str], state: _State) -> bool:
    """A bundle may change hands unless it holds an announced session or follows one outside it."""
    inside = set(ids)
    return all(v.previous is None and (v.visit_id not in state.after or state.after[v.visit_id][0] in inside)
               for v in visits)


def bundle_cost(problem: PlanningProblem, state: _State, visits: list[Visit], staff_id: str) -> float:
    """Travel and continuity of one person doing these visits of one half-day (a tour when shared)."""
    person = problem.person(staff_id)
    by_id = {v.visit_id: v for v in visits}
    w = problem.weights["travel"]
    total = 0.0
    for visit in visits:
        host = state.after.get(visit.visit_id, (None, 0))[0]
        leg = problem.leg_km(staff_id, Placement(visit.visit_id, state.days[visit.visit_id], {}, after_visit=host), by_id)
        # person_cost prices a round trip; on a shared half-day the leg is the detour from the school before
        total += person_cost(problem, visit, person) + w * (leg - problem.km[(staff_id, visit.school_id)])
    return total
