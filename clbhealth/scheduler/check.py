"""Every hard rule, checked on a stored plan without the solver (`clbhealth plan check`).

The checks work on plain rows read from the database and recompute everything themselves:
the school calendar, availability, roles, minutes, dose intervals, objections, windows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from clbhealth.scheduler.calendar import add_months, covers, flemish_holidays


@dataclass(frozen=True)
class Violation:
    rule: str
    session_id: str
    message: str

    def __str__(self) -> str:
        return f"{self.session_id}: [{self.rule}] {self.message}"


@dataclass
class CheckInput:
    """Everything the checks need, as plain data."""

    year_start: int
    blocks: dict[str, tuple[dt.time, dt.time]]  # part -> (start, end)
    wednesday_afternoon: bool
    setup: int
    sessions: list[dict]  # session rows
    session_staff: list[dict]  # session_id, staff_id, role
    session_pupils: list[dict]  # session_id, pupil_id, moment, minutes, outcome
    staff: dict[str, dict]  # staff_id -> role, availability (set of slots), active
    absences: list[tuple[str, dt.date, dt.date, str | None]]
    closures: list[tuple[str, dt.date, dt.date, str | None]]
    pupils: dict[int, dict]  # pupil_id -> school_id, birth_date, active
    events: list[dict]  # pupil_id, code, date, status, staff_id
    roles: dict[str, frozenset[str]]  # moment -> roles needed
    minutes: dict[str, int]  # moment -> minutes per pupil
    windows: dict[str, tuple[dt.date, dt.date]]  # moment -> (first, last day)
    intervals: dict[str, tuple[str, int, int | None, int | None, bool]]  # dose -> (follows, months, months 3-dose, from age, only 3-dose)
    series: dict[str, str]  # dose -> series (consent covers a series)
    setup_per_moment: dict[str, int] = field(default_factory=dict)
    doses: frozenset[str] = frozenset()  # vaccination codes
    part_minutes: dict[str, dict[str, int]] = field(default_factory=dict)  # moment -> role -> minutes
    notice_school_days: int = 0
    home_school: str = "HUISONDERWIJS"


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def check_plan(data: CheckInput) -> list[Violation]:
    """All violations of the hard rules, in session order."""
    found: list[Violation] = []
    staff_of: dict[str, list[dict]] = defaultdict(list)
    for row in data.session_staff:
        staff_of[row["session_id"]].append(row)
    pupils_of: dict[str, list[dict]] = defaultdict(list)
    for row in data.session_pupils:
        pupils_of[row["session_id"]].append(row)
    for check in (school_calendar, staff_availability, one_place_per_half_day, roles_present, minutes_fit_block,
                  objections_respected, once_per_moment, windows_respected, dose_intervals, pupils_at_the_school,
                  no_objected_or_refused, notice_period):
        found.extend(check(data, staff_of, pupils_of))
    return sorted(found, key=lambda v: (v.session_id, v.rule))


def _day(session: dict) -> dt.date:
    return dt.date.fromisoformat(session["date"])


def notice_period(data: CheckInput, staff_of, pupils_of) -> list[Violation]:
    """A session lies at least the notice period (school days) after the day it was announced."""
    if data.notice_school_days <= 0:
        return []
    off = flemish_holidays(data.year_start)
    out = []
    for s in data.sessions:
        announced = s.get("announced_on")
        if not announced:
            continue  # a session of an older plan: announced before this rule was kept
        start, day = dt.date.fromisoformat(announced), _day(s)
        school_days, current = 0, start
        while current < day and school_days < data.notice_school_days:
            current += dt.timedelta(days=1)
            school_days += current.weekday() < 5 and current not in off
        if school_days < data.notice_school_days:
            out.append(Violation("notice", s["session_id"], f"{day} is {school_days} school day(s) after it was "
                                 f"announced on {start}; the notice period is {data.notice_school_days}"))
    return out


def school_calendar(data: CheckInput, staff_of, pupils_of) -> list[Violation]:
    """Sessions lie on school days of the school year, not on holidays, Wednesday afternoons or closures."""
    off = flemish_holidays(data.year_start)
    first, last = dt.date(data.year_start, 9, 1), dt.date(data.year_start + 1, 6, 30)
    out = []
    for s in data.sessions:
        day = _day(s)
        if not first <= day <= last:
            out.append(Violation("calendar", s["session_id"], f"{day} lies outside the school year"))
        if day.weekday() >= 5:
            out.append(Violation("calendar", s["session_id"], f"{day} is a weekend day"))
        if day in off:
            out.append(Violation("calendar", s["session_id"], f"{day} is a holiday ({off[day]})"))
        if day.weekday() == 2 and s["part"] == "pm" and not data.wednesday_afternoon:
            out.append(Violation("calendar", s["session_id"], "Wednesday afternoon has no classes"))
        for school, f, t, part in data.closures:
            if school == s["school_id"] and f <= day <= t and (part is None or part == s["part"]):
                out.append(Violation("closure", s["session_id"], f"the school is closed on {day}"))
    return out


def staff_availability(data: CheckInput, staff_of, pupils_of) -> list[Violation]:
    """Each person works only in their available half-days and never when absent."""
    out = []
    for s in data.sessions:
        day, part = _day(s), s["part"]
        slot = f"{DAYS[day.weekday()]}-{part}"
        for row in staff_of[s["session_id"]]:
            person = data.staff.get(row["staff_id"])
            if person is None:
                out.append(Violation("staff", s["session_id"], f"{row['staff_id']} is not in the staff list"))
                continue
            if not person["active"]:
                out.append(Violation("staff", s["session_id"], f"{row['staff_id']} is no longer active"))
            if slot not in person["availability"]:
                out.append(Violation("availability", s["session_id"], f"{row['staff_id']} does not work on {slot}"))
            for staff_id, f, t, p in data.absences:
                if staff_id == row["staff_id"] and f <= day <= t and (p is None or p == part):
                    out.append(Violation("absence", s["session_id"], f"{staff_id} is absent on {day} {part}"))
    return out


def one_place_per_half_day(data: CheckInput, staff_of, pupils_of) -> list[Violation]:
    """A person is at one place at a time: sessions of one half-day follow each other, with the
    drive to the next school between them."""
    by_half: dict[tuple[str, str, str], list[tuple[dict, dict]]] = defaultdict(list)
    for s in data.sessions:
        for row in staff_of[s["session_id"]]:
            by_half[(row["staff_id"], s["date"], s["part"])].append((s, row))
    out = []
    for (staff_id, day, part), items in sorted(by_half.items()):
        items.sort(key=lambda sr: (sr[0]["start"], sr[0]["session_id"]))
        for (before, _), (s, row) in zip(items, items[1:]):
            drive = int(row.get("travel_minutes") or 0) if s["school_id"] != before["school_id"] else 0
            if _minute(s["start"]) < _minute(before["end"]) + drive:
                out.append(Violation("one place", s["session_id"],
                                     f"{staff_id} is also in {before['session_id']} on {day} {part} "
                                     f"(until {before['end']}, then {drive} minutes to drive)"))
    return out


def _minute(clock: str) -> int:
    hours, minutes = clock.split(":")[:2]
    return int(hours) * 60 + int(minutes)


def roles_present(data: CheckInput, staff_of, pupils_of) -> list[Violation]:
    """Every session has the roles its moments need, each filled by a person of that role."""
    out = []
    for s in data.sessions:
        present = set()
        for row in staff_of[s["session_id"]]:
            person = data.staff.get(row["staff_id"])
            if person is not None and person["role"] != row["role"]:
                out.append(Violation("roles", s["session_id"], f"{row['staff_id']} is a {person['role']}, "
                                     f"not a {row['role']}"))
            if person is not None:
                present.add(person["role"])
        needed = set()
        for p in pupils_of[s["session_id"]]:
            needed |= _row_roles(data, p)
        missing = needed - present
        if missing:
            out.append(Violation("roles", s["session_id"], f"no {', '.join(sorted(missing))} in the session"))
    return out


def minutes_fit_block(data: CheckInput, staff_of, pupils_of) -> list[Violation]:
    """The minutes planned (set-up plus each pupil's moments) fit the half-day block."""
    out = []
    for s in data.sessions:
        start, end = data.blocks[s["part"]]
        moments = {p["moment"] for p in pupils_of[s["session_id"]]}
        setup = max((data.setup_per_moment.get(m, data.setup) for m in moments), default=data.setup)
        # Contacts at the protocol's minutes; a dose at its stored minutes (sized by the expected consent).
        planned = setup + sum(p["minutes"] if p["moment"] in data.doses else _part_minutes(data, p)
                              for p in pupils_of[s["session_id"]])
        begin = dt.datetime.combine(dt.date(2000, 1, 1), dt.time.fromisoformat(s["start"]))
        finish = dt.datetime.combine(dt.date(2000, 1, 1), dt.time.fromisoformat(s["end"]))
        block_end = dt.datetime.combine(dt.date(2000, 1, 1), end)
        block_start = dt.datetime.combine(dt.date(2000, 1, 1), start)
        if begin < block_start or finish > block_end:
            out.append(Violation("block", s["session_id"], f"{s['start']}-{s['end']} lies outside the "
                                 f"{start:%H:%M}-{end:%H:%M} block"))
        if (finish - begin).seconds // 60 < planned:
            out.append(Violation("block", s["session_id"], f"{planned} minutes of work in a session of "
                                 f"{(finish - begin).seconds // 60} minutes"))
        if planned > (block_end - block_start).seconds // 60:
            out.append(Violation("block", s["session_id"], f"{planned} minutes do not fit the block"))
    return out


def _objections(data: CheckInput) -> dict[int, set[str]]:
    against: dict[int, set[str]] = defaultdict(set)
    for e in data.events:
        if e["status"] == "objected" and e["staff_id"]:
            against[e["pupil_id"]].add(e["staff_id"])
    return against


def objections_respected(data: CheckInput, staff_of, pupils_of) -> list[Violation]:
    """A pupil with an objection against a person is never in that person's session."""
    against = _objections(data)
    out = []
    for s in data.sessions:
        people = {r["staff_id"] for r in staff_of[s["session_id"]]}
        for p in pupils_of[s["session_id"]]:
            clash = against.get(p["pupil_id"], set()) & people
            if clash:
                out.append(Violation("objection", s["session_id"], f"pupil {p['pupil_id']} objects to "
                                     f"{', '.join(sorted(clash))}"))
    return out


def _part_minutes(data: CheckInput, row: dict) -> int:
    """The protocol's (or settings') minutes of the part a pupil row is for."""
    parts = data.part_minutes.get(row["moment"])
    roles = _row_roles(data, row)
    if parts and roles and all(r in parts for r in roles):
        return max(parts[r] for r in roles)
    return data.minutes.get(row["moment"], row["minutes"])


def _row_roles(data: CheckInput, row: dict) -> frozenset[str]:
    """The roles a session's pupil row is for: its stored part, or (older plans) every role of the moment."""
    stored = row.get("roles")
    if stored:
        return frozenset(r for r in stored.split(";") if r)
    return data.roles.get(row["moment"], frozenset())


def once_per_moment(data: CheckInput, staff_of, pupils_of) -> list[Violation]:
    """Each role's part of a pupil's moment is planned at most once (absent pupils may be planned
    again), and a part is only done for a role the moment needs."""
    where: dict[tuple[int, str, str], list[str]] = defaultdict(list)
    out = []
    for p in data.session_pupils:
        if p["outcome"] not in (None, "seen"):
            continue
        roles = _row_roles(data, p)
        needed = data.roles.get(p["moment"])
        if needed is not None and not roles <= needed:
            out.append(Violation("parts", p["session_id"], f"pupil {p['pupil_id']}: {p['moment']} has no "
                                 f"{', '.join(sorted(roles - needed))} part"))
        for role in roles:
            where[(p["pupil_id"], p["moment"], role)].append(p["session_id"])
    out.extend(Violation("once", sorted(ids)[1], f"pupil {pid} is planned for the {role} part of {moment} in "
                         f"{', '.join(sorted(ids))}")
               for (pid, moment, role), ids in sorted(where.items()) if len(ids) > 1)
    return out


def windows_respected(data: CheckInput, staff_of, pupils_of) -> list[Violation]:
    """Sessions lie inside the window of each of their moments."""
    by_id = {s["session_id"]: s for s in data.sessions}
    out = []
    for sid, rows in pupils_of.items():
        day = _day(by_id[sid])
        for moment in sorted({p["moment"] for p in rows}):
            window = data.windows.get(moment)
            if window and not window[0] <= day <= window[1]:
                out.append(Violation("window", sid, f"{moment} on {day} lies outside {window[0]} to {window[1]}"))
    return out


def dose_intervals(data: CheckInput, staff_of, pupils_of) -> list[Violation]:
    """A later dose comes its interval after the earlier one, given or planned (3-dose schedule from 15)."""
    by_id = {s["session_id"]: s for s in data.sessions}
    when: dict[tuple[int, str], dt.date] = {}
    for e in data.events:
        if e["status"] in ("done", "done_external"):
            key = (e["pupil_id"], e["code"])
            day = dt.date.fromisoformat(e["date"])
            when[key] = min(when.get(key, day), day)
    for p in data.session_pupils:
        if p["outcome"] in (None, "seen"):
            key = (p["pupil_id"], p["moment"])
            day = _day(by_id[p["session_id"]])
            when.setdefault(key, day)
    out = []
    for p in data.session_pupils:
        rule = data.intervals.get(p["moment"])
        if rule is None or p["outcome"] not in (None,):
            continue
        follows, months, months_three, from_age, only_three = rule
        day = _day(by_id[p["session_id"]])
        before = when.get((p["pupil_id"], follows))
        if before is None:
            out.append(Violation("interval", p["session_id"], f"pupil {p['pupil_id']} gets {p['moment']} without "
                                 f"{follows} given or planned"))
            continue
        birth = data.pupils.get(p["pupil_id"], {}).get("birth_date")
        first_code = _first_dose(data, p["moment"])
        first_day = when.get((p["pupil_id"], first_code), before)
        three = bool(from_age and birth and _age(birth, first_day) >= from_age)
        if only_three and not three:
            out.append(Violation("interval", p["session_id"], f"pupil {p['pupil_id']} gets {p['moment']} outside "
                                 "the 3-dose schedule"))
            continue
        gap = months_three if three and months_three else months
        if day < add_months(before, gap):
            out.append(Violation("interval", p["session_id"], f"pupil {p['pupil_id']}: {p['moment']} on {day} is "
                                 f"less than {gap} month(s) after {follows} on {before}"))
    return out


def _first_dose(data: CheckInput, code: str) -> str:
    while code in data.intervals:
        code = data.intervals[code][0]
    return code


def _age(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def pupils_at_the_school(data: CheckInput, staff_of, pupils_of) -> list[Violation]:
    """Pupils are seen at their own school (home-educated pupils at the CLB office)."""
    by_id = {s["session_id"]: s for s in data.sessions}
    out = []
    for sid, rows in pupils_of.items():
        school = by_id[sid]["school_id"]
        for p in rows:
            pupil = data.pupils.get(p["pupil_id"])
            if pupil is None:
                out.append(Violation("pupil", sid, f"pupil {p['pupil_id']} is not in the workspace"))
            elif pupil["school_id"] != school and pupil["active"] and p["outcome"] is None:
                out.append(Violation("pupil", sid, f"pupil {p['pupil_id']} goes to school {pupil['school_id']}"))
    return out


def no_objected_or_refused(data: CheckInput, staff_of, pupils_of) -> list[Violation]:
    """No pupil is planned for a moment the parents objected to or a dose they refused."""
    objected: set[tuple[int, str]] = set()
    done: set[tuple[int, str]] = set()
    consent: dict[tuple[int, str], str] = {}
    for e in sorted(data.events, key=lambda e: (e["date"], e["status"] == "consent_refused")):
        if e["status"] == "objected" and not e["staff_id"]:
            objected.add((e["pupil_id"], e["code"]))
        elif e["status"] in ("done", "done_external"):
            done.add((e["pupil_id"], e["code"]))
        elif e["status"] in ("consent_given", "consent_refused"):
            consent[(e["pupil_id"], data.series.get(e["code"], e["code"]))] = e["status"]
    out = []
    for p in data.session_pupils:
        if p["outcome"] is not None:
            continue
        key = (p["pupil_id"], p["moment"])
        if key in objected and key not in done:
            out.append(Violation("objection", p["session_id"], f"pupil {p['pupil_id']} has an objection to "
                                 f"{p['moment']}"))
        if consent.get((p["pupil_id"], data.series.get(p["moment"], p["moment"]))) == "consent_refused":
            out.append(Violation("consent", p["session_id"], f"pupil {p['pupil_id']}'s parents refused "
                                 f"{p['moment']}"))
    return out


__all__ = ["CheckInput", "Violation", "check_plan", "covers"]
