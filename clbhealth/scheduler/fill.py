"""The last step: every half-day still free goes to work still unplanned, cut to fit it.

The stages place whole visits, each cut to a morning's room. When a role is short, some of its
half-days stay free (an afternoon is shorter than any unplanned visit, or an unplanned visit's
window has no free morning, or a small school's visit fills a morning only in part) while work
of that role is left over. Here each free half-day, in order, takes the unplanned tasks of one
school that fit its room (the work whose window closes first, then class by class): a new,
smaller visit; then the room after the last session of a booked half-day takes work at that
school or at one a short drive away (two small schools share one person's half-day). A visit split this way takes the doses that
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
MAX_DRIVE_MINUTES = 20  # between two schools of one person's half-day
MIN_GUEST_MINUTES = 30  # room left in a half-day worth a second school
MIN_TASK_MINUTES = 5  # room left in a half-day worth more pupils at the same school


def fill_free_half_days(problem: PlanningProblem, state: _State, by_id: dict[str, Visit],
                        known: dict[str, HalfDay]) -> list[str]:
    """Place unplanned single-role work in free half-days, then in the room left after the last
    session of a booked half-day (at that school or one a short drive away); returns the ids of
    the new visits.

    `by_id` gains the new visits (placed) and the split follow-up doses (unplanned); the visits
    they came from keep the rest of their pupils (and are dropped when none is left).
    """
    added: list[str] = []
    for tails in (False, True):
        roles = {next(iter(v.roles)) for v in by_id.values()
                 if len(v.roles) == 1 and v.visit_id not in state.days and v.tasks}
        slots = _tail_slots(problem, state, by_id, roles) if tails else _free_slots(problem, state, roles)
        for slot in slots:
            new = fill_slot(problem, state, by_id, known, slot)
            if new is not None:
                added.append(new)
    return added


def fill_slot(problem: PlanningProblem, state: _State, by_id: dict[str, Visit], known: dict[str, HalfDay],
              slot: Slot) -> str | None:
    """Give one slot (a free half-day, or the room after a session) the unplanned work that suits
    it best; returns the id of the visit that took it, or None when no work fits.

    Work at the school of the session before (not an announced one) joins that session: the
    person stays in the room, so no new set-up, and the work may be cut to fit."""
    half, person, offset, before = slot
    work = _open_work(problem, state, by_id, {**known, **state.days}, person, half)
    if not work:
        return None
    host = by_id[before] if before is not None and before not in known else None
    taken, drive = _take(problem, person, half, work, offset, by_id[before].school_id if before else None,
                         host_school=host.school_id if host else None)
    if not taken:
        return None
    if host is not None and taken[0][0].school_id == host.school_id:
        _join(by_id, state, host, taken)
        return host.visit_id
    new = _split(by_id, state, taken)
    state.place(new.visit_id, half, {person.role: person.staff_id})
    if before is not None:
        state.after[new.visit_id] = (before, offset + drive)
    return new.visit_id


Slot = tuple[HalfDay, Person, int, "str | None"]  # half-day, person, minutes already used, the visit before


def _free_slots(problem: PlanningProblem, state: _State, roles: set[str]) -> list[Slot]:
    """Every (half-day, person) of the given roles that is worked, free, and after the notice day."""
    slots = []
    for person in problem.persons:
        if person.role not in roles:
            continue
        busy = state.busy.get(person.staff_id, set())
        for half in problem.available.get(person.staff_id, ()):
            if half not in busy and (problem.notice_day is None or half.day >= problem.notice_day):
                slots.append((half, person, 0, None))
    return sorted(slots, key=lambda s: (s[0], s[1].staff_id))


def _tail_slots(problem: PlanningProblem, state: _State, by_id: dict[str, Visit], roles: set[str]) -> list[Slot]:
    """The room after the last session of each booked single-person half-day of the given roles."""
    last: dict[tuple[str, HalfDay], tuple[int, str]] = {}
    for visit_id, half in state.days.items():
        visit = by_id.get(visit_id)
        if visit is None or len(state.staff[visit_id]) != 1:
            continue
        [(role, staff_id)] = state.staff[visit_id].items()
        if role not in roles:
            continue
        end = state.after.get(visit_id, (None, 0))[1] + visit.minutes
        key = (staff_id, half)
        if key not in last or end > last[key][0]:
            last[key] = (end, visit_id)
    slots = [(half, problem.person(staff_id), end, visit_id) for (staff_id, half), (end, visit_id) in last.items()
             if problem.block_minutes[half.part] - end >= MIN_TASK_MINUTES
             and (problem.notice_day is None or half.day >= problem.notice_day)]
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
        waiting = _pupils_waiting(visit, by_id, days, half.day)
        for task in visit.tasks:
            if person.staff_id not in task.excluded_staff and task.pupil_id not in waiting:
                work[visit.school_id].append((visit, task))
    return work


def _pupils_waiting(visit: Visit, by_id: dict[str, Visit], days: dict[str, HalfDay], day: dt.date) -> set[int]:
    """The pupils of this visit whose earlier dose is not placed, or not its interval before `day`
    (a visit following several visits waits only for the ones holding each pupil's earlier dose)."""
    waiting: set[int] = set()
    for before, months in visit.after:
        if before in days and add_months(days[before].day, months) <= day:
            continue
        if before not in by_id:
            return {t.pupil_id for t in visit.tasks}
        waiting |= {t.pupil_id for t in by_id[before].tasks}
    return waiting


def _befores_of(after: tuple[tuple[str, int], ...], pupils: set[int],
                by_id: dict[str, Visit]) -> tuple[tuple[str, int], ...]:
    """The visits of `after` that hold an earlier dose of these pupils (a visit no longer known
    stays: nothing says it does not)."""
    return tuple((b, m) for b, m in after
                 if b not in by_id or any(t.pupil_id in pupils for t in by_id[b].tasks))


def _take(problem: PlanningProblem, person: Person, half: HalfDay, work: dict[str, list[tuple[Visit, Task]]],
          offset: int = 0, from_school: str | None = None,
          host_school: str | None = None) -> tuple[list[tuple[Visit, Task]], int]:
    """The tasks of the school this slot serves best (and the drive there from the school before):
    among the schools that can fill a fair share of the room, the work whose window closes in the
    earliest month, then the fuller slot (to a tenth), then the nearer school. At `host_school`
    the work joins the session before it (no set-up, cut to fit)."""
    best, best_key, best_drive = [], None, 0
    block = problem.block_minutes[half.part]
    for school_id, items in work.items():
        joins = school_id == host_school
        drive = 0 if from_school is None or joins else problem.between(from_school, school_id)[1]
        if drive > MAX_DRIVE_MINUTES or (from_school is not None and not joins and block - offset < MIN_GUEST_MINUTES):
            continue
        setup = 0 if joins else max(v.setup for v, _ in items)
        chosen, used = _fitting(items, block - offset - drive, setup, whole_visits=from_school is not None and not joins)
        if not chosen:
            continue
        fill = (used - setup) / max(1, block - setup)
        closes = min(v.latest for v, _ in chosen)
        key = (fill < MIN_FILL_SHARE and from_school is None, (closes.year, closes.month), -round(fill, 1),
               drive if from_school else problem.km.get((person.staff_id, school_id), 0.0), -fill, school_id)
        if best_key is None or key < best_key:
            best, best_key, best_drive = chosen, key, drive
    return best, best_drive


def _fitting(items: list[tuple[Visit, Task]], room: int, setup: int,
             whole_visits: bool) -> tuple[list[tuple[Visit, Task]], int]:
    """The tasks that fit the room, the work whose window closes first first; after another
    school's session only whole visits (a small school's work, not a fragment of a big one)."""
    chosen, used = [], setup
    if whole_visits:
        groups: dict[str, list[tuple[Visit, Task]]] = defaultdict(list)
        for item in items:
            groups[item[0].visit_id].append(item)
        for group in sorted(groups.values(), key=lambda g: (g[0][0].latest, g[0][0].visit_id)):
            minutes = sum(t.minutes for _, t in group)
            if len(group) == len(group[0][0].tasks) and used + minutes <= room:
                chosen.extend(group)
                used += minutes
        return chosen, used
    for visit, task in sorted(items, key=lambda vt: (vt[0].latest, _task_order(vt[1]))):
        if used + task.minutes <= room:
            chosen.append((visit, task))
            used += task.minutes
    return chosen, used


def _task_order(task: Task) -> tuple:
    return (task.grade or "", task.class_name, task.pupil_id)


def _split(by_id: dict[str, Visit], state: _State, taken: list[tuple[Visit, Task]]) -> Visit:
    """One new visit of the taken tasks; their source visits keep the rest; follow-up doses of the
    taken pupils move to new follow-up visits that wait for this one."""
    sources: dict[str, list[Task]] = defaultdict(list)
    for visit, task in taken:
        sources[visit.visit_id].append(task)
    first = by_id[next(iter(sources))]
    tasks = [t for _, t in taken]
    number = 1
    while f"{first.visit_id}/+{number}" in by_id:
        number += 1
    new = Visit(visit_id=f"{first.visit_id}/+{number}", school_id=first.school_id, tasks=tasks, roles=first.roles,
                earliest=max(by_id[s].earliest for s in sources), latest=min(by_id[s].latest for s in sources),
                setup=max(by_id[s].setup for s in sources), bundle=first.bundle,
                kind="catch_up" if all(t.catch_up for t in tasks) else "regular",
                after=tuple(dict.fromkeys(a for s, moved in sources.items()
                                          for a in _befores_of(by_id[s].after, {t.pupil_id for t in moved}, by_id))))
    by_id[new.visit_id] = new
    _detach(by_id, state, sources, new.visit_id)
    return new


def _join(by_id: dict[str, Visit], state: _State, host: Visit, taken: list[tuple[Visit, Task]]) -> None:
    """The taken tasks join the host's session, after its pupils; their follow-up doses wait for it."""
    sources: dict[str, list[Task]] = defaultdict(list)
    for visit, task in taken:
        sources[visit.visit_id].append(task)
    host.tasks = host.tasks + [t for _, t in taken]
    _detach(by_id, state, sources, host.visit_id)


def _detach(by_id: dict[str, Visit], state: _State, sources: dict[str, list[Task]], new_id: str) -> None:
    """The moved tasks leave their source visits; the doses that follow them now follow `new_id`."""
    for source_id, moved in sources.items():
        _move_followers(by_id, state, source_id, new_id, {t.pupil_id for t in moved})
        _remove_tasks(by_id, state, source_id, moved)


def _move_followers(by_id: dict[str, Visit], state: _State, source_id: str, new_id: str, pupils: set[int]) -> None:
    """The doses that follow `source_id` for these pupils now follow `new_id` (and so on down the chain)."""
    for follower in [v for v in by_id.values() if v.visit_id != new_id and any(b == source_id for b, _ in v.after)]:
        moved = [t for t in follower.tasks if t.pupil_id in pupils]
        if not moved:
            continue
        split_id, number = f"{follower.visit_id}@{new_id}", 1
        while split_id in by_id:  # a second group of the same follower joining the same visit
            number += 1
            split_id = f"{follower.visit_id}@{new_id}#{number}"
        after = tuple((new_id if b == source_id else b, m) for b, m in follower.after)
        split = replace(follower, visit_id=split_id, tasks=moved, after=_befores_of(after, pupils, by_id),
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
    elif visit.after and visit_id not in state.days:
        visit.after = _befores_of(visit.after, {t.pupil_id for t in visit.tasks}, by_id)
