"""Workspace commands: init, demo, doctor, purge, audit."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table as RichTable

from clbhealth.cli.common import (
    DryRun,
    WorkspaceOption,
    app,
    err,
    handle_errors,
    open_workspace,
    out,
    parse_day,
)
from clbhealth.core.dates import SchoolYear
from clbhealth.core.errors import ClbError

# --- init, demo --------------------------------------------------------------------------------


@app.command()
@handle_errors
def init(
    directory: Annotated[Path, typer.Argument(help="Folder for the new workspace.", file_okay=False)],
    name: Annotated[str, typer.Option("--name", help="The CLB's name.")] = "CLB",
    school_year: Annotated[Optional[str], typer.Option("--school-year", help="e.g. 2026-2027 (default: the current one).")] = None,
) -> None:
    """Create a workspace: clbhealth.toml (documented settings) and an SQLite database."""
    from clbhealth.workspace.folder import Workspace

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
    from clbhealth.app.demo import run_demo

    run_demo(directory, _DemoConsole(), today=parse_day(as_of, "--as-of"), time_limit=time_limit)


class _DemoConsole:
    """The demo's steps on the terminal (app.demo.DemoPrinter)."""

    def heading(self, title: str, detail: str) -> None:
        out.print(f"[bold]{title}[/] - {detail}")

    def line(self, text: str) -> None:
        out.print(text)

    def table(self, table) -> None:
        shown = RichTable(title=table.title, title_justify="left")
        for column in table.columns:
            shown.add_column(column, justify="right" if column in table.right else "left")
        for row in table.rows:
            shown.add_row(*row)
        out.print(shown)


# --- doctor, purge, audit (trust and privacy) ------------------------------------------------------


@app.command()
@handle_errors
def doctor(workspace: WorkspaceOption = None) -> None:
    """Check a workspace (schema, integrity, orphans, settings, protocol, permissions, lock) and say what to do."""
    from clbhealth.app.doctor import check_workspace

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
    from clbhealth.app.purge import DOSSIER_NOTE, PUPIL_ROWS, purge_left

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

    from clbhealth.exports.frames import write_frame

    if fmt not in ("table", "csv", "json"):
        raise ClbError(f"--format {fmt!r} is not a format here.", hint="Use table, csv or json.")
    ws = open_workspace(workspace)
    from clbhealth.workspace.audit import AUDIT_COLUMNS, recent

    with ws.connect() as conn:
        rows = recent(conn, last)
    frame = pd.DataFrame(rows, columns=list(AUDIT_COLUMNS))
    if fmt == "table":
        from clbhealth.exports.frames import plain_table

        sys.stdout.write(plain_table(frame, max_width=200))
        return
    write_frame(frame, fmt, None)
