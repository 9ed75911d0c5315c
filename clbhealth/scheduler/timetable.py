"""Stage 2 (CP-SAT, one model per team): the half-day of every visit.

One boolean per (visit, candidate half-day). A candidate half-day lies in the visit's window, the
school is open, the block is long enough, and every person of the visit works then, is not absent
and is not already booked elsewhere. Constraint families are the functions below, one rule each.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from clbhealth.scheduler.calendar import HalfDay, add_months
from clbhealth.scheduler.model import PlanningProblem, Visit
from clbhealth.scheduler.solver import Progress, Reporter, StageResult, parameters, status_name


@dataclass
class Timetable:
    """Stage 2's answer for one team."""

    days: dict[str, HalfDay]  # visit_id -> half-day
    unplanned: dict[str, str]  # visit_id -> reason
    result: StageResult | None = None
    candidates: dict[str, list[HalfDay]] = field(default_factory=dict)


def candidate_half_days(problem: PlanningProblem, visit: Visit, staff: dict[str, str],
                        busy: dict[str, set[HalfDay]], earliest: dt.date | None = None) -> list[HalfDay]:
    """Half-days on which this visit could take place with these people."""
    first = max(visit.earliest, earliest or visit.earliest)
    closed = problem.closed.get(visit.school_id, set())
    people = list(staff.values())
    result = []
    for half in problem.half_days:
        if half.day < first or half.day > visit.latest:
            continue
        if visit.minutes > problem.block_minutes[half.part] or half in closed:
            continue
        if all(half in problem.available.get(p, ()) and half not in busy.get(p, ()) for p in people):
            result.append(half)
    return result


def why_no_half_day(problem: PlanningProblem, visit: Visit, staff: dict[str, str], busy: dict[str, set[HalfDay]],
                    earliest: dt.date | None = None) -> str:
    """Which rule leaves a visit without any candidate half-day, counted over its window."""
    first = max(visit.earliest, earliest or visit.earliest)
    window = [h for h in problem.half_days if first <= h.day <= visit.latest]
    if not window:
        return f"no school half-day between {first} and {visit.latest}"
    fits = [h for h in window if visit.minutes <= problem.block_minutes[h.part]]
    if not fits:
        return f"{visit.minutes} minutes do not fit one block"
    open_days = [h for h in fits if h not in problem.closed.get(visit.school_id, set())]
    if not open_days:
        return f"the school is closed on every half-day between {first} and {visit.latest}"
    parts = []
    for role, person in sorted(staff.items()):
        works = [h for h in open_days if h in problem.available.get(person, ())]
        free = [h for h in works if h not in busy.get(person, ())]
        parts.append(f"{role} {person}: works {len(works)} of {len(open_days)}, free {len(free)}")
    return "no half-day on which the whole team is free (" + "; ".join(parts) + ")"


def timetable_team(problem: PlanningProblem, visits: list[Visit], staff_of: dict[str, dict[str, str]],
                   busy: dict[str, set[HalfDay]], fixed: dict[str, HalfDay], *, seconds: float, seed: int,
                   workers: int, hint: dict[str, HalfDay] | None = None, stage: str = "timetable",
                   progress: Progress | None = None) -> Timetable:
    """Place a team's visits; `busy` holds half-days its people already spend elsewhere and
    `fixed` the days of visits outside this model that some of these visits follow."""
    started = time.monotonic()
    by_id = {v.visit_id: v for v in visits}
    candidates: dict[str, list[HalfDay]] = {}
    unplanned: dict[str, str] = {}
    for visit in visits:
        earliest = None
        missing = [b for b, _ in visit.after if b not in by_id and b not in fixed]
        if missing:
            unplanned[visit.visit_id] = "the dose it follows is not planned"
            continue
        for before, months in visit.after:
            if before in fixed:
                day = add_months(fixed[before].day, months)
                earliest = max(earliest, day) if earliest else day
        found = candidate_half_days(problem, visit, staff_of[visit.visit_id], busy, earliest)
        if found:
            candidates[visit.visit_id] = found
        else:
            unplanned[visit.visit_id] = why_no_half_day(problem, visit, staff_of[visit.visit_id], busy, earliest)
    model = cp_model.CpModel()
    x: dict[tuple[str, HalfDay], cp_model.IntVar] = {}
    planned: dict[str, cp_model.IntVar] = {}
    for visit_id, halves in candidates.items():
        for half in halves:
            x[visit_id, half] = model.NewBoolVar(f"x_{visit_id}_{half}")
        planned[visit_id] = model.NewBoolVar(f"planned_{visit_id}")

    each_visit_at_most_once(model, x, planned, candidates)
    one_place_per_person(model, x, staff_of)
    dose_intervals(model, x, planned, by_id, candidates, unplanned)

    weights = problem.weights
    first_day = problem.half_days[0].day if problem.half_days else dt.date.today()
    unplanned_term = unplanned_work(planned, by_id)
    early_term = lateness(x, first_day)
    moved_term = moved_sessions(x, planned, by_id)
    model.Minimize(weights["unplanned"] * unplanned_term + weights["early"] * early_term
                   + max(weights["visits"], 1) * 5 * moved_term)
    _hint(model, x, planned, candidates, staff_of, hint, by_id)

    days: dict[str, HalfDay] = {}
    if not x:
        return Timetable(days, unplanned, StageResult(stage, "empty", 0, 0, time.monotonic() - started), candidates)
    solver = parameters(seconds, seed, workers, presolve=False)
    status = solver.Solve(model, Reporter(stage, progress))
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        for (visit_id, half), var in x.items():
            if solver.Value(var):
                days[visit_id] = half
        objective, bound = solver.ObjectiveValue(), solver.BestObjectiveBound()
    else:
        days = earliest_fit(visits, candidates, staff_of, by_id)
        objective, bound = float("nan"), float("nan")
    for visit_id in candidates:
        if visit_id not in days:
            visit = by_id[visit_id]
            if any(before in by_id and before not in days for before, _ in visit.after):
                unplanned[visit_id] = "the dose it follows is not planned"
            else:
                unplanned[visit_id] = _capacity_reason(problem, visit, staff_of[visit_id], candidates[visit_id])
    result = StageResult(stage, status_name(status), objective, bound, time.monotonic() - started,
                         {"unplanned_pupil_moments": sum(by_id[v].pupil_moments for v in candidates if v not in days)})
    return Timetable(days, unplanned, result, candidates)


def each_visit_at_most_once(model: cp_model.CpModel, x: dict, planned: dict, candidates: dict) -> None:
    """A visit takes place on at most one half-day (a pupil is planned at most once per moment)."""
    for visit_id, halves in candidates.items():
        model.Add(sum(x[visit_id, h] for h in halves) == planned[visit_id])


def one_place_per_person(model: cp_model.CpModel, x: dict, staff_of: dict) -> None:
    """A person is at one place per half-day."""
    groups: dict[tuple[str, HalfDay], list] = defaultdict(list)
    for (visit_id, half), var in x.items():
        for person in staff_of[visit_id].values():
            groups[(person, half)].append(var)
    for variables in groups.values():
        if len(variables) > 1:
            model.AddAtMostOne(variables)


def dose_intervals(model: cp_model.CpModel, x: dict, planned: dict, by_id: dict, candidates: dict,
                   unplanned: dict) -> None:
    """A later dose comes at least its interval (months) after the dose it follows, which must be planned."""
    for visit_id, visit in by_id.items():
        if not visit.after or visit_id not in candidates:
            continue
        ordinal = None
        for before, months in visit.after:
            if before not in by_id:
                continue  # fixed outside this model: the candidates already start late enough
            if before not in candidates:
                model.Add(planned[visit_id] == 0)
                break
            model.AddImplication(planned[visit_id], planned[before])
            if ordinal is None:
                ordinal = sum(h.day.toordinal() * x[visit_id, h] for h in candidates[visit_id])
            for first in candidates[before]:
                earliest = add_months(first.day, months).toordinal()
                model.Add(ordinal >= earliest).OnlyEnforceIf([x[before, first], planned[visit_id]])


def unplanned_work(planned: dict, by_id: dict):
    """Pupil-moments left without a session."""
    return sum(by_id[v].pupil_moments * (1 - var) for v, var in planned.items())


def lateness(x: dict, first_day: dt.date):
    """Weeks between the start of the period and each session (early rather than late)."""
    return sum(((half.day - first_day).days // 7) * var for (_, half), var in x.items())


def moved_sessions(x: dict, planned: dict, by_id: dict):
    """Published sessions that leave their previous half-day (non-disruptive re-planning)."""
    terms = []
    for visit_id, var in planned.items():
        previous = by_id[visit_id].previous
        if previous is None:
            continue
        stay = x.get((visit_id, previous))
        terms.append(1 - stay if stay is not None else 1)
    return sum(terms) if terms else 0


def earliest_fit(visits: list[Visit], candidates: dict, staff_of: dict, by_id: dict,
                 fixed: dict[str, HalfDay] | None = None) -> dict[str, HalfDay]:
    """Greedy: each visit (tightest window first) on its earliest half-day with its people free."""
    fixed = fixed or {}
    taken: set[tuple[str, HalfDay]] = set()
    days: dict[str, HalfDay] = {}
    order = sorted(candidates, key=lambda v: (len(candidates[v]), by_id[v].earliest, v))
    order.sort(key=lambda v: _depth(by_id, v))
    for visit_id in order:
        visit = by_id[visit_id]
        people = staff_of[visit_id].values()
        ready, earliest = _earliest_after(visit, by_id, days, fixed)
        if not ready:
            continue
        previous = visit.previous
        options = candidates[visit_id]
        if previous is not None and previous in options:
            options = [previous] + [h for h in options if h != previous]
        for half in options:
            if earliest and half.day < earliest:
                continue
            if all((p, half) not in taken for p in people):
                days[visit_id] = half
                taken.update((p, half) for p in people)
                break
    return days


def matching_fit(visits: list[Visit], candidates: dict, staff_of: dict, by_id: dict,
                 fixed: dict[str, HalfDay] | None = None) -> dict[str, HalfDay]:
    """A strong starting plan: person by person, scarcest first, a min-cost bipartite matching of
    that person's visits to free half-days (most visits placed, then earliest).

    While one person's visits are matched, every half-day takes at most one of them, so nobody is
    double-booked; later persons only get half-days on which all their visit's people are free.
    Follow-up doses are matched once the visits they follow have a day.
    """
    from ortools.graph.python import min_cost_flow

    fixed = fixed or {}
    days: dict[str, HalfDay] = {}
    taken: set[tuple[str, HalfDay]] = set()
    load: dict[str, int] = defaultdict(int)
    for visit_id in candidates:
        for person in staff_of[visit_id].values():
            load[person] += 1
    free_count = {p: len({h for v in candidates if p in staff_of[v].values() for h in candidates[v]}) for p in load}
    people = sorted(load, key=lambda p: (-load[p] / max(free_count[p], 1), p))
    first_day = min((h.day for halves in candidates.values() for h in halves), default=None)
    for depth in range(0, 1 + max((_depth(by_id, v) for v in candidates), default=0)):
        for person in people:
            todo = [v for v in sorted(candidates) if v not in days and _depth(by_id, v) == depth
                    and person in staff_of[v].values()]
            if not todo:
                continue
            options: dict[str, list[HalfDay]] = {}
            for visit_id in todo:
                visit = by_id[visit_id]
                ready, earliest = _earliest_after(visit, by_id, days, fixed)
                if not ready:
                    continue
                free = [h for h in candidates[visit_id] if (earliest is None or h.day >= earliest)
                        and all((p, h) not in taken for p in staff_of[visit_id].values())]
                if free:
                    options[visit_id] = free
            if not options:
                continue
            halves = sorted({h for free in options.values() for h in free})
            node_of_half = {h: 2 + len(options) + i for i, h in enumerate(halves)}
            flow = min_cost_flow.SimpleMinCostFlow()
            source, sink = 0, 1
            order = sorted(options)
            for i, visit_id in enumerate(order):
                node = 2 + i
                flow.add_arc_with_capacity_and_unit_cost(source, node, 1, 0)
                for h in options[visit_id]:
                    flow.add_arc_with_capacity_and_unit_cost(node, node_of_half[h], 1, (h.day - first_day).days)
            for h, node in node_of_half.items():
                flow.add_arc_with_capacity_and_unit_cost(node, sink, 1, 0)
            flow.set_node_supply(source, len(order))
            flow.set_node_supply(sink, -len(order))
            if flow.solve_max_flow_with_min_cost() != flow.OPTIMAL:
                continue
            half_of_node = {node: h for h, node in node_of_half.items()}
            for arc in range(flow.num_arcs()):
                if flow.flow(arc) and flow.tail(arc) >= 2 and flow.tail(arc) < 2 + len(order):
                    visit_id = order[flow.tail(arc) - 2]
                    half = half_of_node[flow.head(arc)]
                    days[visit_id] = half
                    taken.update((p, half) for p in staff_of[visit_id].values())
    return days


def _earliest_after(visit: Visit, by_id: dict, days: dict[str, HalfDay],
                    fixed: dict[str, HalfDay]) -> tuple[bool, dt.date | None]:
    """(whether every visit this one follows has a day, the first day the dose intervals allow)."""
    if any(b in by_id and b not in days for b, _ in visit.after):
        return False, None
    earliest = None
    for before, months in visit.after:
        if before in days or before in fixed:
            day = add_months((days.get(before) or fixed[before]).day, months)
            earliest = max(earliest, day) if earliest else day
    return True, earliest


def _depth(by_id: dict, visit_id: str) -> int:
    """How many visits must come before this one (0 for most)."""
    visit = by_id[visit_id]
    return 1 + max((_depth(by_id, b) for b, _ in visit.after if b in by_id), default=-1)


def _hint(model, x, planned, candidates, staff_of, hint, by_id) -> None:
    chosen = dict(hint or {})
    if not chosen:
        chosen = matching_fit(list(by_id.values()), candidates, staff_of, by_id)
    for visit_id, halves in candidates.items():
        day = chosen.get(visit_id)
        model.AddHint(planned[visit_id], day in halves)
        for half in halves:
            model.AddHint(x[visit_id, half], half == day)


def _capacity_reason(problem: PlanningProblem, visit: Visit, staff: dict[str, str], halves: list[HalfDay]) -> str:
    names = ", ".join(f"{role} {person}" for role, person in sorted(staff.items()))
    return (f"capacity: all {len(halves)} half-days between {visit.earliest} and {visit.latest} on which "
            f"{names} could go are taken by other visits")
