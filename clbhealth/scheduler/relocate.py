"""A session moves to a nearer colleague's free half-day: who goes and when, chosen again for one
session at a time, after the plan is complete.

Stage 1 chooses people per two-week period and the timetables place each person's visits on their
own, so a doctor from Turnhout may drive to Mol on a morning in March while a doctor from Mol has
a free morning that same fortnight. Here each new session (alone on its person's half-day) may
move to a free half-day of a colleague of its role when that costs less (travel, continuity,
lateness and pupils seen by the other role on another day, as the stages price them) and every
hard rule holds: the window, the school's calendar, the notice period, the block's room, the
pupils' objections, the dose intervals before and after it (and the room a later dose still
unplanned needs). Greedy by saving, in rounds: a half-day freed in one round may take a session
in the next. Announced sessions and shared half-days stay as they are.
"""

from __future__ import annotations

import bisect
import itertools
import time
from collections import defaultdict

from clbhealth.scheduler.assign import person_cost
from clbhealth.scheduler.calendar import HalfDay
from clbhealth.scheduler.join import early_cost, lone_session, session_groups
from clbhealth.scheduler.model import PlanningProblem, Visit, followers_deadlines, followers_of
from clbhealth.scheduler.repair import _State
from clbhealth.scheduler.share import guest_fits

MIN_SAVING = 1.0  # cost units (km) a move must save
ROUNDS = 4


def relocate_sessions(problem: PlanningProblem, state: _State, by_id: dict[str, Visit], known: dict[str, HalfDay],
                      seconds: float = 30.0) -> int:
    """Move sessions to nearer colleagues' free half-days while that saves; returns the moves made."""
    stop = time.monotonic() + seconds
    followers = followers_of(by_id.values())
    deadlines = followers_deadlines(list(by_id.values()))
    moved = 0
    for _ in range(ROUNDS):
        if time.monotonic() > stop:
            break
        seen = seen_by_role(state, by_id)
        moves = sorted(_candidate_moves(problem, state, by_id, known, followers, deadlines, seen), reverse=True)
        done = _apply(problem, state, by_id, known, followers, moves)
        moved += done
        if not done:
            break
    return moved


def _candidate_moves(problem: PlanningProblem, state: _State, by_id: dict[str, Visit], known: dict[str, HalfDay],
                     followers: dict, deadlines: dict, seen: dict) -> list[tuple[float, str, str, HalfDay]]:
    """(saving, visit, person, half-day) for every move that saves at least MIN_SAVING."""
    groups = session_groups(state, by_id)
    hosts = {h for h, _ in state.after.values()}
    free = {p.staff_id: sorted(h for h in problem.available.get(p.staff_id, ()) if h not in state.busy.get(p.staff_id, ()))
            for p in problem.persons}
    days = {**known, **state.days}
    moves = []
    for visit_id in sorted(state.days):
        visit = by_id.get(visit_id)
        if not lone_session(visit, state, groups, hosts):
            continue
        role = next(iter(visit.roles))
        own, half = state.staff[visit_id][role], state.days[visit_id]
        nearer = [p for p in problem.persons if p.role == role and p.staff_id not in visit.excluded_staff
                  and person_cost(problem, visit, p) <= person_cost(problem, visit, problem.person(own)) - MIN_SAVING]
        if not nearer:
            continue  # only a nearer colleague (or the school's own contact) may take it
        now = session_cost(problem, visit, own, half, seen)
        last = visit.latest
        if any(f not in days for f, _ in followers[visit_id]) and visit_id in deadlines:
            last = min(last, deadlines[visit_id])
        for person in nearer:
            halves = free[person.staff_id]
            start = bisect.bisect_left(halves, HalfDay(visit.earliest, "am"))
            closed = problem.closed.get(visit.school_id, set())
            for other in itertools.takewhile(lambda h: h.day <= last, halves[start:]):
                if other in closed or not problem.allowed(visit, other):
                    continue
                saving = now - session_cost(problem, visit, person.staff_id, other, seen)
                if saving >= MIN_SAVING and visit.minutes <= problem.block_minutes[other.part]:
                    moves.append((round(saving, 3), visit_id, person.staff_id, other))
    return moves


def _apply(problem: PlanningProblem, state: _State, by_id: dict[str, Visit], known: dict[str, HalfDay],
           followers: dict, moves: list[tuple[float, str, str, HalfDay]]) -> int:
    """Make the moves, largest saving first, each only while it still fits; returns how many."""
    touched: set[str] = set()
    done = 0
    for _, visit_id, person, half in moves:
        visit = by_id[visit_id]
        linked = {b for b, _ in visit.after} | {f for f, _ in followers[visit_id]}
        if visit_id in touched or linked & touched or half in state.busy.get(person, ()):
            continue
        if not guest_fits(problem, visit, half, person, {**known, **state.days}, followers):
            continue
        role = next(iter(visit.roles))
        state.busy[state.staff[visit_id][role]].discard(state.days[visit_id])
        state.place(visit_id, half, {role: person})
        touched.add(visit_id)
        done += 1
    return done


def session_cost(problem: PlanningProblem, visit: Visit, staff_id: str, half: HalfDay, seen: dict) -> float:
    """The soft goals one session changes by its person and half-day."""
    role = problem.person(staff_id).role
    return (person_cost(problem, visit, problem.person(staff_id)) + early_cost(problem, half)
            + problem.weights["apart"] * parts_apart(visit, role, half, seen))


def parts_apart(visit: Visit, role: str, half: HalfDay, seen: dict) -> int:
    """The session's pupils whose part of another role is done on another day."""
    apart = 0
    for task in visit.tasks:
        other_days = seen.get((visit.school_id, task.pupil_id), {})
        if any(r != role and days and half.day not in days for r, days in other_days.items()):
            apart += 1
    return apart


def seen_by_role(state: _State, by_id: dict[str, Visit]) -> dict[tuple[str, int], dict[str, set]]:
    """(school, pupil) -> role -> the days the pupil is seen there by that role."""
    seen: dict[tuple[str, int], dict[str, set]] = defaultdict(lambda: defaultdict(set))
    for visit_id, half in state.days.items():
        visit = by_id.get(visit_id)
        if visit is None:
            continue
        for role in state.staff.get(visit_id, {}):
            for task in visit.tasks:
                seen[(visit.school_id, task.pupil_id)][role].add(half.day)
    return seen
