"""`clbhealth export calendars`: one iCalendar file per person with their sessions.

Each event has a UID made of the session id and the person's id; the planner keeps the ids of
unchanged sessions across re-plans, so importing or subscribing to a new export updates events
instead of duplicating them. The workspace remembers what each calendar last said: a changed
session keeps its UID and gets a higher SEQUENCE (and a new DTSTAMP), a session that is gone (or no
longer this person's) is sent as STATUS:CANCELLED, and an unchanged plan gives a byte-identical
file. Times are in Europe/Brussels with the VTIMEZONE the icalendar library builds from zoneinfo.
Calendars hold no pupil names (they end up on phones and in cloud accounts).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Sequence
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vGeo

from clbhealth.core.closest import closest
from clbhealth.core.errors import ClbError
from clbhealth.core.filenames import distinct_stems, file_stem, safe_id
from clbhealth.exports.plan import (
    ROLE_WORDS, MomentWords, Session, Site, load_sessions, load_sites, require_plan,
)
from clbhealth.core.files import write_bytes_atomic
from clbhealth.core.staging import staged_files
from clbhealth.workspace import staff as staff_rows
from clbhealth.workspace.calendars import SentEvent, record_sent, sent_events
from clbhealth.workspace.folder import Workspace

TIMEZONE = "Europe/Brussels"
UID_DOMAIN = "clbhealth"


def calendar_file_names(people: list[tuple[str, str]]) -> dict[str, str]:
    """staff_id -> '<staff_id>-<name-slug>.ics' for (staff_id, name) pairs, distinct even where ids look alike."""
    stems = distinct_stems((staff_id, file_stem(staff_id, name)) for staff_id, name in people)
    return {staff_id: f"{stem}.ics" for staff_id, stem in stems.items()}


def event_uid(session_id: str, staff_id: str) -> str:
    return f"{session_id}-{safe_id(staff_id)}@{UID_DOMAIN}"


def export_calendars(workspace: Workspace, out_dir: Path, staff: Sequence[str] | None = None,
                     *, now: dt.datetime | None = None) -> list[Path]:
    """Write DIR/<staff_id>-<name-slug>.ics for every active person (or those named); return the paths."""
    workspace.require_writable()  # refused before a file is written, never after
    out_dir = Path(out_dir)
    stamp_now = _utc_text(now or dt.datetime.now(dt.timezone.utc))
    with workspace.writing("export calendars") as write:
        conn = write.conn
        require_plan(conn)
        people = staff_rows.people(conn)
        sites = load_sites(workspace, conn)
        sessions = load_sessions(conn)
        wanted = _wanted_people(people, sessions, staff)
        sent = sent_events(conn, wanted)
        words = MomentWords(workspace.protocol, workspace.config.school_year)
        everyone = sorted({*people, *wanted})  # names over the whole list: a person's file keeps its name
        names = calendar_file_names([(sid, people.get(sid, (sid, "", 1))[0]) for sid in everyone])
        paths, records = [], []
        targets = [out_dir / names[sid] for sid in wanted]  # a clashing file refuses before any is made
        with staged_files(out_dir, "ics", targets) as stage:  # all or none; what they say is remembered only then
            for staff_id in wanted:
                name = people.get(staff_id, (staff_id, "", 1))[0]
                mine = [s for s in sessions if any(m.staff_id == staff_id for m in s.staff)]
                calendar, events = staff_calendar(workspace, staff_id, name, mine, sites, words, sent, stamp_now)
                paths.append(out_dir / names[staff_id])
                write_bytes_atomic(stage(paths[-1]), calendar.to_ical())
                records += events
            record_sent(conn, records)
        write.files.extend(str(p) for p in paths)
        write.counts.update({"people": len(paths), "events": sum(not e.cancelled for e in records),
                             "cancelled": sum(e.cancelled for e in records)})
    return paths


def _wanted_people(people: dict, sessions: list[Session], staff: Sequence[str] | None) -> list[str]:
    """The people named (all known), or every active person and everyone with a session."""
    if staff:
        unknown = [s for s in staff if s not in people]
        if unknown:
            close = closest(unknown[0], people)
            raise ClbError(f"--staff {unknown[0]}: no such person in the staff list"
                           + (f"; the closest known: {', '.join(close)}." if close else "."),
                           hint="`clbhealth staff` lists the staff ids.")
        return list(dict.fromkeys(staff))
    busy = {m.staff_id for s in sessions for m in s.staff}
    return [sid for sid, (_, _, active) in people.items() if active or sid in busy] + sorted(busy - set(people))


def staff_calendar(workspace: Workspace, staff_id: str, name: str, sessions: list[Session],
                   sites: dict[str, Site], words: MomentWords, sent: dict[str, SentEvent] | None = None,
                   stamp_now: str = "") -> tuple[Calendar, list[SentEvent]]:
    """One person's calendar, and what it now says of each event (to remember for the next export)."""
    zone = ZoneInfo(TIMEZONE)
    sent = sent or {}
    calendar = Calendar()
    calendar.add("prodid", "-//clbhealth//CLB-planning//NL")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"{workspace.config.clb_name}: {name}")
    calendar.add("x-wr-timezone", TIMEZONE)
    records: list[SentEvent] = []
    built: list[Event | None] = []  # each record's session event (None: a cancellation, made below)
    for session in sessions:
        event = _session_event(session, staff_id, sites, words, zone)
        built.append(event)
        uid = event_uid(session.session_id, staff_id)
        fingerprint = hashlib.sha256(event.to_ical()).hexdigest()[:32]
        before = sent.get(uid)
        if before is None:
            sequence, stamp = 0, _utc_text(_stamp(session.created_at))
        elif before.fingerprint == fingerprint and not before.cancelled:
            sequence, stamp = before.sequence, before.stamp
        else:
            sequence, stamp = before.sequence + 1, stamp_now or before.stamp
        records.append(SentEvent(uid, staff_id, fingerprint, sequence, stamp, event.decoded("dtstart").isoformat(),
                                 event.decoded("dtend").isoformat(), str(event["summary"]), False))
    current = {r.uid for r in records}
    for before in sorted(sent.values(), key=lambda e: (e.dtstart, e.uid)):
        if before.staff_id == staff_id and before.uid not in current:
            sequence, stamp = (before.sequence, before.stamp) if before.cancelled else (before.sequence + 1, stamp_now
                                                                                         or before.stamp)
            records.append(SentEvent(before.uid, staff_id, "cancelled", sequence, stamp, before.dtstart,
                                     before.dtend, before.summary, True))
            built.append(None)
    calendar.add_component(_timezone(records, workspace))
    for record, event in zip(records, built):
        calendar.add_component(_finish(record, event, zone))
    return calendar, records


def _finish(record: SentEvent, event: Event | None, zone: ZoneInfo) -> Event:
    """The event as written: a session's with its SEQUENCE and DTSTAMP, or (None) a cancellation."""
    if event is not None:
        status = "CONFIRMED"
    else:
        event = Event()
        event.add("uid", record.uid)
        event.add("dtstart", dt.datetime.fromisoformat(record.dtstart).astimezone(zone))
        event.add("dtend", dt.datetime.fromisoformat(record.dtend).astimezone(zone))
        event.add("summary", f"Geannuleerd: {record.summary}")
        event.add("description", "Deze sessie is geannuleerd of aan iemand anders gegeven.")
        status = "CANCELLED"
    event.add("dtstamp", dt.datetime.strptime(record.stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.timezone.utc))
    event.add("status", status)
    event.add("transp", "OPAQUE" if status == "CONFIRMED" else "TRANSPARENT")
    event.add("sequence", record.sequence)
    return event


def _session_event(session: Session, staff_id: str, sites: dict[str, Site], words: MomentWords,
                   zone: ZoneInfo) -> Event:
    """A session as one person's event: what, where, when, with whom (no SEQUENCE, DTSTAMP or STATUS)."""
    site = sites.get(session.school_id) or Site(session.school_id, session.school_id)
    me = next(m for m in session.staff if m.staff_id == staff_id)
    others = [m.label for m in session.staff if m.staff_id != staff_id]
    event = Event()
    event.add("uid", event_uid(session.session_id, staff_id))
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
    return event


def _timezone(records: list[SentEvent], workspace: Workspace) -> Timezone:
    """VTIMEZONE for Europe/Brussels from zoneinfo (the icalendar library), covering the school year
    and every event in the file."""
    year = workspace.config.school_year
    days = [dt.date.fromisoformat(r.dtstart[:10]) for r in records]
    first = min([dt.date(year.start_year, 8, 1), *days]) - dt.timedelta(days=1)
    last = max([dt.date(year.start_year + 1, 8, 31), *days]) + dt.timedelta(days=1)
    return Timezone.from_tzinfo(ZoneInfo(TIMEZONE), TIMEZONE, first_date=first, last_date=last)


def _utc_text(when: dt.datetime) -> str:
    return when.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


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
