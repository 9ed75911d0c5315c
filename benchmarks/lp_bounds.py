"""Bounds computed here, in the benchmarks, with their own code (not the planner's), to judge it.

- km: an LP (GLOP). For the work a plan does, each (school, role) needs at least ceil(its minutes /
  the room of one block) sessions (a session holds at most one block of work); any person of the
  role may do them within the minutes of their half-days (two schools may share a half-day);
  every session is priced as one round trip from the person's base. No plan drives less in that
  pricing; a shared half-day drives less than two round trips, so the plan's km is compared as
  round trips (its real km is lower still).
- km of the best assignment of the plan's own visits (a diagnostic, not a bound on every plan):
  each visit, as the plan cut it, goes to one person of each of its roles (fractions allowed),
  at most one visit per available half-day (a morning-only visit on a morning). Against it the
  plan's person choice is judged; against the km LP the plan's cutting of the work into visits.
- coverage: the planner's own LP bound is reported by the plan; here a second, cruder one counts
  each role's minutes against all free minutes of that role over the year, so the two can be compared.
"""

from __future__ import annotations

import math
from collections import defaultdict

from ortools.linear_solver import pywraplp


def km_lower_bound(problem, visits, capacity: int) -> float:
    minutes: dict[tuple[str, str], float] = defaultdict(float)
    for visit in visits:
        for task in visit.tasks:
            for role in task.roles:
                minutes[(visit.school_id, role)] += task.minutes
    solver = pywraplp.Solver.CreateSolver("GLOP")
    work_of: dict[str, list] = defaultdict(list)
    cost = []
    for (school, role), total in minutes.items():
        people = [p for p in problem.persons if p.role == role and problem.available.get(p.staff_id)]
        if not people:
            continue
        share = [solver.NumVar(0, solver.infinity(), "") for _ in people]  # sessions
        done = [solver.NumVar(0, solver.infinity(), "") for _ in people]  # minutes of work
        solver.Add(sum(share) >= math.ceil(total / capacity - 1e-9))
        solver.Add(sum(done) >= total)
        for person, var, work in zip(people, share, done):
            solver.Add(work <= capacity * var)  # a session holds at most one block of work
            work_of[person.staff_id].append(work)
            cost.append(problem.km[(person.staff_id, school)] * var)
    for staff_id, variables in work_of.items():
        # Minutes, not sessions: two schools may share one half-day.
        solver.Add(sum(variables) <= capacity * len(problem.available[staff_id]))
    solver.Minimize(sum(cost))
    solver.Solve()
    return solver.Objective().Value()


def coverage_by_minutes(problem, visits, setup: int) -> dict[str, float]:
    """Per role: the share of its due minutes that all its free minutes of the year could cover."""
    need: dict[str, float] = defaultdict(float)
    for visit in visits:
        for task in visit.tasks:
            for role in task.roles:
                need[role] += task.minutes
    free: dict[str, float] = defaultdict(float)
    for person in problem.persons:
        for half in problem.available.get(person.staff_id, ()):
            free[person.role] += problem.block_minutes[half.part] - setup
    return {role: min(1.0, free[role] / need[role]) if need[role] else 1.0 for role in need}


def _earliest(problem, visits) -> dict:
    """Each visit's first possible day: its window's start, or a later dose's interval after the
    first possible day of the dose it follows (months added by calendar)."""
    by_id = {v.visit_id: v for v in problem.visits}
    by_id.update({v.visit_id: v for v in visits})
    days: dict = {}

    def first(visit, depth=0):
        if visit.visit_id not in days:
            day = visit.earliest
            for before, months in visit.after:
                if before in by_id and depth < 10:
                    day = max(day, _add_months(first(by_id[before], depth + 1), months))
            days[visit.visit_id] = day
        return days[visit.visit_id]

    for visit in visits:
        first(visit)
    return days


def _add_months(day, months: int):
    import calendar
    import datetime as dt

    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def km_lower_bound_by_month(problem, visits, capacity: int, only_role: str | None = None) -> float:
    """The km LP above with the calendar added: each visit's work falls in the months of its
    window; a person's sessions in a month and part of day are at most their available half-days
    then; an afternoon session holds at most an afternoon's room; the work of each window needs
    whole sessions inside it. Still a relaxation of every plan of the one-round-trip-per-session
    model, and a tighter one. With `only_role`, the bound on that role's km alone (roles share no person,
    so the bounds of the roles add up to the whole)."""
    month_of = lambda day: (day.year, day.month)  # noqa: E731
    months = sorted({month_of(h.day) for h in problem.half_days})
    setup = max(0, max(problem.block_minutes.values()) - capacity)
    room = {part: max(0, minutes - setup) for part, minutes in problem.block_minutes.items()}
    work: dict[tuple[str, str, tuple], float] = defaultdict(float)
    total: dict[tuple[str, str], float] = defaultdict(float)
    first_day = _earliest(problem, visits)
    for visit in visits:
        window = tuple(m for m in months if month_of(first_day[visit.visit_id]) <= m <= month_of(visit.latest))
        for task in visit.tasks:
            for role in task.roles:
                work[(visit.school_id, role, window)] += task.minutes
                total[(visit.school_id, role)] += task.minutes
    solver = pywraplp.Solver.CreateSolver("GLOP")
    placed: dict[tuple[str, str, tuple], list] = defaultdict(list)  # (school, role, month) -> minute vars
    for (school, role, window), minutes in work.items():
        share = {m: solver.NumVar(0, solver.infinity(), "") for m in window}
        solver.Add(sum(share.values()) == minutes)
        for m, var in share.items():
            placed[(school, role, m)].append(var)
    people_of = {r: [p for p in problem.persons if p.role == r and problem.available.get(p.staff_id)
                     and only_role in (None, r)] for r in {r for _, r in total}}
    sessions: dict[tuple[str, str], list] = defaultdict(list)
    in_month: dict[tuple[str, str, tuple], list] = defaultdict(list)
    per_slot: dict[tuple[str, tuple, str], list] = defaultdict(list)  # minutes of work per person, month, part
    cost = []
    for (school, role, m), minute_vars in placed.items():
        if not people_of[role]:
            continue  # no one of the role: not this bound's work
        held = []
        for person in people_of[role]:
            for part in room:
                var = solver.NumVar(0, solver.infinity(), "")  # sessions
                done = solver.NumVar(0, solver.infinity(), "")  # minutes of work in them
                solver.Add(done <= room[part] * var)
                held.append(done)
                sessions[(school, role)].append(var)
                in_month[(school, role, m)].append(var)
                per_slot[(person.staff_id, m, part)].append(done)
                cost.append(problem.km[(person.staff_id, school)] * var)
        solver.Add(sum(held) >= sum(minute_vars))
    for (school, role), variables in sessions.items():
        solver.Add(sum(variables) >= math.ceil(total[(school, role)] / capacity - 1e-9))
    # Whole sessions per window: the work whose months lie inside a window needs at least
    # ceil(its minutes / a block's room) sessions in those months (HPV2 months after HPV1 cannot
    # share HPV1's sessions).
    for (school, role, window), _ in work.items():
        if not people_of[role]:
            continue
        inside = sum(minutes for (s2, r2, w2), minutes in work.items()
                     if s2 == school and r2 == role and set(w2) <= set(window))
        needed = math.ceil(inside / capacity - 1e-9)
        if needed > 1 or window != tuple(months):
            solver.Add(sum(v for m in window for v in in_month.get((school, role, m), ())) >= needed)
    available: dict[tuple[str, tuple, str], int] = defaultdict(int)
    for person in problem.persons:
        for half in problem.available.get(person.staff_id, ()):
            available[(person.staff_id, month_of(half.day), half.part)] += 1
    for (staff_id, m, part), variables in per_slot.items():
        # Minutes, not sessions: two schools may share one half-day.
        solver.Add(sum(variables) <= room[part] * available.get((staff_id, m, part), 0))
    solver.Minimize(sum(cost))
    if solver.Solve() != pywraplp.Solver.OPTIMAL:
        return float("nan")
    return solver.Objective().Value()


def km_of_best_assignment(problem, visits) -> float:
    """The least round-trip km of these visits, each to one person per role (fractions allowed),
    one visit per available half-day and person, a morning-only visit on a morning (an LP)."""
    solver = pywraplp.Solver.CreateSolver("GLOP")
    per_person: dict[str, list] = defaultdict(list)
    mornings: dict[str, list] = defaultdict(list)
    cost = []
    for visit in visits:
        morning_only = visit.minutes > problem.block_minutes.get("pm", 0)
        for role in sorted(visit.roles):
            people = [p for p in problem.persons if p.role == role and problem.available.get(p.staff_id)
                      and p.staff_id not in visit.excluded_staff]
            if not people:
                continue
            share = [solver.NumVar(0, 1, "") for _ in people]
            solver.Add(sum(share) == 1)
            for person, var in zip(people, share):
                per_person[person.staff_id].append(var)
                if morning_only:
                    mornings[person.staff_id].append(var)
                cost.append(problem.km[(person.staff_id, visit.school_id)] * var)
    for staff_id, variables in per_person.items():
        solver.Add(sum(variables) <= len(problem.available[staff_id]))
        if mornings.get(staff_id):
            solver.Add(sum(mornings[staff_id]) <= sum(1 for h in problem.available[staff_id] if h.part == "am"))
    solver.Minimize(sum(cost))
    solver.Solve()
    return solver.Objective().Value()
