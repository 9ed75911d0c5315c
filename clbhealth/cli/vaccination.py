"""Vaccination commands: consent forms out and back, lots, the Vaccinnet registration and the vaccine order."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Optional

import typer
from clbhealth.cli.common import (
    DryRun, WorkspaceOption, add_cells, app, choice_option, check_extension, check_output, check_output_dir, day_option, err, export_app,
    handle_errors, import_app, known_schools, new_table, open_workspace, out, Quiet, say,
)
from clbhealth.cli.imports import ImportFormat, refused_as_json, render_import
from clbhealth.core.privacy import shown_path

AsOf = Annotated[Optional[dt.date], day_option("--as-of", "The date of today (default: the real today).")]
FromDay = Annotated[Optional[dt.date], day_option("--from", "First date (yyyy-mm-dd).")]
ToDay = Annotated[Optional[dt.date], day_option("--to", "Last date (yyyy-mm-dd).")]


@import_app.command("consent")
@handle_errors
def import_consent_command(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="CSV or XLSX, one row per returned consent form.")],
    workspace: WorkspaceOption = None,
    fmt: ImportFormat = "table",
    quiet: Quiet = False,
    dry_run: DryRun = False,
    as_of: AsOf = None,
) -> None:
    """Returned consent forms: clb/toestemming, geweigerd, eigen arts, al gevaccineerd (a later form replaces).

    Example: clbhealth import consent toestemmingen.xlsx --dry-run
    """
    from clbhealth.imports.consent import import_consent

    with refused_as_json(fmt, "consent", file, dry_run):
        ws = open_workspace(workspace)
        result = import_consent(ws, file, dry_run=dry_run, today=as_of)
    render_import(result, "consent forms", fmt, quiet)


@import_app.command("lots")
@handle_errors
def import_lots_command(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="CSV or XLSX: product, lot, expiry date (and doses received).")],
    workspace: WorkspaceOption = None,
    fmt: ImportFormat = "table",
    quiet: Quiet = False,
    dry_run: DryRun = False,
    as_of: AsOf = None,
) -> None:
    """Vaccine lots received: product (as in the protocol), lot number, expiry date, doses.

    Example: clbhealth import lots loten.csv
    """
    from clbhealth.imports.lots import import_lots

    with refused_as_json(fmt, "lots", file, dry_run):
        ws = open_workspace(workspace)
        result = import_lots(ws, file, dry_run=dry_run, today=as_of)
    render_import(result, "lots", fmt, quiet)


@app.command("lots")
@handle_errors
def lots_command(workspace: WorkspaceOption = None, as_of: AsOf = None,
                 fmt: Annotated[str, choice_option("--format", ("table", "json"), "table or json.")] = "table") -> None:
    """The vaccine lots on record: expiry, doses received and given, expired or not.

    Example: clbhealth lots --as-of 2026-10-01 --format json
    """
    from clbhealth.app.vaccination import lot_rows

    ws = open_workspace(workspace)
    rows = lot_rows(ws, as_of or dt.date.today())
    if fmt == "json":  # fields: product, lot, expiry, received, given, left, expired (README)
        import json
        import sys

        shown = [{**r, "received": None if r["received"] == "" else r["received"],
                  "left": None if r["left"] == "" else r["left"], "expired": r["expired"] == "yes"} for r in rows]
        sys.stdout.write(json.dumps(shown, ensure_ascii=False, indent=1, default=str) + "\n")
        return
    if not rows:
        out.print("No lots on record. Import them with `clbhealth import lots FILE`.")
        return
    table = new_table("Vaccine lots", list(rows[0]))
    for row in rows:
        add_cells(table, *(str(v) for v in row.values()))
    out.print(table)


@export_app.command("vaccinnet")
@handle_errors
def export_vaccinnet_command(
    out_file: Annotated[Path, typer.Option("--output", "-o", "--out", metavar="FILE", help="The CSV file for Vaccinnet.", dir_okay=False)],
    workspace: WorkspaceOption = None,
    date_from: FromDay = None,
    date_to: ToDay = None,
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid", help="Leave out the doses that cannot be "
                                               "registered (listed) and export the others.")] = False,
    again: Annotated[bool, typer.Option("--again", help="Export the doses of the date range again, even those "
                                        "already exported.")] = False,
    quiet: Quiet = False,
) -> None:
    """The doses the CLB gave, not yet registered, as a CSV for Vaccinnet (the only export with INSZ).

    Example: clbhealth export vaccinnet -o vaccinnet.csv
    """
    from clbhealth.cli.common import show_problems
    from clbhealth.exports.vaccinnet import export_vaccinnet

    ws = open_workspace(workspace)
    check_output(ws, out_file, "csv")
    check_extension(out_file, None, "csv", ("csv",))
    result = export_vaccinnet(ws, out_file, date_from, date_to, skip_invalid=skip_invalid, again=again)
    show_problems(result.problems)
    if result.rows == 0:
        say(quiet, "No doses to register: nothing was written." + ("" if again else
            " (Use --again with --from/--to to repeat exported doses.)"))
    else:
        say(quiet, f"Wrote {result.rows} dose(s) to {shown_path(out_file)}; they are marked as exported.")
    if result.skipped:
        err.print(f"{result.skipped} dose(s) could not be registered and were left out (listed above).")
        raise typer.Exit(3)


@export_app.command("consent-forms")
@handle_errors
def export_consent_forms_command(
    out_dir: Annotated[Path, typer.Option("--output", "-o", "--out", metavar="DIR", help="Folder to write the PDFs to.", file_okay=False)],
    workspace: WorkspaceOption = None,
    school: Annotated[Optional[list[str]], typer.Option("--school", metavar="SCHOOL", help="Only this school (repeatable).")] = None,
    moment: Annotated[Optional[str], typer.Option("--moment", metavar="MOMENT", help="Only this vaccination code, e.g. HPV1.")] = None,
    date_from: FromDay = None,
    date_to: ToDay = None,
    as_of: AsOf = None,
    quiet: Quiet = False,
) -> None:
    """Consent letters (PDF, A4, one per pupil and vaccine) and a class list per school to tick 'formulier terug'.

    Example: clbhealth export consent-forms -o brieven --moment HPV1
    """
    from clbhealth.exports.consent_forms import export_consent_forms

    ws = open_workspace(workspace)
    check_output_dir(ws, out_dir)
    sites = known_schools(ws, school)  # an unknown id is refused with the closest known ones
    paths = export_consent_forms(ws, out_dir, sites, moment, date_from, date_to, today=as_of)
    say(quiet, f"Wrote {len(paths) // 2} school(s) of consent letters and class lists to {shown_path(out_dir)}.")


@export_app.command("vaccine-order")
@handle_errors
def export_vaccine_order_command(
    out_file: Annotated[Path, typer.Option("--output", "-o", "--out", metavar="FILE", help="The workbook to write (.xlsx).", dir_okay=False)],
    workspace: WorkspaceOption = None,
    date_from: FromDay = None,
    date_to: ToDay = None,
    quiet: Quiet = False,
) -> None:
    """Per week and product: doses planned (consented plus expected) and doses in stock by lot.

    Example: clbhealth export vaccine-order -o bestelling.xlsx --from 2026-10-01 --to 2026-12-31
    """
    from clbhealth.exports.vaccine_order import export_vaccine_order

    ws = open_workspace(workspace)
    check_output(ws, out_file, "xlsx")
    check_extension(out_file, None, "xlsx", ("xlsx",))
    path, rows = export_vaccine_order(ws, out_file, date_from, date_to)
    say(quiet, f"Wrote {rows} week-product row(s) to {shown_path(path)}.")
