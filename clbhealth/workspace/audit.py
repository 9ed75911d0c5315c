"""The audit log: one row per command that changed or exported data (counts and file names only)."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import sqlite3

from clbhealth.core.privacy import shown_path

AUDIT_COLUMNS = ("audit_id", "at", "user", "command", "files", "counts")


def now_text() -> str:
    """The current local time as ISO text with its UTC offset, to the second."""
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def record(conn: sqlite3.Connection, command: str, files: list[str] | None, counts: dict | None) -> None:
    """One audit row: time, user, command, file names (INSZ-like digits masked) and counts; never personal data."""
    try:
        user = getpass.getuser()
    except Exception:  # no user name in some containers (Windows has no uid: os.getuid is POSIX only)
        user = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    conn.execute(
        "INSERT INTO audit (at, user, command, files, counts) VALUES (?, ?, ?, ?, ?)",
        (now_text(), user, command, json.dumps([shown_path(f, name_only=True) for f in files or []]), json.dumps(counts or {})),
    )


def recent(conn: sqlite3.Connection, last: int) -> list[dict]:
    """The last `last` entries, oldest first."""
    rows = conn.execute(f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit ORDER BY audit_id DESC LIMIT ?",
                        (last,)).fetchall()
    return [dict(r) for r in reversed(rows)]


def last_entry(conn: sqlite3.Connection) -> tuple[str, str] | None:
    """(at, command) of the newest entry, or None for an empty log."""
    row = conn.execute("SELECT at, command FROM audit ORDER BY audit_id DESC LIMIT 1").fetchone()
    return None if row is None else (row[0], row[1])


def entry_count(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM audit").fetchone()[0]


def commands(conn: sqlite3.Connection) -> set[str]:
    """Every distinct command in the log."""
    return {r[0] for r in conn.execute("SELECT command FROM audit")}
