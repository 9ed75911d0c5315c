"""Bounds computed here, in the benchmarks, with their own code (not the planner's), to judge it.

- km: an LP (GLOP). For the work a plan does, each (school, role) needs at least ceil(its minutes /
  the room of one block) sessions (a session holds at most one block of work); any person of the
  role may do them within their half-days; every session is one round trip from the person's base.
  No plan of this model (a session is one person at one school in one half-day) drives less.
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
    load: dict[str, list] = defaultdict(list)
    cost = []
    for (school, role), total in minutes.items():
        people = [p for p in problem.persons if p.role == role and problem.available.get(p.staff_id)]
        if not people:
            continue
        share = [solver.NumVar(0, solver.infinity(), "") for _ in people]
        solver.Add(sum(share) == math.ceil(total / capacity - 1e-9))
        for person, var in zip(people, share):
            load[person.staff_id].append(var)
            cost.append(problem.km[(person.staff_id, school)] * var)
    for staff_id, variables in load.items():
        solver.Add(sum(variables) <= len(problem.available[staff_id]))
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
