"""`clbhealth import schools`: school sites with address, position and level.

Two kinds of file, told apart by their columns: the government's list "Onderwijsaanbod in
Vlaanderen" (institution or site level, `;`/BOM/CR or `,`/LF; see `imports/school_list.py`) and
the simple own CSV (school_id, name, street, postcode, municipality, lat, lon, level).
"""

from __future__ import annotations

from pathlib import Path

from clbhealth.core.privacy import shown_path
from clbhealth.core.errors import ClbError
from clbhealth.core.grades import parse_level
from clbhealth.imports.common import ImportResult, RowChecker, refuse_if_invalid
from clbhealth.imports.school_list import OFFICIAL_FIELDS, is_official, parse_official
from clbhealth.readers.tabular import FieldSpec, read_table
from clbhealth.readers.values import parse_coordinate, parse_label, parse_name, parse_school_id
from clbhealth.workspace.folder import HOME_EDUCATION, Workspace, now_text
from clbhealth.workspace.schools import mark_vanished, write_sites

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
def import_schools(
    workspace: Workspace, path: Path, *, clb: str | None = None, dry_run: bool = False, skip_invalid: bool = False
) -> ImportResult:
    """Import the official list or the own CSV; returns what was found and done."""
    try:
        table = read_table(path, OFFICIAL_FIELDS, what="school list")
        official = is_official(table)
    except ClbError:
        official = False
    result = ImportResult(kind="schools", files=[str(path)], dry_run=dry_run)
    if official:
        parsed, skipped, scope = parse_official(table, result, clb)
    else:
        if clb is not None:
            raise ClbError(f"{shown_path(path, name_only=True)}: --clb works with the official list (Onderwijsaanbod in Vlaanderen) only; "
                           "this file has no 'clb' or 'onderwijsniveau' column.",
                           hint="Leave out --clb, or download the official list from the government's site.")
        table = read_table(path, SCHOOL_FIELDS, what="school list")
        parsed, skipped, scope = _parse_own(table, result), {}, {}
    refuse_if_invalid(result, skip_invalid, "school list")

    with workspace.writing("import schools") as session:
        session.rollback = dry_run
        session.files.append(str(path))
        stamp = now_text()
        counts = write_sites(session.conn, parsed, stamp)
        vanished = mark_vanished(session.conn, scope, set(parsed), stamp) if official else []
        session.counts.update(counts | {"skipped": result.skipped_rows})
    for site in vanished:
        result.warnings.append(_vanished_problem(path, site))
    result.totals = dict(counts)
    other_clbs = skipped.pop("other CLBs", 0)
    if skipped:
        result.totals[f"skipped institutions of other levels ({', '.join(sorted(skipped))})"] = sum(skipped.values())
    if other_clbs:
        result.totals[f"institutions of other CLBs left out (--clb {clb})"] = other_clbs
    result.summary = [{"schools": "all", **counts}]
    result.written = not dry_run
    return result


def _vanished_problem(path: Path, site: dict):
    from clbhealth.core.errors import Problem

    return Problem(file=shown_path(path, name_only=True), row=None, column=None, value=site["school_id"],
                   message=f"site {site['school_id']} ({site['name']}) is no longer in the list but has "
                           f"{site['pupils']} pupil(s); it was kept",
                   hint="Import the school's new roster (with the site it moved to), then the old site empties.",
                   severity="warning")


def _parse_own(table, result: ImportResult) -> dict[str, dict]:
    """The simple own CSV: one row per site, the id as written."""
    result.warnings.extend(table.notes)
    check = RowChecker(table, result.errors, result.warnings)
    parsed: dict[str, dict] = {}
    first_row: dict[str, int] = {}
    for row, cells in table.rows:
        school_id = check.parse(row, cells, "school_id", parse_school_id, "Give the school's number (instellingsnummer).")
        record = _own_record(check, row, cells)
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
            parsed[school_id] = record | {"school_number": school_id}
            first_row[school_id] = row
    for row in check.bad_rows:
        for school_id, first in list(first_row.items()):
            if first == row:
                parsed.pop(school_id, None)
    result.skipped_rows = len(check.bad_rows)
    return parsed


def _own_record(check: RowChecker, row: int, cells: list) -> dict:
    record = {
        "name": check.parse(row, cells, "name", lambda v: parse_name(v, 200), "Give the school's name."),
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
    record["special"] = 1 if record["level"] == "buitengewoon" else 0
    return record


class SiteLevels(dict):
    """Site id -> the level that reads its grades; also finds a roster row's site (vestigingsplaats)."""

    def __init__(self, levels: dict[str, str | None], mains: dict[str, str], site: str | None = None) -> None:
        super().__init__(levels)
        self.mains = mains
        self.site = site

    def resolve(self, check: RowChecker, row: int, cells: list, school_id: str | None) -> str | None:
        """The site id of a row: its vestigingsplaats column or --site, else the school's main site."""
        from clbhealth.workspace.schools import site_id

        if school_id is None:
            return None
        given = check.table.value(cells, "site") if "site" in check.table.columns else None
        text = str(given if given is not None else (self.site or "")).strip()
        if not text:
            return self.mains.get(school_id, school_id)
        if not text.isdigit():
            check.error(row, "site", "is not a site number (vestigingsplaats: 1, 2, ...)",
                        "Write the intern_vplnummer of the official list, e.g. 2.", value=text)
            return school_id
        key = site_id(school_id, int(text))
        if key not in self:
            check.error(row, "site", f"school {school_id} has no site {text} in the school list",
                        "Import the official site-level list first, or correct the vestigingsplaats.", value=text)
        return key


def roster_sites(conn, site: str | None = None) -> SiteLevels:
    """What a roster import needs to know of the schools in the workspace."""
    from clbhealth.workspace.schools import grade_levels, main_sites

    return SiteLevels(grade_levels(conn), main_sites(conn), site)
