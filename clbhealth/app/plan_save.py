"""The solved plan as rows for the workspace, and its summary: coverage, moves and their reasons,
load, every soft goal's value."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from clbhealth.app.plan_context import PlanContext
from clbhealth.scheduler.metrics import plan_metrics
from clbhealth.scheduler.model import Placement, PlanningProblem, Visit
from clbhealth.scheduler.solve import PlanResult, SolveOptions
from clbhealth.workspace.folder import Workspace
from clbhealth.workspace.plan import store_plan


def save_plan(workspace: Workspace, problem: PlanningProblem, context: PlanContext, result: PlanResult,
              options: SolveOptions, extra: dict | None = None) -> dict:
    """Store the plan in one transaction: kept sessions stay, the rest is replaced. Returns the summary."""
    metrics = plan_metrics(problem, result)
    ordered = sorted(result.placements.items(), key=lambda kv: (kv[1].half, kv[0]))
    moved, new = [], 0
    rows = []
    for visit_id, placement in ordered:
        visit = result.visits[visit_id]
        if visit.session_id and (visit.previous != placement.half
                                 or visit.previous_staff != frozenset(placement.staff.values())):
            moved.append({"session_id": visit.session_id, "school_id": visit.school_id, "from": str(visit.previous),
                          "to": str(placement.half), "staff_from": sorted(visit.previous_staff),
                          "staff_to": sorted(placement.staff.values()), "why": why_moved(problem, visit, placement)})
        new += not visit.session_id
        rows.append(session_row(workspace, problem, context, visit, placement, result.visits))
    reused = {r["session_id"] for r in rows if r["session_id"]}
    dropped = [{"session_id": sid, "date": str(old.half), "school_id": old.school_id}
               for sid, old in context.old_sessions.items() if sid not in reused]
    unplanned = unplanned_rows(result, context)
    summary = plan_summary(problem, context, result, metrics, moved, dropped, new, len(unplanned))
    summary.update(extra or {})
    plan = {"date_from": context.date_from.isoformat(), "date_to": context.date_to.isoformat(), "seed": options.seed,
            "time_limit": options.seconds, "workers": options.workers,
            "keep_until": context.keep_until.isoformat() if context.keep_until else None}
    counts = {"sessions": len(result.placements), "kept": len(context.pinned_sessions), "moved": len(moved),
              "new": new, "unplanned_pupil_moments": len(unplanned)}
    plan_id, _ = store_plan(workspace, plan, sorted(context.old_sessions), rows, unplanned, summary, counts)
    summary["plan_id"] = plan_id
    return summary


def unplanned_rows(result: PlanResult, context: PlanContext) -> list[tuple]:
    """(pupil, moment, school, reason) of every pupil-moment left out, with its reason."""
    rows = []
    for visit_id, reason in result.unplanned.items():
        visit = result.visits.get(visit_id)
        if visit is None:
            continue
        for task in visit.tasks:
            for moment in task.moments:
                rows.append((task.pupil_id, moment, visit.school_id, reason))
    rows.extend((r["pupil_id"], r["moment"], r["school_id"], r["reason"]) for r in context.rejected)
    return rows


def why_moved(problem: PlanningProblem, visit: Visit, placement: Placement) -> str:
    """Why a session of the previous plan changed day or people."""
    half = visit.previous
    if half is not None and half in problem.closed.get(visit.school_id, set()):
        return "the school is closed on its half-day"
    gone = sorted(s for s in visit.previous_staff if half not in problem.available.get(s, ()))
    if gone:
        what = "absent or not working" if any(s in problem.available for s in gone) else "no longer on the staff list"
        return f"{', '.join(gone)} {what} on {half}" + ("; a colleague took it" if placement.half == half else "")
    if half is not None and not problem.allowed(visit, half):
        return "inside the notice period"
    return "its pupils or the other sessions changed (re-planned for capacity or travel)"


def _block_start(workspace: Workspace, part: str) -> dt.datetime:
    block = workspace.config.planning.morning if part == "am" else workspace.config.planning.afternoon
    return dt.datetime.combine(dt.date(2000, 1, 1), block.start)


def session_row(workspace: Workspace, problem: PlanningProblem, context: PlanContext, visit: Visit,
                placement: Placement, visits: dict[str, Visit]) -> dict:
    """One session as the workspace stores it: times, parts, staff with travel, pupils with their times."""
    start = _block_start(workspace, placement.half.part) + dt.timedelta(minutes=placement.offset)
    info = context.pupils
    tasks = sorted(visit.tasks, key=lambda t: (t.class_name, info.get(t.pupil_id, {}).get("last_name", ""),
                                               info.get(t.pupil_id, {}).get("first_name", ""), t.pupil_id))
    # The moments in protocol order, so that an unchanged session is stored the same way on every re-plan.
    moments = [m for m in context.specs if m in visit.moments] + [m for m in visit.moments if m not in context.specs]
    parts = sorted({(m, r) for t in visit.tasks for m in t.moments for r in t.roles},
                   key=lambda mr: (moments.index(mr[0]) if mr[0] in moments else 99, mr[1]))
    return {
        "session_id": visit.session_id, "date": placement.half.day.isoformat(), "part": placement.half.part,
        "start": start.strftime("%H:%M"), "end": (start + dt.timedelta(minutes=visit.minutes)).strftime("%H:%M"),
        "school_id": visit.school_id, "minutes": visit.minutes, "moments": moments, "classes": list(visit.classes),
        "kind": visit.kind, "parts": [{"moment": m, "role": r} for m, r in parts],
        "announced_on": _announced_on(context, visit, placement),
        "staff": [(person, role, round(problem.leg_km(person, placement, visits), 2), _drive(problem, visits, placement, person))
                  for role, person in sorted(placement.staff.items())],
        "pupils": _pupil_rows(context, tasks, start + dt.timedelta(minutes=visit.setup)),
    }


def _drive(problem: PlanningProblem, visits: dict[str, Visit], placement: Placement, person: str) -> int:
    """Minutes of driving to the session: from the base, or from the school before it on a shared half-day."""
    school = visits[placement.visit_id].school_id
    if placement.after_visit in visits:
        return problem.between(visits[placement.after_visit].school_id, school)[1]
    return problem.minutes_one_way[(person, school)]


def _announced_on(context: PlanContext, visit: Visit, placement: Placement) -> str:
    """A session that keeps its half-day keeps the day it was announced; others are announced now."""
    old = context.old_sessions.get(visit.session_id or "")
    if old is not None and old.half == placement.half and old.announced_on:
        return old.announced_on
    return context.as_of.isoformat()


def _pupil_rows(context: PlanContext, tasks: list, clock: dt.datetime) -> list[tuple]:
    """Each pupil's moments with the minutes of the part done here and the time the pupil is expected."""
    rows, seq = [], 0
    for task in tasks:
        full = sum(max(context.specs[m].part_minutes().get(r, context.specs[m].minutes) for r in task.roles)
                   for m in task.moments) if task.roles else 0
        for moment in task.moments:
            seq += 1
            spec = context.specs[moment]
            share = max(spec.part_minutes().get(r, spec.minutes) for r in task.roles) if task.roles else spec.minutes
            if spec.kind == "vaccination" and full:
                share = int(share * task.minutes / full)  # a dose sized by the expected consent
            rows.append((task.pupil_id, moment, share, seq, clock.strftime("%H:%M"), ";".join(sorted(task.roles))))
        clock += dt.timedelta(minutes=task.minutes)
    return rows


def plan_summary(problem, context, result, metrics, moved, dropped, new, unplanned_count) -> dict:
    """The plan in figures: coverage per moment (a pupil-moment is planned when every part of it
    is in a session), why work is unplanned, what moved, load per role and person."""
    per_moment = _per_moment(context, result)
    reasons: dict[str, int] = defaultdict(int)
    for visit_id, reason in result.unplanned.items():
        visit = result.visits.get(visit_id)
        if visit is not None:
            reasons[reason.split(" (")[0]] += visit.pupil_moments
    for _ in context.rejected:
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
        "new_sessions": new,
        "reused_sessions": sum(1 for v in result.placements if result.visits[v].session_id),
        "warnings": context.warnings,
    }


def _per_moment(context: PlanContext, result: PlanResult) -> dict[str, dict[str, int]]:
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
    return per_moment
