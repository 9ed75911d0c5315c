"""`clbhealth schools`: the imported school sites."""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated, Optional

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


@app.command("schools")
@handle_errors
def schools_command(
    workspace: WorkspaceOption = None,
    level: Annotated[Optional[str], choice_option("--level", LEVELS, "Only sites of this level: "
                                                 "kleuter, lager, basis or secundair.", metavar="LEVEL")] = None,
    fmt: Annotated[str, choice_option("--format", ("table", "csv", "json"), "table, csv or json.")] = "table",
    csv_separator: CsvSeparator = ";",
) -> None:
    """Every school site: id, site, name, address, position, level, special, CLB and pupils imported.

    Example: clbhealth schools --level secundair --format csv
    """
    from clbhealth.exports.frames import safe_cell
    from clbhealth.workspace.schools import LIST_COLUMNS, list_sites

    ws = open_workspace(workspace)
    with ws.connect() as conn:
        rows = list_sites(conn, level)
    if fmt == "json":
        out.print_json(json.dumps(rows, ensure_ascii=False))
    elif fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=LIST_COLUMNS, delimiter=csv_separator, lineterminator="\n")
        writer.writeheader()
        writer.writerows({key: safe_cell(value) for key, value in row.items()} for row in rows)  # never a formula
        typer.echo(buffer.getvalue(), nl=False)
    else:
        table = new_table(f"{len(rows)} school site(s)", LIST_COLUMNS, right=("site", "lat", "lon", "pupils"))
        for r in rows:
            add_cells(table, *("ja" if r[c] is True else "nee" if r[c] is False else r[c] for c in LIST_COLUMNS))
        out.print(table)
