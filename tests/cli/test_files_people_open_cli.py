"""Issue 14 from the command line, the files people open: `weekly` judges missing results against its
--as-of date (a session still to come is not "resultaat ontbreekt"); staff calendars re-exported after a
real re-plan update events by UID (a higher SEQUENCE, STATUS:CANCELLED for a dropped session) with
Europe/Brussels times; the school workbook prints on portrait A4 and opens with the CLB's contact."""

from __future__ import annotations

import csv
import io

from icalendar import Calendar

from tests.app.test_weekly import settle_unplanned, world  # noqa: F401  (the fixture)
from tests.conftest import run
from tests.exports.test_export_schools import _printed_points
from tests.planner_world import make_world, pupils


def backlog(folder) -> list[dict]:
    [week] = [p for p in folder.iterdir() if p.is_dir()]
    text = (week / "achterstand.csv").read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


def test_weekly_judges_missing_results_by_its_as_of_date(world, runner, tmp_path):  # noqa: F811
    settle_unplanned(world)
    monday = run(runner, "weekly", "-w", world.root, "-o", tmp_path / "mon", "--as-of", "2026-10-05", code=0)
    assert monday.stderr == ""  # this week's sessions are still to come: nothing missing, exit 0
    assert not [r for r in backlog(tmp_path / "mon") if r["Toestand"] == "resultaat ontbreekt"]
    wednesday = run(runner, "weekly", "-w", world.root, "-o", tmp_path / "wed", "--as-of", "2026-10-07", code=3)
    assert "have no result" in wednesday.stderr
    missing = {r["Sessie of laatste poging"] for r in backlog(tmp_path / "wed") if r["Toestand"] == "resultaat ontbreekt"}
    assert missing == {"di 6/10/2026"}  # Tuesday's sessions; Thursday's (8/10) is still to come


def events(path) -> dict[str, object]:
    calendar = Calendar.from_ical(path.read_bytes())
    return {str(e["uid"]): e for e in calendar.walk("VEVENT")}


def test_calendars_after_a_replan_update_by_uid_and_cancel(tmp_path, runner):
    planner = make_world(tmp_path, runner, "100", "200")
    planner.roster("100", pupils("K1", 4, prefix="A"))
    planner.roster("200", pupils("K1", 4, prefix="B"))
    planner.staff(("N1", "verpleegkundige", "ma-vm di-vm wo-vm do-vm vr-vm", "100 200"))
    planner.plan("--from", "2026-09-07", "--to", "2026-09-18")
    folder = tmp_path / "agenda"
    run(runner, "export", "calendars", "-w", planner.root, "-o", folder)
    [path] = list(folder.glob("N1-*.ics"))
    before = events(path)
    assert before and {int(e["sequence"]) for e in before.values()} == {0}
    first_day = min(e.decoded("dtstart").date() for e in before.values())
    planner.absences(("N1", f"{first_day:%d/%m/%Y}", f"{first_day:%d/%m/%Y}", ""))  # the nurse is ill that day
    planner.plan("--from", "2026-09-07", "--to", "2026-09-18")
    run(runner, "export", "calendars", "-w", planner.root, "-o", folder)
    after = events(path)
    assert set(before) <= set(after)  # no event of the first export is left without an update
    changed = [uid for uid in before if after[uid].to_ical() != before[uid].to_ical()]
    assert changed
    for uid in changed:
        event = after[uid]
        assert int(event["sequence"]) >= 1  # Outlook and Google update the event instead of adding one
        if str(event["status"]) == "CANCELLED":
            assert event.decoded("dtstart") == before[uid].decoded("dtstart")
        else:
            assert event.decoded("dtstart").date() != first_day
    for event in after.values():
        assert str(event.decoded("dtstart").tzinfo) == "Europe/Brussels"
        assert event.decoded("dtstart").date() != first_day or str(event["status"]) == "CANCELLED"
    assert "TZID:Europe/Brussels" in path.read_text(encoding="utf-8")
    moved = {uid: after[uid] for uid in changed}
    for last in ("B01", "B02", "B03", "B04"):  # school 200's K1 done elsewhere: its session is dropped
        planner.history((last, "K1", "01/09/2026", "gedaan", ""))
    planner.plan("--from", "2026-09-07", "--to", "2026-09-18")
    run(runner, "export", "calendars", "-w", planner.root, "-o", folder)
    last = events(path)
    cancelled = [e for e in last.values() if str(e["status"]) == "CANCELLED"]
    [gone] = cancelled
    uid = str(gone["uid"])
    assert int(gone["sequence"]) == int(moved.get(uid, before[uid])["sequence"]) + 1
    assert str(gone["summary"]).startswith("Geannuleerd: ")


def test_the_school_workbook_prints_on_a4_and_opens_with_the_clbs_contact(world, runner, tmp_path):  # noqa: F811
    import re

    from openpyxl import load_workbook

    config = world.root / "clbhealth.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('phone = ""', 'phone = "014 12 34 56"').replace('email = ""', 'email = "info@clb.be"'),
                      encoding="utf-8")
    run(runner, "export", "schools", "-w", world.root, "-o", tmp_path / "scholen", "--school", "100")
    [path] = list((tmp_path / "scholen").glob("*.xlsx"))
    book = load_workbook(path)
    info = book.worksheets[0]
    lines = [info.cell(row=r, column=1).value for r in range(1, 4)]
    assert info.title == "Info" and "CLB Kempen & Zorg" in lines[0]
    assert lines[1:] == ["CLB: CLB-kantoor, Markt 1, 2440 Geel", "Bereikbaar: tel. 014 12 34 56 · info@clb.be"]
    day = re.compile(r"^(ma|di|wo|do|vr) \d{1,2} (jan|feb|mrt|apr|mei|jun|jul|aug|sep|okt|nov|dec) 20\d\d$")
    deadlines = [r[1].value for r in info.iter_rows(min_row=8) if r[0].value and r[1].value]
    assert deadlines and all(day.match(str(d)) for d in deadlines), deadlines
    assert [c.value for c in info[7]] == ["Wat de school doet", "Uiterlijk"]
    tasks = " ".join(str(r[0].value) for r in info.iter_rows(min_row=8) if r[0].value)
    for what in ("ouders", "antwoordstroken", "rustig lokaal", "meld nieuwe"):  # K1 parents, consent, room, lists
        assert what in tasks, (what, tasks)
    for sheet in book.worksheets:
        assert sheet.page_setup.orientation == "portrait" and int(sheet.page_setup.paperSize) == 9, sheet.title  # A4
        assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToWidth == 1, sheet.title
        assert sheet.print_title_rows, sheet.title  # the header rows repeat on every printed page
        sizes = {c.font.sz or 11 for row in sheet.iter_rows() for c in row if c.value is not None}  # None: Calibri 11
        assert min(sizes) >= 9 and _printed_points(sheet) >= 9, (sheet.title, sizes, _printed_points(sheet))
    planning = book["Planning"]
    dates = [c.value for c in planning["A"] if isinstance(c.value, str) and day.match(c.value)]
    assert "di 6 okt 2026" in dates
