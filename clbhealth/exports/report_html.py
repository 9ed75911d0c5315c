"""The progress report as one self-contained HTML file (inline CSS, inline SVG drawn here; no scripts,
no links), in Dutch: the figures of `app.report.build_report`."""

from __future__ import annotations

import datetime as dt
import html

from clbhealth.core.dates import dutch_short_date
from clbhealth.exports.plan import ROLE_WORDS

MONTHS = ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec")
COLOURS = {"done": "#2e7d32", "planned": "#1f6fb4", "open": "#f0a030", "refused": "#9e9e9e", "target": "#757575",
           "today": "#c62828"}


_CSS = """body { font-family: "Segoe UI", Arial, sans-serif; color: #222; margin: 2em auto; max-width: 1000px; padding: 0 1em; }
h1 { font-size: 1.5em; margin-bottom: .2em; }
h2 { font-size: 1.15em; margin-top: 2em; border-bottom: 1px solid #ccc; padding-bottom: .2em; }
p.sub { color: #555; margin-top: 0; }
.cards { display: flex; flex-wrap: wrap; gap: .8em; margin: 1.2em 0; }
.card { background: #f4f7fb; border-radius: 6px; padding: .7em 1em; min-width: 8em; }
.card .v { font-size: 1.5em; font-weight: bold; }
.card .l { color: #555; font-size: .85em; }
table { border-collapse: collapse; width: 100%; font-size: .9em; margin: .5em 0 1em; }
th, td { border-bottom: 1px solid #e0e0e0; padding: .3em .5em; text-align: left; }
th { background: #ddebf7; }
.n { text-align: right; }
tbody tr:nth-child(even) { background: #fafafa; }
svg text { font-family: inherit; font-size: 12px; fill: #333; }
.legend span { display: inline-block; margin-right: 1.2em; font-size: .85em; }
.legend i { display: inline-block; width: .9em; height: .9em; margin-right: .3em; vertical-align: -1px; }
.note { color: #666; font-size: .85em; }
.caption { font-size: .9em; font-weight: bold; margin: .8em 0 .2em; }
svg { max-width: 100%; height: auto; }
@page { size: A4 portrait; margin: 14mm; }
@media print { body { margin: 0; max-width: none; font-size: 10pt; } h2 { page-break-after: avoid; }
  table, svg { page-break-inside: avoid; } }
"""


def _pct_text(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}%"


def _table(headers: list[str], rows: list[list], numeric_from: int = 1) -> str:
    e = html.escape
    head = "".join(f"<th{' class=n' if i >= numeric_from else ''}>{e(h)}</th>" for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f"<td{' class=n' if i >= numeric_from else ''}>{e(str(v))}</td>" for i, v in enumerate(r))
        + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def report_html(report: dict) -> str:
    """The whole report as one HTML page."""
    e = html.escape
    pct = _pct_text
    table = _table
    as_of = dt.date.fromisoformat(report["as_of"])
    t = report["totals"]

    school_rows = [[f"{r['school']} ({r['school_id']})", r["name"], r["due"], r["planned"], r["done"], r["missed"],
                    r["refused"], pct(r["coverage"])] for r in report["school_moments"]]
    vacc_rows = [[r["name"], r["pupils"], r["done"], r["due"], r["needs_consent"], r["refused"], pct(r["coverage"])]
                 for r in report["vaccinations"]]
    load_rows = [[p["name"], ROLE_WORDS.get(p["role"], p["role"]), p["sessions"], p["half_days"], p["pupil_moments"],
                  f"{p['minutes'] / 60:.1f}", f"{p['km']:.0f}", f"{p['travel_minutes'] / 60:.1f}",
                  pct(p["share_of_role"])] for p in report["load"]]
    cards = "".join(f'<div class="card"><div class="v">{e(str(v))}</div><div class="l">{e(label)}</div></div>' for v, label in (
        (pct(t["coverage"]), "dekking: gedaan / verwacht dit schooljaar"), (t["done"], "gedaan"), (t["due"], "nog te doen"),
        (t["planned"], "waarvan gepland"), (t["missed"], "gemist (vorige jaren)"),
        (report["sessions_in_plan"], "sessies in de planning")))
    warnings = "".join(f"<li>{e(w)}</li>" for w in report["warnings"])
    return f"""<!DOCTYPE html>
<html lang="nl">
<head>
<meta charset="utf-8">
<title>{e(report['clb'])}: voortgang {e(report['school_year'])}</title>
<style>
{_CSS}</style>
</head>
<body>
<h1>{e(report['clb'])}: voortgang schooljaar {e(report['school_year'])}</h1>
<p class="sub">Stand op {e(dutch_short_date(as_of))}. Dekking = gedaan / verwacht dit schooljaar, waarbij verwacht = gedaan + nog te doen + verzet of geweigerd (leerling-momenten).</p>
<div class="cards">{cards}</div>
<h2>Dekking per school</h2>
{_legend([("done", "gedaan"), ("planned", "gepland"), ("open", "nog niet gepland"), ("refused", "verzet / geweigerd")])}
{_coverage_chart(report['schools'])}
<h2>Voortgang tegenover de planning</h2>
{_legend([("planned", "gepland (cumulatief)"), ("done", "gedaan (cumulatief)"), ("target", "doel dit schooljaar"),
          ("today", "vandaag")])}
{_progress_chart(report['progress'], report['target'], as_of)}
<h2>Per school en contactmoment</h2>
{table(["School", "Contactmoment / vaccinatie", "Te doen", "Gepland", "Gedaan", "Gemist", "Verzet/geweigerd",
        "Dekking (gedaan / verwacht)"],
       school_rows, numeric_from=2)}
<h2>Vaccinatiegraad per dosis</h2>
<p class="note">Alle leerlingen voor wie de dosis dit schooljaar telt, ook wie ze eerder of elders kreeg.</p>
{table(["Dosis", "Leerlingen", "Gegeven", "Te doen", "Wacht op toestemming", "Geweigerd",
        "Dekking (gegeven / leerlingen)"], vacc_rows)}
<h2>Belasting per medewerker</h2>
{table(["Medewerker", "Rol", "Sessies", "Halve dagen", "Leerling-momenten", "Uren", "km", "Reisuren",
        "Aandeel in rol (eigen sessies / alle van de rol)"],
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
    label_w, bar_w, row_h, pad, axis = 260, 560, 24, 6, 34
    height = len(schools) * row_h + 2 * pad + axis
    title = "Dekking per school: leerling-momenten van dit schooljaar per toestand"
    parts = [f'<p class="caption">{html.escape(title)}</p>',
             f'<svg role="img" aria-label="{html.escape(title)}" width="{label_w + bar_w + 60}" height="{height}" '
             f'viewBox="0 0 {label_w + bar_w + 60} {height}"><title>{html.escape(title)}</title>']
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
    base = pad + len(schools) * row_h + 4
    for share in (0, 25, 50, 75, 100):
        x = label_w + bar_w * share / 100
        parts.append(f'<line x1="{x:.1f}" y1="{base}" x2="{x:.1f}" y2="{base + 4}" stroke="#999"/>'
                     f'<text x="{x:.1f}" y="{base + 15}" text-anchor="middle">{share}%</text>')
    parts.append(f'<text x="{label_w + bar_w / 2:.0f}" y="{base + 29}" text-anchor="middle">aandeel van de verwachte '
                 'leerling-momenten (gedaan + nog te doen + verzet of geweigerd)</text>')
    parts.append("</svg>")
    return "".join(parts)


def _progress_chart(weeks: list[dict], target: int, as_of: dt.date) -> str:
    """Cumulative planned and done pupil-moments over the school year, with the target and today."""
    if not weeks:
        return '<p class="note">Geen gegevens.</p>'
    width, height, left, right, top, bottom = 820, 320, 70, 16, 14, 50
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = max([target, 1] + [w["planned"] for w in weeks] + [w["done"] or 0 for w in weeks])
    step = _nice_step(top_value / 4)
    y_max = step * (int(top_value / step) + (0 if top_value % step == 0 else 1))
    n = len(weeks)

    def px(i: float) -> float:
        return left + plot_w * (i / max(n - 1, 1))

    def py(v: float) -> float:
        return top + plot_h * (1 - v / y_max)

    title = "Voortgang: leerling-momenten gepland en gedaan, cumulatief per week"
    parts = [f'<p class="caption">{html.escape(title)}</p>',
             f'<svg role="img" aria-label="{html.escape(title)}" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}"><title>{html.escape(title)}</title>',
             f'<text x="14" y="{top + plot_h / 2:.0f}" text-anchor="middle" transform="rotate(-90 14 '
             f'{top + plot_h / 2:.0f})">leerling-momenten (cumulatief)</text>',
             f'<text x="{left + plot_w / 2:.0f}" y="{height - 4}" text-anchor="middle">week van het schooljaar '
             '(maand)</text>']
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
            parts.append(f'<text x="{px(i) + 3:.1f}" y="{top + plot_h + 18}">{MONTHS[month - 1]}</text>')
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
