"""`clbhealth export ...`, `weekly` and `report`: what leaves the CLB."""

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
    OutDir,
    WorkspaceOption,
    app,
    day_option,
    check_extension,
    check_output,
    check_output_dir,
    err,
    export_app,
    handle_errors,
    known_staff,
    open_workspace,
    out,
    parse_day,
    Quiet,
    say,
    styled,
)
from clbhealth.core.errors import ClbError
from clbhealth.core.privacy import shown_path


@export_app.command("schools")
@handle_errors
def export_schools_command(
    out_dir: OutDir,
    workspace: WorkspaceOption = None,
    school: Annotated[Optional[list[str]], typer.Option("--school", metavar="SCHOOL", help="Only this school (repeatable).")] = None,
    quiet: Quiet = False,
) -> None:
    """One workbook per school site (DIR/<school_id>-<name>.xlsx): the planning and a sheet per session.

    Example: clbhealth export schools -o exports/scholen --school 40642
    """
    from clbhealth.exports import export_school_workbooks

    ws = open_workspace(workspace)
    check_output_dir(ws, out_dir)
    paths = export_school_workbooks(ws, out_dir, school or None)
    say(quiet, f"Wrote {len(paths)} school workbook(s) to {shown_path(out_dir)}.")


@export_app.command("calendars")
@handle_errors
def export_calendars_command(
    out_dir: OutDir,
    workspace: WorkspaceOption = None,
    staff: Annotated[Optional[list[str]], typer.Option("--staff", metavar="STAFF", help="Only this person (repeatable).")] = None,
    quiet: Quiet = False,
) -> None:
    """One iCalendar file per person (DIR/<staff_id>-<name>.ics); a re-export updates the same events.

    Example: clbhealth export calendars -o exports/agenda --staff V01
    """
    from clbhealth.exports import export_calendars

    ws = open_workspace(workspace)
    check_output_dir(ws, out_dir)
    known_staff(ws, staff)  # an unknown id is refused with the closest known ones, before anything is written
    paths = export_calendars(ws, out_dir, staff or None)
    say(quiet, f"Wrote {len(paths)} calendar(s) to {shown_path(out_dir)}.")


@export_app.command("attendance")
@handle_errors
def export_attendance_command(
    out_file: Annotated[Path, typer.Option("--output", "-o", "--out", metavar="FILE", help="The workbook to write (.xlsx).", dir_okay=False)],
    workspace: WorkspaceOption = None,
    session: Annotated[Optional[str], typer.Option("--session", metavar="SESSION", help="The session id, e.g. S000123.")] = None,
    date: Annotated[Optional[dt.date], day_option("--date", "Every session on this day (or use --session).")] = None,
    staff: Annotated[Optional[str], typer.Option("--staff", metavar="STAFF", help="With --date: only this person's sessions.")] = None,
    quiet: Quiet = False,
) -> None:
    """The attendance sheet for the nurse: one row per planned pupil and moment, a status drop-down.

    Example: clbhealth export attendance --date 2026-10-06 --staff V01 -o aanwezigheid.xlsx
    """
    from clbhealth.exports import export_attendance

    ws = open_workspace(workspace)
    check_output(ws, out_file, "xlsx")
    check_extension(out_file, None, "xlsx", ("xlsx",))
    if session is not None:
        from clbhealth.workspace.sessions import resolve_session_id

        with ws.connect() as conn:
            resolve_session_id(conn, session)  # an unknown id is refused with the closest known ones
    path = export_attendance(ws, out_file, session_id=session, day=date, staff_id=staff)
    say(quiet, f"Wrote {shown_path(path)}. Fill in the status column, then: clbhealth import results {shown_path(path)}")


@app.command()
@handle_errors
def weekly(
    out_dir: OutDir,
    workspace: WorkspaceOption = None,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Run as on this date (default: today).",
                                                 metavar="DATE")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Say what was written (silent otherwise).")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Nothing but warnings and errors (the default; "
                                        "for cron lines that say so).")] = False,
    csv_separator: CsvSeparator = ";",
    log_file: Annotated[Optional[Path], typer.Option("--log-file", metavar="FILE", dir_okay=False,
                                                     help="Append the log here (default: logs/weekly.log in the "
                                                          "workspace).")] = None,
    fmt: Annotated[str, choice_option("--format", ("table", "json"), "table (the lines of --verbose) or json "
                                      "(what summary.json says, with the folder).")] = "table",
) -> None:
    """For cron: the coming week's sessions per school and person, backlog, new pupils (DIR/<yyyy-Www>/).

    Exit 0: done; 1: error (also in logs/weekly.log); 3: done, with warnings (e.g. unplanned due pupils).

    Example: clbhealth weekly -w /srv/clb/workspace -o /srv/clb/weekly   (cron: Friday 18:00)
    """
    from clbhealth.app.outputs import check_log_file
    from clbhealth.app.weekly import log, run_weekly

    if quiet and verbose:
        raise typer.BadParameter("--quiet and --verbose contradict each other; give one.", param_hint="'--quiet'")
    ws = open_workspace(workspace)
    if log_file is not None:
        check_log_file(ws, log_file)
    try:  # read here, not by the option, so that cron's log has the refusal too
        day = parse_day(as_of, "--as-of") or dt.date.today()
        check_output_dir(ws, out_dir)
    except typer.BadParameter as exc:
        log(ws, "ERROR", f"weekly: --as-of: {exc.message}", log_file)
        raise
    except ClbError as exc:
        log(ws, "ERROR", f"weekly: {exc.message}", log_file)
        raise
    result = run_weekly(ws, out_dir, day, csv_separator=csv_separator, log_file=log_file)
    if fmt == "json":  # fields: folder, then summary.json's: clb, week, from, to, counts, files, warnings
        import json

        sys.stdout.write(json.dumps({"folder": shown_path(result.folder), **result.summary},
                                    ensure_ascii=False, indent=1) + "\n")
    elif verbose:
        c = result.counts
        backlog = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in c["backlog"].items())
        out.print(f"Week {result.week}: {c['sessions']} session(s) at {c['schools']} school(s) for {c['staff']} "
                  f"person(s), {c['planned_pupil_moments']} pupil-moment(s); backlog: {backlog}; "
                  f"{c['new_pupils']} new pupil(s).")
        out.print(f"{len(result.files)} file(s) in {shown_path(result.folder)}")
    for warning in result.warnings:
        err.print(styled(("Warning:", "yellow"), " ", warning))
    if result.exit_code:
        raise typer.Exit(result.exit_code)


@app.command()
@handle_errors
def report(
    workspace: WorkspaceOption = None,
    fmt: Annotated[Optional[str], choice_option("--format", ("table", "json", "html"), "table, json or html (default: "
                                               "from the -o file's extension, else table).")] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", "--out", metavar="FILE", help="Write to this file.", dir_okay=False)] = None,
    as_of: Annotated[Optional[dt.date], day_option("--as-of", "Date of the report (default: today).")] = None,
    quiet: Quiet = False,
) -> None:
    """Progress: per school and moment due/planned/done/missed/coverage, doses, load per person, over time.

    Example: clbhealth report --as-of 2027-01-31 -o voortgang.html
    """
    from clbhealth.app.report import write_report
    from clbhealth.cli.report_view import print_report

    given, fmt = fmt, output_format(fmt, output, ("table", "json", "html"))
    ws = open_workspace(workspace)
    if fmt in ("json", "html"):
        check_output(ws, output, fmt)
    check_extension(output, given, fmt, ("json", "html"))
    day = as_of or dt.date.today()
    write_report(ws, day, fmt, output, lambda shown: print_report(shown, out))
    if output is not None and not quiet:
        err.print(f"Wrote the {fmt} report to {shown_path(output)}.")
