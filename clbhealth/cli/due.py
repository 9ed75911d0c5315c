"""`clbhealth due` and `clbhealth protocols show`."""

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
    WorkspaceOption,
    add_cells,
    app,
    day_option,
    check_extension,
    check_output,
    err,
    handle_errors,
    new_table,
    open_workspace,
    out,
    protocols_app,
    Quiet,
    school_year_option,
    show_problems,
    styled,
)
from clbhealth.core.dates import SchoolYear
from clbhealth.core.privacy import shown_path

DUE_STATUSES = ("due", "needs_consent", "missed", "done", "objected", "refused")  # protocols.due STATUSES (tested)

# --- due -----------------------------------------------------------------------------------------


@app.command()
@handle_errors
def due(
    workspace: WorkspaceOption = None,
    as_of: Annotated[Optional[dt.date], day_option("--as-of", "Date the list is for (default: today).")] = None,
    school: Annotated[Optional[list[str]], typer.Option("--school", metavar="SCHOOL", help="Only this school (repeatable).")] = None,
    moment: Annotated[Optional[list[str]], typer.Option("--moment", metavar="MOMENT", help="Only this moment or dose code (repeatable).")] = None,
    status: Annotated[Optional[list[str]], choice_option("--status", DUE_STATUSES, "Only this status (repeatable): "
                                                         + ", ".join(DUE_STATUSES) + ".", metavar="STATUS")] = None,
    all_statuses: Annotated[bool, typer.Option("--all", help="Every status, not only due and needs_consent.")] = False,
    fmt: Annotated[Optional[str], choice_option("--format", ("table", "csv", "json", "xlsx"),
                                               "table, csv, json or xlsx (default: from the -o file's "
                                               "extension, else table).")] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", "--out", metavar="FILE", help="Write to this file.", dir_okay=False)] = None,
    csv_separator: CsvSeparator = ";",
    quiet: Quiet = False,
) -> None:
    """Who is due for which contact moment and vaccination dose, and why.

    Example: clbhealth due --as-of 2026-10-05 --school 40642 -o due.xlsx
    """
    from clbhealth.app.due_list import due_list
    from clbhealth.exports.frames import write_frame
    from clbhealth.protocols.due import OUTPUT_COLUMNS

    given, fmt = fmt, output_format(fmt, output, ("table", "csv", "json", "xlsx"))
    ws = open_workspace(workspace)
    check_output(ws, output, "text" if fmt == "table" else fmt)
    check_extension(output, given, fmt, ("xlsx", "csv", "json", "table"))
    day = as_of or dt.date.today()
    frame, warnings = due_list(ws, day, schools=school or (), moments=moment or (), statuses=status or (),
                               include_all=all_statuses)
    show_problems(warnings)
    public = frame[OUTPUT_COLUMNS]
    if fmt == "table" and output is None:
        render_due_table(public, day, ws.protocol.all_codes())
        return
    write_frame(public, fmt, output, sheet="Due", title=f"{ws.config.clb_name}: due list as of {day}",
                separator=csv_separator)
    if output is not None and not quiet:
        err.print(f"Wrote {len(public)} row(s) to {shown_path(output)}.")


def render_due_table(frame, day: dt.date, order: list[str]) -> None:
    from clbhealth.exports.frames import PLAIN_TABLE_ROWS, plain_table

    if len(frame) > PLAIN_TABLE_ROWS or not out.is_terminal:
        sys.stdout.write(plain_table(frame))
    elif len(frame):
        table = new_table(f"Due list as of {day}", list(frame.columns), overflow="fold")
        for row in frame.itertuples(index=False, name=None):
            add_cells(table, *("" if v is None or v != v else v for v in row))
        out.print(table)
    else:
        out.print(f"Nobody matches (as of {day}).")
    statuses = [s for s in ("due", "needs_consent", "missed", "done", "objected", "refused") if s in set(frame["status"])]
    totals = new_table("Totals per moment", ["moment", *statuses, "total"], right=[*statuses, "total"])
    counts = frame.groupby(["moment", "status"], sort=False).size()
    present = set(frame["moment"])
    for moment in [m for m in order if m in present]:
        values = [int(counts.get((moment, s), 0)) for s in statuses]
        add_cells(totals, moment, *values, sum(values))
    if len(frame):
        add_cells(totals, "all", *(int((frame["status"] == s).sum()) for s in statuses), len(frame), style="bold")
        out.print(totals)


# --- protocols -----------------------------------------------------------------------------------


@protocols_app.command("show")
@handle_errors
def protocols_show(
    workspace: WorkspaceOption = None,
    school_year: Annotated[Optional[SchoolYear], school_year_option("Another school year than the workspace's.")] = None,
    fmt: Annotated[str, choice_option("--format", ("table", "json"), "table or json.")] = "table",
) -> None:
    """The rules in force for the workspace's school year, with their sources.

    Example: clbhealth protocols show --school-year 2027-2028
    """
    from clbhealth.app.protocol_view import protocol_data

    fmt = output_format(fmt, None, ("table", "json"))
    data = protocol_data(open_workspace(workspace), school_year)
    if fmt == "json":  # fields: protocol {id, name, source}, school_year, rules [...] (README)
        import json

        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=1) + "\n")
        return
    protocol = data["protocol"]
    out.print(styled((protocol["name"], "bold"), f" ({protocol['id']}), school year {data['school_year']}"))
    out.print(f"Legal basis: {protocol['source']}")
    for rule in data["rules"]:
        kind = "contact moment" if rule["kind"] == "contact" else "vaccination, needs consent"
        out.print(styled("\n", (rule["code"], "bold"), f"  {rule['name']} ({kind})"))
        out.print(f"  who:    {rule['who']}")
        out.print(f"  staff:  {' + '.join(rule['staff'])}, {rule['minutes']} min per pupil")
        out.print(f"  valid:  {rule['valid']}")
        out.print(f"  source: {rule['source']}")
