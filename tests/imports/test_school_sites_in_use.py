"""The official list in use: a school's level decides which moments are due there; an
institution's number stands for its sites in staff lists, closures and --school; a vanished site
with pupils is planned and reported; the bundled samples are the official list's own rows."""

from __future__ import annotations

import csv
import datetime as dt
import io
import sqlite3

import pandas as pd

from clbhealth.core.dates import SchoolYear
from clbhealth.protocols.due import compute_due
from clbhealth.protocols.model import load_protocol
from clbhealth.samples.generator import build_samples, sample_sites
from clbhealth.workspace.folder import Workspace
from tests.conftest import YEAR, run
from tests.imports.test_import_schools import official_rows, sites, site_level_rows, write_list


def _pupil(pid: int, school: str, grade: str | None, born: dt.date, education: str = "gewoon") -> dict:
    return {"pupil_id": pid, "last_name": f"P{pid}", "first_name": "X", "school_id": school, "class_name": "A",
            "grade": grade, "education": education, "birth_date": pd.Timestamp(born)}


def _due(pupils: list[dict], levels: dict[str, str] | None) -> set[tuple[int, str]]:
    frame = compute_due(pd.DataFrame(pupils), pd.DataFrame(columns=["pupil_id", "code", "date", "status", "staff_id"]),
                        load_protocol("flanders"), SchoolYear(2026), dt.date(2026, 9, 15), levels=levels,
                        statuses=("due",))
    return set(zip(frame["pupil_id"].astype(int), frame["moment"].astype(str)))


def test_a_school_level_decides_which_moments_are_due_there():
    pupils = [_pupil(1, "lager", "S3", dt.date(2012, 3, 1)),  # written S3 at a primary school: a data error
              _pupil(2, "secundair", "S3", dt.date(2012, 3, 1)),
              _pupil(3, "lager", "L4", dt.date(2017, 3, 1)),
              _pupil(4, "special", None, dt.date(2012, 3, 1), "buitengewoon")]  # by age: S3 wherever
    levels = {"lager": "lager", "secundair": "secundair", "special": "lager"}
    due = _due(pupils, levels)
    assert (1, "S3") not in due and (2, "S3") in due and (3, "L4") in due and (4, "S3") in due
    assert (1, "S3") in _due(pupils, None)  # control: without levels the grade alone decides


def test_an_institution_number_stands_for_its_sites_in_staff_lists_closures_and_school_options(tmp_path, runner):
    ws = Workspace.create(tmp_path / "ws", "CLB Test", YEAR)
    header, rows = site_level_rows()
    run(runner, "import", "schools", write_list(tmp_path / "sites.csv", rows, header), "-w", ws.root)
    assert {"18", "18-2"} <= set(sites(ws))
    staff = tmp_path / "staff.csv"
    staff.write_text("staff_id;naam;rol;beschikbaarheid;scholen\nV1;An;verpleegkundige;ma-vm;34\n", encoding="utf-8")
    run(runner, "import", "staff", staff, "-w", ws.root)
    closures = tmp_path / "closures.csv"
    closures.write_text("instellingsnummer;van;tot;reden\n34;14/10/2026;14/10/2026;studiedag\n", encoding="utf-8")
    run(runner, "import", "closures", closures, "-w", ws.root)
    conn = sqlite3.connect(ws.db_path)
    fixed = conn.execute("SELECT schools FROM staff WHERE staff_id = 'V1'").fetchone()[0]
    closed = {r[0] for r in conn.execute("SELECT school_id FROM closures")}
    conn.close()
    thirty_four = {s for s in sites(ws) if s.split("-")[0] == "34"}
    assert thirty_four and set(fixed.split()) == thirty_four and closed == thirty_four
    unknown = run(runner, "due", "-w", ws.root, "--school", "35", "--as-of", "2026-10-01", code=None)
    assert unknown.exit_code != 0 and "no such school" in unknown.output and "closest known: 34" in unknown.output


def test_the_bundled_samples_are_the_official_lists_rows_with_real_secondary_schools(tmp_path):
    written = build_samples(tmp_path)
    raw = (tmp_path / "schools.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\n" not in raw and b";" in raw  # as a CLB downloads it
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert {r["clb"] for r in rows} == {"114322"} and {r["onderwijsniveau"] for r in rows} == {"BaO", "SO"}
    levels = {s.school_id: s.level for s in sample_sites()}
    assert sorted(v for v in levels.values() if v == "secundair") == ["secundair", "secundair"]
    sizes = {r["schoolnummer"]: int(r["pupils"]) for r in csv.DictReader(
        open(__import__("clbhealth.samples", fromlist=["x"]).__path__[0] + "/school_pupils_clb114322.csv",
             encoding="utf-8"))}
    assert all(s.pupils == sizes[s.school_id] for s in sample_sites())  # their real enrolment
    assert any(p.name.startswith("roster-40642") for p in written)
    official_header, _ = official_rows()
    assert list(rows[0]) == official_header


def test_a_vanished_site_with_pupils_is_planned_and_reported(tmp_path, runner):
    from tests.imports.test_import_schools import ROSTER

    ws = Workspace.create(tmp_path / "ws", "CLB Test", YEAR)
    header, rows = site_level_rows()
    run(runner, "import", "schools", write_list(tmp_path / "sites.csv", rows, header), "-w", ws.root)
    roster = tmp_path / "roster.csv"
    roster.write_bytes(ROSTER.encode("cp1252"))
    run(runner, "import", "roster", roster, "-w", ws.root)
    newer = [r for r in rows if not (r["schoolnummer"] == "18" and r["intern_vplnummer"] == "2")]
    run(runner, "import", "schools", write_list(tmp_path / "newer.csv", newer, header), "-w", ws.root)
    staff = tmp_path / "staff.csv"
    staff.write_text("staff_id;naam;rol;base_lat;base_lon;beschikbaarheid\n"
                     "V1;An;verpleegkundige;50.85;4.35;ma-vm di-vm\nA1;Bo;arts;50.85;4.35;ma-vm di-vm\n", encoding="utf-8")
    run(runner, "import", "staff", staff, "-w", ws.root)
    result = run(runner, "plan", "-w", ws.root, "--as-of", "2026-09-01", "--time-limit", "5")
    assert "no longer in the official school list" in result.output and "18-2" in result.output
    conn = sqlite3.connect(ws.db_path)
    planned = {r[0] for r in conn.execute("SELECT DISTINCT school_id FROM sessions")}
    conn.close()
    assert "18-2" in planned  # its pupil is still seen where the roster says
