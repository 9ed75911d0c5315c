"""`clbhealth import ...`: files as schools and staff send them, and session results."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer
from clbhealth.core.errors import ClbError
from clbhealth.core.privacy import mask_insz_like, shown_path
from clbhealth.cli.common import (
    choice_option,
    DryRun,
    output_format,
    Quiet,
    SkipInvalid,
    WorkspaceOption,
    add_cells,
    err,
    handle_errors,
    import_app,
    known_schools,
    new_table,
    open_workspace,
    out,
    show_problems,
    styled,
)

# --- imports -------------------------------------------------------------------------------------


ImportFormat = Annotated[str, choice_option("--format", ("table", "json"),
                                           "table, or json for scripts (the summary, totals and problems).")]


def render_import(result, what: str, fmt: str = "table", quiet: bool = False) -> None:
    """The import's summary as a table (problems on stderr), or as one JSON object on stdout;
    with `quiet` only the problems."""
    fmt = output_format(fmt, None, ("table", "json"))
    if fmt == "json":
        _import_json(result)
    elif quiet:
        show_problems(result.warnings + result.errors)
    else:
        _import_table(result, what)
    if result.skipped_rows:
        if fmt == "table":
            err.print(styled((f"{result.skipped_rows} invalid row(s) were skipped (listed above).", "yellow")))
        raise typer.Exit(3)


def _import_json(result, refused: ClbError | None = None) -> None:
    """Fields: kind, files, dry_run, written, totals, summary, skipped_rows, warnings, errors (each
    problem {file, row, column, value, message, hint, severity}; values of INSZ columns masked),
    refused (null, or {message, hint} when nothing was imported: the exit code is then 1)."""
    import dataclasses
    import json
    import sys

    def problem(p) -> dict:
        return {k: (shown_path(v, name_only=True) if k == "file" and v else v)
                for k, v in dataclasses.asdict(p).items()}

    sys.stdout.write(json.dumps({
        "kind": result.kind, "files": [shown_path(f) for f in result.files], "dry_run": result.dry_run,
        "written": result.written, "totals": result.totals, "summary": result.summary,
        "skipped_rows": result.skipped_rows, "warnings": [problem(p) for p in result.warnings],
        "errors": [problem(p) for p in result.errors],
        "refused": None if refused is None else {"message": mask_insz_like(refused.message),
                                                 "hint": mask_insz_like(refused.hint) if refused.hint else None}},
        ensure_ascii=False, indent=1, default=str) + "\n")


@contextmanager
def refused_as_json(fmt: str, kind: str, files, dry_run: bool = False):
    """With --format json, an import that is refused (its rows, its file, the workspace) still prints
    its JSON document on stdout: nothing written, the problems, and why (`refused`); exit code 1."""
    try:
        yield
    except ClbError as exc:
        if fmt != "json":
            raise
        from clbhealth.imports.common import ImportResult

        files = [str(f) for f in (files if isinstance(files, list) else [files])]
        problems = exc.problems
        result = ImportResult(kind=kind, files=files, dry_run=dry_run,
                              errors=[p for p in problems if p.severity == "error"],
                              warnings=[p for p in problems if p.severity != "error"])
        _import_json(result, exc)
        raise ClbError(exc.message, hint=exc.hint, exit_code=exc.exit_code) from None


def _import_table(result, what: str) -> None:
    show_problems(result.warnings + result.errors)
    if result.summary:
        keys = list(result.summary[0])
        table = new_table(f"{what} import" + (" (dry run)" if result.dry_run else ""), [k.replace("_", " ") for k in keys],
                          right=[k.replace("_", " ") for k in keys if k not in ("school_id", "status", "schools")])
        for row in result.summary:
            add_cells(table, *row.values())
        out.print(table)
    totals = ", ".join(f"{v} {k}" for k, v in result.totals.items())
    if result.dry_run:
        out.print(f"Dry run: would import {totals}. Nothing was written.")
    else:
        out.print(f"Imported {what}: {totals}.")


@import_app.command("schools")
@handle_errors
def import_schools_command(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The official list (Onderwijsaanbod in Vlaanderen) or an own CSV/XLSX.")],
    workspace: WorkspaceOption = None,
    fmt: ImportFormat = "table",
    quiet: Quiet = False,
    clb: Annotated[Optional[str], typer.Option("--clb", metavar="CLB", help="Keep the institutions this CLB serves "
                                               "(its instellingsnummer, column 'clb' of the official list).")] = None,
    dry_run: DryRun = False,
    skip_invalid: SkipInvalid = False,
) -> None:
    """Import school sites: the official list (BaO and SO only, Lambert 72 positions converted),
    or an own file with school_id, name, street, postcode, municipality, lat, lon, level.

    Example: clbhealth import schools onderwijsaanbod.csv --clb 114975 --dry-run
    """
    from clbhealth.imports.schools import import_schools

    with refused_as_json(fmt, "schools", file, dry_run):
        ws = open_workspace(workspace)
        clb_number = clb.strip() if clb is not None else None
        if clb_number is not None and not clb_number.isdigit():
            raise ClbError(f"--clb {clb!r} is not a CLB number.", hint="Give the CLB's instellingsnummer, e.g. 114975.")
        result = import_schools(ws, file, clb=clb_number, dry_run=dry_run, skip_invalid=skip_invalid)
    render_import(result, "schools", fmt, quiet)


@import_app.command("roster")
@handle_errors
def import_roster_command(
    files: Annotated[list[Path], typer.Argument(metavar="FILE...", help="One or more rosters (CSV or XLSX); give all files of a school at once.")],
    workspace: WorkspaceOption = None,
    fmt: ImportFormat = "table",
    quiet: Quiet = False,
    school: Annotated[Optional[str], typer.Option("--school", metavar="SCHOOL", help="School id for files without a school column.")] = None,
    site: Annotated[Optional[str], typer.Option("--site", metavar="SITE", help="Site (vestigingsplaats number) for files without "
                                                "that column; default the school's main site.")] = None,
    dry_run: DryRun = False,
    skip_invalid: SkipInvalid = False,
    same_pupils: Annotated[bool, typer.Option(
        "--same-pupils", help="Rows whose pupil number or INSZ changed are the known pupils of the same name and "
                              "birth date (a school that renumbered its pupils); check with --dry-run first.")] = False,
) -> None:
    """Import pupils; a school's roster replaces what is known of that school (pupils not listed have left).

    Example: clbhealth import roster leerlingen-40642.xlsx --dry-run
    """
    from clbhealth.imports.roster import import_roster

    with refused_as_json(fmt, "roster", files, dry_run):
        ws = open_workspace(workspace)
        if school is not None and school.strip():
            known_schools(ws, [school])  # an unknown --school is refused with the closest known ones, not row by row
        result = import_roster(ws, files, school=school, site=site, dry_run=dry_run, skip_invalid=skip_invalid,
                               same_pupils=same_pupils)
    render_import(result, "roster", fmt, quiet)


@import_app.command("history")
@handle_errors
def import_history_command(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="CSV or XLSX, one row per event.")],
    workspace: WorkspaceOption = None,
    fmt: ImportFormat = "table",
    quiet: Quiet = False,
    dry_run: DryRun = False,
    skip_invalid: SkipInvalid = False,
) -> None:
    """Import history: contacts done, doses given, absences, consent, objections.

    Example: clbhealth import history historiek.csv --dry-run
    """
    from clbhealth.imports.history import import_history

    with refused_as_json(fmt, "history", file, dry_run):
        ws = open_workspace(workspace)
        result = import_history(ws, file, dry_run=dry_run, skip_invalid=skip_invalid)
    render_import(result, "history", fmt, quiet)


Replace = Annotated[bool, typer.Option("--replace", help="Replace all known entries with this file's.")]


@import_app.command("staff")
@handle_errors
def import_staff_command(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="CSV or XLSX: staff_id, name, role, base_lat, base_lon, availability, schools.")],
    workspace: WorkspaceOption = None,
    fmt: ImportFormat = "table",
    quiet: Quiet = False,
    dry_run: DryRun = False,
    skip_invalid: SkipInvalid = False,
) -> None:
    """Import the staff doing systematic contacts; the list replaces the previous one.

    Example: clbhealth import staff personeel.csv
    """
    from clbhealth.imports.staff import import_staff

    with refused_as_json(fmt, "staff", file, dry_run):
        ws = open_workspace(workspace)
        result = import_staff(ws, file, dry_run=dry_run, skip_invalid=skip_invalid)
    render_import(result, "staff", fmt, quiet)


@import_app.command("absences")
@handle_errors
def import_absences_command(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="CSV or XLSX: staff_id, from, to, part (am/pm or empty).")],
    workspace: WorkspaceOption = None,
    fmt: ImportFormat = "table",
    quiet: Quiet = False,
    dry_run: DryRun = False,
    skip_invalid: SkipInvalid = False,
    replace: Replace = False,
) -> None:
    """Import staff absences (added to those known; --replace to start over).

    Example: clbhealth import absences afwezigheden.csv
    """
    from clbhealth.imports.staff import import_absences

    with refused_as_json(fmt, "absences", file, dry_run):
        ws = open_workspace(workspace)
        result = import_absences(ws, file, dry_run=dry_run, skip_invalid=skip_invalid, replace=replace)
    render_import(result, "absences", fmt, quiet)


@import_app.command("closures")
@handle_errors
def import_closures_command(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="CSV or XLSX: school_id, from, to, reason.")],
    workspace: WorkspaceOption = None,
    fmt: ImportFormat = "table",
    quiet: Quiet = False,
    dry_run: DryRun = False,
    skip_invalid: SkipInvalid = False,
    replace: Replace = False,
) -> None:
    """Import school closures (study days, trips) on top of the Flemish school calendar.

    Example: clbhealth import closures sluitingsdagen.csv
    """
    from clbhealth.imports.staff import import_closures

    with refused_as_json(fmt, "closures", file, dry_run):
        ws = open_workspace(workspace)
        result = import_closures(ws, file, dry_run=dry_run, skip_invalid=skip_invalid, replace=replace)
    render_import(result, "closures", fmt, quiet)


@import_app.command("results")
@handle_errors
def import_results_command(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The filled-in attendance sheet (from `clbhealth export attendance`).")],
    workspace: WorkspaceOption = None,
    fmt: ImportFormat = "table",
    quiet: Quiet = False,
    dry_run: DryRun = False,
) -> None:
    """Results of a session into the history: gezien, afwezig, geweigerd, verzet (re-importing changes nothing).

    Example: clbhealth import results aanwezigheid.xlsx --dry-run
    """
    from clbhealth.imports.results import import_results

    with refused_as_json(fmt, "results", file, dry_run):
        ws = open_workspace(workspace)
        result = import_results(ws, file, dry_run=dry_run)
    render_import(result, "results", fmt, quiet)
