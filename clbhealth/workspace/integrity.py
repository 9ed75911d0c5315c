"""Read-only checks of the database file for `clbhealth doctor`: integrity, keys, orphans."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from clbhealth.workspace.schema import expected_indexes, file_uri, index_statements, schema_version


def open_read_only(path: Path) -> sqlite3.Connection:
    """Open the database read-only (never migrates, never writes); raises sqlite3.Error when unreadable."""
    conn = sqlite3.connect(file_uri(path, "ro"), uri=True, timeout=10)
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    return conn


def table_names(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def integrity_messages(conn: sqlite3.Connection) -> list[str]:
    """SQLite's integrity check (at most 20 messages): ['ok'] for a sound file."""
    return [r[0] for r in conn.execute("PRAGMA integrity_check(20)")]


def foreign_key_violations(conn: sqlite3.Connection) -> list[tuple]:
    """(table, rowid, parent table, key index) per row that refers to a missing parent."""
    return [tuple(r) for r in conn.execute("PRAGMA foreign_key_check").fetchall()]


def orphan_count(conn: sqlite3.Connection, child: str, column: str, parent: str, parent_column: str) -> int:
    """Rows of `child` whose `column` names no row of `parent` (names come from code, never from input)."""
    return conn.execute(
        f"SELECT count(*) FROM {child} c WHERE c.{column} IS NOT NULL AND NOT EXISTS "
        f"(SELECT 1 FROM {parent} p WHERE p.{parent_column} = c.{column})").fetchone()[0]


def pupils_with_odd_leaving(conn: sqlite3.Connection) -> int:
    """Pupils whose 'active' flag and 'left on' date disagree."""
    return conn.execute("SELECT count(*) FROM pupils WHERE (active = 0) != (left_on IS NOT NULL)").fetchone()[0]


def missing_indexes(conn: sqlite3.Connection) -> list[str]:
    """The indexes the database's schema version should have and it has not (they only cost speed)."""
    have = index_statements(conn)
    return sorted(name for name in expected_indexes(schema_version(conn)) if name not in have)
