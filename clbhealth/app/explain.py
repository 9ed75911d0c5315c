"""`clbhealth plan explain`: why demand is unplanned or late, in terms of rules and resources.

`explain_data` gives the findings as plain data (the fields of `plan explain --format json`);
`explain` gives the same as lines of text.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import defaultdict

from clbhealth.app.plan_demand import moment_specs
from clbhealth.workspace.plan import current_summary, read_explain_rows
from clbhealth.scheduler.calendar import covers, school_half_days
from clbhealth.workspace.folder import Workspace
from clbhealth.workspace.pupils import resolve_school_ids
from clbhealth.workspace.staff import resolve_staff_id

LATE_SHARE = 0.8  # a session in the last fifth of its window counts as late
LATE_LISTED = 30  # late sessions listed one by one
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _at_sites(rows: list[dict], sites: set[str]) -> list[dict]:
    return [r for r in rows if r["school_id"] in sites]


def explain(workspace: Workspace, school: str | None = None, staff: str | None = None) -> list[str]:
    """Why work is unplanned or late, as lines of text."""
    return explain_lines(explain_data(workspace, school=school, staff=staff))


def explain_data(workspace: Workspace, school: str | None = None, staff: str | None = None) -> dict:
    """Why work is unplanned or late: plan_id (None without a plan), period, school, staff, person,
    capacity, utilisation, unplanned {pupil_moments, groups}, resources and late {sessions, listed}.
    With `staff`: that person's load, the unplanned work and resources of their role, their late sessions."""
    specs = moment_specs(workspace)
    with workspace.connect() as conn:  # an unknown --school or --staff is refused, plan or not
        sites = set(resolve_school_ids(conn, [school])) if school else set()
        if staff:
            resolve_staff_id(conn, staff)
        summary = current_summary(conn)
        if summary is None:
            return {"plan_id": None, "period": None, "school": school, "staff": staff, "person": None,
                    "capacity": None, "utilisation": {}, "unplanned": {"pupil_moments": 0, "groups": []},
                    "resources": [], "late": {"sessions": 0, "listed": []}}
        rows = read_explain_rows(conn, summary["plan_id"])
    unplanned, sessions = rows["unplanned"], rows["sessions"]
    if school:
        unplanned, sessions = _at_sites(unplanned, sites), _at_sites(sessions, sites)
    person = _person(summary, rows, staff) if staff else None
    if person is not None:
        unplanned = [u for u in unplanned if u["moment"] in specs and person["role"] in specs[u["moment"]].part_minutes()]
        sessions = [s for s in sessions if staff in rows["staff_of"][s["session_id"]]]
    start, end = dt.date.fromisoformat(summary["period"][0]), dt.date.fromisoformat(summary["period"][1])
    half_days = school_half_days(workspace.config.school_year, workspace.config.planning, start, end)
    late = _late_sessions(sessions, specs)
    resources = _resources(workspace, unplanned, specs, half_days, rows, (start, end))
    return {
        "plan_id": summary["plan_id"], "period": list(summary["period"]), "school": school, "staff": staff,
        "person": person, "capacity": _capacity(summary),
        "utilisation": _part(_part(summary, "metrics"), "utilisation"),
        "unplanned": {"pupil_moments": len(unplanned), "groups": _groups(unplanned)},
        "resources": [r for r in resources if person is None or r["role"] == person["role"]],
        "late": {"sessions": len(late), "listed": [_late_entry(s, moment, window, half_days, rows)
                                                   for s, moment, window in late[:LATE_LISTED]]},
    }


def _person(summary: dict, rows: dict, staff_id: str) -> dict:
    """One person's part of the plan: staff_id, role, sessions, available_half_days, load_pct."""
    role = next((p["role"] for p in rows["all_staff"] if p["staff_id"] == staff_id), None)
    load = _part(_part(_part(summary, "metrics"), "load"), staff_id)
    return {"staff_id": staff_id, "role": role, "sessions": load.get("sessions", 0),
            "available_half_days": load.get("available_half_days", 0), "load_pct": load.get("load_pct", 0)}


def _capacity(summary: dict) -> dict | None:
    """The LP bound on what these people can do: pupil_moments, at_most, planned, short [{role, month, free_minutes}]."""
    coverage = _part(_part(summary, "bounds"), "coverage")
    if not coverage or "pupil_moments" not in coverage or "at_most" not in coverage:
        return None
    return {"pupil_moments": coverage["pupil_moments"], "at_most": coverage["at_most"],
            "planned": _part(summary, "coverage").get("planned", 0),
            "short": [{"role": s["role"], "month": s["month"], "free_minutes": s["free_minutes"]}
                      for s in coverage.get("short") or []]}


def _part(data: dict, key: str) -> dict:
    """data[key] when it is a mapping, else {} (a plan stored with a partial summary)."""
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _groups(unplanned: list[dict]) -> list[dict]:
    """Unplanned pupil-moments per school and reason: [{school_id, reason, moments: {code: count}}]."""
    groups: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for u in unplanned:
        groups[(u["school_id"], u["reason"])][u["moment"]] += 1
    return [{"school_id": school_id, "reason": reason, "moments": dict(sorted(moments.items()))}
            for (school_id, reason), moments in sorted(groups.items())]


def _free_half_days(person: dict, first: dt.date, last: dt.date, half_days: list, rows: dict) -> list:
    """The person's half-days in [first, last] that are available, not absent and not booked."""
    slots = set(person["availability"].split())
    free = []
    for h in half_days:
        if not first <= h.day <= last or h.slot not in slots:
            continue
        if any(p == person["staff_id"] and covers(f, t, part, h) for p, f, t, part in rows["absences"]):
            continue
        if (h.day.isoformat(), h.part) in rows["booked"][person["staff_id"]]:
            continue
        free.append(h)
    return free


def _resources(workspace: Workspace, unplanned: list[dict], specs: dict, half_days: list, rows: dict,
               period: tuple[dt.date, dt.date]) -> list[dict]:
    """Per role and window of the unplanned work: [{role, from, to, need, free, short}] in half-days."""
    config = workspace.config
    capacity = max(config.planning.morning.minutes, config.planning.afternoon.minutes) - config.longest_setup
    need: dict[tuple[str, tuple[dt.date, dt.date]], float] = defaultdict(float)
    for u in unplanned:
        spec = specs.get(u["moment"])
        if spec is None:
            continue
        window = (max(spec.earliest, period[0]), min(spec.latest, period[1]))
        for role, minutes in spec.part_minutes().items():
            need[(role, window)] += minutes / capacity
    found = []
    for (role, (first, last)), visits in sorted(need.items()):
        people = [p for p in rows["staff"] if p["role"] == role]
        free = sum(len(_free_half_days(p, first, last, half_days, rows)) for p in people)
        found.append({"role": role, "from": first.isoformat(), "to": last.isoformat(), "need": math.ceil(visits),
                      "free": free, "short": max(0, math.ceil(visits) - free)})
    return found


def _late_entry(s: dict, moment: str, window: tuple[dt.date, dt.date], half_days: list, rows: dict) -> dict:
    """One late session: session_id, moment, school_id, date, earlier_half_days, blocked {reason: half-days}."""
    staff_rows, booked, absences = rows["staff"], rows["booked"], rows["absences"]
    day = dt.date.fromisoformat(s["date"])
    earlier = [h for h in half_days if window[0] <= h.day < day]
    reasons: dict[str, int] = defaultdict(int)
    for h in earlier:
        if any(c[0] == s["school_id"] and covers(c[1], c[2], c[3], h) for c in rows["closures"]):
            reasons["school closed"] += 1
            continue
        for staff_id in rows["staff_of"][s["session_id"]]:
            person = next((p for p in staff_rows if p["staff_id"] == staff_id), None)
            if person is None:
                continue
            if h.slot not in set(person["availability"].split()):
                reasons[f"{staff_id} does not work then"] += 1
            elif any(p == staff_id and covers(f, t, part, h) for p, f, t, part in absences):
                reasons[f"{staff_id} absent"] += 1
            elif (h.day.isoformat(), h.part) in booked[staff_id]:
                reasons[f"{staff_id} busy elsewhere"] += 1
    blocked = dict(sorted(reasons.items(), key=lambda kv: -kv[1]))
    return {"session_id": s["session_id"], "moment": moment, "school_id": s["school_id"], "date": s["date"],
            "earlier_half_days": len(earlier), "blocked": blocked}


def explain_lines(data: dict) -> list[str]:
    """The findings of `explain_data` as lines of text."""
    if data["plan_id"] is None:
        return ["No plan yet: run clbhealth plan."]
    period, school = data["period"], data["school"]
    lines = [f"Plan {data['plan_id']} ({period[0]} to {period[1]})."] + capacity_lines(data)
    person = data.get("person")
    if person:
        lines.append(f"{person['staff_id']} ({person['role']}): {person['sessions']} session(s) on "
                     f"{person['available_half_days']} available half-days ({person['load_pct']}%); below: the "
                     f"unplanned work of the role {person['role']} and this person's late sessions.")
    unplanned = data["unplanned"]
    if not unplanned["pupil_moments"]:
        lines.append("Nothing is unplanned" + (f" at school {school}" if school else "")
                     + (f" that needs a {person['role']}." if person else "."))
    else:
        lines.append(f"{unplanned['pupil_moments']} pupil-moment(s) are not planned:")
        for group in unplanned["groups"]:
            what = ", ".join(f"{n} x {m}" for m, n in group["moments"].items())
            lines.append(f"  school {group['school_id']}: {what} - {group['reason']}")
        lines.append("Resources in the windows of the unplanned work (free = available, not absent, not booked):")
        for r in data["resources"]:
            months = _months(dt.date.fromisoformat(r["from"]), dt.date.fromisoformat(r["to"]))
            verdict = (f"short by {r['short']}" if r["short"] > 0 else
                       "enough in total: the free half-days do not match the schools' open days and team")
            lines.append(f"  {r['role']} half-days, {months}: need about {r['need']} more, {r['free']} free ({verdict})")
    late = data["late"]
    if late["sessions"]:
        lines.append(f"{late['sessions']} session(s) lie in the last fifth of their window:")
        for s in late["listed"]:
            text = ", ".join(f"{k} {v}" for k, v in list(s["blocked"].items())[:4])
            lines.append(f"  {s['session_id']} {s['moment']} at {s['school_id']} on {s['date']}: of "
                         f"{s['earlier_half_days']} earlier half-days: {text or 'none blocked'}")
    return lines


def capacity_lines(data: dict) -> list[str]:
    """What these people can do at most (the LP bound), how much of it the plan does, who is short."""
    coverage = data.get("capacity")
    lines = []
    if coverage:
        done = coverage["planned"]
        share = 100 * done / coverage["at_most"] if coverage["at_most"] else 100.0
        lines.append(f"With these people at most {coverage['at_most']:,} of {coverage['pupil_moments']:,} pupil-moments "
                     f"can be planned (an LP bound on each role's free minutes per month); the plan does {done:,} "
                     f"({share:.1f}% of that bound).")
        for short in coverage["short"][:12]:
            lines.append(f"  binding: {short['role']} minutes in {short['month']}: {short['free_minutes']:,} free, "
                         f"all used by the bound")
    for role, row in data.get("utilisation", {}).items():
        lines.append(f"Utilisation {role}: {row['sessions']} of {row['available_half_days']} half-days "
                     f"({row['load_pct']}%).")
    return lines


def _late_sessions(sessions: list[dict], specs: dict) -> list[tuple[dict, str, tuple[dt.date, dt.date]]]:
    late = []
    for s in sessions:
        day = dt.date.fromisoformat(s["date"])
        for moment in json.loads(s["moments"]):
            spec = specs.get(moment)
            if spec is None:
                continue
            span = (spec.latest - spec.earliest).days or 1
            if (day - spec.earliest).days / span >= LATE_SHARE:
                late.append((s, moment, (spec.earliest, spec.latest)))
                break
    return late


def _months(first: dt.date, last: dt.date) -> str:
    if (first.year, first.month) == (last.year, last.month):
        return f"{MONTHS[first.month - 1]} {first.year}"
    return f"{MONTHS[first.month - 1]} {first.year} to {MONTHS[last.month - 1]} {last.year}"
