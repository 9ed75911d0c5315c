"""`clbhealth schools` and `clbhealth staff`: the imported school sites and the staff list."""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated, Optional, Sequence

import typer
from clbhealth.cli.common import (
    CsvSeparator,
    WorkspaceOption,
    add_cells,
    app,
    choice_option,
    handle_errors,
    new_table,
    open_workspace,
    out,
)

LEVELS = ("kleuter", "lager", "basis", "secundair")
ROLES = ("nurse", "doctor", "psychosocial")
ListFormat = Annotated[str, choice_option("--format", ("table", "csv", "json"), "table, csv or json.")]


def print_rows(rows: list[dict], columns: Sequence[str], fmt: str, separator: str, title: str,
               right: Sequence[str] = ()) -> None:
    """A listing on stdout: a JSON list of objects, a CSV (never a formula in a cell) or a table."""
    from clbhealth.exports.frames import safe_cell

    if fmt == "json":
        out.print_json(json.dumps(rows, ensure_ascii=False))
    elif fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(columns), delimiter=separator, lineterminator="\n")
        writer.writeheader()
        writer.writerows({key: safe_cell(value) for key, value in row.items()} for row in rows)
        typer.echo(buffer.getvalue(), nl=False)
    else:
        table = new_table(title, columns, right=right)
        for r in rows:
            add_cells(table, *("ja" if r[c] is True else "nee" if r[c] is False else r[c] for c in columns))
        out.print(table)


@app.command("schools")
@handle_errors
def schools_command(
    workspace: WorkspaceOption = None,
    level: Annotated[Optional[str], choice_option("--level", LEVELS, "Only sites of this level: "
                                                 "kleuter, lager, basis or secundair.", metavar="LEVEL")] = None,
    fmt: ListFormat = "table",
    csv_separator: CsvSeparator = ";",
) -> None:
    """Every school site: id, site, name, address, position, level, special, CLB and pupils imported.

    Example: clbhealth schools --level secundair --format csv
    """
    from clbhealth.workspace.schools import LIST_COLUMNS, list_sites

    ws = open_workspace(workspace)
    with ws.connect() as conn:
        rows = list_sites(conn, level)
    print_rows(rows, LIST_COLUMNS, fmt, csv_separator, f"{len(rows)} school site(s)",
               right=("site", "lat", "lon", "pupils"))


@app.command("staff")
@handle_errors
def staff_command(
    workspace: WorkspaceOption = None,
    role: Annotated[Optional[str], choice_option("--role", ROLES, "Only this role: nurse, doctor or psychosocial.",
                                                metavar="ROLE")] = None,
    everyone: Annotated[bool, typer.Option("--all", help="Also those no longer on the imported staff list.")] = False,
    fmt: ListFormat = "table",
    csv_separator: CsvSeparator = ";",
) -> None:
    """The staff list: id, name, role, where their travel starts (own base or the CLB office),
    half-days available and fixed schools. These are the ids --staff takes.

    Example: clbhealth staff --role nurse --format json
    """
    from clbhealth.workspace.staff import STAFF_LIST_COLUMNS, list_staff

    ws = open_workspace(workspace)
    with ws.connect() as conn:
        rows = list_staff(conn, include_inactive=everyone, role=role)
    hidden = () if fmt != "table" else ("base_lat", "base_lon") if everyone else ("active", "base_lat", "base_lon")
    columns = [c for c in STAFF_LIST_COLUMNS if c not in hidden]
    if not rows and fmt == "table":
        out.print("Nobody on the staff list" + (f" with role {role}" if role else "")
                  + ". Import it with `clbhealth import staff FILE`.")
        return
    print_rows(rows, columns, fmt, csv_separator, f"{len(rows)} person(s) on the staff list")
