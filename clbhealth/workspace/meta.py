"""Small named values the workspace keeps about itself (table `meta`): demo marker, weekly runs."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def get(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else row[0]


def put(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                 (key, value))


def get_in_file(path: Path, key: str) -> str | None:
    """The value of `key` in the database file at `path`; None when it is not there or the file is no
    readable workspace database."""
    from clbhealth.workspace.schema import file_uri

    try:  # read-only: looking never creates or changes the file
        conn = sqlite3.connect(file_uri(path, "ro"), uri=True)
        try:
            return get(conn, key)
        finally:
            conn.close()
    except sqlite3.Error:
        return None

