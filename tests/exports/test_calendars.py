"""Staff calendars: one iCalendar file per person, stable UIDs, re-export updates instead of duplicating."""

from __future__ import annotations

import datetime as dt

import pytest
from icalendar import Calendar

from clbhealth.core.errors import ClbError
from clbhealth.exports import export_calendars
from tests.conftest import run
from tests.planfixture import add_session, build_plan_workspace


@pytest.fixture
def world(tmp_path):
    return build_plan_workspace(tmp_path)


def events(path) -> dict[str, object]:
    calendar = Calendar.from_ical(path.read_bytes())
    return {str(e["uid"]): e for e in calendar.walk("VEVENT")}


def test_one_calendar_per_person_with_their_sessions(world, tmp_path):
    paths = export_calendars(world.workspace, tmp_path / "cal")
    assert [p.name for p in paths] == ["D01-dr-bart-claes.ics", "N01-an-peeters.ics", "N02-els-wouters.ics"]
    nurse = events(paths[1])
    assert sorted(nurse) == ["S000001-N01@clbhealth", "S000002-N01@clbhealth", "S000003-N01@clbhealth",
                             "S000005-N01@clbhealth"]
    l1 = nurse["S000002-N01@clbhealth"]
    start = l1.decoded("dtstart")
    assert start == dt.datetime(2026, 10, 6, 13, 15, tzinfo=start.tzinfo) and start.utcoffset() == dt.timedelta(hours=2)
    assert l1.decoded("dtend").strftime("%H:%M") == "15:00"
    assert str(l1["summary"]) == "Basisschool Een: L1, DTPa-IPV"
    assert str(l1["location"]) == "Basisschool Een, Kerkstraat 1, 2000 Antwerpen"
    description = str(l1["description"])
    for text in ("School: Basisschool Een", "Adres: Kerkstraat 1, 2000 Antwerpen", "Klassen: 1A",
                 "Contactmomenten: Eerste leerjaar, Vaccinatie difterie-tetanus-kinkhoest-polio",
                 "Samen met: Dr. Bart Claes (arts)", "Reistijd: 18 min enkele rit, 24.8 km heen en terug",
                 "Sessie: S000002"):
        assert text in description
    home = nurse["S000005-N01@clbhealth"]
    assert str(home["location"]) == "CLB-kantoor, Markt 1, 2440 Geel"
    doctor = events(paths[0])
    assert "(inhaalsessie)" in str(doctor["S000004-D01@clbhealth"]["summary"])
    assert events(paths[2]) == {}  # a person without sessions gets an empty calendar (a subscription clears)
    text = paths[1].read_text()
    assert "BEGIN:VTIMEZONE" in text and "TZID:Europe/Brussels" in text
    for name in ("Peeters;Jan", "Janssens", "Maes", "Zoë"):  # no pupil names in calendars
        assert name not in text


def test_reexport_is_identical_and_a_replan_updates_by_uid(world, tmp_path):
    first = export_calendars(world.workspace, tmp_path / "a")
    again = export_calendars(world.workspace, tmp_path / "b")
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in again]
    before = events(first[1])
    # A re-plan: S000003 is replaced by a new session on another day, the others keep their ids.
    with world.workspace.writing("test replan") as session:
        conn = session.conn
        conn.execute("DELETE FROM sessions WHERE session_id = 'S000003'")
        p = world.pupils
        add_session(conn, "S000006", "2026-10-15", "am", "08:30", "09:45", "100", ["L4", "MMR2"], ["4A"],
                    [("N01", "nurse", 24.8, 18)], [(p["Jacobs"], "L4", 10, "08:45")], created="2026-10-01T12:00:00+02:00")
    after = events(export_calendars(world.workspace, tmp_path / "a")[1])
    assert set(after) == set(before) | {"S000006-N01@clbhealth"}
    for uid in set(before) - {"S000003-N01@clbhealth"}:
        assert after[uid].to_ical() == before[uid].to_ical()
    assert after["S000006-N01@clbhealth"].decoded("dtstart").date() == dt.date(2026, 10, 15)
    gone = after["S000003-N01@clbhealth"]  # the replaced session is cancelled, not left behind
    assert str(gone["status"]) == "CANCELLED" and gone["sequence"] == 1
    assert gone.decoded("dtstart") == before["S000003-N01@clbhealth"].decoded("dtstart")


def test_a_changed_session_keeps_its_uid_with_a_higher_sequence_and_a_cancel_is_sent_once(world, tmp_path):
    """Outlook and Google update an event by UID when SEQUENCE grows; STATUS:CANCELLED removes it."""
    now = dt.datetime(2026, 10, 1, 9, 0, tzinfo=dt.timezone.utc)
    first = events(export_calendars(world.workspace, tmp_path / "a", now=now)[1])
    assert {e["sequence"] for e in first.values()} == {0}
    with world.workspace.writing("test replan") as session:  # S000001 moves an hour, S000005 goes
        session.conn.execute("UPDATE sessions SET start = '09:30', end = '10:45' WHERE session_id = 'S000001'")
        session.conn.execute("DELETE FROM sessions WHERE session_id = 'S000005'")
    later = now + dt.timedelta(days=1)
    second = events(export_calendars(world.workspace, tmp_path / "b", now=later)[1])
    moved = second["S000001-N01@clbhealth"]
    assert moved["sequence"] == 1 and str(moved["status"]) == "CONFIRMED"
    assert moved.decoded("dtstart").strftime("%H:%M") == "09:30" and moved.decoded("dtstamp") == later
    cancelled = second["S000005-N01@clbhealth"]
    assert str(cancelled["status"]) == "CANCELLED" and cancelled["sequence"] == 1
    assert str(cancelled["summary"]).startswith("Geannuleerd: ")
    assert second["S000002-N01@clbhealth"].to_ical() == first["S000002-N01@clbhealth"].to_ical()
    third = export_calendars(world.workspace, tmp_path / "c", now=later + dt.timedelta(days=1))
    assert third[1].read_bytes() == (tmp_path / "b" / third[1].name).read_bytes()  # nothing new: the same file


def test_the_timezone_comes_from_zoneinfo_and_times_read_back_in_brussels(world, tmp_path):
    calendar = Calendar.from_ical(export_calendars(world.workspace, tmp_path / "a")[1].read_bytes())
    [zone] = calendar.walk("VTIMEZONE")
    assert str(zone["tzid"]) == "Europe/Brussels"
    changes = {(str(c.name), c.decoded("dtstart").date()) for c in zone.subcomponents}
    assert ("STANDARD", dt.date(2026, 10, 25)) in changes and ("DAYLIGHT", dt.date(2027, 3, 28)) in changes
    for event in calendar.walk("VEVENT"):
        assert str(event.decoded("dtstart").tzinfo) == "Europe/Brussels"


def test_cli_calendars_for_one_person_and_unknown_person(world, tmp_path, runner):
    result = run(runner, "export", "calendars", "-w", world.root, "--out", tmp_path / "cal", "--staff", "D01")
    assert "Wrote 1 calendar(s)" in result.output
    assert [p.name for p in (tmp_path / "cal").iterdir()] == ["D01-dr-bart-claes.ics"]
    with pytest.raises(ClbError, match="no such person"):
        export_calendars(world.workspace, tmp_path / "x", ["X99"])
    with pytest.raises(ClbError, match="the closest known: D01"):
        export_calendars(world.workspace, tmp_path / "x", ["D1"])
    attendance = run(runner, "export", "attendance", "-w", world.root, "--date", "2026-10-06", "--staff", "N1",
                     "--out", tmp_path / "a.xlsx", code=1)
    assert "no such person on the staff list; the closest known: N01" in attendance.output
