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
The HTML report is one self-contained file (inline CSS, inline SVG drawn here; no scripts, no links).
"""

from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path

from clbhealth.core.dates import dutch_short_date
from clbhealth.core.errors import ClbError
from clbhealth.exports.plan import ROLE_WORDS, MomentWords, load_sites
from clbhealth.core.files import atomic_text
from clbhealth.workspace import history as event_rows, sessions as plan_rows
from clbhealth.workspace.folder import Workspace

FORMATS = ("table", "json", "html")
MONTHS = ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec")
COLOURS = {"done": "#2e7d32", "planned": "#1f6fb4", "open": "#f0a030", "refused": "#9e9e9e", "target": "#757575",
           "today": "#c62828"}


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def build_report(workspace: Workspace, as_of: dt.date) -> dict:
    """Everything the report shows, as plain data (the JSON format is exactly this)."""
    from clbhealth.app.due_list import due_list

    year = workspace.config.school_year
    first_day = year.first_day.isoformat()
    frame, problems = due_list(workspace, as_of, include_all=True)
    words = MomentWords(workspace.protocol, year)
    with workspace.connect() as conn:
        sites = load_sites(workspace, conn)
        first_done = event_rows.first_done(conn)
        planned_open = plan_rows.open_planned_contacts(conn)
        plan_dates = plan_rows.planned_contact_dates(conn)
        load_rows = plan_rows.staff_load_rows(conn)
        plan_count = plan_rows.session_count(conn)

    cells: dict[tuple[str, str], dict] = {}
    done_dates: list[str] = []
    vaccinations: dict[str, dict] = {}
    for row in frame.itertuples(index=False):
        pid, moment, status = int(row.pupil_id), row.moment, row.status
        cell = cells.setdefault((row.school_id, moment), {"due": 0, "planned": 0, "done": 0, "missed": 0, "refused": 0})
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

    def finish(counts: dict) -> dict:
        counts = dict(counts)
        counts["coverage"] = _pct(counts["done"], counts["done"] + counts["due"] + counts["refused"])
        return counts

    order = {code: i for i, code in enumerate(workspace.protocol.all_codes())}
    school_name = {sid: site.name for sid, site in sites.items()}
    per_school_moment = []
    per_school: dict[str, dict] = {}
    per_moment: dict[str, dict] = {}
    zero = {"due": 0, "planned": 0, "done": 0, "missed": 0, "refused": 0}
    for (school, moment), counts in sorted(cells.items(), key=lambda kv: (kv[0][0], order.get(kv[0][1], 99))):
        per_school_moment.append({"school_id": school, "school": school_name.get(school, school), "moment": moment,
                                  "name": words(moment), **finish(counts)})
        for bucket, key in ((per_school, school), (per_moment, moment)):
            total = bucket.setdefault(key, dict(zero))
            for k in zero:
                total[k] += counts[k]
    totals = dict(zero)
    for counts in per_school.values():
        for k in zero:
            totals[k] += counts[k]

    # Progress: cumulative planned (by session date) and done (by date) per week of the school year.
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
        "totals": finish(totals),
        "target": totals["done"] + totals["due"],
        "schools": [{"school_id": s, "school": school_name.get(s, s), **finish(c)} for s, c in sorted(per_school.items())],
        "moments": [{"moment": m, "name": words(m), **finish(c)}
                    for m, c in sorted(per_moment.items(), key=lambda kv: order.get(kv[0], 99))],
        "school_moments": per_school_moment,
        "vaccinations": vaccination_rows,
        "progress": weeks,
        "load": load,
        "warnings": [p.message for p in problems],
    }


def _count_upto(sorted_dates: list[str], last: str) -> int:
    import bisect

    return bisect.bisect_right(sorted_dates, last)


def write_report(workspace: Workspace, as_of: dt.date, fmt: str, output: Path | None, console) -> dict:
    if fmt not in FORMATS:
        raise ClbError(f"--format {fmt!r} is not a report format.", hint="Use table, json or html.")
    report = build_report(workspace, as_of)
    if fmt == "table":
        if output is not None:
            raise ClbError("The table format prints to the terminal.", hint="Use --format json or html with --output.")
        print_report(report, console)
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


# --- terminal ----------------------------------------------------------------------------------------


def print_report(report: dict, console) -> None:
    from rich.table import Table

    def pct(value):
        return "–" if value is None else f"{value:.0f}%"

    t = report["totals"]
    console.print(f"[bold]{report['clb']}[/] – school year {report['school_year']}, as of {report['as_of']}: "
                  f"{t['done']} done, {t['due']} due ({t['planned']} planned), {t['missed']} missed, "
                  f"coverage {pct(t['coverage'])}; {report['sessions_in_plan']} session(s) in the plan.")
    table = Table(title="Per school and moment", title_justify="left")
    for col in ("school", "moment", "due", "planned", "done", "missed", "refused", "coverage"):
        table.add_column(col, justify="left" if col in ("school", "moment") else "right")
    last = None
    for row in report["school_moments"]:
        school = f"{row['school_id']} {row['school']}" if row["school_id"] != last else ""
        last = row["school_id"]
        table.add_row(school, row["moment"], *(str(row[k]) for k in ("due", "planned", "done", "missed", "refused")),
                      pct(row["coverage"]))
    console.print(table)
    table = Table(title="Vaccination coverage per dose", title_justify="left")
    for col in ("dose", "pupils", "done", "due", "needs consent", "refused", "missed", "coverage"):
        table.add_column(col, justify="left" if col == "dose" else "right")
    for row in report["vaccinations"]:
        table.add_row(row["moment"], *(str(row[k]) for k in ("pupils", "done", "due", "needs_consent", "refused",
                                                               "missed")), pct(row["coverage"]))
    console.print(table)
    table = Table(title="Load per person", title_justify="left")
    for col in ("staff", "role", "sessions", "half-days", "pupil-moments", "hours", "km", "travel h", "share of role"):
        table.add_column(col, justify="left" if col in ("staff", "role") else "right")
    for p in report["load"]:
        table.add_row(f"{p['staff_id']} {p['name']}", p["role"], str(p["sessions"]), str(p["half_days"]),
                      str(p["pupil_moments"]), f"{p['minutes'] / 60:.1f}", f"{p['km']:.0f}",
                      f"{p['travel_minutes'] / 60:.1f}", pct(p["share_of_role"]))
    console.print(table)
    table = Table(title="Progress against the plan (cumulative pupil-moments)", title_justify="left")
    for col in ("month", "planned", "done"):
        table.add_column(col, justify="left" if col == "month" else "right")
    by_month: dict[str, dict] = {}
    for week in report["progress"]:
        by_month[week["week"][:7]] = week  # the last week starting in the month
    for month, week in by_month.items():
        table.add_row(month, str(week["planned"]), "" if week["done"] is None else str(week["done"]))
    console.print(table)
    for warning in report["warnings"]:
        console.print(f"[yellow]![/] {warning}")


# --- HTML --------------------------------------------------------------------------------------------


def report_html(report: dict) -> str:
    e = html.escape
    as_of = dt.date.fromisoformat(report["as_of"])
    t = report["totals"]

    def pct(value):
        return "–" if value is None else f"{value:.0f}%"

    def table(headers: list[str], rows: list[list], numeric_from: int = 1) -> str:
        head = "".join(f"<th{' class=n' if i >= numeric_from else ''}>{e(h)}</th>" for i, h in enumerate(headers))
        body = "".join(
            "<tr>" + "".join(f"<td{' class=n' if i >= numeric_from else ''}>{e(str(v))}</td>" for i, v in enumerate(r))
            + "</tr>" for r in rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    school_rows = [[f"{r['school']} ({r['school_id']})", r["name"], r["due"], r["planned"], r["done"], r["missed"],
                    r["refused"], pct(r["coverage"])] for r in report["school_moments"]]
    vacc_rows = [[r["name"], r["pupils"], r["done"], r["due"], r["needs_consent"], r["refused"], pct(r["coverage"])]
                 for r in report["vaccinations"]]
    load_rows = [[p["name"], ROLE_WORDS.get(p["role"], p["role"]), p["sessions"], p["half_days"], p["pupil_moments"],
                  f"{p['minutes'] / 60:.1f}", f"{p['km']:.0f}", f"{p['travel_minutes'] / 60:.1f}",
                  pct(p["share_of_role"])] for p in report["load"]]
    cards = "".join(f'<div class="card"><div class="v">{e(str(v))}</div><div class="l">{e(label)}</div></div>' for v, label in (
        (pct(t["coverage"]), "dekking dit schooljaar"), (t["done"], "gedaan"), (t["due"], "nog te doen"),
        (t["planned"], "waarvan gepland"), (t["missed"], "gemist (vorige jaren)"),
        (report["sessions_in_plan"], "sessies in de planning")))
    warnings = "".join(f"<li>{e(w)}</li>" for w in report["warnings"])
    return f"""<!DOCTYPE html>
<html lang="nl">
<head>
<meta charset="utf-8">
<title>{e(report['clb'])}: voortgang {e(report['school_year'])}</title>
<style>
body {{ font-family: "Segoe UI", Arial, sans-serif; color: #222; margin: 2em auto; max-width: 1000px; padding: 0 1em; }}
h1 {{ font-size: 1.5em; margin-bottom: .2em; }}
h2 {{ font-size: 1.15em; margin-top: 2em; border-bottom: 1px solid #ccc; padding-bottom: .2em; }}
p.sub {{ color: #555; margin-top: 0; }}
.cards {{ display: flex; flex-wrap: wrap; gap: .8em; margin: 1.2em 0; }}
.card {{ background: #f4f7fb; border-radius: 6px; padding: .7em 1em; min-width: 8em; }}
.card .v {{ font-size: 1.5em; font-weight: bold; }}
.card .l {{ color: #555; font-size: .85em; }}
table {{ border-collapse: collapse; width: 100%; font-size: .9em; margin: .5em 0 1em; }}
th, td {{ border-bottom: 1px solid #e0e0e0; padding: .3em .5em; text-align: left; }}
th {{ background: #ddebf7; }}
.n {{ text-align: right; }}
tbody tr:nth-child(even) {{ background: #fafafa; }}
svg text {{ font-family: inherit; font-size: 12px; fill: #333; }}
.legend span {{ display: inline-block; margin-right: 1.2em; font-size: .85em; }}
.legend i {{ display: inline-block; width: .9em; height: .9em; margin-right: .3em; vertical-align: -1px; }}
.note {{ color: #666; font-size: .85em; }}
@media print {{ body {{ margin: 0; max-width: none; }} h2 {{ page-break-after: avoid; }} }}
</style>
</head>
<body>
<h1>{e(report['clb'])}: voortgang schooljaar {e(report['school_year'])}</h1>
<p class="sub">Stand op {e(dutch_short_date(as_of))}. Dekking = gedaan / (gedaan + nog te doen + verzet of geweigerd).</p>
<div class="cards">{cards}</div>
<h2>Dekking per school</h2>
{_legend([("done", "gedaan"), ("planned", "gepland"), ("open", "nog niet gepland"), ("refused", "verzet / geweigerd")])}
{_coverage_chart(report['schools'])}
<h2>Voortgang tegenover de planning</h2>
{_legend([("planned", "gepland (cumulatief)"), ("done", "gedaan (cumulatief)"), ("target", "doel dit schooljaar"),
          ("today", "vandaag")])}
{_progress_chart(report['progress'], report['target'], as_of)}
<h2>Per school en contactmoment</h2>
{table(["School", "Contactmoment / vaccinatie", "Te doen", "Gepland", "Gedaan", "Gemist", "Verzet/geweigerd", "Dekking"],
       school_rows, numeric_from=2)}
<h2>Vaccinatiegraad per dosis</h2>
<p class="note">Alle leerlingen voor wie de dosis dit schooljaar telt, ook wie ze eerder of elders kreeg.</p>
{table(["Dosis", "Leerlingen", "Gegeven", "Te doen", "Wacht op toestemming", "Geweigerd", "Dekking"], vacc_rows)}
<h2>Belasting per medewerker</h2>
{table(["Medewerker", "Rol", "Sessies", "Halve dagen", "Leerling-momenten", "Uren", "km", "Reisuren", "Aandeel in rol"],
       load_rows, numeric_from=2)}
{f'<h2>Opmerkingen</h2><ul>{warnings}</ul>' if warnings else ''}
<p class="note">Gemaakt met clbhealth. Dit rapport bevat geen namen van leerlingen.</p>
</body>
</html>
"""


def _legend(items: list[tuple[str, str]]) -> str:
    return '<div class="legend">' + "".join(
        f'<span><i style="background:{COLOURS[key]}"></i>{html.escape(label)}</span>' for key, label in items) + "</div>"


def _coverage_chart(schools: list[dict]) -> str:
    """Horizontal stacked bars per school: done, planned, open, refused; the coverage at the end."""
    if not schools:
        return '<p class="note">Geen gegevens.</p>'
    label_w, bar_w, row_h, pad = 260, 560, 24, 6
    height = len(schools) * row_h + 2 * pad
    parts = [f'<svg role="img" aria-label="Dekking per school" width="{label_w + bar_w + 60}" height="{height}" '
             f'viewBox="0 0 {label_w + bar_w + 60} {height}">']
    for i, s in enumerate(schools):
        y = pad + i * row_h
        whole = s["done"] + s["due"] + s["refused"]
        name = s["school"] if len(s["school"]) <= 38 else s["school"][:36] + "…"
        parts.append(f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end">{html.escape(name)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{bar_w}" height="{row_h - 8}" fill="#eeeeee"/>')
        x = float(label_w)
        for key, value in (("done", s["done"]), ("planned", s["planned"]), ("open", s["due"] - s["planned"]),
                           ("refused", s["refused"])):
            if whole and value > 0:
                w = bar_w * value / whole
                parts.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" '
                             f'fill="{COLOURS[key]}"><title>{html.escape(f"{key}: {value}")}</title></rect>')
                x += w
        cov = "–" if s["coverage"] is None else f"{s['coverage']:.0f}%"
        parts.append(f'<text x="{label_w + bar_w + 6}" y="{y + 15}">{cov}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _progress_chart(weeks: list[dict], target: int, as_of: dt.date) -> str:
    """Cumulative planned and done pupil-moments over the school year, with the target and today."""
    if not weeks:
        return '<p class="note">Geen gegevens.</p>'
    width, height, left, right, top, bottom = 820, 300, 56, 16, 14, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = max([target, 1] + [w["planned"] for w in weeks] + [w["done"] or 0 for w in weeks])
    step = _nice_step(top_value / 4)
    y_max = step * (int(top_value / step) + (0 if top_value % step == 0 else 1))
    n = len(weeks)

    def px(i: float) -> float:
        return left + plot_w * (i / max(n - 1, 1))

    def py(v: float) -> float:
        return top + plot_h * (1 - v / y_max)

    parts = [f'<svg role="img" aria-label="Voortgang" width="{width}" height="{height}" viewBox="0 0 {width} {height}">']
    value = 0
    while value <= y_max:
        y = py(value)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#e0e0e0"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{value:g}</text>')
        value += step
    last_month = None
    for i, w in enumerate(weeks):
        day = dt.date.fromisoformat(w["week"])
        month = (day + dt.timedelta(days=3)).month
        if month != last_month and px(i) + 28 <= width - right:
            last_month = month
            parts.append(f'<line x1="{px(i):.1f}" y1="{top + plot_h}" x2="{px(i):.1f}" y2="{top + plot_h + 5}" stroke="#999"/>')
            parts.append(f'<text x="{px(i) + 3:.1f}" y="{height - 12}">{MONTHS[month - 1]}</text>')
    parts.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="#999"/>')
    parts.append(f'<line x1="{left}" y1="{py(target):.1f}" x2="{width - right}" y2="{py(target):.1f}" '
                 f'stroke="{COLOURS["target"]}" stroke-dasharray="6 4"/>')
    planned = " ".join(f"{px(i):.1f},{py(w['planned']):.1f}" for i, w in enumerate(weeks))
    parts.append(f'<polyline fill="none" stroke="{COLOURS["planned"]}" stroke-width="2.5" points="{planned}"/>')
    done = " ".join(f"{px(i):.1f},{py(w['done']):.1f}" for i, w in enumerate(weeks) if w["done"] is not None)
    if done:
        parts.append(f'<polyline fill="none" stroke="{COLOURS["done"]}" stroke-width="2.5" points="{done}"/>')
    first = dt.date.fromisoformat(weeks[0]["week"])
    position = (as_of - first).days / 7
    if 0 <= position <= n - 1:
        x = px(position)
        parts.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + plot_h}" stroke="{COLOURS["today"]}" '
                     'stroke-width="1.5"/>')
    parts.append("</svg>")
    return "".join(parts)


def _nice_step(raw: float) -> float:
    if raw <= 1:
        return 1
    import math

    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude
