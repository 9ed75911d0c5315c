"""The workspace database (SQLite): versioned schema, migrations, connections."""

from __future__ import annotations

import sqlite3
from pathlib import Path

SCHEMA_VERSION = 1

# Each migration takes the database from version i to i+1. Never edit a released one: add more.
MIGRATIONS: list[str] = [
    # 0 -> 1: schools, pupils, history, audit log.
    """
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE schools (
        school_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        street TEXT,
        postcode TEXT,
        municipality TEXT,
        lat REAL,
        lon REAL,
        level TEXT,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE pupils (
        pupil_id INTEGER PRIMARY KEY,
        insz TEXT UNIQUE,
        school_id TEXT NOT NULL REFERENCES schools(school_id),
        pupil_number TEXT,
        last_name TEXT NOT NULL,
        first_name TEXT NOT NULL,
        birth_date TEXT NOT NULL,
        sex TEXT NOT NULL CHECK (sex IN ('M', 'V', 'X')),
        class_name TEXT,
        grade TEXT,
        education TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
        left_on TEXT,
        first_imported TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX pupils_by_school ON pupils(school_id, pupil_number);
    CREATE INDEX pupils_by_name ON pupils(school_id, last_name, first_name, birth_date);
    CREATE TABLE events (
        event_id INTEGER PRIMARY KEY,
        pupil_id INTEGER NOT NULL REFERENCES pupils(pupil_id) ON DELETE CASCADE,
        code TEXT NOT NULL,
        date TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN
            ('done', 'done_external', 'absent', 'objected', 'consent_given', 'consent_refused')),
        staff_id TEXT NOT NULL DEFAULT '',
        source TEXT,
        imported_at TEXT NOT NULL,
        UNIQUE (pupil_id, code, date, status, staff_id)
    );
    CREATE INDEX events_by_pupil ON events(pupil_id);
    CREATE TABLE audit (
        audit_id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        user TEXT NOT NULL,
        command TEXT NOT NULL,
        files TEXT NOT NULL DEFAULT '',
        counts TEXT NOT NULL DEFAULT '{}'
    );
    """,
]
assert len(MIGRATIONS) == SCHEMA_VERSION


def connect(path: Path, timeout: float = 30.0) -> sqlite3.Connection:
    """Open the database in autocommit mode; callers open transactions with `transaction()`."""
    conn = sqlite3.connect(str(path), timeout=timeout, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    return conn


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema to SCHEMA_VERSION, each step in its own transaction. Returns the old version."""
    old = schema_version(conn)
    if old > SCHEMA_VERSION:
        from clbhealth.errors import ClbError

        raise ClbError(
            f"This workspace has schema version {old}, newer than this clbhealth knows ({SCHEMA_VERSION}).",
            hint="Upgrade clbhealth (pip install -U clbhealth) before using this workspace.",
        )
    for version in range(old, SCHEMA_VERSION):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(MIGRATIONS[version]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return old


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (our scripts hold no ';' inside literals)."""
    return [s.strip() for s in script.split(";") if s.strip()]
