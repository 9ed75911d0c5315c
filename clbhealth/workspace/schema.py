"""The workspace database (SQLite): versioned schema, migrations, connections."""

from __future__ import annotations

import sqlite3
from pathlib import Path

SCHEMA_VERSION = 2

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
    # 1 -> 2: staff, absences, closures and the plan (sessions with their staff and pupils).
    """
    CREATE TABLE staff (
        staff_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        base_lat REAL,
        base_lon REAL,
        availability TEXT NOT NULL,
        schools TEXT NOT NULL DEFAULT '',
        active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
        updated_at TEXT NOT NULL
    );
    CREATE TABLE absences (
        absence_id INTEGER PRIMARY KEY,
        staff_id TEXT NOT NULL REFERENCES staff(staff_id) ON DELETE CASCADE,
        date_from TEXT NOT NULL,
        date_to TEXT NOT NULL,
        part TEXT CHECK (part IN ('am', 'pm')),
        imported_at TEXT NOT NULL,
        UNIQUE (staff_id, date_from, date_to, part)
    );
    CREATE TABLE closures (
        closure_id INTEGER PRIMARY KEY,
        school_id TEXT NOT NULL REFERENCES schools(school_id) ON DELETE CASCADE,
        date_from TEXT NOT NULL,
        date_to TEXT NOT NULL,
        part TEXT CHECK (part IN ('am', 'pm')),
        reason TEXT NOT NULL DEFAULT '',
        imported_at TEXT NOT NULL,
        UNIQUE (school_id, date_from, date_to, part)
    );
    CREATE TABLE plans (
        plan_id INTEGER PRIMARY KEY,
        created_at TEXT NOT NULL,
        date_from TEXT NOT NULL,
        date_to TEXT NOT NULL,
        seed INTEGER NOT NULL,
        time_limit REAL NOT NULL,
        workers INTEGER NOT NULL,
        keep_until TEXT,
        summary TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE sessions (
        session_id TEXT PRIMARY KEY,
        plan_id INTEGER NOT NULL REFERENCES plans(plan_id),
        date TEXT NOT NULL,
        part TEXT NOT NULL CHECK (part IN ('am', 'pm')),
        start TEXT NOT NULL,
        end TEXT NOT NULL,
        school_id TEXT NOT NULL REFERENCES schools(school_id),
        minutes INTEGER NOT NULL,
        moments TEXT NOT NULL,
        classes TEXT NOT NULL,
        kind TEXT NOT NULL DEFAULT 'regular' CHECK (kind IN ('regular', 'catch_up')),
        created_at TEXT NOT NULL
    );
    CREATE INDEX sessions_by_date ON sessions(date, part);
    CREATE INDEX sessions_by_school ON sessions(school_id, date);
    CREATE TABLE session_staff (
        session_id TEXT NOT NULL REFERENCES sessions(session_id) ON DELETE CASCADE,
        staff_id TEXT NOT NULL REFERENCES staff(staff_id),
        role TEXT NOT NULL,
        travel_km REAL NOT NULL DEFAULT 0,
        travel_minutes INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (session_id, staff_id)
    );
    CREATE INDEX session_staff_by_staff ON session_staff(staff_id);
    CREATE TABLE session_pupils (
        session_id TEXT NOT NULL REFERENCES sessions(session_id) ON DELETE CASCADE,
        pupil_id INTEGER NOT NULL REFERENCES pupils(pupil_id) ON DELETE CASCADE,
        moment TEXT NOT NULL,
        minutes INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        start TEXT NOT NULL,
        outcome TEXT CHECK (outcome IN ('seen', 'absent', 'refused', 'objected')),
        PRIMARY KEY (session_id, pupil_id, moment)
    );
    CREATE INDEX session_pupils_by_pupil ON session_pupils(pupil_id, moment);
    CREATE TABLE unplanned (
        plan_id INTEGER NOT NULL REFERENCES plans(plan_id) ON DELETE CASCADE,
        pupil_id INTEGER NOT NULL REFERENCES pupils(pupil_id) ON DELETE CASCADE,
        moment TEXT NOT NULL,
        school_id TEXT NOT NULL,
        reason TEXT NOT NULL,
        PRIMARY KEY (plan_id, pupil_id, moment)
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
        from clbhealth.core.errors import ClbError

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
