"""Reading the workspace database into DataFrames (the I/O edge of the pure due logic)."""

from __future__ import annotations

import sqlite3
from typing import Sequence

import pandas as pd

PUPIL_COLUMNS = ("pupil_id", "last_name", "first_name", "school_id", "class_name", "grade", "education",
                 "birth_date", "sex")
EVENT_COLUMNS = ("pupil_id", "code", "date", "status", "staff_id")


def _frame(cursor: sqlite3.Cursor, columns: Sequence[str]) -> pd.DataFrame:
    rows = cursor.fetchall()
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    data = list(zip(*rows))
    return pd.DataFrame({c: pd.Series(v, dtype="int64" if c == "pupil_id" else object)
                         for c, v in zip(columns, data)})


def load_pupils(conn: sqlite3.Connection, schools: Sequence[str] | None = None) -> pd.DataFrame:
    """Active pupils, ordered by school, class and name."""
    sql = f"SELECT {', '.join(PUPIL_COLUMNS)} FROM pupils WHERE active = 1"
    params: list = []
    if schools:
        sql += f" AND school_id IN ({','.join('?' * len(schools))})"
        params = list(schools)
    frame = _frame(conn.execute(sql, params), PUPIL_COLUMNS)
    if len(frame):
        frame = frame.sort_values(["school_id", "class_name", "last_name", "first_name", "pupil_id"],
                                  kind="stable", na_position="first").reset_index(drop=True)
    return frame


def load_events(conn: sqlite3.Connection, schools: Sequence[str] | None = None) -> pd.DataFrame:
    """History events (of active pupils, optionally of some schools)."""
    sql = (f"SELECT {', '.join('e.' + c for c in EVENT_COLUMNS)} FROM events e "
           "JOIN pupils p ON p.pupil_id = e.pupil_id WHERE p.active = 1")
    params: list = []
    if schools:
        sql += f" AND p.school_id IN ({','.join('?' * len(schools))})"
        params = list(schools)
    return _frame(conn.execute(sql, params), EVENT_COLUMNS)


def load_schools(conn: sqlite3.Connection) -> pd.DataFrame:
    cursor = conn.execute(
        "SELECT school_id, name, street, postcode, municipality, lat, lon, level FROM schools ORDER BY school_id")
    return _frame(cursor, ("school_id", "name", "street", "postcode", "municipality", "lat", "lon", "level"))


def known_school_ids(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT school_id FROM schools")}
