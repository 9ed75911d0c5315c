"""`clbhealth export calendars`: one iCalendar file per person with their sessions.

Each event has a UID made of the session id and the person's id; the planner keeps the ids of
unchanged sessions across re-plans, so importing or subscribing to a new export updates events
instead of duplicating them. DTSTAMP is the session's creation time, so an unchanged plan gives a
byte-identical file. Calendars hold no pupil names (they end up on phones and in cloud accounts).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Sequence
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vGeo

from clbhealth.core.errors import ClbError
from clbhealth.exports.plan import (
    ROLE_WORDS, MomentWords, Session, Site, load_sessions, load_sites, require_plan, safe_id, slug,
)
from clbhealth.core.files import write_bytes_atomic
from clbhealth.workspace import staff as staff_rows
from clbhealth.workspace.folder import Workspace

TIMEZONE = "Europe/Brussels"
UID_DOMAIN = "clbhealth"


def calendar_file_name(staff_id: str, name: str) -> str:
    return f"{safe_id(staff_id)}-{slug(name)}.ics"


def event_uid(session_id: str, staff_id: str) -> str:
    return f"{session_id}-{safe_id(staff_id)}@{UID_DOMAIN}"


def export_calendars(workspace: Workspace, out_dir: Path, staff: Sequence[str] | None = None) -> list[Path]:
    """Write DIR/<staff_id>-<name-slug>.ics for every active person (or those named); return the paths."""
    out_dir = Path(out_dir)
    with workspace.connect() as conn:
        require_plan(conn)
        people = staff_rows.people(conn)
        sites = load_sites(workspace, conn)
        sessions = load_sessions(conn)
    if staff:
        unknown = [s for s in staff if s not in people]
        if unknown:
            raise ClbError(f"--staff {unknown[0]}: no such person in the staff list.",
                           hint="Use a staff id of `clbhealth import staff`.")
        wanted = list(dict.fromkeys(staff))
    else:
        busy = {m.staff_id for s in sessions for m in s.staff}
        wanted = [sid for sid, (_, _, active) in people.items() if active or sid in busy]
        wanted += sorted(busy - set(people))
    words = MomentWords(workspace.protocol, workspace.config.school_year)
    paths = []
    for staff_id in wanted:
        name = people.get(staff_id, (staff_id, "", 1))[0]
        mine = [s for s in sessions if any(m.staff_id == staff_id for m in s.staff)]
        calendar = staff_calendar(workspace, staff_id, name, mine, sites, words)
        path = out_dir / calendar_file_name(staff_id, name)
        write_bytes_atomic(path, calendar.to_ical())
        paths.append(path)
    workspace.audit("export calendars", [str(p) for p in paths],
                    {"people": len(paths), "events": sum(1 for s in sessions for _ in s.staff)})
    return paths


def staff_calendar(workspace: Workspace, staff_id: str, name: str, sessions: list[Session],
                   sites: dict[str, Site], words: MomentWords) -> Calendar:
    zone = ZoneInfo(TIMEZONE)
    calendar = Calendar()
    calendar.add("prodid", "-//clbhealth//CLB-planning//NL")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"{workspace.config.clb_name}: {name}")
    calendar.add("x-wr-timezone", TIMEZONE)
    calendar.add_component(brussels_timezone())
    for session in sessions:
        site = sites.get(session.school_id) or Site(session.school_id, session.school_id)
        me = next(m for m in session.staff if m.staff_id == staff_id)
        others = [m.label for m in session.staff if m.staff_id != staff_id]
        event = Event()
        event.add("uid", event_uid(session.session_id, staff_id))
        event.add("dtstamp", _stamp(session.created_at))
        event.add("dtstart", _at(session.date, session.start, zone))
        event.add("dtend", _at(session.date, session.end, zone))
        event.add("summary", f"{site.name}: {', '.join(words.ordered(session.moments))}"
                  + (" (inhaalsessie)" if session.kind == "catch_up" else ""))
        event.add("location", site.location)
        if site.lat is not None and site.lon is not None:
            event.add("geo", vGeo((site.lat, site.lon)))
        pupils = len({p.pupil_id for p in session.pupils})
        lines = [
            f"School: {site.name}",
            f"Adres: {site.address or '-'}",
            f"Klassen: {', '.join(session.classes) or '-'}",
            f"Contactmomenten: {words.join(session.moments)}",
            f"Leerlingen: {pupils} ({session.minutes} min, klaarzetten inbegrepen)",
            f"Rol: {ROLE_WORDS.get(me.role, me.role)}",
        ]
        if others:
            lines.append(f"Samen met: {', '.join(others)}")
        lines.append(f"Reistijd: {me.travel_minutes} min enkele rit, {me.travel_km:g} km heen en terug")
        lines.append(f"Sessie: {session.session_id}" + (" (inhaalsessie)" if session.kind == "catch_up" else ""))
        event.add("description", "\n".join(lines))
        event.add("status", "CONFIRMED")
        event.add("transp", "OPAQUE")
        event.add("sequence", 0)
        calendar.add_component(event)
    return calendar


def brussels_timezone() -> Timezone:
    """VTIMEZONE for Europe/Brussels with the EU rules (last Sunday of March and of October)."""
    zone = Timezone()
    zone.add("tzid", TIMEZONE)
    zone.add("x-lic-location", TIMEZONE)
    summer = TimezoneDaylight()
    summer.add("tzname", "CEST")
    summer.add("tzoffsetfrom", dt.timedelta(hours=1))
    summer.add("tzoffsetto", dt.timedelta(hours=2))
    summer.add("dtstart", dt.datetime(1970, 3, 29, 2, 0))
    summer.add("rrule", {"freq": "yearly", "bymonth": 3, "byday": "-1SU"})
    winter = TimezoneStandard()
    winter.add("tzname", "CET")
    winter.add("tzoffsetfrom", dt.timedelta(hours=2))
    winter.add("tzoffsetto", dt.timedelta(hours=1))
    winter.add("dtstart", dt.datetime(1970, 10, 25, 3, 0))
    winter.add("rrule", {"freq": "yearly", "bymonth": 10, "byday": "-1SU"})
    zone.add_component(summer)
    zone.add_component(winter)
    return zone


def _at(day: dt.date, hhmm: str, zone: ZoneInfo) -> dt.datetime:
    hour, minute = (int(x) for x in hhmm.split(":")[:2])
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)


def _stamp(created_at: str) -> dt.datetime:
    """The session's creation time in UTC (a fixed DTSTAMP keeps an unchanged calendar identical)."""
    try:
        when = dt.datetime.fromisoformat(created_at)
    except (TypeError, ValueError):
        when = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(TIMEZONE))
    return when.astimezone(dt.timezone.utc).replace(microsecond=0)
