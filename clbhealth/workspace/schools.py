"""The schools table as the roster import and the benchmark instances use it (the school-list import
writes its own rows; `pupils.py` has the school ids and sites the due list and exports read)."""

from __future__ import annotations

import sqlite3
from typing import Iterable

SCHOOL_COLUMNS = ("school_id", "name", "street", "postcode", "municipality", "lat", "lon", "level", "updated_at")


def school_levels(conn: sqlite3.Connection) -> dict[str, str | None]:
    """school id -> level (basis, secundair, buitengewoon, ...) of every known school."""
    return {r["school_id"]: r["level"] for r in conn.execute("SELECT school_id, level FROM schools")}


def add_schools(conn: sqlite3.Connection, rows: Iterable[tuple]) -> None:
    """New schools, each row holding SCHOOL_COLUMNS in order."""
    conn.executemany(f"INSERT INTO schools ({', '.join(SCHOOL_COLUMNS)}) VALUES ({', '.join('?' * len(SCHOOL_COLUMNS))})",
                     rows)
