"""`clbhealth import staff | absences | closures`: who works when, and when schools are closed."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path

from clbhealth.core.dates import parse_date
from clbhealth.core.errors import ClbError, Problem
from clbhealth.imports.common import ImportResult, RowChecker, refuse_if_invalid
from clbhealth.core.riziv import parse_riziv
from clbhealth.readers.tabular import FieldSpec, Table, read_table
from clbhealth.readers.values import parse_coordinate, parse_label, parse_name, parse_school_id, text_of
from clbhealth.workspace import staff as staff_rows
from clbhealth.workspace import schools as school_store
from clbhealth.workspace.pupils import known_school_ids
from clbhealth.workspace.folder import Workspace, now_text

DAYS = ("mon", "tue", "wed", "thu", "fri")
PARTS = ("am", "pm")
_DAY_WORDS = {
    "ma": "mon", "maandag": "mon", "mon": "mon", "monday": "mon", "mo": "mon",
    "di": "tue", "dinsdag": "tue", "tue": "tue", "tuesday": "tue", "tu": "tue",
    "wo": "wed", "woensdag": "wed", "wed": "wed", "wednesday": "wed", "we": "wed",
    "do": "thu", "donderdag": "thu", "thu": "thu", "thursday": "thu", "th": "thu",
    "vr": "fri", "vrijdag": "fri", "fri": "fri", "friday": "fri", "fr": "fri",
}
_WEEKEND = {"za", "zaterdag", "sat", "saturday", "zo", "zondag", "sun", "sunday"}
_PART_WORDS = {"vm": "am", "voormiddag": "am", "am": "am", "morning": "am", "ochtend": "am",
               "nm": "pm", "namiddag": "pm", "pm": "pm", "afternoon": "pm", "middag": "pm"}
ROLE_WORDS = {
    "nurse": "nurse", "verpleegkundige": "nurse", "vpk": "nurse", "verpleger": "nurse",
    "doctor": "doctor", "arts": "doctor", "schoolarts": "doctor", "dokter": "doctor", "clbarts": "doctor",
    "psychosocial": "psychosocial", "psychosociaal": "psychosocial", "ppc": "psychosocial",
    "psychopedagogischconsulent": "psychosocial", "maatschappelijkwerker": "psychosocial",
    "psycholoog": "psychosocial", "psychosocialworker": "psychosocial",
}

STAFF_FIELDS = (
    FieldSpec("staff_id", ("medewerker_id", "personeelsnummer", "id", "code", "medewerker"), True),
    FieldSpec("name", ("naam", "volledige naam", "full_name"), True),
    FieldSpec("role", ("rol", "functie", "discipline"), True),
    FieldSpec("base_lat", ("lat", "latitude", "basis_lat", "vertrek_lat")),
    FieldSpec("base_lon", ("lon", "longitude", "lng", "basis_lon", "vertrek_lon")),
    FieldSpec("availability", ("beschikbaarheid", "halve dagen", "werkdagen", "beschikbaar"), True),
    FieldSpec("riziv", ("riziv-nummer", "rizivnummer", "riziv nummer", "inami", "nihii")),
    FieldSpec("schools", ("scholen", "vaste scholen", "contactpersoon voor", "school_ids")),
)
ABSENCE_FIELDS = (
    FieldSpec("staff_id", ("medewerker_id", "medewerker", "personeelsnummer", "id"), True),
    FieldSpec("from", ("van", "vanaf", "begin", "start", "from_date", "date_from"), True),
    FieldSpec("to", ("tot", "tot en met", "totenmet", "einde", "end", "to_date", "date_to")),
    FieldSpec("part", ("deel", "dagdeel", "halve dag", "moment")),
)
CLOSURE_FIELDS = (
    FieldSpec("school_id", ("instellingsnummer", "schoolnummer", "school"), True),
    FieldSpec("from", ("van", "vanaf", "begin", "start", "datum", "date", "from_date", "date_from"), True),
    FieldSpec("to", ("tot", "tot en met", "totenmet", "einde", "end", "to_date", "date_to")),
    FieldSpec("part", ("deel", "dagdeel", "halve dag")),
    FieldSpec("reason", ("reden", "omschrijving", "opmerking", "description")),
)


STAFF_COLUMNS = ("name", "role", "base_lat", "base_lon", "availability", "schools", "riziv")  # stored, in this order


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def parse_availability(value: object) -> tuple[str, ...]:
    """Half-days such as 'ma-vm ma-nm di-vm' or 'mon-am tue-pm' (a bare day means both halves)."""
    text = text_of(value)
    if text is None:
        raise ValueError("is empty: a person needs at least one half-day")
    slots: list[str] = []
    for token in re.split(r"[\s,;/+]+", _plain(text)):
        if not token:
            continue
        pieces = re.split(r"[-_.:]", token, maxsplit=1)
        day_word = pieces[0]
        if day_word in _WEEKEND:
            raise ValueError(f"names '{token}': there are no school sessions at the weekend")
        if day_word not in _DAY_WORDS:
            raise ValueError(f"has '{token}', which is not a half-day (write e.g. ma-vm or mon-am)")
        day = _DAY_WORDS[day_word]
        if len(pieces) == 1:
            parts = list(PARTS)
        elif pieces[1] in _PART_WORDS:
            parts = [_PART_WORDS[pieces[1]]]
        else:
            raise ValueError(f"has '{token}': the part of the day must be vm/nm (or am/pm)")
        for part in parts:
            slot = f"{day}-{part}"
            if slot not in slots:
                slots.append(slot)
    if not slots:
        raise ValueError("is empty: a person needs at least one half-day")
    order = {f"{d}-{p}": i for i, (d, p) in enumerate((d, p) for d in DAYS for p in PARTS)}
    return tuple(sorted(slots, key=order.__getitem__))


def parse_role(value: object, known: set[str]) -> str:
    text = text_of(value)
    if text is None:
        raise ValueError("is empty")
    key = re.sub(r"[^a-z]", "", _plain(text))
    role = ROLE_WORDS.get(key, key)
    if role not in known:
        raise ValueError(f"is not a role the protocol names ({', '.join(sorted(known))})")
    return role


def parse_part(value: object) -> str | None:
    text = text_of(value)
    if text is None:
        return None
    key = _plain(text).strip()
    if key in ("", "dag", "hele dag", "volledig", "day", "full", "all"):
        return None
    if key in _PART_WORDS:
        return _PART_WORDS[key]
    raise ValueError("is not a part of the day; write vm or nm (or leave it empty for the whole day)")


def import_staff(workspace: Workspace, path: Path, *, dry_run: bool = False, skip_invalid: bool = False) -> ImportResult:
    """The staff list replaces the previous one; people no longer listed become inactive."""
    known_roles = {role for rule in workspace.protocol.rules for role in rule.staff}
    table = read_table(path, STAFF_FIELDS, what="staff list")
    result = ImportResult(kind="staff", files=[str(path)], dry_run=dry_run)
    result.warnings.extend(table.notes)
    check = RowChecker(table, result.errors, result.warnings)
    with workspace.connect() as conn:
        schools = _with_institutions(known_school_ids(conn), school_store.institution_sites(conn))
    records: dict[str, dict] = {}
    first_row: dict[str, int] = {}
    for row, cells in table.rows:
        before = len(check.errors)
        staff_id, record = _parse_person(check, table, row, cells, known_roles, schools)
        if staff_id is not None and staff_id in records and row not in check.bad_rows:
            check.error(row, "staff_id", f"repeats the person of row {first_row[staff_id]}", "Give each person one row.")
        if len(check.errors) > before or record is None:
            continue
        if record["base_lat"] is None:
            check.warn(row, "base_lat", "no base position: the CLB office is used as the starting point",
                       "Add base_lat and base_lon for realistic travel.")
        records[staff_id] = record
        first_row[staff_id] = row
    refuse_if_invalid(result, skip_invalid, "staff list")
    result.skipped_rows = len(check.bad_rows)
    with workspace.writing("import staff") as session:
        session.rollback = dry_run
        session.files.append(str(path))
        counts = _store_staff(session.conn, records, deactivate=not skip_invalid or not result.errors)
        session.counts.update(counts)
    result.totals = counts
    result.summary = [{"staff": "all", **counts}]
    result.written = not dry_run
    return result


def _with_institutions(sites: set[str], institutions: dict[str, list[str]]) -> dict[str, list[str]]:
    """Every id a list may name -> the sites it means: a site id itself; an institution's number
    (schoolnummer) whose main site is not numbered 1 (`621` for site `621-3`) all its sites."""
    known = {site: [site] for site in sites}
    for number, its_sites in institutions.items():
        known.setdefault(number, its_sites)
    return known


def _parse_person(check: RowChecker, table: Table, row: int, cells: list[object], known_roles: set[str],
                  schools: dict[str, list[str]]) -> tuple[str | None, dict | None]:
    """(staff id, the row's values as stored) of one staff row; None for the values when it is invalid."""
    staff_id = check.parse(row, cells, "staff_id", lambda v: parse_label(v, 40), "Give each person a short id.")
    name = check.parse(row, cells, "name", parse_name, "Fill in the person's name.")
    role = check.parse(row, cells, "role", lambda v: parse_role(v, known_roles),
                       "Write nurse/verpleegkundige or doctor/arts.")
    availability = check.parse(row, cells, "availability", parse_availability,
                               "List the half-days worked on systematic contacts, e.g. 'ma-vm ma-nm di-vm'.")
    lat = check.parse(row, cells, "base_lat", lambda v: parse_coordinate(v, -90, 90), "Give degrees, e.g. 51.21.")
    lon = check.parse(row, cells, "base_lon", lambda v: parse_coordinate(v, -180, 180), "Give degrees, e.g. 4.40.")
    riziv = check.parse(row, cells, "riziv", parse_riziv, "Give the 11-digit RIZIV number of the vaccinator.")
    fixed_text = text_of(table.value(cells, "schools")) or ""
    fixed = []
    for token in re.split(r"[\s,;]+", fixed_text):
        if not token:
            continue
        try:
            school_id = parse_school_id(token)
        except ValueError as exc:
            check.error(row, "schools", f"has '{token}', which {exc}", "List school ids separated by spaces.")
            continue
        if school_id not in schools:
            check.error(row, "schools", f"names school '{school_id}', which is not in this workspace",
                        "Import the school list first, or correct the id.", value=fixed_text)
        fixed.extend(schools.get(school_id, [school_id]))
    if (lat is None) != (lon is None):
        check.error(row, "base_lat", "has only one of lat and lon", "Give both coordinates or neither.")
    if None in (staff_id, name, role, availability):
        return staff_id, None
    return staff_id, {"name": name, "role": role, "base_lat": lat, "base_lon": lon,
                      "availability": " ".join(availability), "schools": " ".join(fixed), "riziv": riziv}


def _store_staff(conn, records: dict[str, dict], *, deactivate: bool) -> dict[str, int]:
    """Add, update and (with `deactivate`) make inactive those no longer listed; returns the counts."""
    existing = staff_rows.staff_rows(conn, STAFF_COLUMNS)
    counts = {"new": 0, "updated": 0, "unchanged": 0, "inactive": 0}
    stamp = now_text()
    for staff_id, record in records.items():
        old = existing.get(staff_id)
        if old is None:
            counts["new"] += 1
            staff_rows.add_person(conn, staff_id, STAFF_COLUMNS, list(record.values()), stamp)
        elif any(old[c] != record[c] for c in STAFF_COLUMNS) or not old["active"]:
            counts["updated"] += 1
            staff_rows.update_person(conn, staff_id, STAFF_COLUMNS, list(record.values()), stamp)
        else:
            counts["unchanged"] += 1
    if deactivate:
        for staff_id, old in existing.items():
            if staff_id not in records and old["active"]:
                counts["inactive"] += 1
                staff_rows.deactivate_person(conn, staff_id, stamp)
    return counts


def _date_range(check: RowChecker, table, row: int, cells: list[object]) -> tuple[dt.date | None, dt.date | None]:
    start = check.parse(row, cells, "from", parse_date, "Write the date as dd/mm/yyyy.")
    end_cell = table.value(cells, "to")
    end = start if end_cell is None else check.parse(row, cells, "to", parse_date, "Write the date as dd/mm/yyyy.")
    if start is not None and end is not None and end < start:
        check.error(row, "to", "lies before the start date", "Swap the dates, or correct them.",
                    value=end.strftime("%d/%m/%Y"))
        return None, None
    if start is not None and end is not None and (end - start).days > 400:
        check.error(row, "to", "makes a period of more than a year", "Check the dates.")
        return None, None
    return start, end


def _overlaps(a: tuple, b: tuple) -> bool:
    """Two (from, to, part) periods share a half-day."""
    if a[1] < b[0] or b[1] < a[0]:
        return False
    return a[2] is None or b[2] is None or a[2] == b[2]


def import_absences(workspace: Workspace, path: Path, *, dry_run: bool = False, skip_invalid: bool = False,
                    replace: bool = False) -> ImportResult:
    """Staff absences (illness, leave, training); added to those known, or replacing them with --replace."""
    table = read_table(path, ABSENCE_FIELDS, what="absence list")
    result = ImportResult(kind="absences", files=[str(path)], dry_run=dry_run)
    result.warnings.extend(table.notes)
    check = RowChecker(table, result.errors, result.warnings)
    with workspace.connect() as conn:
        staff = staff_rows.staff_ids(conn)
    rows: list[tuple[int, str, tuple]] = []
    for row, cells in table.rows:
        before = len(check.errors)
        staff_id = check.parse(row, cells, "staff_id", lambda v: parse_label(v, 40), "Use an id from the staff list.")
        if staff_id is not None and staff_id not in staff:
            check.error(row, "staff_id", "is not in the staff list", "Import the staff list first, or correct the id.",
                        value=staff_id)
        start, end = _date_range(check, table, row, cells)
        part = check.parse(row, cells, "part", parse_part, "Write vm or nm, or leave it empty.")
        if len(check.errors) > before or None in (staff_id, start, end):
            continue
        period = (start, end, part)
        for other_row, other_staff, other in rows:
            if other_staff == staff_id and _overlaps(period, other):
                check.error(row, "from", f"overlaps the absence of row {other_row} for the same person",
                            "Merge the two rows into one period.")
                break
        else:
            rows.append((row, staff_id, period))
    refuse_if_invalid(result, skip_invalid, "absence list")
    result.skipped_rows = len(check.bad_rows)
    stored = [(s, p[0].isoformat(), p[1].isoformat(), p[2]) for _, s, p in rows]
    return _store_periods(workspace, path, result, "absences", ("staff_id", "date_from", "date_to", "part"), stored,
                          replace=replace, dry_run=dry_run)


def import_closures(workspace: Workspace, path: Path, *, dry_run: bool = False, skip_invalid: bool = False,
                    replace: bool = False) -> ImportResult:
    """Days a school has no classes for us (study days, trips), on top of the Flemish school calendar."""
    table = read_table(path, CLOSURE_FIELDS, what="closure list")
    result = ImportResult(kind="closures", files=[str(path)], dry_run=dry_run)
    result.warnings.extend(table.notes)
    check = RowChecker(table, result.errors, result.warnings)
    with workspace.connect() as conn:
        schools = _with_institutions(known_school_ids(conn), school_store.institution_sites(conn))
    rows = []
    for row, cells in table.rows:
        before = len(check.errors)
        school_id = check.parse(row, cells, "school_id", parse_school_id, "Give the school's number.")
        if school_id is not None and school_id not in schools:
            check.error(row, "school_id", "is not a known school", "Import the school list first, or correct the id.",
                        value=school_id)
        start, end = _date_range(check, table, row, cells)
        part = check.parse(row, cells, "part", parse_part, "Write vm or nm, or leave it empty.")
        reason = check.parse(row, cells, "reason", parse_label, "Use plain text.") or ""
        if len(check.errors) > before or None in (school_id, start, end):
            continue
        rows.extend((site, start.isoformat(), end.isoformat(), part, reason) for site in schools[school_id])
    refuse_if_invalid(result, skip_invalid, "closure list")
    result.skipped_rows = len(check.bad_rows)
    return _store_periods(workspace, path, result, "closures",
                          ("school_id", "date_from", "date_to", "part", "reason"), rows,
                          replace=replace, dry_run=dry_run)


def _store_periods(workspace: Workspace, path: Path, result: ImportResult, table: str, columns: tuple[str, ...],
                   rows: list[tuple], *, replace: bool, dry_run: bool) -> ImportResult:
    """Add (or with `replace`, replace all) absences or closures in one transaction; count what is new."""
    with workspace.writing(f"import {table}") as session:
        session.rollback = dry_run
        session.files.append(str(path))
        added, removed = staff_rows.add_periods(session.conn, table, columns, rows, now_text(), replace=replace)
        counts = {"new": added, "unchanged": len(rows) - added} | ({"removed": removed} if replace else {})
        session.counts.update(counts)
    result.totals = counts
    result.summary = [{table: "all", **counts}]
    result.written = not dry_run
    return result


__all__ = ["import_staff", "import_absences", "import_closures", "parse_availability", "Problem", "ClbError"]
