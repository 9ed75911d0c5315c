"""The planner's orchestration.

1. Stage 1 (staffing, CP-SAT): teams, and the person per role of every school.
2. A complete plan at once: each team's visits on their earliest feasible half-days.
3. Stage 2 (CP-SAT per team): every team's year improved in its own model. Teams share no
   people, so their models run side by side, one per worker thread, each single-threaded with a
   deterministic work budget: the plan depends on the inputs and the seed only.
4. Visits whose people span teams (a substitute because parents object to the school's person,
   or a role too rare to give every team one) are placed last, around everything else.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from clbhealth.scheduler.calendar import HalfDay
from clbhealth.scheduler.model import Placement, PlanningProblem, Visit
from clbhealth.scheduler.solver import Progress, StageResult
from clbhealth.scheduler.staffing import Staffing, staff_schools
from clbhealth.scheduler.timetable import Timetable, matching_fit, timetable_team

STAFFING_SHARE = 0.08
CROSS_TEAM = -1


@dataclass
class SolveOptions:
    seconds: float = 60.0
    seed: int = 1
    workers: int = 2


@dataclass
class PlanResult:
    """The solved plan and how it was found."""

    placements: dict[str, Placement]  # visit_id -> placement
    unplanned: dict[str, str]  # visit_id -> reason
    visits: dict[str, Visit]
    staffing: Staffing
    stages: list[StageResult] = field(default_factory=list)
    first_complete_seconds: float = 0.0
    seconds: float = 0.0
    history: list[tuple[float, float]] = field(default_factory=list)  # (seconds, whole-plan stage-2 objective)


def assign_staff(problem: PlanningProblem, staffing: Staffing) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """The people of each visit: the school's person per role, or the nearest colleague when a
    pupil's parents object to that person (preferring the same team)."""
    staff_of: dict[str, dict[str, str]] = {}
    impossible: dict[str, str] = {}
    team_of_person = {p: t.index for t in staffing.teams for p in t.members}
    for visit in problem.visits:
        team = staffing.team_of_school.get(visit.school_id)
        chosen = {}
        for role in sorted(visit.roles):
            person = staffing.person_for.get((visit.school_id, role))
            if person is None or person in visit.excluded_staff:
                others = [p for p in problem.persons if p.role == role and p.staff_id not in visit.excluded_staff]
                others.sort(key=lambda p: (team_of_person.get(p.staff_id) != team,
                                           problem.km[(p.staff_id, visit.school_id)], p.staff_id))
                if not others:
                    impossible[visit.visit_id] = f"every {role} is excluded by an objection of a pupil in it"
                    break
                person = others[0].staff_id
            chosen[role] = person
        staff_of[visit.visit_id] = chosen
    return staff_of, impossible


def group_visits(problem: PlanningProblem, staffing: Staffing, staff_of: dict[str, dict[str, str]],
                 impossible: dict[str, str]) -> dict[int, list[Visit]]:
    """Visits per team; a visit with people of several teams (and all it depends on) goes to CROSS_TEAM."""
    team_of_person = {p: t.index for t in staffing.teams for p in t.members}
    groups: dict[int, list[Visit]] = defaultdict(list)
    group_of: dict[str, int] = {}
    for visit in problem.visits:
        if visit.visit_id in impossible:
            continue
        teams = {team_of_person.get(p, CROSS_TEAM) for p in staff_of[visit.visit_id].values()}
        group_of[visit.visit_id] = teams.pop() if len(teams) == 1 else CROSS_TEAM
    # A follow-up visit must be solved with the visits it follows.
    changed = True
    by_id = {v.visit_id: v for v in problem.visits}
    while changed:
        changed = False
        for visit in problem.visits:
            if visit.visit_id not in group_of:
                continue
            for before, _ in visit.after:
                if before in group_of and group_of[before] != group_of[visit.visit_id]:
                    group_of[before] = group_of[visit.visit_id] = CROSS_TEAM
                    changed = True
    for visit_id, group in group_of.items():
        groups[group].append(by_id[visit_id])
    return groups


def solve(problem: PlanningProblem, options: SolveOptions, *, progress: Progress | None = None,
          previous_staff: dict[tuple[str, str], str] | None = None) -> PlanResult:
    started = time.monotonic()
    budget = max(options.seconds, 1.0)
    staffing = staff_schools(problem, seconds=max(0.5, budget * STAFFING_SHARE), seed=options.seed,
                             workers=1, previous=previous_staff, progress=progress)
    stages: list[StageResult] = [staffing.result] if staffing.result else []
    staff_of, impossible = assign_staff(problem, staffing)
    by_id = {v.visit_id: v for v in problem.visits}
    groups = group_visits(problem, staffing, staff_of, impossible)
    pinned_busy: dict[str, set[HalfDay]] = defaultdict(set)
    fixed: dict[str, HalfDay] = {p.visit_id: p.half for p in problem.pinned}
    for placement in problem.pinned:
        for person in placement.staff.values():
            pinned_busy[person].add(placement.half)

    # 2. A complete plan at once.
    days: dict[str, HalfDay] = {}
    busy = _copy(pinned_busy)
    for group in sorted(groups, key=lambda g: (g == CROSS_TEAM, g)):
        visits = groups[group]
        local = {v.visit_id: v for v in visits}
        from clbhealth.scheduler.timetable import candidate_half_days

        candidates = {}
        for visit in visits:
            found = candidate_half_days(problem, visit, staff_of[visit.visit_id], busy)
            if found:
                candidates[visit.visit_id] = found
        first = matching_fit(visits, candidates, staff_of, local, fixed)
        for visit_id, half in first.items():
            days[visit_id] = half
            for person in staff_of[visit_id].values():
                busy[person].add(half)
    first_complete = time.monotonic() - started
    history = [(first_complete, _objective(problem, by_id, days))]
    if progress is not None:
        progress("first complete plan", history[-1][1], None)

    # 3. Each team's year in its own CP-SAT model, side by side.
    teams = [g for g in sorted(groups) if g != CROSS_TEAM]
    left = max(budget - (time.monotonic() - started), 0.5)
    workers = max(1, options.workers)
    work = sum(len(groups[g]) for g in groups) or 1
    cross_share = len(groups.get(CROSS_TEAM, [])) / work
    team_budget = left * (1 - cross_share) * workers
    results: dict[int, Timetable] = {}

    # The teams' models keep clear of the cross-team visits' current half-days, so that those
    # visits can stay where the complete plan put them.
    team_busy = _copy(pinned_busy)
    for visit in groups.get(CROSS_TEAM, []):
        if visit.visit_id in days:
            for person in staff_of[visit.visit_id].values():
                team_busy[person].add(days[visit.visit_id])

    def run(group: int) -> Timetable:
        visits = groups[group]
        seconds = max(0.2, team_budget * len(visits) / max(1, sum(len(groups[g]) for g in teams)))
        hint = {v.visit_id: days[v.visit_id] for v in visits if v.visit_id in days}
        return timetable_team(problem, visits, staff_of, team_busy, fixed, seconds=seconds, seed=options.seed,
                              workers=1, hint=hint, stage=f"timetable {group + 1}/{len(teams)}", progress=progress)

    if workers > 1 and len(teams) > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for group, timetable in zip(teams, pool.map(run, teams)):
                results[group] = timetable
    else:
        for group in teams:
            results[group] = run(group)
    reasons: dict[str, str] = dict(impossible)

    def adopt(visits: list[Visit], timetable: Timetable) -> None:
        """Take a model's days for its visits (those it left out lose their first-pass day)."""
        for visit in visits:
            days.pop(visit.visit_id, None)
        days.update(timetable.days)
        reasons.update(timetable.unplanned)
        if timetable.result:
            stages.append(timetable.result)

    for group, timetable in results.items():
        adopt(groups[group], timetable)
    history.append((time.monotonic() - started, _objective(problem, by_id, days)))

    # 4. Visits across teams, around everything placed so far.
    if CROSS_TEAM in groups:
        visits = groups[CROSS_TEAM]
        busy = _copy(pinned_busy)
        for visit_id, half in days.items():
            if by_id[visit_id] not in visits:
                for person in staff_of[visit_id].values():
                    busy[person].add(half)
        seconds = max(0.2, left * cross_share)
        hint = {v.visit_id: days[v.visit_id] for v in visits if v.visit_id in days}
        timetable = timetable_team(problem, visits, staff_of, busy, {**fixed, **days}, seconds=seconds,
                                   seed=options.seed, workers=1, hint=hint, stage="timetable across teams",
                                   progress=progress)
        adopt(visits, timetable)
        history.append((time.monotonic() - started, _objective(problem, by_id, days)))
    for visit_id in days:
        reasons.pop(visit_id, None)
    for visit in problem.visits:
        if visit.visit_id not in days and visit.visit_id not in reasons:
            reasons[visit.visit_id] = "not placed"
    placements = {visit_id: Placement(visit_id, half, staff_of[visit_id]) for visit_id, half in days.items()}
    return PlanResult(placements, reasons, by_id, staffing, stages, first_complete, time.monotonic() - started,
                      history)


def _copy(busy: dict[str, set[HalfDay]]) -> dict[str, set[HalfDay]]:
    result: dict[str, set[HalfDay]] = defaultdict(set)
    for person, halves in busy.items():
        result[person] = set(halves)
    return result


def _objective(problem: PlanningProblem, by_id: dict[str, Visit], days: dict[str, HalfDay]) -> float:
    """Stage 2's objective over the whole plan: unplanned work and lateness (for progress over time)."""
    if not problem.half_days:
        return 0.0
    first = problem.half_days[0].day
    unplanned = sum(v.pupil_moments for v_id, v in by_id.items() if v_id not in days)
    weeks = sum((half.day - first).days // 7 for half in days.values())
    return problem.weights["unplanned"] * unplanned + problem.weights["early"] * weeks


def plan_metrics(problem: PlanningProblem, result: PlanResult) -> dict:
    """Every soft goal's value, the load per person and how the solve went (for the summary)."""
    placements = result.placements
    by_id = result.visits
    first = problem.half_days[0].day if problem.half_days else None
    travel = sum(problem.km[(p, by_id[v].school_id)] for v, pl in placements.items() for p in pl.staff.values())
    per_person: dict[str, int] = defaultdict(int)
    for placement in list(placements.values()) + list(problem.pinned):
        for person in placement.staff.values():
            per_person[person] += 1
    load = {}
    for person in problem.persons:
        available = len(problem.available.get(person.staff_id, ()))
        sessions = per_person.get(person.staff_id, 0)
        load[person.staff_id] = {"sessions": sessions, "available_half_days": available,
                                 "load_pct": round(100 * sessions / available, 1) if available else 0.0}
    spread = {}
    for role in sorted({p.role for p in problem.persons}):
        values = [load[p.staff_id]["load_pct"] for p in problem.persons
                  if p.role == role and load[p.staff_id]["available_half_days"]]
        if len(values) > 1:
            spread[role] = round(max(values) - min(values), 1)
    fixed_for: dict[tuple[str, str], set[str]] = defaultdict(set)
    for person in problem.persons:
        for school in person.fixed_schools:
            fixed_for[(school, person.role)].add(person.staff_id)
    misses = 0
    for visit_id, placement in placements.items():
        school = by_id[visit_id].school_id
        for role, person in placement.staff.items():
            if fixed_for.get((school, role)) and person not in fixed_for[(school, role)]:
                misses += 1
    weeks = [(pl.half.day - first).days // 7 for pl in placements.values()] if first else []
    visited: dict[str, set[HalfDay]] = defaultdict(set)
    for visit_id, placement in placements.items():
        visited[by_id[visit_id].school_id].add(placement.half)
    terms = {
        "unplanned": sum(by_id[v].pupil_moments for v in result.unplanned if v in by_id),
        "visits": sum(len(h) for h in visited.values()),
        "travel": round(travel, 1),
        "balance": round(sum(spread.values()), 1),
        "continuity": misses,
        "early": sum(weeks),
    }
    weights = problem.weights
    return {
        "sessions": len(placements),
        "terms": terms,
        "weights": dict(weights),
        "objective": round(sum(weights[k] * v for k, v in terms.items()), 1),
        "load": load,
        "balance_spread_pct": spread,
        "mean_week": round(sum(weeks) / len(weeks), 1) if weeks else 0.0,
        "first_complete_seconds": round(result.first_complete_seconds, 2),
        "seconds": round(result.seconds, 2),
        "history": [(round(t, 2), round(o, 1)) for t, o in result.history],
        "stages": [{"stage": s.stage, "status": s.status, "objective": _num(s.objective), "bound": _num(s.bound),
                    "seconds": round(s.seconds, 2), **({"terms": s.terms} if s.terms else {})} for s in result.stages],
    }


def _num(value: float | None) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else round(value, 1)
