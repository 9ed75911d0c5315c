"""`clbhealth import history`: what happened to each pupil (contacts done, doses, consent, objections)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from clbhealth.core.dates import parse_date
from clbhealth.core.privacy import shown_path
from clbhealth.core.errors import ClbError, Problem
from clbhealth.imports.common import ImportResult, RowChecker, refuse_if_invalid
from clbhealth.protocols.due import EVENT_STATUSES
from clbhealth.readers.tabular import FieldSpec, Table, read_table
from clbhealth.readers.values import mask_insz, parse_insz, parse_label, parse_pupil_number, parse_school_id
from clbhealth.workspace import history as event_rows, roster as pupil_rows
from clbhealth.workspace.folder import Workspace, now_text

HISTORY_FIELDS = (
    FieldSpec("insz", ("rijksregisternummer", "nationalRegistrationNo", "insz_nummer", "rrn", "rijksregister",
                       "nationaal nummer", "bisnummer")),
    FieldSpec("school_id", ("instellingsnummer", "schoolnummer", "instituteNo", "school")),
    FieldSpec("pupil_number", ("stamboeknummer", "leerlingnummer", "stamnummer", "studentNo", "leerling_id")),
    FieldSpec("code", ("contactmoment", "moment", "vaccin", "vaccinatie", "dosis", "dose"), True),
    FieldSpec("date", ("datum", "date", "op"), True),
    FieldSpec("status", ("resultaat", "toestand", "uitkomst", "result"), True),
    FieldSpec("staff_id", ("medewerker", "medewerker_id", "personeel", "staff")),
)

STATUS_WORDS = {
    "done": "done", "gedaan": "done", "uitgevoerd": "done", "gezien": "done", "gegeven": "done",
    "doneexternal": "done_external", "extern": "done_external", "externgedaan": "done_external",
    "elders": "done_external", "externaldoctor": "done_external",
    "absent": "absent", "afwezig": "absent",
    "objected": "objected", "verzet": "objected", "objection": "objected",
    "consentgiven": "consent_given", "toestemming": "consent_given", "toestemminggegeven": "consent_given",
    "akkoord": "consent_given",
    "consentrefused": "consent_refused", "geweigerd": "consent_refused", "weigering": "consent_refused",
    "toestemminggeweigerd": "consent_refused", "refused": "consent_refused",
}
assert set(STATUS_WORDS.values()) == set(EVENT_STATUSES)


def _key(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


@dataclass(frozen=True)
class _Known:
    """What a history row is checked against: the protocol's codes and the workspace's pupils."""

    codes: dict[str, str]  # normalised code -> code
    all_codes: list[str]
    vaccination_codes: set[str]
    by_insz: dict[str, tuple[int, str]]  # INSZ -> (pupil id, birth date)
    by_number: dict[tuple[str, str], tuple[int, str]]  # (school id, pupil number) -> (pupil id, birth date)
    latest_allowed: dt.date


def import_history(
    workspace: Workspace, path: Path, *, dry_run: bool = False, skip_invalid: bool = False,
    today: dt.date | None = None,
) -> ImportResult:
    """Import a history file: events are added to those known (one already known is left as it is)."""
    today = today or dt.date.today()
    protocol = workspace.protocol
    table = read_table(path, HISTORY_FIELDS, what="history file")
    result = ImportResult(kind="history", files=[str(path)], dry_run=dry_run)
    result.warnings.extend(table.notes)
    if "insz" not in table.columns and not {"school_id", "pupil_number"} <= set(table.columns):
        raise ClbError(
            f"{table.file}: the history file does not say who each row is about.",
            hint="Add a column 'insz' (rijksregisternummer), or both 'school_id' and 'pupil_number'.",
        )
    check = RowChecker(table, result.errors, result.warnings)
    with workspace.connect() as conn:
        known = _Known(codes={_key(c): c for c in protocol.all_codes()}, all_codes=list(protocol.all_codes()),
                       vaccination_codes={r.code for r in protocol.rules if r.is_vaccination},
                       by_insz=pupil_rows.ids_by_insz(conn), by_number=pupil_rows.ids_by_number(conn),
                       latest_allowed=today + dt.timedelta(days=366))
    events: list[tuple] = []
    seen: dict[tuple, int] = {}
    for row, cells in table.rows:
        key = _parse_row(check, table, row, cells, known)
        if key is None:
            continue
        if key in seen:
            check.error(row, None, f"repeats row {seen[key]}", "Remove the duplicate row.")
            continue
        seen[key] = row
        events.append(key)
    refuse_if_invalid(result, skip_invalid, "history file")
    result.skipped_rows = len(check.bad_rows)
    return _store(workspace, path, table.file, events, dry_run, result)


def _parse_row(check: RowChecker, table: Table, row: int, cells: list[object], known: _Known) -> tuple | None:
    """One row as (pupil id, code, date, status, staff id), or None when it is invalid."""
    before = len(check.errors)
    insz = check.parse(row, cells, "insz", parse_insz, "Check the number.", shown=lambda v: mask_insz(str(v)))
    school_id = check.parse(row, cells, "school_id", lambda v: parse_school_id(v) if v is not None else None,
                            "Give the school's number.")
    number = check.parse(row, cells, "pupil_number", parse_pupil_number, "Give the school's pupil number.")
    code_cell = table.value(cells, "code")
    code = known.codes.get(_key(str(code_cell))) if code_cell is not None else None
    if code is None:
        check.error(row, "code", "is not a known contact moment or dose" if code_cell else "is empty",
                    "Use one of: " + ", ".join(known.all_codes) + ".", value=code_cell)
    status_cell = table.value(cells, "status")
    status = STATUS_WORDS.get(_key(str(status_cell))) if status_cell is not None else None
    if status is None:
        check.error(row, "status", "is not a known status" if status_cell else "is empty",
                    "Use done, done_external, absent, objected, consent_given or consent_refused.", value=status_cell)
    when = check.parse(row, cells, "date", parse_date, "Write the date as dd/mm/yyyy.")
    staff_id = check.parse(row, cells, "staff_id", lambda v: parse_label(v, 40), "Use the staff id of the staff list.")
    if status in ("consent_given", "consent_refused") and code is not None and code not in known.vaccination_codes:
        check.error(row, "status", f"consent is asked for vaccinations, not for the contact {code}",
                    "A contact moment is mandatory; for an objection write 'objected'.", value=status_cell)
    pupil = _pupil(check, row, insz, school_id, number, known, before)
    if when is not None and pupil is not None:
        if when < dt.date.fromisoformat(pupil[1]):
            check.error(row, "date", "lies before the pupil's birth date", "Check the date.",
                        value=when.strftime("%d/%m/%Y"))
        elif when > known.latest_allowed:
            check.error(row, "date", "lies more than a year ahead", "Check the date.", value=when.strftime("%d/%m/%Y"))
    if len(check.errors) > before or pupil is None or when is None:
        return None
    return (pupil[0], code, when.isoformat(), status, staff_id or "")


def _pupil(check: RowChecker, row: int, insz, school_id: str | None, number: str | None, known: _Known,
           before: int) -> tuple[int, str] | None:
    """(pupil id, birth date) of the pupil the row is about (by INSZ, else school and pupil number)."""
    pupil = None
    if insz is not None:
        pupil = known.by_insz.get(insz.number)
    elif school_id is not None and number is not None:
        pupil = known.by_number.get((school_id, number))
    elif len(check.errors) == before:
        check.error(row, "insz", "does not say which pupil", "Fill in the INSZ, or the school id and pupil number.")
    if pupil is None and len(check.errors) == before:
        check.error(row, "insz" if insz is not None else "pupil_number", "is not a pupil of this workspace",
                    "Import the pupil's roster first, or correct the number.",
                    value=insz.number if insz else number, shown=mask_insz if insz else None)
    return pupil


def _store(workspace: Workspace, path: Path, file: str, events: list[tuple], dry_run: bool,
           result: ImportResult) -> ImportResult:
    with workspace.writing("import history") as session:
        session.rollback = dry_run
        session.files.append(str(path))
        wanted = {e[0] for e in events}
        present = pupil_rows.pupil_ids(session.conn) if wanted else set()
        if wanted - present:  # another command removed pupils since the file was checked
            raise ClbError(
                f"{file}: {len(wanted - present)} pupil(s) of this file were removed from the workspace "
                "while it was being checked; nothing was imported.",
                hint="Run the import again.",
            )
        stamp = now_text()
        added = event_rows.add_events(session.conn, [(*e, shown_path(path, name_only=True), stamp) for e in events])
        counts = {"new": added, "unchanged": len(events) - added}
        session.counts.update(counts | {"skipped": result.skipped_rows})
    per_status: dict[str, int] = {}
    for e in events:
        per_status[e[3]] = per_status.get(e[3], 0) + 1
    result.totals = counts
    result.summary = [{"status": s, "rows": n} for s, n in sorted(per_status.items())]
    result.written = not dry_run
    if not events and not result.errors:
        result.warnings.append(Problem(file, "no events to import.", severity="warning"))
    return result
