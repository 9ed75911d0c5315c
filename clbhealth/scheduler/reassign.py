"""Who goes and when, chosen again for all of a role's sessions at once (a min-cost flow), after the
plan is complete.

Relocate moves one session at a time into a colleague's free half-day, and only while free
half-days are left; when a role is nearly fully booked (doctors often are) the saving lies in
chains: Turnhout's doctor takes a Mol doctor's school near Turnhout, who takes a school near Mol
that a Geel doctor had, a week later. Here every new session of a role that is alone on its
person's half-day may go to any half-day of any person of its role, free or held by another such
session, within a few weeks of its day; each half-day takes one session; the flow gives the
cheapest such exchange (travel, continuity, lateness and pupils seen by the other role on another
day, as the other steps price them). Every hard rule holds: the window, the school's calendar, the
notice period, the block's room, the pupils' objections, and the dose intervals (a dose whose
earlier dose also moves only moves later, one whose later dose also moves only earlier, so an
interval never shrinks). Announced sessions, shared half-days and visits done together stay.
"""

from __future__ import annotations

import bisect
import datetime as dt
import time
from collections import defaultdict

import numpy as np
from ortools.graph.python import min_cost_flow

from clbhealth.scheduler.assign import person_cost
from clbhealth.scheduler.calendar import HalfDay
from clbhealth.scheduler.join import early_cost, lone_session, session_groups
from clbhealth.scheduler.model import PlanningProblem, Visit, followers_deadlines, followers_of
from clbhealth.scheduler.relocate import parts_apart, seen_by_role, session_cost
from clbhealth.scheduler.repair import _State
from clbhealth.scheduler.share import guest_fits

REACH = dt.timedelta(weeks=3)  # a session may move this far either way
SCALE = 10  # costs are integers: tenths
STAY_BONUS = 1.0  # cost units (km) each moved session must save: ties keep the plan as it is


def reassign_sessions(problem: PlanningProblem, state: _State, by_id: dict[str, Visit],
                      known: dict[str, HalfDay], seconds: float = 60.0) -> int:
    """Exchange people and half-days among each role's lone new sessions at least cost, one role
    after the other while time is left; returns the sessions that changed person or half-day."""
    stop = time.monotonic() + seconds
    groups = session_groups(state, by_id)
    hosts = {h for h, _ in state.after.values()}
    movable: dict[str, list[str]] = defaultdict(list)
    for visit_id in sorted(state.days):
        visit = by_id.get(visit_id)
        if lone_session(visit, state, groups, hosts):
            movable[next(iter(visit.roles))].append(visit_id)
    changed = 0
    for role in sorted(movable):
        if time.monotonic() > stop:
            break
        changed += _reassign_role(problem, state, by_id, known, role, movable[role])
    return changed


def _reassign_role(problem: PlanningProblem, state: _State, by_id: dict[str, Visit], known: dict[str, HalfDay],
                   role: str, movable: list[str]) -> int:
    """One flow per role: movable sessions -> (person, half-day) slots, one session per slot."""
    slots = _slots(problem, state, role, movable)
    if not slots:
        return 0
    options = _options(problem, state, by_id, known, movable, slots)
    index = {slot: i for i, slot in enumerate(sorted({s for arcs in options.values() for s, _ in arcs}))}
    n, m = len(movable), len(index)
    source, sink = n + m, n + m + 1
    tails, heads, caps, costs = [], [], [], []
    for i, visit_id in enumerate(movable):
        tails.append(source), heads.append(i), caps.append(1), costs.append(0)
        for slot, cost in options[visit_id]:
            tails.append(i), heads.append(n + index[slot]), caps.append(1), costs.append(cost)
    for j in range(m):
        tails.append(n + j), heads.append(sink), caps.append(1), costs.append(0)
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(np.array(tails), np.array(heads), np.array(caps), np.array(costs))
    supplies = np.zeros(n + m + 2, dtype=np.int64)
    supplies[source], supplies[sink] = n, -n
    flow.set_nodes_supplies(np.arange(n + m + 2), supplies)
    if flow.solve() != flow.OPTIMAL:
        return 0
    slot_of = {j: slot for slot, j in index.items()}
    chosen: dict[str, tuple[str, HalfDay]] = {}
    for arc in arcs:
        tail, head = flow.tail(arc), flow.head(arc)
        if tail < n and n <= head < n + m and flow.flow(arc) > 0:
            chosen[movable[tail]] = slot_of[head - n]
    return _apply(state, role, chosen)


def _slots(problem: PlanningProblem, state: _State, role: str, movable: list[str]) -> dict[str, list[HalfDay]]:
    """Per person of the role: the half-days free or held by a movable session, sorted."""
    held: dict[str, set[HalfDay]] = defaultdict(set)
    for visit_id in movable:
        held[state.staff[visit_id][role]].add(state.days[visit_id])
    slots = {}
    for person in problem.persons:
        if person.role == role:
            busy = state.busy.get(person.staff_id, set()) - held[person.staff_id]
            slots[person.staff_id] = sorted(h for h in problem.available.get(person.staff_id, ()) if h not in busy)
    return slots


def _options(problem: PlanningProblem, state: _State, by_id: dict[str, Visit], known: dict[str, HalfDay],
             movable: list[str], slots: dict[str, list[HalfDay]]) -> dict[str, list[tuple[tuple[str, HalfDay], int]]]:
    """Each movable session's allowed slots with their cost; its own slot always among them."""
    followers = followers_of(by_id.values())
    deadlines = followers_deadlines(list(by_id.values()))
    seen = seen_by_role(state, by_id)
    days = {**known, **state.days}
    moving = set(movable)
    options = {}
    for visit_id in movable:
        visit, half = by_id[visit_id], state.days[visit_id]
        role = next(iter(visit.roles))
        own = state.staff[visit_id][role]
        first, last = max(visit.earliest, half.day - REACH), min(visit.latest, half.day + REACH)
        if any(b in moving for b, _ in visit.after):
            first = max(first, half.day)  # its earlier dose may move earlier: this one only later
        if any(f in moving for f, _ in followers[visit_id]):
            last = min(last, half.day)  # its later dose may move later: this one only earlier
        if any(f not in days for f, _ in followers[visit_id]) and visit_id in deadlines:
            last = min(last, deadlines[visit_id])
        arcs = [((own, half), round(SCALE * (session_cost(problem, visit, own, half, seen) - STAY_BONUS)))]
        here = _half_costs(problem, visit, slots, first, last, days, followers, seen)
        for person, halves in slots.items():
            if person in visit.excluded_staff:
                continue
            travel = person_cost(problem, visit, problem.person(person))
            start = bisect.bisect_left(halves, HalfDay(first, "am"))
            for other in halves[start:]:
                if other.day > last:
                    break
                if other in here and (person, other) != (own, half):
                    arcs.append(((person, other), round(SCALE * (travel + here[other]))))
        options[visit_id] = arcs
    return options


def _half_costs(problem: PlanningProblem, visit: Visit, slots: dict[str, list[HalfDay]], first: dt.date,
                last: dt.date, days: dict[str, HalfDay], followers: dict, seen: dict) -> dict[HalfDay, float]:
    """The half-days between `first` and `last` this session may have (whoever does it), each with
    the part of its cost that does not depend on the person (lateness, parts apart)."""
    role = next(iter(visit.roles))
    costs: dict[HalfDay, float] = {}
    halves = sorted({h for hs in slots.values() for h in hs if first <= h.day <= last})
    for half in halves:
        if visit.minutes <= problem.block_minutes[half.part] and guest_fits(problem, visit, half, "", days, followers):
            costs[half] = early_cost(problem, half) + problem.weights["apart"] * parts_apart(visit, role, half, seen)
    return costs


def _apply(state: _State, role: str, chosen: dict[str, tuple[str, HalfDay]]) -> int:
    """Free every moved session's old half-day, then place each on its new one."""
    moved = {v: slot for v, slot in chosen.items() if slot != (state.staff[v][role], state.days[v])}
    for visit_id in moved:
        state.busy[state.staff[visit_id][role]].discard(state.days[visit_id])
    for visit_id, (person, half) in moved.items():
        state.place(visit_id, half, {role: person})
    return len(moved)
