"""The planner's orchestration.

1. Kept sessions whose person is now absent on their half-day go to a free colleague first.
2. Stage 1 (min-cost flow, `assign.py`): the person of every visit, no fixed teams.
3. Stage 2 (CP-SAT per person, `timetable.py`): each person's half-days; the scarcest role
   first, so that the others can join its days (parts of one class on the same day).
4. Repair: work still unplanned goes to any colleague with a free half-day that fits.
5. Fill (`fill.py`): half-days still free take unplanned work cut to their room; when a role is
   short, small visits of nearby schools share one person's half-day (`share.py`) and the
   half-days this frees are filled too.
6. Swap (`swap.py`): per half-day, the people of a role who work then swap their sessions when
   that drives less.
Every model runs on a deterministic work budget: the plan depends on the inputs and the seed only.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from clbhealth.scheduler.assign import assign_people, free_half_days, lead_role
from clbhealth.scheduler.calendar import HalfDay, add_months
from clbhealth.scheduler.fill import fill_free_half_days
from clbhealth.scheduler.join import join_small_sessions
from clbhealth.scheduler.model import Placement, PlanningProblem, Visit
from clbhealth.scheduler.packing import unhook_riders
from clbhealth.scheduler.reassign import reassign_sessions
from clbhealth.scheduler.relocate import relocate_sessions
from clbhealth.scheduler.repair import _State, join_together, repair, substitute_absent
from clbhealth.scheduler.share import hold_out_guests, rejoin_guests, share_half_days
from clbhealth.scheduler.solver import GapTracker, Progress, Snapshot, StageResult, allow_solving, stop_all
from clbhealth.scheduler.swap import swap_people
from clbhealth.scheduler.timetable import (
    PersonModel,
    PersonPlan,
    earliest_fit,
    timetable_person,
)

SOLVER_SHARE = 0.6  # of the time left after the first complete plan, for CP-SAT itself
MAX_EXTRA_ROUNDS = 4  # of relocate, reassign, join and swap after the first
MIN_ROUND_GAIN = 0.001  # a round must shorten the drive by this share for another to follow


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
    stages: list[StageResult] = field(default_factory=list)
    first_complete_seconds: float = 0.0
    seconds: float = 0.0
    history: list[tuple[float, float]] = field(default_factory=list)  # (seconds, objective)
    substitutes: list[dict] = field(default_factory=list)  # kept sessions given to a colleague


def scarcity(problem: PlanningProblem) -> dict[str, int]:
    """Half-days available per role: the smaller, the scarcer."""
    counts: dict[str, int] = defaultdict(int)
    for person in problem.persons:
        counts[person.role] += len(problem.available.get(person.staff_id, ()))
    return dict(counts)


def earliest_days(problem: PlanningProblem, days: dict[str, HalfDay]) -> dict[str, dt.date]:
    """Each visit's first possible day: its window, or its interval after the dose it follows."""
    by_id = {v.visit_id: v for v in problem.visits}
    result: dict[str, dt.date] = {}

    def first(visit: Visit, depth: int = 0) -> dt.date:
        if visit.visit_id in result:
            return result[visit.visit_id]
        day = visit.earliest
        for before, months in visit.after:
            if before in days:
                day = max(day, add_months(days[before].day, months))
            elif before in by_id and depth < 10:
                day = max(day, add_months(first(by_id[before], depth + 1), months))
        result[visit.visit_id] = day
        return day

    for visit in problem.visits:
        first(visit)
    return result


def require_roles(problem: PlanningProblem) -> None:
    """Every role the work needs is on the staff list (else a clear error, not a plan of nothing)."""
    from clbhealth.core.errors import ClbError

    roles = set().union(*(v.roles for v in problem.visits)) if problem.visits else set()
    missing = sorted(r for r in roles if not any(p.role == r for p in problem.persons))
    if missing:
        raise ClbError(f"The due moments need a {', '.join(missing)}, but the staff list has none.",
                       hint="Import a staff list with that role (clbhealth import staff), or change "
                            "[planning.roles] in clbhealth.toml.")


def solve(problem: PlanningProblem, options: SolveOptions, *, progress: Progress | None = None) -> PlanResult:
    require_roles(problem)
    allow_solving()
    started = time.monotonic()
    by_id = {v.visit_id: v for v in problem.visits}
    state = _State()
    for placement in problem.pinned:
        for person in placement.staff.values():
            state.busy[person].add(placement.half)
    pinned_days = {p.visit_id: p.half for p in problem.pinned}
    rank = scarcity(problem)
    substitutes = substitute_absent(problem, state, rank)
    earliest = earliest_days(problem, pinned_days)
    guests = hold_out_guests([v for v in problem.visits if v.visit_id not in state.days])
    open_visits = [v for v in problem.visits if v.visit_id not in state.days and v.visit_id not in guests]
    assignment = assign_people(problem, open_visits, earliest, state.busy, rank)
    state.reasons.update(assignment.unassigned)
    person_of = follow_the_first_dose(problem, assignment.person_of, by_id, rank)
    roles = sorted(rank, key=lambda r: (rank[r], r))
    # A complete plan at once (each person's visits on their earliest free half-days), then CP-SAT.
    quick = _copy_state(state)
    for role in roles:
        mine = [v for v in open_visits if v.visit_id in person_of and lead_role(v, rank) == role]
        _quick_role(problem, mine, person_of, quick, pinned_days)
        join_together(problem, [v for v in mine if len(v.roles) > 1], quick, rank)
    repair(problem, [v for v in problem.visits if v.visit_id not in quick.days and v.visit_id not in guests],
           quick, rank, pinned_days)
    repair(problem, rejoin_guests(problem, quick, guests, by_id, pinned_days), quick, rank, pinned_days)
    first_complete = time.monotonic() - started
    first_objective = _objective(problem, by_id, {v: Placement(v, h, quick.staff[v]) for v, h in quick.days.items()},
                                 {v: "" for v in by_id if v not in quick.days})
    report = progress or (lambda _: None)
    report(Snapshot("first complete plan", session_count(quick, by_id)))
    tracker = GapTracker(progress, "improving each person's timetable", session_count(quick, by_id))
    stages: list[StageResult] = []
    limit = max(options.seconds, 1.0)
    # Building the models costs time of its own: CP-SAT gets a share of what is left.
    budget = SOLVER_SHARE * max(0.0, limit - (time.monotonic() - started))
    for role in roles:
        mine = [v for v in open_visits if v.visit_id in person_of and lead_role(v, rank) == role]
        if time.monotonic() - started > limit:
            _quick_role(problem, mine, person_of, state, pinned_days)  # out of time: the plan found at once
        else:
            stages.extend(_timetable_role(problem, role, mine, person_of, state, pinned_days, by_id,
                                          max(0.5, budget * len(mine) / max(1, len(open_visits))), options, tracker))
        join_together(problem, [v for v in mine if len(v.roles) > 1], state, rank)
    repair(problem, [v for v in problem.visits if v.visit_id not in state.days and v.visit_id not in guests],
           state, rank, pinned_days)
    repair(problem, rejoin_guests(problem, state, guests, by_id, pinned_days), state, rank, pinned_days)
    if len(quick.days) > len(state.days):  # never worse than the plan found at once
        state = quick
    repair(problem, free_stranded_riders(problem, state, by_id, pinned_days), state, rank, pinned_days)
    report(Snapshot("filling free half-days and moving sessions to nearer colleagues", session_count(state, by_id)))
    placements, unplanned = _fill_and_place(problem, state, by_id, pinned_days,
                                            max(1.0, limit - (time.monotonic() - started)))
    seconds = time.monotonic() - started
    objective = _objective(problem, by_id, placements, unplanned)
    return PlanResult(placements, unplanned, by_id, stages, first_complete, seconds,
                      [(round(first_complete, 2), first_objective), (round(seconds, 2), objective)], substitutes)


def _fill_and_place(problem: PlanningProblem, state: _State, by_id: dict[str, Visit],
                    pinned_days: dict[str, HalfDay], seconds: float) -> tuple[dict[str, Placement], dict[str, str]]:
    """The fill and the shared half-days, then the placements and the reasons of what stays unplanned;
    relocating and reassigning sessions use the `seconds` left."""
    stop = time.monotonic() + seconds
    join_small_sessions(problem, state, by_id, pinned_days)
    fill_free_half_days(problem, state, by_id, pinned_days)
    share_half_days(problem, state, by_id, pinned_days)
    relocate_sessions(problem, state, by_id, pinned_days, (stop - time.monotonic()) / 2)
    reassign_sessions(problem, state, by_id, pinned_days, stop - time.monotonic())
    join_small_sessions(problem, state, by_id, pinned_days)  # sessions now side by side ride along
    swap_people(problem, state, by_id)
    improve_while_it_pays(problem, state, by_id, pinned_days, stop)
    problem.visits[:] = list(by_id.values())
    for visit in problem.visits:
        if visit.visit_id not in state.days:
            state.reasons.setdefault(visit.visit_id, "no free half-day of the role in its window")
    placements = {v: Placement(v, half, state.staff[v]) for v, half in state.days.items()}
    for visit_id, (host, offset) in state.after.items():
        if visit_id in placements:
            placements[visit_id].after_visit, placements[visit_id].offset = host, offset
    return placements, {v: r for v, r in state.reasons.items() if v not in state.days and v in by_id}


def improve_while_it_pays(problem: PlanningProblem, state: _State, by_id: dict[str, Visit],
                          pinned_days: dict[str, HalfDay], stop: float) -> int:
    """Each move frees half-days the others can use (a session that rode along frees a morning a
    nearer colleague may take): relocate, reassign, join and swap again while time is left and a
    round still shortens the drive; returns the rounds run."""
    rounds = 0
    while time.monotonic() < stop and rounds < MAX_EXTRA_ROUNDS:
        before = round_trip_km(problem, state, by_id)
        relocate_sessions(problem, state, by_id, pinned_days, (stop - time.monotonic()) / 2)
        reassign_sessions(problem, state, by_id, pinned_days, max(0.0, stop - time.monotonic()))
        join_small_sessions(problem, state, by_id, pinned_days)
        swap_people(problem, state, by_id)
        rounds += 1
        if round_trip_km(problem, state, by_id) > before * (1 - MIN_ROUND_GAIN):
            break
    return rounds


def round_trip_km(problem: PlanningProblem, state: _State, by_id: dict[str, Visit]) -> float:
    """Km of the plan with every session (person, half-day, school) one round trip."""
    trips = {(p, half, by_id[v].school_id) for v, half in state.days.items() if v in by_id
             for p in state.staff.get(v, {}).values()}
    return sum(problem.km[(p, school)] for p, _, school in trips)


def free_stranded_riders(problem: PlanningProblem, state: _State, by_id: dict[str, Visit],
                         pinned_days: dict[str, HalfDay]) -> list[Visit]:
    """Work that rode with a later dose whose earlier dose stays unplanned gets its own visit back
    (it must not wait for a dose that cannot come); returns those visits, to be placed."""
    known = {**pinned_days, **state.days}
    freed = []
    for visit in list(by_id.values()):
        if visit.riders and visit.visit_id not in known and any(b not in known for b, _ in visit.after):
            for rider in unhook_riders(visit):
                by_id[rider.visit_id] = rider
                problem.visits.append(rider)
                freed.append(rider)
    return freed


def session_count(state: _State, by_id: dict[str, Visit]) -> int:
    """Sessions of a state: one person at one school in one half-day, however many visits it holds."""
    return len({(person, half, by_id[v].school_id) for v, half in state.days.items() if v in by_id
                for person in state.staff.get(v, {}).values()})


def _copy_state(state: _State) -> _State:
    copy = _State(dict(state.days), {k: dict(v) for k, v in state.staff.items()}, defaultdict(set),
                  dict(state.reasons))
    for person, halves in state.busy.items():
        copy.busy[person] = set(halves)
    copy.after = dict(state.after)
    return copy


def _quick_role(problem: PlanningProblem, visits: list[Visit], person_of: dict[str, str], state: _State,
                pinned_days: dict[str, HalfDay]) -> None:
    """Every person's visits of one role on their earliest free half-days (no solver)."""
    per_person: dict[str, list[Visit]] = defaultdict(list)
    for visit in visits:
        per_person[person_of[visit.visit_id]].append(visit)
    earliest = earliest_days(problem, {**pinned_days, **state.days})
    free = free_half_days(problem, state.busy)
    for staff_id, mine in sorted(per_person.items()):
        data = PersonModel(staff_id, mine, free[staff_id], {v.visit_id: earliest[v.visit_id] for v in mine},
                           hint={v.visit_id: v.previous for v in mine if v.previous is not None},
                           placed=frozenset(pinned_days) | frozenset(state.days))
        for visit_id, half in earliest_fit(problem, data).items():
            state.place(visit_id, half, {problem.person(staff_id).role: staff_id})


def follow_the_first_dose(problem: PlanningProblem, person_of: dict[str, str], by_id: dict[str, Visit],
                          rank: dict[str, int]) -> dict[str, str]:
    """A later dose goes with the person who gives the earlier one, so one model keeps the interval."""
    result = dict(person_of)
    for visit in problem.visits:
        for before, _ in visit.after:
            if before in result and visit.visit_id in result and before in by_id:
                if lead_role(by_id[before], rank) == lead_role(visit, rank) \
                        and result[before] not in visit.excluded_staff:
                    result[visit.visit_id] = result[before]
    return result


def _timetable_role(problem: PlanningProblem, role: str, visits: list[Visit], person_of: dict[str, str],
                    state: _State, pinned_days: dict[str, HalfDay], by_id: dict[str, Visit], seconds: float,
                    options: SolveOptions, tracker: GapTracker) -> list[StageResult]:
    """Every person of one role in their own model, side by side on the worker threads."""
    per_person: dict[str, list[Visit]] = defaultdict(list)
    for visit in visits:
        per_person[person_of[visit.visit_id]].append(visit)
    known = {**pinned_days, **state.days}
    earliest = earliest_days(problem, known)
    free = free_half_days(problem, state.busy)
    seen = _seen_by_others(problem, state)
    hoped = _others_free(problem, visits, state, free)
    models = []
    for staff_id in sorted(per_person):
        mine = per_person[staff_id]
        models.append(PersonModel(
            staff_id, mine, free[staff_id], {v.visit_id: earliest[v.visit_id] for v in mine},
            same_day={v.visit_id: seen.get(v.visit_id) or hoped.get(v.visit_id) for v in mine
                      if seen.get(v.visit_id) or hoped.get(v.visit_id)},
            hint={v.visit_id: v.previous for v in mine if v.previous is not None}, placed=frozenset(known)))
    work = sum(len(m.visits) for m in models) or 1
    workers = max(1, options.workers)

    first_fits = {m.staff_id: earliest_fit(problem, m) for m in models}

    def run(data: PersonModel) -> PersonPlan:
        share = seconds * workers * len(data.visits) / work
        return timetable_person(problem, data, seconds=max(0.2, share), seed=options.seed, tracker=tracker,
                                fallback=first_fits[data.staff_id])

    # The models run on worker threads even with one worker: the main thread waits where Ctrl-C
    # reaches it, stops every search, lets the threads end and saves nothing.
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        plans = list(pool.map(run, models))
    except BaseException:
        stop_all()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown()
    stages = []
    for data, plan in zip(models, plans):
        for visit_id, half in plan.days.items():
            state.place(visit_id, half, {role: data.staff_id})
        state.reasons.update({v: r for v, r in plan.unplanned.items() if v not in state.days})
        if plan.result is not None:
            stages.append(plan.result)
    return stages


def _seen_by_others(problem: PlanningProblem, state: _State) -> dict[str, dict[HalfDay, int]]:
    """Per visit, the half-days on which its pupils are already seen at the school by another role."""
    placed_pupils: dict[str, dict[int, set[HalfDay]]] = defaultdict(lambda: defaultdict(set))
    by_id = {v.visit_id: v for v in problem.visits}
    for visit_id, half in state.days.items():
        visit = by_id.get(visit_id)
        if visit is not None:
            for task in visit.tasks:
                placed_pupils[visit.school_id][task.pupil_id].add(half)
    result: dict[str, dict[HalfDay, int]] = {}
    for visit in problem.visits:
        if visit.visit_id in state.days or visit.school_id not in placed_pupils:
            continue
        counts: dict[HalfDay, int] = defaultdict(int)
        school = placed_pupils[visit.school_id]
        for task in visit.tasks:
            for half in school.get(task.pupil_id, ()):
                counts[half] += 1
        if counts:
            result[visit.visit_id] = dict(counts)
    return result


def _others_free(problem: PlanningProblem, visits: list[Visit], state: _State,
                 free: dict[str, list[HalfDay]]) -> dict[str, dict[HalfDay, int]]:
    """For the role planned first: per visit, the half-days on which someone of the other roles its
    pupils need is free, so that the parts of one class can fall on one day."""
    roles_of: dict[tuple[str, int], set[str]] = defaultdict(set)
    for visit in problem.visits:
        if visit.visit_id not in state.days:
            for task in visit.tasks:
                roles_of[(visit.school_id, task.pupil_id)] |= visit.roles
    free_by_role: dict[str, set[HalfDay]] = defaultdict(set)
    for person in problem.persons:
        free_by_role[person.role] |= set(free.get(person.staff_id, ()))
    result: dict[str, dict[HalfDay, int]] = {}
    for visit in visits:
        others: dict[frozenset[str], int] = defaultdict(int)
        for task in visit.tasks:
            rest = frozenset(roles_of[(visit.school_id, task.pupil_id)] - visit.roles)
            if rest:
                others[rest] += 1
        if not others:
            continue
        counts: dict[HalfDay, int] = defaultdict(int)
        for rest, pupils in others.items():
            for half in set.intersection(*(free_by_role[r] for r in rest)):
                counts[half] += pupils
        if counts:
            result[visit.visit_id] = dict(counts)
    return result


def _objective(problem: PlanningProblem, by_id: dict[str, Visit], placements: dict[str, Placement],
               unplanned: dict[str, str]) -> float:
    """Unplanned work and lateness over the whole plan (for progress over time)."""
    if not problem.half_days:
        return 0.0
    first = problem.half_days[0].day
    weeks = sum((p.half.day - first).days // 7 for p in placements.values())
    missing = sum(by_id[v].pupil_moments for v in unplanned if v in by_id)
    return float(problem.weights["unplanned"] * missing + problem.weights["early"] * weeks)


def _num(value: float | None) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else round(value, 1)
