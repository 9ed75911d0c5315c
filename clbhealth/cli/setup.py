"""Workspace commands: init, demo, doctor, purge, audit."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from clbhealth.cli.common import (
    choice_option,
    CsvSeparator,
    output_format,
    DryRun,
    WorkspaceOption,
    add_cells,
    app,
    count_option,
    day_option,
    day_value,
    err,
    handle_errors,
    name_value,
    new_table,
    open_workspace,
    out,
    Quiet,
    school_year_option,
    seconds_option,
    styled,
)
from clbhealth.core.dates import SchoolYear
from clbhealth.core.privacy import shown_path

# --- init, demo --------------------------------------------------------------------------------


@app.command()
@handle_errors
def init(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="Folder for the new workspace.", file_okay=False)],
    name: Annotated[str, typer.Option("--name", help="The CLB's name.", parser=name_value, metavar="NAME")] = "CLB",
    school_year: Annotated[Optional[SchoolYear], school_year_option("e.g. 2026-2027 (default: the current one).")] = None,
) -> None:
    """Create a workspace: clbhealth.toml (documented settings) and an SQLite database.

    Example: clbhealth init mijn-clb --name "CLB Kempen"
    """
    from clbhealth.workspace.folder import Workspace

    year = school_year or SchoolYear.containing(dt.date.today())
    workspace = Workspace.create(directory, name, year)
    out.print(f"Created workspace {shown_path(workspace.root)} for {name}, school year {year}.")
    out.print(f"Settings: {shown_path(workspace.root / 'clbhealth.toml')}")
    out.print("Next: clbhealth import schools FILE -w " + shown_path(workspace.root))


@app.command()
@handle_errors
def demo(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="Folder for the demo workspace.", file_okay=False)] = Path("clbhealth-demo"),
    time_limit: Annotated[float, seconds_option("Planner work budget in seconds.")] = 10.0,
    as_of: Annotated[Optional[dt.date], day_option("--as-of", "The demo's date (default: today within the "
                                                   "samples' school year, else 2026-12-01).")] = None,
) -> None:
    """Build a workspace from the bundled samples and run the whole chain on it: import, due list,
    plan, check, school workbooks, calendars, attendance sheet, weekly lists, report.

    Example: clbhealth demo clbhealth-demo
    """
    from clbhealth.app.demo import run_demo

    run_demo(directory, _DemoConsole(), today=as_of, time_limit=time_limit)


class _DemoConsole:
    """The demo's steps on the terminal (app.demo.DemoPrinter)."""

    def heading(self, title: str, detail: str) -> None:
        out.print(styled((title, "bold"), f" - {detail}"))

    def line(self, text: str) -> None:
        out.print(text)

    def table(self, table) -> None:
        shown = new_table(table.title, table.columns, right=table.right)
        for row in table.rows:
            add_cells(shown, *row)
        out.print(shown)


# --- doctor, purge, audit (trust and privacy) ------------------------------------------------------


@app.command()
@handle_errors
def doctor(workspace: WorkspaceOption = None,
           fmt: Annotated[str, choice_option("--format", ("table", "json"), "table or json.")] = "table",
           quiet: Quiet = False) -> None:
    """Check a workspace (schema, integrity, orphans, settings, protocol, permissions, lock) and say what to do.

    Example: clbhealth doctor -w mijn-clb --format json
    """
    from clbhealth.app.doctor import check_workspace

    fmt = output_format(fmt, None, ("table", "json"))
    root = Path(workspace).expanduser() if workspace else Path.cwd()
    findings = check_workspace(root)
    problems = [f for f in findings if f.problem]
    if fmt == "json":  # fields: workspace, problems, findings [{check, message, problem, advice}]
        import json
        import sys

        sys.stdout.write(json.dumps({"workspace": shown_path(root), "problems": len(problems), "findings": [
            {"check": f.check, "message": f.message, "problem": f.problem, "advice": f.advice} for f in findings]},
            ensure_ascii=False, indent=1) + "\n")
        if problems:
            raise typer.Exit(1)
        return
    for finding in findings:
        if quiet and not finding.problem:  # for cron: only what needs doing
            continue
        mark = ("✗", "red") if finding.problem else ("✓", "green")
        out.print(styled(mark, f" {finding.check}: {finding.message}"))
        if finding.problem and finding.advice:
            out.print(f"    What to do: {finding.advice}")
    if problems:
        err.print(styled((f"{len(problems)} problem(s)", "bold red"), f" in {shown_path(root)}; see 'What to do' above."))
        raise typer.Exit(1)
    if not quiet:
        out.print(f"No problems found in {shown_path(root)}.")


@app.command()
@handle_errors
def purge(
    left_before: Annotated[dt.date, typer.Option("--left-before", help="Remove pupils who left before this date.",
                                                 parser=day_value, metavar="DATE")],
    workspace: WorkspaceOption = None,
    dry_run: DryRun = False,
    fmt: Annotated[str, choice_option("--format", ("table", "json"), "table or json.")] = "table",
) -> None:
    """Remove pupils who left before DATE, with their history and planned contacts (this workspace only).

    Example: clbhealth purge --left-before 2025-09-01 --dry-run
    """
    from clbhealth.app.purge import DOSSIER_NOTE, PUPIL_ROWS, purge_left

    day = left_before
    ws = open_workspace(workspace)
    result = purge_left(ws, day, dry_run=dry_run)
    if fmt == "json":  # fields: left_before, dry_run, pupils, rows {events, session_pupils, unplanned}, per_school, note
        import json

        sys.stdout.write(json.dumps({
            "left_before": day.isoformat(), "dry_run": dry_run, "pupils": result.pupils,
            "rows": {table: result.rows.get(table, 0) for table, _ in PUPIL_ROWS},
            "per_school": [{"school_id": r["school_id"], "pupils": r["pupils"]} for r in result.per_school],
            "note": DOSSIER_NOTE}, ensure_ascii=False, indent=1) + "\n")
        return
    if result.per_school:
        table = new_table("pupils who left before " + day.isoformat(), ("school id", "pupils"), right=("pupils",))
        for row in result.per_school:
            add_cells(table, row["school_id"], row["pupils"])
        out.print(table)
    rows = ", ".join(f"{result.rows.get(t, 0)} {what}" for t, what in PUPIL_ROWS)
    verb = "Dry run: would remove" if dry_run else "Removed"
    out.print(f"{verb} {result.pupils} pupil(s) who left before {day.isoformat()}, with {rows}."
              + (" Nothing was written." if dry_run else ""))
    out.print(DOSSIER_NOTE)


@app.command()
@handle_errors
def audit(
    workspace: WorkspaceOption = None,
    last: Annotated[int, count_option("--last", "Show the last N entries.")] = 50,
    fmt: Annotated[str, choice_option("--format", ("table", "csv", "json"), "table, csv or json.")] = "table",
    csv_separator: CsvSeparator = ";",
) -> None:
    """The audit log: every import, export, plan and purge with time, user, command, files and counts.

    Example: clbhealth audit --last 20
    """
    import pandas as pd

    from clbhealth.exports.frames import write_frame

    ws = open_workspace(workspace)
    from clbhealth.workspace.audit import AUDIT_COLUMNS, recent

    with ws.connect() as conn:
        rows = recent(conn, last)
    frame = pd.DataFrame(rows, columns=list(AUDIT_COLUMNS))
    if fmt == "table":
        from clbhealth.exports.frames import plain_table

        sys.stdout.write(plain_table(frame, max_width=200))
        return
    write_frame(frame, fmt, None, separator=csv_separator)
