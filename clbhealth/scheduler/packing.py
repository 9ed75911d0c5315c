"""Packing each role's tasks into half-day visits per school: classes whole where they fit, grades
together, the fewest visits the minutes allow; kept sessions first. Pure: data in, data out."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable

from clbhealth.scheduler.model import Task, Visit, first_possible_day

MIN_SHARED_WINDOW_DAYS = 21

# (school, roles, first day, last day, staff excluded by objections) -> can such a team meet there then?
TeamCanMeet = Callable[[str, frozenset, dt.date, dt.date, frozenset], bool]

def pack_visits(tasks: list[Task], capacity: int, setup: int, sticky: list[Visit] | None = None,
                can_meet: TeamCanMeet | None = None) -> list[Visit]:
    """Pack tasks into visits of at most `capacity` pupil-minutes per half-day block.

    Per school and time window, pupils are laid out class after class (bigger teams first, then by
    grade) and cut into consecutive blocks, which gives the fewest visits a window's minutes allow
    while keeping grades together. Partly filled visits are then merged where they fit and their
    windows share at least three weeks. `sticky` visits come from the previous plan (re-planning):
    they keep their pupils, and new work fills their free room first (a catch-up pupil joins a
    kept session that lies after the absence), so published sessions change as little as possible.
    `can_meet` says whether a team of some roles, without the staff some pupils object to, can be at
    a school on any half-day of a window at all; work is never combined into a visit whose team
    cannot (a nurse-only class does not join a doctor's visit when no doctor is ever free with the
    nurses; a pupil who objects to the only nurse is not packed with the class), so work that could
    be planned is not held back by work that cannot.
    """
    by_roles: dict[frozenset[str], list[Task]] = defaultdict(list)
    for task in tasks:
        by_roles[task.roles].append(task)
    kept: dict[frozenset[str], list[Visit]] = defaultdict(list)
    for visit in sticky or []:
        kept[visit.roles].append(visit)
    if len(set(by_roles) | set(kept)) > 1:
        # One role's work (or one together-team's) per visit: packed apart, so none waits for another.
        result: list[Visit] = []
        for roles in sorted(set(by_roles) | set(kept), key=sorted):
            result.extend(pack_visits(by_roles.get(roles, []), capacity, setup, kept.get(roles, []), can_meet))
        return result
    by_school: dict[str, list[Task]] = defaultdict(list)
    for task in tasks:
        by_school[task.school_id].append(task)
    sticky_by_school: dict[str, list[Visit]] = defaultdict(list)
    for visit in sticky or []:
        sticky_by_school[visit.school_id].append(visit)
    visits: list[Visit] = []
    for school_id in sorted(set(by_school) | set(sticky_by_school)):
        bins = [_Bin(v.roles, sum(t.minutes for t in v.tasks), list(v.tasks), v.earliest, v.latest, v)
                for v in sticky_by_school.get(school_id, [])]
        rest = _fill_kept(by_school.get(school_id, []), bins, capacity)
        windows: dict[tuple, list[Task]] = defaultdict(list)
        for task in rest:
            windows[(task.earliest, task.latest, task.catch_up)].append(task)
        for key in sorted(windows):
            for group in _groups_that_can_meet(school_id, windows[key], can_meet):
                bins.extend(_cut(group, capacity))
        _merge_partial(bins, capacity, school_id, can_meet)
        visits.extend(_emit(school_id, bins, setup))
    return visits

@dataclass
class _Bin:
    roles: frozenset[str]
    used: int
    tasks: list[Task]
    earliest: dt.date
    latest: dt.date
    origin: Visit | None = None

def _order(task: Task) -> tuple:
    return (-len(task.roles), tuple(sorted(task.roles)), task.bundle, task.grade or "", task.class_name, task.pupil_id)

def _fill_kept(tasks: list[Task], bins: list[_Bin], capacity: int) -> list[Task]:
    """Put tasks into kept visits that can take them (room, team, the kept day in the task's window)."""
    rest = []
    for task in sorted(tasks, key=_order):
        target = None
        for b in bins:
            kept = b.origin.previous if b.origin is not None else None
            if kept is None or b.used + task.minutes > capacity or not task.roles <= b.roles:
                continue
            if max(task.earliest, b.earliest) <= kept.day <= min(task.latest, b.latest):
                if target is None or b.used > target.used:
                    target = b
        if target is None:
            rest.append(task)
            continue
        target.tasks.append(task)
        target.used += task.minutes
        target.earliest, target.latest = max(target.earliest, task.earliest), min(target.latest, task.latest)
    return rest

def _groups_that_can_meet(school_id: str, tasks: list[Task], can_meet: TeamCanMeet | None) -> list[list[Task]]:
    """The tasks of one window as groups that may share visits: all of them, unless the team they
    need together can never meet at the school in the window; then one group per team (roles and
    staff excluded by objections)."""
    teams = sorted({(t.roles, t.excluded_staff) for t in tasks}, key=lambda k: (-len(k[0]), sorted(k[0]), sorted(k[1])))
    if can_meet is None or len(teams) < 2:
        return [tasks]
    start, end = max(t.earliest for t in tasks), min(t.latest for t in tasks)
    roles = frozenset().union(*(r for r, _ in teams))
    if can_meet(school_id, roles, start, end, frozenset().union(*(x for _, x in teams))):
        return [tasks]
    return [[t for t in tasks if (t.roles, t.excluded_staff) == team] for team in teams]

def _cut(tasks: list[Task], capacity: int) -> list[_Bin]:
    """Consecutive blocks over the pupils in class order: the fewest visits for these minutes
    (a class is split only where a block is full)."""
    ordered = sorted(tasks, key=_order)
    bins: list[_Bin] = []
    current: list[Task] = []
    used = 0
    for task in ordered:
        if current and used + task.minutes > capacity:
            bins.append(_bin_of(current))
            current, used = [], 0
        current.append(task)
        used += task.minutes
    if current:
        bins.append(_bin_of(current))
    return bins

def _bin_of(tasks: list[Task]) -> _Bin:
    return _Bin(frozenset().union(*(t.roles for t in tasks)), sum(t.minutes for t in tasks), list(tasks),
                max(t.earliest for t in tasks), min(t.latest for t in tasks))

def _merge_partial(bins: list[_Bin], capacity: int, school_id: str = "", can_meet: TeamCanMeet | None = None) -> None:
    """Merge partly filled visits of one school when together they fit one block (and their
    joint team can meet there in their shared window)."""
    while True:
        best = None
        excluded = [frozenset().union(*(t.excluded_staff for t in b.tasks)) for b in bins] if can_meet else []
        for i, a in enumerate(bins):
            for j, b in enumerate(bins):
                if j <= i or a.used + b.used > capacity or (a.origin is not None and b.origin is not None):
                    continue
                start, end = max(a.earliest, b.earliest), min(a.latest, b.latest)
                if (end - start).days < MIN_SHARED_WINDOW_DAYS:
                    continue
                if can_meet is not None and not can_meet(school_id, a.roles | b.roles, start, end,
                                                         excluded[i] | excluded[j]):
                    continue
                kept = (a.origin or b.origin)
                if kept is not None and kept.previous is not None and not start <= kept.previous.day <= end:
                    continue
                same_window = (a.earliest, a.latest) == (b.earliest, b.latest)
                extra_roles = len(a.roles | b.roles) - max(len(a.roles), len(b.roles))
                score = (same_window, -extra_roles, a.used + b.used)
                if best is None or score > best[0]:
                    best = (score, i, j)
        if best is None:
            return
        _, i, j = best
        a, b = bins[i], bins[j]
        if b.origin is not None:
            a, b = b, a
        a.tasks.extend(b.tasks)
        a.used += b.used
        a.roles = a.roles | b.roles
        a.earliest, a.latest = max(a.earliest, b.earliest), min(a.latest, b.latest)
        bins.remove(b)

def _emit(school_id: str, bins: list[_Bin], setup: int) -> list[Visit]:
    visits = []
    counter: dict[str, int] = defaultdict(int)
    for b in bins:
        if not b.tasks:
            continue
        if b.origin is not None:
            origin = b.origin
            origin.tasks, origin.roles = b.tasks, frozenset(b.roles)
            origin.earliest, origin.latest = b.earliest, b.latest
            visits.append(origin)
            continue
        bundle = max(_count(b.tasks, "bundle").items(), key=lambda kv: (kv[1], kv[0]))[0]
        counter[bundle + "+".join(sorted(b.roles))] += 1
        visits.append(Visit(
            visit_id=f"{school_id}/{bundle}/{'+'.join(sorted(b.roles))}/{b.earliest:%m%d}/{counter[bundle + '+'.join(sorted(b.roles))]}",
            school_id=school_id, tasks=b.tasks, roles=frozenset(b.roles), earliest=b.earliest,
            latest=b.latest, setup=setup, bundle=bundle,
            kind="catch_up" if all(t.catch_up for t in b.tasks) else "regular",
        ))
    return visits

def _count(tasks: list[Task], attribute: str) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for task in tasks:
        counts[getattr(task, attribute)] += task.minutes
    return counts

RIDE_MARGIN_DAYS = 30  # a later dose takes riders only when its window lasts this long


def ride_with_follow_ups(visits: list[Visit], follow: list[Visit], capacity: int) -> list[Visit]:
    """Flexible visits ride with the later doses of their school: a visit of the same team with no
    dose series of its own, no objection and no kept session, whose window holds the later dose's
    whole window (from its first possible day), joins a later-dose visit with room for all of it
    (best fit, the biggest first); never one whose own later dose must still follow, nor one whose
    window is shorter than RIDE_MARGIN_DAYS. Two pupils' HPV2 and a class's S3 then take one
    half-day instead of two, which leaves the scarce doctors' half-days free. Returns the visits
    that stay on their own (the riders are kept on their host, see `unhook_riders`)."""
    by_id = {v.visit_id: v for v in visits + follow}
    room: dict[str, int] = {}
    by_school: dict[str, list[Visit]] = defaultdict(list)
    followed = {before for v in follow for before, _ in v.after}  # a dose whose later dose follows keeps its time
    for visit in follow:
        if visit.session_id is None and not visit.excluded_staff and visit.visit_id not in followed:
            room[visit.visit_id] = capacity - sum(t.minutes for t in visit.tasks)
            by_school[visit.school_id].append(visit)
    first_day = {v.visit_id: first_possible_day(v, by_id) for v in follow}
    kept: list[Visit] = []
    for rider in sorted(visits, key=lambda v: (-sum(t.minutes for t in v.tasks), v.visit_id)):
        host = _best_host(rider, by_school.get(rider.school_id, []), room, first_day)
        if host is None:
            kept.append(rider)
            continue
        host.tasks.extend(rider.tasks)
        host.riders += (rider,)
        room[host.visit_id] -= sum(t.minutes for t in rider.tasks)
    order = {v.visit_id: i for i, v in enumerate(visits)}
    return sorted(kept, key=lambda v: order[v.visit_id])


def _best_host(rider: Visit, hosts: list[Visit], room: dict[str, int], first_day: dict[str, dt.date]) -> Visit | None:
    """The later-dose visit with the least room that still takes the whole rider, if it may ride."""
    minutes = sum(t.minutes for t in rider.tasks)
    if (not hosts or rider.after or rider.session_id is not None or rider.previous is not None
            or rider.excluded_staff or any(t.follow_ups for t in rider.tasks)):
        return None
    fits = [h for h in hosts if h.roles == rider.roles and room[h.visit_id] >= minutes
            and rider.earliest <= first_day[h.visit_id] and rider.latest >= h.latest
            and (h.latest - first_day[h.visit_id]).days >= RIDE_MARGIN_DAYS]
    return min(fits, key=lambda h: (room[h.visit_id], h.visit_id), default=None)


def unhook_riders(host: Visit) -> list[Visit]:
    """A later dose's riders as visits of their own again (its earlier dose stays unplanned, so the
    work that rode with it must not wait for it); the host keeps its own doses."""
    riders, host.riders = list(host.riders), ()
    mine = {id(t) for rider in riders for t in rider.tasks}
    host.tasks = [t for t in host.tasks if id(t) not in mine]
    return riders
