"""Property-based tests: no input makes the readers, cell parsers or imports fail in an undesigned way.

Cell parsers raise ValueError (with a message for the user) or return; readers and imports raise
ClbError or return. Messages never show an INSZ; exports never hold a cell Excel would run.
"""

from __future__ import annotations

import atexit
import datetime as dt
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from clbhealth.core.dates import SchoolYear, parse_date
from clbhealth.core.errors import ClbError
from clbhealth.core.grades import LEVELS, parse_grade, parse_level
from clbhealth.imports.history import HISTORY_FIELDS
from clbhealth.imports.roster import ROSTER_FIELDS
from clbhealth.imports.schools import SCHOOL_FIELDS
from clbhealth.imports.staff import ABSENCE_FIELDS, CLOSURE_FIELDS, STAFF_FIELDS, parse_availability, parse_part, parse_role
from clbhealth.readers import values
from clbhealth.readers.tabular import normalise_header, read_table
from clbhealth.samples.generator import insz_for

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                             HealthCheck.too_slow])
SLOW = settings(SETTINGS, max_examples=50)  # for properties that write and read a workbook each time
FOLDER = Path(tempfile.mkdtemp(prefix="clbhealth-properties-"))
atexit.register(shutil.rmtree, FOLDER, True)

# Any cell a reader can hand over: text (also formula-, date- and number-like), numbers of every size,
# NaN and infinities, booleans, dates and datetimes.
texts = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="0123456789./- ", max_size=20),
    st.sampled_from(["=cmd|' /C calc'!A0", "+1", "-1+1", "@SUM(1)", "#N/A", "31/02/2019", "29/02/2023", "00/00/0000",
                     "1ste leerjaar", "L9", "K0", "S7", "okan", "2A", "3de graad", "ma-vm", "za", "vm", "M", "x",
                     "85.07.30-033.28", "00000000000", "99999999999", "", " ", "\x00", "\u202e", "é" * 300]),
)
cells = st.one_of(
    st.none(), texts, st.integers(), st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
    st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)), st.datetimes(),
)


def only_value_error(function, value) -> None:
    try:
        function(value)
    except ValueError as exc:
        assert str(exc), "a ValueError for the user needs a message"


CELL_PARSERS = {
    "insz": values.parse_insz,
    "name": values.parse_name,
    "label": values.parse_label,
    "school_id": values.parse_school_id,
    "pupil_number": values.parse_pupil_number,
    "sex": values.parse_sex,
    "education": values.parse_education,
    "bool": values.parse_bool,
    "coordinate": lambda v: values.parse_coordinate(v, -90, 90),
    "date": parse_date,
    "level": parse_level,
    "availability": parse_availability,
    "role": lambda v: parse_role(v, {"nurse", "doctor"}),
    "part": parse_part,
    **{f"grade/{level}": (lambda v, level=level: parse_grade(v, level)) for level in (None, *LEVELS)},
}


@pytest.mark.parametrize("name", list(CELL_PARSERS))
@SETTINGS
@given(value=cells)
def test_cell_parsers_raise_only_value_error(name, value):
    only_value_error(CELL_PARSERS[name], value)


@SETTINGS
@given(value=cells)
def test_helpers_never_raise(value):
    values.text_of(value)
    normalise_header(value)
    values.mask_insz(str(value))
    only_value_error(SchoolYear.parse, str(value))


@SETTINGS
@given(text=st.text(max_size=30))
def test_a_masked_insz_shows_at_most_two_digits(text):
    masked = values.mask_insz(text)
    assert sum(ch.isdigit() for ch in masked) <= 2


@SETTINGS
@given(born=st.dates(min_value=dt.date(1930, 1, 1), max_value=dt.date(2025, 12, 31)),
       counter=st.integers(min_value=1, max_value=997), spoil=st.integers(min_value=1, max_value=96))
def test_valid_insz_round_trips_and_a_wrong_check_is_refused(born, counter, spoil):
    number = insz_for(born, counter)
    parsed = values.parse_insz(number)
    assert parsed.birth_date == born and parsed.sex == ("M" if counter % 2 else "V")
    assert values.parse_insz(f"{number[:2]}.{number[2:4]}.{number[4:6]}-{number[6:9]}.{number[9:]}") == parsed
    wrong = number[:9] + f"{(int(number[9:]) + spoil) % 97 or 97:02d}"
    assume(wrong != number)
    try:
        other = values.parse_insz(wrong)
    except ValueError:
        return
    # The check digits of the other century (born 19xx instead of 20xx) can match: another birth date then.
    assert other.birth_date != born


@SETTINGS
@given(text=st.text(min_size=1, max_size=30))
def test_text_a_spreadsheet_would_run_is_never_a_name(text):
    try:
        name = values.parse_name(text)
    except ValueError:
        return
    assert not name.startswith(("=", "+", "@"))
    assert not (name.startswith("-") and not name[1:].replace(" ", "").isalnum())


# --- files ---------------------------------------------------------------------------------------

SPECS = {"roster": ROSTER_FIELDS, "schools": SCHOOL_FIELDS, "history": HISTORY_FIELDS, "staff": STAFF_FIELDS,
         "absences": ABSENCE_FIELDS, "closures": CLOSURE_FIELDS}
MAGIC = [b"", b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"%PDF-", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff",
         b"<html>", b"PK\x03\x04[Content_Types].xml", b"PK\x03\x04mimetype"]


def read(data: bytes, specs, name: str = "input.csv"):
    path = FOLDER / name
    path.write_bytes(data)
    try:
        return read_table(path, specs, what="roster")
    except ClbError as exc:
        assert exc.message
        return None


@pytest.mark.parametrize("kind", list(SPECS))
@SETTINGS
@given(magic=st.sampled_from(MAGIC), tail=st.binary(max_size=600))
def test_any_bytes_give_a_table_or_a_clb_error(kind, magic, tail):
    read(magic + tail, SPECS[kind])


def headers(specs):
    return st.lists(st.one_of(st.sampled_from([a for s in specs for a in (s.name, *s.aliases)]), st.text(max_size=12)),
                    min_size=1, max_size=8)


@st.composite
def csv_files(draw, specs):
    header = draw(headers(specs))
    rows = draw(st.lists(st.lists(texts, min_size=0, max_size=len(header) + 2), max_size=6))
    delimiter = draw(st.sampled_from([";", ",", "\t", "|"]))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = newline.join(delimiter.join(r) for r in [header, *rows]) + newline
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16", "utf-16-le"]))
    return text.encode(encoding, errors="replace")


@pytest.mark.parametrize("kind", list(SPECS))
@SETTINGS
@given(data=st.data())
def test_any_csv_gives_a_table_or_a_clb_error(kind, data):
    table = read(data.draw(csv_files(SPECS[kind])), SPECS[kind])
    if table is not None:
        assert table.rows and all(isinstance(r, int) and r >= 2 for r, _ in table.rows)


@SLOW
@given(rows=st.lists(st.lists(cells.filter(lambda v: not isinstance(v, float) or v == v), max_size=6), max_size=5),
       header=headers(ROSTER_FIELDS))
def test_any_xlsx_gives_a_table_or_a_clb_error(rows, header):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for row in [header, *rows]:
        try:
            sheet.append([v if not isinstance(v, str) else re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", v) for v in row])
        except (ValueError, TypeError):  # openpyxl refuses some values (huge ints, far dates): not our reader
            return
    path = FOLDER / "input.xlsx"
    try:
        workbook.save(path)
    except (ValueError, TypeError, OverflowError):
        return
    try:
        read_table(path, ROSTER_FIELDS, what="roster")
    except ClbError:
        pass


# --- whole imports (dry runs on one workspace: they change nothing) ------------------------------


@pytest.fixture(scope="module")
def workspace():
    from clbhealth.imports.schools import import_schools
    from clbhealth.imports.staff import import_staff
    from clbhealth.workspace.folder import Workspace

    ws = Workspace.create(FOLDER / "ws", "CLB Test", SchoolYear(2026))
    (FOLDER / "schools.csv").write_text("school_id;name;level\n100;Basisschool;basis\n200;Atheneum;secundair\n",
                                        encoding="utf-8")
    import_schools(ws, FOLDER / "schools.csv")
    (FOLDER / "staff.csv").write_text("staff_id;name;role;availability\nN1;Nele;nurse;ma\n", encoding="utf-8")
    import_staff(ws, FOLDER / "staff.csv")
    return ws


def importer(kind):
    from clbhealth.imports import history, roster, schools, staff

    return {
        "roster": lambda ws, p: roster.import_roster(ws, [p], dry_run=True),
        "schools": lambda ws, p: schools.import_schools(ws, p, dry_run=True),
        "history": lambda ws, p: history.import_history(ws, p, dry_run=True),
        "staff": lambda ws, p: staff.import_staff(ws, p, dry_run=True),
        "absences": lambda ws, p: staff.import_absences(ws, p, dry_run=True),
        "closures": lambda ws, p: staff.import_closures(ws, p, dry_run=True),
    }[kind]


INSZ_LIKE = re.compile(r"\d{11}")


@pytest.mark.parametrize("kind", list(SPECS))
@settings(SETTINGS, max_examples=60)
@given(data=st.data())
def test_any_file_imports_or_is_refused_with_a_clb_error(kind, workspace, data):
    specs = SPECS[kind]
    required = [s.aliases[0] for s in specs if s.required]
    header = required + data.draw(headers(specs))
    insz = [insz_for(dt.date(2019, 5, 1), 1), insz_for(dt.date(2016, 2, 29), 2)]
    cell = st.one_of(texts, st.sampled_from(insz + ["100", "200", "N1", "L1", "K1", "gedaan", "05/03/2020", "M", "V"]))
    rows = data.draw(st.lists(st.lists(cell, min_size=len(header), max_size=len(header)), min_size=1, max_size=5))
    path = FOLDER / f"{kind}.csv"
    path.write_text("\n".join(";".join(c.replace(";", "").replace("\n", "") for c in r) for r in [header, *rows]) + "\n",
                    encoding="utf-8")
    before = workspace.db_path.stat().st_size
    try:
        result = importer(kind)(workspace, path)
        problems = result.errors + result.warnings
    except ClbError as exc:
        problems = exc.problems
        text = str(exc)
        assert not any(number in text for number in insz)
    for problem in problems:
        shown = str(problem)
        assert not any(number in shown for number in insz), shown
    with workspace.connect() as conn:
        assert conn.execute("SELECT count(*) FROM pupils").fetchone()[0] == 0  # a dry run stores nothing
    assert workspace.db_path.stat().st_size >= before


# --- exports -------------------------------------------------------------------------------------


@SLOW
@given(names=st.lists(st.one_of(texts, st.sampled_from(["=1+1", "+A1", "-2+3", "@x", "\t=1", "\r=1"])), min_size=1,
                      max_size=8))
def test_exports_never_hold_a_formula(names):
    import csv
    import io

    import pandas as pd
    from openpyxl import load_workbook

    from clbhealth.exports.frames import _csv_text, write_xlsx

    frame = pd.DataFrame({"last_name": names, "n": range(len(names))})
    path = FOLDER / "export.xlsx"
    cleaned = frame.assign(last_name=[re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", v) for v in names])
    write_xlsx(cleaned, path)
    sheet = load_workbook(path).active
    for row in sheet.iter_rows(min_row=2):
        assert row[0].data_type != "f", row[0].value
        if isinstance(row[0].value, str):
            assert not row[0].value.startswith(("=", "+", "-", "@"))
    for row in list(csv.reader(io.StringIO(_csv_text(frame), newline=""), delimiter=";"))[1:]:
        assert not row[0].startswith(("=", "+", "-", "@", "\t", "\r"))
