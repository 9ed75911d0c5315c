"""The vaccination tables (migration 0005): consent forms, lots, doses given and their Vaccinnet registration.

The only SQL of the vaccination commands; callers pass a connection (inside `Workspace.writing` for writes).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Iterable, Sequence

CONSENT_SOURCE = "consent form"


@dataclass(frozen=True)
class PupilKey:
    """What an import needs to know of a pupil to identify it and check dates."""

    pupil_id: int
    birth_date: str
    last_name: str
    first_name: str


@dataclass(frozen=True)
class Form:
    """One returned consent form, as read from a file."""

    pupil_id: int
    code: str
    series: str
    choice: str  # clb, refused, own_doctor, already
    signed_on: str
    signed_by: str  # parent, pupil
    done_on: str | None
    file: str


def pupil_keys(conn: sqlite3.Connection) -> tuple[dict, dict, dict]:
    """Active pupils by pupil id, by INSZ and by (school id, pupil number)."""
    by_id, by_insz, by_number = {}, {}, {}
    for r in conn.execute("SELECT pupil_id, insz, school_id, pupil_number, birth_date, last_name, first_name "
                          "FROM pupils WHERE active = 1"):
        key = PupilKey(int(r["pupil_id"]), r["birth_date"], r["last_name"], r["first_name"])
        by_id[key.pupil_id] = key
        if r["insz"]:
            by_insz[r["insz"]] = key
        if r["pupil_number"]:
            by_number[(r["school_id"], r["pupil_number"])] = key
    return by_id, by_insz, by_number


def current_forms(conn: sqlite3.Connection) -> dict[tuple[int, str], dict]:
    """The form in force per (pupil, series)."""
    return {(r["pupil_id"], r["series"]): dict(r) for r in conn.execute(
        "SELECT * FROM consent_forms WHERE replaced_by IS NULL")}


def store_form(conn: sqlite3.Connection, form: Form, events: Sequence[tuple[str, str, str]], stamp: str,
               replaces: int | None) -> int:
    """Store a form; it replaces the form `replaces` (whose events are removed). `events`: (code, date, status)."""
    cursor = conn.execute(
        "INSERT INTO consent_forms (pupil_id, code, series, choice, signed_on, signed_by, done_on, file, imported_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (form.pupil_id, form.code, form.series, form.choice, form.signed_on, form.signed_by, form.done_on,
         form.file, stamp))
    form_id = int(cursor.lastrowid)
    if replaces is not None:
        conn.execute("UPDATE consent_forms SET replaced_by = ? WHERE form_id = ?", (form_id, replaces))
        conn.execute("DELETE FROM events WHERE pupil_id = ? AND source = ?",
                     (form.pupil_id, f"{CONSENT_SOURCE} {replaces}"))
    conn.executemany(
        "INSERT OR IGNORE INTO events (pupil_id, code, date, status, staff_id, source, imported_at) "
        "VALUES (?, ?, ?, ?, '', ?, ?)",
        [(form.pupil_id, code, day, status, f"{CONSENT_SOURCE} {form_id}", stamp) for code, day, status in events])
    return form_id


def store_superseded_form(conn: sqlite3.Connection, form: Form, stamp: str, by: int) -> None:
    """Keep an older form that arrived late: on record, replaced at once by the newer one in force."""
    conn.execute(
        "INSERT INTO consent_forms (pupil_id, code, series, choice, signed_on, signed_by, done_on, file, imported_at, "
        "replaced_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (form.pupil_id, form.code, form.series, form.choice, form.signed_on, form.signed_by, form.done_on,
         form.file, stamp, by))


def series_events(conn: sqlite3.Connection, pupil_ids: Iterable[int], codes: Sequence[str]) -> dict[int, list]:
    """Consent and dose events of these pupils for these codes: pupil -> [(date, status, code, source)] by date."""
    ids = sorted(set(pupil_ids))
    found: dict[int, list] = {i: [] for i in ids}
    if not ids or not codes:
        return found
    for chunk in range(0, len(ids), 500):
        part = ids[chunk:chunk + 500]
        rows = conn.execute(
            f"SELECT pupil_id, date, status, code, source FROM events WHERE pupil_id IN ({','.join('?' * len(part))}) "
            f"AND code IN ({','.join('?' * len(codes))}) AND status IN "
            "('done', 'done_external', 'consent_given', 'consent_refused') ORDER BY date, event_id",
            (*part, *codes))
        for r in rows:
            found[int(r["pupil_id"])].append((r["date"], r["status"], r["code"], r["source"] or ""))
    return found


# --- lots ------------------------------------------------------------------------------------------


def load_lots(conn: sqlite3.Connection) -> dict[tuple[str, str], dict]:
    """(product, lot) -> {expiry, doses, used}: `used` counts the doses given from the lot."""
    used = {(r[0], r[1]): r[2] for r in conn.execute(
        "SELECT product, lot, count(*) FROM doses WHERE given = 1 GROUP BY product, lot")}
    return {(r["product"], r["lot"]): {"expiry": r["expiry"], "doses": r["doses"],
                                       "used": used.get((r["product"], r["lot"]), 0)}
            for r in conn.execute("SELECT product, lot, expiry, doses FROM lots ORDER BY product, expiry, lot")}


def store_lots(conn: sqlite3.Connection, lots: Sequence[tuple[str, str, str, int | None]], stamp: str) -> dict:
    """Add or update lots (product, lot, expiry, doses); returns counts new / updated / unchanged."""
    existing = load_lots(conn)
    counts = {"new": 0, "updated": 0, "unchanged": 0}
    for product, lot, expiry, doses in lots:
        old = existing.get((product, lot))
        if old is None:
            counts["new"] += 1
        elif (old["expiry"], old["doses"]) == (expiry, doses):
            counts["unchanged"] += 1
            continue
        else:
            counts["updated"] += 1
        conn.execute("INSERT INTO lots (product, lot, expiry, doses, imported_at) VALUES (?, ?, ?, ?, ?) "
                     "ON CONFLICT (product, lot) DO UPDATE SET expiry = excluded.expiry, doses = excluded.doses, "
                     "imported_at = excluded.imported_at", (product, lot, expiry, doses, stamp))
    return counts


# --- doses and registration --------------------------------------------------------------------------


def staff_riziv(conn: sqlite3.Connection) -> dict[str, str | None]:
    return {r["staff_id"]: r["riziv"] for r in conn.execute("SELECT staff_id, riziv FROM staff")}


def store_dose(conn: sqlite3.Connection, key: tuple[str, int, str], day: str, given: bool, product: str | None,
               lot: str | None, vaccinator: str | None, why_not: str | None, stamp: str) -> None:
    """Record (or replace) what happened to one planned dose; a dose already registered keeps its mark."""
    session_id, pupil_id, moment = key
    old = conn.execute("SELECT given, product, lot, vaccinator, registered_at FROM doses "
                       "WHERE session_id = ? AND pupil_id = ? AND moment = ?", key).fetchone()
    registered = old["registered_at"] if old is not None and (old["given"], old["product"], old["lot"],
                                                               old["vaccinator"]) == (int(given), product, lot,
                                                                                       vaccinator) else None
    conn.execute("DELETE FROM doses WHERE session_id = ? AND pupil_id = ? AND moment = ?", key)
    conn.execute("INSERT INTO doses (session_id, pupil_id, moment, date, given, product, lot, vaccinator, why_not, "
                 "registered_at, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 (session_id, pupil_id, moment, day, int(given), product, lot, vaccinator, why_not, registered, stamp))


def clear_dose(conn: sqlite3.Connection, key: tuple[str, int, str]) -> None:
    conn.execute("DELETE FROM doses WHERE session_id = ? AND pupil_id = ? AND moment = ?", key)


def doses_to_register(conn: sqlite3.Connection, date_from: str | None, date_to: str | None,
                      again: bool) -> list[dict]:
    """Doses given in CLB sessions in the date range, not yet registered (or all of them with `again`)."""
    sql = ("SELECT d.session_id, d.pupil_id, d.moment, d.date, d.product, d.lot, d.vaccinator, d.registered_at, "
           "p.insz, p.last_name, p.first_name, p.birth_date, p.sex, s.riziv, l.expiry "
           "FROM doses d JOIN pupils p ON p.pupil_id = d.pupil_id "
           "LEFT JOIN staff s ON s.staff_id = d.vaccinator "
           "LEFT JOIN lots l ON l.product = d.product AND l.lot = d.lot WHERE d.given = 1")
    params: list = []
    if date_from:
        sql += " AND d.date >= ?"
        params.append(date_from)
    if date_to:
        sql += " AND d.date <= ?"
        params.append(date_to)
    if not again:
        sql += " AND d.registered_at IS NULL"
    return [dict(r) for r in conn.execute(sql + " ORDER BY d.date, d.session_id, p.last_name, p.first_name", params)]


def mark_registered(conn: sqlite3.Connection, keys: Sequence[tuple[str, int, str]], stamp: str) -> None:
    conn.executemany("UPDATE doses SET registered_at = ? WHERE session_id = ? AND pupil_id = ? AND moment = ?",
                     [(stamp, *k) for k in keys])


def planned_doses(conn: sqlite3.Connection, codes: Sequence[str], date_from: str | None,
                  date_to: str | None) -> list[dict]:
    """Planned pupil-doses of the current plan (date, moment, pupil) in the date range, for the order list."""
    sql = ("SELECT s.date, sp.moment, sp.pupil_id FROM session_pupils sp JOIN sessions s ON s.session_id = sp.session_id "
           f"WHERE sp.moment IN ({','.join('?' * len(codes))})")
    params: list = list(codes)
    if date_from:
        sql += " AND s.date >= ?"
        params.append(date_from)
    if date_to:
        sql += " AND s.date <= ?"
        params.append(date_to)
    return [dict(r) for r in conn.execute(sql + " ORDER BY s.date", params)] if codes else []


def session_doses(conn: sqlite3.Connection, session_id: str) -> dict[tuple[int, str], dict]:
    """What import results recorded for a session: (pupil, moment) -> dose row."""
    return {(r["pupil_id"], r["moment"]): dict(r) for r in conn.execute(
        "SELECT * FROM doses WHERE session_id = ?", (session_id,))}
