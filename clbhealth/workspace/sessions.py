"""Reading the current plan for exports, the weekly lists and the report: sessions with their staff
and pupils (the planner's own reads and writes of the plan tables are in plan.py).

Pupils are read with only the fields exports may show (names, class, birth date) plus the planning
fields (moment, time, order, outcome); INSZ, pupil numbers, education and history are never read here.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Iterator, Sequence


def session_count(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM sessions").fetchone()[0]


def session_rows(
    conn: sqlite3.Connection,
    *,
    session_ids: Sequence[str] | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    schools: Sequence[str] | None = None,
    staff_id: str | None = None,
) -> list[sqlite3.Row]:
    """Sessions of the current plan (each filter given narrows them) in date, time, school and id order."""
    where, params = [], []
    if session_ids is not None:
        where.append(f"s.session_id IN ({','.join('?' * len(session_ids))})")
        params += list(session_ids)
    if date_from is not None:
        where.append("s.date >= ?")
        params.append(date_from.isoformat())
    if date_to is not None:
        where.append("s.date <= ?")
        params.append(date_to.isoformat())
    if schools is not None:
        where.append(f"s.school_id IN ({','.join('?' * len(schools))})")
        params += list(schools)
    if staff_id is not None:
        where.append("s.session_id IN (SELECT session_id FROM session_staff WHERE staff_id = ?)")
        params.append(staff_id)
    sql = ("SELECT s.session_id, s.plan_id, s.date, s.part, s.start, s.end, s.school_id, s.minutes, s.moments, "
           "s.classes, s.kind, s.created_at FROM sessions s")
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY s.date, s.start, s.school_id, s.session_id"
    return conn.execute(sql, params).fetchall()


def session_staff_rows(conn: sqlite3.Connection, session_ids: Sequence[str]) -> Iterator[sqlite3.Row]:
    """The staff of these sessions (name falls back to the id of a person no longer listed)."""
    for chunk in _chunks(list(session_ids), 500):
        marks = ",".join("?" * len(chunk))
        yield from conn.execute(
            "SELECT ss.session_id, ss.staff_id, COALESCE(st.name, ss.staff_id) AS name, ss.role, ss.travel_km, "
            f"ss.travel_minutes FROM session_staff ss LEFT JOIN staff st ON st.staff_id = ss.staff_id "
            f"WHERE ss.session_id IN ({marks}) ORDER BY ss.session_id, ss.role DESC, name, ss.staff_id", chunk)


def session_pupil_rows(conn: sqlite3.Connection, session_ids: Sequence[str], *,
                       current_pupils_only: bool = False) -> Iterator[sqlite3.Row]:
    """The planned pupils of these sessions; `current_pupils_only` leaves out those who left or moved since."""
    for chunk in _chunks(list(session_ids), 500):
        marks = ",".join("?" * len(chunk))
        yield from conn.execute(
            "SELECT sp.session_id, sp.pupil_id, p.last_name, p.first_name, p.class_name, p.birth_date, sp.moment, "
            f"sp.minutes, sp.seq, sp.start, sp.outcome FROM session_pupils sp JOIN pupils p ON p.pupil_id = sp.pupil_id "
            f"JOIN sessions s ON s.session_id = sp.session_id WHERE sp.session_id IN ({marks}) "
            + ("AND p.active = 1 AND p.school_id = s.school_id " if current_pupils_only else "")
            + "ORDER BY sp.session_id, sp.seq, sp.start, p.last_name, p.first_name, sp.pupil_id, sp.moment", chunk)


def first_session_from(conn: sqlite3.Connection, day: dt.date) -> str | None:
    """The id of the first session on or after `day`, or None."""
    row = conn.execute("SELECT session_id FROM sessions WHERE date >= ? ORDER BY date, part, session_id "
                       "LIMIT 1", (day.isoformat(),)).fetchone()
    return None if row is None else row[0]


def open_planned_contacts(conn: sqlite3.Connection) -> set[tuple[int, str]]:
    """(pupil id, moment) of every planned contact without an outcome yet."""
    return {(int(r[0]), r[1]) for r in conn.execute("SELECT pupil_id, moment FROM session_pupils WHERE outcome IS NULL")}


def planned_contact_dates(conn: sqlite3.Connection) -> list[str]:
    """The date (ISO) of every planned contact, one per pupil and moment."""
    return [r[0] for r in conn.execute(
        "SELECT s.date FROM session_pupils sp JOIN sessions s ON s.session_id = sp.session_id")]


def planned_contacts(conn: sqlite3.Connection) -> Iterator[sqlite3.Row]:
    """(pupil_id, moment, date, outcome) of every planned contact, in date order."""
    return conn.execute("SELECT sp.pupil_id, sp.moment, s.date, sp.outcome FROM session_pupils sp "
                        "JOIN sessions s ON s.session_id = sp.session_id ORDER BY s.date")


def staff_load_rows(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Per person (also those without sessions): staff_id, name, role, active, and per session of theirs
    session_id, date, part, minutes, travel_km, travel_minutes and its number of pupils."""
    return conn.execute(
        "SELECT st.staff_id, st.name, st.role, st.active, s.session_id, s.date, s.part, s.minutes, "
        "ss.travel_km, ss.travel_minutes, (SELECT count(*) FROM session_pupils sp WHERE sp.session_id = s.session_id) "
        "FROM staff st LEFT JOIN session_staff ss ON ss.staff_id = st.staff_id "
        "LEFT JOIN sessions s ON s.session_id = ss.session_id ORDER BY st.staff_id, s.date").fetchall()


def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def resolve_session_id(conn: sqlite3.Connection, session_id: str) -> str:
    """A --session value checked against the current plan's sessions (S000123, any case); an unknown id
    is refused with the closest known ones. With no sessions at all the caller says there is no plan."""
    from clbhealth.core.closest import unknown_id_message
    from clbhealth.core.errors import ClbError

    wanted = session_id.strip().upper()
    known = {r[0] for r in conn.execute("SELECT session_id FROM sessions")}
    if wanted in known or not known:
        return wanted
    raise ClbError(unknown_id_message(f"--session {session_id}: no such session in the current plan", wanted, known),
                   hint="`clbhealth plan show` lists the sessions (also per --school or --staff).")
