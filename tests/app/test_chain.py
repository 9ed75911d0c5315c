"""The whole chain a CLB runs, end to end through the CLI (issue 4's done-when):
demo workspace -> plan -> export schools/calendars/attendance -> fill in the attendance sheet
(some pupils absent) -> import results -> plan again -> the absent pupils are in a later session
at their school -> weekly -> report."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

from openpyxl import load_workbook

from tests.conftest import run

DAY = "2026-12-01"


def test_demo_to_report(tmp_path, runner):
    ws = tmp_path / "demo"
    run(runner, "demo", ws, "--as-of", DAY, "--time-limit", "3")
    run(runner, "plan", "check", "-w", ws)
    exports = tmp_path / "out"
    run(runner, "export", "schools", "-w", ws, "--out", exports / "schools")
    run(runner, "export", "calendars", "-w", ws, "--out", exports / "calendars")
    assert list((exports / "schools").glob("*.xlsx")) and list((exports / "calendars").glob("*.ics"))

    plan = json.loads(run(runner, "plan", "show", "-w", ws, "--format", "json").stdout)
    first = min((s for s in plan if s["school_id"] != "HUISONDERWIJS" and len(s["pupil_ids"]) >= 4),
                key=lambda s: (s["date"], s["start"], s["session_id"]))
    sheet = exports / "attendance.xlsx"
    run(runner, "export", "attendance", "-w", ws, "--session", first["session_id"], "--out", sheet)

    workbook = load_workbook(sheet)
    absent_names = []
    for worksheet in workbook.worksheets:
        rows = [r for r in worksheet.iter_rows(min_row=7) if r[9].value is None and r[0].value is not None]
        people = sorted({r[3].value for r in rows})
        absent_names = people[:2]
        for r in rows:
            r[9].value = "afwezig" if r[3].value in absent_names else "gezien"
    workbook.save(sheet)
    run(runner, "import", "results", sheet, "-w", ws)

    conn = sqlite3.connect(ws / "clbhealth.sqlite")
    absent = {r[0] for r in conn.execute(
        "SELECT DISTINCT pupil_id FROM session_pupils WHERE session_id = ? AND outcome = 'absent'",
        (first["session_id"],))}
    assert len(absent) >= 1
    conn.close()

    later = (dt.date.fromisoformat(first["date"]) + dt.timedelta(days=1)).isoformat()
    result = run(runner, "plan", "-w", ws, "--as-of", later, "--keep-until", first["date"], "--time-limit", "3")
    assert "Plan 2" in result.output
    run(runner, "plan", "check", "-w", ws)
    replanned = json.loads(run(runner, "plan", "show", "-w", ws, "--format", "json").stdout)
    kept = next(s for s in replanned if s["session_id"] == first["session_id"])
    assert kept["date"] == first["date"] and kept["staff_ids"] == first["staff_ids"]
    for pupil in absent:
        again = [s for s in replanned if pupil in s["pupil_ids"] and s["session_id"] != first["session_id"]]
        assert again, f"absent pupil {pupil} is not planned again"
        assert all(s["school_id"] == first["school_id"] and s["date"] > first["date"] for s in again)

    weekly = runner.invoke(__import__("clbhealth.cli.main", fromlist=["app"]).app,
                           ["weekly", "-w", str(ws), "--out", str(exports / "weekly"), "--as-of", later])
    assert weekly.exit_code in (0, 3), weekly.output
    assert list((exports / "weekly").glob("*/summary.json"))
    run(runner, "report", "-w", ws, "--format", "html", "-o", exports / "report.html", "--as-of", later)
    html = (exports / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html
