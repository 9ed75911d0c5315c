"""`clbhealth schools`: the imported school sites."""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated, Optional

import typer
from clbhealth.cli.common import WorkspaceOption, add_cells, app, handle_errors, new_table, open_workspace, out

LEVELS = ("kleuter", "lager", "basis", "secundair")


@app.command("schools")
@handle_errors
def schools_command(
    workspace: WorkspaceOption = None,
    level: Annotated[Optional[str], typer.Option("--level", metavar="LEVEL", help="Only sites of this level: "
                                                 "kleuter, lager, basis or secundair.")] = None,
    fmt: Annotated[str, typer.Option("--format", metavar="FORMAT", help="table, csv or json.")] = "table",
) -> None:
    """Every school site: id, site, name, address, position, level, special, CLB and pupils imported.

    Example: clbhealth schools --level secundair --format csv
    """
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
        table = new_table(f"{len(rows)} school site(s)", LIST_COLUMNS, right=("site", "lat", "lon", "pupils"))
        for r in rows:
            add_cells(table, *("ja" if r[c] is True else "nee" if r[c] is False else r[c] for c in LIST_COLUMNS))
        out.print(table)
