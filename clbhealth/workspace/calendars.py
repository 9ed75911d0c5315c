"""What the staff calendars last said of each event (UID, fingerprint, SEQUENCE, cancelled)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class SentEvent:
    """An event as the last calendar export wrote it."""

    uid: str
    staff_id: str
    fingerprint: str
    sequence: int
    stamp: str  # DTSTAMP, UTC, 'YYYYMMDDTHHMMSSZ'
    dtstart: str  # ISO, with offset
    dtend: str
    summary: str
    cancelled: bool


def sent_events(conn: sqlite3.Connection, staff_ids: Iterable[str]) -> dict[str, SentEvent]:
    """uid -> the event as last exported, for these people."""
    wanted = list(dict.fromkeys(staff_ids))
    found: dict[str, SentEvent] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        rows = conn.execute(
            "SELECT uid, staff_id, fingerprint, sequence, stamp, dtstart, dtend, summary, cancelled "
            f"FROM calendar_events WHERE staff_id IN ({','.join('?' * len(chunk))})", chunk)
        for row in rows:
            found[row[0]] = SentEvent(*row[:8], bool(row[8]))
    return found


def record_sent(conn: sqlite3.Connection, events: Iterable[SentEvent]) -> None:
    """Remember what the calendars now say (inside the caller's transaction)."""
    conn.executemany(
        "INSERT INTO calendar_events (uid, staff_id, fingerprint, sequence, stamp, dtstart, dtend, summary, cancelled) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(uid) DO UPDATE SET staff_id = excluded.staff_id, "
        "fingerprint = excluded.fingerprint, sequence = excluded.sequence, stamp = excluded.stamp, "
        "dtstart = excluded.dtstart, dtend = excluded.dtend, summary = excluded.summary, cancelled = excluded.cancelled",
        [(e.uid, e.staff_id, e.fingerprint, e.sequence, e.stamp, e.dtstart, e.dtend, e.summary, int(e.cancelled))
         for e in events])
