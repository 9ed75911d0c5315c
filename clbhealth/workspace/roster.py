"""The pupils table row by row: what the roster and history imports match against and write,
leaving, and purging pupils who left (the bulk reads for the due list are in pupils.py)."""

from __future__ import annotations

import sqlite3
from typing import Iterable, Iterator, Sequence

# Rows that belong to a pupil, deleted before the pupil (table, what the rows are).
PUPIL_ROWS = (
    ("events", "history events"),
    ("session_pupils", "planned contacts"),
    ("unplanned", "unplanned rows"),
)
_LEFT_BEFORE = "SELECT pupil_id FROM pupils WHERE active = 0 AND left_on IS NOT NULL AND left_on < ?"


def pupils_at_schools(conn: sqlite3.Connection, schools: Sequence[str], columns: Sequence[str]) -> dict[int, dict]:
    """pupil id -> row (pupil_id, active and `columns`) of every pupil, active or not, of `schools`."""
    return _pupils_where(conn, "school_id", schools, columns)


def pupils_with_insz(conn: sqlite3.Connection, numbers: Sequence[str], columns: Sequence[str]) -> dict[int, dict]:
    """pupil id -> row (pupil_id, active and `columns`) of the pupils with these INSZ numbers."""
    return _pupils_where(conn, "insz", numbers, columns)


def _pupils_where(conn: sqlite3.Connection, key: str, values: Sequence[str], columns: Sequence[str]) -> dict[int, dict]:
    selected = "pupil_id, active, " + ", ".join(columns)
    found: dict[int, dict] = {}
    for chunk in _chunks(list(values), 500):
        marks = ",".join("?" * len(chunk))
        for r in conn.execute(f"SELECT {selected} FROM pupils WHERE {key} IN ({marks})", chunk):
            found[r["pupil_id"]] = dict(r)
    return found


def insert_pupils(conn: sqlite3.Connection, columns: Sequence[str], rows: Iterable[tuple]) -> None:
    """New pupils: each row holds `columns`, then first_imported and updated_at."""
    placeholders = ", ".join("?" * (len(columns) + 2))
    conn.executemany(
        f"INSERT INTO pupils ({', '.join(columns)}, first_imported, updated_at) VALUES ({placeholders})", rows)


def update_pupils(conn: sqlite3.Connection, columns: Sequence[str], rows: Iterable[tuple]) -> None:
    """Known pupils, listed again (so active): each row holds `columns`, updated_at, then pupil_id."""
    conn.executemany(
        f"UPDATE pupils SET {', '.join(f'{k} = ?' for k in columns)}, active = 1, left_on = NULL, updated_at = ? "
        "WHERE pupil_id = ?", rows)


def mark_left(conn: sqlite3.Connection, rows: Iterable[tuple]) -> None:
    """Pupils no longer listed: rows of (left on, updated_at, pupil_id)."""
    conn.executemany("UPDATE pupils SET active = 0, left_on = ?, updated_at = ? WHERE pupil_id = ?", rows)


def ids_by_insz(conn: sqlite3.Connection) -> dict[str, tuple[int, str]]:
    """INSZ -> (pupil id, birth date) of every pupil with an INSZ."""
    return {r[0]: (r[1], r[2]) for r in conn.execute(
        "SELECT insz, pupil_id, birth_date FROM pupils WHERE insz IS NOT NULL")}


def ids_by_number(conn: sqlite3.Connection) -> dict[tuple[str, str], tuple[int, str]]:
    """(school id, pupil number) -> (pupil id, birth date); an active pupil wins over a left one."""
    return {(r[0], r[1]): (r[2], r[3]) for r in conn.execute(
        "SELECT school_id, pupil_number, pupil_id, birth_date FROM pupils WHERE pupil_number IS NOT NULL "
        "ORDER BY active")}


def pupil_ids(conn: sqlite3.Connection) -> set[int]:
    return {r[0] for r in conn.execute("SELECT pupil_id FROM pupils")}


def max_pupil_id(conn: sqlite3.Connection) -> int:
    """The highest pupil id given so far (ids only grow)."""
    return conn.execute("SELECT COALESCE(MAX(pupil_id), 0) FROM pupils").fetchone()[0]


def active_pupils(conn: sqlite3.Connection) -> dict[int, dict]:
    """pupil id -> school_id, last_name, first_name, class_name, birth_date, first_imported of the active pupils."""
    return {int(r["pupil_id"]): dict(r) for r in conn.execute(
        "SELECT pupil_id, school_id, last_name, first_name, class_name, birth_date, first_imported "
        "FROM pupils WHERE active = 1")}


def left_per_school(conn: sqlite3.Connection, day: str) -> list[dict]:
    """[{school_id, pupils}] of the pupils marked as left before `day` (ISO), by school."""
    return [{"school_id": r[0], "pupils": r[1]} for r in conn.execute(
        "SELECT school_id, count(*) FROM pupils WHERE active = 0 AND left_on IS NOT NULL AND left_on < ? "
        "GROUP BY school_id ORDER BY school_id", (day,))]


def delete_left(conn: sqlite3.Connection, day: str) -> tuple[dict[str, int], int]:
    """Delete the pupils who left before `day` with their rows, overwriting what is deleted (secure_delete).
    Returns (table -> rows removed, pupils removed)."""
    conn.execute("PRAGMA secure_delete = ON")  # overwrite what is deleted, do not just unlink it
    rows = {table: conn.execute(f"DELETE FROM {table} WHERE pupil_id IN ({_LEFT_BEFORE})", (day,)).rowcount
            for table, _ in PUPIL_ROWS}
    return rows, conn.execute(f"DELETE FROM pupils WHERE pupil_id IN ({_LEFT_BEFORE})", (day,)).rowcount


def empty_write_ahead_log(conn: sqlite3.Connection) -> None:
    """Write the log into the database and empty it; quietly leaves it when another reader holds it."""
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    except Exception:  # another reader keeps the log; SQLite empties it later
        pass


def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
