"""A read-only workspace (its database file, its folder or the disk) said in one line, and before a
command writes anything: never "restore from a backup" for a database that is merely read-only, and
never files published by an export that then cannot record itself ("nothing was changed")."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from clbhealth.core.errors import ClbError
from clbhealth.workspace import meta

SQLITE_READONLY = 8  # the primary result code of every SQLITE_READONLY_* failure
SQLITE_CANTOPEN = 14
PROBE_KEY = "write_probe"
HINT = ("Make the workspace folder and clbhealth.sqlite writable for you (or copy the workspace to a "
        "writable disk), then run the command again.")


def read_only_error(root: Path, doing: str = "this command records what it does there") -> ClbError:
    return ClbError(f"The workspace {root} is read-only (clbhealth.sqlite, its folder or the disk): {doing}; "
                    "nothing was written.", hint=HINT)


def looks_read_only(root: Path) -> bool:
    """Whether the workspace folder, or its database file, may not be written (the system says so)."""
    database = Path(root) / "clbhealth.sqlite"
    return not os.access(root, os.W_OK) or (database.exists() and not os.access(database, os.W_OK))


def is_read_only_failure(exc: sqlite3.Error) -> bool:
    """Whether SQLite failed because the file, its folder or the disk is read-only."""
    code = getattr(exc, "sqlite_errorcode", None)
    return (code is not None and code & 0xFF == SQLITE_READONLY) or "readonly" in str(exc).replace("-", "")


def cannot_open_because_read_only(root: Path, exc: sqlite3.Error) -> bool:
    """A database SQLite cannot open in a read-only folder (it needs to make its -shm file beside it)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return (is_read_only_failure(exc) or code is None or code & 0xFF == SQLITE_CANTOPEN) and looks_read_only(root)


def require_writable(conn: sqlite3.Connection, root: Path) -> None:
    """Refuse now when the database cannot take a change: one change made and undone."""
    try:
        conn.execute("BEGIN IMMEDIATE")
        meta.put(conn, PROBE_KEY, "")
    except sqlite3.Error as exc:
        if is_read_only_failure(exc) or looks_read_only(root):
            raise read_only_error(root) from None
        raise
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
