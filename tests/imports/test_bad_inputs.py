"""The catalogue of bad inputs (tests/data/bad/): each gives exit code 1, a message that names the file
(and row and column where there is one) and says what to do, never a traceback, never an INSZ,
and leaves the workspace database exactly as it was (dump compared, audit table aside).

The huge cases (a million rows, huge fields) are generated in a temporary folder at test time.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import run

BAD = Path(__file__).resolve().parent.parent / "data" / "bad"
sys.path.insert(0, str(BAD))

import make_catalogue as cat  # noqa: E402

KNOWN_INSZ = (cat.INSZ1, cat.INSZ2, cat.INSZ3, cat.STRANGER)
ELEVEN_DIGITS = re.compile(r"(?<!\d)\d{2}[.\- ]?\d{2}[.\- ]?\d{2}[.\- ]?\d{3}[.\- ]?\d{2}(?!\d)")


@dataclass(frozen=True)
class Case:
    file: str
    message: str  # must appear in the output
    hint: str  # what to do: must appear too
    row: int | None = None
    column: str | None = None
    args: tuple[str, ...] = ()

    @property
    def command(self) -> str:
        prefix = self.file.split("_", 1)[0]
        return prefix if prefix in ("schools", "history", "staff", "absences", "closures") else "roster"


CASES = [
    # not a table at all
    Case("empty.csv", "the file is empty", "Export the roster again"),
    Case("blank_lines.csv", "the file is empty", "Export the roster again"),
    Case("only_header.csv", "has a header but no data rows", "Check that you exported the right list"),
    Case("binary_garbage.csv", "not a text (CSV) file nor an Excel workbook", "as .xlsx or .csv"),
    Case("pdf_renamed.xlsx", "this is a PDF document", "as an Excel file (.xlsx) or CSV"),
    Case("corrupt.xlsx", "damaged or not a spreadsheet", "save it again as .xlsx"),
    Case("zip_archive.xlsx", "this is a ZIP archive", "Unpack it"),
    Case("corrupt.ods", "damaged or not a spreadsheet", "save it again as .xlsx"),
    Case("html_saved_as.xls", "web page or XML document", "save it as .xlsx"),
    Case("password_protected.xlsx", "protected with a password", "remove the password"),
    Case("password_protected.xls", "protected with a password", "remove the password"),
    # encodings
    Case("mixed_encodings.csv", "mixes UTF-8 and Windows-1252 text (first odd character on line 3)", "CSV UTF-8"),
    Case("broken_utf16.csv", "claims to be UTF-16", "CSV UTF-8"),
    # headers
    Case("no_header.csv", "no header row found", "needs a row of column names"),
    Case("wrong_headers.csv", "no header row found", "needs a row of column names"),
    Case("missing_first_name_column.csv", "lacks required column(s) first_name", "accepted headers", row=1),
    Case("two_columns_same_meaning.csv", "columns 'naam' and 'Naam' both mean last_name", "Remove or rename", row=1),
    Case("no_school_column.csv", "has no school id column", "--school ID"),
    Case("no_birth_date_nor_insz.csv", "neither a birth date nor an INSZ column", "Add a column 'geboortedatum'"),
    Case("no_grade_nor_class.csv", "neither a grade (leerjaar) nor a class column", "Add a column 'leerjaar'"),
    Case("unclosed_quote.csv", "a quote (\") opens a cell that is never closed", "Remove the stray quote", row=3),
    # cells
    Case("invalid_date_31_02.csv", "is not a real date", "dd/mm/yyyy", row=3, column="geboortedatum"),
    Case("two_digit_year.csv", "has a two-digit year", "dd/mm/yyyy", row=2, column="geboortedatum"),
    Case("future_birth_date.csv", "lies in the future", "Check the birth date", row=3, column="geboortedatum"),
    Case("implausible_age.csv", "a pupil is 2 to 25", "Check the birth date", row=2, column="geboortedatum"),
    Case("insz_wrong_checksum.csv", "has wrong check digits", "Check the number", row=2, column="rijksregisternummer"),
    Case("insz_birth_date_mismatch.csv", "does not match the birth date", "Check both the INSZ and the birth date",
         row=2, column="rijksregisternummer"),
    Case("insz_sex_mismatch.csv", "encodes the other sex", "Check the sex and the INSZ", row=2, column="rijksregisternummer"),
    Case("insz_wrong_length.csv", "has 9 digits", "Check the number", row=2, column="rijksregisternummer"),
    Case("duplicate_pupils.csv", "has the same INSZ as row 2", "remove the duplicate row", row=4),
    Case("duplicate_pupil_number.csv", "has the same pupil number as row 2", "remove the duplicate row", row=3),
    Case("unknown_school.csv", "is not a known school", "Import the school list first", row=2, column="instellingsnummer"),
    Case("unknown_grades.csv", "is not a grade", "Write K1-K3, L1-L6 or S1-S7", row=4, column="leerjaar"),
    Case("formula_cells.csv", "looks like a spreadsheet formula", "Fill in the pupil's last name", row=2, column="naam"),
    Case("spreadsheet_error_text.csv", "is the spreadsheet error #N/A", "type the value instead", row=2, column="naam"),
    Case("bad_sex.csv", "is not a sex", "Write M, V or X", row=2, column="geslacht"),
    Case("empty_names.csv", "holds no letters", "Fill in the pupil's first name", row=3, column="voornaam"),
    Case("wrong_school_year.csv", "is not the workspace's school year 2026-2027", "Export this year's roster",
         row=2, column="schooljaar"),
    Case("home_education_too_young.csv", "home education starts in the year a child turns", "Check the birth date",
         row=2, column="geboortedatum"),
    Case("home_educated_in_school_roster.csv", "home-educated pupils come in a roster of their own",
         "school id HUISONDERWIJS", row=2, column="onderwijsvorm"),
    Case("school_differs_from_option.csv", "differs from --school 100", "Leave out --school", row=2,
         column="instellingsnummer", args=("--school", "100")),
    Case("many_bad_rows.csv", "60 row(s) [2, 3, 4,", "dd/mm/yyyy", column="geboortedatum"),
    # workbooks with formulas
    Case("formula_text.xlsx", "looks like a spreadsheet formula", "Fill in the pupil's last name", row=2, column="naam"),
    Case("formula_no_value.xlsx", "holds a formula without a computed value", "save it again", row=2,
         column="geboortedatum"),
    Case("formula_error_values.xlsx", "holds the spreadsheet error #N/A", "Correct the formula in Excel", row=2,
         column="rijksregisternummer"),
    # school lists
    Case("schools_swapped_coordinates.csv", "latitude and longitude look swapped", "lat is about 50-51", row=2, column="lat"),
    Case("schools_duplicate_id.csv", "repeats the school of row 2", "Give each school site one row", row=3, column="school_id"),
    Case("schools_reserved_id.csv", "HUISONDERWIJS is reserved for home education", "Use the school's number", row=2,
         column="school_id"),
    Case("schools_bad_level.csv", "is not a school level", "Use kleuter, lager, basis", row=2, column="level"),
    Case("schools_missing_name_column.csv", "lacks required column(s) name", "accepted headers", row=1),
    # history
    Case("history_unknown_pupil.csv", "is not a pupil of this workspace", "Import the pupil's roster first", row=3,
         column="rijksregisternummer"),
    Case("history_unknown_code.csv", "is not a known contact moment or dose", "Use one of: K1", row=2, column="code"),
    Case("history_bad_status.csv", "is not a known status", "Use done, done_external", row=2, column="status"),
    Case("history_before_birth.csv", "lies before the pupil's birth date", "Check the date", row=2, column="datum"),
    Case("history_far_future.csv", "lies more than a year ahead", "Check the date", row=2, column="datum"),
    Case("history_who_missing.csv", "does not say who each row is about", "Add a column 'insz'"),
    Case("history_consent_for_contact.csv", "consent is asked for vaccinations", "for an objection write 'objected'",
         row=2, column="status"),
    Case("history_duplicate_rows.csv", "repeats row 2", "Remove the duplicate row", row=3),
    # staff, absences, closures
    Case("staff_impossible_availability.csv", "there are no school sessions at the weekend", "e.g. 'ma-vm ma-nm di-vm'",
         row=2, column="availability"),
    Case("staff_unknown_role.csv", "is not a role the protocol names", "Write nurse/verpleegkundige", row=2, column="role"),
    Case("staff_unknown_school.csv", "names school '999', which is not in this workspace", "Import the school list first",
         row=2, column="schools"),
    Case("staff_duplicate_id.csv", "repeats the person of row 2", "Give each person one row", row=3, column="staff_id"),
    Case("absences_overlapping.csv", "overlaps the absence of row 2 for the same person", "Merge the two rows", row=3,
         column="from"),
    Case("absences_unknown_staff.csv", "is not in the staff list", "Import the staff list first", row=2, column="staff_id"),
    Case("absences_end_before_start.csv", "lies before the start date", "Swap the dates", row=2, column="to"),
    Case("absences_longer_than_a_year.csv", "makes a period of more than a year", "Check the dates", row=2, column="to"),
    Case("closures_unknown_school.csv", "is not a known school", "Import the school list first", row=2, column="school_id"),
    Case("closures_bad_part.csv", "is not a part of the day", "Write vm or nm", row=2, column="part"),
]

# Files in the catalogue that must be accepted (the edge cases next to the bad ones).
OK_FILES = ("ok_unknown_columns.csv", "ok_excel_unicode_text.txt", "ok_utf16_without_bom.csv",
            "ok_formula_cached_values.xlsx", "ok_roster.ods", "ok_roster.xls")

SCHOOLS = ("school_id;name;street;postcode;municipality;lat;lon;level\n"
           "100;Basisschool Een;Kerkstraat 1;2000;Antwerpen;51,2194;4,4025;basis\n"
           "200;Atheneum Twee;Schoolstraat 2;2500;Lier;51.1315;4.5700;secundair\n"
           "300;Kleuterschool Drie;Dorp 3;2260;Westerlo;51.09;4.92;kleuter\n"
           "400;BuBaO Vier;Laan 4;2300;Turnhout;51.32;4.94;buitengewoon\n")


def build_loaded_workspace(root: Path) -> Path:
    """A workspace with schools, three pupils, staff, an absence, a closure and a history event."""
    from clbhealth.core.dates import SchoolYear
    from clbhealth.imports.history import import_history
    from clbhealth.imports.roster import import_roster
    from clbhealth.imports.schools import import_schools
    from clbhealth.imports.staff import import_absences, import_closures, import_staff
    from clbhealth.workspace.folder import Workspace

    ws = Workspace.create(root, "CLB Test", SchoolYear(2026))
    inputs = root.parent / f"{root.name}-inputs"
    inputs.mkdir()
    files = {
        "schools.csv": SCHOOLS.encode(),
        "roster.csv": cat.csv_text(cat.HEADER, cat.good(), cat.good(2, cat.INSZ2, "Maes", "Zoë", "07/06/2017", "V", "4A", "L4"),
                                   cat.good(3, cat.INSZ3, "Claes", "Lotte", "30/11/2020", "V", "1B", "L1")),
        "staff.csv": b"staff_id;name;role;availability;schools\nN1;Nele Nurse;verpleegkundige;ma-vm ma-nm di-vm;100\n"
                     b"D1;Dirk Doctor;arts;wo-vm do-vm;100 200\n",
        "absences.csv": b"staff_id;from;to;part\nN1;05/10/2026;09/10/2026;\n",
        "closures.csv": b"school_id;from;to;part;reason\n100;14/10/2026;;vm;studiedag\n",
        "history.csv": f"rijksregisternummer;code;datum;status\n{cat.INSZ2};MMR2;15/09/2026;toestemming\n".encode(),
    }
    for name, data in files.items():
        (inputs / name).write_bytes(data)
    import_schools(ws, inputs / "schools.csv")
    import_roster(ws, [inputs / "roster.csv"])
    import_staff(ws, inputs / "staff.csv")
    import_absences(ws, inputs / "absences.csv")
    import_closures(ws, inputs / "closures.csv")
    import_history(ws, inputs / "history.csv")
    return root


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return build_loaded_workspace(tmp_path_factory.mktemp("template") / "ws")


@pytest.fixture
def loaded(template, tmp_path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(template, root)
    return root


def dump(root: Path) -> list[str]:
    """The database as SQL, without the audit table (a refused import may log nothing else)."""
    conn = sqlite3.connect(root / "clbhealth.sqlite")
    try:
        return [line for line in conn.iterdump() if not line.startswith('INSERT INTO "audit"')]
    finally:
        conn.close()


def assert_clean_refusal(result, file: str) -> str:
    output = result.output
    assert result.exit_code == 1, output
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # not an uncaught error
    assert "Traceback" not in output
    assert file in output
    assert "Error:" in output
    for number in KNOWN_INSZ:
        assert number not in output
    assert not ELEVEN_DIGITS.search(output), output
    return output


@pytest.mark.parametrize("case", CASES, ids=[c.file for c in CASES])
def test_bad_input_is_refused_clearly_and_changes_nothing(case, loaded, runner):
    before = dump(loaded)
    result = run(runner, "import", case.command, BAD / case.file, "-w", loaded, *case.args, code=None)
    output = assert_clean_refusal(result, case.file)
    assert case.message in output
    assert case.hint in output
    if case.row is not None:
        assert f"row {case.row}" in output
    if case.column is not None:
        assert f"column '{case.column}'" in output
    assert dump(loaded) == before


def test_the_catalogue_is_complete_and_documented():
    files = {p.name for p in BAD.iterdir() if p.is_file() and p.name not in ("README.md", "make_catalogue.py")}
    listed = {c.file for c in CASES} | set(OK_FILES)
    assert files == listed
    assert len(CASES) >= 30
    readme = (BAD / "README.md").read_text(encoding="utf-8")
    for name in files:
        assert f"`{name}`" in readme, name


def test_the_committed_files_are_what_the_generator_makes():
    for name, data in cat.catalogue().items():
        assert (BAD / name).read_bytes() == data, f"{name}: run python tests/data/bad/make_catalogue.py"
    # Encrypted with a random salt, so not byte-equal: an OLE container with the encryption streams.
    encrypted = (BAD / "password_protected.xlsx").read_bytes()
    assert encrypted[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    assert "EncryptionInfo".encode("utf-16-le") in encrypted


def test_a_freshly_encrypted_workbook_is_refused_too(loaded, runner, tmp_path):
    pytest.importorskip("msoffcrypto")
    path = tmp_path / "geheim.xlsx"
    path.write_bytes(cat.encrypted_xlsx())
    before = dump(loaded)
    output = assert_clean_refusal(run(runner, "import", "roster", path, "-w", loaded, code=None), "geheim.xlsx")
    assert "protected with a password" in output
    assert dump(loaded) == before


def test_a_real_process_shows_no_traceback_either(loaded):
    """The CLI as cron runs it (a separate Python), on a few files of each kind."""
    for case in [c for c in CASES if c.file in ("binary_garbage.csv", "password_protected.xlsx", "formula_cells.csv",
                                                "history_unknown_pupil.csv")]:
        proc = subprocess.run([sys.executable, "-m", "clbhealth", "import", case.command, str(BAD / case.file),
                               "-w", str(loaded)], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 1, proc.stderr
        assert "Traceback" not in proc.stderr + proc.stdout
        assert case.message in proc.stderr


# --- edge cases that must be accepted --------------------------------------------------------------


def pupils(root: Path) -> dict[str, tuple]:
    conn = sqlite3.connect(root / "clbhealth.sqlite")
    try:
        return {r[0]: r[1:] for r in conn.execute(
            "SELECT first_name, last_name, birth_date, sex, grade, active FROM pupils")}
    finally:
        conn.close()


def test_unknown_columns_are_accepted_with_a_warning_and_not_stored(loaded, runner):
    result = run(runner, "import", "roster", BAD / "ok_unknown_columns.csv", "-w", loaded)
    assert "columns not used (nothing from them is stored): 'medische info', 'opmerking'" in result.output
    assert not any("astma" in line for line in dump(loaded))


@pytest.mark.parametrize("file", ["ok_excel_unicode_text.txt", "ok_utf16_without_bom.csv", "ok_roster.ods",
                                  "ok_roster.xls"])
def test_utf16_text_ods_and_xls_rosters_are_read(file, loaded, runner):
    run(runner, "import", "roster", BAD / file, "-w", loaded)
    rows = pupils(loaded)
    assert rows["Zoë"] == ("Maes", "2017-06-07", "V", "L4", 1)
    assert rows["Jan"][-1] == 1 and rows["Lotte"][-1] == 0  # Lotte is not in these files: she left


def test_formulas_with_cached_values_give_their_values(loaded, runner):
    run(runner, "import", "roster", BAD / "ok_formula_cached_values.xlsx", "-w", loaded)
    assert pupils(loaded)["Jan"][:3] == ("PEETERS", "2020-03-05", "M")


# --- huge inputs, generated here -------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["csv", "xlsx", "xlsx-without-dimension"])
def test_a_million_rows_are_refused_fast(kind, loaded, runner, tmp_path):
    if kind == "csv":
        path = cat.make_huge_rows_csv(tmp_path / "million.csv", 1_000_000)
    elif kind == "xlsx":
        path = cat.make_huge_rows_xlsx(tmp_path / "million.xlsx", 1_000_000)
    else:  # no size declared: the sheet is loaded, then refused before any row is looked at
        path = cat.make_huge_rows_xlsx(tmp_path / "many.xlsx", 260_000, dimension=False)
    before = dump(loaded)
    start = time.monotonic()
    result = run(runner, "import", "roster", path, "-w", loaded, "--school", "100", code=None)
    elapsed = time.monotonic() - start
    output = assert_clean_refusal(result, path.name)
    assert "has more than 250,000 rows" in output and "Split it into files" in output
    assert elapsed < 20, elapsed
    assert dump(loaded) == before


@pytest.mark.parametrize("chars, message", [
    (20_000, "row 3: a cell holds 20,000 characters"),
    (300_000, "row 3: the CSV structure is broken"),
])
def test_huge_fields_are_refused(chars, message, loaded, runner, tmp_path):
    path = cat.make_huge_field_csv(tmp_path / "huge-field.csv", chars)
    before = dump(loaded)
    result = run(runner, "import", "roster", path, "-w", loaded, code=None)
    output = assert_clean_refusal(result, path.name)
    assert message in output
    assert len(output) < 2000  # the field itself is not echoed
    assert dump(loaded) == before


def test_thousands_of_unknown_columns_give_one_short_warning(loaded, runner, tmp_path):
    extra = ";".join(f"kolom{i}" for i in range(5000))
    path = tmp_path / "wide.csv"
    path.write_bytes(cat.csv_text(f"{cat.HEADER};{extra}", cat.good() + ";x" * 5000))
    result = run(runner, "import", "roster", path, "-w", loaded)
    assert "and 4,980 more" in result.output
    assert len(result.output) < 4000


def test_a_markup_like_value_is_shown_as_typed(loaded, runner, tmp_path):
    """Square brackets in a cell or file name once crashed the message printer (rich markup)."""
    path = tmp_path / "[bold]roster.csv"
    path.write_bytes(cat.csv_text(cat.HEADER, cat.good(insz="", sex="[/x]")))
    result = run(runner, "import", "roster", path, "-w", loaded, code=None)
    output = assert_clean_refusal(result, "[bold]roster.csv")
    assert "(value '[/x]'): is not a sex" in output


def test_an_unwritable_output_is_a_message_not_a_traceback(loaded, runner, tmp_path):
    result = run(runner, "due", "-w", loaded, "--format", "csv", "-o", "/proc/no-such-dir/due.csv", code=None)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output and "Cannot" in result.output


# --- bad command lines and broken workspaces -----------------------------------------------------

COMMAND_LINES = [
    (["due", "--school", "999"], "--school 999: no such school in this workspace", "Import the school list first"),
    (["due", "--moment", "L9"], "--moment 'L9' is not a contact moment or dose", "Use one of: K1"),
    (["due", "--format", "xlsx"], "The xlsx format needs --output FILE", ""),
    (["import", "roster", "{tmp}/no-such-file.csv", "--school", "100"], "no such file", "Check the path"),
    (["import", "roster", "{tmp}", "--school", "100"], "is a folder, not a file", ""),
    (["import", "roster", "{bad}/only_header.csv", "--school", "??"], "--school '??' is not a school id", ""),
]
# A bad option value is a usage error (exit 2, as typer gives), refused before the workspace is read.
OPTION_VALUES = [
    (["due", "--as-of", "31/02/2026"], "Invalid value for '--as-of': '31/02/2026' is not a real date",
     "write a date from 2000-01-01 to 2100-12-31 as yyyy-mm-dd"),
    (["protocols", "show", "--school-year", "2026-2028"], "the second year must follow the first", ""),
    (["purge", "--left-before", "morgen"], "Invalid value for '--left-before': 'morgen' is not a date", "write a date"),
    (["due", "--status", "klaar"], "Invalid value for '--status': 'klaar' is not one of due, needs_consent", ""),
    (["due", "--format", "pdf"], "Invalid value for '--format': 'pdf' is not one of table, csv, json, xlsx.", ""),
]


@pytest.mark.parametrize("args, message, hint", COMMAND_LINES, ids=[" ".join(a[:3]) for a, _, _ in COMMAND_LINES])
def test_bad_command_lines_are_refused_clearly(args, message, hint, loaded, runner, tmp_path):
    args = [a.format(tmp=tmp_path, bad=BAD) for a in args]
    before = dump(loaded)
    result = run(runner, *args, "-w", loaded, code=None)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), (result.output, result.exception)
    assert "Traceback" not in result.output
    assert message in result.output and hint in result.output
    assert dump(loaded) == before


@pytest.mark.parametrize("args, message, hint", OPTION_VALUES, ids=[" ".join(a[:3]) for a, _, _ in OPTION_VALUES])
def test_bad_option_values_are_usage_errors(args, message, hint, loaded, runner):
    before = dump(loaded)
    result = run(runner, *args, "-w", loaded, code=2)
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert message in result.output and hint in result.output
    assert dump(loaded) == before


def _broken_settings(root: Path) -> None:
    (root / "clbhealth.toml").write_text('[clb]\nname = "CLB"\nschool_year = "twintig"\n', encoding="utf-8")


def _not_a_database(root: Path) -> None:
    (root / "clbhealth.sqlite").write_bytes(b"not a database at all" * 200)


def _damaged_database(root: Path) -> None:
    """The pupils table's first page overwritten: the file opens, reading pupils fails."""
    path = root / "clbhealth.sqlite"
    conn = sqlite3.connect(path)
    page = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'pupils'").fetchone()[0]
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    data = bytearray(path.read_bytes())
    data[(page - 1) * size : (page - 1) * size + 100] = b"\xff" * 100
    path.write_bytes(bytes(data))


def _newer_schema(root: Path) -> None:
    conn = sqlite3.connect(root / "clbhealth.sqlite")
    conn.execute("PRAGMA user_version = 99")
    conn.close()


def _no_database(root: Path) -> None:
    (root / "clbhealth.sqlite").unlink()


BROKEN = [
    (_broken_settings, "setting [clb] school_year is wrong", ""),
    (_not_a_database, "is not a readable clbhealth database", "clbhealth doctor"),
    (_damaged_database, "the workspace database cannot be used (database disk image is malformed)", "clbhealth doctor"),
    (_newer_schema, "schema version 99, newer than this clbhealth knows", "Upgrade clbhealth"),
    (_no_database, "has clbhealth.toml but no database", "Restore the database from a backup"),
]


BROKEN_RUNS = [(command, *broken) for command in (["due"], ["import", "roster", str(BAD / "ok_unknown_columns.csv")],
                                                  ["protocols", "show"])
               for broken in BROKEN
               if not (command[0] == "protocols" and broken[0] is _damaged_database)]  # reads no pupils


@pytest.mark.parametrize("command, damage, message, hint", BROKEN_RUNS,
                         ids=[f"{c[0]}-{d.__name__.strip('_')}" for c, d, _, _ in BROKEN_RUNS])
def test_a_broken_workspace_gives_a_message_not_a_traceback(command, damage, message, hint, loaded, runner):
    damage(loaded)
    result = run(runner, *command, "-w", loaded, code=None)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), (result.output, result.exception)
    assert "Traceback" not in result.output and "Error:" in result.output
    assert message in result.output and hint in result.output
    doctor = run(runner, "doctor", "-w", loaded, code=1)
    assert "What to do:" in doctor.output


def test_a_quoted_cell_with_a_line_break_is_no_stray_quote(loaded, runner, tmp_path):
    path = tmp_path / "schools.csv"
    path.write_text('school_id;name;street;level\n500;School Vijf;"Kerkstraat 1\nbus 2; achteringang";basis\n',
                    encoding="utf-8")
    run(runner, "import", "schools", path, "-w", loaded)
