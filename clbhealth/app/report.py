"""`clbhealth report`: progress of the school year, per school and moment and for the whole CLB.

Counts come from the due list (`app.due_list.due_list(..., include_all=True)`) and the plan tables:

- due: still to do (status due or needs_consent);
- planned: of those, in a session of the current plan without a result yet;
- done: done this school year (first record from 1 September on, including external ones);
- missed: past the grade without a record (earlier years);
- refused: objection or refused consent;
- coverage: done / (done + due + refused), i.e. of this year's pupils, the share done.

Vaccination coverage per dose counts every pupil the dose concerns, whatever the year it was given.
Load per person: sessions, half-days, pupil-moments, minutes, kilometres and travel time.
The HTML report is one self-contained file (exports/report_html.py through jinja2 templates: inline CSS and
SVG; no scripts, no links).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Callable

from clbhealth.core.errors import ClbError
from clbhealth.exports.plan import MomentWords, load_sites
from clbhealth.exports.report_html import report_html
from clbhealth.core.files import atomic_text
from clbhealth.workspace import history as event_rows, sessions as plan_rows
from clbhealth.workspace.folder import Workspace

FORMATS = ("table", "json", "html")


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


_ZERO = {"due": 0, "planned": 0, "done": 0, "missed": 0, "refused": 0}


def _finish(counts: dict) -> dict:
    counts = dict(counts)
    counts["coverage"] = _pct(counts["done"], counts["done"] + counts["due"] + counts["refused"])
    return counts


def build_report(workspace: Workspace, as_of: dt.date) -> dict:
    """Everything the report shows, as plain data (the JSON format is exactly this)."""
    from clbhealth.app.due_list import due_list

    year = workspace.config.school_year
    frame, problems = due_list(workspace, as_of, include_all=True)
    words = MomentWords(workspace.protocol, year)
    with workspace.connect() as conn:
        sites = load_sites(workspace, conn)
        first_done = event_rows.first_done(conn)
        planned_open = plan_rows.open_planned_contacts(conn)
        plan_dates = plan_rows.planned_contact_dates(conn)
        load_rows = plan_rows.staff_load_rows(conn)
        plan_count = plan_rows.session_count(conn)
    cells, done_dates, vaccinations = _count_due(frame, words, first_done, planned_open, year.first_day.isoformat())
    order = {code: i for i, code in enumerate(workspace.protocol.all_codes())}
    school_name = {sid: site.name for sid, site in sites.items()}
    per_school_moment, per_school, per_moment = _group(cells, order, school_name, words)
    totals = dict(_ZERO)
    for counts in per_school.values():
        for k in _ZERO:
            totals[k] += counts[k]
    vaccination_rows = []
    for code in sorted(vaccinations, key=lambda c: order.get(c, 99)):
        v = vaccinations[code]
        vaccination_rows.append({"moment": code, "name": words(code), "pupils": v["pupils"], "done": v["done"],
                                 "due": v["due"], "needs_consent": v["needs_consent"], "refused": v["refused"],
                                 "missed": v["missed"], "coverage": _pct(v["done"], v["pupils"])})
    return {
        "clb": workspace.config.clb_name,
        "school_year": str(year),
        "as_of": as_of.isoformat(),
        "sessions_in_plan": plan_count,
        "totals": _finish(totals),
        "target": totals["done"] + totals["due"],
        "schools": [{"school_id": s, "school": school_name.get(s, s), **_finish(c)} for s, c in sorted(per_school.items())],
        "moments": [{"moment": m, "name": words(m), **_finish(c)}
                    for m, c in sorted(per_moment.items(), key=lambda kv: order.get(kv[0], 99))],
        "school_moments": per_school_moment,
        "vaccinations": vaccination_rows,
        "progress": _progress(year, as_of, plan_dates, done_dates),
        "load": _load(load_rows, as_of),
        "warnings": [p.message for p in problems],
    }


def _count_due(frame, words: MomentWords, first_done: dict, planned_open: set, first_day: str):
    """Counts per (school, moment) and per vaccination, and the dates done this school year."""
    cells: dict[tuple[str, str], dict] = {}
    done_dates: list[str] = []
    vaccinations: dict[str, dict] = {}
    for row in frame.itertuples(index=False):
        pid, moment, status = int(row.pupil_id), row.moment, row.status
        cell = cells.setdefault((row.school_id, moment), dict(_ZERO))
        if status in ("due", "needs_consent"):
            cell["due"] += 1
            if (pid, moment) in planned_open:
                cell["planned"] += 1
        elif status == "done":
            when = first_done.get((pid, moment))
            if when is not None and when >= first_day:
                cell["done"] += 1
                done_dates.append(when)
        elif status == "missed":
            cell["missed"] += 1
        else:
            cell["refused"] += 1
        if words.is_vaccination(moment):
            v = vaccinations.setdefault(moment, {"pupils": 0, "done": 0, "due": 0, "needs_consent": 0, "refused": 0,
                                                 "missed": 0})
            v["pupils"] += 1
            key = {"objected": "refused"}.get(status, status)
            v[key] = v.get(key, 0) + 1
    return cells, done_dates, vaccinations


def _group(cells: dict, order: dict[str, int], school_name: dict[str, str], words: MomentWords):
    """Rows per school and moment (school, then protocol order), and the sums per school and per moment."""
    per_school_moment = []
    per_school: dict[str, dict] = {}
    per_moment: dict[str, dict] = {}
    for (school, moment), counts in sorted(cells.items(), key=lambda kv: (kv[0][0], order.get(kv[0][1], 99))):
        per_school_moment.append({"school_id": school, "school": school_name.get(school, school), "moment": moment,
                                  "name": words(moment), **_finish(counts)})
        for bucket, key in ((per_school, school), (per_moment, moment)):
            total = bucket.setdefault(key, dict(_ZERO))
            for k in _ZERO:
                total[k] += counts[k]
    return per_school_moment, per_school, per_moment


def _progress(year, as_of: dt.date, plan_dates: list[str], done_dates: list[str]) -> list[dict]:
    """Cumulative planned (by session date) and done (by date) per week of the school year."""
    weeks = []
    monday = year.first_day - dt.timedelta(days=year.first_day.weekday())
    plan_dates.sort()
    done_dates.sort()
    while monday <= year.last_day:
        sunday = (monday + dt.timedelta(days=6)).isoformat()
        weeks.append({"week": monday.isoformat(),
                      "planned": _count_upto(plan_dates, sunday),
                      "done": _count_upto(done_dates, sunday) if monday <= as_of else None})
        monday += dt.timedelta(days=7)
    return weeks


def _load(load_rows: list, as_of: dt.date) -> list[dict]:
    """Per person: sessions, half-days, pupil-moments, minutes, km, travel time and share of the role's minutes."""
    people = {}
    for r in load_rows:
        staff_id = r[0]
        person = people.setdefault(staff_id, {"staff_id": staff_id, "name": r[1], "role": r[2], "sessions": 0,
                                              "done_sessions": 0, "half_days": set(), "pupil_moments": 0, "minutes": 0,
                                              "km": 0.0, "travel_minutes": 0, "active": bool(r[3])})
        if r[4] is None:
            continue
        person["sessions"] += 1
        person["done_sessions"] += 1 if r[5] < as_of.isoformat() else 0
        person["half_days"].add((r[5], r[6]))
        person["minutes"] += int(r[7] or 0)
        person["km"] += float(r[8] or 0)
        person["travel_minutes"] += 2 * int(r[9] or 0)  # one way, there and back
        person["pupil_moments"] += int(r[10] or 0)
    role_minutes: dict[str, int] = {}
    for p in people.values():
        role_minutes[p["role"]] = role_minutes.get(p["role"], 0) + p["minutes"]
    load = []
    for p in people.values():
        if not p["active"] and not p["sessions"]:
            continue
        p["half_days"] = len(p["half_days"])
        p["km"] = round(p["km"], 1)
        p["share_of_role"] = _pct(p["minutes"], role_minutes[p["role"]])
        del p["active"]
        load.append(p)
    return load


def _count_upto(sorted_dates: list[str], last: str) -> int:
    import bisect

    return bisect.bisect_right(sorted_dates, last)


def write_report(workspace: Workspace, as_of: dt.date, fmt: str, output: Path | None,
                 show_table: Callable[[dict], None]) -> dict:
    """The report as JSON or HTML (to `output`, else stdout), or for `table` handed to `show_table`."""
    if fmt not in FORMATS:
        raise ClbError(f"--format {fmt!r} is not a report format.", hint="Use table, json or html.")
    if output is not None:
        workspace.require_writable()  # refused before the file is written, never after
    report = build_report(workspace, as_of)
    if fmt == "table":
        if output is not None:
            raise ClbError("The table format prints to the terminal.", hint="Use --format json or html with --output.")
        show_table(report)
        return report
    text = json.dumps(report, ensure_ascii=False, indent=1) + "\n" if fmt == "json" else report_html(report)
    if output is None:
        import sys

        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        with atomic_text(Path(output)) as handle:
            handle.write(text)
        workspace.audit("report", [str(output)], {"format": fmt})
    return report
