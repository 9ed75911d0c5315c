"""Ctrl-C (a real SIGINT to a real process) stops a plan, an import of a large roster, the school
workbooks, the weekly lists, a due list in a workbook and the report within 2 s, with one line, exit
130; the workspace keeps what it had (no plan half-saved) and the output files are as they were (no
half-written file, no staging folder left behind)."""

from __future__ import annotations

import csv
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clbhealth.samples.instances import build_instance
from clbhealth.workspace.folder import Workspace

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is a POSIX signal")


def _count(workspace: Workspace, sql: str) -> int:
    with workspace.connect() as conn:
        return conn.execute(sql).fetchone()[0]


def test_ctrl_c_during_a_plan_stops_at_once_and_saves_nothing(tmp_path):
    workspace = build_instance("M", tmp_path / "ws")  # 60 sites: a plan of well over 10 s
    before = (_count(workspace, "SELECT count(*) FROM sessions"), _count(workspace, "SELECT count(*) FROM audit"))
    proc = subprocess.Popen([sys.executable, "-m", "clbhealth.cli.main", "plan", "-w", str(workspace.root),
                             "--as-of", "2026-09-01", "--time-limit", "120"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "COLUMNS": "120"})
    time.sleep(4)  # reading the workspace and solving (the whole plan takes well over 4 s)
    assert proc.poll() is None, "the plan ended before Ctrl-C; the test needs a longer plan"
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    took = time.monotonic() - sent
    assert proc.returncode == 130, (proc.returncode, err.decode())
    assert took <= 2.0, took
    lines = [line for line in err.decode().splitlines() if line.strip() and "planning:" not in line]
    assert len(lines) == 1 and "Traceback" not in err.decode(), err.decode()
    after = (_count(workspace, "SELECT count(*) FROM sessions"), _count(workspace, "SELECT count(*) FROM audit"))
    assert after == before


# The long-running commands: a real SIGINT halfway through a run (timed by an uninterrupted run of the
# same command first), on inputs big enough that the command is still busy then.

AS_OF = "2026-10-02"


@pytest.fixture(scope="module")
def planned_world(tmp_path_factory):
    """60 sites with a stored plan (built once; every test works on a copy)."""
    root = tmp_path_factory.mktemp("ctrl-c") / "ws"
    build_instance("M", root)
    done = subprocess.run([sys.executable, "-m", "clbhealth.cli.main", "plan", "-w", str(root), "--as-of",
                           "2026-09-01", "--time-limit", "3", "-q"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return root


def _tables(root: Path) -> dict[str, int]:
    """Rows per table of the workspace: what an interrupted command must leave as it was."""
    workspace = Workspace.open(root)
    with workspace.connect() as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}


def _tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder`, hidden ones included, with its content."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _command(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "clbhealth.cli.main", *args]


def _interrupt_halfway(args: list[str], calibration_args: list[str]) -> tuple[int, str, float]:
    """Run `calibration_args` to the end to time the command, then `args` with a SIGINT at half that time."""
    started = time.monotonic()
    full = subprocess.run(_command(calibration_args), capture_output=True, text=True)
    assert full.returncode in (0, 3), full.stderr
    wait = max((time.monotonic() - started) / 2, 0.5)
    proc = subprocess.Popen(_command(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "COLUMNS": "120"})
    time.sleep(wait)
    assert proc.poll() is None, "the command ended before Ctrl-C; the test needs a bigger input"
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    return proc.returncode, err.decode(), time.monotonic() - sent


def _assert_stopped(code: int, err: str, took: float) -> None:
    assert code == 130, (code, err)
    assert took <= 2.0, took
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Interrupted") and "Traceback" not in err, err


@pytest.mark.parametrize("command", ["export schools", "weekly", "due -o xlsx", "report -o html"])
def test_ctrl_c_in_a_long_export_leaves_the_files_and_the_workspace_as_they_were(planned_world, tmp_path, command):
    root = tmp_path / "ws"
    shutil.copytree(planned_world, root)
    out, scratch = tmp_path / "out", tmp_path / "scratch"
    (out / "schools").mkdir(parents=True)
    (out / "schools" / "100-oud.xlsx").write_bytes(b"the workbook of before")
    (out / "weekly" / "2026-W41").mkdir(parents=True)
    (out / "weekly" / "2026-W41" / "summary.json").write_text('{"week": "before"}', encoding="utf-8")
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["the due list of before"])
    workbook.save(out / "due.xlsx")
    (out / "report.html").write_text("<!DOCTYPE html>\n<html><body>the report of before</body></html>\n", encoding="utf-8")
    args = {
        "export schools": ["export", "schools", "-w", str(root), "-o", "{out}/schools"],
        "weekly": ["weekly", "-w", str(root), "-o", "{out}/weekly", "--as-of", AS_OF],
        "due -o xlsx": ["due", "-w", str(root), "--as-of", AS_OF, "-o", "{out}/due.xlsx"],
        "report -o html": ["report", "-w", str(root), "--as-of", AS_OF, "-o", "{out}/report.html"],
    }[command]
    calibration = [a.format(out=scratch) for a in args]
    scratch.mkdir()
    before_files = _tree(out)
    code, err, took = _interrupt_halfway([a.format(out=out) for a in args], calibration)
    before_tables = _tables(root)  # after the timing run, which writes its audit line
    _assert_stopped(code, err, took)
    assert _tree(out) == before_files  # no half-written file, no staging folder left behind
    assert _tables(root) == before_tables


def test_ctrl_c_during_the_import_of_a_large_roster_changes_nothing(tmp_path):
    from clbhealth.core.dates import SchoolYear
    from clbhealth.imports.schools import import_schools
    from clbhealth.samples.generator import Site, generate_site_pupils

    year = SchoolYear(2026)
    sites = [Site(f"{300_000 + i:06d}", f"School {i}", f"Schoolstraat {i + 1}", "2000", "Antwerpen", 51.2, 4.4,
                  "basis", 1_400, fictional=True) for i in range(15)]
    rng, counters = random.Random(14), {}
    pupils = [p for site in sites for p in generate_site_pupils(site, year, rng, counters)]
    assert len(pupils) > 15_000
    roster = tmp_path / "roster.csv"
    with open(roster, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["instellingsnummer", "stamboeknummer", "rijksregisternummer", "naam", "voornaam",
                         "geboortedatum", "geslacht", "klas", "leerjaar"])
        writer.writerows([p["school_id"], p["pupil_number"], p["insz"], p["last_name"], p["first_name"],
                          f"{p['birth_date']:%d/%m/%Y}", p["sex"], p["class"], p["grade"]] for p in pupils)
    schools_csv = tmp_path / "schools.csv"
    with open(schools_csv, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["school_id", "name", "street", "postcode", "municipality", "lat", "lon", "level"])
        writer.writerows([s.school_id, s.name, s.street, s.postcode, s.municipality, s.lat, s.lon, s.level]
                         for s in sites)
    timing, root = Workspace.create(tmp_path / "timing", "CLB Test", year), tmp_path / "ws"
    import_schools(timing, schools_csv)
    import_schools(Workspace.create(root, "CLB Test", year), schools_csv)
    before = _tables(root)
    code, err, took = _interrupt_halfway(["import", "roster", str(roster), "-w", str(root)],
                                         ["import", "roster", str(roster), "-w", str(timing.root)])
    _assert_stopped(code, err, took)
    assert _tables(root) == before
