"""Stage 1 (min-cost flow): who does each visit, with the people's half-days per month as capacity.

No fixed teams: every visit goes to one person of its role (a visit done together goes to the
person of its scarcest role; the others join on that half-day in stage 2). The flow sends one
unit per visit to a (person, two-week period) node whose capacity is the person's free half-days
then, within the visit's window; its cost is the soft goals that depend on the person: travel,
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

BALANCE_STEPS = (0.6, 0.75, 0.9, 1.0)  # load shares at which each person's next half-days cost more
SCALE = 10  # costs are integers: tenths


@dataclass
class Assignment:
    """Stage 1's answer: the person of every visit (its lead role)."""

    person_of: dict[str, str]  # visit_id -> staff_id
    unassigned: dict[str, str]  # visit_id -> reason


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
    """Solve the flow; `earliest` is each visit's first possible day (dose intervals included).

    Compact: a visit has an arc to each person of its role for its window class (first period, last
    period, morning-only); a (person, window class) node feeds the person's (period, part) nodes of
    that window, whose capacity is the person's free half-days then. Arcs grow with visits x persons
    plus persons x windows x periods, not visits x persons x periods.
    """
    free = free_half_days(problem, busy)
    slots: dict[str, dict[tuple, int]] = {}
    for staff_id, halves in free.items():
        counts: dict[tuple, int] = defaultdict(int)
        for half in halves:
            counts[(_period(half.day), half.part)] += 1
        slots[staff_id] = counts
    graph = _Graph()
    w = problem.weights
    reasons: dict[str, str] = {}
    first = problem.half_days[0].day if problem.half_days else dt.date.today()
    classes: dict[tuple[str, tuple], int] = {}
    for visit in visits:
        role = lead_role(visit, scarcity)
        v = graph.node(("visit", visit.visit_id))
        graph.arc(v, graph.sink, 1, w["unplanned"] * max(1, visit.pupil_moments) * 4)
        window = _window_class(problem, visit, earliest[visit.visit_id])
        reachable = False
        for person in problem.persons:
            if person.role != role or person.staff_id in visit.excluded_staff:
                continue
            key = (person.staff_id, window)
            if key not in classes:
                classes[key] = _class_node(graph, person.staff_id, window, slots[person.staff_id])
            if classes[key] < 0:
                continue
            weeks = max(0.0, (dt.date.fromisocalendar(*window[0], 1) - first).days / 7)
            graph.arc(v, classes[key], 1, person_cost(problem, visit, person) + 0.01 * w["early"] * weeks)
            reachable = True
        if not reachable:
            people = [p.staff_id for p in problem.persons if p.role == role and p.staff_id not in visit.excluded_staff]
            reasons[visit.visit_id] = why_no_half_day(problem, visit, people, {k: set(v) for k, v in free.items()},
                                                      earliest[visit.visit_id], role)
    for person in problem.persons:
        _person_arcs(graph, person.staff_id, slots[person.staff_id], w["balance"])
    person_of = graph.solve([("visit", v.visit_id) for v in visits])
    for visit in visits:
        if visit.visit_id not in person_of:
            role = lead_role(visit, scarcity)
            people = sorted(p.staff_id for p in problem.persons if p.role == role and p.staff_id not in visit.excluded_staff)
            reasons.setdefault(visit.visit_id, f"capacity: all free half-days of {role} {' '.join(people)} in its "
                                               f"window are taken by other visits")
    return Assignment(person_of, reasons)


class _Graph:
    """A min-cost flow built as arrays (OR-Tools' network simplex)."""

    def __init__(self) -> None:
        self.nodes: dict[object, int] = {}
        self.tails: list[int] = []
        self.heads: list[int] = []
        self.caps: list[int] = []
        self.costs: list[int] = []
        self.sink = self.node("sink")

    def node(self, key: object) -> int:
        if key not in self.nodes:
            self.nodes[key] = len(self.nodes)
        return self.nodes[key]

    def arc(self, tail: int, head: int, cap: int, cost: float) -> None:
        self.tails.append(tail)
        self.heads.append(head)
        self.caps.append(cap)
        self.costs.append(int(round(cost * SCALE)))

    def solve(self, sources: list[object]) -> dict[str, str]:
        """Send one unit from every source; returns visit_id -> staff_id for the visits assigned."""
        if not sources:
            return {}
        flow = min_cost_flow.SimpleMinCostFlow()
        flow.add_arcs_with_capacity_and_unit_cost(np.array(self.tails), np.array(self.heads), np.array(self.caps),
                                                  np.array(self.costs))
        for key in sources:
            flow.set_node_supply(self.nodes[key], 1)
        flow.set_node_supply(self.sink, -len(sources))
        status = flow.solve()
        if status != flow.OPTIMAL:  # a programming error: the unplanned arcs make it always feasible
            raise RuntimeError(f"stage 1 flow failed with status {status}")
        keys = {index: key for key, index in self.nodes.items()}
        flows = flow.flows(np.arange(flow.num_arcs()))
        result = {}
        for a in np.nonzero(flows > 0)[0]:
            tail, head = keys[self.tails[a]], keys[self.heads[a]]
            if isinstance(tail, tuple) and tail[0] == "visit" and isinstance(head, tuple) and head[0] == "class":
                result[tail[1]] = head[1]
        return result


def _window_class(problem: PlanningProblem, visit: Visit, earliest: dt.date) -> tuple:
    """(first period, last period, morning only) of a visit, for the flow."""
    start = earliest
    if problem.notice_day is not None and visit.previous is None:
        start = max(start, problem.notice_day)
    morning_only = visit.minutes > problem.block_minutes.get("pm", 0)
    return (_period(start), _period(visit.latest), morning_only)


def _class_node(graph: _Graph, staff_id: str, window: tuple, slots: dict[tuple, int]) -> int:
    """The node of a person's window class, with arcs to the person's (period, part) nodes in it; -1 when empty."""
    first, last, morning_only = window
    inside = [(key, n) for key, n in slots.items()
              if first <= key[0] <= last and (key[1] == "am" or not morning_only) and n > 0]
    if not inside:
        return -1
    node = graph.node(("class", staff_id, window))
    for key, n in inside:
        graph.arc(node, graph.node(("slot", staff_id, key)), n, 0)
    return node


def _person_arcs(graph: _Graph, staff_id: str, slots: dict[tuple, int], balance_weight: int) -> None:
    """(period, part) capacity into the person, then the person's load into the sink at a rising cost."""
    p_node = graph.node(("person", staff_id))
    total = 0
    for key, n in slots.items():
        if ("slot", staff_id, key) in graph.nodes:
            graph.arc(graph.nodes[("slot", staff_id, key)], p_node, n, 0)
        total += n
    # One half-day is 100 / total percentage points of this person's load: the balance weight per
    # point, rising by step as the person fills up.
    done = 0
    for step, share in enumerate(BALANCE_STEPS):
        cap = int(round(total * share)) - done
        if cap > 0:
            graph.arc(p_node, graph.sink, cap, balance_weight * step * 100 / max(total, 1))
            done += cap


def _period(day: dt.date) -> tuple[int, int]:
    """The capacity period of a day: two ISO weeks (a week is too fine for the flow: the timetables
    place each visit on a day of its period; two weeks let a busy week borrow from the next)."""
    iso = day.isocalendar()
    return (iso[0], (iso[1] - 1) // 2 * 2 + 1)  # (ISO year, the period's first ISO week)
