"""Lower bounds computed without the CP-SAT models, so that a reported gap means something.

- visits: per school, the pupil-minutes of each group of overlapping windows over the room of
  one morning block (no plan can do that work in fewer visits);
- travel: the cheapest way to send, for every school and role, at least the number of visits
  that role's work needs there, to people of that role within the minutes of their available
  half-days, each visit priced one round trip (an LP; it ignores days and teams, so no plan priced
  that way drives less; a shared half-day drives less than its round trips).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict

from clbhealth.scheduler.demand import visits_lower_bound
from clbhealth.scheduler.model import PlanningProblem, Visit


def visits_bound(visits: list[Visit], capacity: int) -> int:
    return sum(visits_lower_bound(visits, capacity).values())


def role_visits_needed(visits: list[Visit], capacity: int) -> dict[tuple[str, str], int]:
    """Per (school, role): the fewest visits with that role present that can do its minutes."""
    minutes: dict[tuple[str, str], int] = defaultdict(int)
    for visit in visits:
        for task in visit.tasks:
            for role in task.roles:
                minutes[(visit.school_id, role)] += task.minutes
    return {key: math.ceil(m / capacity) for key, m in minutes.items()}


def travel_bound(problem: PlanningProblem, visits: list[Visit], capacity: int) -> float:
    """Km of the cheapest way to send the needed role-visits to people, priced one round trip each (an LP).

    A person's work is limited by the minutes of their available half-days, not by the number of
    half-days, because two schools may share one half-day; no plan priced that way drives less.
    """
    from ortools.linear_solver import pywraplp

    need = role_visits_needed(visits, capacity)
    if not need:
        return 0.0
    minutes: dict[tuple[str, str], int] = defaultdict(int)
    for visit in visits:
        for task in visit.tasks:
            for role in task.roles:
                minutes[(visit.school_id, role)] += task.minutes
    people = [p for p in problem.persons if len(problem.available.get(p.staff_id, ())) > 0]
    solver = pywraplp.Solver.CreateSolver("GLOP")
    work_of: dict[str, list] = defaultdict(list)
    cost = []
    for (school, role), sessions in sorted(need.items()):
        mine = [p for p in people if p.role == role]
        if not mine:
            return 0.0
        count = [solver.NumVar(0, solver.infinity(), "") for _ in mine]
        done = [solver.NumVar(0, solver.infinity(), "") for _ in mine]
        solver.Add(sum(count) >= sessions)
        solver.Add(sum(done) >= minutes[(school, role)])
        for person, n, work in zip(mine, count, done):
            solver.Add(work <= capacity * n)
            work_of[person.staff_id].append(work)
            cost.append(problem.km[(person.staff_id, school)] * n)
    for person in people:
        if work_of.get(person.staff_id):
            solver.Add(sum(work_of[person.staff_id]) <= capacity * len(problem.available[person.staff_id]))
    solver.Minimize(sum(cost))
    if solver.Solve() != pywraplp.Solver.OPTIMAL:
        return 0.0
    return solver.Objective().Value()


def coverage_bound(problem: PlanningProblem, visits: list[Visit], earliest: dict[str, dt.date], setup: int,
                   busy: dict | None = None) -> dict:
    """The most pupil-moments any plan can do with these people (an LP, GLOP; not the solver's own).

    Relaxation: each role's free half-days per month give (block - set-up) minutes of work; a
    pupil-moment counts only when every part of it (each role's task holding it) is done, inside
    its window (a later dose from its interval after the earliest first dose, and only for the
    pupils whose dose it follows is done too). Travel, days, schools
    and whole pupils are relaxed, so no plan does more. Returns the bound, per role and month the
    minutes needed and free, and which role-months are short (the binding ones).
    """
    from ortools.linear_solver import pywraplp

    supply = _free_minutes(problem, setup, busy or {})
    months = sorted({m for _, m in supply} | {(h.day.year, h.day.month) for h in problem.half_days})
    # Profiles: pupils with the same tasks (roles, moments, minutes, months) are one LP variable.
    pupil_tasks: dict[tuple[str, int], list[tuple]] = defaultdict(list)
    for visit in visits:
        first = earliest.get(visit.visit_id, visit.earliest)
        span = tuple(m for m in months if dt.date(m[0], m[1], 1) <= visit.latest and _month_end(m) >= first)
        for task in visit.tasks:
            pupil_tasks[(visit.school_id, task.pupil_id)].append(
                (tuple(sorted(task.roles)), task.moments, task.minutes, span, tuple(c for c, _ in task.follow_ups)))
    profiles: dict[tuple, int] = defaultdict(int)
    for tasks in pupil_tasks.values():
        profiles[_with_predecessors(sorted(tasks))] += 1
    solver = pywraplp.Solver.CreateSolver("GLOP")
    use: dict[tuple[str, tuple[int, int]], list] = defaultdict(list)
    objective = []
    for tasks, count in sorted(profiles.items(), key=lambda item: repr(item[0])):  # None and indices mix
        done = [solver.NumVar(0, count, "") for _ in tasks]
        moments = sorted({m for _, ms, _, _, _ in tasks for m in ms})
        for moment in moments:
            z = solver.NumVar(0, count, "")
            for t_index, (_, ms, _, _, _) in enumerate(tasks):
                if moment in ms:
                    solver.Add(z <= done[t_index])
            objective.append(z)
        for t_index, (roles, _, minutes, span, before) in enumerate(tasks):
            if before is not None:
                solver.Add(done[t_index] <= done[before])  # a later dose only after the one it follows
            if not span:
                solver.Add(done[t_index] == 0)
                continue
            flows = {m: solver.NumVar(0, solver.infinity(), "") for m in span}
            solver.Add(sum(flows.values()) == done[t_index] * minutes)
            for role in roles:
                for m, var in flows.items():
                    use[(role, m)].append(var)
    constraints = {key: solver.Add(sum(vars_) <= supply.get(key, 0.0)) for key, vars_ in use.items()}
    solver.Maximize(sum(objective))
    solver.Solve()
    total = sum(len({m for _, ms, _, _, _ in tasks for m in ms}) * count for tasks, count in profiles.items())
    short = []
    for (role, month), constraint in sorted(constraints.items()):
        needed = sum(v.solution_value() for v in use[(role, month)])
        if constraint.dual_value() > 1e-6:
            short.append({"role": role, "month": f"{month[0]}-{month[1]:02d}",
                          "free_minutes": round(supply.get((role, month), 0.0)), "used_minutes": round(needed)})
    return {"pupil_moments": total, "at_most": int(math.floor(solver.Objective().Value() + 1e-6)), "short": short}


def _with_predecessors(tasks: list[tuple]) -> tuple:
    """One pupil's tasks, each with the index of the task holding the dose it follows (or None):
    HPV2 follows the task whose series goes on with HPV2, HPV3 the HPV2 task."""
    result = []
    for roles, moments, minutes, span, _ in tasks:
        before = None
        if len(moments) == 1:
            for index, (_, other_moments, _, _, chain) in enumerate(tasks):
                if chain and chain[0] == moments[0]:
                    before = index
                for code, following in zip(chain, chain[1:]):
                    if following == moments[0]:
                        before = next((i for i, t in enumerate(tasks) if t[1] == (code,)), before)
        result.append((roles, moments, minutes, span, before))
    return tuple(result)


def _free_minutes(problem: PlanningProblem, setup: int, busy: dict) -> dict[tuple[str, tuple[int, int]], float]:
    """(role, month) -> the minutes of work its people's free half-days can hold (after the notice day)."""
    supply: dict[tuple[str, tuple[int, int]], float] = defaultdict(float)
    for person in problem.persons:
        for half in problem.available.get(person.staff_id, ()):
            if problem.notice_day is not None and half.day < problem.notice_day:
                continue  # inside the notice period no new session may be planned
            if half not in busy.get(person.staff_id, ()):
                room = max(0, problem.block_minutes[half.part] - setup)
                supply[(person.role, (half.day.year, half.day.month))] += room
    return supply


def _month_end(month: tuple[int, int]) -> dt.date:
    year, number = month
    return dt.date(year + number // 12, number % 12 + 1, 1) - dt.timedelta(days=1)
