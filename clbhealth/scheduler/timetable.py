"""Stage 2 (CP-SAT, one model per person): the half-day of each of the person's visits.

One boolean per (visit, candidate half-day). A candidate lies in the visit's window and after the
notice day, the school is open, the block is long enough, the person works then, is not absent
and is not booked elsewhere. People share nothing here, so their models run side by side. Each
constraint family and soft goal is one function below.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from clbhealth.scheduler.calendar import HalfDay, add_months
from clbhealth.scheduler.model import PlanningProblem, Visit
from clbhealth.scheduler.solver import GapTracker, Reporter, StageResult, parameters, solve_model, status_name


@dataclass
class PersonPlan:
    """Stage 2's answer for one person."""

    days: dict[str, HalfDay]  # visit_id -> half-day
    unplanned: dict[str, str]  # visit_id -> reason
    result: StageResult | None = None


@dataclass
class PersonModel:
    """The inputs of one person's model."""

    staff_id: str
    visits: list[Visit]
    free: list[HalfDay]  # the person's free half-days
    earliest: dict[str, dt.date]  # per visit, after doses given or placed elsewhere
    same_day: dict[str, dict[HalfDay, int]] = field(default_factory=dict)  # visit -> {half: pupils seen there by others}
    hint: dict[str, HalfDay] = field(default_factory=dict)
    placed: frozenset[str] = frozenset()  # visits already placed elsewhere (earlier doses kept or planned)


def candidates(problem: PlanningProblem, visit: Visit, free: list[HalfDay], earliest: dt.date) -> list[HalfDay]:
    """The half-days on which this person could do this visit."""
    closed = problem.closed.get(visit.school_id, set())
    return [h for h in free if earliest <= h.day <= visit.latest and h not in closed
            and visit.minutes <= problem.block_minutes[h.part] and problem.allowed(visit, h)]


def each_visit_at_most_once(model: cp_model.CpModel, x: dict, planned: dict) -> None:
    """A visit takes place on at most one half-day (exactly one when planned)."""
    for visit_id, var in planned.items():
        model.Add(sum(x[visit_id].values()) == var)


def one_place_per_half_day(model: cp_model.CpModel, x: dict) -> None:
    """A person is at one school per half-day."""
    by_half: dict[HalfDay, list] = {}
    for options in x.values():
        for half, var in options.items():
            by_half.setdefault(half, []).append(var)
    for variables in by_half.values():
        if len(variables) > 1:
            model.AddAtMostOne(variables)


def dose_intervals(model: cp_model.CpModel, x: dict, planned: dict, by_id: dict[str, Visit], ordinal: dict) -> None:
    """A later dose comes its interval after the earlier one (HPV2 five months after HPV1), and only
    when the earlier one is planned: a compact encoding on day numbers, not pairs of half-days."""
    for visit_id in x:
        for before, months in by_id[visit_id].after:
            if before not in x:
                continue
            start = sum(ordinal[h.day] * var for h, var in x[visit_id].items())
            ready = sum(_ordinal_on_or_after(ordinal, add_months(h.day, months)) * var for h, var in x[before].items())
            model.AddImplication(planned[visit_id], planned[before])
            model.Add(start >= ready).OnlyEnforceIf(planned[visit_id])


def _ordinal_on_or_after(ordinal: dict[dt.date, int], day: dt.date) -> int:
    """The number of the first school day on or after `day` (one past the last when there is none)."""
    if day in ordinal:
        return ordinal[day]
    later = [i for d, i in ordinal.items() if d >= day]
    return min(later) if later else len(ordinal)


def unplanned_work(planned: dict, by_id: dict[str, Visit]):
    """Soft goal `unplanned`: pupil-moments of visits left out."""
    return sum(max(1, by_id[v].pupil_moments) * (1 - var) for v, var in planned.items())


def lateness(x: dict, first_day: dt.date):
    """Soft goal `early`: weeks after the start of the period."""
    return sum(((h.day - first_day).days // 7) * var for options in x.values() for h, var in options.items())


def moved_sessions(x: dict, planned: dict, by_id: dict[str, Visit]):
    """Soft goal `moved`: a kept session not on its announced half-day."""
    terms = []
    for visit_id, options in x.items():
        previous = by_id[visit_id].previous
        if previous is not None:
            terms.append(planned[visit_id] - (options[previous] if previous in options else 0))
    return sum(terms)


def parts_apart(x: dict, same_day: dict[str, dict[HalfDay, int]], by_id: dict[str, Visit]):
    """Soft goal `apart`: pupils whose other parts (the doctor's, the nurse's) are on another day."""
    terms = []
    for visit_id, options in x.items():
        seen = same_day.get(visit_id)
        if not seen:
            continue
        total = max(seen.values())
        for half, var in options.items():
            together = sum(n for h, n in seen.items() if h.day == half.day)
            terms.append(max(0, total - together) * var)
    return sum(terms)


def earliest_fit(problem: PlanningProblem, data: PersonModel) -> dict[str, HalfDay]:
    """The by-hand answer, in a blink: each visit on its earliest free candidate, earlier doses first
    (a later dose waits its interval). Stage 2's hint, and its answer when CP-SAT finds nothing better."""
    by_id = {v.visit_id: v for v in data.visits}
    taken: set[HalfDay] = set()
    days: dict[str, HalfDay] = {}

    def depth(visit: Visit) -> int:
        return 1 + max((depth(by_id[b]) for b, _ in visit.after if b in by_id), default=-1)

    for visit in sorted(data.visits, key=lambda v: (depth(v), v.latest, v.visit_id)):
        earliest = data.earliest[visit.visit_id]
        if any(b not in days and b not in data.placed for b, _ in visit.after):
            continue  # its earlier dose is not placed
        for before, months in visit.after:
            if before in days:
                earliest = max(earliest, add_months(days[before].day, months))
        preferred = data.hint.get(visit.visit_id)
        options = [h for h in candidates(problem, visit, data.free, earliest) if h not in taken]
        if not options:
            continue
        half = preferred if preferred in options else options[0]
        days[visit.visit_id] = half
        taken.add(half)
    return days


def timetable_person(problem: PlanningProblem, data: PersonModel, *, seconds: float, seed: int,
                     tracker: GapTracker | None = None, fallback: dict[str, HalfDay] | None = None) -> PersonPlan:
    """Place one person's visits; visits without any candidate are unplanned with their reason."""
    by_id = {v.visit_id: v for v in data.visits}
    options: dict[str, list[HalfDay]] = {}
    unplanned: dict[str, str] = {}
    for visit in data.visits:
        found = candidates(problem, visit, data.free, data.earliest[visit.visit_id])
        if found:
            options[visit.visit_id] = found
        else:
            unplanned[visit.visit_id] = why_no_half_day(problem, visit, [data.staff_id], {data.staff_id: set(data.free)},
                                                        data.earliest[visit.visit_id], problem.person(data.staff_id).role)
    _drop_orphan_doses(options, unplanned, by_id, data.placed)
    if not options:
        return PersonPlan({}, unplanned)
    model = cp_model.CpModel()
    x = {v: {h: model.NewBoolVar("") for h in halves} for v, halves in options.items()}
    planned = {v: model.NewBoolVar("") for v in x}
    days = sorted({h.day for h in problem.half_days})
    ordinal = {d: i for i, d in enumerate(days)}
    each_visit_at_most_once(model, x, planned)
    one_place_per_half_day(model, x)
    dose_intervals(model, x, planned, by_id, ordinal)
    w = problem.weights
    first = problem.half_days[0].day
    model.Minimize(w["unplanned"] * unplanned_work(planned, by_id) + w["early"] * lateness(x, first)
                   + w["moved"] * moved_sessions(x, planned, by_id) + w["apart"] * parts_apart(x, data.same_day, by_id))
    for visit_id, half in (fallback or data.hint).items():
        if visit_id in x and half in x[visit_id]:
            model.AddHint(x[visit_id][half], 1)
    solver = parameters(seconds, seed, workers=1, wall_factor=1.5)
    started = time.monotonic()
    status = solve_model(solver, model, Reporter(data.staff_id, tracker))
    result = StageResult(f"timetable {data.staff_id}", status_name(status),
                         solver.ObjectiveValue() if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else float("nan"),
                         solver.BestObjectiveBound(), time.monotonic() - started)
    placed: dict[str, HalfDay] = {}
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        for visit_id, halves in x.items():
            for half, var in halves.items():
                if solver.Value(var):
                    placed[visit_id] = half
    if fallback and _planned_work(fallback, by_id) > _planned_work(placed, by_id):
        placed = {v: h for v, h in fallback.items() if v in x}  # CP-SAT ran out of time before matching it
    for visit_id in x:
        if visit_id not in placed:
            unplanned[visit_id] = _crowded_reason(problem, by_id[visit_id], data.staff_id, options[visit_id])
    return PersonPlan(placed, unplanned, result)


def _drop_orphan_doses(options: dict[str, list[HalfDay]], unplanned: dict[str, str], by_id: dict[str, Visit],
                       placed: frozenset[str]) -> None:
    """A later dose whose earlier dose is neither placed nor in this model cannot be planned."""
    changed = True
    while changed:
        changed = False
        for visit_id in list(options):
            missing = [b for b, _ in by_id[visit_id].after if b not in options and b not in placed]
            if missing:
                options.pop(visit_id)
                unplanned[visit_id] = "the dose it follows is not planned"
                changed = True


def why_no_half_day(problem: PlanningProblem, visit: Visit, staff_ids: list[str], free: dict[str, set[HalfDay]],
                    earliest: dt.date, role: str) -> str:
    """Which rule leaves a visit without any candidate half-day, counted over its window."""
    window = [h for h in problem.half_days if earliest <= h.day <= visit.latest]
    if not window:
        return f"no school half-day between {earliest} and {visit.latest} (window or dose interval)"
    fits = [h for h in window if visit.minutes <= problem.block_minutes[h.part]]
    if not fits:
        return f"{visit.minutes} minutes do not fit one block"
    open_days = [h for h in fits if h not in problem.closed.get(visit.school_id, set())]
    if not open_days:
        return f"the school is closed on every half-day between {earliest} and {visit.latest}"
    noticed = [h for h in open_days if problem.allowed(visit, h)]
    if not noticed:
        return f"every half-day in its window lies inside the notice period (before {problem.notice_day})"
    if not staff_ids:
        return f"every {role} is excluded by an objection of a pupil in it"
    parts = []
    for staff_id in sorted(staff_ids):
        works = [h for h in noticed if h in problem.available.get(staff_id, ())]
        parts.append(f"{role} {staff_id}: works {len(works)} of {len(noticed)}, "
                     f"free {sum(1 for h in works if h in free.get(staff_id, ()))}")
    return f"no {role} is free on a half-day in its window ({'; '.join(parts)})"


def _planned_work(days: dict[str, HalfDay], by_id: dict[str, Visit]) -> int:
    return sum(by_id[v].pupil_moments for v in days if v in by_id)


def _crowded_reason(problem: PlanningProblem, visit: Visit, staff_id: str, halves: list[HalfDay]) -> str:
    role = problem.person(staff_id).role
    if visit.after:
        return (f"capacity: the {role} half-days after its dose interval are taken ({len(halves)} free for "
                f"{role} {staff_id} in its window)")
    return f"capacity: all {len(halves)} free half-days of {role} {staff_id} in its window are taken by other visits"
