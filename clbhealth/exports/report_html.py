"""The progress report as one self-contained HTML page, in Dutch: the figures of `app.report.build_report`
laid out here (tables, and the coordinates of two SVG charts) and rendered by the jinja2 templates in
`templates/` (report.html, charts.html, report.css; shipped as package data). Inline CSS and SVG, no
scripts, no links: it opens offline and prints on portrait A4 (charts 680 px wide, so 12 px text stays
9 pt on paper)."""

from __future__ import annotations

import datetime as dt
import math
from functools import lru_cache

from clbhealth.core.dates import dutch_short_date
from clbhealth.exports.plan import ROLE_WORDS

MONTHS = ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec")
COLOURS = {"done": "#2e7d32", "planned": "#1f6fb4", "open": "#f0a030", "refused": "#9e9e9e", "target": "#757575",
           "today": "#c62828"}
STATE_WORDS = {"done": "gedaan", "planned": "gepland", "open": "nog niet gepland", "refused": "verzet / geweigerd"}
CHART_WIDTH = 680  # px: the width of A4 less 14 mm margins is 688 px, so a chart prints at full size
COVERAGE_WORDS = "gedaan / verwacht dit schooljaar"
COVERAGE_DEFINITION = ("Dekking = gedaan / verwacht dit schooljaar, waarbij verwacht = gedaan + nog te doen + verzet "
                       "of geweigerd (leerling-momenten). Vaccinatiegraad = gegeven / alle leerlingen voor wie de "
                       "dosis dit schooljaar telt.")


@lru_cache(maxsize=1)
def _environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined

    return Environment(loader=PackageLoader("clbhealth.exports", "templates"), autoescape=True,
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def _pct_text(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}%"


def report_html(report: dict) -> str:
    """The whole report as one HTML page."""
    env = _environment()
    as_of = dt.date.fromisoformat(report["as_of"])
    return env.get_template("report.html").render(
        clb=report["clb"], school_year=report["school_year"], as_of=dutch_short_date(as_of),
        coverage_definition=COVERAGE_DEFINITION, cards=_cards(report), tables=_tables(report),
        coverage_chart=coverage_chart(report["schools"]),
        progress_chart=progress_chart(report["progress"], report["target"], as_of), warnings=report["warnings"])


def _cards(report: dict) -> list[dict]:
    t = report["totals"]
    return [{"value": v, "label": label} for v, label in (
        (_pct_text(t["coverage"]), f"dekking: {COVERAGE_WORDS}"), (t["done"], "gedaan"), (t["due"], "nog te doen"),
        (t["planned"], "waarvan gepland"), (t["missed"], "gemist (vorige jaren)"),
        (report["sessions_in_plan"], "sessies in de planning"))]


def _tables(report: dict) -> list[dict]:
    pct = _pct_text
    school_rows = [[f"{r['school']} ({r['school_id']})", r["name"], r["due"], r["planned"], r["done"], r["missed"],
                    r["refused"], pct(r["coverage"])] for r in report["school_moments"]]
    vacc_rows = [[r["name"], r["pupils"], r["done"], r["due"], r["needs_consent"], r["refused"], pct(r["coverage"])]
                 for r in report["vaccinations"]]
    load_rows = [[p["name"], ROLE_WORDS.get(p["role"], p["role"]), p["sessions"], p["half_days"], p["pupil_moments"],
                  f"{p['minutes'] / 60:.1f}", f"{p['km']:.0f}", f"{p['travel_minutes'] / 60:.1f}",
                  pct(p["share_of_role"])] for p in report["load"]]
    return [
        {"title": "Per school en contactmoment", "note": None, "numeric_from": 2, "rows": school_rows,
         "headers": ["School", "Contactmoment / vaccinatie", "Te doen", "Gepland", "Gedaan", "Gemist",
                     "Verzet/geweigerd", f"Dekking ({COVERAGE_WORDS})"]},
        {"title": "Vaccinatiegraad per dosis", "numeric_from": 1, "rows": vacc_rows,
         "note": "Alle leerlingen voor wie de dosis dit schooljaar telt, ook wie ze eerder of elders kreeg.",
         "headers": ["Dosis", "Leerlingen", "Gegeven", "Te doen", "Wacht op toestemming", "Geweigerd",
                     "Dekking (gegeven / leerlingen)"]},
        {"title": "Belasting per medewerker", "note": None, "numeric_from": 2, "rows": load_rows,
         "headers": ["Medewerker", "Rol", "Sessies", "Halve dagen", "Leerling-momenten", "Uren", "km", "Reisuren",
                     "Aandeel in rol (eigen sessies / alle van de rol)"]},
    ]


def _legend(items: list[tuple[str, str]]) -> list[dict]:
    return [{"colour": COLOURS[key], "label": label} for key, label in items]


def _axis_label(x: float, y: float, text: str, anchor: str = "middle", rotate: bool = False) -> dict:
    return {"x": round(x, 1), "y": round(y, 1), "text": text, "anchor": anchor, "rotate": rotate}


def coverage_chart(schools: list[dict]) -> dict:
    """Horizontal stacked bars per school (done, planned, open, refused) with the coverage at the end: the
    coordinates, titles and axis labels the `coverage` macro draws."""
    label_w, bar_w, row_h, head, axis = 200, 380, 24, 22, 40
    pct_x = CHART_WIDTH - 4
    height = head + len(schools) * row_h + axis
    rows = []
    for i, s in enumerate(schools):
        y = head + i * row_h
        whole = s["done"] + s["due"] + s["refused"]
        name = s["school"] if len(s["school"]) <= 30 else s["school"][:28] + "…"
        parts, x = [], float(label_w)
        for key, value in (("done", s["done"]), ("planned", s["planned"]), ("open", s["due"] - s["planned"]),
                           ("refused", s["refused"])):
            if whole and value > 0:
                w = bar_w * value / whole
                parts.append({"x": round(x, 1), "w": round(w, 1), "colour": COLOURS[key],
                              "tip": f"{STATE_WORDS[key]}: {value}"})
                x += w
        rows.append({"label": name, "label_x": label_w - 8, "text_y": y + 15, "bar_x": label_w, "bar_y": y + 3,
                     "bar_w": bar_w, "bar_h": row_h - 8, "parts": parts, "pct": _pct_text(s["coverage"]),
                     "pct_x": pct_x})
    base = head + len(schools) * row_h + 4
    ticks = [{"x": round(label_w + bar_w * share / 100, 1), "y": base, "label": f"{share}%"}
             for share in (0, 25, 50, 75, 100)]
    return {
        "empty": not schools, "width": CHART_WIDTH, "height": height, "rows": rows, "ticks": ticks,
        "title": "Dekking per school: leerling-momenten van dit schooljaar per toestand",
        "legend": _legend(list(STATE_WORDS.items())),
        "axis_labels": [_axis_label(label_w - 8, 14, "school", "end"),
                        _axis_label(pct_x, 14, f"dekking ({COVERAGE_WORDS})", "end"),
                        _axis_label(label_w + bar_w / 2, base + 32, "aandeel van de verwachte leerling-momenten (%)")],
    }


def progress_chart(weeks: list[dict], target: int, as_of: dt.date) -> dict:
    """Cumulative planned and done pupil-moments per week of the school year, with the target and today: the
    coordinates, titles and axis labels the `progress` macro draws."""
    width, height, left, right, top, bottom = CHART_WIDTH, 320, 70, CHART_WIDTH - 12, 14, 270
    plot_w, plot_h = right - left, bottom - top
    top_value = max([target, 1] + [w["planned"] for w in weeks] + [w["done"] or 0 for w in weeks])
    step = _nice_step(top_value / 4)
    y_max = step * math.ceil(top_value / step)
    n = len(weeks)

    def px(i: float) -> float:
        return round(left + plot_w * (i / max(n - 1, 1)), 1)

    def py(v: float) -> float:
        return round(top + plot_h * (1 - v / y_max), 1)

    y_ticks = [{"y": py(k * step), "label": f"{k * step:g}"} for k in range(int(y_max / step) + 1)]
    x_ticks, last_month = [], None
    for i, w in enumerate(weeks):
        month = (dt.date.fromisoformat(w["week"]) + dt.timedelta(days=3)).month
        if month != last_month and px(i) + 28 <= right:
            last_month = month
            x_ticks.append({"x": px(i), "label": MONTHS[month - 1]})
    lines = [{"colour": COLOURS["target"], "width": 1, "dash": "6 4", "points": f"{left},{py(target)} {right},{py(target)}"},
             {"colour": COLOURS["planned"], "width": 2.5, "dash": None,
              "points": " ".join(f"{px(i)},{py(w['planned'])}" for i, w in enumerate(weeks))},
             {"colour": COLOURS["done"], "width": 2.5, "dash": None,
              "points": " ".join(f"{px(i)},{py(w['done'])}" for i, w in enumerate(weeks) if w["done"] is not None)}]
    if weeks:
        position = (as_of - dt.date.fromisoformat(weeks[0]["week"])).days / 7
        if 0 <= position <= n - 1:
            lines.append({"colour": COLOURS["today"], "width": 1.5, "dash": None,
                          "points": f"{px(position)},{top} {px(position)},{bottom}"})
    return {
        "empty": not weeks, "width": width, "height": height, "left": left, "right": right, "bottom": bottom,
        "y_ticks": y_ticks, "x_ticks": x_ticks, "lines": lines,
        "title": "Voortgang: leerling-momenten gepland en gedaan, cumulatief per week",
        "legend": _legend([("planned", "gepland (cumulatief)"), ("done", "gedaan (cumulatief)"),
                           ("target", "doel dit schooljaar"), ("today", "vandaag")]),
        "axis_labels": [_axis_label(16, top + plot_h / 2, "leerling-momenten (cumulatief, aantal)", rotate=True),
                        _axis_label(left + plot_w / 2, height - 6, "week van het schooljaar (maand)")],
    }


def _nice_step(raw: float) -> float:
    if raw <= 1:
        return 1
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude
