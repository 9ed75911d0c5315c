"""End to end through the CLI: init, imports, history, due in every format, protocols, demo."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import stat
import subprocess
import sys

import pytest
from openpyxl import load_workbook

from clbhealth.samples.generator import insz_for
from tests.conftest import SAMPLES, run

ROSTER = ("instellingsnummer;stamboeknummer;rijksregisternummer;naam;voornaam;geboortedatum;geslacht;klas;leerjaar\n"
          f"100;1;{insz_for(dt.date(2020, 3, 5), 1)};Peeters;Jan;05/03/2020;M;1A;1ste leerjaar\n"
          f"100;2;{insz_for(dt.date(2017, 6, 7), 2)};Maes;Zoë;07/06/2017;V;4A;4de leerjaar\n"
          f"100;3;{insz_for(dt.date(2023, 2, 1), 1)};Claes;Tuur;01/02/2023;M;K1A;1ste kleuterklas\n"
          f"100;4;{insz_for(dt.date(2016, 2, 1), 1)};Aerts;Leo;01/02/2016;M;5A;5de leerjaar\n")


@pytest.fixture
def loaded(tmp_path, workspace, runner):
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER, encoding="cp1252")
    run(runner, "import", "roster", path, "-w", workspace.root)
    history = tmp_path / "history.csv"
    history.write_text("rijksregisternummer;code;datum;status\n"
                       f"{insz_for(dt.date(2017, 6, 7), 2)};MMR2;15/09/2026;toestemming\n"
                       f"{insz_for(dt.date(2023, 2, 1), 1)};K1;20/10/2026;gedaan\n", encoding="utf-8")
    result = run(runner, "import", "history", history, "-w", workspace.root)
    assert "2 new" in result.output
    return workspace


def test_init_creates_documented_private_workspace(tmp_path, runner):
    target = tmp_path / "ws"
    result = run(runner, "init", target, "--name", "CLB Test", "--school-year", "2026-2027")
    assert "Created workspace" in result.output
    text = (target / "clbhealth.toml").read_text()
    assert 'school_year = "2026-2027"' in text and "# " in text and '"K1" = 20' in text
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(target / "clbhealth.sqlite").st_mode) == 0o600
    again = run(runner, "init", target, code=1)
    assert "already holds" in again.output


def test_init_default_school_year_contains_today(tmp_path, runner):
    from clbhealth.core.dates import SchoolYear

    run(runner, "init", tmp_path / "ws")
    assert f'school_year = "{SchoolYear.containing(dt.date.today())}"' in (tmp_path / "ws" / "clbhealth.toml").read_text()


def test_due_table_lists_open_rows_with_totals(loaded, runner):
    result = run(runner, "due", "-w", loaded.root, "--as-of", "2026-12-01")
    assert "Totals per moment" in result.output
    assert "Peeters" in result.output and "grade L1" in result.output
    assert "Claes" not in result.output  # K1 done
    assert "missed" not in result.output


def test_due_json_csv_and_filters(loaded, runner, tmp_path):
    result = run(runner, "due", "-w", loaded.root, "--as-of", "2026-12-01", "--format", "json")
    rows = json.loads(result.stdout)
    assert {(r["last_name"], r["moment"]) for r in rows} == {("Peeters", "L1"), ("Peeters", "DTPa-IPV"), ("Maes", "L4"),
                                                            ("Maes", "MMR2"), ("Maes", "DTPa-IPV")}
    assert set(rows[0]) == {"pupil_id", "last_name", "first_name", "school_id", "class", "grade", "moment", "status",
                            "reason", "due_from"}
    mmr = next(r for r in rows if r["moment"] == "MMR2")
    assert mmr["status"] == "due" and "consent on 2026-09-15" in mmr["reason"]
    result = run(runner, "due", "-w", loaded.root, "--as-of", "2026-12-01", "--format", "csv", "--all",
                 "--moment", "K1", "--moment", "l4")
    table = list(csv.DictReader(io.StringIO(result.stdout), delimiter=";"))
    assert {(r["last_name"], r["moment"], r["status"]) for r in table} >= {("Claes", "K1", "done"),
                                                                          ("Aerts", "L4", "missed")}
    result = run(runner, "due", "-w", loaded.root, "--as-of", "2026-12-01", "--format", "csv", "--status",
                 "needs_consent")
    assert {r["moment"] for r in csv.DictReader(io.StringIO(result.stdout), delimiter=";")} == {"DTPa-IPV"}


def test_due_xlsx_output(loaded, runner, tmp_path):
    target = tmp_path / "out" / "due.xlsx"
    run(runner, "due", "-w", loaded.root, "--as-of", "2026-12-01", "--format", "xlsx", "-o", target)
    ws = load_workbook(target).active
    values = [[c.value for c in row] for row in ws.iter_rows()]
    header = next(r for r in values if r and r[0] == "pupil_id")
    assert header[:3] == ["pupil_id", "last_name", "first_name"]
    assert ws.freeze_panes is not None and ws.auto_filter.ref
    data = [r for r in values if r and isinstance(r[0], int)]
    assert sorted((r[1], r[6]) for r in data) == [("Maes", "DTPa-IPV"), ("Maes", "L4"), ("Maes", "MMR2"),
                                                  ("Peeters", "DTPa-IPV"), ("Peeters", "L1")]


def test_due_bad_options(loaded, runner):
    assert "not a contact moment" in run(runner, "due", "-w", loaded.root, "--moment", "X9", code=1).output
    assert "'late' is not one of due" in run(runner, "due", "-w", loaded.root, "--status", "late", code=2).output
    assert "no such school" in run(runner, "due", "-w", loaded.root, "--school", "777", code=1).output
    assert "--as-of" in run(runner, "due", "-w", loaded.root, "--as-of", "31/02/2026", code=2).output  # a usage error
    assert "xlsx format needs" in run(runner, "due", "-w", loaded.root, "--format", "xlsx", code=1).output


def test_workspace_from_environment(loaded, runner, monkeypatch):
    monkeypatch.setenv("CLBHEALTH_WORKSPACE", str(loaded.root))
    assert "Peeters" in run(runner, "due", "--as-of", "2026-12-01", "--format", "csv").stdout


def test_history_unknown_pupil_and_bad_code(loaded, runner, tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("insz;code;date;status\n85073003328;L1;01/10/2026;done\n"
                    f"{insz_for(dt.date(2020, 3, 5), 1)};X7;01/10/2026;done\n"
                    f"{insz_for(dt.date(2020, 3, 5), 1)};L1;01/10/2026;consent_given\n", encoding="utf-8")
    result = run(runner, "import", "history", path, "-w", loaded.root, code=1)
    assert "row 2" in result.output and "not a pupil of this workspace" in result.output
    assert "row 3" in result.output and "not a known contact moment" in result.output
    assert "row 4" in result.output and "consent is asked for vaccinations" in result.output


def test_history_import_is_idempotent(loaded, runner, tmp_path):
    path = tmp_path / "h.csv"
    path.write_text(f"insz;code;date;status\n{insz_for(dt.date(2020, 3, 5), 1)};L1;01/10/2026;gedaan\n", encoding="utf-8")
    assert "1 new" in run(runner, "import", "history", path, "-w", loaded.root).output
    assert "0 new, 1 unchanged" in run(runner, "import", "history", path, "-w", loaded.root).output


def test_protocols_show_lists_rules_with_sources(loaded, runner):
    result = run(runner, "protocols", "show", "-w", loaded.root)
    for text in ("K1", "L4", "MMR2", "HPV2", "BVR", "nieuwsblad"):
        assert text in result.output
    old = run(runner, "protocols", "show", "-w", loaded.root, "--school-year", "2021-2022")
    assert "L5" in old.output


def test_broken_config_is_explained(loaded, runner):
    (loaded.root / "clbhealth.toml").write_text("[clb]\nname = 'x'\nschool_year = 'soon'\n")
    result = run(runner, "due", "-w", loaded.root, code=1)
    assert "school_year" in result.output


def test_demo_builds_and_runs(tmp_path, runner):
    target = tmp_path / "demo"
    result = run(runner, "demo", target)
    assert "Due list" in result.output and (target / "exports" / "due-list.xlsx").exists()
    again = run(runner, "demo", target)  # a demo folder is rebuilt, not refused
    assert "Created workspace" in again.output
    run(runner, "init", tmp_path / "real")
    refused = run(runner, "demo", tmp_path / "real", code=None)
    assert refused.exit_code in (0, 1)


def test_demo_refuses_a_real_workspace(tmp_path, runner):
    run(runner, "init", tmp_path / "real")
    (tmp_path / "real" / "x").write_text("")
    from clbhealth.workspace.folder import Workspace

    ws = Workspace.open(tmp_path / "real")
    assert ws.db_path.exists()
    result = run(runner, "demo", tmp_path / "real", code=1)
    assert "not a demo" in result.output


def test_console_script_runs_as_a_process(tmp_path):
    result = subprocess.run([sys.executable, "-m", "clbhealth", "due", "-w", str(tmp_path)], capture_output=True,
                            text=True)
    assert result.returncode == 1
    assert "No clbhealth workspace" in result.stderr
    assert "Traceback" not in result.stderr


def test_samples_are_reproducible(tmp_path):
    from clbhealth.samples.generator import build_samples

    for path in build_samples(tmp_path):
        bundled = SAMPLES / path.name
        assert bundled.exists(), path.name
        if path.suffix != ".xlsx":  # workbooks carry a creation time stamp
            assert bundled.read_bytes() == path.read_bytes(), path.name
