"""Small sessions ride along: a small session moves behind another session of its role at the same
school (or one a short drive away) on that session's half-day, so the half-day it leaves is free.

The stages plan in whole half-days, so the HPV2 of two pupils or the last class of a school takes
a whole morning of a doctor, the scarce role, while the same school has a session of that role on
another morning with room left. Here such a session moves into that room when both fit the block
(with the drive between them), its window, its school's calendar, the notice period, its dose
intervals (before and after) and its pupils' objections allow it, and when it costs less (travel
continuity and lateness, as the stages price them): to the same school it saves a round trip; to a school
nearby, most of one; never to a person who is not the school's fixed contact for a few km. A dose whose later dose is still unplanned moves
to a half-day early enough for that dose (by `followers_deadlines`) or not at all. The freed
half-days go to the fill (unplanned work) and the swap (a nearer colleague). Only new sessions
move; an announced one keeps its day.
"""

from __future__ import annotations

from collections import defaultdict

from clbhealth.scheduler.assign import person_cost
from clbhealth.scheduler.calendar import HalfDay
from clbhealth.scheduler.fill import MAX_DRIVE_MINUTES
from clbhealth.scheduler.model import Placement, PlanningProblem, Visit, followers_deadlines, followers_of
from clbhealth.scheduler.repair import _State
from clbhealth.scheduler.share import guest_fits, neighbours

Group = tuple[str, HalfDay]  # (staff_id, half-day): one person's sessions of one half-day


def join_small_sessions(problem: PlanningProblem, state: _State, by_id: dict[str, Visit],
                        known: dict[str, HalfDay]) -> int:
    """Move lone small sessions behind a session of their role with room; returns the half-days freed."""
    groups = session_groups(state, by_id)
    followers = followers_of(by_id.values())
    deadlines = followers_deadlines(list(by_id.values()))
    hosts = {h for h, _ in state.after.values()}
    lone = [by_id[v] for v in sorted(state.days) if lone_session(by_id.get(v), state, groups, hosts)]
    at_school: dict[str, list[Group]] = defaultdict(list)
    for group, members in groups.items():
        for visit_id in members:
            at_school[by_id[visit_id].school_id].append(group)
    near = neighbours(problem, sorted(at_school))
    freed = 0
    for guest in sorted(lone, key=lambda v: (v.minutes, -state.days[v.visit_id].day.toordinal(), v.visit_id)):
        if not lone_session(guest, state, groups, hosts):  # another session joined it meanwhile
            continue
        role = next(iter(guest.roles))
        days = {**known, **state.days}
        limit = deadlines.get(guest.visit_id) if any(f not in days for f, _ in followers[guest.visit_id]) else None
        own = (state.staff[guest.visit_id][role], state.days[guest.visit_id])
        stay = person_cost(problem, guest, problem.person(own[0])) + early_cost(problem, own[1])
        best = None
        for school_id, _ in [(guest.school_id, 0), *near.get(guest.school_id, ())]:
            for group in dict.fromkeys(at_school[school_id]):
                if group == own or group not in groups or problem.person(group[0]).role != role or (limit and group[1].day > limit):
                    continue
                offset = _end(state, by_id, groups[group])
                last = groups[group][-1]
                travel = 0 if by_id[last].school_id == guest.school_id else problem.between(by_id[last].school_id,
                                                                                            guest.school_id)[1]
                if travel > MAX_DRIVE_MINUTES or offset + travel + guest.minutes > problem.block_minutes[group[1].part]:
                    continue
                if not guest_fits(problem, guest, group[1], group[0], days, followers):
                    continue
                key = (_cost_behind(problem, guest, group, last, by_id) + early_cost(problem, group[1]),
                       group[1], group[0])
                if key[0] < stay and (best is None or key < best[0]):
                    best = (key, group, last, offset + travel)
        if best is not None:
            _move(state, groups, guest, own, best[1], best[2], best[3])
            hosts.add(best[2])
            at_school[guest.school_id].append(best[1])
            freed += 1
    return freed


def _cost_behind(problem: PlanningProblem, guest: Visit, group: Group, last: str, by_id: dict[str, Visit]) -> float:
    """The guest's person cost (continuity, travel) done by the group's person after its last session:
    the detour from there (`PlanningProblem.leg_km`) instead of a round trip."""
    staff_id, half = group
    leg = problem.leg_km(staff_id, Placement(guest.visit_id, half, {}, after_visit=last), by_id)
    return person_cost(problem, guest, problem.person(staff_id)) + problem.weights["travel"] * (
        leg - problem.km[(staff_id, guest.school_id)])


def early_cost(problem: PlanningProblem, half: HalfDay) -> float:
    """The soft goal `early` of a session on this half-day."""
    first = problem.half_days[0].day if problem.half_days else half.day
    return problem.weights["early"] * ((half.day - first).days // 7)


def session_groups(state: _State, by_id: dict[str, Visit]) -> dict[Group, list[str]]:
    """Each (person, half-day) -> the visits the person does then, in the order of the day."""
    groups: dict[Group, list[str]] = defaultdict(list)
    for visit_id, half in state.days.items():
        if visit_id in by_id:
            for person in state.staff.get(visit_id, {}).values():
                groups[(person, half)].append(visit_id)
    for members in groups.values():
        members.sort(key=lambda v: (state.after.get(v, (None, 0))[1], v))
    return groups


def lone_session(visit: Visit | None, state: _State, groups: dict[Group, list[str]], hosts: set[str]) -> bool:
    """A new single-role session alone on its person's half-day, neither a guest nor a host."""
    if visit is None or len(visit.roles) != 1 or visit.previous is not None or visit.visit_id in state.after:
        return False
    if visit.visit_id in hosts or not visit.tasks:
        return False
    staff = state.staff[visit.visit_id]
    return len(staff) == 1 and len(groups.get((next(iter(staff.values())), state.days[visit.visit_id]), ())) == 1


def _end(state: _State, by_id: dict[str, Visit], members: list[str]) -> int:
    """Minutes after the block's start at which the group's last session ends."""
    return max(state.after.get(v, (None, 0))[1] + by_id[v].minutes for v in members)


def _move(state: _State, groups: dict[Group, list[str]], guest: Visit, own: Group, group: Group,
          last: str, offset: int) -> None:
    """Put the guest behind the group's last session and free the half-day it leaves."""
    role = next(iter(guest.roles))
    state.busy[own[0]].discard(own[1])
    del groups[own]
    state.place(guest.visit_id, group[1], {role: group[0]})
    state.after[guest.visit_id] = (last, offset)
    groups[group].append(guest.visit_id)
