"""`clbhealth doctor`, `clbhealth purge` and `clbhealth audit`."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from pathlib import Path

import pytest

from clbhealth.samples.generator import insz_for
from clbhealth.workspace.schema import SCHEMA_VERSION
from tests.conftest import run

ROSTER = ("instellingsnummer;stamboeknummer;rijksregisternummer;naam;voornaam;geboortedatum;geslacht;klas;leerjaar\n"
          f"100;1;{insz_for(dt.date(2020, 3, 5), 1)};Peeters;Jan;05/03/2020;M;1A;L1\n"
          f"100;2;{insz_for(dt.date(2017, 6, 7), 2)};Vertrokken;Zoë;07/06/2017;V;4A;L4\n"
          f"100;3;{insz_for(dt.date(2016, 2, 1), 1)};Onlangs;Leo;01/02/2016;M;5A;L5\n")


@pytest.fixture
def loaded(tmp_path, workspace, runner):
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER, encoding="utf-8")
    run(runner, "import", "roster", path, "-w", workspace.root)
    history = tmp_path / "history.csv"
    history.write_text("rijksregisternummer;code;datum;status\n"
                       f"{insz_for(dt.date(2017, 6, 7), 2)};MMR2;15/09/2026;toestemming\n"
                       f"{insz_for(dt.date(2016, 2, 1), 1)};DTPa-IPV;15/09/2026;toestemming\n", encoding="utf-8")
    run(runner, "import", "history", history, "-w", workspace.root)
    conn = sqlite3.connect(workspace.db_path)
    with conn:
        # Zoë left long ago, Leo recently; Zoë was also in a plan.
        conn.execute("UPDATE pupils SET active = 0, left_on = '2025-06-30' WHERE last_name = 'Vertrokken'")
        conn.execute("UPDATE pupils SET active = 0, left_on = '2026-11-15' WHERE last_name = 'Onlangs'")
        conn.execute("INSERT INTO plans (created_at, date_from, date_to, seed, time_limit, workers) "
                     "VALUES ('2025-05-01', '2025-05-01', '2025-06-30', 1, 10, 1)")
        conn.execute("INSERT INTO sessions VALUES ('S1', 1, '2025-05-06', 'am', '08:30', '12:00', '100', 60, 'L4', '4A',"
                     " 'regular', '2025-05-01', NULL, NULL)")
        zoe = conn.execute("SELECT pupil_id FROM pupils WHERE last_name = 'Vertrokken'").fetchone()[0]
        conn.execute("INSERT INTO session_pupils VALUES ('S1', ?, 'L4', 10, 1, '08:30', NULL, NULL)", (zoe,))
        conn.execute("INSERT INTO unplanned VALUES (1, ?, 'MMR2', '100', 'no consent')", (zoe,))
    conn.close()
    return workspace


def count(ws, sql: str) -> int:
    conn = sqlite3.connect(ws.db_path)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


def dump(ws) -> list[str]:
    conn = sqlite3.connect(ws.db_path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


# --- doctor --------------------------------------------------------------------------------------


def test_doctor_finds_nothing_in_a_sound_workspace_and_changes_nothing(loaded, runner):
    before = dump(loaded), sorted(os.listdir(loaded.root))
    result = run(runner, "doctor", "-w", loaded.root)
    for check in ("settings", "schema", "integrity", "foreign keys", "orphans", "protocol", "permissions", "lock",
                  "leftovers"):
        assert f"✓ {check}:" in result.output
    assert "No problems found" in result.output
    assert (dump(loaded), sorted(os.listdir(loaded.root))) == before


def test_doctor_reports_a_damaged_database(loaded, runner):
    data = bytearray(loaded.db_path.read_bytes())
    page = 4096
    data[page * 2 : page * 2 + 200] = os.urandom(200)
    loaded.db_path.write_bytes(bytes(data))
    result = run(runner, "doctor", "-w", loaded.root, code=1)
    assert "✗" in result.output and "Restore clbhealth.sqlite from a backup" in result.output


def test_doctor_reports_a_file_that_is_no_database(loaded, runner):
    loaded.db_path.write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        Path(f"{loaded.db_path}{suffix}").unlink(missing_ok=True)
    result = run(runner, "doctor", "-w", loaded.root, code=1)
    assert "cannot be read as a database" in result.output


def test_doctor_reports_orphans_and_foreign_key_violations(loaded, runner):
    conn = sqlite3.connect(loaded.db_path)  # foreign keys are off in a plain connection
    with conn:
        conn.execute("INSERT INTO events (pupil_id, code, date, status, imported_at) VALUES (999, 'L1', '2026-10-01', "
                     "'done', 'x')")
        conn.execute("INSERT INTO absences (staff_id, date_from, date_to, imported_at) VALUES ('NOBODY', '2026-10-01', "
                     "'2026-10-01', 'x')")
    conn.close()
    result = run(runner, "doctor", "-w", loaded.root, code=1)
    assert "1 row(s) of events refer to missing pupils" in result.output
    assert "1 history events without their pupils row" in result.output
    assert "1 absences without their staff row" in result.output
    assert "What to do:" in result.output


def test_doctor_reports_settings_it_cannot_use(loaded, runner):
    path = loaded.root / "clbhealth.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('"K1" = 20', '"K11" = 20'), encoding="utf-8")
    result = run(runner, "doctor", "-w", loaded.root, code=1)
    assert "names codes the protocol does not have: K11" in result.output
    path.write_text(text.replace('school_year = "2026-2027"', 'school_year = "2026-2028"'), encoding="utf-8")
    result = run(runner, "doctor", "-w", loaded.root, code=1)
    assert "setting [clb] school_year is wrong" in result.output


def test_doctor_on_a_newer_and_an_older_schema(loaded, runner):
    conn = sqlite3.connect(loaded.db_path)
    conn.execute("PRAGMA user_version = 9")
    conn.close()
    assert "Upgrade clbhealth" in run(runner, "doctor", "-w", loaded.root, code=1).output
    conn = sqlite3.connect(loaded.db_path)
    conn.execute("PRAGMA user_version = 1")  # today's tables labelled as version 1: the label is wrong
    conn.close()
    result = run(runner, "doctor", "-w", loaded.root, code=1)
    assert "labelled schema version 1 but has what only a later version has" in result.output
    older_database(loaded.db_path, 3)  # a database as an older clbhealth left it
    result = run(runner, "doctor", "-w", loaded.root, code=0)
    assert f"older than {SCHEMA_VERSION}; the next clbhealth command that opens the workspace upgrades it" in result.output


def older_database(path: Path, version: int) -> None:
    """Replace the database by one of schema `version` (migrations 1..version), as made by `init` then."""
    from clbhealth.workspace.schema import MIGRATIONS, _statements

    for name in (path.name, f"{path.name}-wal", f"{path.name}-shm"):
        (path.parent / name).unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    for script in MIGRATIONS[:version]:
        for statement in _statements(script):
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {version}")
    conn.execute("INSERT INTO audit (at, user, command, files, counts) VALUES ('2025-09-01T08:00:00+02:00', 'clb', "
                 "'init', '[]', '{}')")
    conn.close()
    os.chmod(path, 0o600)


def test_doctor_on_a_busy_workspace_and_leftovers_of_killed_commands(loaded, runner):
    (loaded.root / "exports").mkdir(mode=0o700)
    leftover = loaded.root / "exports" / ".due.xlsx.999999.abcd1234.tmp"
    leftover.write_bytes(b"half an export")
    os.chmod(leftover, 0o600)
    with loaded.locked():
        result = run(runner, "doctor", "-w", loaded.root, code=1)
    assert "a command is changing the workspace now: clbhealth (pid" in result.output
    assert f"rm '{leftover}'" in result.output
    leftover.unlink()
    assert "lock is free" in run(runner, "doctor", "-w", loaded.root).output


def test_doctor_without_a_workspace(tmp_path, runner):
    result = run(runner, "doctor", "-w", tmp_path, code=1)
    assert "No clbhealth workspace" in result.output


# --- purge ---------------------------------------------------------------------------------------


def test_purge_dry_run_counts_and_changes_nothing(loaded, runner):
    before = dump(loaded)
    result = run(runner, "purge", "--left-before", "2026-01-01", "--dry-run", "-w", loaded.root)
    assert "Dry run: would remove 1 pupil(s) who left before 2026-01-01, with 1 history events, 1 planned contacts, " \
           "1 unplanned rows. Nothing was written." in result.output
    assert "does not touch the official CLB dossier (LARS)" in result.output
    assert dump(loaded) == before


def test_purge_removes_who_left_before_the_date_with_all_their_rows(loaded, runner):
    audit_before = count(loaded, "SELECT count(*) FROM audit")
    result = run(runner, "purge", "--left-before", "2026-01-01", "-w", loaded.root)
    assert "Removed 1 pupil(s) who left before 2026-01-01" in result.output
    assert "does not touch the official CLB dossier (LARS)" in result.output
    assert count(loaded, "SELECT count(*) FROM pupils WHERE last_name = 'Vertrokken'") == 0
    assert count(loaded, "SELECT count(*) FROM pupils") == 2  # Jan (active) and Leo (left recently) stay
    assert count(loaded, "SELECT count(*) FROM events") == 1
    assert count(loaded, "SELECT count(*) FROM session_pupils") + count(loaded, "SELECT count(*) FROM unplanned") == 0
    assert count(loaded, "SELECT count(*) FROM audit") == audit_before + 1
    conn = sqlite3.connect(loaded.db_path)
    command, files, counts = conn.execute("SELECT command, files, counts FROM audit ORDER BY audit_id DESC").fetchone()
    conn.close()
    assert command == "purge" and json.loads(files) == []
    assert json.loads(counts) == {"left_before": "2026-01-01", "pupils": 1, "events": 1, "session_pupils": 1,
                                  "unplanned": 1}
    # Nothing of the pupil lingers in the workspace's files (secure delete, emptied log).
    for path in loaded.root.glob("clbhealth.sqlite*"):
        assert b"Vertrokken" not in path.read_bytes(), path
    run(runner, "doctor", "-w", loaded.root)
    again = run(runner, "purge", "--left-before", "2026-01-01", "-w", loaded.root)
    assert "Removed 0 pupil(s)" in again.output


PURGE_FIELDS = ["left_before", "dry_run", "pupils", "rows", "per_school", "note"]


def test_purge_speaks_json(loaded, runner):
    before = dump(loaded)
    dry = run(runner, "purge", "--left-before", "2026-01-01", "--dry-run", "--format", "json", "-w", loaded.root)
    data = json.loads(dry.stdout)  # nothing but the JSON on stdout
    assert list(data) == PURGE_FIELDS and data["dry_run"] is True and data["pupils"] == 1
    assert data["rows"] == {"events": 1, "session_pupils": 1, "unplanned": 1}
    assert [set(r) for r in data["per_school"]] == [{"school_id", "pupils"}] and "LARS" in data["note"]
    assert dump(loaded) == before
    done = json.loads(run(runner, "purge", "--left-before", "2026-01-01", "--format", "JSON", "-w", loaded.root).stdout)
    assert done["dry_run"] is False and done["pupils"] == 1
    assert count(loaded, "SELECT count(*) FROM pupils WHERE last_name = 'Vertrokken'") == 0
    assert "did you mean json?" in run(runner, "purge", "--left-before", "2026-01-01", "--format", "jsno",
                                       "-w", loaded.root, code=2).output


@pytest.mark.parametrize("day, message, code", [("31/02/2026", "is not a real date", 2), ("2099-01-01", "lies in the future", 1),
                                                ("2999-01-01", "is outside 2000-01-01 .. 2100-12-31", 2),
                                                ("gisteren", "is not a date", 2)])
def test_purge_refuses_a_wrong_date(loaded, runner, day, message, code):
    before = dump(loaded)
    result = run(runner, "purge", "--left-before", day, "-w", loaded.root, code=code)
    assert message in result.output and "Traceback" not in result.output
    assert dump(loaded) == before


# --- audit ---------------------------------------------------------------------------------------


def test_the_audit_log_lists_commands_without_personal_data(loaded, runner):
    run(runner, "purge", "--left-before", "2026-01-01", "-w", loaded.root)
    result = run(runner, "audit", "-w", loaded.root, "--format", "json")
    entries = json.loads(result.stdout)
    assert [e["command"] for e in entries] == ["init", "import schools", "import roster", "import history", "purge"]
    assert json.loads(entries[2]["files"]) == ["roster.csv"] and json.loads(entries[2]["counts"])["new"] == 3
    text = result.stdout
    for personal in ("Peeters", "Jan", "Zoë", "Onlangs", insz_for(dt.date(2020, 3, 5), 1)):
        assert personal not in text
    table = run(runner, "audit", "-w", loaded.root, "--last", "2").output
    assert "import history" in table and "purge" in table and "import roster" not in table
