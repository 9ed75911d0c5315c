"""The catalogue of issue 13 ("Trustworthy under hostile conditions"): each class of attack that got
through, with the tests that now hold it (each asserts the exit code, the message, and that the
workspace and the output files are unchanged). `test_every_class_has_its_regression_tests` keeps the
catalogue honest: every test named here must exist. The tests that live here are the end-to-end ones
no other module has: a real `weekly` and `export calendars` run with staff ids that look alike
(`A.01`, `A.02`, `a.01`, `COM1`), and folder exports that refuse a clashing file of the user's before
they build or write a single file.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clbhealth.samples.generator import insz_for
from tests.app.test_hostile_workspace import refused, snapshot
from tests.conftest import run
from tests.planfixture import build_plan_workspace

TESTS = Path(__file__).resolve().parent.parent

CATALOGUE = {  # class of issue 13 -> the tests that hold it (file::test function)
    "two plans at once; overlapping import or purge": [
        "app/test_plan_lock_serialises.py::test_an_import_while_a_plan_is_being_made_is_refused_and_changes_nothing",
        "app/test_plan_lock_serialises.py::test_a_plan_waits_for_an_import_that_is_writing_then_says_busy",
        "cli/test_hostile_catalogue.py::test_a_purge_while_a_plan_is_being_made_is_refused_and_changes_nothing",
        "cli/test_hostile_catalogue.py::test_a_second_plan_while_one_is_being_made_is_refused",
    ],
    "output onto the workspace, or over a file of another kind": [
        "app/test_hostile_workspace.py::test_an_output_onto_a_workspace_file_is_refused",
        "app/test_hostile_workspace.py::test_an_output_over_a_file_of_another_kind_is_refused",
        "cli/test_output_guard.py::test_a_file_output_onto_a_workspace_file_is_refused",
        "cli/test_output_guard.py::test_a_folder_output_onto_the_workspace_is_refused",
        "cli/test_output_guard.py::test_the_catalogue_holds_every_command_with_an_output_path",
        "cli/test_output_guard.py::test_a_folder_export_never_overwrites_a_document_that_has_an_export_s_name",
        "cli/test_hostile_catalogue.py::test_a_folder_export_refuses_a_clashing_file_before_it_writes_anything",
    ],
    "ids with dots (one safe-name function, distinct names)": [
        "core/test_filenames.py::test_ids_with_dots_keep_their_dots_and_get_their_own_files",
        "core/test_filenames.py::test_any_ids_give_distinct_portable_names",
        "cli/test_hostile_catalogue.py::test_weekly_and_calendars_give_ids_that_look_alike_their_own_files",
    ],
    "damaged workspace (0-byte database, dropped table, older schema label)": [
        "app/test_hostile_workspace.py::test_a_damaged_database_is_refused_never_recreated",
        "app/test_hostile_workspace.py::test_doctor_reports_a_damaged_database_and_how_to_restore_it",
        "app/test_hostile_workspace.py::test_a_missing_database_is_refused_never_recreated",
    ],
    "markup in names and paths": [
        "cli/test_hostile_values.py::test_names_with_brackets_are_shown_as_typed",
        "cli/test_hostile_values.py::test_an_output_path_with_brackets_is_shown_as_typed",
        "cli/test_hostile_values.py::test_errors_and_hints_with_brackets_are_shown_as_typed",
        "cli/test_hostile_values.py::test_no_cli_module_reads_markup_or_builds_its_own_console",
    ],
    "INSZ in file names, the audit log and name cells": [
        "cli/test_hostile_values.py::test_an_insz_in_a_file_name_is_masked_in_messages",
        "cli/test_hostile_values.py::test_an_insz_in_a_file_name_stays_out_of_the_audit_log",
        "cli/test_hostile_values.py::test_an_insz_in_a_name_cell_is_a_row_error",
    ],
    "re-import identity (renumbered pupils, corrected INSZ)": [
        "imports/test_reimport_identity.py::"
        "test_renumbered_pupils_are_refused_listed_by_a_dry_run_and_kept_with_same_pupils",
        "imports/test_reimport_identity.py::test_a_corrected_insz_for_the_same_pupil_number_is_the_same_pupil",
    ],
    "protocol and settings files": [
        "workspace/test_settings_and_protocol_files.py::"
        "test_a_misspelt_table_or_key_is_refused_with_its_line_and_the_closest_name",
        "workspace/test_settings_and_protocol_files.py::test_a_settings_file_saved_with_a_bom_is_read",
        "workspace/test_settings_and_protocol_files.py::test_a_bad_protocol_file_is_refused_clearly",
        "workspace/test_settings_and_protocol_files.py::test_every_field_of_a_protocol_file_is_checked_with_its_line",
    ],
    "disk full and read-only": [
        "cli/test_disk_full_and_read_only.py::test_a_failing_disk_is_one_line_and_leaves_every_file_as_it_was",
        "cli/test_disk_full_and_read_only.py::test_a_read_only_workspace_is_refused_before_a_file_is_written",
    ],
    "option values out of range": [
        "cli/test_hostile_values.py::test_an_option_value_out_of_range_is_a_usage_error",
    ],
    "FIFO, /dev/zero, unreadable input": [
        "app/test_hostile_workspace.py::test_a_pipe_as_input_is_refused_at_once",
        "app/test_hostile_workspace.py::test_a_device_as_input_is_refused_without_reading_it",
        "app/test_hostile_workspace.py::test_a_permission_error_on_opening_an_input_is_one_clear_line",
    ],
    "doctor and temporaries in export subfolders": [
        "app/test_hostile_workspace.py::test_doctor_finds_leftovers_in_export_subfolders",
    ],
    "plan show --staff UNKNOWN": [
        "cli/test_hostile_catalogue.py::test_an_unknown_staff_or_school_id_is_refused_not_an_empty_listing",
    ],
}


def _defined_tests(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}


def test_every_class_has_its_regression_tests():
    missing = []
    for cls, tests in CATALOGUE.items():
        assert tests, cls
        for entry in tests:
            file, name = entry.split("::")
            if name not in _defined_tests(TESTS / file):
                missing.append((cls, entry))
    assert not missing, missing


# --- ids that look alike: a real weekly run and a real calendar export ----------------------------

ROSTER_HEADER = "instellingsnummer;stamboeknummer;rijksregisternummer;naam;voornaam;geboortedatum;geslacht;klas;leerjaar"
STAFF = {  # staff id -> (school, name); the two An Peeters and a case twin, and a Windows device name
    "A.01": ("100", "An Peeters"),
    "A.02": ("200", "An Peeters"),
    "a.01": ("300", "An Peeters"),
    "COM1": ("100 200 300", "Dr. Com"),
}
FILES = {"A.01": "A.01-an-peeters", "A.02": "A.02-an-peeters", "a.01": "a.01-an-peeters-2", "COM1": "_COM1-dr-com"}
FRIDAY = "2026-09-18"  # the run before week 39 (21-25 September 2026)


@pytest.fixture(scope="module")
def alike(tmp_path_factory) -> Path:
    """A workspace planned through the CLI for week 39 only, with the staff of STAFF."""
    base = tmp_path_factory.mktemp("alike")
    root, runner = base / "ws", CliRunner()
    run(runner, "init", root, "--name", "CLB Test", "--school-year", "2026-2027")
    config = root / "clbhealth.toml"
    text = config.read_text(encoding="utf-8").replace("# lat = 51.0", "lat = 51.16").replace("# lon = 4.4", "lon = 4.99")
    config.write_text(text.replace("notice_school_days = 10", "notice_school_days = 0"), encoding="utf-8")
    (base / "schools.csv").write_text(
        "school_id;name;street;postcode;municipality;lat;lon;level\n"
        "100;Basisschool Een;Kerkstraat 1;2000;Antwerpen;51.2194;4.4025;basis\n"
        "200;Basisschool Twee;Dorp 2;2500;Lier;51.1315;4.5700;basis\n"
        "300;Basisschool Drie;Dorp 3;2260;Westerlo;51.09;4.92;basis\n", encoding="utf-8")
    lines = [ROSTER_HEADER]
    for school in ("100", "200", "300"):
        for i in (1, 2):
            born, number = dt.date(2020, 1 + i, 5), int(school) + i
            lines.append(f"{school};{number};{insz_for(born, 2 * number + 1)};Naam{number};Kind;"
                         f"{born:%d/%m/%Y};M;1A;L1")
    (base / "roster.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    days = "ma-vm ma-nm di-vm di-nm wo-vm do-vm do-nm vr-vm"
    (base / "staff.csv").write_text("staff_id;name;role;base_lat;base_lon;availability;schools\n" + "".join(
        f"{sid};{name};{'arts' if sid == 'COM1' else 'verpleegkundige'};51.2;4.5;{days};{schools}\n"
        for sid, (schools, name) in STAFF.items()), encoding="utf-8")
    for kind in ("schools", "roster", "staff"):
        run(runner, "import", kind, base / f"{kind}.csv", "-w", root)
    run(runner, "plan", "-w", root, "--as-of", FRIDAY, "--from", "2026-09-21", "--to", "2026-09-25",
        "--time-limit", "5", "--workers", "1", "--quiet")
    return root


def _people_in(path: Path) -> set[str]:
    return {line.split(";")[3] for line in path.read_text(encoding="utf-8-sig").splitlines()[1:]}


def test_weekly_and_calendars_give_ids_that_look_alike_their_own_files(alike, runner, tmp_path):
    plan = run(runner, "plan", "show", "--format", "csv", "-w", alike).output.splitlines()[1:]
    school_of = {}
    for line in plan:
        fields = line.split(";")
        for sid in fields[5].split():
            school_of.setdefault(sid, set()).add(fields[4])
    assert set(school_of) == set(STAFF), plan  # every person works this week
    out = tmp_path / "weekly"
    result = run(runner, "weekly", "-w", alike, "--as-of", FRIDAY, "--out", out, "--verbose")
    assert "Week 2026-W39" in result.output and "for 4 person(s)" in result.output
    week = out / "2026-W39" / "medewerkers"
    assert sorted(p.name for p in week.iterdir()) == sorted(f"{FILES[s]}.{x}" for s in STAFF for x in ("csv", "xlsx"))
    schools = {"100": "Basisschool Een", "200": "Basisschool Twee", "300": "Basisschool Drie"}
    for sid, stem in FILES.items():  # each file holds its own person's sessions
        assert _people_in(week / f"{stem}.csv") == {schools[s] for s in school_of[sid]}, sid
    listed = json.loads((out / "2026-W39" / "summary.json").read_text(encoding="utf-8"))["files"]
    assert {f"medewerkers/{FILES[s]}.csv" for s in STAFF} <= set(listed)
    first = {p.name: p.read_bytes() for p in week.iterdir() if p.suffix == ".csv"}
    run(runner, "weekly", "-w", alike, "--as-of", FRIDAY, "--out", out)  # a second run: the same names
    assert {p.name: p.read_bytes() for p in week.iterdir() if p.suffix == ".csv"} == first
    calendars = tmp_path / "calendars"
    run(runner, "export", "calendars", "-w", alike, "--out", calendars)
    assert sorted(p.name for p in calendars.iterdir()) == sorted(f"{stem}.ics" for stem in FILES.values())
    alone = tmp_path / "alone"  # one person on their own keeps the name of their file in the whole export
    run(runner, "export", "calendars", "-w", alike, "--out", alone, "--staff", "a.01")
    assert [p.name for p in alone.iterdir()] == ["a.01-an-peeters-2.ics"]


# --- a folder export refuses a clashing file before it writes anything ---------------------------

CLASHES = {  # command -> (arguments, the LAST file the export would write, what builds its files)
    "export schools": (["export", "schools"], "200-atheneum-twee.xlsx",
                       ("clbhealth.exports.schools", "school_workbook")),
    "export calendars": (["export", "calendars"], "N02-els-wouters.ics",
                         ("clbhealth.exports.calendars", "staff_calendar")),
    "export consent-forms": (["export", "consent-forms", "--as-of", "2026-10-01"], "200-atheneum-twee-klaslijst.pdf",
                             ("clbhealth.exports.consent_forms", "_letters_pdf")),
}


@pytest.fixture
def world(tmp_path):
    return build_plan_workspace(tmp_path)


@pytest.mark.parametrize("command", CLASHES)
def test_a_folder_export_refuses_a_clashing_file_before_it_writes_anything(command, world, runner, tmp_path,
                                                                           monkeypatch):
    """A note of the user's saved under the name of the export's last file refuses the export up front:
    no file is built, no staging folder made, the folder holds what it held."""
    import importlib

    import clbhealth.core.staging as staging

    args, name, (module, builder) = CLASHES[command]
    out = tmp_path / "out"
    out.mkdir()
    (out / name).write_text("my own notes\n", encoding="utf-8")
    (out / "earlier.txt").write_text("kept\n", encoding="utf-8")

    def never(*_args, **_kwargs):
        raise AssertionError("the export started writing before it checked its targets")

    monkeypatch.setattr(importlib.import_module(module), builder, never)
    monkeypatch.setattr(staging.tempfile, "mkdtemp", never)
    result = refused(runner, [*args, "--out", out, "-w", world.root], f"{name} exists and is not",
                     "Export into another folder", world.root, out)
    assert "it is not overwritten" in result.output and "AssertionError" not in result.output
    assert sorted(p.name for p in out.iterdir()) == sorted([name, "earlier.txt"])


def test_a_clashing_file_under_a_folder_that_does_not_exist_yet_cannot_be(world, runner, tmp_path):
    """Nothing to clash with in a new folder: the export makes it and writes every file."""
    out = tmp_path / "new" / "out"
    run(runner, "export", "schools", "--out", out, "-w", world.root)
    assert sorted(p.name for p in out.iterdir()) == ["100-basisschool-een.xlsx", "200-atheneum-twee.xlsx",
                                                     "HUISONDERWIJS-huisonderwijs-clb-kantoor.xlsx"]


# --- two plans at once, a purge during a plan ------------------------------------------------------


@pytest.fixture
def planned(world, monkeypatch):
    from clbhealth.workspace import folder

    monkeypatch.setattr(folder, "LOCK_WAIT_SECONDS", 0.3)
    return world.root


def _while_a_plan_is_made(root: Path, runner, *args: str):
    """Run a command while another `clbhealth plan` holds the plan lock (as if solving)."""
    from clbhealth.workspace.folder import Workspace

    before = snapshot(root)
    with Workspace.open(root).plan_lock():
        result = run(runner, *args, "-w", root, code=None)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), (result.output, result.exception)
    assert "Traceback" not in result.output and "Error:" in result.output, result.output
    assert "plan is being made in" in result.output and "clbhealth plan (pid" in result.output, result.output
    assert snapshot(root) == before
    return result


def test_a_second_plan_while_one_is_being_made_is_refused(planned, runner):
    result = _while_a_plan_is_made(planned, runner, "plan", "--as-of", "2026-10-02", "--time-limit", "1",
                                   "--workers", "1")
    assert "Another plan is being made" in result.output and "two plans at once would book people twice" in result.output


def test_a_purge_while_a_plan_is_being_made_is_refused_and_changes_nothing(planned, runner):
    result = _while_a_plan_is_made(planned, runner, "purge", "--left-before", "2026-10-02")
    assert "nothing was changed" in result.output


# --- plan show and the other listings: an unknown id is refused, not an empty listing ----------------

UNKNOWN_IDS = [
    (["plan", "show", "--staff", "N99"], "N99", "no such person"),
    (["plan", "show", "--staff", "n01"], "n01", "N01"),  # the closest known id
    (["plan", "show", "--school", "999"], "999", "school"),
    (["plan", "explain", "--staff", "N99"], "N99", "no such person"),
    (["export", "calendars", "--out", "{out}", "--staff", "N99"], "N99", "no such person"),
    (["export", "schools", "--out", "{out}", "--school", "999"], "999", "school"),
]


@pytest.mark.parametrize("args, value, message", UNKNOWN_IDS, ids=[" ".join(a[:2] + a[-2:]) for a, _, _ in UNKNOWN_IDS])
def test_an_unknown_staff_or_school_id_is_refused_not_an_empty_listing(args, value, message, world, runner, tmp_path):
    out = tmp_path / "out"
    result = refused(runner, [*[a.format(out=out) for a in args], "-w", world.root], value, message,
                     world.root, tmp_path)
    assert "No sessions planned" not in result.output
    assert not out.exists()

