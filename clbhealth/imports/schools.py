"""`clbhealth import schools`: school sites with address, position and level."""

from __future__ import annotations

from pathlib import Path

from clbhealth.core.grades import parse_level
from clbhealth.imports.common import ImportResult, RowChecker, refuse_if_invalid
from clbhealth.readers.tabular import FieldSpec, read_table
from clbhealth.readers.values import parse_coordinate, parse_label, parse_name, parse_school_id
from clbhealth.workspace.folder import HOME_EDUCATION, Workspace, now_text

SCHOOL_FIELDS = (
    FieldSpec("school_id", ("instellingsnummer", "schoolnummer", "school", "instituteNo", "school_nr", "id"), True),
    FieldSpec("name", ("naam", "schoolnaam", "school_name", "naam school"), True),
    FieldSpec("street", ("straat", "straat_huisnr", "adres", "address", "straat en nummer")),
    FieldSpec("postcode", ("postnummer", "zip", "post_code")),
    FieldSpec("municipality", ("gemeente", "stad", "city", "plaats", "town")),
    FieldSpec("lat", ("latitude", "breedtegraad", "y_wgs84")),
    FieldSpec("lon", ("longitude", "lengtegraad", "lng", "x_wgs84")),
    FieldSpec("level", ("niveau", "onderwijsniveau", "instellingstype", "type", "soort")),
)
_COLUMNS = ("name", "street", "postcode", "municipality", "lat", "lon", "level")


def import_schools(
    workspace: Workspace, path: Path, *, dry_run: bool = False, skip_invalid: bool = False
) -> ImportResult:
    table = read_table(path, SCHOOL_FIELDS, what="school list")
    result = ImportResult(kind="schools", files=[str(path)], dry_run=dry_run)
    result.warnings.extend(table.notes)
    check = RowChecker(table, result.errors, result.warnings)
    parsed: dict[str, dict] = {}
    first_row: dict[str, int] = {}
    for row, cells in table.rows:
        school_id = check.parse(row, cells, "school_id", parse_school_id, "Give the school's number (instellingsnummer).")
        name = check.parse(row, cells, "name", lambda v: parse_name(v, 200), "Give the school's name.")
        record = {
            "name": name,
            "street": check.parse(row, cells, "street", parse_label, "Use plain text."),
            "postcode": check.parse(row, cells, "postcode", parse_label, "Use plain text."),
            "municipality": check.parse(row, cells, "municipality", parse_label, "Use plain text."),
            "lat": check.parse(row, cells, "lat", lambda v: parse_coordinate(v, -90, 90), "Give degrees, e.g. 51.2194."),
            "lon": check.parse(row, cells, "lon", lambda v: parse_coordinate(v, -180, 180), "Give degrees, e.g. 4.4025."),
            "level": check.parse(row, cells, "level", parse_level, "Use kleuter, lager, basis, secundair or buitengewoon."),
        }
        if record["lat"] is not None and record["lon"] is not None and 2 < record["lat"] < 7 and 49 < record["lon"] < 54:
            check.error(row, "lat", "latitude and longitude look swapped", "In Belgium lat is about 50-51 and lon 3-6.")
        if (record["lat"] is None) != (record["lon"] is None):
            check.error(row, "lat", "has only one of lat and lon", "Give both coordinates or neither.")
        if school_id == HOME_EDUCATION:
            check.error(row, "school_id", f"{HOME_EDUCATION} is reserved for home education", "Use the school's number.")
        if school_id is not None and row not in check.bad_rows:
            if school_id in parsed:
                check.error(row, "school_id", f"repeats the school of row {first_row[school_id]}",
                            "Give each school site one row (a second site needs its own id, e.g. 621-2).")
                continue
            if record["level"] is None:
                check.warn(row, "level", "no level given; bare grades like '1' in its rosters cannot be read",
                           "Add a level column (kleuter, lager, basis, secundair, buitengewoon).")
            parsed[school_id] = record
            first_row[school_id] = row
    for row in check.bad_rows:
        for school_id, first in list(first_row.items()):
            if first == row:
                parsed.pop(school_id, None)
    refuse_if_invalid(result, skip_invalid, "school list")
    result.skipped_rows = len(check.bad_rows)

    with workspace.writing("import schools") as session:
        session.rollback = dry_run
        session.files.append(str(path))
        existing = {
            r["school_id"]: r for r in session.conn.execute(f"SELECT school_id, {', '.join(_COLUMNS)} FROM schools")
        }
        counts = {"new": 0, "updated": 0, "unchanged": 0}
        stamp = now_text()
        for school_id, record in parsed.items():
            old = existing.get(school_id)
            if old is None:
                counts["new"] += 1
                session.conn.execute(
                    f"INSERT INTO schools (school_id, {', '.join(_COLUMNS)}, updated_at) VALUES (?, {', '.join('?' * len(_COLUMNS))}, ?)",
                    (school_id, *(record[c] for c in _COLUMNS), stamp),
                )
            elif any(old[c] != record[c] for c in _COLUMNS):
                counts["updated"] += 1
                session.conn.execute(
                    f"UPDATE schools SET {', '.join(f'{c} = ?' for c in _COLUMNS)}, updated_at = ? WHERE school_id = ?",
                    (*(record[c] for c in _COLUMNS), stamp, school_id),
                )
            else:
                counts["unchanged"] += 1
        session.counts.update(counts | {"skipped": result.skipped_rows})
    result.totals = counts
    result.summary = [{"schools": "all", **counts}]
    result.written = not dry_run
    return result
