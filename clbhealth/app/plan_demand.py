"""The planning use case's demand side: the moments in force with their parts and windows, the
previous plan's sessions kept or followed, the expected consent, the notice period."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pandas as pd

from clbhealth.app.due_list import due_settings
from clbhealth.app.plan_context import OldSession
from clbhealth.scheduler.calendar import HalfDay, window_dates
from clbhealth.scheduler.demand import MomentSpec, _follow_ups
from clbhealth.scheduler.model import Person, Placement, Task, Visit
from clbhealth.workspace.folder import Workspace
from clbhealth.workspace.settings import Window

MIN_FORMS_TO_LEARN = 20
DEFAULT_RETURN_RATE = 0.8  # [I] no source gives a figure


def moment_specs(workspace: Workspace) -> dict[str, MomentSpec]:
    """Minutes, roles, window and follow-up doses per code in force (protocol + clbhealth.toml)."""
    config = workspace.config
    protocol = workspace.protocol
    year = config.school_year
    rules = protocol.in_force(year)
    two_dose = due_settings(workspace).two_dose_15_18  # the CLB's choice of the 2-dose HPV schedule for 15-18
    specs = {}
    for rule in rules:
        if rule.code in specs:
            continue
        chain = []
        three_age = None
        code = rule.code
        while True:
            nxt = next((r for r in rules if r.follows == code), None)
            if nxt is None:
                break
            chain.append((nxt.code, nxt.interval_months, nxt.interval_months_three_dose, nxt.only_three_dose))
            three_age = three_age or nxt.three_dose_age(two_dose)
            code = nxt.code
        first_dose = rule.follows
        for _ in rules:  # back along the series to its first dose (bounded: no endless loop on a bad protocol)
            before = next((r for r in rules if r.code == first_dose and r.follows), None)
            if before is None:
                break
            first_dose = before.follows
        window = config.planning.windows.get(rule.code)
        if window is None and rule.window_until:  # the protocol's window (HPV1 before Christmas)
            window = Window(until=rule.window_until)
        start, end = window_dates(window, year)
        roles = tuple(config.planning.roles.get(rule.code, rule.staff))
        if rule.kind == "vaccination" and config.planning.nurse_assists_vaccination and "nurse" not in roles:
            roles = (*roles, "nurse")
        parts, together = config.parts_for(rule.code, rule.minutes, roles)
        specs[rule.code] = MomentSpec(
            code=rule.code, kind=rule.kind, minutes=config.minutes_for(rule.code, rule.minutes),
            roles=frozenset(parts), earliest=start, latest=end,
            with_contact=rule.with_contact, follow_ups=tuple(chain), three_dose_age=three_age,
            first_dose=first_dose, parts=tuple(sorted(parts.items())), together=together,
        )
    return specs


def consent_return_rate(events: pd.DataFrame, setting: float | None) -> tuple[float, str]:
    """The share of consent forms expected back with consent: the setting, else learned from this
    workspace's returned forms (given / (given + refused)), else 0.8 [I]."""
    if setting is not None:
        return setting, "clbhealth.toml [planning] consent_return_rate"
    given = int((events["status"] == "consent_given").sum()) if len(events) else 0
    refused = int((events["status"] == "consent_refused").sum()) if len(events) else 0
    if given + refused >= MIN_FORMS_TO_LEARN:
        return round(given / (given + refused), 3), f"learned from {given + refused} returned forms"
    return DEFAULT_RETURN_RATE, f"default [I] (only {given + refused} returned forms to learn from)"


def notice_day(half_days: list[HalfDay], as_of: dt.date, school_days: int) -> dt.date | None:
    """The first day a new session may fall on: `school_days` school days after the day of planning."""
    days = sorted({h.day for h in half_days if h.day > as_of})
    if school_days <= 0 or not days:
        return None
    return days[school_days - 1] if school_days <= len(days) else days[-1] + dt.timedelta(days=1)


def sticky_visits(tasks: list[Task], movable: dict[str, OldSession], setup: int,
                   capacity: int) -> tuple[list[Visit], list[Task]]:
    """Tasks whose pupil was planned in a session that may still change stay with that session."""
    where: dict[tuple[int, str], list[str]] = defaultdict(list)
    for sid, session in sorted(movable.items()):
        for (pid, moment), outcome in session.pupils.items():
            if outcome is None:
                where[(pid, moment)].append(sid)
    grouped: dict[tuple[str, frozenset], list[Task]] = defaultdict(list)
    loose = []
    for task in tasks:
        # The previous session that did this part: the one with the pupil and the task's roles.
        sid = next((s for m in task.moments for s in where.get((task.pupil_id, m), ())
                    if task.roles <= set(movable[s].staff)), None)
        session = movable.get(sid) if sid else None
        if session is not None and task.earliest <= session.half.day <= task.latest and session.school_id == task.school_id:
            grouped[(sid, task.roles)].append(task)
        else:
            loose.append(task)
    visits = []
    owner: set[str] = set()
    for (sid, roles), kept in sorted(grouped.items(), key=lambda kv: (kv[0][0], -len(kv[0][1]), sorted(kv[0][1]))):
        session = movable[sid]
        room, fits = capacity, []
        for task in sorted(kept, key=lambda t: (t.class_name, t.pupil_id)):
            if task.minutes <= room:  # more work than the block holds now (forms came back): the rest moves
                fits.append(task)
                room -= task.minutes
            else:
                loose.append(task)
        kept = fits
        if not kept:
            continue
        # A session of an older plan done together may now be parts apart: the first part keeps its id.
        keeps_id = sid not in owner
        owner.add(sid)
        visits.append(Visit(
            visit_id=f"KEEP:{sid}:{'+'.join(sorted(roles))}", school_id=session.school_id, tasks=kept,
            roles=roles, earliest=max(t.earliest for t in kept),
            latest=min(t.latest for t in kept), setup=setup, bundle=kept[0].bundle, kind=session.kind,
            session_id=sid if keeps_id else None, previous=session.half, previous_start=session.start,
            previous_staff=frozenset(p for r, p in session.staff.items() if r in roles),
        ))
    return visits, loose


def team_can_meet(persons: list[Person], available: dict[str, set[HalfDay]], closed: dict[str, set[HalfDay]]):
    """Whether, in a window, some person of each role (none that pupils object to) is free on one
    same half-day when the school is open: the packer combines work only into visits that can happen."""
    by_role: dict[str, set[HalfDay]] = defaultdict(set)
    people: dict[str, set[str]] = defaultdict(set)
    for person in persons:
        by_role[person.role] |= available.get(person.staff_id, set())
        people[person.role].add(person.staff_id)
    cache: dict[tuple, bool] = {}

    def free(role: str, excluded: frozenset) -> set[HalfDay]:
        if not excluded & people[role]:
            return by_role.get(role, set())
        return set().union(*(available.get(p, set()) for p in people[role] - excluded))

    def can_meet(school_id: str, roles: frozenset, first: dt.date, last: dt.date,
                 excluded: frozenset = frozenset()) -> bool:
        key = (school_id, roles, first, last, excluded)
        if key not in cache:
            common = set.intersection(*(free(r, excluded) for r in roles)) if roles else set()
            shut = closed.get(school_id, set())
            cache[key] = any(first <= h.day <= last and h not in shut for h in common)
        return cache[key]

    return can_meet


def doses_given(events: pd.DataFrame, old: dict[str, OldSession], pinned: set[str]) -> dict[tuple[int, str], dt.date]:
    """The first day each (pupil, code) was done, or is planned in a kept session."""
    given: dict[tuple[int, str], dt.date] = {}
    done = events[events["status"].isin(["done", "done_external"])]
    for pupil_id, code, day in zip(done["pupil_id"].astype(int), done["code"], done["date"]):
        when = dt.date.fromisoformat(str(day)[:10])
        if (pupil_id, code) not in given or when < given[(pupil_id, code)]:
            given[(pupil_id, code)] = when
    for sid in sorted(pinned, key=lambda s: old[s].half):
        for (pupil_id, code), outcome in old[sid].pupils.items():
            if outcome in (None, "seen"):
                given.setdefault((pupil_id, code), old[sid].half.day)
    return given


def pinned_visits(old: dict[str, OldSession], pinned: set[str], specs: dict[str, MomentSpec],
                   birth: dict[int, dt.date], setup: int,
                   given: dict[tuple[int, str], dt.date] | None = None) -> tuple[list[Visit], list[Placement]]:
    """Kept sessions as fixed visits, so that doses planned in them get their follow-up sessions."""
    visits, placements = [], []
    for sid in sorted(pinned):
        session = old[sid]
        placements.append(Placement(f"PIN:{sid}", session.half, dict(session.staff)))
        tasks = []
        for (pid, moment), outcome in session.pupils.items():
            spec = specs.get(moment)
            if spec is None or not spec.follow_ups or outcome not in (None,):
                continue
            first_given = (given or {}).get((pid, spec.first_dose)) if spec.first_dose else None
            follow = tuple(_follow_ups(spec, birth.get(pid), session.half.day, first_given))
            tasks.append(Task(pid, session.school_id, "", None, (moment,), spec.minutes, spec.roles,
                              session.half.day, session.half.day, moment, follow_ups=follow))
        if tasks:
            visits.append(Visit(f"PIN:{sid}", session.school_id, tasks, frozenset(session.staff),
                                session.half.day, session.half.day, setup, tasks[0].bundle))
    return visits, placements


def match_follow_ups(follow: list[Visit], movable: dict[str, OldSession]) -> None:
    """A follow-up visit takes over the previous plan's session with most of the same pupils."""
    taken: set[str] = set()
    for visit in follow:
        pupils = {(t.pupil_id, m) for t in visit.tasks for m in t.moments}
        best, overlap = None, 0
        for sid, session in movable.items():
            if sid in taken or session.school_id != visit.school_id:
                continue
            common = len(pupils & set(session.pupils))
            if common > overlap:
                best, overlap = sid, common
        if best is not None:
            taken.add(best)
            session = movable[best]
            visit.session_id, visit.previous, visit.previous_start = best, session.half, session.start
            visit.previous_staff = frozenset(session.staff.values())
