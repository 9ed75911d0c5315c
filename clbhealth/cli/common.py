"""What every command shares: the typer apps, common options, error handling and problem listing."""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import sqlite3
from pathlib import Path
from typing import Annotated, Any, Callable, Collection, NoReturn, Optional, Sequence

import typer
from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from clbhealth.core.errors import ClbError, Problem, listed
from clbhealth.core.privacy import mask_insz_like, shown_path
from clbhealth.cli.formats import (  # noqa: F401  (the commands import them from here)
    EXTENSIONS_OF_FORMAT, FORMAT_OF_EXTENSION, check_extension, output_format,
)

app = typer.Typer(
    name="clbhealth",
    help="Preventive health care for a Flemish CLB: rosters, due lists, planning, exports.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish, PowerShell
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _show_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("clbhealth")
        except PackageNotFoundError:  # run from a source tree without installing
            number = "unknown (not installed)"
        typer.echo(f"clbhealth {number}")
        raise typer.Exit(0)


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", help="Show the version and exit.",
                                                callback=_show_version, is_eager=True)] = False) -> None:
    """Preventive health care for a Flemish CLB: rosters, due lists, planning, exports."""
def _words_only_for_arguments() -> None:
    """Arguments show their metavar word (FILE, DIR) only, as options do; recent typer versions add the
    Python type after it (`FILE... <list[Path]>`). Older versions have no such method: nothing to do."""
    from typer.core import TyperArgument

    original = getattr(TyperArgument, "display_type_rich", None)
    if original is None:
        return

    def display_type_rich(self, ctx):
        return None if self.metavar is not None else original(self, ctx)

    TyperArgument.display_type_rich = display_type_rich  # type: ignore[method-assign]


_words_only_for_arguments()
import_app = typer.Typer(help="Import files as schools and staff send them (CSV or XLSX).", no_args_is_help=True)
protocols_app = typer.Typer(help="The rules in force.", no_args_is_help=True)
app.add_typer(import_app, name="import")
app.add_typer(protocols_app, name="protocols")
plan_app = typer.Typer(invoke_without_command=True)  # its help: the docstring of `cli.plan.plan`, with an example
app.add_typer(plan_app, name="plan")
export_app = typer.Typer(help="Files for schools and staff: school workbooks, calendars, attendance sheets.",
                         no_args_is_help=True)
app.add_typer(export_app, name="export")
OutDir = Annotated[Path, typer.Option("--output", "-o", "--out", metavar="DIR", help="Folder to write the files to.",
                                      file_okay=False)]

# Markup off, emoji codes off: whatever a user typed (a school "[bold]An", a path "x[/]y", ":smile:")
# is printed as typed. Style comes only from `styled` (Text pieces), never from parsing a string.
out = Console(highlight=False, soft_wrap=True, markup=False, emoji=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False, emoji=False)

WorkspaceOption = Annotated[
    Optional[Path],
    typer.Option("--workspace", "-w", envvar="CLBHEALTH_WORKSPACE", show_envvar=True, metavar="DIR",
                 help="Workspace folder (default: the current folder).", file_okay=False),
]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Report what would change; write nothing.")]
SkipInvalid = Annotated[bool, typer.Option("--skip-invalid", help="Import the valid rows; report the others.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="For cron: print nothing but warnings and errors "
                                                         "(exit codes unchanged).")]
MAX_LISTED_PROBLEMS = 40
INTERRUPT_REPORTED = False  # set when a command has said it was interrupted (cli.main says it otherwise)


def say(quiet: bool, *pieces: object) -> None:
    """Print what a command did (on stdout), unless --quiet."""
    if not quiet:
        out.print(*pieces)


def handle_errors(func: Callable) -> Callable:
    """Turn the project's own errors into a clear message and exit code, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except ClbError as exc:
            if exc.problems:
                show_problems(exc.problems)
            fail(exc.message, exc.hint, exc.exit_code)
        except KeyboardInterrupt:
            global INTERRUPT_REPORTED
            INTERRUPT_REPORTED = True
            err.print("Interrupted; nothing was changed by the unfinished step.")
            raise typer.Exit(130) from None
        except sqlite3.DatabaseError as exc:
            # A damaged, locked or read-only database: every write is one transaction, so nothing half-done.
            from clbhealth.workspace.access import HINT, is_read_only_failure

            if is_read_only_failure(exc):
                fail("the workspace is read-only (clbhealth.sqlite, its folder or the disk); nothing was changed "
                     "by the unfinished step.", HINT)
            fail(f"the workspace database cannot be used ({exc}); nothing was changed by the unfinished step.",
                 "Run `clbhealth doctor` on the workspace and follow its advice.")
        except OSError as exc:
            from clbhealth.core.files import os_hint, os_problem

            where = f" ({shown_path(exc.filename)})" if exc.filename else ""
            fail(f"{os_problem(exc)}{where}; nothing was changed by the unfinished step.", os_hint(exc))

    return wrapper


def fail(message: str, hint: str | None = None, exit_code: int = 1) -> NoReturn:
    """Print 'Error: message' and the hint on stderr (as typed, INSZ-like digits masked), then exit."""
    err.print(styled(("Error:", "bold red"), " ", mask_insz_like(message)))
    if hint:
        err.print(mask_insz_like(hint))
    raise typer.Exit(exit_code) from None


def styled(*pieces: str | tuple[str, str]) -> Text:
    """One line of plain text with styled pieces: styled(("Plan 3", "bold"), ": 12 sessions").

    Nothing in it is read as markup, so a value in square brackets is shown as typed.
    """
    return Text.assemble(*pieces)


def new_table(title: str, columns: Sequence[str], right: Collection[str] = (), overflow: str = "ellipsis") -> RichTable:
    """A rich table whose title and cells are shown as typed (the consoles read no markup)."""
    table = RichTable(title=Text(title), title_justify="left")
    for column in columns:
        table.add_column(Text(column), justify="right" if column in right else "left", overflow=overflow)  # type: ignore[arg-type]
    return table


def add_cells(table: RichTable, *values: object, style: str | None = None) -> None:
    """One table row; every value as plain text (None as empty), never as markup."""
    table.add_row(*(Text("" if v is None else str(v)) for v in values), style=style)


# --- option values: every range in one place -------------------------------------------------------
# A value outside its range is a usage error (exit 2, as typer gives for any bad option value) that
# names the option, the value and what is allowed; it is refused before the command touches anything.

FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2100, 12, 31)
SEED_MAX = 2**63 - 1  # what OR-Tools (and SQLite) keep as a 64-bit signed integer
COUNT_MAX = 10**6
WORKERS_MAX = 1024
TIME_LIMIT_MAX = 86400.0  # one day of solver time
_DAY_TEXT = re.compile(r"\s*(\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}|\d{4}-\d{1,2}-\d{1,2})\s*")


def day_value(value: object) -> dt.date:
    """A date typed on the command line: yyyy-mm-dd or dd/mm/yyyy, from FIRST_DAY to LAST_DAY."""
    from clbhealth.core.dates import parse_date

    if isinstance(value, dt.date):
        day = value
    else:
        text = str(value)
        allowed = f"write a date from {FIRST_DAY} to {LAST_DAY} as yyyy-mm-dd or dd/mm/yyyy"
        if not _DAY_TEXT.fullmatch(text):
            raise typer.BadParameter(f"{text!r} is not a date; {allowed}.")
        try:
            day = parse_date(text)
        except ValueError as exc:
            raise typer.BadParameter(f"{text!r} {exc}; {allowed}.") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise typer.BadParameter(f"{str(value)!r} is outside {FIRST_DAY} .. {LAST_DAY}; give a date in that range.")
    return day


def whole_number(low: int, high: int) -> Callable[[object], int]:
    """A parser for an integer option from `low` to `high` (inclusive)."""

    def parse(value: object) -> int:
        try:
            number = value if isinstance(value, int) else int(str(value).strip())
        except ValueError:
            raise typer.BadParameter(f"{str(value)!r} is not a whole number; give one from {low} to {high}.") from None
        if not low <= number <= high:
            raise typer.BadParameter(f"{number} is outside {low} .. {high}; give a whole number in that range.")
        return number

    return parse


def seconds_value(value: object) -> float:
    """A time limit in seconds: a finite number in (0, TIME_LIMIT_MAX]."""
    allowed = f"give a number of seconds above 0 and at most {TIME_LIMIT_MAX:g}"
    try:
        seconds = float(value) if isinstance(value, (int, float)) else float(str(value).strip())
    except ValueError:
        raise typer.BadParameter(f"{str(value)!r} is not a number; {allowed}.") from None
    if not math.isfinite(seconds) or not 0 < seconds <= TIME_LIMIT_MAX:
        raise typer.BadParameter(f"{str(value)!r} is outside (0, {TIME_LIMIT_MAX:g}]; {allowed}.")
    return seconds


def school_year_value(value: object):
    """A school year typed on the command line (2026-2027), starting from 2000 to 2099."""
    from clbhealth.core.dates import SchoolYear

    try:
        year = SchoolYear.parse(str(value))
    except ValueError as exc:
        raise typer.BadParameter(f"{exc}.") from None
    if not FIRST_DAY.year <= year.start_year < LAST_DAY.year:
        raise typer.BadParameter(f"{str(value)!r} is outside {FIRST_DAY.year}-{FIRST_DAY.year + 1} .. "
                                 f"{LAST_DAY.year - 1}-{LAST_DAY.year}; give a school year in that range.")
    return year


def name_value(value: object) -> str:
    """A name typed on the command line (the CLB's): plain text with letters, at most 100 characters."""
    from clbhealth.readers.values import parse_name

    try:
        return parse_name(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{str(value)!r} {exc}; give a name of 1 to 100 characters in plain text.") from None


def choice_value(choices: Sequence[str]) -> Callable[[object], str]:
    """A parser for an option with a fixed set of values: a typo is refused naming the closest one."""
    from clbhealth.core.closest import closest

    def parse(value: object) -> str:
        text = str(value).strip()
        if text in choices:
            return text
        if text.lower() in choices:
            return text.lower()
        close = closest(text.lower(), choices, n=1)
        guess = f"; did you mean {close[0]}?" if close else "."
        raise typer.BadParameter(f"{str(value)!r} is not one of {', '.join(choices)}{guess}")

    return parse


def choice_option(flag: str, choices: Sequence[str], help: str, metavar: str = "FORMAT") -> Any:
    """An option taking one of `choices` (a typo gets "did you mean"); the shell completes them."""
    return typer.Option(flag, help=help, parser=choice_value(choices), metavar=metavar,
                        autocompletion=lambda: list(choices))


CSV_SEPARATORS = (";", ",")
CsvSeparator = Annotated[str, typer.Option(
    "--csv-separator", metavar="SEPARATOR", parser=choice_value(CSV_SEPARATORS), autocompletion=lambda: list(CSV_SEPARATORS),
    help="Between the fields of a CSV: ; (default, how Excel set to Dutch (Belgium) opens it in columns) or ,.")]


def day_option(flag: str, help: str) -> Any:
    """A date option (None when not given), parsed and range-checked by `day_value`."""
    return typer.Option(flag, help=help, parser=day_value, metavar="DATE")


def seed_option(help: str) -> Any:
    return typer.Option("--seed", help=help, parser=whole_number(0, SEED_MAX), metavar="N")


def count_option(flag: str, help: str, high: int = COUNT_MAX) -> Any:
    return typer.Option(flag, help=help, parser=whole_number(1, high), metavar="N")


def seconds_option(help: str) -> Any:
    return typer.Option("--time-limit", help=help, parser=seconds_value, metavar="SECONDS")


def school_year_option(help: str) -> Any:
    return typer.Option("--school-year", help=help, parser=school_year_value, metavar="YYYY-YYYY")


def parse_day(value: str | dt.date | None, option: str) -> dt.date | None:
    """A date option's value read in the command itself (already a date when its option used `day_option`)."""
    if value is None:
        return None
    try:
        return day_value(value)
    except typer.BadParameter as exc:
        raise typer.BadParameter(exc.message, param_hint=f"'{option}'") from None


def open_workspace(path: Path | None):
    from clbhealth.workspace.folder import Workspace

    return Workspace.open(path)


def known_schools(workspace, schools: Sequence[str] | None) -> list[str] | None:
    """--school values as site ids (an institution's number stands for its sites); an unknown id is
    refused with the closest known ones. None when no --school was given."""
    if not schools:
        return None
    from clbhealth.workspace.pupils import resolve_school_ids

    with workspace.connect() as conn:
        return resolve_school_ids(conn, schools)


def known_staff(workspace, staff: Sequence[str] | None) -> None:
    """Refuse a --staff value that is not on the staff list, naming the closest known ids."""
    if staff:
        from clbhealth.workspace.staff import resolve_staff_id

        with workspace.connect() as conn:
            for staff_id in staff:
                resolve_staff_id(conn, staff_id)


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
    """Every problem, grouped when there are many of the same kind so none is lost in the noise; a
    group names its first rows and how many more (`--format json` lists each problem)."""
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"]
    for group, style, mark in ((errors, "red", "✗"), (warnings, "yellow", "!")):
        if len(group) <= MAX_LISTED_PROBLEMS:
            for problem in group:
                err.print(styled((mark, style), " ", mask_insz_like(str(problem))))
            continue
        buckets: dict[tuple, list[Problem]] = {}
        for problem in group:
            buckets.setdefault((problem.file, problem.column, problem.message, problem.hint), []).append(problem)
        for (file, column, message, hint), items in buckets.items():
            rows = sorted({p.row for p in items if p.row is not None})
            where = f"{file}, {len(rows)} row(s) [{listed(rows)}]" if rows else f"{file}, {len(items)} time(s)"
            if column:
                where += f", column '{column}'"
            sep = "" if message.endswith((".", ":")) else "."
            text = f"{where}: {message}" + (f"{sep} {hint}" if hint else "")
            err.print(styled((mark, style), " ", mask_insz_like(text)))
