"""The `clbhealth` command line: parse, call, render. Logic lives in the modules below."""

from __future__ import annotations

import datetime as dt
import functools
import os
import sqlite3
import sys
from pathlib import Path
from typing import Annotated, Callable, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable

from clbhealth.dates import SchoolYear
from clbhealth.errors import ClbError, Problem

app = typer.Typer(
    name="clbhealth",
    help="Preventive health care for a Flemish CLB: rosters, due lists, planning, exports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
import_app = typer.Typer(help="Import files as schools and staff send them (CSV or XLSX).", no_args_is_help=True)
protocols_app = typer.Typer(help="The rules in force.", no_args_is_help=True)
app.add_typer(import_app, name="import")
app.add_typer(protocols_app, name="protocols")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

WorkspaceOption = Annotated[
    Optional[Path],
    typer.Option("--workspace", "-w", envvar="CLBHEALTH_WORKSPACE", show_envvar=True,
                 help="Workspace folder (default: the current folder).", file_okay=False),
]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Report what would change; write nothing.")]
SkipInvalid = Annotated[bool, typer.Option("--skip-invalid", help="Import the valid rows; report the others.")]
MAX_LISTED_PROBLEMS = 40


def handle_errors(func: Callable) -> Callable:
    """Turn the project's own errors into a clear message and exit code, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except ClbError as exc:
            if exc.problems:
                show_problems(exc.problems)
            err.print(f"[bold red]Error:[/] {escape(exc.message)}")
            if exc.hint:
                err.print(exc.hint, markup=False)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err.print("Interrupted; nothing was changed by the unfinished step.")
            raise typer.Exit(130) from None
        except sqlite3.DatabaseError as exc:
            # A damaged, locked or read-only database: every write is one transaction, so nothing half-done.
            err.print(f"[bold red]Error:[/] the workspace database cannot be used ({escape(str(exc))}); "
                      "nothing was changed by the unfinished step.")
            err.print("Run `clbhealth doctor` on the workspace and follow its advice.", markup=False)
            raise typer.Exit(1) from None
        except OSError as exc:
            where = f" ({exc.filename})" if exc.filename else ""
            err.print(f"[bold red]Error:[/] {escape(exc.strerror or str(exc))}{escape(where)}; "
                      "nothing was changed by the unfinished step.")
            err.print("Check the path, the free disk space and the permissions, then run the command again.",
                      markup=False)
            raise typer.Exit(1) from None

    return wrapper


def parse_day(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        from clbhealth.dates import parse_date

        return parse_date(value)
    except ValueError as exc:
        raise ClbError(f"{option} {value!r} {exc}.", hint="Write a date as yyyy-mm-dd or dd/mm/yyyy.") from None


def open_workspace(path: Path | None):
    from clbhealth.workspace import Workspace

    return Workspace.open(path)


def show_problems(problems: list[Problem]) -> None:
    """Every problem, grouped when there are many of the same kind so none is lost in the noise."""
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"]
    for group, style, mark in ((errors, "red", "✗"), (warnings, "yellow", "!")):
        if len(group) <= MAX_LISTED_PROBLEMS:
            for problem in group:
                err.print(f"[{style}]{mark}[/] {escape(str(problem))}", markup=True, highlight=False)
            continue
        buckets: dict[tuple, list[Problem]] = {}
        for problem in group:
            buckets.setdefault((problem.file, problem.column, problem.message, problem.hint), []).append(problem)
        for (file, column, message, hint), items in buckets.items():
            rows = ", ".join(str(p.row) for p in items if p.row is not None)
            where = f"{file}, {len(items)} row(s) [{rows}]"
            if column:
                where += f", column '{column}'"
            sep = "" if message.endswith((".", ":")) else "."
            err.print(f"[{style}]{mark}[/] " + escape(f"{where}: {message}" + (f"{sep} {hint}" if hint else "")))


# --- init, demo --------------------------------------------------------------------------------


@app.command()
@handle_errors
def init(
    directory: Annotated[Path, typer.Argument(help="Folder for the new workspace.", file_okay=False)],
    name: Annotated[str, typer.Option("--name", help="The CLB's name.")] = "CLB",
    school_year: Annotated[Optional[str], typer.Option("--school-year", help="e.g. 2026-2027 (default: the current one).")] = None,
) -> None:
    """Create a workspace: clbhealth.toml (documented settings) and an SQLite database."""
    from clbhealth.workspace import Workspace

    try:
        year = SchoolYear.parse(school_year) if school_year else SchoolYear.containing(dt.date.today())
    except ValueError as exc:
        raise ClbError(f"--school-year: {exc}.") from None
    workspace = Workspace.create(directory, name, year)
    out.print(f"Created workspace {workspace.root} for {name}, school year {year}.")
    out.print(f"Settings: {workspace.root / 'clbhealth.toml'}")
    out.print("Next: clbhealth import schools FILE -w " + str(workspace.root))


@app.command()
@handle_errors
def demo(
    directory: Annotated[Path, typer.Argument(help="Folder for the demo workspace.", file_okay=False)] = Path("clbhealth-demo"),
    time_limit: Annotated[float, typer.Option("--time-limit", help="Planner work budget in seconds.")] = 10.0,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="The demo's date (default: today within the "
                                                 "samples' school year, else 2026-12-01).")] = None,
) -> None:
    """Build a workspace from the bundled samples and run the whole chain on it: import, due list,
    plan, check, school workbooks, calendars, attendance sheet, weekly lists, report."""
    from clbhealth.demo import run_demo

    run_demo(directory, out, today=parse_day(as_of, "--as-of"), time_limit=time_limit)


# --- imports -------------------------------------------------------------------------------------


def render_import(result, what: str) -> None:
    show_problems(result.warnings + result.errors)
    if result.summary:
        table = RichTable(title=f"{what} import" + (" (dry run)" if result.dry_run else ""), title_justify="left")
        for key in result.summary[0]:
            table.add_column(key.replace("_", " "), justify="left" if key in ("school_id", "status", "schools") else "right")
        for row in result.summary:
            table.add_row(*(str(v) for v in row.values()))
        out.print(table)
    totals = ", ".join(f"{v} {k}" for k, v in result.totals.items())
    if result.dry_run:
        out.print(f"Dry run: would import {totals}. Nothing was written.")
    else:
        out.print(f"Imported {what}: {totals}.")
    if result.skipped_rows:
        err.print(f"[yellow]{result.skipped_rows} invalid row(s) were skipped (listed above).[/]")
        raise typer.Exit(3)


@import_app.command("schools")
@handle_errors
def import_schools_command(
    file: Annotated[Path, typer.Argument(help="CSV or XLSX with school sites.")],
    workspace: WorkspaceOption = None,
    dry_run: DryRun = False,
    skip_invalid: SkipInvalid = False,
) -> None:
    """Import school sites: school_id, name, street, postcode, municipality, lat, lon, level."""
    from clbhealth.imports.schools import import_schools

    ws = open_workspace(workspace)
    render_import(import_schools(ws, file, dry_run=dry_run, skip_invalid=skip_invalid), "schools")


@import_app.command("roster")
@handle_errors
def import_roster_command(
    files: Annotated[list[Path], typer.Argument(help="One or more rosters (CSV or XLSX); give all files of a school at once.")],
    workspace: WorkspaceOption = None,
    school: Annotated[Optional[str], typer.Option("--school", help="School id for files without a school column.")] = None,
    dry_run: DryRun = False,
    skip_invalid: SkipInvalid = False,
) -> None:
    """Import pupils; a school's roster replaces what is known of that school (pupils not listed have left)."""
    from clbhealth.imports.roster import import_roster

    ws = open_workspace(workspace)
    render_import(import_roster(ws, files, school=school, dry_run=dry_run, skip_invalid=skip_invalid), "roster")


@import_app.command("history")
@handle_errors
def import_history_command(
    file: Annotated[Path, typer.Argument(help="CSV or XLSX, one row per event.")],
    workspace: WorkspaceOption = None,
    dry_run: DryRun = False,
    skip_invalid: SkipInvalid = False,
) -> None:
    """Import history: contacts done, doses given, absences, consent, objections."""
    from clbhealth.imports.history import import_history

    ws = open_workspace(workspace)
    render_import(import_history(ws, file, dry_run=dry_run, skip_invalid=skip_invalid), "history")


Replace = Annotated[bool, typer.Option("--replace", help="Replace all known entries with this file's.")]


@import_app.command("staff")
@handle_errors
def import_staff_command(
    file: Annotated[Path, typer.Argument(help="CSV or XLSX: staff_id, name, role, base_lat, base_lon, availability, schools.")],
    workspace: WorkspaceOption = None,
    dry_run: DryRun = False,
    skip_invalid: SkipInvalid = False,
) -> None:
    """Import the staff doing systematic contacts; the list replaces the previous one."""
    from clbhealth.imports.staff import import_staff

    ws = open_workspace(workspace)
    render_import(import_staff(ws, file, dry_run=dry_run, skip_invalid=skip_invalid), "staff")


@import_app.command("absences")
@handle_errors
def import_absences_command(
    file: Annotated[Path, typer.Argument(help="CSV or XLSX: staff_id, from, to, part (am/pm or empty).")],
    workspace: WorkspaceOption = None,
    dry_run: DryRun = False,
    skip_invalid: SkipInvalid = False,
    replace: Replace = False,
) -> None:
    """Import staff absences (added to those known; --replace to start over)."""
    from clbhealth.imports.staff import import_absences

    ws = open_workspace(workspace)
    render_import(import_absences(ws, file, dry_run=dry_run, skip_invalid=skip_invalid, replace=replace), "absences")


@import_app.command("closures")
@handle_errors
def import_closures_command(
    file: Annotated[Path, typer.Argument(help="CSV or XLSX: school_id, from, to, reason.")],
    workspace: WorkspaceOption = None,
    dry_run: DryRun = False,
    skip_invalid: SkipInvalid = False,
    replace: Replace = False,
) -> None:
    """Import school closures (study days, trips) on top of the Flemish school calendar."""
    from clbhealth.imports.staff import import_closures

    ws = open_workspace(workspace)
    render_import(import_closures(ws, file, dry_run=dry_run, skip_invalid=skip_invalid, replace=replace), "closures")


# --- due -----------------------------------------------------------------------------------------


@app.command()
@handle_errors
def due(
    workspace: WorkspaceOption = None,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Date the list is for (default: today).")] = None,
    school: Annotated[Optional[list[str]], typer.Option("--school", help="Only this school (repeatable).")] = None,
    moment: Annotated[Optional[list[str]], typer.Option("--moment", help="Only this moment or dose code (repeatable).")] = None,
    status: Annotated[Optional[list[str]], typer.Option("--status", help="Only this status (repeatable).")] = None,
    all_statuses: Annotated[bool, typer.Option("--all", help="Every status, not only due and needs_consent.")] = False,
    fmt: Annotated[str, typer.Option("--format", help="table, csv, json or xlsx.")] = "table",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write to this file.", dir_okay=False)] = None,
) -> None:
    """Who is due for which contact moment and vaccination dose, and why."""
    from clbhealth.output import write_frame
    from clbhealth.protocols.due import OUTPUT_COLUMNS
    from clbhealth.services import due_list

    if fmt not in ("table", "csv", "json", "xlsx"):
        raise ClbError(f"--format {fmt!r} is not a format.", hint="Use table, csv, json or xlsx.")
    ws = open_workspace(workspace)
    day = parse_day(as_of, "--as-of") or dt.date.today()
    frame, warnings = due_list(ws, day, schools=school or (), moments=moment or (), statuses=status or (),
                               include_all=all_statuses)
    show_problems(warnings)
    public = frame[OUTPUT_COLUMNS]
    if fmt == "table" and output is None:
        render_due_table(public, day, ws.protocol.all_codes())
        return
    write_frame(public, fmt, output, sheet="Due", title=f"{ws.config.clb_name}: due list as of {day}")
    if output is not None:
        err.print(f"Wrote {len(public)} row(s) to {output}.")


def render_due_table(frame, day: dt.date, order: list[str]) -> None:
    from clbhealth.output import PLAIN_TABLE_ROWS, plain_table

    if len(frame) > PLAIN_TABLE_ROWS or not out.is_terminal:
        sys.stdout.write(plain_table(frame))
    elif len(frame):
        table = RichTable(title=f"Due list as of {day}", title_justify="left")
        for column in frame.columns:
            table.add_column(column, overflow="fold")
        for row in frame.itertuples(index=False, name=None):
            table.add_row(*("" if v is None or v != v else escape(str(v)) for v in row))
        out.print(table)
    else:
        out.print(f"Nobody matches (as of {day}).")
    totals = RichTable(title="Totals per moment", title_justify="left")
    totals.add_column("moment")
    statuses = [s for s in ("due", "needs_consent", "missed", "done", "objected", "refused") if s in set(frame["status"])]
    for s in statuses:
        totals.add_column(s, justify="right")
    totals.add_column("total", justify="right")
    counts = frame.groupby(["moment", "status"], sort=False).size()
    present = set(frame["moment"])
    for moment in [m for m in order if m in present]:
        values = [int(counts.get((moment, s), 0)) for s in statuses]
        totals.add_row(moment, *(str(v) for v in values), str(sum(values)))
    if len(frame):
        totals.add_row("all", *(str(int((frame["status"] == s).sum())) for s in statuses), str(len(frame)), style="bold")
        out.print(totals)


# --- plan ----------------------------------------------------------------------------------------

plan_app = typer.Typer(help="Plan nurse and doctor sessions across all schools (OR-Tools CP-SAT).",
                       invoke_without_command=True)
app.add_typer(plan_app, name="plan")


@plan_app.callback(invoke_without_command=True)
@handle_errors
def plan(
    ctx: typer.Context,
    workspace: WorkspaceOption = None,
    date_from: Annotated[Optional[str], typer.Option("--from", help="First day to plan (default: the school year's start).")] = None,
    date_to: Annotated[Optional[str], typer.Option("--to", help="Last day to plan (default: 30 June).")] = None,
    time_limit: Annotated[float, typer.Option("--time-limit", help="Solver work budget in seconds.")] = 60.0,
    workers: Annotated[int, typer.Option("--workers", help="Solver threads.")] = 2,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same inputs and seed give the same plan.")] = 1,
    keep_until: Annotated[Optional[str], typer.Option("--keep-until", help="Keep published sessions up to this date as they are.")] = None,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Date of the due list and of 'today' (default: today).")] = None,
) -> None:
    """Solve and store the plan, then print its summary (or use a subcommand: show, check, explain)."""
    if ctx.invoked_subcommand is not None:
        return
    from clbhealth.services import run_plan

    ws = open_workspace(workspace)
    day = parse_day(as_of, "--as-of") or dt.date.today()
    summary = _with_progress(lambda progress: run_plan(
        ws, as_of=day, seconds=time_limit, seed=seed, workers=workers,
        date_from=parse_day(date_from, "--from"), date_to=parse_day(date_to, "--to"),
        keep_until=parse_day(keep_until, "--keep-until"), progress=progress))
    render_plan_summary(summary)


def _with_progress(job):
    """Run `job(progress)` with a live line showing each stage's objective and bound."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    if not err.is_terminal:
        return job(None)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err,
                  transient=True) as bar:
        task = bar.add_task("preparing the planning problem", total=None)

        def progress(stage: str, objective, bound) -> None:
            text = f"{stage}: objective {objective:,.0f}" if objective is not None else stage
            if bound is not None:
                text += f", bound {bound:,.0f}"
            bar.update(task, description=text)

        return job(progress)


def render_plan_summary(summary: dict) -> None:
    metrics = summary["metrics"]
    out.print(f"[bold]Plan {summary['plan_id']}[/]: {metrics['sessions']} sessions from {summary['period'][0]} "
              f"to {summary['period'][1]} ({summary['kept_sessions']} kept as they were); solved in "
              f"{metrics['seconds']} s, the first complete plan after {metrics['first_complete_seconds']} s.")
    for warning in summary.get("warnings", []):
        err.print(f"[yellow]![/] {escape(warning)}")
    table = RichTable(title="Pupil-moments planned", title_justify="left")
    for column in ("moment", "due", "planned", "%"):
        table.add_column(column, justify="left" if column == "moment" else "right")
    for moment, row in summary["per_moment"].items():
        pct = 100 * row["planned"] / row["due"] if row["due"] else 100.0
        table.add_row(moment, str(row["due"]), str(row["planned"]), f"{pct:.0f}")
    out.print(table)
    terms = RichTable(title="Soft goals (objective terms)", title_justify="left")
    for column in ("goal", "value", "weight", "weighted"):
        terms.add_column(column, justify="left" if column == "goal" else "right")
    units = {"unplanned": "pupil-moments", "visits": "school visits", "travel": "km", "balance": "% points",
             "continuity": "sessions", "early": "session-weeks"}
    for name, value in metrics["terms"].items():
        weight = metrics["weights"][name]
        terms.add_row(f"{name} ({units[name]})", f"{value:,}", str(weight), f"{weight * value:,.0f}")
    terms.add_row("total", "", "", f"{metrics['objective']:,.0f}", style="bold")
    out.print(terms)
    bounds = summary.get("bounds", {})
    visits, travel = metrics["terms"]["visits"], metrics["terms"]["travel"]
    if bounds:
        lb_v, lb_t = bounds["visits_lower_bound"], bounds["travel_lower_bound_km"]
        out.print(f"Visits {visits} against a lower bound of {lb_v} (gap {_gap(visits, lb_v)}); travel {travel:,.0f} km "
                  f"against {lb_t:,.0f} km (gap {_gap(travel, lb_t)}). Bounds computed without the solver.")
    for stage in metrics["stages"]:
        if stage["objective"] is not None and stage["bound"] is not None:
            out.print(f"  {stage['stage']}: {stage['status']}, objective {stage['objective']:,.0f}, proven bound "
                      f"{stage['bound']:,.0f} (gap {_gap(stage['objective'], stage['bound'])}), {stage['seconds']} s")
    load = RichTable(title="Load per person", title_justify="left")
    for column in ("staff", "sessions", "available half-days", "load %"):
        load.add_column(column, justify="left" if column == "staff" else "right")
    for staff_id, row in metrics["load"].items():
        load.add_row(staff_id, str(row["sessions"]), str(row["available_half_days"]), f"{row['load_pct']}")
    out.print(load)
    if summary["unplanned_pupil_moments"]:
        out.print(f"[yellow]{summary['unplanned_pupil_moments']} pupil-moment(s) are not planned:[/]")
        for reason, count in summary["unplanned_reasons"].items():
            out.print(f"  {count}: {escape(reason)}")
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
                         if move["staff_from"] != move["staff_to"] else ""))
        if len(summary["moved"]) > 50:
            out.print(f"  ... and {len(summary['moved']) - 50} more (clbhealth plan show)")


def _gap(value: float, bound: float) -> str:
    if not bound:
        return "0%" if not value else "n/a"
    return f"{100 * (value - bound) / abs(bound):.1f}%"


@plan_app.command("show")
@handle_errors
def plan_show(
    workspace: WorkspaceOption = None,
    school: Annotated[Optional[str], typer.Option("--school", help="Only this school.")] = None,
    staff: Annotated[Optional[str], typer.Option("--staff", help="Only this person's sessions.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, csv, json or xlsx.")] = "table",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write to this file.", dir_okay=False)] = None,
) -> None:
    """The stored plan: one row per session."""
    import json

    from clbhealth.output import write_frame
    from clbhealth.plan_store import load_plan_frame

    if fmt not in ("table", "csv", "json", "xlsx"):
        raise ClbError(f"--format {fmt!r} is not a format.", hint="Use table, csv, json or xlsx.")
    ws = open_workspace(workspace)
    with ws.connect() as conn:
        frame = load_plan_frame(conn, school=school, staff=staff)
    if fmt == "json":
        records = frame.drop(columns=["kind"]).to_dict(orient="records")
        text = json.dumps(records, ensure_ascii=False, indent=1) + "\n"
        if output is None:
            sys.stdout.write(text)
        else:
            from clbhealth.files import atomic_text

            with atomic_text(output) as handle:
                handle.write(text)
        return
    flat = frame.copy()
    for column in ("staff_ids", "moments", "classes", "pupil_ids"):
        flat[column] = flat[column].map(lambda v: " ".join(str(x) for x in v))
    if fmt == "table" and output is None:
        if flat.empty:
            out.print("No sessions planned (run clbhealth plan).")
            return
        shown = flat.drop(columns=["pupil_ids"]).assign(pupils=frame["pupil_ids"].map(len))
        sys.stdout.write(__import__("clbhealth.output", fromlist=["plain_table"]).plain_table(shown))
        return
    write_frame(flat, fmt, output, sheet="Plan", title=f"{ws.config.clb_name}: plan")
    if output is not None:
        err.print(f"Wrote {len(flat)} session(s) to {output}.")


@plan_app.command("check")
@handle_errors
def plan_check(workspace: WorkspaceOption = None) -> None:
    """Check the stored plan against every hard rule, independently of the solver."""
    from clbhealth.plan_store import load_check_input
    from clbhealth.scheduler.check import check_plan

    ws = open_workspace(workspace)
    data = load_check_input(ws)
    violations = check_plan(data)
    if not violations:
        out.print(f"The plan ({len(data.sessions)} sessions) keeps every hard rule.")
        return
    for violation in violations:
        err.print(f"[red]✗[/] {escape(str(violation))}")
    err.print(f"{len(violations)} violation(s) in {len({v.session_id for v in violations})} session(s).")
    err.print("Re-plan (clbhealth plan) after new objections, refusals, absences or closures.")
    raise typer.Exit(1)


@plan_app.command("explain")
@handle_errors
def plan_explain(
    workspace: WorkspaceOption = None,
    school: Annotated[Optional[str], typer.Option("--school", help="Only this school.")] = None,
) -> None:
    """Why demand is unplanned or late: which rule, and which resource is short when."""
    from clbhealth.plan_explain import explain

    ws = open_workspace(workspace)
    for line in explain(ws, school=school):
        out.print(line, markup=False)


# --- protocols -----------------------------------------------------------------------------------


@protocols_app.command("show")
@handle_errors
def protocols_show(
    workspace: WorkspaceOption = None,
    school_year: Annotated[Optional[str], typer.Option("--school-year", help="Another school year than the workspace's.")] = None,
) -> None:
    """The rules in force for the workspace's school year, with their sources."""
    ws = open_workspace(workspace)
    try:
        year = SchoolYear.parse(school_year) if school_year else ws.config.school_year
    except ValueError as exc:
        raise ClbError(f"--school-year: {exc}.") from None
    protocol = ws.protocol
    protocol.check_year(year)
    out.print(f"[bold]{protocol.name}[/] ({protocol.id}), school year {year}")
    out.print(f"Legal basis: {escape(protocol.source)}")
    for rule in protocol.in_force(year):
        if rule.follows:
            who = f"{rule.interval_months} months after {rule.follows}"
            if rule.three_dose_from_age:
                prefix = "only in the " if rule.only_three_dose else ""
                who += f"; {prefix}3-dose schedule when the first dose is given at {rule.three_dose_from_age} or older"
                if rule.interval_months_three_dose:
                    who += f" ({rule.interval_months_three_dose} month(s) then)"
        elif rule.select == "birth_year":
            who = f"born {year.start_year - (rule.age or 0)} (by birth year, whatever the class)"
        else:
            who = f"grade {', '.join(rule.grades)}; pupils without a grade: born {year.start_year - (rule.age or 0)}"
        if rule.catch_up_grades:
            who += f"; catch-up at {', '.join(rule.catch_up_grades)}"
        if rule.catch_up_max_age:
            who += f" and for pupils up to age {rule.catch_up_max_age}"
        minutes = ws.config.minutes_for(rule.code, rule.minutes)
        kind = "contact moment" if rule.kind == "contact" else "vaccination, needs consent"
        out.print(f"\n[bold]{rule.code}[/]  {rule.name} ({kind})")
        out.print(f"  who:    {who}")
        out.print(f"  staff:  {' + '.join(rule.staff)}, {minutes} min per pupil")
        out.print(f"  valid:  {rule.validity()}")
        out.print(f"  source: {escape(rule.source)}")


# --- doctor, purge, audit (trust and privacy) ------------------------------------------------------


@app.command()
@handle_errors
def doctor(workspace: WorkspaceOption = None) -> None:
    """Check a workspace (schema, integrity, orphans, settings, protocol, permissions, lock) and say what to do."""
    from clbhealth.doctor import check_workspace

    root = Path(workspace).expanduser() if workspace else Path.cwd()
    findings = check_workspace(root)
    problems = [f for f in findings if f.problem]
    for finding in findings:
        mark = "[red]✗[/]" if finding.problem else "[green]✓[/]"
        out.print(f"{mark} {escape(finding.check)}: {escape(finding.message)}")
        if finding.problem and finding.advice:
            out.print(f"    What to do: {finding.advice}", markup=False)
    if problems:
        err.print(f"[bold red]{len(problems)} problem(s)[/] in {escape(str(root))}; see 'What to do' above.")
        raise typer.Exit(1)
    out.print(f"No problems found in {root}.", markup=False)


@app.command()
@handle_errors
def purge(
    left_before: Annotated[str, typer.Option("--left-before", help="Remove pupils who left before this date.")],
    workspace: WorkspaceOption = None,
    dry_run: DryRun = False,
) -> None:
    """Remove pupils who left before DATE, with their history and planned contacts (this workspace only)."""
    from clbhealth.purge import DOSSIER_NOTE, PUPIL_ROWS, purge_left

    day = parse_day(left_before, "--left-before")
    assert day is not None
    ws = open_workspace(workspace)
    result = purge_left(ws, day, dry_run=dry_run)
    if result.per_school:
        table = RichTable(title="pupils who left before " + day.isoformat(), title_justify="left")
        table.add_column("school id")
        table.add_column("pupils", justify="right")
        for row in result.per_school:
            table.add_row(escape(str(row["school_id"])), str(row["pupils"]))
        out.print(table)
    rows = ", ".join(f"{result.rows.get(t, 0)} {what}" for t, what in PUPIL_ROWS)
    verb = "Dry run: would remove" if dry_run else "Removed"
    out.print(f"{verb} {result.pupils} pupil(s) who left before {day.isoformat()}, with {rows}."
              + (" Nothing was written." if dry_run else ""), markup=False)
    out.print(DOSSIER_NOTE, markup=False)


@app.command()
@handle_errors
def audit(
    workspace: WorkspaceOption = None,
    last: Annotated[int, typer.Option("--last", min=1, help="Show the last N entries.")] = 50,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
) -> None:
    """The audit log: every import, export, plan and purge with time, user, command, files and counts."""
    import pandas as pd

    from clbhealth.output import write_frame

    if fmt not in ("table", "csv", "json"):
        raise ClbError(f"--format {fmt!r} is not a format here.", hint="Use table, csv or json.")
    ws = open_workspace(workspace)
    with ws.connect() as conn:
        rows = conn.execute("SELECT audit_id, at, user, command, files, counts FROM audit "
                            "ORDER BY audit_id DESC LIMIT ?", (last,)).fetchall()
    frame = pd.DataFrame([dict(r) for r in reversed(rows)], columns=["audit_id", "at", "user", "command", "files", "counts"])
    if fmt == "table":
        from clbhealth.output import plain_table

        sys.stdout.write(plain_table(frame, max_width=200))
        return
    write_frame(frame, fmt, None)


# --- exports, results, weekly, report (issue 4) --------------------------------------------------

export_app = typer.Typer(help="Files for schools and staff: school workbooks, calendars, attendance sheets.",
                         no_args_is_help=True)
app.add_typer(export_app, name="export")
OutDir = Annotated[Path, typer.Option("--out", help="Folder to write the files to.", file_okay=False)]


@export_app.command("schools")
@handle_errors
def export_schools_command(
    out_dir: OutDir,
    workspace: WorkspaceOption = None,
    school: Annotated[Optional[list[str]], typer.Option("--school", help="Only this school (repeatable).")] = None,
) -> None:
    """One workbook per school site (DIR/<school_id>-<name>.xlsx): the planning and a sheet per session."""
    from clbhealth.exports import export_school_workbooks

    ws = open_workspace(workspace)
    paths = export_school_workbooks(ws, out_dir, school or None)
    out.print(f"Wrote {len(paths)} school workbook(s) to {out_dir}.", markup=False)


@export_app.command("calendars")
@handle_errors
def export_calendars_command(
    out_dir: OutDir,
    workspace: WorkspaceOption = None,
    staff: Annotated[Optional[list[str]], typer.Option("--staff", help="Only this person (repeatable).")] = None,
) -> None:
    """One iCalendar file per person (DIR/<staff_id>-<name>.ics); a re-export updates the same events."""
    from clbhealth.exports import export_calendars

    ws = open_workspace(workspace)
    paths = export_calendars(ws, out_dir, staff or None)
    out.print(f"Wrote {len(paths)} calendar(s) to {out_dir}.", markup=False)


@export_app.command("attendance")
@handle_errors
def export_attendance_command(
    out_file: Annotated[Path, typer.Option("--out", help="The workbook to write (.xlsx).", dir_okay=False)],
    workspace: WorkspaceOption = None,
    session: Annotated[Optional[str], typer.Option("--session", help="The session id, e.g. S000123.")] = None,
    date: Annotated[Optional[str], typer.Option("--date", help="Every session on this day (or use --session).")] = None,
    staff: Annotated[Optional[str], typer.Option("--staff", help="With --date: only this person's sessions.")] = None,
) -> None:
    """The attendance sheet for the nurse: one row per planned pupil and moment, a status drop-down."""
    from clbhealth.exports import export_attendance

    ws = open_workspace(workspace)
    path = export_attendance(ws, out_file, session_id=session, day=parse_day(date, "--date"), staff_id=staff)
    out.print(f"Wrote {path}. Fill in the status column, then: clbhealth import results {path}", markup=False)


@import_app.command("results")
@handle_errors
def import_results_command(
    file: Annotated[Path, typer.Argument(help="The filled-in attendance sheet (from `clbhealth export attendance`).")],
    workspace: WorkspaceOption = None,
    dry_run: DryRun = False,
) -> None:
    """Results of a session into the history: gezien, afwezig, geweigerd, verzet (re-importing changes nothing)."""
    from clbhealth.imports.results import import_results

    ws = open_workspace(workspace)
    render_import(import_results(ws, file, dry_run=dry_run), "results")


@app.command()
@handle_errors
def weekly(
    out_dir: OutDir,
    workspace: WorkspaceOption = None,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Run as on this date (default: today).")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Say what was written (silent otherwise).")] = False,
) -> None:
    """For cron: the coming week's sessions per school and person, backlog, new pupils (DIR/<yyyy-Www>/).

    Exit 0: done; 1: error (also in logs/weekly.log); 3: done, with warnings (e.g. unplanned due pupils).
    """
    from clbhealth.weekly import log, run_weekly

    ws = open_workspace(workspace)
    try:
        day = parse_day(as_of, "--as-of") or dt.date.today()
    except ClbError as exc:
        log(ws, "ERROR", f"weekly: {exc.message}")
        raise
    result = run_weekly(ws, out_dir, day)
    if verbose:
        c = result.counts
        backlog = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in c["backlog"].items())
        out.print(f"Week {result.week}: {c['sessions']} session(s) at {c['schools']} school(s) for {c['staff']} "
                  f"person(s), {c['planned_pupil_moments']} pupil-moment(s); backlog: {backlog}; "
                  f"{c['new_pupils']} new pupil(s).", markup=False)
        out.print(f"{len(result.files)} file(s) in {result.folder}", markup=False)
    for warning in result.warnings:
        err.print(f"[yellow]Warning:[/] {escape(warning)}")
    if result.exit_code:
        raise typer.Exit(result.exit_code)


@app.command()
@handle_errors
def report(
    workspace: WorkspaceOption = None,
    fmt: Annotated[str, typer.Option("--format", help="table, json or html.")] = "table",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write to this file.", dir_okay=False)] = None,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Date of the report (default: today).")] = None,
) -> None:
    """Progress: per school and moment due/planned/done/missed/coverage, doses, load per person, over time."""
    from clbhealth.report import write_report

    ws = open_workspace(workspace)
    day = parse_day(as_of, "--as-of") or dt.date.today()
    write_report(ws, day, fmt, output, out)
    if output is not None:
        err.print(f"Wrote the {fmt} report to {output}.", markup=False)


def main() -> None:
    """Console entry point: private files by default (health data about children)."""
    os.umask(0o077)
    app()


if __name__ == "__main__":
    main()
