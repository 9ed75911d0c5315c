"""From the due list to visits: each pupil's moments become tasks (a contact with the doses that
go with it), tasks of one class form jobs, and jobs are packed into half-day visits per school.

Packing keeps classes whole where they fit and grades together, and only combines work whose
time window is the same and whose team is already present (a nurse-only class may join a
nurse-and-doctor visit, not the other way round). Pure: data in, data out.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, replace

import pandas as pd

from clbhealth.scheduler.model import Task, Visit, first_possible_day
from clbhealth.scheduler.packing import MIN_SHARED_WINDOW_DAYS, TeamCanMeet, pack_visits  # noqa: F401  (re-export)


@dataclass(frozen=True)
class MomentSpec:
    """What the planner needs to know of one code."""

    code: str
    kind: str  # contact | vaccination
    minutes: int
    roles: frozenset[str]
    earliest: dt.date
    latest: dt.date
    with_contact: str | None = None
    # Later doses: (code, months after, months after in the 3-dose schedule, only in that schedule)
    follow_ups: tuple[tuple[str, int, int | None, bool], ...] = ()
    three_dose_age: int | None = None
    # For a later dose (HPV2): the series' first dose, whose age decides the 3-dose schedule.
    first_dose: str | None = None
    # Each role's part: (role, minutes per pupil). `together`: every role in one session at once.
    parts: tuple[tuple[str, int], ...] = ()
    together: bool = False

    def part_minutes(self) -> dict[str, int]:
        return dict(self.parts) if self.parts else {role: self.minutes for role in self.roles}


def build_tasks(due: pd.DataFrame, specs: dict[str, MomentSpec], birth_dates: dict[int, dt.date],
                range_start: dt.date, range_end: dt.date,
                given: dict[tuple[int, str], dt.date] | None = None) -> tuple[list[Task], list[dict]]:
    """Tasks for every pupil-moment in `due` (rows of compute_due); returns (tasks, rejected).

    Rejected rows are pupil-moments whose window lies outside the planning range, with a reason.
    `given` holds the day each (pupil, dose) was given or planned before: a later dose's follow-ups
    depend on the pupil's age at the series' first dose, not at this one.
    """
    given, tasks, rejected = given or {}, [], []
    if due.empty:
        return tasks, rejected
    columns = {c: due[c].tolist() for c in ("pupil_id", "school_id", "class", "grade", "moment", "excluded_staff")}
    due_from = _dates(due["due_from_date"])
    absent_on = _dates(due["absent_on"])
    rows_of: dict[int, list[int]] = defaultdict(list)
    for i, pupil_id in enumerate(columns["pupil_id"]):
        rows_of[int(pupil_id)].append(i)
    for pupil_id, rows in rows_of.items():
        first = rows[0]
        excluded = frozenset(s for s in str(columns["excluded_staff"][first] or "").split(";") if s)
        windows: dict[str, tuple[dt.date, dt.date, bool]] = {}
        for i in rows:
            moment = columns["moment"][i]
            spec = specs.get(moment)
            if spec is None:
                continue
            start, end = max(spec.earliest, range_start), min(spec.latest, range_end)
            catch_up = False
            if due_from[i] is not None:
                start = max(start, due_from[i])
            if absent_on[i] is not None:
                start = max(start, absent_on[i] + dt.timedelta(days=1))
                catch_up = True
            if start > end:
                rejected.append({"pupil_id": pupil_id, "moment": moment, "school_id": columns["school_id"][i],
                                 "reason": f"its window ({spec.earliest} to {spec.latest}) lies outside the "
                                           f"planning period or before the earliest date {start}"})
                continue
            windows[moment] = (start, end, catch_up)
        bundles = _bundles(windows, specs)
        class_name = columns["class"][first]
        grade = columns["grade"][first]
        for bundle, codes in bundles.items():
            start = max(windows[c][0] for c in codes)
            end = min(windows[c][1] for c in codes)
            follow = [f for code in codes for f in _follow_ups(
                specs[code], birth_dates.get(pupil_id), start,
                given.get((pupil_id, specs[code].first_dose)) if specs[code].first_dose else None)]
            tasks.append(Task(
                pupil_id=pupil_id, school_id=str(columns["school_id"][first]),
                class_name=class_name if isinstance(class_name, str) else "",
                grade=grade if isinstance(grade, str) else None,
                moments=tuple(codes), minutes=sum(specs[c].minutes for c in codes),
                roles=frozenset().union(*(specs[c].roles for c in codes)),
                earliest=start, latest=end, bundle=bundle, excluded_staff=excluded,
                catch_up=any(windows[c][2] for c in codes), follow_ups=tuple(follow),
            ))
    return tasks, rejected


def _bundles(windows: dict[str, tuple[dt.date, dt.date, bool]], specs: dict[str, MomentSpec]) -> dict[str, list[str]]:
    """A pupil's codes grouped per visit: each contact with its doses.

    A dose goes with the contact it belongs to (DTPa-IPV with L1, MMR2 with L4); a catch-up dose
    joins the contact the pupil is seen for now (one pupil, one visit per role), else it is planned
    on its own. Work is split per role later, so nurse work never waits.
    """
    contacts = [c for c in windows if specs[c].kind == "contact"]
    bundles: dict[str, list[str]] = {c: [c] for c in contacts}
    for code in windows:
        if specs[code].kind == "contact":
            continue
        home = specs[code].with_contact
        if home not in contacts or windows[home][:2] != windows[code][:2]:
            home = next((c for c in contacts if windows[c][:2] == windows[code][:2]), None) or next(
                (c for c in contacts if _shared_days(windows[c], windows[code]) >= MIN_SHARED_WINDOW_DAYS), code)
        bundles.setdefault(home, []).append(code)
    return bundles


def _shared_days(a: tuple[dt.date, dt.date, bool], b: tuple[dt.date, dt.date, bool]) -> int:
    """Days two windows share (negative when they do not meet)."""
    return (min(a[1], b[1]) - max(a[0], b[0])).days


def _dates(series: pd.Series) -> list[dt.date | None]:
    values = pd.to_datetime(series).to_numpy().astype("datetime64[D]")
    return [None if v != v else v.astype(object) for v in values]


def _follow_ups(spec: MomentSpec, birth: dt.date | None, earliest: dt.date,
                first_given: dt.date | None = None) -> list[tuple[str, int]]:
    """The later doses a dose given now leads to, e.g. [('HPV2', 5)] or [('HPV2', 1), ('HPV3', 3)].

    The 3-dose schedule follows from the age at the series' first dose: `first_given` when that
    dose was given (or planned) before, else this dose is the first and is given from `earliest`.
    """
    if not spec.follow_ups:
        return []
    three = False
    if spec.three_dose_age is not None and birth is not None:
        first = first_given or earliest
        age = first.year - birth.year - ((first.month, first.day) < (birth.month, birth.day))
        three = age >= spec.three_dose_age
    chain = []
    for code, months, months_three, only_three in spec.follow_ups:
        if only_three and not three:
            continue
        chain.append((code, months_three if three and months_three else months))
    return chain




def follow_up_visits(visits: list[Visit], specs: dict[str, MomentSpec], year_end: dt.date, capacity: int,
                     setup: int) -> list[Visit]:
    """Visits for the later doses of series started in this plan (e.g. HPV2 five months after HPV1).

    A follow-up visit holds the pupils of the visits it follows; its earliest day depends on the
    days those visits get, which the timetable enforces (`after`). Follow-ups of one school and
    dose are packed together when they fit one block.
    """
    chains: list[tuple[str, Task, tuple[tuple[str, int], ...]]] = []
    for visit in visits:
        for task in visit.tasks:
            if task.follow_ups:
                chains.append((visit.visit_id, task, task.follow_ups))
    result: list[Visit] = []
    # Step by step: first doses after the visit, then later doses after the first follow-ups.
    current = [(visit_id, task, chain) for visit_id, task, chain in chains]
    level = 0
    while current:
        groups: dict[tuple[str, str, int, int], list[tuple[str, Task, tuple]]] = defaultdict(list)
        for visit_id, task, chain in current:
            code, months = chain[0]
            groups[(task.school_id, code, months, level)].append((visit_id, task, chain))
        following = []
        for (school_id, code, months, _), members in sorted(groups.items()):
            spec = specs[code]
            members.sort(key=lambda m: (m[1].class_name, m[1].pupil_id))
            packs: list[list[tuple[str, Task, tuple]]] = [[]]
            used = 0
            for member in members:
                if packs[-1] and used + spec.minutes > capacity:
                    packs.append([])
                    used = 0
                packs[-1].append(member)
                used += spec.minutes
            for n, pack in enumerate(packs, start=1):
                follow_tasks = [replace(t, moments=(code,), minutes=spec.minutes, roles=spec.roles, bundle=code,
                                        follow_ups=(), catch_up=False) for _, t, _ in pack]
                after = tuple(sorted({(visit_id, months) for visit_id, _, _ in pack}))
                follow = Visit(
                    visit_id=f"{school_id}/{code}/after-{level}-{months}m/{n}", school_id=school_id, tasks=follow_tasks,
                    roles=spec.roles, earliest=spec.earliest, latest=min(spec.latest, year_end), setup=setup,
                    bundle=code, after=after,
                )
                result.append(follow)
                following.extend((follow.visit_id, t, chain[1:]) for (_, t, chain) in pack if len(chain) > 1)
        current = following
        level += 1
    return result


def visits_lower_bound(visits: list[Visit], capacity: int) -> dict[str, int]:
    """Fewest visits per school any plan of this work needs, whatever the packing.

    Work whose windows overlap could share visits; windows that share no day cannot. So per
    school and role: the connected groups of overlapping windows, each needing ceil(minutes / room).
    """
    by_id = {v.visit_id: v for v in visits}

    # Per school and role (or team done together): each role's work is packed apart, so no visit
    # does two roles' parts.
    windows: dict[tuple[str, frozenset], dict[tuple[dt.date, dt.date], int]] = defaultdict(lambda: defaultdict(int))
    for visit in visits:
        windows[(visit.school_id, visit.roles)][(first_possible_day(visit, by_id), visit.latest)] += sum(t.minutes for t in visit.tasks)
    bound = {}
    for school, spans in windows.items():
        groups: list[list[tuple[tuple[dt.date, dt.date], int]]] = []
        for span, minutes in sorted(spans.items()):
            if groups and span[0] <= max(e for (s, e), _ in groups[-1]):
                groups[-1].append((span, minutes))
            else:
                groups.append([(span, minutes)])
        bound[school[0]] = bound.get(school[0], 0) + sum(math.ceil(sum(m for _, m in group) / capacity) for group in groups)
    return bound


def split_by_role(tasks: list[Task], specs: dict[str, MomentSpec], unsure: set[tuple[int, str]] | None = None,
                  return_rate: float = 1.0) -> list[Task]:
    """Each pupil's work as one task per role (or per team, for moments done together): nurse-only
    work never waits for a doctor, and a pupil's parts of one role are done in one session.

    Doses whose consent form is not back (`unsure`) are sized by the expected return rate.
    """
    unsure = unsure or set()
    result: list[Task] = []
    for task in tasks:
        groups: dict[frozenset[str], list[str]] = defaultdict(list)
        for code in task.moments:
            spec = specs[code]
            if spec.together and len(spec.roles) > 1:
                groups[frozenset(spec.roles)].append(code)
            else:
                for role in sorted(spec.part_minutes()):
                    groups[frozenset({role})].append(code)
        ordered = sorted(groups.items(), key=lambda kv: ("doctor" not in kv[0], sorted(kv[0])))
        # The later doses follow the session that gives the dose: one task carries them.
        carrier = next((roles for roles, codes in ordered if any(specs[c].follow_ups for c in codes)), None)
        for roles, codes in ordered:
            minutes = 0.0
            for code in codes:
                spec = specs[code]
                share = return_rate if (task.pupil_id, code) in unsure else 1.0
                together = spec.together and len(spec.roles) > 1
                minutes += share * (spec.minutes if together else max(spec.part_minutes()[r] for r in roles))
            result.append(replace(task, moments=tuple(codes), roles=roles, minutes=max(1, math.ceil(minutes - 1e-9)),
                                  follow_ups=task.follow_ups if roles == carrier else ()))
    return result


__all__ = ["MomentSpec", "build_tasks", "split_by_role", "pack_visits", "follow_up_visits", "visits_lower_bound"]
