"""`clbhealth plan explain`: why demand is unplanned or late, in terms of rules and resources."""

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

LATE_SHARE = 0.8  # a session in the last fifth of its window counts as late
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _at_sites(rows: list[dict], sites: set[str]) -> list[dict]:
    return [r for r in rows if r["school_id"] in sites]


def explain(workspace: Workspace, school: str | None = None) -> list[str]:
    config = workspace.config
    specs = moment_specs(workspace)
    with workspace.connect() as conn:
        summary = current_summary(conn)
        if summary is None:
            return ["No plan yet: run clbhealth plan."]
        plan_id = summary["plan_id"]
        rows = read_explain_rows(conn, plan_id)
        sites = set(resolve_school_ids(conn, [school])) if school else set()
    unplanned, sessions, staff_rows, booked, absences = (rows[k] for k in ("unplanned", "sessions", "staff", "booked",
                                                                          "absences"))
    if school:
        unplanned, sessions = _at_sites(unplanned, sites), _at_sites(sessions, sites)
    lines = [f"Plan {plan_id} ({summary['period'][0]} to {summary['period'][1]})."] + capacity_lines(summary)
    start, end = dt.date.fromisoformat(summary["period"][0]), dt.date.fromisoformat(summary["period"][1])
    half_days = school_half_days(config.school_year, config.planning, start, end)

    def free_half_days(person: dict, first: dt.date, last: dt.date) -> list:
        slots = set(person["availability"].split())
        out = []
        for h in half_days:
            if not first <= h.day <= last or h.slot not in slots:
                continue
            if any(p == person["staff_id"] and covers(f, t, part, h) for p, f, t, part in absences):
                continue
            if (h.day.isoformat(), h.part) in booked[person["staff_id"]]:
                continue
            out.append(h)
        return out

    if not unplanned:
        lines.append("Nothing is unplanned" + (f" at school {school}." if school else "."))
    else:
        lines.append(f"{len(unplanned)} pupil-moment(s) are not planned:")
        groups: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for u in unplanned:
            groups[(u["school_id"], u["reason"])][u["moment"]] += 1
        for (school_id, reason), moments in sorted(groups.items()):
            what = ", ".join(f"{n} x {m}" for m, n in sorted(moments.items()))
            lines.append(f"  school {school_id}: {what} - {reason}")
        capacity = max(config.planning.morning.minutes, config.planning.afternoon.minutes) - config.longest_setup
        need: dict[tuple[str, tuple[dt.date, dt.date]], float] = defaultdict(float)
        for u in unplanned:
            spec = specs.get(u["moment"])
            if spec is None:
                continue
            window = (max(spec.earliest, start), min(spec.latest, end))
            for role, minutes in spec.part_minutes().items():
                need[(role, window)] += minutes / capacity
        lines.append("Resources in the windows of the unplanned work (free = available, not absent, not booked):")
        for (role, (first, last)), visits in sorted(need.items()):
            people = [p for p in staff_rows if p["role"] == role]
            free = sum(len(free_half_days(p, first, last)) for p in people)
            months = _months(first, last)
            short = math.ceil(visits) - free
            verdict = f"short by {short}" if short > 0 else "enough in total: the free half-days do not match the schools' open days and team"
            lines.append(f"  {role} half-days, {months}: need about {math.ceil(visits)} more, {free} free ({verdict})")
    lines.extend(late_lines(sessions, specs, half_days, rows))
    return lines


def late_lines(sessions: list[dict], specs: dict, half_days: list, rows: dict) -> list[str]:
    """Sessions in the last fifth of their window, with what blocked the earlier half-days."""
    staff_rows, booked, absences = rows["staff"], rows["booked"], rows["absences"]
    closures, staff_of = rows["closures"], rows["staff_of"]
    lines: list[str] = []
    late = _late_sessions(sessions, specs)
    if late:
        lines.append(f"{len(late)} session(s) lie in the last fifth of their window:")
        for s, moment, window in late[:30]:
            day = dt.date.fromisoformat(s["date"])
            earlier = [h for h in half_days if window[0] <= h.day < day]
            reasons = defaultdict(int)
            for h in earlier:
                if any(c[0] == s["school_id"] and covers(c[1], c[2], c[3], h) for c in closures):
                    reasons["school closed"] += 1
                    continue
                for staff_id in staff_of[s["session_id"]]:
                    person = next((p for p in staff_rows if p["staff_id"] == staff_id), None)
                    if person is None:
                        continue
                    if h.slot not in set(person["availability"].split()):
                        reasons[f"{staff_id} does not work then"] += 1
                    elif any(p == staff_id and covers(f, t, part, h) for p, f, t, part in absences):
                        reasons[f"{staff_id} absent"] += 1
                    elif (h.day.isoformat(), h.part) in booked[staff_id]:
                        reasons[f"{staff_id} busy elsewhere"] += 1
            text = ", ".join(f"{k} {v}" for k, v in sorted(reasons.items(), key=lambda kv: -kv[1])[:4])
            lines.append(f"  {s['session_id']} {moment} at {s['school_id']} on {s['date']}: of {len(earlier)} earlier "
                         f"half-days: {text or 'none blocked'}")
    return lines


def capacity_lines(summary: dict) -> list[str]:
    """What these people can do at most (the LP bound), how much of it the plan does, who is short."""
    coverage = summary.get("bounds", {}).get("coverage")
    lines = []
    if coverage:
        done = summary.get("coverage", {}).get("planned", 0)
        share = 100 * done / coverage["at_most"] if coverage["at_most"] else 100.0
        lines.append(f"With these people at most {coverage['at_most']:,} of {coverage['pupil_moments']:,} pupil-moments "
                     f"can be planned (an LP bound on each role's free minutes per month); the plan does {done:,} "
                     f"({share:.1f}% of that bound).")
        for short in coverage.get("short", [])[:12]:
            lines.append(f"  binding: {short['role']} minutes in {short['month']}: {short['free_minutes']:,} free, "
                         f"all used by the bound")
    for role, row in summary.get("metrics", {}).get("utilisation", {}).items():
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
