"""The plan as it grows (who is busy when), and the steps around the models: a free colleague for
an absent person's kept session, the other roles joining a session done together, and the repair
that gives left-over work to whoever of its role has a fitting free half-day."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from clbhealth.scheduler.assign import free_half_days, lead_role, person_cost
from clbhealth.scheduler.calendar import HalfDay, add_months
from clbhealth.scheduler.model import PlanningProblem, Visit
from clbhealth.scheduler.timetable import candidates

@dataclass
class _State:
    """The plan as it grows: days, people, and who is busy when."""

    days: dict[str, HalfDay] = field(default_factory=dict)
    staff: dict[str, dict[str, str]] = field(default_factory=dict)
    busy: dict[str, set[HalfDay]] = field(default_factory=lambda: defaultdict(set))
    reasons: dict[str, str] = field(default_factory=dict)
    # A visit on a shared half-day: (the visit the person comes from, minutes after the block start).
    after: dict[str, tuple[str, int]] = field(default_factory=dict)

    def place(self, visit_id: str, half: HalfDay, staff: dict[str, str]) -> None:
        self.days[visit_id] = half
        self.staff[visit_id] = dict(staff)
        self.after.pop(visit_id, None)
        for person in staff.values():
            self.busy[person].add(half)
        self.reasons.pop(visit_id, None)


def substitute_absent(problem: PlanningProblem, state: _State, rank: dict[str, int]) -> list[dict]:
    """A kept session whose person is now absent on its half-day goes to a free colleague of the
    same role on that half-day, before it would be moved later."""
    moves = []
    free = free_half_days(problem, state.busy)
    free_sets = {p: set(h) for p, h in free.items()}
    for visit in sorted(problem.visits, key=lambda v: v.visit_id):
        half = visit.previous
        if half is None or not visit.previous_staff or not problem.allowed(visit, half):
            continue
        if half in problem.closed.get(visit.school_id, set()):
            continue
        staff: dict[str, str] = {}
        for role in sorted(visit.roles):
            previous = [s for s in visit.previous_staff if problem.person(s).role == role]
            keep = [s for s in previous if half in free_sets.get(s, ())]
            if keep:
                staff[role] = keep[0]
                continue
            if not previous:
                break
            others = sorted((p for p in problem.persons if p.role == role and half in free_sets[p.staff_id]
                             and p.staff_id not in visit.excluded_staff),
                            key=lambda p: (person_cost(problem, visit, p), p.staff_id))
            if not others:
                break
            staff[role] = others[0].staff_id
        if len(staff) != len(visit.roles) or set(staff.values()) <= set(visit.previous_staff):
            continue  # nobody to substitute, or nobody absent: the models keep it where it was
        state.place(visit.visit_id, half, staff)
        for person in staff.values():
            free_sets[person].discard(half)
        moves.append({"visit_id": visit.visit_id, "half": str(half), "from": sorted(visit.previous_staff),
                      "to": sorted(staff.values())})
    return moves


def join_together(problem: PlanningProblem, visits: list[Visit], state: _State, rank: dict[str, int]) -> None:
    """Visits done together: the other roles join the lead person's half-day (the nearest free
    colleague); when none is free the visit goes back to the repair step."""
    for visit in visits:
        half = state.days.get(visit.visit_id)
        if half is None:
            continue
        lead = lead_role(visit, rank)
        staff = dict(state.staff[visit.visit_id])
        for role in sorted(visit.roles - {lead}):
            person = _free_person(problem, visit, role, half, state)
            if person is None:
                break
            staff[role] = person
        if len(staff) == len(visit.roles):
            state.place(visit.visit_id, half, staff)
        else:
            state.days.pop(visit.visit_id)
            state.busy[staff[lead]].discard(half)
            state.staff.pop(visit.visit_id)
            state.reasons[visit.visit_id] = f"no {', '.join(sorted(visit.roles - {lead}))} free with the {lead}"


def _free_person(problem: PlanningProblem, visit: Visit, role: str, half: HalfDay, state: _State) -> str | None:
    options = [p for p in problem.persons if p.role == role and p.staff_id not in visit.excluded_staff
               and half in problem.available.get(p.staff_id, ()) and half not in state.busy.get(p.staff_id, ())]
    if not options:
        return None
    return min(options, key=lambda p: (person_cost(problem, visit, p), p.staff_id)).staff_id


def repair(problem: PlanningProblem, visits: list[Visit], state: _State, rank: dict[str, int],
           pinned_days: dict[str, HalfDay]) -> None:
    """Work left over goes to whoever of its roles has a free half-day that fits, earliest first
    (first doses before the doses that follow them)."""
    by_id = {v.visit_id: v for v in problem.visits}
    order = sorted(visits, key=lambda v: (_depth(v, by_id), -v.pupil_moments, v.visit_id))
    for visit in order:
        known = {**pinned_days, **state.days}
        if any(b not in known for b, _ in visit.after):
            continue
        earliest = max([visit.earliest] + [add_months(known[b].day, m) for b, m in visit.after])
        latest = _latest_before_followers(visit, by_id, known)
        lead = lead_role(visit, rank)
        people = sorted((p for p in problem.persons if p.role == lead and p.staff_id not in visit.excluded_staff),
                        key=lambda p: (person_cost(problem, visit, p), p.staff_id))
        best = None
        for person in people:
            free = [h for h in problem.available.get(person.staff_id, ()) if h not in state.busy.get(person.staff_id, ())]
            for half in sorted(candidates(problem, visit, sorted(free), earliest)):
                if latest is not None and half.day > latest:
                    break
                staff = {lead: person.staff_id}
                others = {r: _free_person(problem, visit, r, half, state) for r in visit.roles - {lead}}
                if any(o is None for o in others.values()):
                    continue
                staff.update(others)  # type: ignore[arg-type]
                if best is None or half < best[0]:
                    best = (half, staff)
                break
        if best is not None:
            state.place(visit.visit_id, best[0], best[1])


def _depth(visit: Visit, by_id: dict[str, Visit]) -> int:
    depth, current = 0, visit
    while current.after and depth < 10:
        current = by_id.get(current.after[0][0], current)
        depth += 1
        if not current.after or current.after[0][0] not in by_id:
            break
    return depth


def _latest_before_followers(visit: Visit, by_id: dict[str, Visit], known: dict[str, HalfDay]) -> dt.date | None:
    """A dose placed now must leave its interval before the follow-up doses already placed."""
    latest = None
    for other in by_id.values():
        for before, months in other.after:
            if before == visit.visit_id and other.visit_id in known:
                limit = add_months(known[other.visit_id].day, -months)
                latest = limit if latest is None else min(latest, limit)
    return latest
