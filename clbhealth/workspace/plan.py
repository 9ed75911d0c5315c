"""The plan tables: the only place that reads or writes sessions, their staff and pupils, and plans."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field

import pandas as pd

from clbhealth.scheduler.calendar import HalfDay
from clbhealth.scheduler.demand import MomentSpec
from clbhealth.scheduler.model import Placement, PlanningProblem, Visit
from clbhealth.scheduler.metrics import plan_metrics
from clbhealth.scheduler.solve import PlanResult, SolveOptions
from clbhealth.workspace.folder import Workspace, now_text


@dataclass
class OldSession:
    session_id: str
    half: HalfDay
    school_id: str
    staff: dict[str, str]  # role -> staff_id
    pupils: dict[tuple[int, str], str | None]  # (pupil, moment) -> outcome
    kind: str


@dataclass
class PlanContext:
    """What saving and summarising the plan needs beyond the problem itself."""

    as_of: dt.date
    date_from: dt.date
    date_to: dt.date
    keep_until: dt.date | None
    specs: dict[str, MomentSpec]
    pupils: dict[int, dict]
    old_sessions: dict[str, OldSession]  # sessions that may change
    pinned_sessions: set[str]
    due_per_moment: dict[str, int]
    planned_before: dict[str, int]  # pupil-moments already in kept sessions, per moment
    rejected: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    capacity: int = 0
    setup: int = 0
    consent_rate: dict = field(default_factory=dict)




def _slots(text: str) -> frozenset[str]:
    return frozenset(t for t in text.split() if t)




def _load_sessions(conn: sqlite3.Connection) -> dict[str, OldSession]:
    sessions: dict[str, OldSession] = {}
    for r in conn.execute("SELECT session_id, date, part, school_id, kind FROM sessions"):
        sessions[r["session_id"]] = OldSession(r["session_id"], HalfDay(dt.date.fromisoformat(r["date"]), r["part"]),
                                               r["school_id"], {}, {}, r["kind"])
    for r in conn.execute("SELECT session_id, staff_id, role FROM session_staff"):
        if r["session_id"] in sessions:  # orphans (a damaged workspace) are for `clbhealth doctor`
            sessions[r["session_id"]].staff[r["role"]] = r["staff_id"]
    for r in conn.execute("SELECT session_id, pupil_id, moment, outcome FROM session_pupils"):
        if r["session_id"] in sessions:
            sessions[r["session_id"]].pupils[(r["pupil_id"], r["moment"])] = r["outcome"]
    return sessions












# --- storing -------------------------------------------------------------------------------------


def _block_start(workspace: Workspace, part: str) -> dt.datetime:
    block = workspace.config.planning.morning if part == "am" else workspace.config.planning.afternoon
    return dt.datetime.combine(dt.date(2000, 1, 1), block.start)


def save_plan(workspace: Workspace, problem: PlanningProblem, context: PlanContext, result: PlanResult,
              options: SolveOptions, extra: dict | None = None) -> dict:
    """Store the plan in one transaction: kept sessions stay, the rest is replaced. Returns the summary."""
    metrics = plan_metrics(problem, result)
    moved, dropped, new = [], [], []
    with workspace.writing("plan") as session:
        conn = session.conn
        number = int((conn.execute("SELECT value FROM meta WHERE key = 'next_session'").fetchone() or ["1"])[0])
        plan_id = conn.execute(
            "INSERT INTO plans (created_at, date_from, date_to, seed, time_limit, workers, keep_until) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (now_text(), context.date_from.isoformat(), context.date_to.isoformat(), options.seed, options.seconds,
             options.workers, context.keep_until.isoformat() if context.keep_until else None)).lastrowid
        reused = {p.visit_id: result.visits[p.visit_id].session_id for p in result.placements.values()
                  if result.visits[p.visit_id].session_id}
        for sid, old in context.old_sessions.items():
            if sid not in reused.values():
                dropped.append({"session_id": sid, "date": str(old.half), "school_id": old.school_id})
        conn.executemany("DELETE FROM sessions WHERE session_id = ?", [(sid,) for sid in context.old_sessions])
        for visit_id, placement in sorted(result.placements.items(), key=lambda kv: (kv[1].half, kv[0])):
            visit = result.visits[visit_id]
            if visit.session_id:
                sid = visit.session_id
                if visit.previous != placement.half or visit.previous_staff != frozenset(placement.staff.values()):
                    moved.append({"session_id": sid, "school_id": visit.school_id, "from": str(visit.previous),
                                  "to": str(placement.half),
                                  "staff_from": sorted(visit.previous_staff), "staff_to": sorted(placement.staff.values())})
            else:
                sid = f"S{number:06d}"
                number += 1
                new.append(sid)
            _insert_session(conn, workspace, problem, context, plan_id, sid, visit, placement)
        unplanned_rows = []
        for visit_id, reason in result.unplanned.items():
            visit = result.visits.get(visit_id)
            if visit is None:
                continue
            for task in visit.tasks:
                for moment in task.moments:
                    unplanned_rows.append((plan_id, task.pupil_id, moment, visit.school_id, reason))
        for row in context.rejected:
            unplanned_rows.append((plan_id, row["pupil_id"], row["moment"], row["school_id"], row["reason"]))
        conn.executemany("INSERT OR IGNORE INTO unplanned (plan_id, pupil_id, moment, school_id, reason) "
                         "VALUES (?, ?, ?, ?, ?)", unplanned_rows)
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('next_session', ?)", (str(number),))
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('current_plan', ?)", (str(plan_id),))
        summary = _summary(problem, context, result, metrics, moved, dropped, new, len(unplanned_rows))
        summary.update(extra or {})
        conn.execute("UPDATE plans SET summary = ? WHERE plan_id = ?", (json.dumps(summary), plan_id))
        session.counts.update({"sessions": len(result.placements), "kept": len(context.pinned_sessions),
                               "moved": len(moved), "new": len(new), "unplanned_pupil_moments": len(unplanned_rows)})
    summary["plan_id"] = plan_id
    return summary


def _insert_session(conn, workspace: Workspace, problem: PlanningProblem, context: PlanContext, plan_id: int,
                    sid: str, visit: Visit, placement: Placement) -> None:
    start = _block_start(workspace, placement.half.part)
    end = start + dt.timedelta(minutes=visit.minutes)
    info = context.pupils
    tasks = sorted(visit.tasks, key=lambda t: (t.class_name, info.get(t.pupil_id, {}).get("last_name", ""),
                                               info.get(t.pupil_id, {}).get("first_name", ""), t.pupil_id))
    # The moments in protocol order, not in the order the packer happened to meet them, so that an
    # unchanged session is stored the same way on every re-plan.
    moments = [m for m in context.specs if m in visit.moments] + [m for m in visit.moments if m not in context.specs]
    parts = sorted({(m, r) for t in visit.tasks for m in t.moments for r in t.roles},
                   key=lambda mr: (moments.index(mr[0]) if mr[0] in moments else 99, mr[1]))
    conn.execute(
        "INSERT INTO sessions (session_id, plan_id, date, part, start, end, school_id, minutes, moments, classes, "
        "kind, created_at, parts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (sid, plan_id, placement.half.day.isoformat(), placement.half.part, start.strftime("%H:%M"),
         end.strftime("%H:%M"), visit.school_id, visit.minutes, json.dumps(moments),
         json.dumps(list(visit.classes)), visit.kind, now_text(),
         json.dumps([{"moment": m, "role": r} for m, r in parts])))
    conn.executemany(
        "INSERT INTO session_staff (session_id, staff_id, role, travel_km, travel_minutes) VALUES (?, ?, ?, ?, ?)",
        [(sid, person, role, problem.km[(person, visit.school_id)], problem.minutes_one_way[(person, visit.school_id)])
         for role, person in sorted(placement.staff.items())])
    clock = start + dt.timedelta(minutes=visit.setup)
    full = {id(t): sum(max(context.specs[m].part_minutes().get(r, context.specs[m].minutes) for r in t.roles)
                       for m in t.moments) for t in tasks if t.roles}
    rows = []
    seq = 0
    for task in tasks:
        for moment in task.moments:
            seq += 1
            spec = context.specs[moment]
            share = max(spec.part_minutes().get(r, spec.minutes) for r in task.roles) if task.roles else spec.minutes
            if spec.kind == "vaccination" and full.get(id(task)):
                share = int(share * task.minutes / full[id(task)])  # a dose sized by the expected consent
            rows.append((sid, task.pupil_id, moment, share, seq, clock.strftime("%H:%M"), ";".join(sorted(task.roles))))
        clock += dt.timedelta(minutes=task.minutes)
    conn.executemany("INSERT INTO session_pupils (session_id, pupil_id, moment, minutes, seq, start, roles) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)


def _summary(problem, context, result, metrics, moved, dropped, new, unplanned_count) -> dict:
    """The plan in figures: coverage per moment (a pupil-moment is planned when every part of it
    is in a session), why work is unplanned, what moved, load per role and person."""
    parts_of: dict[tuple[int, str], list[bool]] = defaultdict(list)
    for visit_id, visit in result.visits.items():
        placed = visit_id in result.placements
        for task in visit.tasks:
            for moment in task.moments:
                parts_of[(task.pupil_id, moment)].append(placed)
    planned: dict[str, int] = defaultdict(int)
    due_now: dict[str, int] = defaultdict(int)
    for (_, moment), flags in parts_of.items():
        due_now[moment] += 1
        planned[moment] += all(flags)
    for moment, count in context.planned_before.items():
        planned[moment] += count
    per_moment = {}
    for moment in context.specs:
        due = max(context.due_per_moment.get(moment, 0), due_now.get(moment, 0)) + context.planned_before.get(moment, 0)
        if due or planned.get(moment):
            per_moment[moment] = {"due": due, "planned": planned.get(moment, 0)}
    reasons: dict[str, int] = defaultdict(int)
    for visit_id, reason in result.unplanned.items():
        visit = result.visits.get(visit_id)
        if visit is not None:
            reasons[reason.split(" (")[0]] += visit.pupil_moments
    for row in context.rejected:
        reasons["window outside the planning period"] += 1
    due_total = sum(r["due"] for r in per_moment.values())
    planned_total = sum(r["planned"] for r in per_moment.values())
    return {
        "period": [context.date_from.isoformat(), context.date_to.isoformat()],
        "as_of": context.as_of.isoformat(),
        "notice_day": problem.notice_day.isoformat() if problem.notice_day else None,
        "kept_sessions": len(context.pinned_sessions),
        "per_moment": per_moment,
        "coverage": {"due": due_total, "planned": planned_total,
                     "pct": round(100 * planned_total / due_total, 1) if due_total else 100.0},
        "consent_sizing": context.consent_rate,
        "metrics": metrics,
        "unplanned_pupil_moments": unplanned_count,
        "unplanned_reasons": dict(reasons),
        "moved": moved,
        "dropped": dropped,
        "substitutes": result.substitutes,
        "new_sessions": len(new),
        "reused_sessions": sum(1 for v in result.placements if result.visits[v].session_id),
        "warnings": context.warnings,
    }


# --- reading the stored plan -------------------------------------------------------------------


def load_plan_frame(conn: sqlite3.Connection, school: str | None = None, staff: str | None = None) -> pd.DataFrame:
    """One row per session with its staff and pupils (ids), as `plan show` prints it."""
    sql = "SELECT s.* FROM sessions s"
    params: list = []
    clauses = []
    if school:
        clauses.append("s.school_id = ?")
        params.append(school)
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
        "booked": booked,
        "absences": [(r[0], dt.date.fromisoformat(r[1]), dt.date.fromisoformat(r[2]), r[3])
                     for r in conn.execute("SELECT staff_id, date_from, date_to, part FROM absences")],
        "closures": [(r[0], dt.date.fromisoformat(r[1]), dt.date.fromisoformat(r[2]), r[3])
                     for r in conn.execute("SELECT school_id, date_from, date_to, part FROM closures")],
        "staff_of": staff_of,
    }


def current_summary(conn: sqlite3.Connection) -> dict | None:
    row = conn.execute("SELECT plan_id, summary FROM plans ORDER BY plan_id DESC LIMIT 1").fetchone()
    if row is None:
        return None
    summary = json.loads(row["summary"])
    summary["plan_id"] = row["plan_id"]
    return summary




__all__ = ["save_plan", "load_plan_frame", "current_summary"]
