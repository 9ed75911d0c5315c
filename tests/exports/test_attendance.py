"""Attendance round trip: export the nurse's sheet, fill it in, import the results (and refuse bad files)."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from openpyxl import load_workbook

from clbhealth.core.errors import ClbError
from clbhealth.exports import export_attendance
from clbhealth.imports.results import import_results
from clbhealth.app.due_list import due_list
from tests.conftest import run
from tests.planfixture import build_plan_workspace

EXPORTED = dt.date(2026, 10, 5)
HEADER = ["Sessie", "Leerling-id", "Code", "Naam", "Voornaam", "Klas", "Geboortedatum", "Tijdstip",
          "Contactmoment / vaccinatie", "Status"]
DOSE_HEADER = ["Toestemming", "Vaccineren", "Gegeven", "Lot", "Vaccinator", "Reden niet gegeven"]


@pytest.fixture
def world(tmp_path):
    return build_plan_workspace(tmp_path)


def fill(path, statuses: dict[tuple[str, str], str], out=None):
    """Fill in the status column like a nurse: {(last name, code): status}."""
    workbook = load_workbook(path)
    for ws in workbook.worksheets:
        for row in ws.iter_rows(min_row=7):
            key = (row[3].value, row[2].value)
            if key in statuses:
                row[9].value = statuses[key]
    target = out or path
    workbook.save(target)
    return target


DOSE_COLUMNS = {"given": 12, "lot": 13, "vaccinator": 14, "why_not": 15}


def fill_doses(path, doses: dict[tuple[str, str], dict[str, str]]):
    """Fill in the dose columns: {(last name, code): {"given": "ja", "lot": "TV123", ...}}."""
    workbook = load_workbook(path)
    for ws in workbook.worksheets:
        for row in ws.iter_rows(min_row=7):
            for name, value in doses.get((row[3].value, row[2].value), {}).items():
                row[DOSE_COLUMNS[name]].value = value
    workbook.save(path)
    return path


def add_lots(world, tmp_path, text: str = "product;lot;vervaldatum\nTetravac;TV123;30/06/2027\n") -> None:
    from clbhealth.imports.lots import import_lots

    (tmp_path / "lots.csv").write_text(text, encoding="utf-8")
    import_lots(world.workspace, tmp_path / "lots.csv", today=dt.date(2026, 10, 1))


def snapshot(world) -> tuple:
    with sqlite3.connect(world.root / "clbhealth.sqlite") as conn:
        events = conn.execute("SELECT pupil_id, code, date, status, staff_id, source FROM events ORDER BY 1, 2, 3, 4").fetchall()
        outcomes = conn.execute("SELECT session_id, pupil_id, moment, outcome FROM session_pupils ORDER BY 1, 2, 3").fetchall()
    return events, outcomes


def give_consent(world, tmp_path, choices: dict[str, str], code: str = "DTPa-IPV") -> None:
    """Import returned consent forms: {last name: choice}, signed by a parent on 2026-09-15."""
    from clbhealth.imports.consent import import_consent

    lines = ["leerling-id;vaccin;keuze;datum ondertekend;ondertekend door"]
    lines += [f"{world.pupils[name]};{code};{choice};15/09/2026;ouder" for name, choice in choices.items()]
    (tmp_path / "consent.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    import_consent(world.workspace, tmp_path / "consent.csv", today=dt.date(2026, 10, 1))


def test_sheet_has_locked_ids_and_a_status_drop_down(world, tmp_path):
    give_consent(world, tmp_path, {"Peeters": "clb", "Maes": "geweigerd"})
    path = export_attendance(world.workspace, tmp_path / "a.xlsx", session_id="S000002", exported=EXPORTED)
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["S000002"]
    ws = workbook["S000002"]
    assert "Sessie S000002" in ws["A3"].value and "An Peeters (verpleegkundige)" in ws["A3"].value
    assert [c.value for c in ws[6]] == HEADER + DOSE_HEADER and all(c.font.bold for c in ws[6])
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=7)]
    assert len(rows) == 6  # three pupils, two moments each
    assert rows[0] == ["S000002", world.pupils["Peeters"], "L1", "Peeters", "Jan", "1A", "5/3/2020", "13:30",
                       "Eerste leerjaar", None] + [None] * 6
    # the consent state on record; only a consented pupil is marked to vaccinate
    consent = {(r[3], r[2]): (r[10], r[11]) for r in rows if r[2] == "DTPa-IPV"}
    assert consent == {("Peeters", "DTPa-IPV"): ("toestemming", "ja"), ("Maes", "DTPa-IPV"): ("geweigerd", "nee"),
                       ("Wouters", "DTPa-IPV"): ("geen formulier", "nee")}
    assert "Vaccins: Tetravac: lot geen geldig lot geregistreerd" in ws["A3"].value
    assert rows[1][2:4] == ["DTPa-IPV", "Peeters"] and rows[1][8] == "Vaccinatie difterie-tetanus-kinkhoest-polio"
    validation = ws.data_validations.dataValidation[0]
    assert validation.type == "list" and validation.formula1 == '"gezien,afwezig,geweigerd,verzet"'
    assert str(validation.sqref) == "J7:J12" and validation.showErrorMessage
    assert ws.protection.sheet
    assert all(ws.cell(row=r, column=10).protection.locked is False for r in range(7, 13))
    assert all(ws.cell(row=r, column=c).protection.locked for r in range(7, 13) for c in (1, 2, 3))
    assert ws.freeze_panes == "A7" and ws.print_title_rows == "$6:$6" and int(ws.page_setup.paperSize) == 9


def test_by_date_and_staff_and_clear_errors(world, tmp_path):
    path = export_attendance(world.workspace, tmp_path / "day.xlsx", day=dt.date(2026, 10, 6), staff_id="N01")
    assert load_workbook(path).sheetnames == ["S000001", "S000002"]
    path = export_attendance(world.workspace, tmp_path / "doc.xlsx", day=dt.date(2026, 10, 6), staff_id="D01")
    assert load_workbook(path).sheetnames == ["S000002"]
    with pytest.raises(ClbError, match="Name one session"):
        export_attendance(world.workspace, tmp_path / "x.xlsx")
    with pytest.raises(ClbError, match="Name one session"):
        export_attendance(world.workspace, tmp_path / "x.xlsx", session_id="S000001", day=dt.date(2026, 10, 6))
    with pytest.raises(ClbError, match="goes with --date"):
        export_attendance(world.workspace, tmp_path / "x.xlsx", session_id="S000001", staff_id="N01")
    with pytest.raises(ClbError, match="no such session"):
        export_attendance(world.workspace, tmp_path / "x.xlsx", session_id="S999999")
    with pytest.raises(ClbError, match="No sessions on 2026-10-07"):
        export_attendance(world.workspace, tmp_path / "x.xlsx", day=dt.date(2026, 10, 7))
    assert not (tmp_path / "x.xlsx").exists()


def test_round_trip_writes_history_and_is_idempotent(world, tmp_path, runner):
    give_consent(world, tmp_path, {"Peeters": "clb"})
    add_lots(world, tmp_path)
    sheet = tmp_path / "dinsdag.xlsx"
    run(runner, "export", "attendance", "-w", world.root, "--date", "2026-10-06", "--staff", "N01", "--out", sheet)
    fill(sheet, {("Janssens", "K1"): "gezien", ("Claes", "K1"): "geweigerd",
                 ("Peeters", "L1"): "gezien", ("Peeters", "DTPa-IPV"): "gezien",
                 ("Maes", "L1"): "afwezig", ("Maes", "DTPa-IPV"): "Afwezig",
                 ("Wouters", "L1"): "gezien", ("Wouters", "DTPa-IPV"): "geweigerd"})
    fill_doses(sheet, {("Peeters", "DTPa-IPV"): {"given": "ja", "lot": "TV123"}})
    result = run(runner, "import", "results", sheet, "-w", world.root)
    assert "Imported results: 8 new, 0 changed, 0 unchanged, 1 blank" in result.output
    assert "1 row(s) have no status" in result.output
    p = world.pupils
    events, outcomes = snapshot(world)
    assert set(e for e in events if not e[5].startswith("consent form")) == {
        (p["Claes"], "K1", "2026-10-06", "objected", "", "session S000001"),  # refused contact = objection
        (p["Janssens"], "K1", "2026-10-06", "done", "N01", "session S000001"),
        (p["Peeters"], "DTPa-IPV", "2026-10-06", "done", "D01", "session S000002"),  # the doctor gives the dose
        (p["Peeters"], "L1", "2026-10-06", "done", "N01", "session S000002"),
        (p["Maes"], "DTPa-IPV", "2026-10-06", "absent", "", "session S000002"),
        (p["Maes"], "L1", "2026-10-06", "absent", "", "session S000002"),
        (p["Wouters"], "DTPa-IPV", "2026-10-06", "consent_refused", "", "session S000002"),
        (p["Wouters"], "L1", "2026-10-06", "done", "N01", "session S000002"),
    }
    assert ("S000001", p["Aerts"], "K1", None) in outcomes and ("S000002", p["Maes"], "L1", "absent") in outcomes
    assert ("S000002", p["Wouters"], "DTPa-IPV", "refused") in outcomes

    frame, _ = due_list(world.workspace, dt.date(2026, 10, 7), include_all=True)
    status = {(r.last_name, r.moment): (r.status, r.reason) for r in frame.itertuples()}
    assert status[("Peeters", "L1")][0] == "done" and status[("Peeters", "DTPa-IPV")][0] == "done"
    assert status[("Maes", "L1")][0] == "due" and "absent on 2026-10-06" in status[("Maes", "L1")][1]
    assert status[("Wouters", "DTPa-IPV")][0] == "refused" and status[("Claes", "K1")][0] == "objected"

    again = run(runner, "import", "results", sheet, "-w", world.root)
    assert "Imported results: 0 new, 0 changed, 8 unchanged, 1 blank" in again.output
    assert snapshot(world) == (events, outcomes)

    fill(sheet, {("Maes", "L1"): "gezien"})  # a correction: she came after all
    corrected = run(runner, "import", "results", sheet, "-w", world.root)
    assert "0 new, 1 changed, 7 unchanged" in corrected.output
    events2, _ = snapshot(world)
    assert (p["Maes"], "L1", "2026-10-06", "done", "N01", "session S000002") in events2
    assert not any(e[0] == p["Maes"] and e[1] == "L1" and e[3] == "absent" for e in events2)
    with world.workspace.connect() as conn:
        commands = [r[0] for r in conn.execute("SELECT command FROM audit WHERE command = 'import results'")]
    assert len(commands) == 3


def test_rows_that_do_not_match_the_session_are_refused_and_nothing_changes(world, tmp_path, runner):
    sheet = export_attendance(world.workspace, tmp_path / "a.xlsx", session_id="S000002")
    fill(sheet, {("Peeters", "L1"): "gezien", ("Peeters", "DTPa-IPV"): "misschien"})
    workbook = load_workbook(sheet)
    ws = workbook.active
    ws["B9"] = world.pupils["Jacobs"]  # row 9: another pupil's id (planned in another session)
    ws["D10"] = "Verkeerd"  # row 10: the name does not match the id
    ws.delete_rows(12)  # Wouters' DTPa-IPV row is gone
    workbook.save(sheet)
    before = snapshot(world)
    result = run(runner, "import", "results", sheet, "-w", world.root, code=1)
    output = " ".join(result.output.split())
    assert "a.xlsx, row 8, column 'Status' (value 'misschien'): is not a status" in output
    assert f"a.xlsx, row 9, column 'Leerling-id' (value '{world.pupils['Jacobs']}'): pupil " in output
    assert "is not planned in session S000002" in output
    assert "a.xlsx, row 10, column 'Naam' (value 'Verkeerd'): does not match pupil" in output
    maes, wouters = world.pupils["Maes"], world.pupils["Wouters"]
    # Maes' L1 row now names another pupil; Wouters' dose row is gone.
    assert f"session S000002: 2 planned pupil-moment(s) have no row in the file (leerling-id {maes} L1, " \
           f"{wouters} DTPa-IPV)" in output
    assert "nothing was imported" in output
    assert snapshot(world) == before
    with world.workspace.connect() as conn:
        assert conn.execute("SELECT count(*) FROM audit WHERE command = 'import results'").fetchone()[0] == 0


def test_duplicate_rows_unknown_session_and_csv(world, tmp_path):
    csv = tmp_path / "a.csv"
    pid = world.pupils["Jacobs"]
    csv.write_text("Sessie;Leerling-id;Code;Naam;Status\n"
                   f"S000003;{pid};L4;Jacobs;gezien\n"
                   f"S000003;{pid};L4;Jacobs;gezien\n"
                   f"S000009;{pid};L4;Jacobs;gezien\n", encoding="utf-8")
    with pytest.raises(ClbError) as info:
        import_results(world.workspace, csv)
    messages = [str(p) for p in info.value.problems]
    assert any("row 3" in m and "repeats the row" in m for m in messages)
    assert any("row 4, column 'Sessie'" in m and "not a session of the current plan" in m for m in messages)
    ok = tmp_path / "ok.csv"
    mertens = world.pupils["Mertens"]
    ok.write_text("Sessie;Leerling-id;Code;Naam;Status\n"
                  f"S000003;{pid};L4;Jacobs;gezien\nS000003;{pid};MMR2;Jacobs;verzet\n"
                  f"S000003;{mertens};L4;Mertens;afwezig\nS000003;{mertens};MMR2;Mertens;\n", encoding="utf-8")
    result = import_results(world.workspace, ok, dry_run=True)
    assert result.totals == {"new": 3, "changed": 0, "unchanged": 0, "blank": 1} and not result.written
    assert snapshot(world)[0] == []
    result = import_results(world.workspace, ok)
    events, _ = snapshot(world)
    assert (pid, "MMR2", "2026-10-08", "objected", "", "session S000003") in events
