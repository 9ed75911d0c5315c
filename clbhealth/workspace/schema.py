"""The workspace database (SQLite): versioned schema, migrations, connections."""

from __future__ import annotations

import sqlite3
from pathlib import Path

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def _load_migrations() -> list[str]:
    """The migration scripts, `migrations/NNNN_name.sql`, in order: script N takes the schema from N-1 to N.
    Never edit a released one: add the next number."""
    files = sorted(MIGRATIONS_DIR.glob("[0-9][0-9][0-9][0-9]_*.sql"))
    numbers = [int(f.name[:4]) for f in files]
    if numbers != list(range(1, len(files) + 1)):
        raise RuntimeError(f"migration scripts are not numbered 1..N without gaps: {[f.name for f in files]}")
    return [f.read_text(encoding="utf-8") for f in files]


MIGRATIONS: list[str] = _load_migrations()
SCHEMA_VERSION = len(MIGRATIONS)


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
