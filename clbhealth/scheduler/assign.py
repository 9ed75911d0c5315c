"""Stage 1 (min-cost flow): who does each visit, with the people's half-days per month as capacity.

No fixed teams: every visit goes to one person of its role (a visit done together goes to the
person of its scarcest role; the others join on that half-day in stage 2). The flow sends one
unit per visit to a (person, week) node whose capacity is the person's free half-days that
week, within the visit's window; its cost is the soft goals that depend on the person: travel,
continuity, lateness by week and balance (convex, per share of the person's availability).
A visit that cannot go anywhere takes the unplanned arc. Integral and optimal in well under a
second for a whole CLB (OR-Tools' network simplex).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

from clbhealth.scheduler.calendar import HalfDay
from clbhealth.scheduler.model import Person, PlanningProblem, Visit
from clbhealth.scheduler.timetable import why_no_half_day

BALANCE_STEPS = (0.5, 0.7, 0.85, 1.0)  # load shares at which each person's next half-days cost more
SCALE = 10  # costs are integers: tenths


@dataclass
class Assignment:
    """Stage 1's answer: the person of every visit (its lead role) and its week."""

    person_of: dict[str, str]  # visit_id -> staff_id
    month_of: dict[str, tuple[int, int]]
    unassigned: dict[str, str]  # visit_id -> reason
    cost: float


def lead_role(visit: Visit, scarcity: dict[str, int]) -> str:
    """The role a visit is assigned by: its only role, or the scarcest of a visit done together."""
    return min(sorted(visit.roles), key=lambda r: scarcity.get(r, 0))


def free_half_days(problem: PlanningProblem, busy: dict[str, set[HalfDay]]) -> dict[str, list[HalfDay]]:
    """Each person's half-days that are worked, not absent and not taken by a kept session."""
    return {p.staff_id: sorted(h for h in problem.available.get(p.staff_id, ()) if h not in busy.get(p.staff_id, ()))
            for p in problem.persons}


def person_cost(problem: PlanningProblem, visit: Visit, person: Person) -> float:
    """Travel, continuity (fixed contact, or the previous plan's person) for one visit and person."""
    w = problem.weights
    cost = w["travel"] * problem.km[(person.staff_id, visit.school_id)]
    fixed = problem.fixed_contacts.get((visit.school_id, person.role))
    previous = {s for s in visit.previous_staff if problem.person(s).role == person.role} if visit.previous_staff else set()
    if previous:
        if person.staff_id not in previous:
            cost += w["continuity"]
    elif fixed and person.staff_id not in fixed:
        cost += w["continuity"]
    return cost


def assign_people(problem: PlanningProblem, visits: list[Visit], earliest: dict[str, dt.date],
                  busy: dict[str, set[HalfDay]], scarcity: dict[str, int]) -> Assignment:
    """Solve the flow; `earliest` is each visit's first possible day (dose intervals included)."""
    free = free_half_days(problem, busy)
    months: dict[str, dict[tuple[int, int], list[HalfDay]]] = {}
    for staff_id, halves in free.items():
        by_month: dict[tuple[int, int], list[HalfDay]] = defaultdict(list)
        for half in halves:
            by_month[_period(half.day)].append(half)
        months[staff_id] = by_month
    first = problem.half_days[0].day if problem.half_days else dt.date.today()
    nodes: dict[object, int] = {}

    def node(key: object) -> int:
        if key not in nodes:
            nodes[key] = len(nodes)
        return nodes[key]

    sink = node("sink")
    tails, heads, caps, costs = [], [], [], []

    def arc(tail: int, head: int, cap: int, cost: float) -> None:
        tails.append(tail), heads.append(head), caps.append(cap), costs.append(int(round(cost * SCALE)))

    w = problem.weights
    reasons: dict[str, str] = {}
    for visit in visits:
        role = lead_role(visit, scarcity)
        v = node(("visit", visit.visit_id))
        arc(v, sink, 1, w["unplanned"] * max(1, visit.pupil_moments) * 4)
        reachable = False
        for person in problem.persons:
            if person.role != role or person.staff_id in visit.excluded_staff:
                continue
            base = person_cost(problem, visit, person)
            for month, halves in months[person.staff_id].items():
                if not _fits_month(problem, visit, halves, earliest[visit.visit_id]):
                    continue
                # The week itself is stage 2's choice; here only a tie-breaker towards early weeks.
                weeks = (halves[0].day - first).days / 7
                arc(v, node(("pm", person.staff_id, month)), 1, base + 0.01 * w["early"] * max(0.0, weeks))
                reachable = True
        if not reachable:
            people = [p.staff_id for p in problem.persons if p.role == role and p.staff_id not in visit.excluded_staff]
            reasons[visit.visit_id] = why_no_half_day(problem, visit, people, {k: set(v) for k, v in free.items()},
                                                      earliest[visit.visit_id], role)
    for person in problem.persons:
        p_node = node(("person", person.staff_id))
        total = sum(len(h) for h in months[person.staff_id].values())
        for month, halves in months[person.staff_id].items():
            if ("pm", person.staff_id, month) in nodes:
                arc(nodes[("pm", person.staff_id, month)], p_node, len(halves), 0)
        done = 0
        for step, share in enumerate(BALANCE_STEPS):
            cap = int(round(total * share)) - done
            if cap > 0:
                arc(p_node, sink, cap, w["balance"] * step * 5)
                done += cap
    flow = min_cost_flow.SimpleMinCostFlow()
    if tails:
        flow.add_arcs_with_capacity_and_unit_cost(np.array(tails), np.array(heads), np.array(caps), np.array(costs))
    for visit in visits:
        flow.set_node_supply(nodes[("visit", visit.visit_id)], 1)
    flow.set_node_supply(sink, -len(visits))
    status = flow.solve() if tails else flow.OPTIMAL
    if status != flow.OPTIMAL:  # a programming error: the unplanned arcs make it always feasible
        raise RuntimeError(f"stage 1 flow failed with status {status}")
    keys = {index: key for key, index in nodes.items()}
    person_of: dict[str, str] = {}
    month_of: dict[str, tuple[int, int]] = {}
    flows = flow.flows(np.arange(flow.num_arcs())) if tails else []
    for a, amount in enumerate(flows):
        if amount <= 0:
            continue
        tail, head = keys[tails[a]], keys[heads[a]]
        if isinstance(tail, tuple) and tail[0] == "visit" and isinstance(head, tuple) and head[0] == "pm":
            person_of[tail[1]] = head[1]
            month_of[tail[1]] = head[2]
    for visit in visits:
        if visit.visit_id not in person_of:
            role = lead_role(visit, scarcity)
            people = sorted(p.staff_id for p in problem.persons if p.role == role and p.staff_id not in visit.excluded_staff)
            reasons.setdefault(visit.visit_id, f"capacity: all free half-days of {role} {' '.join(people)} in its "
                                               f"window are taken by other visits")
    return Assignment(person_of, month_of, reasons, flow.optimal_cost() / SCALE if tails else 0.0)


def _period(day: dt.date) -> tuple[int, int]:
    """The capacity period of a day: its ISO week (windows end mid-month, e.g. before Christmas)."""
    iso = day.isocalendar()
    return (iso[0], iso[1])


def _fits_month(problem: PlanningProblem, visit: Visit, halves: list[HalfDay], earliest: dt.date) -> bool:
    closed = problem.closed.get(visit.school_id, set())
    return any(earliest <= h.day <= visit.latest and h not in closed and visit.minutes <= problem.block_minutes[h.part]
               and problem.allowed(visit, h) for h in halves)
