"""The plan tables: the only place that reads or writes sessions, their staff and pupils, plans and
unplanned work. Plain rows in and out; the planning use case (app/plan*.py) gives them meaning."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections import defaultdict

import pandas as pd

from clbhealth.workspace.folder import Workspace, now_text
from clbhealth.workspace.pupils import load_events, load_pupils


# --- what planning reads -------------------------------------------------------------------------


def read_planning_rows(workspace: Workspace) -> dict:
    """Everything a plan is made from, read in one go: staff, schools, absences, closures, pupils,
    history and the current plan's sessions (with their staff and pupils)."""
    with workspace.connect() as conn:
        return {
            "staff": [dict(r) for r in conn.execute(
                "SELECT staff_id, name, role, base_lat, base_lon, availability, schools "
                "FROM staff WHERE active = 1 ORDER BY staff_id")],
            "schools": [dict(r) for r in conn.execute("SELECT school_id, name, lat, lon, level, listed FROM schools")],
            "absences": [dict(r) for r in conn.execute("SELECT staff_id, date_from, date_to, part FROM absences")],
            "closures": [dict(r) for r in conn.execute("SELECT school_id, date_from, date_to, part FROM closures")],
            "pupils": load_pupils(conn),
            "events": load_events(conn),
            "sessions": read_session_rows(conn),
        }


def read_session_rows(conn: sqlite3.Connection) -> dict[str, dict]:
    """The stored sessions: session_id -> {date, part, school_id, kind, staff {role: id}, pupils {(pupil, moment): outcome}}."""
    sessions: dict[str, dict] = {}
    for r in conn.execute("SELECT session_id, date, part, start, school_id, kind, announced_on FROM sessions"):
        sessions[r["session_id"]] = {"date": dt.date.fromisoformat(r["date"]), "part": r["part"],
                                     "start": r["start"], "school_id": r["school_id"], "kind": r["kind"],
                                     "staff": {}, "pupils": {}, "announced_on": r["announced_on"]}
    for r in conn.execute("SELECT session_id, staff_id, role FROM session_staff"):
        if r["session_id"] in sessions:  # orphans (a damaged workspace) are for `clbhealth doctor`
            sessions[r["session_id"]]["staff"][r["role"]] = r["staff_id"]
    for r in conn.execute("SELECT session_id, pupil_id, moment, outcome FROM session_pupils"):
        if r["session_id"] in sessions:
            sessions[r["session_id"]]["pupils"][(r["pupil_id"], r["moment"])] = r["outcome"]
    return sessions


def read_check_rows(workspace: Workspace) -> dict:
    """The stored plan and every input its hard rules refer to, as plain rows (for `plan check`)."""
    with workspace.connect() as conn:
        return {
            "sessions": [dict(r) for r in conn.execute("SELECT * FROM sessions")],
            "session_staff": [dict(r) for r in conn.execute(
                "SELECT session_id, staff_id, role, travel_minutes FROM session_staff")],
            "session_pupils": [dict(r) for r in conn.execute(
                "SELECT session_id, pupil_id, moment, minutes, outcome, roles FROM session_pupils")],
            "staff": {r["staff_id"]: {"role": r["role"], "availability": set(r["availability"].split()),
                                      "active": bool(r["active"])}
                      for r in conn.execute("SELECT staff_id, role, availability, active FROM staff")},
            "absences": [(r[0], dt.date.fromisoformat(r[1]), dt.date.fromisoformat(r[2]), r[3])
                         for r in conn.execute("SELECT staff_id, date_from, date_to, part FROM absences")],
            "closures": [(r[0], dt.date.fromisoformat(r[1]), dt.date.fromisoformat(r[2]), r[3])
                         for r in conn.execute("SELECT school_id, date_from, date_to, part FROM closures")],
            "pupils": {r[0]: {"school_id": r[1], "birth_date": dt.date.fromisoformat(r[2]), "active": bool(r[3])}
                       for r in conn.execute("SELECT pupil_id, school_id, birth_date, active FROM pupils")},
            "events": [dict(r) for r in conn.execute("SELECT pupil_id, code, date, status, staff_id FROM events")],
        }


# --- storing -------------------------------------------------------------------------------------


def store_plan(workspace: Workspace, plan: dict, replaced: list[str], sessions: list[dict],
               unplanned: list[tuple], summary: dict, counts: dict) -> tuple[int, list[str]]:
    """Store a plan in one transaction: the `replaced` sessions go, `sessions` come (a session
    without an id gets the next free one, in order), with the unplanned rows and the summary.
    Returns the plan id and every session's id."""
    with workspace.writing("plan") as write:
        conn = write.conn
        number = int((conn.execute("SELECT value FROM meta WHERE key = 'next_session'").fetchone() or ["1"])[0])
        # Never reuse a number a stored session has (the counter may lag behind, e.g. after a restore).
        highest = conn.execute("SELECT max(CAST(substr(session_id, 2) AS INTEGER)) FROM sessions "
                               "WHERE session_id GLOB 'S[0-9]*'").fetchone()[0]
        number = max(number, (highest or 0) + 1)
        plan_id = conn.execute(
            "INSERT INTO plans (created_at, date_from, date_to, seed, time_limit, workers, keep_until) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (now_text(), plan["date_from"], plan["date_to"], plan["seed"], plan["time_limit"], plan["workers"],
             plan["keep_until"])).lastrowid
        conn.executemany("DELETE FROM sessions WHERE session_id = ?", [(sid,) for sid in replaced])
        ids = []
        for session in sessions:
            sid = session["session_id"]
            if sid is None:
                sid, number = f"S{number:06d}", number + 1
            ids.append(sid)
            _insert_session(conn, plan_id, sid, session)
        conn.executemany("INSERT OR IGNORE INTO unplanned (plan_id, pupil_id, moment, school_id, reason) "
                         "VALUES (?, ?, ?, ?, ?)", [(plan_id, *row) for row in unplanned])
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('next_session', ?)", (str(number),))
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('current_plan', ?)", (str(plan_id),))
        conn.execute("UPDATE plans SET summary = ? WHERE plan_id = ?", (json.dumps(summary), plan_id))
        write.counts.update(counts)
    return plan_id, ids


def _insert_session(conn: sqlite3.Connection, plan_id: int, sid: str, s: dict) -> None:
    conn.execute(
        "INSERT INTO sessions (session_id, plan_id, date, part, start, end, school_id, minutes, moments, classes, "
        "kind, created_at, parts, announced_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (sid, plan_id, s["date"], s["part"], s["start"], s["end"], s["school_id"], s["minutes"],
         json.dumps(s["moments"]), json.dumps(s["classes"]), s["kind"], now_text(), json.dumps(s["parts"]),
         s["announced_on"]))
    conn.executemany(
        "INSERT INTO session_staff (session_id, staff_id, role, travel_km, travel_minutes) VALUES (?, ?, ?, ?, ?)",
        [(sid, *row) for row in s["staff"]])
    conn.executemany("INSERT INTO session_pupils (session_id, pupil_id, moment, minutes, seq, start, roles) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)", [(sid, *row) for row in s["pupils"]])


# --- reading the stored plan -------------------------------------------------------------------


def load_plan_frame(conn: sqlite3.Connection, schools: list[str] | None = None, staff: str | None = None) -> pd.DataFrame:
    """One row per session with its staff and pupils (ids), as `plan show` prints it."""
    sql = "SELECT s.* FROM sessions s"
    params: list = []
    clauses = []
    if schools:
        clauses.append(f"s.school_id IN ({','.join('?' * len(schools))})")
        params.extend(schools)
    if staff:
        clauses.append("s.session_id IN (SELECT session_id FROM session_staff WHERE staff_id = ?)")
        params.append(staff)
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    sql += " ORDER BY s.date, s.part, s.school_id, s.session_id"
    sessions = [dict(r) for r in conn.execute(sql, params)]
    staff_of: dict[str, list[str]] = defaultdict(list)
    for r in conn.execute("SELECT session_id, staff_id FROM session_staff ORDER BY role, staff_id"):
        staff_of[r[0]].append(r[1])
    pupils_of: dict[str, list[int]] = defaultdict(list)
    moments_of: dict[tuple[str, int], list[str]] = defaultdict(list)
    for r in conn.execute("SELECT session_id, pupil_id, moment FROM session_pupils ORDER BY seq"):
        if r[1] not in pupils_of[r[0]]:
            pupils_of[r[0]].append(r[1])
        moments_of[(r[0], r[1])].append(r[2])
    roles_of: dict[str, list[str]] = defaultdict(list)
    for r in conn.execute("SELECT session_id, role FROM session_staff ORDER BY role"):
        roles_of[r[0]].append(r[1])
    rows = []
    for s in sessions:
        rows.append({
            "session_id": s["session_id"], "date": s["date"], "start": s["start"], "end": s["end"],
            "school_id": s["school_id"], "staff_ids": staff_of[s["session_id"]],
            "moments": json.loads(s["moments"]), "classes": json.loads(s["classes"]),
            "pupil_ids": pupils_of[s["session_id"]], "minutes": s["minutes"], "kind": s["kind"],
            # Which role's part of which moment the session does (older plans: every role of the session).
            "parts": json.loads(s["parts"]) if s.get("parts") else
            [{"moment": m, "role": r} for m in json.loads(s["moments"]) for r in roles_of[s["session_id"]]],
            "pupils": [{"pupil_id": p, "moments": moments_of[(s["session_id"], p)]} for p in pupils_of[s["session_id"]]],
        })
    columns = ["session_id", "date", "start", "end", "school_id", "staff_ids", "moments", "classes", "pupil_ids",
               "minutes", "kind", "parts", "pupils"]
    return pd.DataFrame(rows, columns=columns)


def read_explain_rows(conn: sqlite3.Connection, plan_id: int) -> dict:
    """What `plan explain` reads: the plan's unplanned rows, sessions, staff, bookings, absences, closures."""
    booked: dict[str, set] = defaultdict(set)
    for r in conn.execute("SELECT ss.staff_id, s.date, s.part FROM session_staff ss JOIN sessions s "
                          "ON s.session_id = ss.session_id"):
        booked[r[0]].add((r[1], r[2]))
    staff_of: dict[str, list[str]] = defaultdict(list)
    for r in conn.execute("SELECT session_id, staff_id FROM session_staff"):
        staff_of[r[0]].append(r[1])
    return {
        "unplanned": [dict(r) for r in conn.execute(
            "SELECT pupil_id, moment, school_id, reason FROM unplanned WHERE plan_id = ?", (plan_id,))],
        "sessions": [dict(r) for r in conn.execute("SELECT session_id, date, part, school_id, moments FROM sessions")],
        "staff": [dict(r) for r in conn.execute("SELECT staff_id, role, availability FROM staff WHERE active = 1")],
        "all_staff": [dict(r) for r in conn.execute("SELECT staff_id, role FROM staff")],
        "booked": booked,
        "absences": [(r[0], dt.date.fromisoformat(r[1]), dt.date.fromisoformat(r[2]), r[3])
                     for r in conn.execute("SELECT staff_id, date_from, date_to, part FROM absences")],
        "closures": [(r[0], dt.date.fromisoformat(r[1]), dt.date.fromisoformat(r[2]), r[3])
                     for r in conn.execute("SELECT school_id, date_from, date_to, part FROM closures")],
        "staff_of": staff_of,
    }


def current_summary(conn: sqlite3.Connection) -> dict | None:
    """The latest plan's stored summary with its plan_id; `period` comes from the plan's own dates
    when the summary lacks it (an older plan, a partial or unreadable summary). None without a plan."""
    row = conn.execute("SELECT plan_id, date_from, date_to, summary FROM plans "
                       "ORDER BY plan_id DESC LIMIT 1").fetchone()
    if row is None:
        return None
    try:
        summary = json.loads(row["summary"] or "{}")
    except ValueError:
        summary = {}
    if not isinstance(summary, dict):
        summary = {}
    period = summary.get("period")
    if not (isinstance(period, (list, tuple)) and len(period) == 2 and all(isinstance(d, str) for d in period)):
        summary["period"] = [row["date_from"], row["date_to"]]
    summary["plan_id"] = row["plan_id"]
    return summary


__all__ = ["read_planning_rows", "read_check_rows", "store_plan", "load_plan_frame", "read_explain_rows",
           "current_summary"]
