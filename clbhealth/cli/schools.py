"""`clbhealth schools`: the imported school sites."""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated, Optional

import typer
from rich.table import Table as RichTable

from clbhealth.cli.common import WorkspaceOption, app, handle_errors, open_workspace, out

LEVELS = ("kleuter", "lager", "basis", "secundair")


@app.command("schools")
@handle_errors
def schools_command(
    workspace: WorkspaceOption = None,
    level: Annotated[Optional[str], typer.Option("--level", help="Only sites of this level: "
                                                 "kleuter, lager, basis or secundair.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
) -> None:
    """Every school site: id, site, name, address, position, level, special, CLB and pupils imported."""
    from clbhealth.core.errors import ClbError
    from clbhealth.workspace.schools import LIST_COLUMNS, list_sites

    if level is not None and level not in LEVELS:
        raise ClbError(f"--level {level!r} is not a level.", hint=f"Use one of {', '.join(LEVELS)}.")
    if fmt not in ("table", "csv", "json"):
        raise ClbError(f"--format {fmt!r} is not a format.", hint="Use table, csv or json.")
    ws = open_workspace(workspace)
    with ws.connect() as conn:
        rows = list_sites(conn, level)
    if fmt == "json":
        out.print_json(json.dumps(rows, ensure_ascii=False))
    elif fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=LIST_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        typer.echo(buffer.getvalue(), nl=False)
    else:
        table = RichTable(title=f"{len(rows)} school site(s)", title_justify="left")
        for column in LIST_COLUMNS:
            table.add_column(column, justify="right" if column in ("site", "lat", "lon", "pupils") else "left")
        for r in rows:
            table.add_row(*("" if r[c] is None else ("ja" if r[c] is True else "nee" if r[c] is False else str(r[c]))
                            for c in LIST_COLUMNS))
        out.print(table)
