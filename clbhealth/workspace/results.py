"""What the attendance sheet's import reads and writes: the planned pupils of each session, and the
events and outcomes a filled-in sheet records."""

from __future__ import annotations

import sqlite3


def read_planned(conn: sqlite3.Connection) -> tuple[dict, dict, dict, set[str]]:
    """(sessions by id, planned rows by (session, pupil, moment), staff (role, id) per session, staff ids)."""
    sessions = {r["session_id"]: dict(r) for r in conn.execute("SELECT session_id, date, school_id FROM sessions")}
    planned: dict[tuple[str, int, str], dict] = {}
    for r in conn.execute(
            "SELECT sp.session_id, sp.pupil_id, sp.moment, sp.outcome, sp.roles, p.last_name, p.first_name "
            "FROM session_pupils sp JOIN pupils p ON p.pupil_id = sp.pupil_id"):
        planned[(r["session_id"], int(r["pupil_id"]), r["moment"])] = dict(r)
    staff_of: dict[str, list[tuple[str, str]]] = {}
    for r in conn.execute("SELECT session_id, staff_id, role FROM session_staff ORDER BY session_id, staff_id"):
        staff_of.setdefault(r["session_id"], []).append((r["role"], r["staff_id"]))
    staff = {r[0] for r in conn.execute("SELECT staff_id FROM staff")}
    return sessions, planned, staff_of, staff


def other_parts_seen(conn: sqlite3.Connection, session_id: str, pupil_id: int, moment: str) -> bool:
    """Whether every other session's part of this pupil's moment (the nurse's, the doctor's) is seen."""
    rows = conn.execute("SELECT outcome FROM session_pupils WHERE pupil_id = ? AND moment = ? AND session_id != ?",
                        (pupil_id, moment, session_id)).fetchall()
    return all(r[0] == "seen" for r in rows)


def record_event(conn: sqlite3.Connection, key: tuple[str, int, str], day: str, status: str | None, staff_id: str,
                 source: str, outcome: str | None, stamp: str) -> None:
    """Replace this session's event for the pupil's moment (none when `status` is None) and set the outcome."""
    session_id, pupil_id, moment = key
    conn.execute("DELETE FROM events WHERE pupil_id = ? AND code = ? AND source = ?", (pupil_id, moment, source))
    if status is not None:
        conn.execute(
            "INSERT OR IGNORE INTO events (pupil_id, code, date, status, staff_id, source, imported_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)", (pupil_id, moment, day, status, staff_id, source, stamp))
    conn.execute("UPDATE session_pupils SET outcome = ? WHERE session_id = ? AND pupil_id = ? AND moment = ?",
                 (outcome, session_id, pupil_id, moment))


def event_of(conn: sqlite3.Connection, pupil_id: int, moment: str, day: str, source: str) -> set[tuple[str, str]]:
    return {(r[0], r[1]) for r in conn.execute(
        "SELECT status, staff_id FROM events WHERE pupil_id = ? AND code = ? AND date = ? AND source = ?",
        (pupil_id, moment, day, source))}
