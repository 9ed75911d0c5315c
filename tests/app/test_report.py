"""`clbhealth report`: counts per school and moment, doses, load, progress; table, JSON, self-contained HTML."""

from __future__ import annotations

import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from clbhealth.exports import export_attendance
from clbhealth.imports.results import import_results
from clbhealth.app.report import build_report, report_html
from tests.conftest import run
from tests.planfixture import build_plan_workspace
from tests.exports.test_attendance import add_lots, fill, fill_doses, give_consent

AS_OF = dt.date(2026, 10, 20)


@pytest.fixture
def world(tmp_path):
    w = build_plan_workspace(tmp_path)
    give_consent(w, tmp_path, {"Peeters": "clb"})  # the CLB never vaccinates without consent
    add_lots(w, tmp_path)
    sheet = export_attendance(w.workspace, tmp_path / "a.xlsx", day=dt.date(2026, 10, 6))
    fill(sheet, {("Janssens", "K1"): "gezien", ("Claes", "K1"): "gezien", ("Aerts", "K1"): "afwezig",
                 ("Peeters", "L1"): "gezien", ("Peeters", "DTPa-IPV"): "gezien",
                 ("Maes", "L1"): "gezien", ("Maes", "DTPa-IPV"): "geweigerd",
                 ("Wouters", "L1"): "verzet", ("Wouters", "DTPa-IPV"): "afwezig"})
    fill_doses(sheet, {("Peeters", "DTPa-IPV"): {"lot": "TV123"}})
    import_results(w.workspace, sheet)
    return w


def by(rows, **keys):
    return next(r for r in rows if all(r[k] == v for k, v in keys.items()))


def test_counts_per_school_and_moment(world):
    report = build_report(world.workspace, AS_OF)
    k1 = by(report["school_moments"], school_id="100", moment="K1")
    # K1: two seen, Aerts absent (due again); the L1 and L4 pupils have no K1 record (missed, earlier years).
    assert (k1["due"], k1["planned"], k1["done"], k1["missed"], k1["refused"]) == (1, 0, 2, 5, 0)
    assert k1["coverage"] == pytest.approx(66.7)
    l1 = by(report["school_moments"], school_id="100", moment="L1")
    assert (l1["due"], l1["done"], l1["refused"], l1["coverage"]) == (0, 2, 1, pytest.approx(66.7))
    dtp = by(report["school_moments"], school_id="100", moment="DTPa-IPV")
    # Peeters done; Maes refused; Wouters absent (due again, not planned); Jacobs, Mertens (L4 catch-up) due.
    assert (dtp["done"], dtp["refused"], dtp["due"], dtp["planned"]) == (1, 1, 3, 0)
    l4 = by(report["school_moments"], school_id="100", moment="L4")
    assert (l4["due"], l4["planned"], l4["done"]) == (2, 2, 0)
    assert by(report["school_moments"], school_id="200", moment="HPV1")["planned"] == 2
    school = by(report["schools"], school_id="100")
    assert school["done"] == 5 and school["school"] == "Basisschool Een"
    assert report["totals"]["done"] == 5 and report["sessions_in_plan"] == 5
    assert report["target"] == report["totals"]["done"] + report["totals"]["due"]


def test_vaccinations_load_and_progress(world):
    report = build_report(world.workspace, AS_OF)
    dtp = by(report["vaccinations"], moment="DTPa-IPV")
    assert dtp["name"] == "Vaccinatie difterie-tetanus-kinkhoest-polio"
    # school 100: 3 L1 + 2 L4 pupils; home education: 1; school 200: the two S1 pupils (missed).
    assert (dtp["pupils"], dtp["done"], dtp["refused"], dtp["missed"]) == (8, 1, 1, 2)
    assert dtp["coverage"] == pytest.approx(12.5)
    nurse = by(report["load"], staff_id="N01")
    assert (nurse["sessions"], nurse["half_days"], nurse["pupil_moments"]) == (4, 4, 14)
    assert nurse["km"] == pytest.approx(3 * 24.8 + 10.2) and nurse["travel_minutes"] == 2 * (3 * 18 + 9)
    assert nurse["share_of_role"] == 100.0 and by(report["load"], staff_id="N02")["sessions"] == 0
    weeks = {w["week"]: w for w in report["progress"]}
    assert weeks["2026-08-31"]["planned"] == 0
    assert weeks["2026-10-05"]["planned"] == 13 and weeks["2026-10-05"]["done"] == 5
    assert weeks["2026-10-12"]["planned"] == 16 and weeks["2026-10-19"]["done"] == 5
    assert weeks["2026-10-26"]["done"] is None  # after the as-of date


def test_cli_table_json_and_html(world, tmp_path, runner):
    table = run(runner, "report", "-w", world.root, "--as-of", AS_OF.isoformat())
    for text in ("Per school and moment", "Vaccination coverage per dose", "Load per person", "Progress", "67%",
                 "(done / expected this school year)", "Coverage = done / expected this school year"):
        assert text in table.stdout
    data = json.loads(run(runner, "report", "-w", world.root, "--as-of", AS_OF.isoformat(), "--format", "json").stdout)
    assert data["as_of"] == "2026-10-20" and data["totals"]["done"] == 5
    out = tmp_path / "rapport.html"
    result = run(runner, "report", "-w", world.root, "--as-of", AS_OF.isoformat(), "--format", "html", "-o", out)
    assert "Wrote the html report" in result.stderr
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    for forbidden in ("<script", "http:", "https:", "src=", "<link", "@import", "url("):
        assert forbidden not in page
    assert "Basisschool Een" in page and "Vaccinatie difterie-tetanus-kinkhoest-polio" in page
    assert "di 20/10/2026" in page
    parsed = _Page()  # the file the command wrote: A4, charts titled with labelled axes, divisors said
    parsed.feed(page)
    assert re.search(r"@page\s*{\s*size:\s*A4\b", parsed.css) and len(parsed.charts) == 2
    assert all(chart["title"] and len(chart["axis"]) >= 2 for chart in parsed.charts)
    assert "Dekking (gedaan / verwacht dit schooljaar)" in page
    for name in ("Peeters", "Janssens", "Maes"):  # aggregates only: no pupil names
        assert name not in page.replace("An Peeters", "")
    run(runner, "report", "-w", world.root, "--format", "pdf", code=2)  # not a choice: a usage error


def test_html_charts_are_inline_svg_within_their_boxes(world):
    page = report_html(build_report(world.workspace, AS_OF))
    charts = re.findall(r"<svg.*?</svg>", page, re.S)
    assert len(charts) == 2
    for chart in charts:
        root = ET.fromstring(chart)  # well-formed
        width, height = float(root.get("width")), float(root.get("height"))
        for element in root.iter():
            tag = element.tag
            if tag == "rect":
                x, w = float(element.get("x")), float(element.get("width"))
                assert 0 <= x and x + w <= width + 0.5
            if tag in ("line",):
                for key in ("x1", "x2"):
                    assert 0 <= float(element.get(key)) <= width
                for key in ("y1", "y2"):
                    assert 0 <= float(element.get(key)) <= height
            if tag == "polyline":
                for point in element.get("points").split():
                    x, y = (float(v) for v in point.split(","))
                    assert 0 <= x <= width and 0 <= y <= height
    bars = ET.fromstring(charts[0])
    titles = [t.text for t in bars.iter("title")]
    assert "gedaan: 5" in titles and "gepland: 4" in titles


class _Page(HTMLParser):
    """The parts of the report page the checks read: the CSS, each chart's title and texts, every attribute."""

    def __init__(self):
        super().__init__()
        self.css, self.tags, self.attributes, self.captions = "", [], [], []
        self.charts: list[dict] = []
        self._open: list[str] = []
        self._text_class = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        self.attributes.extend(v or "" for v in attrs.values())
        self._open.append(tag)
        if tag == "svg":
            self.charts.append({"attrs": attrs, "title": "", "axis": [], "texts": []})
        if tag == "text":
            self._text_class = attrs.get("class")
        if tag == "p" and attrs.get("class") == "caption":
            self.captions.append("")

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes.extend(v or "" for _, v in attrs)

    def handle_endtag(self, tag):
        while self._open and self._open.pop() != tag:
            pass

    def handle_data(self, data):
        where = self._open[-1] if self._open else ""
        if where == "style":
            self.css += data
        elif where == "p" and self.captions and self.captions[-1] == "":
            self.captions[-1] = data
        elif self.charts and "svg" in self._open:
            chart = self.charts[-1]
            if where == "title" and self._open[-2] == "svg":
                chart["title"] += data
            elif where == "text":
                chart["axis" if self._text_class == "axis" else "texts"].append(data)


def test_html_page_parsed_prints_on_a4_labels_its_charts_says_its_divisors_and_opens_offline(world):
    text = report_html(build_report(world.workspace, AS_OF))
    page = _Page()
    page.feed(text)
    # A4, portrait, fitting the width, readable type: charts no wider than A4 less the margins (688 px), whose
    # 12 px text then prints at 9 pt; body 10 pt and nothing below 9 pt in print.
    assert re.search(r"@page\s*{\s*size:\s*A4\b", page.css)
    assert re.search(r"svg text {[^}]*font-size: 12px", page.css)
    print_css = page.css[page.css.index("@media print"):]
    assert "font-size: 10pt" in print_css
    assert all(float(size) >= 9 for size in re.findall(r"font-size: ([\d.]+)pt", print_css))
    assert "&#34;" not in page.css and '"Segoe UI"' in page.css  # the CSS is not HTML-escaped
    assert len(page.charts) == 2
    for chart, caption in zip(page.charts, page.captions):
        assert chart["title"] and chart["title"] == chart["attrs"]["aria-label"] == caption
        assert float(chart["attrs"]["width"]) <= 688
    coverage, progress = page.charts
    assert "Dekking per school" in coverage["title"] and "Voortgang" in progress["title"]
    assert coverage["axis"] == ["school", "dekking (gedaan / verwacht dit schooljaar)",
                                "aandeel van de verwachte leerling-momenten (%)"]
    assert "100%" in coverage["texts"] and "33%" in coverage["texts"]  # a tick; Basisschool Een: 5 of 15
    assert progress["axis"] == ["leerling-momenten (cumulatief, aantal)", "week van het schooljaar (maand)"]
    assert "okt" in progress["texts"]
    # Offline: nothing to fetch, nothing to run.
    assert not {"script", "link", "img", "iframe", "object", "embed"} & set(page.tags)
    assert not any(re.search(r"https?:|//|url\(", value) for value in page.attributes)
    assert not re.search(r"https?://|@import|url\(", text)
    # Every coverage figure says what it divides by.
    assert "dekking: gedaan / verwacht dit schooljaar" in text
    assert "<th class=\"n\">Dekking (gedaan / verwacht dit schooljaar)</th>" in text
    assert "<th class=\"n\">Dekking (gegeven / leerlingen)</th>" in text
    assert "Dekking = gedaan / verwacht dit schooljaar, waarbij verwacht = gedaan + nog te doen" in text


def test_report_templates_are_package_data():
    """`pip install .` ships the templates: every file in exports/templates matches a package-data glob."""
    import fnmatch
    import tomllib
    from pathlib import Path

    import clbhealth.exports

    root = Path(clbhealth.exports.__file__).parent
    config = tomllib.loads((root.parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["clbhealth.exports"]
    assert "jinja2>=3.1" in config["project"]["dependencies"]
    files = [p.relative_to(root).as_posix() for p in (root / "templates").iterdir()]
    assert {"report.html", "charts.html", "report.css"} <= {f.split("/")[-1] for f in files}
    assert all(any(fnmatch.fnmatch(f, g) for g in globs) for f in files), (files, globs)
