"""The baseline a planner makes by hand: class by class, school by school, each session on the
earliest half-day where the nearest free person of each role can go. Used to judge the solver."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from clbhealth.scheduler.calendar import HalfDay, add_months
from clbhealth.scheduler.model import PlanningProblem, Task, Visit


@dataclass
class GreedyPlan:
    visits: list[Visit]
    days: dict[str, HalfDay]
    staff: dict[str, dict[str, str]]
    unplanned: list[str]

    def travel_km(self, problem: PlanningProblem) -> float:
        return sum(problem.km[(p, v.school_id)] for v in self.visits if v.visit_id in self.days
                   for p in self.staff[v.visit_id].values())

    def unplanned_pupil_moments(self) -> int:
        by_id = {v.visit_id: v for v in self.visits}
        return sum(by_id[v].pupil_moments for v in self.unplanned)


def class_by_class_visits(tasks: list[Task], capacity: int, setup: int) -> list[Visit]:
    """One session per class and moment (split when a class does not fit a block)."""
    jobs: dict[tuple, list[Task]] = defaultdict(list)
    for task in tasks:
        jobs[(task.school_id, task.bundle, "+".join(sorted(task.roles)), task.class_name, task.earliest,
              task.latest)].append(task)
    visits = []
    for (school, bundle, roles, class_name, earliest, latest), job in sorted(jobs.items()):
        job.sort(key=lambda t: t.pupil_id)
        chunk: list[Task] = []
        used = 0
        number = 0
        for task in job:
            if chunk and used + task.minutes > capacity:
                number += 1
                visits.append(_visit(school, bundle, f"{class_name}/{roles}", number, chunk, earliest, latest, setup))
                chunk, used = [], 0
            chunk.append(task)
            used += task.minutes
        if chunk:
            number += 1
            visits.append(_visit(school, bundle, f"{class_name}/{roles}", number, chunk, earliest, latest, setup))
    return visits


def _visit(school, bundle, class_name, number, tasks, earliest, latest, setup) -> Visit:
    return Visit(visit_id=f"G:{school}/{bundle}/{class_name}/{earliest:%m%d}/{number}", school_id=school,
                 tasks=list(tasks), roles=frozenset().union(*(t.roles for t in tasks)), earliest=earliest,
                 latest=latest, setup=setup, bundle=bundle)


def greedy_plan(problem: PlanningProblem, visits: list[Visit]) -> GreedyPlan:
    """Earliest feasible half-day, school by school, nearest free person per role."""
    busy: dict[str, set[HalfDay]] = defaultdict(set)
    for placement in problem.pinned:
        for person in placement.staff.values():
            busy[person].add(placement.half)
    by_role: dict[str, list[str]] = defaultdict(list)
    for person in problem.persons:
        by_role[person.role].append(person.staff_id)
    days: dict[str, HalfDay] = {}
    staff: dict[str, dict[str, str]] = {}
    unplanned: list[str] = []
    fixed = {p.visit_id: p.half for p in problem.pinned}
    by_id = {v.visit_id: v for v in visits}

    def depth(visit: Visit) -> int:
        return 1 + max((depth(by_id[b]) for b, _ in visit.after if b in by_id), default=-1)

    order = sorted(visits, key=lambda v: (depth(v), v.school_id, v.earliest, v.visit_id))
    for visit in order:
        earliest = visit.earliest
        if any(b not in days and b not in fixed for b, _ in visit.after):
            unplanned.append(visit.visit_id)
            continue
        for before, months in visit.after:
            earliest = max(earliest, add_months((days.get(before) or fixed[before]).day, months))
        people_by_role = {
            role: sorted((p for p in by_role[role] if p not in visit.excluded_staff),
                         key=lambda p: (problem.km[(p, visit.school_id)], p))
            for role in visit.roles
        }
        closed = problem.closed.get(visit.school_id, set())
        placed = False
        for half in problem.half_days:
            if half.day < earliest or half.day > visit.latest or half in closed:
                continue
            if visit.minutes > problem.block_minutes[half.part] or not problem.allowed(visit, half):
                continue
            team = {}
            for role, people in people_by_role.items():
                free = next((p for p in people if half in problem.available.get(p, ()) and half not in busy[p]), None)
                if free is None:
                    break
                team[role] = free
            if len(team) == len(visit.roles):
                days[visit.visit_id] = half
                staff[visit.visit_id] = team
                for person in team.values():
                    busy[person].add(half)
                placed = True
                break
        if not placed:
            unplanned.append(visit.visit_id)
    return GreedyPlan(visits, days, staff, unplanned)
