"""The `clbhealth` command line: parse, call, render. Logic lives in the modules below."""

from __future__ import annotations

import datetime as dt
import functools
import os
import sys
from pathlib import Path
from typing import Annotated, Callable, Optional

import typer
from rich.console import Console
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
            err.print(f"[bold red]Error:[/] {exc.message}")
            if exc.hint:
                err.print(exc.hint)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err.print("Interrupted; nothing was changed by the unfinished step.")
            raise typer.Exit(130) from None

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
                err.print(f"[{style}]{mark}[/] {problem}", markup=True, highlight=False)
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
            err.print(f"[{style}]{mark}[/] {where}: {message}" + (f"{sep} {hint}" if hint else ""))


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
) -> None:
    """Build a workspace from the bundled samples and run the main job on it."""
    from clbhealth.demo import run_demo

    run_demo(directory, out)


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
            table.add_row(*("" if v is None or v != v else str(v) for v in row))
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
    out.print(f"Legal basis: {protocol.source}")
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
        out.print(f"  source: {rule.source}")


def main() -> None:
    """Console entry point: private files by default (health data about children)."""
    os.umask(0o077)
    app()


if __name__ == "__main__":
    main()
