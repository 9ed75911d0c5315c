"""Who works when: the staff list, staff absences and school closures."""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Iterable, Sequence

# A period: (staff id or school id, first day, last day, part: 'vm', 'nm' or None for the whole day).
Period = tuple[str, dt.date, dt.date, "str | None"]
PERIOD_TABLES = ("absences", "closures")


def staff_rows(conn: sqlite3.Connection, columns: Sequence[str]) -> dict[str, dict]:
    """staff id -> row (staff_id, active and `columns`) of everybody ever listed."""
    return {r["staff_id"]: dict(r) for r in conn.execute(f"SELECT staff_id, active, {', '.join(columns)} FROM staff")}


def staff_ids(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT staff_id FROM staff")}


def staff_names(conn: sqlite3.Connection) -> dict[str, str]:
    return {r[0]: r[1] for r in conn.execute("SELECT staff_id, name FROM staff")}


def people(conn: sqlite3.Connection) -> dict[str, tuple[str, str, int]]:
    """staff id -> (name, role, active), in staff id order."""
    return {r["staff_id"]: (r["name"], r["role"], r["active"]) for r in
            conn.execute("SELECT staff_id, name, role, active FROM staff ORDER BY staff_id")}


def add_person(conn: sqlite3.Connection, staff_id: str, columns: Sequence[str], values: Sequence, stamp: str) -> None:
    marks = ", ".join("?" * (len(columns) + 2))
    conn.execute(f"INSERT INTO staff (staff_id, {', '.join(columns)}, updated_at) VALUES ({marks})",
                 (staff_id, *values, stamp))


def update_person(conn: sqlite3.Connection, staff_id: str, columns: Sequence[str], values: Sequence,
                  stamp: str) -> None:
    """Store a person listed again (so active)."""
    conn.execute(f"UPDATE staff SET {', '.join(f'{c} = ?' for c in columns)}, active = 1, updated_at = ? "
                 "WHERE staff_id = ?", (*values, stamp, staff_id))


def deactivate_person(conn: sqlite3.Connection, staff_id: str, stamp: str) -> None:
    conn.execute("UPDATE staff SET active = 0, updated_at = ? WHERE staff_id = ?", (stamp, staff_id))


def add_periods(conn: sqlite3.Connection, table: str, columns: Sequence[str], rows: Iterable[tuple], stamp: str,
                *, replace: bool) -> tuple[int, int]:
    """Add absences or closures (`replace`: after removing all); one already known is left as it is.
    Returns (rows added, rows removed)."""
    if table not in PERIOD_TABLES:
        raise ValueError(f"not a table of periods: {table}")
    removed = conn.execute(f"DELETE FROM {table}").rowcount if replace else 0
    before = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    conn.executemany(f"INSERT OR IGNORE INTO {table} ({', '.join(columns)}, imported_at) "
                     f"VALUES ({', '.join('?' * (len(columns) + 1))})", [(*r, stamp) for r in rows])
    return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] - before, removed


def load_absences(conn: sqlite3.Connection) -> list[Period]:
    """Every staff absence as (staff id, first day, last day, part)."""
    return _periods(conn, "SELECT staff_id, date_from, date_to, part FROM absences")


def load_closures(conn: sqlite3.Connection) -> list[Period]:
    """Every school closure as (school id, first day, last day, part)."""
    return _periods(conn, "SELECT school_id, date_from, date_to, part FROM closures")


def _periods(conn: sqlite3.Connection, sql: str) -> list[Period]:
    return [(r[0], dt.date.fromisoformat(r[1]), dt.date.fromisoformat(r[2]), r[3]) for r in conn.execute(sql)]


STAFF_LIST_COLUMNS = ("staff_id", "name", "role", "active", "base", "base_lat", "base_lon", "availability", "schools")
STAFF_HINT = "`clbhealth staff` lists the staff ids; import the staff list with `clbhealth import staff FILE`."


def list_staff(conn: sqlite3.Connection, include_inactive: bool = False, role: str | None = None) -> list[dict]:
    """The staff list for `clbhealth staff` (STAFF_LIST_COLUMNS), in staff id order: only those on the
    last imported list unless `include_inactive`. `base` says where their travel starts: 'own' (their
    base_lat/base_lon) or 'office' (the CLB office of clbhealth.toml)."""
    sql = "SELECT staff_id, name, role, active, base_lat, base_lon, availability, schools FROM staff"
    rows = []
    for r in conn.execute(sql + " ORDER BY staff_id"):
        row = dict(zip(("staff_id", "name", "role", "active", "base_lat", "base_lon", "availability", "schools"),
                       tuple(r)))
        if (not include_inactive and not row["active"]) or (role is not None and row["role"] != role):
            continue
        row["active"] = bool(row["active"])
        row["base"] = "own" if row["base_lat"] is not None and row["base_lon"] is not None else "office"
        rows.append({c: row[c] for c in STAFF_LIST_COLUMNS})
    return rows


def resolve_staff_id(conn: sqlite3.Connection, staff_id: str) -> str:
    """A --staff value checked against the staff list; an unknown id is refused with the closest known ones."""
    from clbhealth.core.closest import unknown_id_message
    from clbhealth.core.errors import ClbError

    known = staff_ids(conn)
    if staff_id in known:
        return staff_id
    raise ClbError(unknown_id_message(f"--staff {staff_id}: no such person on the staff list", staff_id, known),
                   hint=STAFF_HINT)
