"""Hostile workspaces, outputs and inputs: each refused with exit 1 and a message that says what to do,
leaving the workspace and every output file exactly as they were.

1. A damaged workspace (an empty database file, a dropped table, an unknown or wrong schema label) is
   refused by every command and reported by `doctor`; it is never made anew behind the user's back.
2. An output (`-o`, `--out`, `--output`) onto the workspace's own files, over a file that is not an
   earlier export of the same kind, onto a pipe, or a folder of many files that is a workspace.
3. An input that is not a regular file (a FIFO, /dev/zero), too big, or unreadable.
4. `doctor` finds the temporaries of killed exports anywhere under exports/.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from clbhealth.samples.generator import insz_for
from clbhealth.workspace.schema import SCHEMA_VERSION
from tests.app.test_doctor_purge import older_database
from tests.conftest import run

AS_OF = "2026-12-01"
ROSTER = ("instellingsnummer;stamboeknummer;rijksregisternummer;naam;voornaam;geboortedatum;geslacht;klas;leerjaar\n"
          f"100;1;{insz_for(dt.date(2020, 3, 5), 1)};Peeters;Jan;05/03/2020;M;1A;L1\n"
          f"100;2;{insz_for(dt.date(2017, 6, 7), 2)};Janssens;Zoë;07/06/2017;V;4A;L4\n")
RESTORE = "Restore clbhealth.sqlite from a backup"
INIT_ONLY_NEW = "`clbhealth init` only makes new workspaces"
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")


@pytest.fixture
def ws(workspace, runner, tmp_path) -> Path:
    """A workspace with schools and two pupils (as `clbhealth` left it: every connection closed)."""
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    run(runner, "import", "roster", roster, "-w", workspace.root)
    return workspace.root


def snapshot(*folders: Path) -> dict[str, bytes | None]:
    """Every file and folder under `folders` with its bytes; SQLite's -wal/-shm and the (empty) lock files,
    which come and go, aside."""
    found: dict[str, bytes | None] = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.name.endswith(("-wal", "-shm")) or (path.name.endswith(".lock") and not path.stat().st_size):
                continue
            found[str(path)] = path.read_bytes() if path.is_file() else None
    return found


def refused(runner, args: list, message: str, hint: str, *watched: Path):
    """Run a command that must be refused: exit 1, the message and the hint, no traceback, nothing changed."""
    before = snapshot(*watched)
    result = run(runner, *args, code=None)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), (result.output, result.exception)
    assert "Traceback" not in result.output and "Error:" in result.output, result.output
    assert message in result.output and hint in result.output, result.output
    after = snapshot(*watched)
    if "weekly" in map(str, args):  # for cron, `weekly` also logs its error in the workspace's logs/weekly.log
        logs = [name for name in after if name.endswith(os.path.join("logs", "weekly.log"))]
        for name in logs:
            assert after.pop(name).decode("utf-8").splitlines()[-1].split()[1] == "ERROR"
            before.pop(name, None)
    assert after == before
    return result


def set_user_version(root: Path, version: int) -> None:
    conn = sqlite3.connect(root / "clbhealth.sqlite")
    conn.execute(f"PRAGMA user_version = {version}")
    conn.close()


def drop_table(root: Path, table: str) -> None:
    conn = sqlite3.connect(root / "clbhealth.sqlite")
    conn.execute(f"DROP TABLE {table}")
    conn.close()


# --- 1. a damaged workspace ----------------------------------------------------------------------

COMMANDS = [
    ["due", "--as-of", AS_OF],
    ["import", "roster", "{roster}"],
    ["plan", "show"],
    ["report", "--as-of", AS_OF, "--format", "json"],
    ["export", "schools", "--out", "{out}/schools"],
    ["weekly", "--out", "{out}/weekly", "--as-of", AS_OF],
    ["purge", "--left-before", AS_OF],
    ["audit"],
    ["schools"],
    ["protocols", "show"],
]


def _args(command: list[str], root: Path, tmp_path: Path) -> list[str]:
    return [a.format(roster=tmp_path / "roster.csv", out=tmp_path / "out") for a in command] + ["-w", str(root)]


DAMAGES = {
    "empty file": (lambda root: (root / "clbhealth.sqlite").write_bytes(b""),
                   "it is empty: it holds none of the workspace's tables"),
    "dropped table": (lambda root: drop_table(root, "events"), "tables or columns are missing: table events"),
    "no schema label": (lambda root: set_user_version(root, 0), "its schema version (0) is unknown"),
    "negative schema label": (lambda root: set_user_version(root, -3), "its schema version (-3) is unknown"),
    "older label on today's tables": (lambda root: set_user_version(root, 3),
                                      "it is labelled schema version 3 but has what only a later version has"),
}


@pytest.mark.parametrize("damage", DAMAGES, ids=list(DAMAGES))
@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c[:2]) for c in COMMANDS])
def test_a_damaged_database_is_refused_never_recreated(damage, command, ws, runner, tmp_path):
    harm, message = DAMAGES[damage]
    harm(ws)
    size = (ws / "clbhealth.sqlite").stat().st_size
    refused(runner, _args(command, ws, tmp_path), message, RESTORE, ws, tmp_path)
    assert (ws / "clbhealth.sqlite").stat().st_size == size  # a 0-byte file stays 0 bytes
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("damage", DAMAGES, ids=list(DAMAGES))
def test_doctor_reports_a_damaged_database_and_how_to_restore_it(damage, ws, runner):
    harm, message = DAMAGES[damage]
    harm(ws)
    before = snapshot(ws)
    result = run(runner, "doctor", "-w", ws, code=1)
    assert f"✗ schema: clbhealth.sqlite cannot be used: {message}" in result.output
    assert RESTORE in result.output and INIT_ONLY_NEW in result.output
    assert "No problems found" not in result.output
    assert snapshot(ws) == before


def test_the_refusal_says_how_to_restore(ws, runner):
    (ws / "clbhealth.sqlite").write_bytes(b"")
    result = run(runner, "due", "-w", ws, code=1)
    assert INIT_ONLY_NEW in result.output and "clbhealth doctor" in result.output


def test_a_database_without_its_settings_file_is_refused(ws, runner):
    (ws / "clbhealth.toml").unlink()
    result = refused(runner, ["due", "-w", ws], "has a database (clbhealth.sqlite) but no settings file",
                     "Restore clbhealth.toml from a backup", ws)
    assert "it never repairs one" in result.output
    refused(runner, ["init", ws], "already holds a clbhealth workspace", "", ws)


def test_a_missing_database_is_refused_never_recreated(ws, runner):
    (ws / "clbhealth.sqlite").unlink()
    refused(runner, ["due", "-w", ws], "has clbhealth.toml but no database", "Restore the database from a backup", ws)
    refused(runner, ["init", ws], "already holds a clbhealth workspace", "", ws)
    assert not (ws / "clbhealth.sqlite").exists()
    assert "✗ database: clbhealth.sqlite is missing" in run(runner, "doctor", "-w", ws, code=1).output


def test_a_database_that_vanishes_while_open_is_not_recreated(ws):
    from clbhealth.core.errors import ClbError
    from clbhealth.workspace.folder import Workspace

    workspace = Workspace.open(ws)
    (ws / "clbhealth.sqlite").unlink()
    with pytest.raises(ClbError, match="is missing"):
        with workspace.connect():
            pass
    assert not (ws / "clbhealth.sqlite").exists()


def test_init_and_the_first_commands_after_it_still_work(tmp_path, runner):
    root = tmp_path / "new"
    run(runner, "init", root, "--school-year", "2026-2027")
    run(runner, "due", "-w", root, "--as-of", AS_OF)
    assert "No problems found" in run(runner, "doctor", "-w", root).output


def test_a_really_older_database_is_upgraded_by_the_first_command(ws, runner):
    older_database(ws / "clbhealth.sqlite", 3)
    assert "schema version 3 is older" in run(runner, "doctor", "-w", ws).output
    run(runner, "due", "-w", ws, "--as-of", AS_OF)
    conn = sqlite3.connect(ws / "clbhealth.sqlite")
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        conn.close()
    assert f"schema version {SCHEMA_VERSION} (current)" in run(runner, "doctor", "-w", ws).output


# --- 2. outputs onto the workspace, over other files ---------------------------------------------

ONTO_WORKSPACE = [
    (["due", "--as-of", AS_OF, "-o", "{ws}/clbhealth.sqlite"], "is the database of the workspace"),
    (["due", "--as-of", AS_OF, "--format", "csv", "-o", "{ws}/clbhealth.sqlite-wal"], "is a file of the database"),
    (["due", "--as-of", AS_OF, "--format", "xlsx", "-o", "{ws}/clbhealth.toml"], "is the settings file"),
    (["report", "--as-of", AS_OF, "--format", "json", "-o", "{ws}/clbhealth.toml"], "is the settings file"),
    (["report", "--as-of", AS_OF, "--format", "html", "--output", "{ws}/logs/weekly.log"], "is a log of the workspace"),
    (["plan", "show", "--format", "csv", "-o", "{ws}/.clbhealth.lock"], "is a lock file of the workspace"),
    (["export", "attendance", "--date", AS_OF, "--out", "{ws}/clbhealth.sqlite"], "is the database"),
    (["export", "vaccinnet", "-o", "{ws}/clbhealth.toml"], "is the settings file"),
    (["export", "vaccine-order", "-o", "{ws}/clbhealth.sqlite"], "is the database"),
    (["due", "--as-of", AS_OF, "--format", "csv", "-o", "{ws}/link.csv"], "is the database"),  # a symlink to it
    (["due", "--as-of", AS_OF, "--format", "csv", "-o", "{other}/clbhealth.toml"], "is the settings file of the workspace"),
    (["export", "schools", "--out", "{ws}"], "is the workspace folder"),
    (["export", "calendars", "--out", "{ws}"], "is the workspace folder"),
    (["export", "consent-forms", "-o", "{ws}"], "is the workspace folder"),
    (["weekly", "--as-of", AS_OF, "--out", "{ws}"], "is the workspace folder"),
    (["weekly", "--as-of", AS_OF, "--out", "{ws}/logs"], "is the log folder of the workspace"),
    (["export", "schools", "--out", "{other}"], "is a workspace folder: the files would mix"),
]


@pytest.mark.parametrize("args, message", ONTO_WORKSPACE, ids=[f"{' '.join(a[:2])} {a[-1]}" for a, _ in ONTO_WORKSPACE])
def test_an_output_onto_a_workspace_file_is_refused(args, message, ws, runner, tmp_path):
    other = tmp_path / "other"
    run(runner, "init", other, "--school-year", "2026-2027")
    if hasattr(os, "symlink"):
        os.symlink(ws / "clbhealth.sqlite", ws / "link.csv")
    elif "link.csv" in args[-1]:
        pytest.skip("no symbolic links here")
    filled = [a.format(ws=ws, other=other) for a in args]
    refused(runner, [*filled, "-w", ws], message, "exports", ws, other)
    assert "No problems found" in run(runner, "doctor", "-w", other).output


def _docx(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")


OVER_OTHER_FILES = [
    ("notes.docx", _docx, ["due", "--as-of", AS_OF], "is not a text file that clbhealth wrote before",
     "a ZIP-based document"),
    ("due.xlsx", lambda p: p.write_text("my own notes\n", encoding="utf-8"),
     ["due", "--as-of", AS_OF, "--format", "xlsx"], "is not an Excel workbook (.xlsx)", "a text file (.xlsx)"),
    ("notes.md", lambda p: p.write_text("# minutes of the meeting\n", encoding="utf-8"),
     ["due", "--as-of", AS_OF, "--format", "csv"], "is not a CSV file", "a text file (.md)"),
    ("report.html", lambda p: p.write_text("just notes\n", encoding="utf-8"),
     ["report", "--as-of", AS_OF, "--format", "html"], "is not a web page (.html)", "a text file (.html)"),
    ("plan.json", lambda p: p.write_bytes(b"%PDF-1.7 ..."), ["plan", "show", "--format", "json"],
     "is not a JSON file", "a PDF file"),
    ("order.xlsx", _docx, ["export", "vaccine-order"], "is not an Excel workbook", "a ZIP-based document"),
    ("doses.csv", lambda p: p.write_bytes(b"SQLite format 3\x00" + bytes(100)), ["export", "vaccinnet"],
     "is not a CSV file", "an SQLite database"),
    ("sheet.xlsx", lambda p: p.write_text("a;b\n", encoding="utf-8"), ["export", "attendance", "--date", AS_OF],
     "is not an Excel workbook", "a text file (.xlsx)"),
]


@pytest.mark.parametrize("name, make, command, message, looks", OVER_OTHER_FILES,
                         ids=[f"{c[0]} {n}" for n, _, c, _, _ in OVER_OTHER_FILES])
def test_an_output_over_a_file_of_another_kind_is_refused(name, make, command, message, looks, ws, runner, tmp_path):
    target = tmp_path / "out" / name
    target.parent.mkdir()
    make(target)
    before = target.read_bytes()
    option = "--out" if command[0] == "export" else "-o"
    result = refused(runner, [*command, option, target, "-w", ws], message, "Choose a new file name", ws, target.parent)
    assert looks in result.output and "it is not overwritten" in result.output
    assert target.read_bytes() == before


@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx", "table"])
def test_an_earlier_export_of_the_same_kind_is_replaced(fmt, ws, runner, tmp_path):
    target = tmp_path / f"due.{'txt' if fmt == 'table' else fmt}"
    run(runner, "due", "-w", ws, "--as-of", AS_OF, "--format", fmt, "-o", target)
    run(runner, "due", "-w", ws, "--as-of", AS_OF, "--all", "--format", fmt, "-o", target)
    empty = tmp_path / f"empty.{fmt}"
    empty.write_bytes(b"")  # an empty file holds nothing to lose
    run(runner, "due", "-w", ws, "--as-of", AS_OF, "--format", fmt, "-o", empty)
    assert empty.stat().st_size > 0


@needs_fifo
def test_an_output_onto_a_pipe_is_refused(ws, runner, tmp_path):
    fifo = tmp_path / "due.csv"
    os.mkfifo(fifo)
    refused(runner, ["due", "-w", ws, "--as-of", AS_OF, "--format", "csv", "-o", fifo], "is not a regular file",
            "Give the name of a file", ws)
    assert not fifo.is_file()


def test_weekly_never_replaces_a_week_folder_it_did_not_write(ws, runner, tmp_path):
    from clbhealth.app.weekly import coming_week

    week = tmp_path / "weekly" / coming_week(dt.date.fromisoformat(AS_OF))[1]
    week.mkdir(parents=True)
    (week / "my-notes.txt").write_text("mine\n", encoding="utf-8")
    refused(runner, ["weekly", "-w", ws, "--as-of", AS_OF, "--out", tmp_path / "weekly"],
            "is not a folder of weekly lists", "Move it away", ws, tmp_path / "weekly")
    (week / "my-notes.txt").unlink()  # an empty folder may be filled
    assert run(runner, "weekly", "-w", ws, "--as-of", AS_OF, "--out", tmp_path / "weekly", code=None).exit_code in (0, 3)
    assert (week / "summary.json").is_file()
    assert run(runner, "weekly", "-w", ws, "--as-of", AS_OF, "--out", tmp_path / "weekly", code=None).exit_code in (0, 3)


# --- 3. inputs that are not regular files ---------------------------------------------------------


def _cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """The command in a process of its own: a read that blocks fails the test instead of hanging it."""
    return subprocess.run([sys.executable, "-m", "clbhealth", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


@needs_fifo
@pytest.mark.parametrize("command", [["import", "roster"], ["import", "results"], ["import", "schools"],
                                     ["import", "consent"]])
def test_a_pipe_as_input_is_refused_at_once(command, ws, tmp_path):
    fifo = tmp_path / "input.csv"
    os.mkfifo(fifo)
    before = snapshot(ws)
    proc = _cli(*command, fifo, "-w", ws)
    assert proc.returncode == 1, proc.stderr
    assert f"{fifo} is not a regular file but a pipe (FIFO)." in proc.stderr
    assert "Save the" in proc.stderr and "Traceback" not in proc.stderr
    assert snapshot(ws) == before


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")
def test_a_device_as_input_is_refused_without_reading_it(ws, tmp_path):
    before = snapshot(ws)
    proc = _cli("import", "roster", "/dev/zero", "-w", ws)
    assert proc.returncode == 1 and "/dev/zero is not a regular file but a device." in proc.stderr, proc.stderr
    assert snapshot(ws) == before


def test_a_file_over_the_size_limit_is_refused(ws, runner, tmp_path):
    big = tmp_path / "roster.csv"
    with open(big, "wb") as handle:  # sparse: takes no disk space
        handle.truncate(200 * 1024 * 1024 + 1)
    refused(runner, ["import", "roster", big, "-w", ws], "is larger than 200 MB, the most clbhealth reads",
            "split a very large one", ws)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_input_names_the_file(ws, runner, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER, encoding="utf-8")
    os.chmod(path, 0)
    try:
        result = refused(runner, ["import", "roster", path, "-w", ws], f"{path}: cannot be read (permission denied).",
                         "permissions", ws)
    finally:
        os.chmod(path, 0o600)
    assert len([line for line in result.output.splitlines() if line.startswith("Error:")]) == 1


def test_a_permission_error_on_opening_an_input_is_one_clear_line(ws, runner, tmp_path, monkeypatch):
    """The same path as for a mode-000 file, also when running as root (who may read anything)."""
    import clbhealth.readers.files as files

    path = tmp_path / "roster.csv"
    path.write_text(ROSTER, encoding="utf-8")

    real_open = os.open

    def denied(name, *args, **kwargs):
        if Path(name) == path:
            raise PermissionError(13, "Permission denied", str(name))
        return real_open(name, *args, **kwargs)

    monkeypatch.setattr(files.os, "open", denied)
    refused(runner, ["import", "roster", path, "-w", ws], f"{path}: cannot be read (permission denied).",
            "permissions", ws)


@needs_fifo
def test_a_pipe_as_travel_matrix_or_settings_is_refused(ws, tmp_path):
    settings = ws / "clbhealth.toml"
    text = settings.read_text(encoding="utf-8")
    fifo = tmp_path / "matrix.csv"
    os.mkfifo(fifo)
    from clbhealth.core.errors import ClbError
    from clbhealth.scheduler.travel import read_matrix

    with pytest.raises(ClbError, match="The travel matrix: .* is not a regular file but a pipe"):
        read_matrix(fifo)
    settings.unlink()
    os.mkfifo(settings)
    proc = _cli("due", "-w", ws, "--as-of", AS_OF)
    assert proc.returncode == 1 and "clbhealth.toml is not a regular file but a pipe (FIFO)." in proc.stderr, proc.stderr
    settings.unlink()
    settings.write_text(text, encoding="utf-8")


# --- 4. doctor: temporaries of killed exports anywhere under exports/ -------------------------------


def test_doctor_finds_leftovers_in_export_subfolders(ws, runner):
    exports = ws / "exports"
    temp = exports / "sub" / ".x.xlsx.999999.abcd1234.tmp"
    deeper = exports / "sub" / "deeper" / ".due.csv.999998.tmp"
    staging = exports / "weekly" / ".2026-W49.k3j4h5.tmp"
    replaced = exports / "weekly" / ".2026-W48.old-999997"
    for folder in (temp.parent, deeper.parent, staging / "scholen", replaced):
        folder.mkdir(parents=True, mode=0o700, exist_ok=True)
    for path in (temp, deeper, staging / "scholen" / "100-school.csv"):
        path.write_bytes(b"half an export")
        os.chmod(path, 0o600)
    for folder in (exports, exports / "sub", exports / "weekly", exports / "sub" / "deeper", staging):
        os.chmod(folder, 0o700)
    before = snapshot(ws)
    result = run(runner, "doctor", "-w", ws, code=1)
    assert snapshot(ws) == before
    assert "✗ leftovers:" in result.output
    for path in (temp, deeper):
        assert f"rm '{path}'" in result.output
    for folder in (staging, replaced):
        assert f"rm -r '{folder}'" in result.output
    assert "100-school.csv" not in result.output  # inside the staging folder, removed with it
    for path in (temp, deeper):
        path.unlink()
    for folder in (staging, replaced):
        shutil.rmtree(folder)
    assert "No problems found" in run(runner, "doctor", "-w", ws).output


def test_doctor_leaves_the_staging_folder_of_a_running_weekly_alone(ws, runner):
    from clbhealth.app.weekly import weekly_lock
    from clbhealth.workspace.folder import Workspace

    staging = ws / "exports" / "weekly" / ".2026-W49.k3j4h5.tmp"
    staging.mkdir(parents=True, mode=0o700)
    for folder in (ws / "exports", ws / "exports" / "weekly"):
        os.chmod(folder, 0o700)
    with weekly_lock(Workspace.open(ws), wait=0):
        result = run(runner, "doctor", "-w", ws)
    assert "no temporary files of interrupted commands" in result.output
    assert f"rm -r '{staging}'" in run(runner, "doctor", "-w", ws, code=1).output


def _indexes(ws: Path) -> set[str]:
    with sqlite3.connect(ws / "clbhealth.sqlite") as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")}


def test_a_lost_index_is_reported_by_doctor_and_made_again_by_the_next_command(ws, runner):
    """An index holds no data: doctor says it is missing (read-only), the next command re-creates it."""
    with sqlite3.connect(ws / "clbhealth.sqlite") as conn:
        conn.execute("DROP INDEX pupils_by_name")
    before = snapshot(ws)
    result = run(runner, "doctor", "-w", ws, code=1)
    assert "✗ indexes: 1 index(es) missing (pupils_by_name)" in result.output
    assert "no data is lost" in result.output
    assert snapshot(ws) == before
    run(runner, "due", "-w", ws, "--as-of", "2026-10-01")
    assert "pupils_by_name" in _indexes(ws)
    assert "indexes" not in run(runner, "doctor", "-w", ws).output
