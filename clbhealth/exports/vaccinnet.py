"""`clbhealth export vaccinnet`: the doses the CLB gave, as one CSV group file for Vaccinnet.

The only export that carries the INSZ: it goes to Vaccinnet and nowhere else (file mode 0600 where
the OS has modes). One row per dose given in a CLB session that is not yet registered; every row is
validated first (INSZ check digits, product CNK code, a known lot not expired on the day, the
vaccinator's RIZIV number). A row that cannot be registered is named and the export refused, unless
`skip_invalid`. Exported doses are marked, so the next run exports only new ones; `again` repeats
the doses of a date range. No public column spec of the group file exists (protocol-facts §7): the
columns are named plainly so that they are easy to map.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from clbhealth.core.errors import ClbError, Problem
from clbhealth.core.files import atomic_text
from clbhealth.core.riziv import parse_riziv
from clbhealth.readers.values import parse_insz
from clbhealth.workspace import vaccination as store
from clbhealth.workspace.folder import Workspace, now_text

VACCINNET_COLUMNS = (
    "insz", "family_name", "first_names", "birth_date", "sex", "product_name", "product_cnk", "date_given",
    "lot_number", "vaccinator_riziv", "place",
)
PLACE = "school"  # the Belgian FHIR vaccination profile's care location code (protocol-facts §7)


@dataclass
class VaccinnetResult:
    path: Path
    rows: int = 0
    skipped: int = 0
    problems: list[Problem] = field(default_factory=list)


def registration_problems(dose: dict, cnk: str) -> list[str]:
    """Why one dose cannot be registered (empty: it can)."""
    wrong = []
    try:
        if parse_insz(dose["insz"]) is None:
            wrong.append("the pupil has no INSZ on record (import a roster with the rijksregisternummer)")
    except ValueError as exc:
        wrong.append(f"the pupil's INSZ {exc}")
    if not cnk:
        wrong.append(f"product {dose['product']} has no CNK code (fill it in the protocol; see clbhealth doctor)")
    if dose["expiry"] is None:
        wrong.append(f"lot {dose['lot']} of {dose['product']} is not on record (clbhealth import lots)")
    elif dose["expiry"] < dose["date"]:
        wrong.append(f"lot {dose['lot']} expired on {dose['expiry']}")
    try:
        if parse_riziv(dose["riziv"]) is None:
            wrong.append(f"vaccinator {dose['vaccinator'] or '?'} has no RIZIV number in the staff list")
    except ValueError as exc:
        wrong.append(f"vaccinator {dose['vaccinator']}'s RIZIV number {exc}")
    return wrong


def export_vaccinnet(workspace: Workspace, out: Path, date_from: dt.date | None = None,
                     date_to: dt.date | None = None, *, skip_invalid: bool = False,
                     again: bool = False) -> VaccinnetResult:
    """Write the CSV and mark its doses as exported, in one transaction (a failed write marks nothing)."""
    workspace.require_writable()  # refused before a file is written, never after
    if again and date_from is None and date_to is None:
        raise ClbError("--again repeats the doses of a date range: give --from and/or --to.")
    out = Path(out)
    result = VaccinnetResult(out)
    cnk = {p.name: p.cnk for p in workspace.protocol.products}
    with workspace.writing("export vaccinnet") as session:
        doses = store.doses_to_register(session.conn, date_from and date_from.isoformat(),
                                        date_to and date_to.isoformat(), again)
        good = []
        for dose in doses:
            wrong = registration_problems(dose, cnk.get(dose["product"], ""))
            where = f"session {dose['session_id']}, pupil {dose['pupil_id']}, {dose['moment']} on {dose['date']}"
            for message in wrong:
                result.problems.append(Problem(out.name, f"{where}: {message}",
                                               severity="warning" if skip_invalid else "error"))
            if not wrong:
                good.append(dose)
        if result.problems and not skip_invalid:
            raise ClbError(f"{len(doses) - len(good)} dose(s) cannot be registered; nothing was exported.",
                           hint="Fix what is listed above, or add --skip-invalid to export the others.",
                           problems=result.problems)
        result.skipped = len(doses) - len(good)
        result.rows = len(good)
        session.files.append(str(out))
        session.counts.update({"doses": len(good), "skipped": result.skipped, "again": again})
        if not good:
            return result
        _write(out, good, cnk)
        store.mark_registered(session.conn, [(d["session_id"], d["pupil_id"], d["moment"]) for d in good],
                              now_text())
    return result


def _write(out: Path, doses: list[dict], cnk: dict[str, str]) -> None:
    with atomic_text(out, encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(VACCINNET_COLUMNS)
        for d in doses:
            writer.writerow([
                parse_insz(d["insz"]).number, d["last_name"], d["first_name"], d["birth_date"], d["sex"],
                d["product"], cnk[d["product"]], d["date"], d["lot"], parse_riziv(d["riziv"]), PLACE,
            ])
