"""The history of each pupil: the events table (contacts done, doses, absences, consent, objections)."""

from __future__ import annotations

import sqlite3
from typing import Iterable

def event_count(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM events").fetchone()[0]


def add_events(conn: sqlite3.Connection, rows: Iterable[tuple]) -> int:
    """Add events given as (pupil_id, code, date, status, staff_id, source, imported_at); one already
    known is left as it is. Returns how many were new."""
    before = event_count(conn)
    conn.executemany(
        "INSERT OR IGNORE INTO events (pupil_id, code, date, status, staff_id, source, imported_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    return event_count(conn) - before


def first_done(conn: sqlite3.Connection) -> dict[tuple[int, str], str]:
    """(pupil id, code) -> the first date (ISO) the contact or dose was done, here or elsewhere."""
    return {(int(r[0]), r[1]): r[2] for r in conn.execute(
        "SELECT pupil_id, code, MIN(date) FROM events WHERE status IN ('done', 'done_external') "
        "GROUP BY pupil_id, code")}
