"""Roster imports end to end through the CLI: styles, validation, identity, idempotency."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from openpyxl import Workbook

from clbhealth.samples.generator import insz_for
from tests.conftest import run

HEADER = "instellingsnummer;stamboeknummer;rijksregisternummer;naam;voornaam;geboortedatum;geslacht;klas;leerjaar"


def line(number: str, last: str, first: str, born: dt.date, sex: str = "M", grade: str = "L1", cls: str = "1A",
         school: str = "100", counter: int | None = None, insz: str | None = None) -> str:
    counter = counter if counter is not None else (1 if sex == "M" else 2)
    insz = insz if insz is not None else insz_for(born, counter)
    return ";".join([school, number, insz, last, first, born.strftime("%d/%m/%Y"), sex, cls, grade])


def roster(path: Path, lines: list[str], encoding: str = "cp1252") -> Path:
    path.write_bytes(("\r\n".join([HEADER, *lines]) + "\r\n").encode(encoding))
    return path


def pupils(ws) -> list[sqlite3.Row]:
    conn = sqlite3.connect(ws.db_path)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute("SELECT * FROM pupils ORDER BY pupil_id").fetchall()
    finally:
        conn.close()


def dump(ws) -> list[str]:
    conn = sqlite3.connect(ws.db_path)
    try:
        return [l for l in conn.iterdump() if "INSERT INTO \"audit\"" not in l]
    finally:
        conn.close()


def test_import_is_idempotent_and_tracks_changes(tmp_path, workspace, runner):
    b1, b2, b3 = dt.date(2020, 3, 5), dt.date(2020, 7, 1), dt.date(2019, 12, 31)
    first = roster(tmp_path / "r1.csv", [line("1", "Peeters", "Jan", b1), line("2", "Maes", "Zoë", b2, "V"),
                                         line("3", "Claes", "Lotte", b3, "V")])
    result = run(runner, "import", "roster", first, "-w", workspace.root)
    assert "3 new" in result.output
    again = run(runner, "import", "roster", first, "-w", workspace.root)
    assert "0 new, 0 updated, 3 unchanged, 0 moved, 0 left" in again.output
    second = roster(tmp_path / "r2.csv", [line("1", "Peeters", "Jan", b1, cls="1B"), line("2", "Maes", "Zoë", b2, "V")])
    result = run(runner, "import", "roster", second, "-w", workspace.root)
    assert "0 new, 1 updated, 1 unchanged, 0 moved, 1 left" in result.output
    rows = {r["last_name"]: r for r in pupils(workspace)}
    assert rows["Peeters"]["class_name"] == "1B"
    assert rows["Claes"]["active"] == 0 and rows["Claes"]["left_on"]


def test_pupil_who_moved_school_is_recognised_by_insz(tmp_path, workspace, runner):
    born = dt.date(2015, 4, 2)
    run(runner, "import", "roster", roster(tmp_path / "a.csv", [line("7", "Wouters", "Mila", born, "V", "L6", "6A")]),
        "-w", workspace.root)
    moved = roster(tmp_path / "b.csv", [line("S77", "Wouters", "Mila", born, "V", "S1", "1A", school="200")])
    result = run(runner, "import", "roster", moved, "-w", workspace.root)
    assert "1 moved" in result.output
    rows = pupils(workspace)
    assert len(rows) == 1 and rows[0]["school_id"] == "200" and rows[0]["grade"] == "S1"


def test_any_invalid_row_changes_nothing_and_every_error_is_listed(tmp_path, workspace, runner):
    good = line("1", "Peeters", "Jan", dt.date(2020, 3, 5))
    bad = [
        line("2", "Maes", "Zoë", dt.date(2020, 7, 1), "V").replace("01/07/2020", "31/02/2020"),  # no such day
        line("3", "Claes", "Lotte", dt.date(2020, 1, 1), "V", insz="20010100227"),  # wrong check digits
        line("4", "Jacobs", "Leon", dt.date(2020, 1, 2), "V"),  # INSZ says M? counter 2 = V; sex V ok
        line("5", "Janssens", "Tuur", dt.date(2020, 5, 5), "M", grade="L9"),  # unknown grade
        line("6", "Goossens", "Vic", dt.date(2031, 1, 1), "M"),  # future birth date
        line("1", "Peeters", "Jan", dt.date(2020, 3, 5)),  # duplicate of row 2
        line("8", "Mertens", "Noor", dt.date(2020, 2, 2), "M", counter=2),  # INSZ even = V, sex M
        line("9", "=cmd|' /C calc'!A0", "Evil", dt.date(2020, 2, 3), "M"),
    ]
    before = dump(workspace)
    result = run(runner, "import", "roster", roster(tmp_path / "r.csv", [good, *bad]), "-w", workspace.root, code=1)
    text = result.output
    assert "nothing was imported" in text
    for fragment in ("row 3, column 'geboortedatum'", "row 4, column 'rijksregisternummer'", "row 6, column 'leerjaar'",
                     "row 7, column 'geboortedatum'", "row 8", "row 9, column 'rijksregisternummer'",
                     "row 10, column 'naam'"):
        assert fragment in text, fragment
    assert "20010100227" not in text  # INSZ values are masked
    assert dump(workspace) == before


def test_skip_invalid_imports_the_valid_rows_and_exits_3(tmp_path, workspace, runner):
    rows = [line("1", "Peeters", "Jan", dt.date(2020, 3, 5)),
            line("2", "Maes", "Zoë", dt.date(2020, 7, 1), "V").replace("01/07/2020", "31/02/2020")]
    result = run(runner, "import", "roster", roster(tmp_path / "r.csv", rows), "-w", workspace.root, "--skip-invalid",
                 code=3)
    assert "1 new" in result.output and "skipped" in result.output
    assert len(pupils(workspace)) == 1


def test_dry_run_writes_nothing(tmp_path, workspace, runner):
    before = dump(workspace)
    result = run(runner, "import", "roster", roster(tmp_path / "r.csv", [line("1", "Peeters", "Jan", dt.date(2020, 3, 5))]),
                 "-w", workspace.root, "--dry-run")
    assert "would import 1 new" in result.output
    assert dump(workspace) == before


def test_unknown_school_is_an_error(tmp_path, workspace, runner):
    result = run(runner, "import", "roster",
                 roster(tmp_path / "r.csv", [line("1", "Peeters", "Jan", dt.date(2020, 3, 5), school="999")]),
                 "-w", workspace.root, code=1)
    assert "is not a known school" in result.output


def test_school_option_and_grade_from_class_for_leerid_style(tmp_path, workspace, runner):
    path = tmp_path / "leerid.csv"
    path.write_text("Stamnummer,Administratieve groep,Voornaam,Achternaam,Geboortedatum,Geslacht\n"
                    "11,1A,Jan,Peeters,2020-03-05,M\n12,K3B,Lies,Maes,2021-01-09,V\n", encoding="utf-8-sig")
    result = run(runner, "import", "roster", path, "--school", "100", "-w", workspace.root)
    assert "2 new" in result.output and "read from the class name" in result.output
    assert {r["grade"] for r in pupils(workspace)} == {"L1", "K3"}
    assert "neither INSZ nor" not in result.output


def test_identity_by_name_without_insz_or_number_warns(tmp_path, workspace, runner):
    path = tmp_path / "r.csv"
    path.write_text("naam;voornaam;geboortedatum;geslacht;leerjaar\nPeeters;Jan;05/03/2020;M;L1\n", encoding="utf-8")
    run(runner, "import", "roster", path, "--school", "100", "-w", workspace.root)
    again = run(runner, "import", "roster", path, "--school", "100", "-w", workspace.root)
    assert "1 unchanged" in again.output and "recognised by name" in again.output


def test_informat_xlsx_with_title_row_and_number_insz(tmp_path, workspace, runner):
    wb = Workbook()
    ws = wb.active
    ws["A1"] = "Leerlingenlijst Atheneum Twee 2026-2027"
    ws.append([])
    ws.append(["lastName", "firstName", "dateOfBirth", "sex", "nationalRegistrationNo", "instituteNo", "studentNo",
               "departmentYear", "isOkan"])
    born = dt.date(2012, 5, 6)
    ws.append(["Nowak", "Ella", dt.datetime(2012, 5, 6), "V", int(insz_for(born, 2)), 200, "A1", "3", "nee"])
    ws.append(["Diallo", "Amir", dt.datetime(2011, 8, 9), "M", int(insz_for(dt.date(2011, 8, 9), 1)), 200, "A2", None,
               "ja"])
    wb.save(tmp_path / "informat.xlsx")
    result = run(runner, "import", "roster", tmp_path / "informat.xlsx", "-w", workspace.root)
    assert "2 new" in result.output
    rows = {r["last_name"]: r for r in pupils(workspace)}
    assert rows["Nowak"]["grade"] == "S3"
    assert rows["Diallo"]["education"] == "okan" and rows["Diallo"]["grade"] is None


def test_home_education_roster(tmp_path, workspace, runner):
    path = tmp_path / "huis.csv"
    born = dt.date(2017, 6, 1)
    young = dt.date(2022, 6, 1)
    path.write_text("school_id;insz;last_name;first_name;birth_date;sex\n"
                    f"HUISONDERWIJS;{insz_for(born, 1)};Vos;Rune;01/06/2017;M\n", encoding="utf-8")
    run(runner, "import", "roster", path, "-w", workspace.root)
    assert pupils(workspace)[0]["education"] == "huisonderwijs"
    path.write_text("school_id;insz;last_name;first_name;birth_date;sex\n"
                    f"HUISONDERWIJS;{insz_for(born, 1)};Vos;Rune;01/06/2017;M\n"
                    f"HUISONDERWIJS;{insz_for(young, 1)};Vos;Kleine;01/06/2022;M\n", encoding="utf-8")
    result = run(runner, "import", "roster", path, "-w", workspace.root, code=1)
    assert "compulsory school age" in result.output


def test_last_years_roster_is_refused(tmp_path, workspace, runner):
    path = tmp_path / "r.csv"
    path.write_text("instellingsnummer;naam;voornaam;geboortedatum;geslacht;leerjaar;schooljaar\n"
                    "100;Peeters;Jan;05/03/2020;M;L1;2025-2026\n", encoding="utf-8")
    result = run(runner, "import", "roster", path, "-w", workspace.root, code=1)
    assert "not the workspace's school year" in result.output


def test_no_workspace_is_explained(tmp_path, runner):
    result = run(runner, "due", "-w", tmp_path, code=1)
    assert "No clbhealth workspace" in result.output


def test_sex_written_jongen_meisje(tmp_path, workspace, runner):
    boy, girl = dt.date(2020, 3, 5), dt.date(2020, 4, 6)
    path = tmp_path / "jm.csv"
    path.write_text("instellingsnummer;rijksregisternummer;naam;voornaam;geboortedatum;geslacht;leerjaar\n"
                    f"100;{insz_for(boy, 1)};Peeters;Jan;05/03/2020;J;L1\n"
                    f"100;{insz_for(girl, 2)};Maes;Zoë;06/04/2020;M;L1\n", encoding="utf-8")
    result = run(runner, "import", "roster", path, "-w", workspace.root)
    assert "jongen/meisje" in result.output
    assert {r["last_name"]: r["sex"] for r in pupils(workspace)} == {"Peeters": "M", "Maes": "V"}


def test_insz_in_scientific_notation_is_explained(tmp_path, workspace, runner):
    path = tmp_path / "sci.csv"
    path.write_text("instellingsnummer;rijksregisternummer;naam;voornaam;geboortedatum;geslacht;leerjaar\n"
                    "100;2.00305E+10;Peeters;Jan;05/03/2020;M;L1\n", encoding="utf-8")
    result = run(runner, "import", "roster", path, "-w", workspace.root, code=1)
    assert "scientific notation" in result.output and "row 2" in result.output
