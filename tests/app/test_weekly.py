"""`clbhealth weekly`: the week's files, idempotent runs, exit codes, silence, lock, log, new pupils."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from openpyxl import load_workbook

from clbhealth.app import weekly as weekly_module
from clbhealth.exports import weekly as weekly_files
from clbhealth.workspace import folder as workspace_module
from clbhealth.core.errors import ClbError
from clbhealth.app.due_list import due_list
from clbhealth.app.weekly import coming_week, run_weekly, weekly_lock
from tests.conftest import run
from tests.planfixture import build_plan_workspace

FRIDAY = "2026-10-02"  # the run before week 41 (5-9 October 2026)


@pytest.fixture
def world(tmp_path):
    w = build_plan_workspace(tmp_path)
    with w.workspace.writing("test") as session:  # every pupil known since September, except one
        session.conn.execute("UPDATE pupils SET first_imported = '2026-09-01T08:00:00+02:00'")
        session.conn.execute("UPDATE pupils SET first_imported = '2026-09-30T10:00:00+02:00' WHERE pupil_id = ?",
                             (w.pupils["Wouters"],))
    return w


def settle_unplanned(world) -> None:
    """Record the doses nobody planned as given elsewhere, so that the week has no warnings."""
    frame, _ = due_list(world.workspace, dt.date(2026, 10, 5))
    with world.workspace.connect() as conn:
        planned = {(r[0], r[1]) for r in conn.execute("SELECT pupil_id, moment FROM session_pupils")}
    with world.workspace.writing("test") as session:
        for row in frame.itertuples():
            if (row.pupil_id, row.moment) not in planned:
                session.conn.execute(
                    "INSERT INTO events (pupil_id, code, date, status, staff_id, source, imported_at) "
                    "VALUES (?, ?, '2026-09-10', 'done_external', '', 'test', 'x')", (row.pupil_id, row.moment))


def read_csv(path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig")), delimiter=";"))


def cells(path) -> list[list]:
    workbook = load_workbook(path)
    return [[[c.value for c in row] for row in ws.iter_rows()] for ws in workbook.worksheets]


def test_coming_week():
    assert coming_week(dt.date(2026, 10, 2)) == (dt.date(2026, 10, 5), "2026-W41")  # Friday: next week
    assert coming_week(dt.date(2026, 10, 5)) == (dt.date(2026, 10, 5), "2026-W41")  # Monday: this week
    assert coming_week(dt.date(2026, 10, 6)) == (dt.date(2026, 10, 12), "2026-W42")
    assert coming_week(dt.date(2026, 12, 30)) == (dt.date(2027, 1, 4), "2027-W01")


def test_week_files_per_school_and_person(world, tmp_path, runner):
    out = tmp_path / "weekly"
    result = run(runner, "weekly", "-w", world.root, "--out", out, "--as-of", FRIDAY, code=3)
    assert result.stdout == ""
    assert "3 due pupil-moment(s) are in no planned session" in result.stderr
    folder = out / "2026-W41"
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["week"] == "2026-W41" and summary["from"] == "2026-10-05" and summary["to"] == "2026-10-09"
    assert summary["counts"] == {"sessions": 3, "schools": 1, "staff": 2, "planned_pupil_moments": 13,
                                 "backlog": {"results_missing": 0, "catch_up": 0, "unplanned": 3}, "new_pupils": 1}
    assert summary["files"] == [
        "achterstand.csv", "achterstand.xlsx", "medewerkers/D01-dr-bart-claes.csv",
        "medewerkers/D01-dr-bart-claes.xlsx", "medewerkers/N01-an-peeters.csv", "medewerkers/N01-an-peeters.xlsx",
        "nieuwe-leerlingen.csv", "nieuwe-leerlingen.xlsx", "scholen/100-basisschool-een.csv",
        "scholen/100-basisschool-een.xlsx", "summary.json"]
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == summary["files"]

    school = read_csv(folder / "scholen" / "100-basisschool-een.csv")
    assert list(school[0]) == ["Datum", "Dag", "Uur", "Klas", "Tijdstip", "Naam", "Voornaam", "Geboortedatum",
                               "Contactmoment / vaccinatie", "CLB-medewerker(s)", "Locatie"]
    assert len(school) == 8  # 3 K1 + 3 L1 + 2 L4 pupils, one line each
    assert school[0]["Datum"] == "di 6/10/2026" and school[0]["Tijdstip"] == "08:45" and school[0]["Naam"] == "Janssens"
    assert school[3]["Contactmoment / vaccinatie"] == "Eerste leerjaar, Vaccinatie difterie-tetanus-kinkhoest-polio"
    doctor = read_csv(folder / "medewerkers" / "D01-dr-bart-claes.csv")
    assert [r["Naam"] for r in doctor] == ["Peeters", "Maes", "Wouters", "Jacobs", "Mertens"]
    assert doctor[0]["School"] == "Basisschool Een" and doctor[0]["Tijdstip"] == "13:30"
    backlog = read_csv(folder / "achterstand.csv")
    assert {(r["Naam"], r["Contactmoment / vaccinatie"], r["Toestand"]) for r in backlog} == {
        ("Jacobs", "Vaccinatie difterie-tetanus-kinkhoest-polio", "niet gepland"),
        ("Mertens", "Vaccinatie difterie-tetanus-kinkhoest-polio", "niet gepland"),
        ("Hendrickx", "Vaccinatie difterie-tetanus-kinkhoest-polio", "niet gepland")}
    new = read_csv(folder / "nieuwe-leerlingen.csv")
    assert [(r["Naam"], r["Nog te doen"]) for r in new] == [
        ("Wouters", "Eerste leerjaar, Vaccinatie difterie-tetanus-kinkhoest-polio")]

    workbook = load_workbook(folder / "scholen" / "100-basisschool-een.xlsx")
    ws = workbook["Lijst"]
    assert ws["A1"].value == "Basisschool Een: CLB-sessies week 41 (ma 5/10/2026 – vr 9/10/2026)"
    assert [c.value for c in ws[4]][:3] == ["Datum", "Dag", "Uur"] and ws["A4"].font.bold and ws.freeze_panes == "A5"
    assert ws.auto_filter.ref == "A4:K12" and ws.print_title_rows == "$4:$4"
    assert ws.oddHeader.right.text == "Export vr 2/10/2026"
    assert (world.root / "logs" / "weekly.log").read_text().count("WARNING") == 1


def test_same_week_twice_gives_the_same_files(world, tmp_path):
    first = run_weekly(world.workspace, tmp_path / "w", dt.date(2026, 10, 2))
    texts = {p: p.read_bytes() for p in first.files if p.suffix in (".csv", ".json")}
    sheets = {p: cells(p) for p in first.files if p.suffix == ".xlsx"}
    second = run_weekly(world.workspace, tmp_path / "w", dt.date(2026, 10, 5))  # Monday morning, same week
    assert second.files == first.files
    assert {p: p.read_bytes() for p in texts} == texts
    assert {p: cells(p) for p in sheets} == sheets
    assert not list((tmp_path / "w").rglob("*.tmp"))


def test_silent_on_success_verbose_on_request(world, tmp_path, runner):
    settle_unplanned(world)
    quiet = run(runner, "weekly", "-w", world.root, "--out", tmp_path / "w", "--as-of", FRIDAY, code=0)
    assert quiet.stdout == "" and quiet.stderr == ""
    loud = run(runner, "weekly", "-w", world.root, "--out", tmp_path / "w", "--as-of", FRIDAY, "--verbose", code=0)
    assert "Week 2026-W41: 3 session(s) at 1 school(s) for 2 person(s)" in loud.stdout
    assert "11 file(s) in" in loud.stdout
    log = (world.root / "logs" / "weekly.log").read_text()
    assert log.count("INFO") == 2 and "ERROR" not in log
    for insz in world.insz.values():
        assert insz not in log


def test_backlog_results_missing_and_catch_up(world, tmp_path):
    from clbhealth.exports import export_attendance
    from clbhealth.imports.results import import_results
    from tests.exports.test_attendance import add_lots, fill, fill_doses, give_consent

    result = run_weekly(world.workspace, tmp_path / "w", dt.date(2026, 10, 9))  # week 42: the sessions of 6-8/10 are past
    backlog = read_csv(result.folder / "achterstand.csv")
    missing = [r for r in backlog if r["Toestand"] == "resultaat ontbreekt"]
    assert len(missing) == 13 and {r["Sessie of laatste poging"] for r in missing} == {"di 6/10/2026", "do 8/10/2026"}
    assert any("have no result" in w for w in result.warnings)
    give_consent(world, tmp_path, {"Peeters": "clb", "Maes": "clb", "Wouters": "clb"})  # no dose without consent
    add_lots(world, tmp_path)
    sheet = export_attendance(world.workspace, tmp_path / "a.xlsx", day=dt.date(2026, 10, 6))
    fill(sheet, {("Janssens", "K1"): "afwezig", ("Claes", "K1"): "gezien", ("Aerts", "K1"): "gezien",
                 **{(n, m): "gezien" for n in ("Peeters", "Maes", "Wouters") for m in ("L1", "DTPa-IPV")}})
    fill_doses(sheet, {(n, "DTPa-IPV"): {"lot": "TV123"} for n in ("Peeters", "Maes", "Wouters")})
    import_results(world.workspace, sheet)
    result = run_weekly(world.workspace, tmp_path / "w", dt.date(2026, 10, 9))
    backlog = read_csv(result.folder / "achterstand.csv")
    assert [(r["Naam"], r["Toestand"], r["Sessie of laatste poging"]) for r in backlog if r["Naam"] == "Janssens"] == [
        ("Janssens", "inhalen", "di 6/10/2026")]
    assert result.counts["backlog"] == {"results_missing": 4, "catch_up": 1, "unplanned": 3}
    assert result.counts["sessions"] == 2 and result.exit_code == 3


def test_a_session_later_this_week_is_not_a_missing_result(world, tmp_path):
    """Run on Wednesday 7 October: Tuesday's session is past (its results are missing), Thursday's has
    not happened yet and is neither missing nor unplanned."""
    result = run_weekly(world.workspace, tmp_path / "w", dt.date(2026, 10, 7))
    backlog = read_csv(result.folder / "achterstand.csv")
    missing = [r for r in backlog if r["Toestand"] == "resultaat ontbreekt"]
    assert missing and {r["Sessie of laatste poging"] for r in missing} == {"di 6/10/2026"}
    assert not any(r["Sessie of laatste poging"] == "do 8/10/2026" for r in backlog)
    earlier = run_weekly(world.workspace, tmp_path / "w2", dt.date(2026, 10, 5))  # Monday: nothing past yet
    assert earlier.counts["backlog"]["results_missing"] == 0


def test_new_pupils_since_the_run_of_an_earlier_week(world, tmp_path):
    run_weekly(world.workspace, tmp_path / "w", dt.date(2026, 10, 2))
    with world.workspace.writing("test") as session:
        session.conn.execute(
            "INSERT INTO pupils (insz, school_id, pupil_number, last_name, first_name, birth_date, sex, class_name, "
            "grade, education, first_imported, updated_at) VALUES (NULL, '100', '99', 'Nieuw', 'Nina', '2020-01-02', "
            "'V', '1A', 'L1', 'gewoon', '2026-10-07T09:00:00+02:00', 'x')")
    week42 = run_weekly(world.workspace, tmp_path / "w", dt.date(2026, 10, 9))
    assert [r["Naam"] for r in read_csv(week42.folder / "nieuwe-leerlingen.csv")] == ["Nieuw"]
    again = run_weekly(world.workspace, tmp_path / "w", dt.date(2026, 10, 12))
    assert [r["Naam"] for r in read_csv(again.folder / "nieuwe-leerlingen.csv")] == ["Nieuw"]
    week41 = run_weekly(world.workspace, tmp_path / "w", dt.date(2026, 10, 2))  # a re-run of the first week
    assert [r["Naam"] for r in read_csv(week41.folder / "nieuwe-leerlingen.csv")] == ["Wouters"]


def test_files_that_no_longer_apply_are_removed(world, tmp_path):
    first = run_weekly(world.workspace, tmp_path / "w", dt.date(2026, 10, 2))
    assert (first.folder / "medewerkers" / "D01-dr-bart-claes.csv").exists()
    with world.workspace.writing("test") as session:
        session.conn.execute("DELETE FROM session_staff WHERE staff_id = 'D01'")
    second = run_weekly(world.workspace, tmp_path / "w", dt.date(2026, 10, 2))
    assert not (second.folder / "medewerkers" / "D01-dr-bart-claes.csv").exists()
    assert "medewerkers/D01-dr-bart-claes.csv" not in json.loads((second.folder / "summary.json").read_text())["files"]


def test_a_second_run_waits_then_exits_clearly(world, tmp_path, runner, monkeypatch):
    monkeypatch.setattr(workspace_module, "LOCK_WAIT_SECONDS", 0.3)
    with weekly_lock(world.workspace):
        result = run(runner, "weekly", "-w", world.root, "--out", tmp_path / "w", "--as-of", FRIDAY, code=1)
    assert "Another `clbhealth weekly` is running" in result.stderr and "nothing was written" in result.stderr
    assert not (tmp_path / "w").exists()
    assert "ERROR" in (world.root / "logs" / "weekly.log").read_text()
    run(runner, "weekly", "-w", world.root, "--out", tmp_path / "w", "--as-of", FRIDAY, code=3)  # free again


def test_errors_go_to_stderr_and_the_log(world, tmp_path, runner):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = run(runner, "weekly", "-w", world.root, "--out", blocker / "sub", "--as-of", FRIDAY, code=1)
    assert result.stdout == "" and "Error" in result.stderr
    assert "ERROR" in (world.root / "logs" / "weekly.log").read_text()
    bad = run(runner, "weekly", "-w", world.root, "--out", tmp_path / "w", "--as-of", "31/02/2026", code=2)
    assert "--as-of" in bad.stderr
    assert (world.root / "logs" / "weekly.log").read_text().count("ERROR") == 2


def test_a_killed_run_leaves_no_half_written_file(world, tmp_path, monkeypatch):
    calls = {"n": 0}
    real = weekly_files.write_csv

    def dying(path, columns, rows, *rest):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # as if killed in the middle of the run
        return real(path, columns, rows, *rest)

    monkeypatch.setattr(weekly_files, "write_csv", dying)
    with pytest.raises(KeyboardInterrupt):
        run_weekly(world.workspace, tmp_path / "w", dt.date(2026, 10, 2))
    folder = tmp_path / "w" / "2026-W41"
    assert not list(folder.rglob("*.tmp")) and not (folder / "summary.json").exists()
    for path in folder.rglob("*.xlsx"):
        load_workbook(path)  # every file that is there is complete
    monkeypatch.setattr(weekly_files, "write_csv", real)
    assert run_weekly(world.workspace, tmp_path / "w", dt.date(2026, 10, 2)).files


def test_unexpected_failure_is_logged_and_reported(world, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(weekly_module, "school_rows", broken)
    with pytest.raises(ClbError, match="unexpected RuntimeError"):
        run_weekly(world.workspace, tmp_path / "w", dt.date(2026, 10, 2))
    assert "Traceback" in (world.root / "logs" / "weekly.log").read_text()


def test_a_busy_workspace_only_costs_the_record_of_the_run(world, tmp_path, monkeypatch):
    monkeypatch.setattr(workspace_module, "LOCK_WAIT_SECONDS", 0.2)
    with world.workspace.locked():  # e.g. an import holding the write lock
        result = run_weekly(world.workspace, tmp_path / "w", dt.date(2026, 10, 2))
    assert (result.folder / "summary.json").exists() and result.exit_code == 3
    assert any("could not be recorded" in w for w in result.warnings)
