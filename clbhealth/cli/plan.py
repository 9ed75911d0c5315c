"""`clbhealth plan` and its subcommands show, check, explain."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from clbhealth.cli.common import (
    choice_option,
    CsvSeparator,
    output_format,
    WORKERS_MAX,
    WorkspaceOption,
    add_cells,
    count_option,
    day_option,
    check_extension,
    check_output,
    err,
    handle_errors,
    new_table,
    open_workspace,
    out,
    plan_app,
    Quiet,
    seconds_option,
    seed_option,
    styled,
)
from clbhealth.core.privacy import shown_path


@plan_app.callback(invoke_without_command=True)
@handle_errors
def plan(
    ctx: typer.Context,
    workspace: WorkspaceOption = None,
    date_from: Annotated[Optional[dt.date], day_option("--from", "First day to plan (default: the school year's start).")] = None,
    date_to: Annotated[Optional[dt.date], day_option("--to", "Last day to plan (default: 30 June).")] = None,
    time_limit: Annotated[float, seconds_option("Solver work budget in seconds.")] = 60.0,
    workers: Annotated[Optional[int], count_option("--workers", "Solver threads (default: the machine's cores).",
                                                   WORKERS_MAX)] = None,
    seed: Annotated[int, seed_option("Random seed: the same inputs and seed give the same plan.")] = 1,
    keep_until: Annotated[Optional[dt.date], day_option("--keep-until", "Keep published sessions up to this date as they are.")] = None,
    as_of: Annotated[Optional[dt.date], day_option("--as-of", "Date of the due list and of 'today' (default: today).")] = None,
    fmt: Annotated[str, choice_option("--format", ("table", "json"), "table (default) or json (the whole summary).")] = "table",
    quiet: Quiet = False,
) -> None:
    """Plan nurse and doctor sessions across all schools (OR-Tools CP-SAT): solve and store the plan,
    then print its summary (or use a subcommand: show, check, explain).

    Example: clbhealth plan --as-of 2026-09-01 --time-limit 120
    """
    if ctx.invoked_subcommand is not None:
        return
    from clbhealth.app.plan import run_plan

    ws = open_workspace(workspace)
    day = as_of or dt.date.today()
    threads = workers if workers is not None else max(1, os.cpu_count() or 1)

    def job(progress):
        return run_plan(ws, as_of=day, seconds=time_limit, seed=seed, workers=threads, date_from=date_from,
                        date_to=date_to, keep_until=keep_until, progress=progress)

    summary = job(lambda *_: None) if quiet else _with_progress(job, time_limit)
    if fmt == "json":
        sys.stdout.write(json.dumps(summary, indent=2, default=str) + "\n")
    elif quiet:
        _plan_warnings(summary)
    else:
        render_plan_summary(summary)


def _plan_warnings(summary: dict) -> None:
    """What --quiet still says: the plan's warnings, and unplanned work (on stderr)."""
    for warning in summary.get("warnings", []):
        err.print(styled(("!", "yellow"), " ", warning))
    if summary["unplanned_pupil_moments"]:
        err.print(styled(("!", "yellow"), f" {summary['unplanned_pupil_moments']} pupil-moment(s) are not planned "
                                          "(see why: clbhealth plan explain)."))


def _with_progress(job, seconds: float = 60.0):
    """Run `job(progress)` telling in plain words the share of the time used, the step, the best
    plan's sessions and how far above the bound it is: a live bar on a terminal, else one plain line
    per improvement, at most one per 10 s (for logs)."""
    import time

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    started = time.monotonic()

    def words(snapshot) -> str:
        used = min(100, round(100 * (time.monotonic() - started) / max(seconds, 1e-9)))
        text = f"planning: {used}% of the time used, {snapshot.step}"
        if snapshot.sessions is not None:
            text += f", {snapshot.sessions:,} sessions"
        if snapshot.above_bound is not None:
            text += f", {_percent(snapshot.above_bound)} above the bound"
        return text

    if not err.is_terminal:
        last: dict[str, float | str] = {"time": 0.0, "step": ""}

        def plain(snapshot) -> None:
            now = time.monotonic()
            if now - float(last["time"]) >= 10 or snapshot.step != last["step"]:
                last.update(time=now, step=snapshot.step)
                err.print(words(snapshot), markup=False, highlight=False)

        return job(plain)
    with Progress(TextColumn("{task.description}", markup=False), BarColumn(), TimeElapsedColumn(), console=err,
                  transient=True) as bar:
        task = bar.add_task("planning: reading the workspace", total=max(seconds, 1e-9))

        def progress(snapshot) -> None:
            bar.update(task, description=words(snapshot), completed=min(seconds, time.monotonic() - started))

        return job(progress)


def _percent(share: float) -> str:
    """0.0213 -> '2.1%', 0.0004 -> 'less than 0.1%', 0.52 -> '52%'."""
    if share < 0.001:
        return "less than 0.1%"
    return f"{100 * share:.1f}%" if share < 0.1 else f"{100 * share:,.0f}%"


def render_plan_summary(summary: dict) -> None:
    metrics = summary["metrics"]
    out.print(styled((f"Plan {summary['plan_id']}", "bold"),
                     f": {metrics['sessions']} sessions from {summary['period'][0]} to {summary['period'][1]} "
                     f"({summary['kept_sessions']} kept as they were); solved in {metrics['seconds']} s, "
                     f"the first complete plan after {metrics['first_complete_seconds']} s."))
    for warning in summary.get("warnings", []):
        err.print(styled(("!", "yellow"), " ", warning))
    out.print(_moments_table(summary))
    out.print(_goals_table(metrics))
    bounds = summary.get("bounds", {})
    visits, travel = metrics["terms"]["visits"], metrics["terms"]["travel"]
    if bounds:
        lb_v, lb_t = bounds["visits_lower_bound"], bounds["travel_lower_bound_km"]
        trips = metrics.get("round_trip_km", travel)
        out.print(f"Visits {visits} against a lower bound of {lb_v} (gap {_gap(visits, lb_v)}); travel {travel:,.0f} km "
                  f"driven, {trips:,.0f} km priced as one round trip per session against a bound of {lb_t:,.0f} km "
                  f"(gap {_gap(trips, lb_t)}). Bounds computed without the solver.")
    coverage = bounds.get("coverage")
    if coverage:
        done = summary["coverage"]["planned"]
        share = 100 * done / coverage["at_most"] if coverage["at_most"] else 100.0
        out.print(f"Coverage: {done:,} of {summary['coverage']['due']:,} due pupil-moments planned; with these people "
                  f"at most {coverage['at_most']:,} can be (an LP bound on each role's free minutes per month): "
                  f"{share:.1f}% of that bound.")
        for short in coverage.get("short", [])[:6]:
            out.print(f"  binding: {short['role']} minutes in {short['month']} ({short['free_minutes']:,} free)")
    for role, row in metrics.get("utilisation", {}).items():
        out.print(f"Utilisation {role}: {row['sessions']} of {row['available_half_days']} available half-days "
                  f"booked ({row['load_pct']}%).")
    for sub in summary.get("substitutes", [])[:20]:
        out.print(f"  substitute: {sub['half']} {' '.join(sub['from'])} -> {' '.join(sub['to'])} ({sub['visit_id']})")
    shown = [s for s in metrics["stages"] if s["objective"] is not None and s["bound"] is not None]
    for stage in shown[:8] if len(shown) > 8 else shown:
        if stage["objective"] is not None and stage["bound"] is not None:
            out.print(f"  {stage['stage']}: {stage['status']}, objective {stage['objective']:,.0f}, proven bound "
                      f"{stage['bound']:,.0f} (gap {_gap(stage['objective'], stage['bound'])}), {stage['seconds']} s")
    load = new_table("Load per person", ("staff", "sessions", "available half-days", "load %"),
                     right=("sessions", "available half-days", "load %"))
    for staff_id, row in metrics["load"].items():
        add_cells(load, staff_id, row["sessions"], row["available_half_days"], row["load_pct"])
    out.print(load)
    if summary["unplanned_pupil_moments"]:
        out.print(styled((f"{summary['unplanned_pupil_moments']} pupil-moment(s) are not planned:", "yellow")))
        for reason, count in summary["unplanned_reasons"].items():
            out.print(f"  {count}: {reason}")
        out.print("See why in detail: clbhealth plan explain")
    else:
        out.print("Every due pupil-moment is planned.")
    if summary["moved"] or summary["dropped"] or summary.get("reused_sessions"):
        out.print(f"Re-planning: {summary.get('reused_sessions', 0)} session(s) of the previous plan kept their id, "
                  f"{len(summary['moved'])} of them moved; {len(summary['dropped'])} dropped, "
                  f"{summary['new_sessions']} new.")
        for move in summary["moved"][:50]:
            out.print(f"  {move['session_id']} ({move['school_id']}): {move['from']} -> {move['to']}"
                      + (f", staff {' '.join(move['staff_from'])} -> {' '.join(move['staff_to'])}"
                         if move["staff_from"] != move["staff_to"] else "")
                      + (f": {move['why']}" if move.get("why") else ""))
        if len(summary["moved"]) > 50:
            out.print(f"  ... and {len(summary['moved']) - 50} more (clbhealth plan show)")


def _moments_table(summary: dict):
    table = new_table("Pupil-moments planned", ("moment", "due", "planned", "%"), right=("due", "planned", "%"))
    for moment, row in summary["per_moment"].items():
        pct = 100 * row["planned"] / row["due"] if row["due"] else 100.0
        add_cells(table, moment, row["due"], row["planned"], f"{pct:.0f}")
    return table


def _goals_table(metrics: dict):
    """Every soft goal with its unit (declared in scheduler/goals.py), value and weight."""
    terms = new_table("Soft goals (objective terms)", ("goal", "value", "weight", "weighted"),
                      right=("value", "weight", "weighted"))
    units = metrics.get("units", {})
    for name, value in metrics["terms"].items():
        weight = metrics["weights"][name]
        add_cells(terms, f"{name} ({units.get(name, '')})", f"{value:,}", weight, f"{weight * value:,.0f}")
    add_cells(terms, "total", "", "", f"{metrics['objective']:,.0f}", style="bold")
    return terms


def _gap(value: float, bound: float) -> str:
    if not bound:
        return "0%" if not value else "n/a"
    return f"{100 * (value - bound) / abs(bound):.1f}%"


@plan_app.command("show")
@handle_errors
def plan_show(
    workspace: WorkspaceOption = None,
    school: Annotated[Optional[str], typer.Option("--school", metavar="SCHOOL", help="Only this school.")] = None,
    staff: Annotated[Optional[str], typer.Option("--staff", metavar="STAFF", help="Only this person's sessions.")] = None,
    fmt: Annotated[Optional[str], choice_option("--format", ("table", "csv", "json", "xlsx"),
                                               "table, csv, json or xlsx (default: from the -o file's "
                                               "extension, else table).")] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", "--out", metavar="FILE", help="Write to this file.", dir_okay=False)] = None,
    csv_separator: CsvSeparator = ";",
    quiet: Quiet = False,
) -> None:
    """The stored plan: one row per session.

    Example: clbhealth plan show --school 40642 --format json
    """
    from clbhealth.exports.frames import write_frame
    from clbhealth.workspace.plan import load_plan_frame

    given, fmt = fmt, output_format(fmt, output, ("table", "csv", "json", "xlsx"))
    ws = open_workspace(workspace)
    check_output(ws, output, "text" if fmt == "table" else fmt)
    check_extension(output, given, fmt, ("xlsx", "csv", "json", "table"))
    from clbhealth.workspace.pupils import resolve_school_ids
    from clbhealth.workspace.staff import resolve_staff_id

    with ws.connect() as conn:
        sites = resolve_school_ids(conn, [school]) if school else None
        if staff:
            resolve_staff_id(conn, staff)
        frame = load_plan_frame(conn, schools=sites, staff=staff)
    if fmt == "json":
        records = frame.drop(columns=["kind"]).to_dict(orient="records")
        text = json.dumps(records, ensure_ascii=False, indent=1) + "\n"
        if output is None:
            sys.stdout.write(text)
        else:
            from clbhealth.core.files import atomic_text

            with atomic_text(output) as handle:
                handle.write(text)
        return
    flat = frame.drop(columns=["pupils"]).copy()
    flat["parts"] = flat["parts"].map(lambda parts: " ".join(f"{p['moment']}/{p['role']}" for p in parts))
    for column in ("staff_ids", "moments", "classes", "pupil_ids"):
        flat[column] = flat[column].map(lambda v: " ".join(str(x) for x in v))
    if fmt == "table" and output is None:
        if flat.empty:
            which = " ".join(part for part in (f"of {staff}" if staff else "", f"at school {school}" if school else "")
                             if part)
            out.print(f"No sessions {which} in the plan." if which else "No sessions planned (run clbhealth plan).")
            return
        shown = flat.drop(columns=["pupil_ids", "moments"]).assign(pupils=frame["pupil_ids"].map(len))
        from clbhealth.exports.frames import plain_table

        sys.stdout.write(plain_table(shown))
        return
    write_frame(flat, fmt, output, sheet="Plan", title=f"{ws.config.clb_name}: plan", separator=csv_separator)
    if output is not None and not quiet:
        err.print(f"Wrote {len(flat)} session(s) to {shown_path(output)}.")


@plan_app.command("check")
@handle_errors
def plan_check(workspace: WorkspaceOption = None,
               fmt: Annotated[str, choice_option("--format", ("table", "json"), "table or json.")] = "table",
               quiet: Quiet = False) -> None:
    """Check the stored plan against every hard rule, independently of the solver.

    Example: clbhealth plan check -w clbhealth-demo --format json
    """
    from clbhealth.scheduler.check import check_plan
    from clbhealth.app.plan_check import load_check_input

    fmt = output_format(fmt, None, ("table", "json"))
    ws = open_workspace(workspace)
    data = load_check_input(ws)
    violations = check_plan(data)
    if fmt == "json":  # fields: sessions, violations [{rule, session_id, message}]
        sys.stdout.write(json.dumps({"sessions": len(data.sessions), "violations": [
            {"rule": v.rule, "session_id": v.session_id, "message": v.message} for v in violations]},
            ensure_ascii=False, indent=1) + "\n")
        if violations:
            raise typer.Exit(1)
        return
    if not violations:
        if not quiet:
            out.print(f"The plan ({len(data.sessions)} sessions) keeps every hard rule.")
        return
    for violation in violations:
        err.print(styled(("✗", "red"), " ", str(violation)))
    err.print(f"{len(violations)} violation(s) in {len({v.session_id for v in violations})} session(s).")
    err.print("Re-plan (clbhealth plan) after new objections, refusals, absences or closures.")
    raise typer.Exit(1)


@plan_app.command("explain")
@handle_errors
def plan_explain(
    workspace: WorkspaceOption = None,
    school: Annotated[Optional[str], typer.Option("--school", metavar="SCHOOL", help="Only this school.")] = None,
    staff: Annotated[Optional[str], typer.Option("--staff", metavar="STAFF", help="This person's load, late sessions "
                                                 "and the unplanned work of their role.")] = None,
    fmt: Annotated[str, choice_option("--format", ("table", "json"), "table or json.")] = "table",
) -> None:
    """Why demand is unplanned or late: which rule, and which resource is short when.

    Example: clbhealth plan explain --school 40642 --staff V01 --format json
    """
    from clbhealth.app.explain import explain_data, explain_lines

    fmt = output_format(fmt, None, ("table", "json"))
    ws = open_workspace(workspace)
    data = explain_data(ws, school=school, staff=staff)
    if fmt == "json":  # fields: see explain_data and the README (plan_id, period, school, capacity, ...)
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=1) + "\n")
        return
    for line in explain_lines(data):
        out.print(line, markup=False)
