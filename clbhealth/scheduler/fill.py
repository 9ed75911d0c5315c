"""The last step: every half-day still free goes to work still unplanned, cut to fit it.

The stages place whole visits, each cut to a morning's room. When a role is short, some of its
half-days stay free (an afternoon is shorter than any unplanned visit, or an unplanned visit's
window has no free morning) while work of that role is left over. Here each free half-day, in
order, takes the unplanned tasks of one school that fit its room (the work whose window closes
first, then class by class): a new, smaller visit. A visit split this way takes the doses that
follow its pupils' doses along (the HPV2 of the pupils whose HPV1 is now planned), so a dose
chain is never cut. Greedy and quick; it only adds work, never moves what the models placed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import replace

from clbhealth.scheduler.calendar import HalfDay, add_months
from clbhealth.scheduler.model import Person, PlanningProblem, Task, Visit
from clbhealth.scheduler.repair import _State

MIN_FILL_SHARE = 0.25  # a free half-day is used when it can do at least this share of its room


def fill_free_half_days(problem: PlanningProblem, state: _State, by_id: dict[str, Visit],
                        known: dict[str, HalfDay]) -> list[str]:
    """Place unplanned single-role work in free half-days; returns the ids of the new visits.

    `by_id` gains the new visits (placed) and the split follow-up doses (unplanned); the visits
    they came from keep the rest of their pupils (and are dropped when none is left).
    """
    roles = {next(iter(v.roles)) for v in by_id.values() if len(v.roles) == 1 and v.visit_id not in state.days}
    added: list[str] = []
    for half, person in _free_slots(problem, state, roles):
        days = {**known, **state.days}
        work = _open_work(problem, state, by_id, days, person, half)
        if not work:
            continue
        taken = _take(problem, person, half, work)
        if not taken:
            continue
        new = _split(by_id, state, taken, len(added) + 1)
        state.place(new.visit_id, half, {person.role: person.staff_id})
        added.append(new.visit_id)
    return added


def _free_slots(problem: PlanningProblem, state: _State, roles: set[str]) -> list[tuple[HalfDay, Person]]:
    """Every (half-day, person) of the given roles that is worked, free, and after the notice day."""
    slots = []
    for person in problem.persons:
        if person.role not in roles:
            continue
        busy = state.busy.get(person.staff_id, set())
        for half in problem.available.get(person.staff_id, ()):
            if half not in busy and (problem.notice_day is None or half.day >= problem.notice_day):
                slots.append((half, person))
    return sorted(slots, key=lambda s: (s[0], s[1].staff_id))


def _open_work(problem: PlanningProblem, state: _State, by_id: dict[str, Visit], days: dict[str, HalfDay],
               person: Person, half: HalfDay) -> dict[str, list[tuple[Visit, Task]]]:
    """Per school, the unplanned tasks this person could do on this half-day."""
    work: dict[str, list[tuple[Visit, Task]]] = defaultdict(list)
    for visit in by_id.values():
        if visit.visit_id in state.days or visit.roles != {person.role} or not visit.tasks:
            continue
        if not visit.earliest <= half.day <= visit.latest or half in problem.closed.get(visit.school_id, ()):
            continue
        if not _interval_kept(visit, days, half.day):
            continue
        for task in visit.tasks:
            if person.staff_id not in task.excluded_staff:
                work[visit.school_id].append((visit, task))
    return work


def _interval_kept(visit: Visit, days: dict[str, HalfDay], day: dt.date) -> bool:
    """Every dose this visit follows is placed, its interval before `day`."""
    return all(before in days and add_months(days[before].day, months) <= day for before, months in visit.after)


def _take(problem: PlanningProblem, person: Person, half: HalfDay,
          work: dict[str, list[tuple[Visit, Task]]]) -> list[tuple[Visit, Task]]:
    """The tasks of the school this half-day serves best: the work whose window closes first among
    the schools that can fill a fair share of the room, then the fuller half-day, then the nearer."""
    room = problem.block_minutes[half.part]
    best, best_key = [], None
    for school_id, items in work.items():
        setup = max(v.setup for v, _ in items)
        chosen, used = [], setup
        for visit, task in sorted(items, key=lambda vt: (vt[0].latest, _task_order(vt[1]))):
            if used + task.minutes <= room:
                chosen.append((visit, task))
                used += task.minutes
        if not chosen:
            continue
        fill = (used - setup) / max(1, room - setup)
        key = (fill < MIN_FILL_SHARE, min(v.latest for v, _ in chosen), -round(fill, 2),
               problem.km.get((person.staff_id, school_id), 0.0), school_id)
        if best_key is None or key < best_key:
            best, best_key = chosen, key
    return best


def _task_order(task: Task) -> tuple:
    return (task.grade or "", task.class_name, task.pupil_id)


def _split(by_id: dict[str, Visit], state: _State, taken: list[tuple[Visit, Task]], number: int) -> Visit:
    """One new visit of the taken tasks; their source visits keep the rest; follow-up doses of the
    taken pupils move to new follow-up visits that wait for this one."""
    sources: dict[str, list[Task]] = defaultdict(list)
    for visit, task in taken:
        sources[visit.visit_id].append(task)
    first = by_id[next(iter(sources))]
    tasks = [t for _, t in taken]
    new = Visit(visit_id=f"{first.visit_id}/+{number}", school_id=first.school_id, tasks=tasks, roles=first.roles,
                earliest=max(t.earliest for t in tasks), latest=min(t.latest for t in tasks),
                setup=max(by_id[s].setup for s in sources), bundle=first.bundle,
                kind="catch_up" if all(t.catch_up for t in tasks) else "regular",
                after=tuple(dict.fromkeys(a for s in sources for a in by_id[s].after)))
    by_id[new.visit_id] = new
    for source_id, moved in sources.items():
        _move_followers(by_id, state, source_id, new.visit_id, {t.pupil_id for t in moved})
        _remove_tasks(by_id, state, source_id, moved)
    return new


def _move_followers(by_id: dict[str, Visit], state: _State, source_id: str, new_id: str, pupils: set[int]) -> None:
    """The doses that follow `source_id` for these pupils now follow `new_id` (and so on down the chain)."""
    for follower in [v for v in by_id.values() if any(b == source_id for b, _ in v.after)]:
        moved = [t for t in follower.tasks if t.pupil_id in pupils]
        if not moved:
            continue
        split = replace(follower, visit_id=f"{follower.visit_id}@{new_id}", tasks=moved,
                        after=tuple((new_id if b == source_id else b, m) for b, m in follower.after),
                        session_id=None, previous=None, previous_staff=frozenset())
        by_id[split.visit_id] = split
        state.reasons[split.visit_id] = state.reasons.get(follower.visit_id, "no free half-day of the role in its window")
        _move_followers(by_id, state, follower.visit_id, split.visit_id, pupils)
        _remove_tasks(by_id, state, follower.visit_id, moved)


def _remove_tasks(by_id: dict[str, Visit], state: _State, visit_id: str, moved: list[Task]) -> None:
    visit = by_id[visit_id]
    gone = {id(t) for t in moved}
    visit.tasks = [t for t in visit.tasks if id(t) not in gone]
    if not visit.tasks:
        by_id.pop(visit_id)
        state.reasons.pop(visit_id, None)
