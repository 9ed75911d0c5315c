"""Two small schools close to each other share one half-day of one person.

A half-day is the unit the stages plan in, so a visit of forty minutes at a small school takes a
whole morning. When a role is short (its work is left unplanned), that morning is worth more
elsewhere: a small visit moves behind another small visit of the same role at a school nearby,
on that visit's half-day, when both fit the block with the drive between them, its window, its
school's calendar, its dose intervals and its pupils' objections allow it, and only when the
half-day it leaves then takes unplanned work (else it stays). Only new sessions move (an
announced one keeps its day).
"""

from __future__ import annotations

from collections import defaultdict

from clbhealth.scheduler.calendar import HalfDay, add_months
from clbhealth.scheduler.fill import MAX_DRIVE_MINUTES, MIN_GUEST_MINUTES, fill_slot
from clbhealth.scheduler.model import PlanningProblem, Visit, followers_of
from clbhealth.scheduler.repair import _State

TRIES_PER_HOST = 3  # nearby visits tried behind one small visit


def share_half_days(problem: PlanningProblem, state: _State, by_id: dict[str, Visit],
                    known: dict[str, HalfDay]) -> int:
    """Move small visits behind a nearby small visit's half-day; returns the half-days freed."""
    short = {next(iter(v.roles)) for v in by_id.values()
             if len(v.roles) == 1 and v.visit_id not in state.days and v.pupil_moments}
    movable = [by_id[v] for v in sorted(state.days) if v in by_id and len(by_id[v].roles) == 1
               and next(iter(by_id[v].roles)) in short and by_id[v].previous is None and v not in state.after]
    by_school: dict[str, list[Visit]] = defaultdict(list)
    for visit in movable:
        by_school[visit.school_id].append(visit)
    near = neighbours(problem, sorted(by_school))
    followers = followers_of(by_id.values())
    days = {**known, **state.days}
    taken: set[str] = {v for v, _ in state.after.values()}  # hosts and guests already
    freed = 0
    for host in sorted(movable, key=lambda v: (v.minutes, v.visit_id)):
        half = state.days[host.visit_id]
        role = next(iter(host.roles))
        room = problem.block_minutes[half.part] - host.minutes
        if host.visit_id in taken or room < MIN_GUEST_MINUTES:
            continue
        person = state.staff[host.visit_id][role]
        options = []
        for school_id, drive in near.get(host.school_id, ()):
            for guest in by_school[school_id]:
                if guest.visit_id in taken or guest.minutes + drive > room:
                    continue
                if guest_fits(problem, guest, half, person, days, followers):
                    options.append((drive, -guest.minutes, guest.visit_id, guest))
        for drive, _, _, guest in sorted(options)[:TRIES_PER_HOST]:
            if _move_if_it_frees_work(problem, state, by_id, known, host, guest, drive):
                days = {**known, **state.days}
                taken |= {host.visit_id, guest.visit_id}
                freed += 1
                break
    return freed


def _move_if_it_frees_work(problem: PlanningProblem, state: _State, by_id: dict[str, Visit],
                           known: dict[str, HalfDay], host: Visit, guest: Visit, drive: int) -> bool:
    """Move the guest behind the host when the half-day it leaves then takes unplanned work;
    otherwise leave it where it was."""
    role = next(iter(guest.roles))
    old_half, old_person = state.days[guest.visit_id], state.staff[guest.visit_id][role]
    half, person = state.days[host.visit_id], state.staff[host.visit_id][role]
    if old_half in state.busy[old_person] and sum(
            1 for v, h in state.days.items() if h == old_half and state.staff[v].get(role) == old_person) > 1:
        return False  # the guest shares its own half-day: moving it frees nothing
    state.busy[old_person].discard(old_half)
    state.place(guest.visit_id, half, {role: person})
    state.after[guest.visit_id] = (host.visit_id, host.minutes + drive)
    if fill_slot(problem, state, by_id, known, (old_half, problem.person(old_person), 0, None)) is not None:
        return True
    state.place(guest.visit_id, old_half, {role: old_person})
    return False


def neighbours(problem: PlanningProblem, schools: list[str]) -> dict[str, list[tuple[str, int]]]:
    """Per school, the other schools within the drive of a shared half-day, nearest first."""
    near: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for i, a in enumerate(schools):
        for b in schools[i + 1:]:
            _, minutes = problem.between(a, b)
            if minutes <= MAX_DRIVE_MINUTES:
                near[a].append((b, minutes))
                near[b].append((a, minutes))
    for items in near.values():
        items.sort(key=lambda kv: (kv[1], kv[0]))
    return near


def guest_fits(problem: PlanningProblem, guest: Visit, half: HalfDay, person: str, days: dict[str, HalfDay],
                followers: dict[str, list[tuple[str, int]]]) -> bool:
    """The guest's window, school calendar, notice, objections and dose intervals allow this half-day."""
    if not guest.earliest <= half.day <= guest.latest or half in problem.closed.get(guest.school_id, ()):
        return False
    if not problem.allowed(guest, half) or person in guest.excluded_staff:
        return False
    if any(b not in days or add_months(days[b].day, m) > half.day for b, m in guest.after):
        return False
    return all(f not in days or days[f].day >= add_months(half.day, m) for f, m in followers.get(guest.visit_id, ()))


def hold_out_guests(visits: list[Visit]) -> dict[str, str]:
    """Re-planning: visits of the previous plan that shared a person's half-day. Each one but the
    first of that half-day waits outside the stages (guest -> the visit before it), so that the
    models do not pull a shared half-day apart; it rejoins its host afterwards."""
    groups: dict[tuple, list[Visit]] = defaultdict(list)
    for visit in visits:
        if visit.previous is not None and visit.previous_staff and len(visit.roles) == 1:
            groups[(visit.previous, visit.previous_staff)].append(visit)
    guests = {}
    for group in groups.values():
        group.sort(key=lambda v: (v.previous_start, v.visit_id))
        for host, guest in zip(group, group[1:]):
            guests[guest.visit_id] = host.visit_id
    return guests


def rejoin_guests(problem: PlanningProblem, state: _State, guests: dict[str, str], by_id: dict[str, Visit],
                  known: dict[str, HalfDay]) -> list[Visit]:
    """Each held-out guest follows its host again when the host kept its half-day and person and
    the guest still fits; returns the guests that do not (they go to the repair step)."""
    followers = followers_of(by_id.values())
    failed = []
    for guest_id, host_id in guests.items():  # in half-day order: a guest may host the next one
        guest, host = by_id[guest_id], by_id.get(host_id)
        role = next(iter(guest.roles))
        half = guest.previous
        person = state.staff.get(host_id, {}).get(role) if host is not None else None
        if host is None or state.days.get(host_id) != half or person not in guest.previous_staff:
            failed.append(guest)
            continue
        offset = state.after.get(host_id, (None, 0))[1] + host.minutes + problem.between(host.school_id, guest.school_id)[1]
        if offset + guest.minutes > problem.block_minutes[half.part] or \
                not guest_fits(problem, guest, half, person, {**known, **state.days}, followers):
            failed.append(guest)
            continue
        state.place(guest_id, half, {role: person})
        state.after[guest_id] = (host_id, offset)
    return failed
