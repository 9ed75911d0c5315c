"""Issue 14 as a new user meets it: `clbhealth staff` lists the ids --staff takes, an unknown school or
staff id is refused by every command with the closest (or the known) ids and never answered with an empty
result, every listing speaks JSON on stdout only, and an -o file's extension must be what is written."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from openpyxl import load_workbook

from tests.conftest import run
from tests.imports.test_bad_inputs import dump
from tests.planfixture import build_plan_workspace

AS_OF = "2026-10-01"
STAFF_FIELDS = ["staff_id", "name", "role", "active", "base", "base_lat", "base_lon", "availability", "schools"]


@pytest.fixture
def world(tmp_path):
    return build_plan_workspace(tmp_path)


def files_under(folder) -> list[str]:
    return sorted(str(p) for p in folder.rglob("*")) if folder.exists() else []


# --- the staff list ---------------------------------------------------------------------------------


def test_staff_lists_the_ids_that_staff_takes(world, runner):
    table = run(runner, "staff", "-w", world.root).stdout
    for text in ("3 person(s) on the staff list", "N01", "An Peeters", "D01", "Dr. Bart Claes", "doctor", "own"):
        assert text in table, text
    rows = json.loads(run(runner, "staff", "-w", world.root, "--format", "json").stdout)
    assert [r["staff_id"] for r in rows] == ["D01", "N01", "N02"]
    assert all(list(r) == STAFF_FIELDS for r in rows)
    assert rows[1] == {"staff_id": "N01", "name": "An Peeters", "role": "nurse", "active": True, "base": "own",
                       "base_lat": 51.2, "base_lon": 4.5, "availability": "mon-am mon-pm tue-am tue-pm wed-am thu-am",
                       "schools": "100"}
    nurses = json.loads(run(runner, "staff", "-w", world.root, "--role", "nurse", "--format", "json").stdout)
    assert [r["staff_id"] for r in nurses] == ["N01", "N02"]
    typo = run(runner, "staff", "-w", world.root, "--role", "nurs", code=2)
    assert "did you mean nurse?" in typo.output


def test_staff_who_left_the_list_show_with_all(world, runner, tmp_path):
    staff = tmp_path / "staff.csv"
    staff.write_text("staff_id;name;role;base_lat;base_lon;availability\n"
                     "N01;An Peeters;verpleegkundige;51.2;4.5;ma-vm ma-nm\nD01;Dr. Bart Claes;arts;;;di-nm\n",
                     encoding="utf-8")
    run(runner, "import", "staff", staff, "-w", world.root)
    shown = json.loads(run(runner, "staff", "-w", world.root, "--format", "json").stdout)
    assert [(r["staff_id"], r["base"]) for r in shown] == [("D01", "office"), ("N01", "own")]
    everyone = json.loads(run(runner, "staff", "-w", world.root, "--all", "--format", "json").stdout)
    assert [(r["staff_id"], r["active"]) for r in everyone] == [("D01", True), ("N01", True), ("N02", False)]
    csv_text = run(runner, "staff", "-w", world.root, "--all", "--format", "csv", "--csv-separator", ",").stdout
    assert csv_text.splitlines()[0] == ",".join(STAFF_FIELDS)


def test_an_empty_staff_list_says_how_to_fill_it(tmp_path, runner):
    run(runner, "init", tmp_path / "ws", "--school-year", "2026-2027")
    assert "Import it with `clbhealth import staff FILE`" in run(runner, "staff", "-w", tmp_path / "ws").stdout
    assert json.loads(run(runner, "staff", "-w", tmp_path / "ws", "--format", "json").stdout) == []


# --- unknown ids, everywhere -------------------------------------------------------------------------

UNKNOWN = [
    (["plan", "show", "--school", "9999"], "--school 9999: no such school", "the closest known: 200, 100"),
    (["plan", "show", "--staff", "N9"], "--staff N9: no such person", "the closest known: N02, N01"),
    (["plan", "show", "--staff", "X"], "--staff X: no such person", "the known ones: D01, N01, N02."),
    (["plan", "explain", "--school", "9999"], "--school 9999: no such school", "the closest known"),
    (["plan", "explain", "--staff", "X"], "--staff X: no such person", "the known ones: D01, N01, N02."),
    (["due", "--as-of", AS_OF, "--school", "9999"], "--school 9999: no such school", "the closest known"),
    (["export", "schools", "-o", "{out}/scholen", "--school", "9999"], "--school 9999: no such school", "closest"),
    (["export", "calendars", "-o", "{out}/agenda", "--staff", "D1"], "--staff D1: no such person",
     "the closest known: D01"),
    (["export", "calendars", "-o", "{out}/agenda", "--staff", "X"], "--staff X: no such person", "the known ones"),
    (["export", "attendance", "-o", "{out}/a.xlsx", "--date", "2026-10-06", "--staff", "X"],
     "--staff X: no such person", "the known ones"),
    (["export", "consent-forms", "-o", "{out}/brieven", "--school", "9999"], "--school 9999: no such school",
     "closest"),
    (["import", "roster", "{roster}", "--school", "9999", "--dry-run"], "--school 9999: no such school", "closest"),
]


@pytest.mark.parametrize("args, said, known", UNKNOWN, ids=[" ".join(a[:2]) + " " + a[-1] for a, _, _ in UNKNOWN])
def test_an_unknown_id_is_refused_with_the_ids_that_exist(world, runner, tmp_path, args, said, known):
    roster = tmp_path / "roster-100.csv"  # written by the fixture
    out = tmp_path / "out"
    before = dump(world.root)
    result = run(runner, *(a.format(out=out, roster=roster) for a in args), "-w", world.root, code=1)
    assert said in result.output and known in result.output, result.output
    if "--staff" in args:
        assert "`clbhealth staff` lists the staff ids" in result.output
    else:
        assert "`clbhealth schools` lists them" in result.output
    assert "Traceback" not in result.output and files_under(out) == [] and dump(world.root) == before


def test_unknown_ids_are_refused_before_there_is_a_plan(tmp_path, runner):
    """No plan yet is no excuse for answering an unknown id with an empty result."""
    root = tmp_path / "ws"
    run(runner, "init", root, "--school-year", "2026-2027")
    school = run(runner, "plan", "explain", "--school", "100", "-w", root, code=1).output
    assert "--school 100: no such school in this workspace; none is known yet." in school
    staff = run(runner, "plan", "explain", "--staff", "N01", "--format", "json", "-w", root, code=1)
    assert staff.stdout == "" and "none is known yet" in staff.output


def test_plan_explain_for_one_person(tmp_path, runner):
    from tests.cli.test_scripts_and_cron import _short_world

    world = _short_world(tmp_path, runner)  # one nurse, one half-day: one school's K1 stays unplanned
    world.plan("--from", "2026-09-07", "--to", "2026-09-07")
    data = json.loads(world.cli("plan", "explain", "--staff", "N1", "--format", "json").stdout)
    assert data["staff"] == "N1" and data["person"]["staff_id"] == "N1" and data["person"]["role"] == "nurse"
    assert data["person"]["sessions"] == 1 and data["unplanned"]["pupil_moments"] == 3
    assert all(r["role"] == "nurse" for r in data["resources"])
    assert "N1 (nurse): 1 session(s)" in world.cli("plan", "explain", "--staff", "N1").stdout
    assert "the closest known: N1" in world.cli("plan", "explain", "--staff", "N2", code=1).output


# --- JSON on stdout only, --quiet for cron --------------------------------------------------------------

JSON_COMMANDS = [
    ["plan", "show"], ["plan", "check"], ["doctor"], ["protocols", "show"], ["schools"],
    ["staff"], ["due", "--as-of", AS_OF], ["lots", "--as-of", AS_OF], ["audit"], ["report", "--as-of", AS_OF],
    ["import", "closures", "{closures}", "--dry-run"],
]


@pytest.mark.parametrize("args", JSON_COMMANDS, ids=[" ".join(a[:2]) for a in JSON_COMMANDS])
def test_json_is_one_document_on_stdout(world, runner, tmp_path, args):
    closures = tmp_path / "closures.csv"
    closures.write_text("school_id;from;to;reason\n100;2026-10-20;2026-10-20;studiedag\n", encoding="utf-8")
    result = run(runner, *(a.format(closures=closures) for a in args), "--format", "json", "-w", world.root, code=None)
    assert result.exit_code in (0, 1), result.output  # doctor and plan check exit 1 on a finding
    json.loads(result.stdout)  # nothing but the JSON on stdout: no table, no "Wrote", no markup
    assert "\x1b[" not in result.stdout


def test_lots_json_fields(world, runner, tmp_path):
    lots = tmp_path / "lots.csv"
    lots.write_text("product;lot;expiry;doses\nTetravac;TV1;2027-01-31;20\n", encoding="utf-8")
    run(runner, "import", "lots", lots, "-w", world.root, "--as-of", AS_OF)
    [lot] = json.loads(run(runner, "lots", "--format", "json", "--as-of", "2027-02-01", "-w", world.root).stdout)
    assert lot == {"product": "Tetravac", "lot": "TV1", "expiry": "2027-01-31", "received": 20, "given": 0,
                   "left": 20, "expired": True}


def test_quiet_writes_files_without_a_word(world, runner, tmp_path):
    for args in (["due", "--as-of", AS_OF, "-o", tmp_path / "due.xlsx"], ["plan", "show", "-o", tmp_path / "plan.csv"]):
        result = run(runner, *args, "-q", "-w", world.root)
        assert result.stdout == "" and result.stderr == "", result.output
    assert (tmp_path / "due.xlsx").exists() and (tmp_path / "plan.csv").exists()
    for args in (["doctor"], ["plan", "check"]):  # for cron: silent when all is well, only problems otherwise
        result = run(runner, *args, "-q", "-w", world.root, code=None)
        loud = run(runner, *args, "-w", world.root, code=None)
        assert result.exit_code == loud.exit_code
        assert "✓" not in result.output and "No problems found" not in result.output
        assert "keeps every hard rule" not in result.output
        assert [line for line in result.output.splitlines() if line.startswith("✗")] == [
            line for line in loud.output.splitlines() if line.startswith("✗")]
        assert result.output or result.exit_code == 0
    (world.root / "exports").mkdir(exist_ok=True)
    leftover = world.root / "exports" / ".due.xlsx.4242.abcd1234.tmp"  # a killed export's temporary file
    leftover.write_bytes(b"half")
    leftover.chmod(0o600)
    found = run(runner, "doctor", "-q", "-w", world.root, code=1).output
    assert "✗ leftovers" in found and "✓" not in found


# --- the -o file's extension is the format written ----------------------------------------------------

WRONG_EXTENSION = [
    (["export", "attendance", "--date", "2026-10-06", "-o", "{out}/aanwezig.csv"], "a .csv file", ".xlsx"),
    (["export", "vaccine-order", "-o", "{out}/bestelling.csv"], "a .csv file", ".xlsx"),
    (["export", "vaccinnet", "-o", "{out}/vaccinnet.xlsx"], "a .xlsx file", ".csv"),
    (["due", "--as-of", AS_OF, "-o", "{out}/due.pdf"], "a .pdf file", ".xlsx, .csv, .json or .txt"),
    (["due", "--as-of", AS_OF, "-o", "{out}/due"], "a file without an extension", ".xlsx, .csv, .json or .txt"),
    (["plan", "show", "-o", "{out}/plan.docx"], "a .docx file", ".xlsx, .csv, .json or .txt"),
    (["report", "--as-of", AS_OF, "-o", "{out}/rapport.csv"], "a .csv file", ".json or .html"),
]


@pytest.mark.parametrize("args, what, endings", WRONG_EXTENSION, ids=[a[0] + " " + a[-1][6:] for a, _, _ in WRONG_EXTENSION])
def test_an_extension_that_is_not_the_format_written_is_refused(world, runner, tmp_path, args, what, endings):
    out = tmp_path / "out"
    out.mkdir()
    before = dump(world.root)
    result = run(runner, *(str(a).format(out=out) for a in args), "-w", world.root, code=1)
    assert f"{what} is not what this command writes" in result.output, result.output
    assert f"Give a file name ending in {endings}" in result.output
    assert files_under(out) == [] and dump(world.root) == before


def test_the_extension_picks_the_format_and_people_read_it_back(world, runner, tmp_path):
    run(runner, "due", "--as-of", AS_OF, "-o", tmp_path / "due.csv", "-w", world.root)
    raw = (tmp_path / "due.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b";" in raw.splitlines()[0]  # BOM, ; (Belgian Excel)
    frame = pd.read_csv(tmp_path / "due.csv", sep=";", encoding="utf-8-sig", dtype=str)
    assert {"pupil_id", "moment", "status"} <= set(frame.columns) and len(frame) > 0
    run(runner, "due", "--as-of", AS_OF, "-o", tmp_path / "due-comma.csv", "--csv-separator", ",", "-w", world.root)
    comma = pd.read_csv(tmp_path / "due-comma.csv", sep=",", encoding="utf-8-sig", dtype=str)
    assert comma.equals(frame)
    run(runner, "due", "--as-of", AS_OF, "-o", tmp_path / "due.xlsx", "-w", world.root)
    sheet = load_workbook(tmp_path / "due.xlsx").active
    values = [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]
    assert "moment" in values and set(frame["last_name"]) <= set(values)
    run(runner, "plan", "show", "-o", tmp_path / "plan.json", "-w", world.root)
    assert [s["session_id"] for s in json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))][:1] == ["S000001"]
    run(runner, "due", "--as-of", AS_OF, "--format", "csv", "-o", tmp_path / "due.tsv", "-w", world.root)  # asked for
    assert pd.read_csv(tmp_path / "due.tsv", sep=";", encoding="utf-8-sig", dtype=str).equals(frame)


def test_an_unknown_session_names_the_closest(world, runner, tmp_path):
    from clbhealth.core.closest import closest

    assert closest("S00001", ["S000001", "S000101", "S000011"])[0] == "S000001"  # the same number first
    assert closest("V1", ["V01", "V02", "V10"])[0] == "V01"
    result = run(runner, "export", "attendance", "--session", "S00003", "-o", tmp_path / "a.xlsx", "-w", world.root,
                 code=1)
    assert "--session S00003: no such session in the current plan; the closest known: S000003" in result.output
    assert "`clbhealth plan show` lists the sessions" in result.output and not (tmp_path / "a.xlsx").exists()
    run(runner, "export", "attendance", "--session", "s000003", "-o", tmp_path / "a.xlsx", "-w", world.root)


def test_known_ids_without_sessions_say_so_not_run_plan(world, runner):
    shown = run(runner, "plan", "show", "--school", "200", "--staff", "N01", "-w", world.root).stdout
    assert shown.strip() == "No sessions of N01 at school 200 in the plan."
    assert json.loads(run(runner, "plan", "show", "--staff", "N02", "--format", "json", "-w", world.root).stdout) == []
