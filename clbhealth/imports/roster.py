"""`clbhealth import roster`: the pupils of one or more schools, as the school software exports them.

A roster replaces what the workspace knows of each school it covers: pupils are matched (INSZ,
else school + pupil number, else name + birth date), updated, added, and those no longer listed
are marked as left (their history stays). A pupil found at another school has moved.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from clbhealth.core.dates import SchoolYear, parse_date
from clbhealth.core.errors import ClbError, Problem
from clbhealth.core.grades import parse_grade, standard_age
from clbhealth.imports.common import ImportResult, RowChecker, refuse_if_invalid
from clbhealth.core.grades import grade_fits_level
from clbhealth.imports.schools import SiteLevels, roster_sites
from clbhealth.imports.roster_match import check_duplicates, name_key, store_roster
from clbhealth.readers.tabular import FieldSpec, Table, read_table
from clbhealth.readers.values import (
    Insz,
    mask_insz,
    parse_bool,
    parse_education,
    parse_insz,
    parse_label,
    parse_name,
    parse_pupil_number,
    parse_school_id,
    parse_sex,
)
from clbhealth.workspace.folder import HOME_EDUCATION, Workspace

ROSTER_FIELDS = (
    FieldSpec("school_id", ("instellingsnummer", "schoolnummer", "instituteNo", "school", "schoolid", "instelling")),
    FieldSpec("pupil_number", ("stamboeknummer", "leerlingnummer", "stamnummer", "studentNo", "leerling_id",
                               "leerlingid", "lln_nr", "pupil_id", "student_id", "stamboeknr", "leerlingnr",
                               "stamnr", "inschrijvingsnummer", "intern nummer")),
    FieldSpec("insz", ("rijksregisternummer", "nationalRegistrationNo", "insz_nummer", "rrn", "rijksregister",
                       "nationaal nummer", "nationaalnummer", "bisnummer", "national_number", "rijksregisternr",
                       "rrnr", "rr-nummer", "insznr", "insz-nummer", "identificatienummer sociale zekerheid")),
    FieldSpec("last_name", ("naam", "achternaam", "familienaam", "lastName", "surname", "family_name"), True),
    FieldSpec("first_name", ("voornaam", "firstName", "roepnaam", "given_name"), True),
    FieldSpec("birth_date", ("geboortedatum", "dateOfBirth", "birthdate", "birth_date", "geb_datum", "geboren op",
                             "date_of_birth", "geb. datum", "geboortedat", "geboren", "datum geboorte")),
    FieldSpec("sex", ("geslacht", "gender", "sexe")),
    FieldSpec("class", ("klas", "klascode", "klasgroep", "administratieve groep", "class_name", "klasnaam",
                        "classgroup", "groep")),
    FieldSpec("grade", ("leerjaar", "departmentYear", "studiejaar", "jaar", "grade", "klasjaar")),
    FieldSpec("education", ("onderwijsvorm", "onderwijstype", "education_type", "onderwijs", "education")),
    FieldSpec("okan", ("isOkan", "okan")),
    FieldSpec("school_year", ("schooljaar", "school_year", "schoolYear")),
    FieldSpec("site", ("vestigingsplaats", "vestiging", "intern_vplnummer", "site")),
)
_STORED = ("insz", "school_id", "pupil_number", "last_name", "first_name", "birth_date", "sex",
           "class_name", "grade", "education")
MIN_AGE, MAX_AGE = 2, 25


@dataclass
class PupilRow:
    """One valid roster row, ready to store."""

    file: str
    row: int
    school_id: str
    pupil_number: str | None
    insz: str | None
    last_name: str
    first_name: str
    birth_date: str
    sex: str
    class_name: str | None
    grade: str | None
    education: str

    def values(self) -> dict:
        return {k: getattr(self, k) for k in _STORED}

    def name_key(self) -> tuple[str, str]:
        return (self.school_id, name_key(self.last_name, self.first_name, self.birth_date))


def import_roster(
    workspace: Workspace,
    paths: list[Path],
    *,
    school: str | None = None,
    dry_run: bool = False,
    skip_invalid: bool = False,
    today: dt.date | None = None,
    site: str | None = None,
    same_pupils: bool = False,
) -> ImportResult:
    """Import roster files: each replaces what the workspace knows of the schools it covers.
    `same_pupils`: take rows whose pupil number or INSZ changed as the known pupils of the same
    name and birth date (without it a real import refuses them and a dry run lists them)."""
    today = today or dt.date.today()
    year = workspace.config.school_year
    result = ImportResult(kind="roster", files=[str(p) for p in paths], dry_run=dry_run)
    forced_school = None
    if school is not None:
        try:
            forced_school = parse_school_id(school)
        except ValueError as exc:
            raise ClbError(f"--school {school!r} {exc}.") from None
    with workspace.connect() as conn:
        levels = roster_sites(conn, site)
    rows, covered, schools_with_bad_rows = _read_rows(paths, result, forced_school, levels, year, today,
                                                      workspace.protocol.compulsory_age)
    check_duplicates(rows, result)
    refuse_if_invalid(result, skip_invalid, "roster")
    bad = {(p.file, p.row) for p in result.errors}
    rows = [r for r in rows if (r.file, r.row) not in bad]
    result.skipped_rows = len(bad)
    if not rows and not result.errors:
        raise ClbError("The roster holds no pupils; nothing was imported.")

    with workspace.writing("import roster") as session:
        session.rollback = dry_run
        session.files.extend(str(p) for p in paths)
        summary = store_roster(session.conn, rows, _STORED, covered, schools_with_bad_rows, result, today,
                               same_pupils=same_pupils, dry_run=dry_run)
        totals = {k: sum(s[k] for s in summary) for k in ("new", "updated", "unchanged", "moved", "left")}
        session.counts.update(totals | {"skipped": result.skipped_rows, "schools": len(summary)})
    result.summary = summary
    result.totals = totals
    result.written = not dry_run
    return result


def _read_rows(paths: list[Path], result: ImportResult, forced_school: str | None, levels: dict[str, str | None],
               year: SchoolYear, today: dt.date, compulsory_age: int) -> tuple[list[PupilRow], set[str], set[str]]:
    """Every file's valid rows, the schools the files cover, and those of them with an invalid row."""
    rows: list[PupilRow] = []
    covered: set[str] = set()
    schools_with_bad_rows: set[str] = set()
    for path in paths:
        table = read_table(path, ROSTER_FIELDS, what="roster")
        result.warnings.extend(table.notes)
        _check_columns(table, forced_school)
        check = RowChecker(table, result.errors, result.warnings)
        sex_parser = _sex_parser(table, result)
        from_class = 0
        for row, cells in table.rows:
            record, school_id, derived = _parse_row(
                check, table, row, cells, forced_school, levels, year, today, compulsory_age, sex_parser
            )
            from_class += derived
            if school_id is not None:
                covered.add(school_id)
                if record is None:
                    schools_with_bad_rows.add(school_id)
            if record is not None:
                rows.append(record)
        if from_class:
            result.warnings.append(Problem(
                table.file, f"no grade column value in {from_class} row(s): the grade was read from the class name.",
                severity="warning"))
    return rows, covered, schools_with_bad_rows


def _sex_parser(table: Table, result: ImportResult):
    """M/V/X as usual; but a column written J/M (jongen/meisje) reads M as a girl."""
    values = {str(table.value(c, "sex") or "").strip().upper() for _, c in table.rows}
    if "J" in values and "V" not in values and "F" not in values:
        result.warnings.append(Problem(table.file, "the sex column uses J and M (jongen/meisje): M is read as "
                                       "meisje (V).", column=table.headers.get("sex"), severity="warning"))

        def jm(value: object) -> str:
            text = str(value or "").strip().upper()
            if text == "J":
                return "M"
            if text == "M":
                return "V"
            return parse_sex(value)

        return jm
    return parse_sex


def _check_columns(table: Table, forced_school: str | None) -> None:
    if "school_id" not in table.columns and forced_school is None:
        raise ClbError(
            f"{table.file}: the roster has no school id column.",
            hint="Add a column 'instellingsnummer' (or 'school_id'), or name the school with --school ID.",
        )
    if "birth_date" not in table.columns and "insz" not in table.columns:
        raise ClbError(
            f"{table.file}: the roster has neither a birth date nor an INSZ column.",
            hint="Add a column 'geboortedatum' (or 'birth_date').",
        )
    if "sex" not in table.columns and "insz" not in table.columns:
        raise ClbError(
            f"{table.file}: the roster has neither a sex nor an INSZ column.",
            hint="Add a column 'geslacht' (M, V or X).",
        )
    home_only = forced_school == HOME_EDUCATION or (
        forced_school is None
        and all(str(table.value(cells, "school_id") or "").strip().upper() == HOME_EDUCATION for _, cells in table.rows)
    )
    if "grade" not in table.columns and "class" not in table.columns and not home_only:
        raise ClbError(
            f"{table.file}: the roster has neither a grade (leerjaar) nor a class column.",
            hint="Add a column 'leerjaar' (K1-K3, L1-L6, S1-S7).",
        )


def _parse_row(
    check: RowChecker,
    table: Table,
    row: int,
    cells: list[object],
    forced_school: str | None,
    levels: dict[str, str | None],
    year: SchoolYear,
    today: dt.date,
    compulsory_age: int,
    sex_parser=parse_sex,
) -> tuple[PupilRow | None, str | None, int]:
    """Validate one row; returns (record or None, its school, 1 if the grade came from the class)."""
    before = len(check.errors)
    school_id, school_id_known = _school(check, table, row, cells, forced_school, levels)
    level = levels.get(school_id) if school_id else None
    _check_school_year(check, table, row, cells, year)
    insz: Insz | None = check.parse(row, cells, "insz", parse_insz, "Check the number on the pupil's ID or in the school software.",
                                    shown=lambda v: mask_insz(str(v)))
    pupil_number = check.parse(row, cells, "pupil_number", parse_pupil_number, "Use the school's own pupil number.")
    last = check.parse(row, cells, "last_name", parse_name, "Fill in the pupil's last name.")
    first = check.parse(row, cells, "first_name", parse_name, "Fill in the pupil's first name.")
    birth = _birth_date(check, table, row, cells, insz, year, today)
    sex = _sex(check, table, row, cells, insz, birth, sex_parser)
    class_name = check.parse(row, cells, "class", lambda v: parse_label(v, 40), "Use the class code, e.g. 1A.")
    education, grade, derived = _education_and_grade(check, table, row, cells, school_id, school_id_known, level,
                                                     birth, year, compulsory_age)
    if len(check.errors) > before or None in (school_id, last, first, birth, sex):
        return None, school_id, 0
    assert school_id and last and first and birth and sex
    return (
        PupilRow(
            file=table.file, row=row, school_id=school_id, pupil_number=pupil_number,
            insz=insz.number if insz else None, last_name=last, first_name=first,
            birth_date=birth.isoformat(), sex=sex, class_name=class_name, grade=grade, education=education,
        ),
        school_id,
        derived,
    )


def _school(check: RowChecker, table: Table, row: int, cells: list[object], forced_school: str | None,
            levels: dict[str, str | None]) -> tuple[str | None, bool]:
    """The row's school (the cell, or --school) and whether it is a known school."""
    school_id = forced_school
    if "school_id" in table.columns:
        cell_school = check.parse(row, cells, "school_id", parse_school_id,
                                  "Fill in the school's number (instellingsnummer), or use --school.")
        if cell_school is not None and forced_school is not None and cell_school != forced_school:
            check.error(row, "school_id", f"differs from --school {forced_school}",
                        "Leave out --school, or import this school's rows separately.", value=cell_school)
        school_id = cell_school if forced_school is None else forced_school
    if isinstance(levels, SiteLevels):
        school_id = levels.resolve(check, row, cells, school_id)
    if school_id is not None and school_id not in levels:
        check.error(row, "school_id", "is not a known school",
                    "Import the school list first (clbhealth import schools FILE), or correct the number.",
                    value=school_id)
        return school_id, False
    return school_id, True


def _check_school_year(check: RowChecker, table: Table, row: int, cells: list[object], year: SchoolYear) -> None:
    if "school_year" not in table.columns:
        return
    stated = table.value(cells, "school_year")
    try:
        stated_year = SchoolYear.parse(str(stated)) if stated is not None else None
    except ValueError:
        stated_year = None
        check.error(row, "school_year", "is not a school year", "Write it as 2026-2027.", value=stated)
    if stated_year is not None and stated_year != year:
        check.error(row, "school_year", f"is not the workspace's school year {year}",
                    "Export this year's roster from the school software.", value=stated)


def _birth_date(check: RowChecker, table: Table, row: int, cells: list[object], insz: Insz | None,
                year: SchoolYear, today: dt.date) -> dt.date | None:
    """The birth date (the cell, else from the INSZ); None when missing or implausible."""
    birth: dt.date | None = None
    if table.value(cells, "birth_date") is None:
        if insz is not None and insz.birth_date is not None:
            birth = insz.birth_date
        else:
            check.error(row, "birth_date" if "birth_date" in table.columns else "insz",
                        "no birth date", "Fill in the birth date as dd/mm/yyyy.")
    else:
        birth = check.parse(row, cells, "birth_date", parse_date, "Write the birth date as dd/mm/yyyy.")
    if birth is not None:
        age = year.start_year - birth.year
        if birth > today:
            check.error(row, "birth_date", "lies in the future", "Check the birth date.", value=birth.strftime("%d/%m/%Y"))
            birth = None
        elif not MIN_AGE <= age <= MAX_AGE:
            check.error(row, "birth_date", f"makes the pupil {age} in {year.start_year}; a pupil is {MIN_AGE} to {MAX_AGE}",
                        "Check the birth date (day/month/year order, the year in full).", value=birth.strftime("%d/%m/%Y"))
            birth = None
    return birth


def _sex(check: RowChecker, table: Table, row: int, cells: list[object], insz: Insz | None,
         birth: dt.date | None, sex_parser) -> str | None:
    """The sex (the cell, else from the INSZ), and the INSZ checked against birth date and sex."""
    sex: str | None = None
    if table.value(cells, "sex") is None and insz is not None and insz.sex is not None:
        sex = insz.sex
    else:
        sex = check.parse(row, cells, "sex", sex_parser, "Write M, V or X.")
    if insz is not None:
        if birth is not None and insz.birth_year is not None:
            inconsistent = insz.birth_year != birth.year or (
                insz.birth_date is not None and insz.birth_date != birth
            )
            if inconsistent:
                check.error(row, "insz", "does not match the birth date (the INSZ starts with yymmdd)",
                            "Check both the INSZ and the birth date.", value=insz.number, shown=mask_insz)
        if sex in ("M", "V") and insz.sex is not None and insz.sex != sex:
            check.error(row, "insz", f"encodes the other sex than '{sex}' (odd counter = M, even = V)",
                        "Check the sex and the INSZ.", value=insz.number, shown=mask_insz)
    return sex


def _education_and_grade(check: RowChecker, table: Table, row: int, cells: list[object], school_id: str | None,
                         school_id_known: bool, level: str | None, birth: dt.date | None, year: SchoolYear,
                         compulsory_age: int) -> tuple[str | None, str | None, int]:
    """(education, grade, 1 if the grade came from the class name)."""
    education = check.parse(row, cells, "education", parse_education,
                            "Write gewoon, buitengewoon, okan or huisonderwijs.")
    okan = check.parse(row, cells, "okan", parse_bool, "Write ja or nee.")
    grade_cell = table.value(cells, "grade")
    if grade_cell is not None and str(grade_cell).strip().lower() == "okan":
        okan = True
    grade = check.parse(row, cells, "grade", lambda v: parse_grade(v, level), "Write K1-K3, L1-L6 or S1-S7.")
    if not grade_fits_level(grade, level):
        check.warn(row, "grade", f"{grade} does not fit school {school_id}, a {level} school",
                   "Check the grade, or the school's level in the school list.", value=grade_cell)
    if school_id == HOME_EDUCATION:
        _check_home_education(check, row, education, birth, year, compulsory_age)
        return "huisonderwijs", None, 0
    if education == "huisonderwijs":
        check.error(row, "education", "home-educated pupils come in a roster of their own",
                    f"Put them in a roster with school id {HOME_EDUCATION}.")
    if education is None:
        education = "okan" if okan else ("buitengewoon" if level == "buitengewoon" else "gewoon")
    elif okan:
        education = "okan"
    derived = 0
    if grade is None and grade_cell is None and education == "gewoon" and school_id_known:
        grade, derived = _grade_from_class(check, table, row, cells, level)
    if grade is not None and birth is not None and education == "gewoon":
        gap = (year.start_year - birth.year) - standard_age(grade)
        if abs(gap) >= 3:
            check.warn(row, "birth_date", f"a pupil born {birth.year} in {grade} is {abs(gap)} years "
                       f"{'older' if gap > 0 else 'younger'} than usual", "Check the birth date and grade.")
    return education, grade, derived


def _check_home_education(check: RowChecker, row: int, education: str | None, birth: dt.date | None,
                          year: SchoolYear, compulsory_age: int) -> None:
    if education not in (None, "huisonderwijs"):
        check.error(row, "education", "a pupil in the HUISONDERWIJS roster is home-educated",
                    "Leave the column empty or write huisonderwijs.", value=education)
    if birth is not None and year.start_year - birth.year < compulsory_age:
        check.error(row, "birth_date",
                    f"makes the pupil {year.start_year - birth.year} in {year.start_year}: "
                    f"home education starts in the year a child turns {compulsory_age}",
                    "Check the birth date; younger children are not of compulsory school age.",
                    value=birth.strftime("%d/%m/%Y"))


def _grade_from_class(check: RowChecker, table: Table, row: int, cells: list[object],
                      level: str | None) -> tuple[str | None, int]:
    """A regular pupil without a grade: read it from the class name ('3B' -> L3), else an error."""
    class_cell = table.value(cells, "class")
    try:
        grade = parse_grade(class_cell, level) if class_cell is not None else None
        derived = 1 if grade else 0
    except ValueError:
        grade, derived = None, 0
    if grade is None:
        check.error(row, "grade" if "grade" in table.columns else "class", "no grade (leerjaar)",
                    "Fill in the grade: K1-K3, L1-L6 or S1-S7 (pupils in regular education need one).")
    return grade, derived
