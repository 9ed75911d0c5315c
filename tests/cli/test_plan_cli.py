"""`clbhealth plan` end to end on the demo workspace: the summary, `plan show` in every format,
`plan check`, `plan explain`, and clear errors (exit 1, no traceback, nothing changed) for bad options."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import sqlite3

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from tests.conftest import run
from tests.planner_world import make_world, pupils

AS_OF = "2026-12-01"
FIELDS = ["session_id", "date", "start", "end", "school_id", "staff_ids", "moments", "classes", "pupil_ids", "minutes",
          "parts", "pupils"]


class Demo:
    def __init__(self, root, output: str):
        self.root = root
        self.output = output
        self.runner = CliRunner()

    def cli(self, *args, code: int | None = 0):
        return run(self.runner, *args, "-w", self.root, code=code)

    def plans(self) -> int:
        with sqlite3.connect(self.root / "clbhealth.sqlite") as conn:
            return conn.execute("SELECT count(*) FROM plans").fetchone()[0]


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Demo:
    root = tmp_path_factory.mktemp("plan-cli") / "demo"
    runner = CliRunner()
    run(runner, "demo", root, "--as-of", AS_OF, "--time-limit", "1")
    with sqlite3.connect(root / "clbhealth.sqlite") as conn:  # the demo imports the samples' planning inputs
        counts = [conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("staff", "absences", "closures")]
    assert counts == [5, 3, 3]
    result = run(runner, "plan", "-w", root, "--as-of", AS_OF, "--time-limit", "5", "--workers", "1")
    return Demo(root, result.output)


def test_summary_names_sessions_soft_goals_bounds_and_load(demo):
    text = " ".join(demo.output.split())
    shown = json.loads(demo.cli("plan", "show", "--format", "json").stdout)
    assert f"Plan 2: {len(shown)} sessions from {AS_OF} to 2027-06-30" in text
    assert "Pupil-moments planned" in text and "K1" in text and "HPV1" in text
    assert "Soft goals (objective terms)" in text
    from clbhealth.scheduler.goals import GOALS

    for goal in GOALS:  # every soft goal, declared once, named with its unit
        assert f"{goal.name} ({goal.unit})" in text, goal.name
    assert "against a lower bound of" in text and "Bounds computed without the solver." in text
    assert "timetable" in text and "proven bound" in text
    assert "Coverage:" in text and "of that bound" in text and "Utilisation nurse" in text
    assert "Load per person" in text and all(p in text for p in ("V01", "V02", "V03", "A01", "A02"))
    assert "Every due pupil-moment is planned." in text or "pupil-moment(s) are not planned" in text
    assert "Traceback" not in demo.output


def test_progress_is_told_in_plain_words(demo):
    """Off a terminal: one plain line per step (and per improvement, at most one per 10 s), each with
    the share of the time used, the step, the best plan's sessions and, while solving, the gap."""
    lines = [line for line in demo.output.splitlines() if line.startswith("planning:")]
    share = r"planning: \d{1,3}% of the time used, "
    assert re.fullmatch(share + r"first complete plan, [\d,]+ sessions", lines[0]), lines
    gap = r"(, (less than 0\.1%|[\d.,]+%) above the bound)?"
    assert any(re.fullmatch(share + r"improving each person's timetable, [\d,]+ sessions" + gap, line)
               for line in lines), lines
    assert re.fullmatch(share + r"filling free half-days and moving sessions to nearer colleagues, [\d,]+ sessions",
                        lines[-1]), lines


def test_plan_show_json_has_every_field(demo):
    shown = json.loads(demo.cli("plan", "show", "--format", "json").stdout)
    assert len(shown) > 50
    for s in shown:
        assert list(s) == FIELDS
        assert dt.date.fromisoformat(s["date"]) >= dt.date.fromisoformat(AS_OF)
        # A block's first session starts with the block; a second school of a shared half-day later.
        morning = "08:30" <= s["start"] < "12:00"
        assert morning or "13:15" <= s["start"] < "15:30"
        assert s["start"] < s["end"] <= ("12:00" if morning else "15:30")
        assert s["staff_ids"] and s["moments"] and s["pupil_ids"] and isinstance(s["minutes"], int)
        assert all(isinstance(p, int) for p in s["pupil_ids"]) and len(set(s["pupil_ids"])) == len(s["pupil_ids"])
        assert [p["pupil_id"] for p in s["pupils"]] == s["pupil_ids"] and all(p["moments"] for p in s["pupils"])
        assert {p["moment"] for p in s["parts"]} == set(s["moments"])
        assert all(p["role"] in ("nurse", "doctor") for p in s["parts"])
    assert len({s["session_id"] for s in shown}) == len(shown)
    assert any(s["school_id"] == "HUISONDERWIJS" for s in shown)
    school = json.loads(demo.cli("plan", "show", "--format", "json", "--school", "562").stdout)
    assert school and {s["school_id"] for s in school} == {"562"}
    person = json.loads(demo.cli("plan", "show", "--format", "json", "--staff", "V01").stdout)
    assert person and all("V01" in s["staff_ids"] for s in person)


def test_plan_show_csv_xlsx_and_table(demo, tmp_path):
    shown = json.loads(demo.cli("plan", "show", "--format", "json").stdout)
    rows = list(csv.DictReader(io.StringIO(demo.cli("plan", "show", "--format", "csv").stdout), delimiter=";"))
    assert len(rows) == len(shown) and set(FIELDS) - {"pupils"} <= set(rows[0])  # flat: pupil_ids
    first = shown[0]
    assert rows[0]["session_id"] == first["session_id"]
    assert rows[0]["staff_ids"] == " ".join(first["staff_ids"])
    assert rows[0]["pupil_ids"] == " ".join(str(p) for p in first["pupil_ids"])

    path = tmp_path / "plan.xlsx"
    result = demo.cli("plan", "show", "--format", "xlsx", "-o", path)
    assert f"Wrote {len(shown)} session(s)" in result.output
    sheet = load_workbook(path)["Plan"]
    values = [[c.value for c in r] for r in sheet.iter_rows()]
    header = next(i for i, r in enumerate(values) if r and r[0] == "session_id")
    assert set(FIELDS) - {"pupils"} <= set(values[header])
    assert len([r for r in values[header + 1:] if r[0]]) == len(shown)

    table = demo.cli("plan", "show", "--school", "562").stdout
    assert "session_id" in table and first["session_id"] in demo.cli("plan", "show").stdout

    no_file = demo.cli("plan", "show", "--format", "xlsx", code=1)
    assert "needs --output" in no_file.output and "Traceback" not in no_file.output
    bad = demo.cli("plan", "show", "--format", "pdf", code=2)
    assert "'pdf' is not one of table, csv, json, xlsx" in bad.output


def test_plan_check_passes(demo):
    result = demo.cli("plan", "check")
    assert "keeps every hard rule" in result.output


def test_plan_explain_runs(demo):
    text = demo.cli("plan", "explain").output
    assert text.startswith(f"Plan 2 ({AS_OF} to 2027-06-30).")
    assert "Nothing is unplanned." in text or "are not planned" in text
    assert demo.cli("plan", "explain", "--school", "562").output.startswith("Plan 2")


@pytest.mark.parametrize("options, message, code", [
    (["--from", "2027-03-01", "--to", "2027-02-01"], "The planning period 2027-03-01 to 2027-02-01 is empty", 1),
    # a value outside its option's range is a usage error (exit 2), refused before the workspace is read
    (["--time-limit", "0"], "Invalid value for '--time-limit': '0' is outside (0, 86400]", 2),
    (["--time-limit", "-3"], "Invalid value for '--time-limit': '-3' is outside (0, 86400]", 2),
    (["--workers", "0"], "Invalid value for '--workers': 0 is outside 1 .. 1024", 2),
    (["--as-of", "2026-13-01"], "Invalid value for '--as-of': '2026-13-01' is not a real date", 2),
    (["--keep-until", "morgen"], "Invalid value for '--keep-until': 'morgen' is not a date", 2),
    (["--from", "2027-08-01"], "is empty or outside the school year 2026-2027", 1),
], ids=["from-after-to", "time-limit-0", "time-limit-negative", "workers-0", "bad-date", "bad-keep-until",
        "outside-year"])
def test_bad_options_give_a_clear_error_and_change_nothing(demo, options, message, code):
    before = (demo.plans(), demo.cli("plan", "show", "--format", "json").stdout)
    args = ["plan", *options]
    if "--as-of" not in options:
        args += ["--as-of", AS_OF]
    if "--time-limit" not in options:
        args += ["--time-limit", "1"]
    result = demo.cli(*args, code=code)
    text = " ".join(result.output.split())
    assert "Error:" in text and message in text, text
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert (demo.plans(), demo.cli("plan", "show", "--format", "json").stdout) == before


def test_a_workspace_without_staff(tmp_path, runner):
    world = make_world(tmp_path, runner, "100")
    world.roster("100", pupils("K1", 3))
    result = world.plan(code=1)
    text = " ".join(result.output.split())
    assert "Error: The workspace has no staff list." in text and "clbhealth import staff" in text
    assert "Traceback" not in result.output
    assert "No sessions planned" in world.cli("plan", "show").output
    assert "No plan yet" in world.cli("plan", "explain").output


def test_plan_outside_a_workspace(tmp_path, runner):
    result = run(runner, "plan", "-w", tmp_path, "--as-of", AS_OF, code=1)
    assert "No clbhealth workspace" in result.output and "Traceback" not in result.output


def test_school_workbook_has_the_schools_and_the_clbs_contact(demo, tmp_path):
    """The bundled samples are official-list rows: the workbook shows the school's own phone and
    e-mail from the list and the CLB office's address; S3 is planned in a real secondary school."""
    from openpyxl import load_workbook

    out = tmp_path / "schools"
    demo.cli("export", "schools", "--out", out, "--school", "621")  # the institution's main site is 621-3
    [path] = list(out.glob("*.xlsx"))
    heading = [load_workbook(path)["Planning"].cell(row=r, column=1).value or "" for r in range(1, 6)]
    assert any(h.startswith("School: ") and "tel. " in h and "@" in h for h in heading), heading
    assert any(h.startswith("CLB: ") and "Herentals" in h for h in heading), heading
    shown = json.loads(demo.cli("plan", "show", "--format", "json", "--school", "40642").stdout)
    assert any("S3" in s["moments"] for s in shown)
