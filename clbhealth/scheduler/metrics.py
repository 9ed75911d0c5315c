"""The plan measured: every soft goal's value (as declared in `goals.py`), load per person and
per role, and how the solve went. Used by the summary, the benchmarks and `plan explain`."""

from __future__ import annotations

import math
from collections import defaultdict

from clbhealth.scheduler.goals import GOALS, UNITS
from clbhealth.scheduler.model import PlanningProblem
from clbhealth.scheduler.solve import PlanResult


def goal_values(problem: PlanningProblem, result: PlanResult) -> dict[str, float]:
    """The value of every soft goal on this plan, in its own unit."""
    placements, by_id = result.placements, result.visits
    first = problem.half_days[0].day if problem.half_days else None
    travel = sum(problem.leg_km(p, pl, by_id) for pl in placements.values() for p in pl.staff.values())
    load = utilisation(problem, result)["per_person"]
    spread = 0.0
    for role in sorted({p.role for p in problem.persons}):
        values = [load[p.staff_id]["load_pct"] for p in problem.persons
                  if p.role == role and load[p.staff_id]["available_half_days"]]
        if len(values) > 1:
            spread += max(values) - min(values)
    fixed = problem.fixed_contacts
    misses = sum(1 for v, pl in placements.items() for role, person in pl.staff.items()
                 if fixed.get((by_id[v].school_id, role)) and person not in fixed[(by_id[v].school_id, role)])
    return {
        "unplanned": sum(by_id[v].pupil_moments for v in result.unplanned if v in by_id),
        "visits": len(_trips(result)),
        "travel": round(travel, 1),
        "balance": round(spread, 1),
        "continuity": misses,
        "early": sum((pl.half.day - first).days // 7 for pl in placements.values()) if first else 0,
        "apart": _apart(result),
        "moved": sum(1 for v, pl in placements.items() if by_id[v].previous is not None and by_id[v].previous != pl.half),
    }


def _trips(result: PlanResult) -> set[tuple]:
    """Each (person, half-day, school) of the plan: one session of one person, however many visits
    (classes, doses) it holds; the unit of the goal `visits`."""
    return {(person, pl.half, result.visits[v].school_id) for v, pl in result.placements.items()
            for person in pl.staff.values()}


def _apart(result: PlanResult) -> int:
    """Pupils with a moment whose parts (the nurse's, the doctor's) are done at one school on
    different days. A later dose on its own day is not counted: its interval keeps it apart."""
    days: dict[tuple[str, int, str], set] = defaultdict(set)
    for visit_id, placement in result.placements.items():
        visit = result.visits[visit_id]
        for task in visit.tasks:
            for moment in task.moments:
                days[(visit.school_id, task.pupil_id, moment)].add(placement.half.day)
    return len({(school, pupil) for (school, pupil, _), d in days.items() if len(d) > 1})


def utilisation(problem: PlanningProblem, result: PlanResult) -> dict:
    """Half-days booked against half-days available, per person and per role (two schools on one
    half-day book it once)."""
    halves: dict[str, set] = defaultdict(set)
    for placement in list(result.placements.values()) + list(problem.pinned):
        for person in placement.staff.values():
            halves[person].add(placement.half)
    sessions = {person: len(booked) for person, booked in halves.items()}
    per_person, per_role = {}, defaultdict(lambda: [0, 0])
    for person in problem.persons:
        available = len(problem.available.get(person.staff_id, ()))
        booked = sessions.get(person.staff_id, 0)
        per_person[person.staff_id] = {"role": person.role, "sessions": booked, "available_half_days": available,
                                       "load_pct": round(100 * booked / available, 1) if available else 0.0}
        per_role[person.role][0] += booked
        per_role[person.role][1] += available
    roles = {role: {"sessions": b, "available_half_days": a, "load_pct": round(100 * b / a, 1) if a else 0.0}
             for role, (b, a) in sorted(per_role.items())}
    return {"per_person": per_person, "per_role": roles}


def plan_metrics(problem: PlanningProblem, result: PlanResult) -> dict:
    """Every soft goal's value and weight, the load per person and role, how the solve went."""
    terms = goal_values(problem, result)
    weights = {goal.name: problem.weights.get(goal.name, goal.weight) for goal in GOALS}
    use = utilisation(problem, result)
    first = problem.half_days[0].day if problem.half_days else None
    weeks = [(pl.half.day - first).days // 7 for pl in result.placements.values()] if first else []
    return {
        "sessions": len(result.placements),
        "shared_half_days": sum(1 for pl in result.placements.values() if pl.after_visit is not None),
        # Every session priced as one round trip from the base: the pricing of the travel bound.
        "round_trip_km": round(sum(problem.km[(p, school)] for p, _, school in _trips(result)), 1),
        "terms": terms,
        "weights": weights,
        "units": dict(UNITS),
        "objective": round(sum(weights[k] * v for k, v in terms.items()), 1),
        "load": use["per_person"],
        "utilisation": use["per_role"],
        "mean_week": round(sum(weeks) / len(weeks), 1) if weeks else 0.0,
        "first_complete_seconds": round(result.first_complete_seconds, 2),
        "seconds": round(result.seconds, 2),
        "history": [(round(t, 2), round(o, 1)) for t, o in result.history],
        "stages": [{"stage": s.stage, "status": s.status, "objective": _num(s.objective), "bound": _num(s.bound),
                    "seconds": round(s.seconds, 2)} for s in result.stages],
    }


def _num(value: float | None) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else round(value, 1)
