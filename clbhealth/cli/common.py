"""What every command shares: the typer apps, common options, error handling and problem listing."""

from __future__ import annotations

import datetime as dt
import functools
import sqlite3
from pathlib import Path
from typing import Annotated, Callable, Optional

import typer
from rich.console import Console
from rich.markup import escape

from clbhealth.core.errors import ClbError, Problem

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
plan_app = typer.Typer(help="Plan nurse and doctor sessions across all schools (OR-Tools CP-SAT).",
                       invoke_without_command=True)
app.add_typer(plan_app, name="plan")
export_app = typer.Typer(help="Files for schools and staff: school workbooks, calendars, attendance sheets.",
                         no_args_is_help=True)
app.add_typer(export_app, name="export")
OutDir = Annotated[Path, typer.Option("--out", help="Folder to write the files to.", file_okay=False)]

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
        from clbhealth.core.dates import parse_date

        return parse_date(value)
    except ValueError as exc:
        raise ClbError(f"{option} {value!r} {exc}.", hint="Write a date as yyyy-mm-dd or dd/mm/yyyy.") from None


def open_workspace(path: Path | None):
    from clbhealth.workspace.folder import Workspace

    return Workspace.open(path)


def check_output(workspace, path: Path | None, kind: str) -> None:
    """Refuse an output file that would overwrite a workspace file or a file of another kind (before writing)."""
    if path is not None:
        from clbhealth.app.outputs import check_output_file

        check_output_file(workspace, path, kind)


def check_output_dir(workspace, folder: Path) -> None:
    """Refuse an output folder whose files would mix with a workspace's own (before writing)."""
    from clbhealth.app.outputs import check_output_folder

    check_output_folder(workspace, folder)


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
