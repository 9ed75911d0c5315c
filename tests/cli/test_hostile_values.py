"""Hostile values at the command line and in the files: markup in names and paths, INSZ where it must
not be, option values out of range. Each is refused (or shown as typed) with a clear message, never a
traceback, and a refused command leaves the workspace and its output files as they were."""

from __future__ import annotations

import ast
import json
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clbhealth.cli import common
from clbhealth.core.dates import SchoolYear
from clbhealth.samples.generator import insz_for
from tests.conftest import run
from tests.imports.test_bad_inputs import dump

AS_OF = "2026-12-01"
CLB_NAME = "CLB [/] Noord"  # as written into clbhealth.toml
SCHOOL = "Basisschool [De Linde]"
SCHOOL_2 = "[red]Atheneum [de linde] :smile:"  # a style tag, an unknown lower-case tag, an emoji code
NURSE = "[bold]An"
PUPIL = "[bold]Jan"
INSZ = insz_for(__import__("datetime").date(2020, 3, 5), 11)  # a valid INSZ of a fictional pupil
INSZ_DOTTED = f"{INSZ[:2]}.{INSZ[2:4]}.{INSZ[4:6]}-{INSZ[6:9]}.{INSZ[9:]}"
ELEVEN_DIGITS = re.compile(r"(?<!\d)\d{2}[.\-_ ]?\d{2}[.\-_ ]?\d{2}[.\-_ ]?\d{3}[.\-_ ]?\d{2}(?!\d)")
ROSTER_HEADER = "instellingsnummer;stamboeknummer;rijksregisternummer;naam;voornaam;geboortedatum;geslacht;klas;leerjaar"


def pupil_line(number: int, insz: str, last: str, first: str, born: str, sex: str, cls: str, grade: str,
               school: str = "100") -> str:
    return ";".join((school, str(number), insz, last, first, born, sex, cls, grade))


PUPILS = [
    pupil_line(1, INSZ, "Peeters", PUPIL, "05/03/2020", "M", "1A", "L1"),
    pupil_line(2, insz_for(__import__("datetime").date(2017, 6, 7), 12), "Maes [/]", "Zoë", "07/06/2017", "V", "4A", "L4"),
    pupil_line(3, insz_for(__import__("datetime").date(2023, 2, 1), 13), "Claes", "Lou", "01/02/2023", "M", "K1A", "K1"),
]


def audit_files(root: Path) -> str:
    conn = sqlite3.connect(root / "clbhealth.sqlite")
    try:
        return " ".join(" ".join(json.loads(r[0])) for r in conn.execute("SELECT files FROM audit"))
    finally:
        conn.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A planned workspace whose CLB, school, staff and pupil names hold square brackets."""
    base = tmp_path_factory.mktemp("hostile")
    root = base / "ws"
    runner = CliRunner()
    run(runner, "init", root, "--name", "CLB", "--school-year", "2026-2027")
    config = root / "clbhealth.toml"
    text = config.read_text(encoding="utf-8").replace('name = "CLB"', f'name = "{CLB_NAME}"', 1)
    config.write_text(text.replace("# lat = 51.0", "lat = 51.16").replace("# lon = 4.4", "lon = 4.99"), encoding="utf-8")
    (base / "schools.csv").write_text(
        "school_id;name;street;postcode;municipality;lat;lon;level\n"
        f"100;{SCHOOL};Kerkstraat [1];2000;Antwerpen;51.2194;4.4025;basis\n"
        f"200;{SCHOOL_2};Schoolstraat 2;2500;Lier;51.1315;4.5700;secundair\n", encoding="utf-8")
    (base / "roster.csv").write_text("\n".join([ROSTER_HEADER, *PUPILS]) + "\n", encoding="utf-8")
    (base / "staff.csv").write_text(
        "staff_id;name;role;base_lat;base_lon;availability;schools\n"
        f"N1;{NURSE};verpleegkundige;51.2;4.5;ma-vm ma-nm di-vm di-nm do-vm vr-vm;100\n"
        "D1;Dr. [/] Bart;arts;51.1;4.6;ma-vm di-vm do-vm;100 200\n", encoding="utf-8")
    run(runner, "import", "schools", base / "schools.csv", "-w", root)
    run(runner, "import", "roster", base / "roster.csv", "-w", root, code=None)
    run(runner, "import", "staff", base / "staff.csv", "-w", root)
    plan = run(runner, "plan", "-w", root, "--as-of", AS_OF, "--time-limit", "2", "--workers", "1", code=None)
    assert plan.exit_code in (0, 3) and "Traceback" not in plan.output, plan.output
    (base / "plan-summary.txt").write_text(plan.output, encoding="utf-8")
    return root


@pytest.fixture
def ws(template, tmp_path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(template, root)
    return root


@pytest.fixture
def terminal(monkeypatch):
    """The CLI's stdout console as on a wide terminal (rich tables, not the plain table for pipes)."""
    monkeypatch.setattr(common.out, "_force_terminal", True)
    monkeypatch.setattr(common.out, "_width", 400)


def clean(result, code: int) -> str:
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, (SystemExit, type(None))), repr(result.exception)
    assert "Traceback" not in result.output and "MarkupError" not in result.output
    return result.output


# --- 1. markup in names and paths ------------------------------------------------------------------


def test_the_plan_summary_shows_names_as_typed(template):
    text = (template.parent / "plan-summary.txt").read_text(encoding="utf-8")
    assert "Plan 1" in text and "Load per person" in text  # the rich summary, printed without a markup crash


@pytest.mark.parametrize("args, shown", [
    (["report", "--as-of", AS_OF], [CLB_NAME, SCHOOL, NURSE, "Dr. [/] Bart"]),
    (["due", "--as-of", AS_OF], [PUPIL, "Maes [/]"]),
    (["schools"], [SCHOOL, SCHOOL_2, "Kerkstraat [1]"]),
    (["plan", "show", "--format", "table"], ["100", "N1"]),
    (["protocols", "show"], ["K1"]),
    (["doctor"], ["clbhealth.toml"]),
    (["staff"], [NURSE, "Dr. [/] Bart"]),
    (["staff", "--format", "csv"], [NURSE, "Dr. [/] Bart"]),
    (["plan", "explain", "--staff", "N1"], ["N1 (nurse)"]),
], ids=["report", "due", "schools", "plan-show", "protocols", "doctor", "staff", "staff-csv", "explain-staff"])
def test_names_with_brackets_are_shown_as_typed(ws, runner, terminal, args, shown):
    before = dump(ws)
    result = run(runner, *args, "-w", ws, code=None)
    output = clean(result, 1 if args == ["doctor"] and result.exit_code == 1 else 0)
    for text in shown:
        assert text in output, (text, output)
    assert dump(ws) == before


def test_a_markup_like_clb_name_and_folder_at_init(tmp_path, runner):
    folder = tmp_path / "ws [/] [bold]x"
    output = clean(run(runner, "init", folder, "--name", "CLB [/][red]Zuid", "--school-year", "2026-2027"), 0)
    assert f"Created workspace {folder} for CLB [/][red]Zuid, school year 2026-2027." in output
    again = run(runner, "init", folder, "--name", "CLB [bold]", code=None)  # refused: the folder is a workspace
    assert "already holds a clbhealth workspace" in clean(again, 1) and str(folder) in again.output
    assert 'name = "CLB [/][red]Zuid"' in (folder / "clbhealth.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize("args, written", [
    (["due", "--as-of", AS_OF, "--format", "csv"], "row(s) to "),
    (["plan", "show", "--format", "csv"], "session(s) to "),
    (["report", "--as-of", AS_OF, "--format", "html"], "Wrote the html report to "),
], ids=["due", "plan-show", "report"])
def test_an_output_path_with_brackets_is_shown_as_typed(ws, runner, tmp_path, args, written):
    target = tmp_path / "out [/] [bold]" / "lijst[red].out"
    output = clean(run(runner, *args, "-o", target, "-w", ws), 0)
    assert f"{written}{target}" in " ".join(output.split()) or written + str(target) in output
    assert target.exists()


def test_errors_and_hints_with_brackets_are_shown_as_typed(ws, runner, tmp_path):
    before = dump(ws)
    missing = tmp_path / "x[/]roster [bold].csv"
    output = clean(run(runner, "import", "roster", missing, "-w", ws, code=None), 1)
    assert f"Error: {missing}: no such file." in output and "Check the path and the file name." in output
    output = clean(run(runner, "plan", "show", "--staff", "[/]N1", "-w", ws, code=None), 1)
    assert "[/]N1" in output
    output = clean(run(runner, "due", "--moment", "[red]K1", "-w", ws, code=None), 1)
    assert "--moment '[red]K1' is not a contact moment or dose" in output
    assert dump(ws) == before


def test_an_import_lists_bracketed_values_and_file_names_as_typed(ws, runner, tmp_path):
    before = dump(ws)
    path = tmp_path / "[bold]personeel [red].csv"
    path.write_text("staff_id;name;role;availability\nN9;[red]Els;kok;ma-vm\n", encoding="utf-8")
    output = clean(run(runner, "import", "staff", path, "-w", ws, code=None), 1)
    assert "[bold]personeel [red].csv, row 2" in output and "(value 'kok')" in output
    assert dump(ws) == before


# --- 2. INSZ where it must not be ------------------------------------------------------------------


@pytest.mark.parametrize("number", [INSZ, INSZ_DOTTED], ids=["digits", "dotted"])
def test_an_insz_in_a_file_name_is_masked_in_messages(ws, runner, tmp_path, number):
    before = dump(ws)
    path = tmp_path / f"roster-{number}.csv"
    path.write_text(ROSTER_HEADER + "\n" + pupil_line(9, "", "Wouters", "Noah", "05/03/2020", "Q", "1A", "L1") + "\n",
                    encoding="utf-8")
    output = clean(run(runner, "import", "roster", path, "-w", ws, code=None), 1)
    assert "roster-•••••••••" + INSZ[-2:] + ".csv, row 2, column 'geslacht'" in output, output
    assert not ELEVEN_DIGITS.search(output), output
    missing = clean(run(runner, "import", "roster", tmp_path / f"gone-{number}.csv", "-w", ws, code=None), 1)
    assert "no such file" in missing and not ELEVEN_DIGITS.search(missing), missing
    assert dump(ws) == before


def test_an_insz_in_a_file_name_stays_out_of_the_audit_log(ws, runner, tmp_path):
    path = tmp_path / f"roster-{INSZ}.csv"
    path.write_text("\n".join([ROSTER_HEADER, *PUPILS]) + "\n", encoding="utf-8")
    run(runner, "import", "roster", path, "-w", ws, code=None)
    history = tmp_path / f"historiek {INSZ_DOTTED}.csv"
    history.write_text(f"rijksregisternummer;code;datum;status\n{INSZ};K1;15/09/2026;gedaan\n", encoding="utf-8")
    run(runner, "import", "history", history, "-w", ws)
    report = tmp_path / f"rapport-{INSZ}.html"
    run(runner, "report", "--as-of", AS_OF, "--format", "html", "-o", report, "-w", ws)
    logged = audit_files(ws)
    for name in (f"roster-•••••••••{INSZ[-2:]}.csv", f"historiek •••••••••{INSZ[-2:]}.csv",
                 f"rapport-•••••••••{INSZ[-2:]}.html"):
        assert name in logged, (name, logged)
    shown = run(runner, "audit", "--format", "json", "-w", ws).output
    for text in (logged, shown):
        assert INSZ not in text and INSZ_DOTTED not in text and not ELEVEN_DIGITS.search(text), text
    conn = sqlite3.connect(ws / "clbhealth.sqlite")
    sources = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    kept = [value for table in sources if table != "audit" for row in conn.execute(f'SELECT * FROM "{table}"') for value in row
            if isinstance(value, str) and "historiek" in value]
    conn.close()
    assert kept == [f"historiek •••••••••{INSZ[-2:]}.csv"]  # the event's source file, masked


def test_an_insz_in_an_output_folder_is_masked_in_the_weekly_log(ws, runner, tmp_path):
    blocker = tmp_path / f"weekly-{INSZ}"
    blocker.write_text("not a folder", encoding="utf-8")
    result = run(runner, "weekly", "-w", ws, "--out", blocker / "sub", "--as-of", AS_OF, code=1)
    log = (ws / "logs" / "weekly.log").read_text(encoding="utf-8")
    assert "ERROR" in log
    for text in (log, result.output):
        assert INSZ not in text and not ELEVEN_DIGITS.search(text), text


@pytest.mark.parametrize("column, line", [
    ("naam", pupil_line(9, "", INSZ, "Noah", "05/03/2020", "M", "1A", "L1")),
    ("voornaam", pupil_line(9, "", "Wouters", f"Noah {INSZ_DOTTED}", "05/03/2020", "M", "1A", "L1")),
    ("klas", pupil_line(9, "", "Wouters", "Noah", "05/03/2020", "M", INSZ, "L1")),
], ids=["naam", "voornaam", "klas"])
def test_an_insz_in_a_name_cell_is_a_row_error(ws, runner, tmp_path, column, line):
    before = dump(ws)
    path = tmp_path / "roster.csv"
    path.write_text("\n".join([ROSTER_HEADER, *PUPILS, line]) + "\n", encoding="utf-8")
    output = clean(run(runner, "import", "roster", path, "-w", ws, code=None), 1)
    assert f"roster.csv, row 5, column '{column}'" in output, output
    assert "holds a national register number (INSZ)" in output
    assert INSZ not in output and not ELEVEN_DIGITS.search(output)
    assert dump(ws) == before


def test_an_insz_as_a_staff_name_is_a_row_error(ws, runner, tmp_path):
    before = dump(ws)
    path = tmp_path / "staff.csv"
    path.write_text(f"staff_id;name;role;availability\nN1;An {INSZ};verpleegkundige;ma-vm\n", encoding="utf-8")
    output = clean(run(runner, "import", "staff", path, "-w", ws, code=None), 1)
    assert "staff.csv, row 2, column 'name'" in output and "holds a national register number (INSZ)" in output
    assert INSZ not in output
    assert dump(ws) == before


def test_a_number_that_is_no_insz_stays_a_name_part(ws, runner, tmp_path):
    path = tmp_path / "staff.csv"
    path.write_text("staff_id;name;role;availability\nN1;An 12345678901;verpleegkundige;ma-vm\n", encoding="utf-8")
    run(runner, "import", "staff", path, "-w", ws)  # wrong check digits: not an INSZ, so not refused


# --- 3. option values ------------------------------------------------------------------------------

BIG = str(2**64)
OPTIONS = [
    (["due", "--as-of", "9999-12-31"], "--as-of", "'9999-12-31'", "2000-01-01 .. 2100-12-31"),
    (["due", "--as-of", "1999-12-31"], "--as-of", "'1999-12-31'", "2000-01-01 .. 2100-12-31"),
    (["due", "--as-of", "46000"], "--as-of", "'46000' is not a date", "from 2000-01-01 to 2100-12-31"),
    (["report", "--as-of", "31/12/9999"], "--as-of", "'31/12/9999'", "2000-01-01 .. 2100-12-31"),
    (["plan", "--seed", BIG], "--seed", BIG, "0 .. 9223372036854775807"),
    (["plan", "--seed", "-1"], "--seed", "-1", "0 .. 9223372036854775807"),
    (["plan", "--time-limit", "nan"], "--time-limit", "'nan'", "(0, 86400]"),
    (["plan", "--time-limit", "inf"], "--time-limit", "'inf'", "(0, 86400]"),
    (["plan", "--time-limit", "-5"], "--time-limit", "'-5'", "(0, 86400]"),
    (["plan", "--time-limit", "86401"], "--time-limit", "'86401'", "(0, 86400]"),
    (["plan", "--workers", "1000000000"], "--workers", "1000000000", "1 .. 1024"),
    (["plan", "--from", "2026-09-01", "--to", "9999-01-01"], "--to", "'9999-01-01'", "2000-01-01 .. 2100-12-31"),
    (["plan", "--keep-until", "0001-01-01"], "--keep-until", "'0001-01-01'", "2000-01-01 .. 2100-12-31"),
    (["audit", "--last", str(2**63)], "--last", str(2**63), "1 .. 1000000"),
    (["audit", "--last", "0"], "--last", "0", "1 .. 1000000"),
    (["purge", "--left-before", "9999-12-31"], "--left-before", "'9999-12-31'", "2000-01-01 .. 2100-12-31"),
    (["lots", "--as-of", "9999-12-31"], "--as-of", "'9999-12-31'", "2000-01-01 .. 2100-12-31"),
    (["export", "vaccinnet", "-o", "{out}", "--from", "9999-01-01"], "--from", "'9999-01-01'", "2000-01-01 .. 2100-12-31"),
    (["export", "attendance", "--out", "{out}", "--date", "2101-01-01"], "--date", "'2101-01-01'", "2000-01-01 .. 2100-12-31"),
    (["export", "vaccine-order", "-o", "{out}", "--to", "9999-01-01"], "--to", "'9999-01-01'", "2000-01-01 .. 2100-12-31"),
    (["export", "consent-forms", "-o", "{dir}", "--as-of", "9999-01-01"], "--as-of", "'9999-01-01'", "2000-01-01 .. 2100-12-31"),
    (["protocols", "show", "--school-year", "9999"], "--school-year", "'9999'", "2000-2001 .. 2099-2100"),
    (["protocols", "show", "--school-year", "1999-2000"], "--school-year", "'1999-2000'", "2000-2001 .. 2099-2100"),
    (["weekly", "--out", "{dir}", "--as-of", "9999-12-31"], "--as-of", "'9999-12-31'", "2000-01-01 .. 2100-12-31"),
]


@pytest.mark.parametrize("args, option, value, allowed", OPTIONS, ids=[" ".join(o[0][:4]) for o in OPTIONS])
def test_an_option_value_out_of_range_is_a_usage_error(ws, runner, tmp_path, args, option, value, allowed):
    out, folder = tmp_path / "earlier-output", tmp_path / "earlier-folder"
    out.write_text("an earlier export\n", encoding="utf-8")
    folder.mkdir()
    (folder / "earlier.csv").write_text("an earlier list\n", encoding="utf-8")
    before = dump(ws), audit_files(ws), sorted(p.name for p in ws.rglob("*") if p.parent.name != "logs")
    result = run(runner, *[a.format(out=out, dir=folder) for a in args], "-w", ws, code=None)
    text = " ".join(clean(result, 2).split())
    assert f"Invalid value for '{option}': {value}" in text and allowed in text, text
    assert (dump(ws), audit_files(ws), sorted(p.name for p in ws.rglob("*") if p.parent.name != "logs")) == before
    if args[0] == "weekly":  # cron's log keeps the refusal
        assert f"ERROR   weekly: --as-of: {value}" in (ws / "logs" / "weekly.log").read_text(encoding="utf-8")
    assert out.read_text(encoding="utf-8") == "an earlier export\n"
    assert [p.name for p in folder.iterdir()] == ["earlier.csv"]


@pytest.mark.parametrize("args, option, allowed", [
    (["init", "{dir}", "--school-year", "9999"], "--school-year", "2000-2001 .. 2099-2100"),
    (["init", "{dir}", "--name", "CLB\x1b[31mrood"], "--name", "control character"),
    (["init", "{dir}", "--name", "=HYPERLINK(1)"], "--name", "spreadsheet formula"),
    (["demo", "{dir}", "--time-limit", "inf"], "--time-limit", "(0, 86400]"),
    (["demo", "{dir}", "--as-of", "9999-12-31"], "--as-of", "2000-01-01 .. 2100-12-31"),
], ids=["init-year", "init-control", "init-formula", "demo-time", "demo-date"])
def test_options_of_init_and_demo_are_checked_before_a_folder_is_made(runner, tmp_path, args, option, allowed):
    folder = tmp_path / "new"
    text = " ".join(clean(run(runner, *[a.format(dir=folder) for a in args], code=None), 2).split())
    assert f"Invalid value for '{option}'" in text and allowed in text, text
    assert not folder.exists()


def test_values_in_range_are_accepted(ws, runner):
    run(runner, "audit", "--last", "1000000", "-w", ws)
    run(runner, "due", "--as-of", "2100-12-31", "--format", "csv", "-w", ws)
    run(runner, "due", "--as-of", "01/01/2000", "--format", "csv", "-w", ws)
    assert common.whole_number(0, common.SEED_MAX)(str(2**63 - 1)) == 2**63 - 1
    assert common.seconds_value("86400") == 86400.0 and common.seconds_value("0.5") == 0.5
    assert common.school_year_value("2099-2100") == SchoolYear(2099)


# --- the rendering rule, checked where it lives ---------------------------------------------------

CLI = Path(common.__file__).parent
MARKUP = re.compile(r"\[/?(?:bold|red|green|yellow|blue|dim|italic|underline|b|i)?(?: [a-z ]+)?\]")


def test_no_cli_module_reads_markup_or_builds_its_own_console():
    """Only common.py makes consoles and tables; nothing passes markup=True or writes a markup tag, so no
    call site can read a user's text as markup."""
    for path in sorted(CLI.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "markup":
                assert isinstance(node.value, ast.Constant) and node.value.value is False, (path.name, node.lineno)
            if isinstance(node, ast.ImportFrom) and path.name != "common.py":
                assert node.module not in ("rich.table", "rich.console", "rich.markup", "rich.text") or (
                    path.name == "report_view.py" and node.module == "rich.console"), (path.name, node.module)
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert not MARKUP.search(node.value) or "[/]" in node.value and path.name == "common.py", (
                    path.name, node.lineno, node.value)
    assert common.out.is_terminal in (True, False)
    assert common.out._markup is False and common.err._markup is False
    assert common.out._emoji is False and common.err._emoji is False


def test_json_output_is_untouched_by_the_rendering(ws, runner):
    shown = json.loads(run(runner, "schools", "--format", "json", "-w", ws).stdout)
    assert {s["name"] for s in shown} == {SCHOOL, SCHOOL_2}
