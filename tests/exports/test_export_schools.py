"""School workbooks: content, formatting for people, and the privacy allow-list (canary test)."""

from __future__ import annotations

import datetime as dt

import pytest
from openpyxl import load_workbook

from clbhealth.core.errors import ClbError
from clbhealth.exports import export_school_workbooks, privacy
from tests.conftest import run
from tests.planfixture import CLB_NAME, FORMULA_NAME, all_cells, build_plan_workspace, plant_canaries

EXPORTED = dt.date(2026, 10, 1)


@pytest.fixture
def world(tmp_path):
    return build_plan_workspace(tmp_path)


def test_one_workbook_per_school_with_planning_and_session_sheets(world, tmp_path):
    paths = export_school_workbooks(world.workspace, tmp_path / "out", exported=EXPORTED)
    assert [p.name for p in paths] == ["100-basisschool-een.xlsx", "200-atheneum-twee.xlsx",
                                       "HUISONDERWIJS-huisonderwijs-clb-kantoor.xlsx"]
    workbook = load_workbook(paths[0])
    assert workbook.sheetnames == ["Info", "Planning", "di 6-10 vm", "di 6-10 nm", "do 8-10 vm"]
    ws = workbook["Planning"]
    assert ws["A1"].value == "Basisschool Een: planning van de CLB-contacten 2026-2027"
    assert ws["A3"].value == "CLB: CLB-kantoor, Markt 1, 2440 Geel"  # the CLB's contact (the school has no phone here)
    header = [c.value for c in ws[6]]
    assert header == ["Datum", "Dagdeel", "Uur", "Klas", "Contactmoment / vaccinatie", "CLB-medewerker(s)",
                      "Aantal", "Blad"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=7)]
    assert rows[0] == ["di 6 okt 2026", "voormiddag", "08:30–09:45", "K1A", "Eerste kleuterklas",
                       "An Peeters (verpleegkundige)", 3, "di 6-10 vm"]
    assert ws["A2"].value.endswith("Basisschool Een, Kerkstraat 1, 2000 Antwerpen")  # where: once, above the table
    assert rows[1][4] == "Eerste leerjaar, Vaccinatie difterie-tetanus-kinkhoest-polio"
    assert rows[1][5] == "An Peeters (verpleegkundige), Dr. Bart Claes (arts)"
    assert rows[2][0] == "do 8 okt 2026" and rows[2][3] == "4A"
    assert ws.cell(row=7, column=8).hyperlink.location == "'di 6-10 vm'!A1"

    k1 = workbook["di 6-10 vm"]
    assert [c.value for c in k1[6]] == ["Tijdstip", "Naam", "Voornaam", "Klas", "Geboortedatum"]
    assert [[c.value for c in r] for r in k1.iter_rows(min_row=7)] == [
        ["08:45", "Janssens", "Lou", "K1A", "20/11/2023"],
        ["09:05", "Claes", "Tuur", "K1A", "1/2/2023"],
        ["09:25", "Aerts", "Mila", "K1A", "9/5/2023"],
    ]
    assert "ouders zijn uitgenodigd" in k1["A4"].value
    l1 = workbook["di 6-10 nm"]
    assert [c.value for c in l1[6]] == ["Klas", "Klas om", "Naam", "Voornaam", "Geboortedatum"]
    body = [[c.value for c in r] for r in l1.iter_rows(min_row=7)]
    assert body == [["1A", "13:30", "Maes", "Zoë", "7/6/2020"], ["1A", "13:30", "Peeters", "Jan", "5/3/2020"],
                    ["1A", "13:30", "Wouters", "Noah", "17/9/2020"]]  # one line per pupil, by class and name

    home = load_workbook(paths[2])["Planning"]
    assert home["A2"].value.endswith("CLB-kantoor, Markt 1, 2440 Geel")


def test_workbooks_are_formatted_for_people(world, tmp_path):
    paths = export_school_workbooks(world.workspace, tmp_path / "out", exported=EXPORTED)
    for path in paths:
        workbook = load_workbook(path)
        for ws in workbook.worksheets:
            header_row = 7 if ws.title == "Info" else 6  # title lines, a blank line, the header
            assert all(c.font.bold for c in ws[header_row] if c.value), ws.title
            assert ws.freeze_panes == f"A{header_row + 1}"
            assert ws.auto_filter.ref.startswith(f"A{header_row}:")
            assert ws.print_title_rows == f"${header_row}:${header_row}"
            assert int(ws.page_setup.paperSize) == 9  # A4
            assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
            assert ws.oddHeader.left.text == CLB_NAME.replace("&", "&&")
            assert ws.oddHeader.right.text == "Export do 1/10/2026"
            assert "&P" in ws.oddFooter.center.text
            for letter in "ABCDE":
                assert 8 <= ws.column_dimensions[letter].width <= 62
    planning = load_workbook(paths[0])["Planning"]
    assert planning.page_setup.orientation == "portrait"


def test_school_filter_and_a_school_without_sessions(world, tmp_path):
    paths = export_school_workbooks(world.workspace, tmp_path / "out", ["200"], exported=EXPORTED)
    assert [p.name for p in paths] == ["200-atheneum-twee.xlsx"]
    ws = load_workbook(paths[0])["Planning"]
    assert ws.cell(row=7, column=1).value == "di 13 okt 2026"
    with world.workspace.writing("test") as session:
        session.conn.execute("DELETE FROM sessions WHERE school_id = '200'")
    paths = export_school_workbooks(world.workspace, tmp_path / "empty", ["200"], exported=EXPORTED)
    workbook = load_workbook(paths[0])
    assert workbook.sheetnames == ["Info", "Planning"] and "geen sessies" in workbook["Planning"]["A4"].value
    with pytest.raises(ClbError, match="no such school"):
        export_school_workbooks(world.workspace, tmp_path / "x", ["999"])


def test_no_plan_is_a_clear_error(tmp_path, runner):
    world = build_plan_workspace(tmp_path)
    with world.workspace.writing("test") as session:
        session.conn.execute("DELETE FROM sessions")
    result = run(runner, "export", "schools", "-w", world.root, "--out", tmp_path / "out", code=1)
    assert "no plan yet" in result.output and "clbhealth plan" in result.output
    assert not (tmp_path / "out").exists()


def test_cli_export_schools_writes_atomically_and_audits(world, tmp_path, runner):
    out = tmp_path / "out"
    result = run(runner, "export", "schools", "-w", world.root, "--out", out, "--school", "100")
    assert "Wrote 1 school workbook(s)" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["100-basisschool-een.xlsx"]  # no temporary left over
    with world.workspace.connect() as conn:
        row = conn.execute("SELECT command, files FROM audit ORDER BY audit_id DESC LIMIT 1").fetchone()
    assert row["command"] == "export schools" and "100-basisschool-een.xlsx" in row["files"]


def test_allow_list_refuses_other_fields():
    with pytest.raises(ValueError):
        privacy.columns("naam", "insz")
    with pytest.raises(ValueError):
        privacy.row(naam="X", reason="consent refused")
    assert set(privacy.ALLOWED) == {"datum", "dag", "uur", "tijdstip", "school", "klas", "naam", "voornaam",
                                    "geboortedatum", "moment", "medewerkers", "locatie", "aantal", "blad", "taak",
                                    "uiterlijk"}  # taak, uiterlijk: the school's own tasks


def test_canaries_never_reach_a_school_or_weekly_file(world, tmp_path):
    """Plant a recognisable value in every field a school may not see, then search every cell of every file."""
    from clbhealth.app.weekly import run_weekly

    canaries = plant_canaries(world)
    files = export_school_workbooks(world.workspace, tmp_path / "schools", exported=EXPORTED)
    weekly = run_weekly(world.workspace, tmp_path / "weekly", dt.date(2026, 10, 2))
    files += [p for p in weekly.files]
    weekly2 = run_weekly(world.workspace, tmp_path / "weekly", dt.date(2026, 10, 9))
    files += [p for p in weekly2.files]
    assert len(files) > 15 and any(p.suffix == ".csv" for p in files) and any(p.name == "summary.json" for p in files)
    for path in files:
        cells = all_cells(path)
        assert cells, path
        text = "\n".join(cells).lower()
        for canary in canaries:
            assert canary.lower() not in text, (path.name, canary)
    # The pupils with planted consent, objection and outcomes are still listed by name.
    school = "\n".join(all_cells(files[0]))
    assert "Maes" in school and "Wouters" in school and "Aerts" in school
    # Control: the search does find planted values in the nurse's attendance sheet, which shows outcomes.
    from clbhealth.exports import export_attendance

    sheet = export_attendance(world.workspace, tmp_path / "att.xlsx", session_id="S000002", exported=EXPORTED)
    assert "geweigerd" in "\n".join(all_cells(sheet)).lower()


def test_a_formula_name_stays_text_and_control_characters_go(world, tmp_path):
    plant_canaries(world)
    with world.workspace.writing("test") as session:
        session.conn.execute("UPDATE pupils SET last_name = 'Jac\x07obs' WHERE pupil_id = ?", (world.pupils["Jacobs"],))
    path = export_school_workbooks(world.workspace, tmp_path / "out", ["100"], exported=EXPORTED)[0]
    ws = load_workbook(path)["do 8-10 vm"]
    cell = next(c for row in ws.iter_rows() for c in row if c.value and "HYPERLINK" in str(c.value))
    assert cell.value == "'" + FORMULA_NAME and cell.data_type == "s"
    assert ws["C7"].value == "Jacobs"


def test_pupils_who_left_or_moved_are_not_listed(world, tmp_path):
    with world.workspace.writing("test") as session:
        session.conn.execute("UPDATE pupils SET active = 0, left_on = '2026-09-30' WHERE pupil_id = ?",
                             (world.pupils["Maes"],))
        session.conn.execute("UPDATE pupils SET school_id = '200' WHERE pupil_id = ?", (world.pupils["Claes"],))
    workbook = load_workbook(export_school_workbooks(world.workspace, tmp_path / "out", ["100"], exported=EXPORTED)[0])
    names = {c.value for ws in workbook.worksheets for row in ws.iter_rows() for c in row}
    assert "Peeters" in names and "Maes" not in names and "Claes" not in names
    assert workbook["Planning"]["G7"].value == 2 and workbook["Planning"]["G8"].value == 2


def _printed_points(ws) -> float:
    """The body text's size on paper: fit-to-width scales 11 pt by printable width / sheet width
    (A4, the sheet's own side margins; Excel shows a column of width w as about 7w + 5 pixels)."""
    from openpyxl.utils import get_column_letter

    paper = 11.69 if ws.page_setup.orientation == "landscape" else 8.27
    printable = (paper - ws.page_margins.left - ws.page_margins.right) * 96
    used = max(c.column for row in ws.iter_rows() for c in row if c.value is not None)
    pixels = sum(7 * (ws.column_dimensions[get_column_letter(i)].width or 8.43) + 5 for i in range(1, used + 1))
    return 11 * min(1.0, printable / pixels)


def test_workbooks_print_on_portrait_a4_at_9_points_or_more(world, tmp_path):
    paths = export_school_workbooks(world.workspace, tmp_path / "out", exported=EXPORTED)
    for path in paths:
        for ws in load_workbook(path).worksheets:
            assert ws.page_setup.orientation == "portrait" and int(ws.page_setup.paperSize) == 9, ws.title
            assert _printed_points(ws) >= 9, (path.name, ws.title, _printed_points(ws))
            assert ws.print_title_rows  # the header row repeats on every printed page
    planning = load_workbook(paths[0])["Planning"]
    assert planning["E8"].alignment.wrap_text  # a long moment wraps instead of widening the page


def test_the_first_sheet_says_how_to_reach_the_clb_and_what_the_school_does_by_when(world, tmp_path):
    config = world.workspace.root / "clbhealth.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('phone = ""', 'phone = "014 12 34 56"').replace('email = ""', 'email = "info@clb.be"'),
                      encoding="utf-8")
    from clbhealth.workspace.folder import Workspace

    paths = export_school_workbooks(Workspace.open(world.workspace.root), tmp_path / "out", exported=EXPORTED)
    info = load_workbook(paths[0])["Info"]
    lines = [info.cell(row=r, column=1).value for r in range(1, 6)]
    assert lines[1] == "CLB: CLB-kantoor, Markt 1, 2440 Geel"
    assert lines[2] == "Bereikbaar: tel. 014 12 34 56 · info@clb.be"
    assert [c.value for c in info[7]] == ["Wat de school doet", "Uiterlijk"]
    tasks = {r[0].value: r[1].value for r in info.iter_rows(min_row=8) if r[0].value}
    by_topic = {key: next(v for t, v in tasks.items() if key in t) for key in ("ouders", "antwoordstroken",
                                                                               "rustig lokaal", "meld nieuwe")}
    # K1 and DTPa-IPV on di 6 okt, exported do 1 okt: the parents' invitation and the class check as soon as
    # possible (two weeks and one week before have passed), the consent forms back within 3 days but on a
    # school day (Sunday 4 okt becomes Friday 2 okt), the room on the day itself.
    assert by_topic == {"ouders": "do 1 okt 2026", "antwoordstroken": "vr 2 okt 2026",
                        "rustig lokaal": "di 6 okt 2026", "meld nieuwe": "do 1 okt 2026"}
    names = {str(c.value) for ws in load_workbook(paths[0]).worksheets if ws.title == "Info" for row in ws.iter_rows()
             for c in row}
    assert not any("Janssens" in n or "Peeters" in n for n in names)  # no pupils on the Info sheet
