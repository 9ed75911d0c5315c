"""`clbhealth import results`: the filled-in attendance sheet back into the history.

gezien -> 'done' (contact done or dose given); afwezig -> 'absent' (the moment stays due and
becomes catch-up demand for the next plan); geweigerd -> 'consent_refused' for a vaccination dose,
'objected' for a contact; verzet -> 'objected'. The event carries the session's date and the source
'session <id>', and session_pupils.outcome is set. A corrected sheet replaces the events that an
earlier import of the same session wrote; importing the same sheet again changes nothing.

Every row must match a pupil and moment planned in its session, and every planned pupil of a
session in the file must have a row; a file with any invalid row changes nothing.

Dose rows of a vaccination session also take Gegeven (ja/nee), Lot, Vaccinator (staff id) and Reden
niet gegeven (afwezig, ziek -> absent; weigert ter plaatse -> refused). A dose given is refused without
consent on record before the session ([C] the CLB never vaccinates without written consent), and
when its lot is unknown for the dose's products or expired on the session date. The dose, its
product, lot and vaccinator are kept for the Vaccinnet registration (`export vaccinnet`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from clbhealth.core.privacy import shown_path
from clbhealth.core.errors import ClbError, Problem, listed
from clbhealth.imports.common import ImportResult, RowChecker
from clbhealth.imports.result_doses import (  # noqa: F401
    OUTCOME_DUTCH,
    _check_dose,
    _performer,
    _store_dose,
    source_of,
)
from clbhealth.readers.files import read_input
from clbhealth.readers.tabular import FieldSpec, Table, read_table
from clbhealth.readers.values import text_of
from clbhealth.workspace import results as result_store
from clbhealth.workspace import vaccination as vac_store
from clbhealth.workspace.folder import Workspace, now_text

RESULT_FIELDS = (
    FieldSpec("session_id", ("sessie", "sessie id", "sessie-id", "session", "session_id"), True),
    FieldSpec("pupil_id", ("leerling-id", "leerling id", "leerlingid", "pupil_id", "pupil id"), True),
    FieldSpec("moment", ("code", "momentcode", "moment code", "moment"), True),
    FieldSpec("status", ("status", "resultaat", "uitkomst", "result", "outcome"), True),
    FieldSpec("last_name", ("naam", "achternaam", "last_name")),
    FieldSpec("first_name", ("voornaam", "first_name")),
    # Shown for the nurse; read so that they are not reported as unused columns.
    FieldSpec("class", ("klas",)),
    FieldSpec("birth", ("geboortedatum",)),
    FieldSpec("time", ("tijdstip", "uur")),
    FieldSpec("words", ("contactmoment / vaccinatie", "contactmoment", "vaccinatie")),
    FieldSpec("given", ("gegeven", "dosis gegeven")),
    FieldSpec("lot", ("lotnummer", "lot nummer", "batch")),
    FieldSpec("vaccinator", ("gevaccineerd door",)),
    FieldSpec("why_not", ("reden niet gegeven", "reden", "why not")),
    FieldSpec("consent", ("toestemming",)),
    FieldSpec("to_vaccinate", ("vaccineren",)),
)

OUTCOME_WORDS = {
    "gezien": "seen", "seen": "seen", "done": "seen", "gedaan": "seen", "aanwezig": "seen", "gegeven": "seen",
    "afwezig": "absent", "absent": "absent", "ziek": "absent",
    "geweigerd": "refused", "refused": "refused", "weigering": "refused", "weigert": "refused",
    "verzet": "objected", "objected": "objected", "objection": "objected", "bezwaar": "objected",
}


def _key(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())


def event_for(outcome: str, is_vaccination: bool) -> str:
    """The history status an outcome writes."""
    if outcome == "seen":
        return "done"
    if outcome == "absent":
        return "absent"
    if outcome == "refused":
        return "consent_refused" if is_vaccination else "objected"
    return "objected"


def read_result_tables(path: Path) -> list[Table]:
    """Every worksheet of an attendance workbook (one per session), or the one table of a CSV."""
    from clbhealth.readers import tabular

    data = read_input(path, what="attendance sheet")
    if data[:4] != b"PK\x03\x04":
        return [read_table(path, RESULT_FIELDS, what="attendance sheet")]
    sheets = tabular._read_zip_workbook(path, data)
    tables, first_error = [], None
    for sheet_name, rows in sheets:
        rows = [[tabular._clean_cell(c) for c in row] for row in rows]
        name = shown_path(path, name_only=True)
        label = f"{name} [{sheet_name}]" if len(sheets) > 1 else name
        try:
            table = tabular._table_from_rows(label, rows, RESULT_FIELDS, "attendance sheet")
        except ClbError as exc:
            first_error = first_error or exc
            continue
        table.sheet = sheet_name
        tables.append(table)
    if not tables:
        raise first_error or ClbError(f"{shown_path(path, name_only=True)}: no attendance sheet found.")
    return tables


@dataclass
class _Plan:
    """What the results are checked against: the current plan, consent on record, lots, staff."""

    sessions: dict[str, dict]
    planned: dict[tuple[str, int, str], dict]
    staff_of: dict[str, list[tuple[str, str]]]
    consent: dict[tuple[int, str], list]  # (pupil, series) -> records, this session's own results excluded
    lots: dict[tuple[str, str], dict]
    staff: set[str]
    vaccinations: set[str]

    @property
    def planned_pupils(self) -> set[tuple[str, int]]:
        return {(k[0], k[1]) for k in self.planned}


def _load_plan(workspace: Workspace) -> _Plan:
    protocol = workspace.protocol
    vaccinations = {r.code for r in protocol.rules if r.is_vaccination}
    with workspace.connect() as conn:
        sessions, planned, staff_of, staff = result_store.read_planned(conn)
        consent: dict[tuple[int, str], list] = {}
        for series in {protocol.series_of(c) for c in vaccinations}:
            codes = [r.code for r in protocol.rules if (r.series or r.code) == series]
            pupils = {k[1] for k in planned if protocol.series_of(k[2]) == series and k[2] in vaccinations}
            for pid, records in vac_store.series_events(conn, pupils, codes).items():
                consent[(pid, series)] = records
        lots = vac_store.load_lots(conn)
    return _Plan(sessions, planned, staff_of, consent, lots, staff, vaccinations)


def import_results(workspace: Workspace, path: Path, *, dry_run: bool = False,
                   today: dt.date | None = None) -> ImportResult:
    path = Path(path)
    today = today or dt.date.today()
    tables = read_result_tables(path)
    result = ImportResult(kind="results", files=[str(path)], dry_run=dry_run)
    plan = _load_plan(workspace)
    rows: list[dict] = []
    seen_rows: dict[tuple, tuple[str, int]] = {}
    in_file: set[str] = set()
    present: set[tuple] = set()  # (session, pupil, moment) of every row whose ids can be read
    for table in tables:
        result.warnings.extend(table.notes)
        check = RowChecker(table, result.errors, result.warnings)
        for row, cells in table.rows:
            item = _check_row(workspace, plan, table, check, row, cells, in_file, present, seen_rows)
            if item is not None:
                rows.append(item)
    _check_complete(path, plan, rows, in_file, present, today, result)
    if result.errors:
        rows_wrong = len({(p.file, p.row) for p in result.errors if p.row is not None})
        raise ClbError(
            f"{len(result.errors)} problem(s) in the attendance sheet ({rows_wrong} row(s)); nothing was imported.",
            hint="Fix the rows listed above, or export the sheet again, fill it in and import it.",
            problems=result.errors + result.warnings,
        )
    counts, per_session = _write(workspace, path, plan, rows, dry_run)
    if counts["blank"]:
        result.warnings.append(Problem(shown_path(path, name_only=True), f"{counts['blank']} row(s) have no status: nothing was recorded "
                                       "for them (an earlier result stays).", severity="warning"))
    result.totals = counts
    result.summary = [{"session": s, **t} for s, t in sorted(per_session.items())]
    result.written = not dry_run
    return result


def _check_row(workspace: Workspace, plan: _Plan, table: Table, check: RowChecker, row: int, cells: list,
               in_file: set, present: set, seen_rows: dict) -> dict | None:
    """One row of the sheet checked against the plan; None when it has an error."""
    before = len(check.errors)
    session_text = text_of(table.value(cells, "session_id"))
    session_id = session_text.upper() if session_text else None
    if session_id is None:
        check.error(row, "session_id", "is empty", "Use the sheet as exported; the session id is filled in.")
    elif session_id not in plan.sessions:
        check.error(row, "session_id", "is not a session of the current plan",
                    "Export the attendance sheet again for the current plan.", value=session_text)
    pupil_id = check.parse(row, cells, "pupil_id", _pupil_id, "Use the sheet as exported; do not edit the ids.")
    moment = text_of(table.value(cells, "moment"))
    if moment is None:
        check.error(row, "moment", "is empty", "Use the sheet as exported; the code is filled in.")
    status_cell = table.value(cells, "status")
    outcome = None
    if text_of(status_cell) is not None:
        outcome = OUTCOME_WORDS.get(_key(str(status_cell)))
        if outcome is None:
            check.error(row, "status", "is not a status", "Choose gezien, afwezig, geweigerd or verzet.",
                        value=status_cell)
    if session_id in plan.sessions:
        in_file.add(session_id)
        if pupil_id is not None and moment is not None:
            present.add((session_id, pupil_id, moment))
    if len(check.errors) > before:
        return None
    key = (session_id, pupil_id, moment)
    plan_row = _match(plan, table, check, row, cells, key, seen_rows)
    if plan_row is None:
        return None
    item = {"key": key, "outcome": outcome, "old": plan_row["outcome"], "file": table.file, "row": row, "dose": None}
    if moment in plan.vaccinations:
        item = _check_dose(workspace, plan, table, check, row, cells, item)
    return item


def _match(plan: _Plan, table: Table, check: RowChecker, row: int, cells: list, key: tuple,
           seen_rows: dict) -> dict | None:
    """The planned pupil-moment of a row; an error when it is not planned, was edited or repeats a row."""
    session_id, pupil_id, moment = key
    plan_row = plan.planned.get(key)
    if plan_row is None:
        what = (f"pupil {pupil_id} is planned in session {session_id}, but not for {moment}"
                if (session_id, pupil_id) in plan.planned_pupils
                else f"pupil {pupil_id} is not planned in session {session_id}")
        check.error(row, "pupil_id", what, "Use the sheet exported for this session; do not add rows.",
                    value=pupil_id)
        return None
    name = text_of(table.value(cells, "last_name"))
    first = text_of(table.value(cells, "first_name"))
    if (name is not None and name != plan_row["last_name"]) or (first is not None and first != plan_row["first_name"]):
        check.error(row, "last_name" if name is not None and name != plan_row["last_name"] else "first_name",
                    f"does not match pupil {pupil_id} of the session ({plan_row['last_name']}, "
                    f"{plan_row['first_name']})",
                    "Rows were moved or edited; export the sheet again and fill it in.",
                    value=name if name != plan_row["last_name"] else first)
        return None
    if key in seen_rows:
        other = seen_rows[key]
        check.error(row, "pupil_id", f"repeats the row of {other[0]}, row {other[1]}", "Remove the duplicate row.",
                    value=pupil_id)
        return None
    seen_rows[key] = (table.file, row)
    return plan_row


def _check_complete(path: Path, plan: _Plan, rows: list[dict], in_file: set, present: set, today: dt.date,
                    result: ImportResult) -> None:
    """Every planned pupil-moment of a session in the file has a row; results of a future session are flagged."""
    for session_id in sorted(in_file):
        missing = sorted((k[1], k[2]) for k in plan.planned if k[0] == session_id and k not in present)
        if missing:
            result.errors.append(Problem(
                shown_path(path, name_only=True), f"session {session_id}: {len(missing)} planned pupil-moment(s) have no row in the file "
                f"(leerling-id {listed(f'{pid} {moment}' for pid, moment in missing)})",
                hint="Use the whole sheet as exported; leave the status empty for a pupil without a result."))
    for session_id in sorted(in_file):
        day = dt.date.fromisoformat(plan.sessions[session_id]["date"])
        if day > today and any(r["outcome"] for r in rows if r["key"][0] == session_id):
            result.warnings.append(Problem(shown_path(path, name_only=True), f"session {session_id} is on {day}, after today: "
                                           "check that these results belong to it.", severity="warning"))


def _write(workspace: Workspace, path: Path, plan: _Plan, rows: list[dict], dry_run: bool) -> tuple[dict, dict]:
    counts = {"new": 0, "changed": 0, "unchanged": 0, "blank": 0}
    per_session: dict[str, dict[str, int]] = {}
    rules = {r.code: r for r in workspace.protocol.in_force(workspace.config.school_year)}
    with workspace.writing("import results") as session:
        session.rollback = dry_run
        session.files.append(str(path))
        conn = session.conn
        stamp = now_text()
        for item in rows:
            session_id, pupil_id, moment = item["key"]
            tally = per_session.setdefault(session_id, {o: 0 for o in (*OUTCOME_DUTCH.values(), "leeg")})
            outcome = item["outcome"]
            if outcome is None:
                counts["blank"] += 1
                tally["leeg"] += 1
                continue
            tally[OUTCOME_DUTCH[outcome]] += 1
            day = plan.sessions[session_id]["date"]
            _store_dose(conn, item, day, stamp)
            status = event_for(outcome, moment in plan.vaccinations)
            staff_id = ""
            if status == "done":
                dose = item["dose"] or {}
                staff_id = dose.get("vaccinator") or _performer(rules.get(moment), plan.staff_of.get(session_id, []))
            if not _record_event(conn, item, day, status, staff_id, stamp):
                counts["unchanged"] += 1
                continue
            counts["changed" if item["old"] is not None else "new"] += 1
        session.counts.update(counts | {"sessions": len(per_session)})
    return counts, per_session


def _record_event(conn, item: dict, day: str, status: str, staff_id: str, stamp: str) -> bool:
    """Write the row's event (replacing an earlier import of this session); False when nothing changed.

    A moment done in parts (the nurse's and the doctor's sessions) is done when its last part is
    seen: until then the sheet records the outcome of this part, and no event.
    """
    session_id, pupil_id, moment = item["key"]
    source = source_of(session_id)
    if status == "done" and not result_store.other_parts_seen(conn, session_id, pupil_id, moment):
        status = None
    existing = result_store.event_of(conn, pupil_id, moment, day, source)
    if existing == ({(status, staff_id)} if status else set()) and item["old"] == item["outcome"]:
        return False
    result_store.record_event(conn, item["key"], day, status, staff_id, source, item["outcome"], stamp)
    return True


def _pupil_id(value: object) -> int:
    text = text_of(value)
    if text is None:
        raise ValueError("is empty")
    if not text.isdigit():
        raise ValueError("is not a pupil id (a whole number)")
    return int(text)
