"""The workspace database (SQLite): versioned schema, migrations, connections."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from clbhealth.core.errors import listed

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


def connect(path: Path, timeout: float = 30.0, *, create: bool = False) -> sqlite3.Connection:
    """Open the database in autocommit mode; callers open transactions with `transaction()`.

    Without `create`, a missing file is an error (sqlite3.OperationalError), never a new empty database."""
    target = str(path) if create else file_uri(path, "rw")
    conn = sqlite3.connect(target, timeout=timeout, isolation_level=None, uri=not create)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    return conn


def file_uri(path: Path, mode: str) -> str:
    """An SQLite URI for `path` opened in `mode` (ro, rw); works for any file name, on Windows too."""
    return f"{Path(path).resolve().as_uri()}?mode={mode}"


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def table_columns(conn: sqlite3.Connection) -> dict[str, frozenset[str]]:
    """The columns of every table of the database (SQLite's own tables aside)."""
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {name: frozenset(r[0] for r in conn.execute("SELECT name FROM pragma_table_info(?)", (name,)))
            for name in names if not name.startswith("sqlite_")}


@lru_cache(maxsize=None)
def expected_columns(version: int) -> dict[str, frozenset[str]]:
    """The tables and columns a database of schema `version` has: migrations 1..version replayed in memory."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        for script in MIGRATIONS[:version]:
            for statement in _statements(script):
                conn.execute(statement)
        return table_columns(conn)
    finally:
        conn.close()


@lru_cache(maxsize=None)
def expected_indexes(version: int) -> dict[str, str]:
    """The named indexes a database of schema `version` has (name -> its CREATE statement)."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        for script in MIGRATIONS[:version]:
            for statement in _statements(script):
                conn.execute(statement)
        return index_statements(conn)
    finally:
        conn.close()


def index_statements(conn: sqlite3.Connection) -> dict[str, str]:
    """The database's own named indexes (not SQLite's automatic ones), name -> CREATE statement."""
    return {r[0]: r[1] for r in conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")}


@dataclass(frozen=True)
class SchemaState:
    """What a database's schema is: its version label and how its tables differ from that version's."""

    version: int
    missing: tuple[str, ...] = ()  # tables and columns the version should have ("table staff", "column a.b")
    later: tuple[str, ...] = ()  # tables and columns that only a later version has (the label is wrong)
    empty: bool = False  # no tables at all

    @property
    def newer(self) -> bool:
        return self.version > SCHEMA_VERSION

    def problem(self) -> str | None:
        """What is wrong, in words; None for a complete schema of a version this clbhealth knows (or a newer one)."""
        if self.empty:
            return "it is empty: it holds none of the workspace's tables"
        if self.version <= 0:
            return f"its schema version ({self.version}) is unknown: clbhealth never made it"
        if self.newer:
            return None
        if self.missing:
            return "tables or columns are missing: " + _listed(self.missing)
        if self.later:
            return (f"it is labelled schema version {self.version} but has what only a later version has "
                    f"({_listed(self.later)}): the label is wrong")
        return None


def inspect(conn: sqlite3.Connection) -> SchemaState:
    """Compare the database's tables and columns with those of the schema version it is labelled with."""
    version = schema_version(conn)
    actual = table_columns(conn)
    if not actual:
        return SchemaState(version, empty=True)
    if version <= 0 or version > SCHEMA_VERSION:
        return SchemaState(version)
    return SchemaState(version, _difference(expected_columns(version), actual),
                       _difference(actual, expected_columns(version), within=expected_columns(SCHEMA_VERSION)))


def _difference(wanted: dict[str, frozenset[str]], have: dict[str, frozenset[str]],
                within: dict[str, frozenset[str]] | None = None) -> tuple[str, ...]:
    """The tables and columns of `wanted` that `have` lacks (only those also in `within`, when given)."""
    found = []
    for table, columns in sorted(wanted.items()):
        if within is not None and table not in within:
            continue
        if table not in have:
            found.append(f"table {table}")
            continue
        allowed = within.get(table, frozenset()) if within is not None else columns
        found += [f"column {table}.{c}" for c in sorted(columns - have[table]) if c in allowed]
    return tuple(found)


def _listed(items: tuple[str, ...]) -> str:
    return listed(items, at_most=8)


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema to SCHEMA_VERSION, each step in its own transaction. Returns the old version."""
    old = schema_version(conn)
    if old > SCHEMA_VERSION:
        raise newer_schema_error(old)
    if old < 0:
        raise ValueError(f"schema version {old} is unknown")
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
    restore_indexes(conn)
    return old


def lost_indexes(conn: sqlite3.Connection) -> list[str]:
    """The CREATE statements of the indexes the file's schema version has and the file lost."""
    have = index_statements(conn)
    return [sql for name, sql in expected_indexes(schema_version(conn)).items() if name not in have]


def restore_indexes(conn: sqlite3.Connection) -> None:
    """Re-create an index the schema has and the file lost (indexes hold no data, only speed)."""
    lost = lost_indexes(conn)
    if not lost:
        return
    try:
        conn.execute("BEGIN IMMEDIATE")
        for sql in lost:
            conn.execute(sql)
        conn.execute("COMMIT")
    except sqlite3.OperationalError:  # a read-only workspace: it works, only slower
        if conn.in_transaction:
            conn.execute("ROLLBACK")


def newer_schema_error(version: int):
    """The refusal of a database made by a newer clbhealth."""
    from clbhealth.core.errors import ClbError

    return ClbError(
        f"This workspace has schema version {version}, newer than this clbhealth knows ({SCHEMA_VERSION}).",
        hint="Upgrade clbhealth (pip install -U clbhealth) before using this workspace.",
    )


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (our scripts hold no ';' inside literals)."""
    return [s.strip() for s in script.split(";") if s.strip()]
