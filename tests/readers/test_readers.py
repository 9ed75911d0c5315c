"""Files as schools send them: delimiters, encodings, workbooks, title rows, header names."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from clbhealth.core.errors import ClbError
from clbhealth.imports.roster import ROSTER_FIELDS
from clbhealth.readers.tabular import read_table

ROWS = [["Peeters", "Jan", "05/03/2019"], ["Maes", "Zoë", "17/11/2018"]]


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def names(table):
    return [(table.value(c, "last_name"), table.value(c, "first_name")) for _, c in table.rows]


@pytest.mark.parametrize("delimiter", [";", ",", "\t", "|"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
def test_csv_delimiters_and_encodings(tmp_path, delimiter, encoding):
    text = delimiter.join(["Naam", "Voornaam", "Geboortedatum"]) + "\r\n"
    text += "\r\n".join(delimiter.join(r) for r in ROWS) + "\r\n"
    table = read_table(write(tmp_path / "r.csv", text, encoding), ROSTER_FIELDS, what="roster")
    assert names(table) == [("Peeters", "Jan"), ("Maes", "Zoë")]
    assert [r for r, _ in table.rows] == [2, 3]


def test_title_rows_and_blank_rows_keep_spreadsheet_row_numbers(tmp_path):
    text = "Leerlingenlijst 2026-2027;;\n;;\nnaam;voornaam;geboortedatum\nPeeters;Jan;05/03/2019\n;;\nMaes;Zoë;17/11/2018\n"
    table = read_table(write(tmp_path / "r.csv", text), ROSTER_FIELDS, what="roster")
    assert [r for r, _ in table.rows] == [4, 6]


def test_decimal_commas_do_not_fool_the_delimiter(tmp_path):
    from clbhealth.imports.schools import SCHOOL_FIELDS

    text = "schoolnummer;naam;lat;lon\n18;School;50,85;4,34\n26;Andere;50,88;4,35\n"
    table = read_table(write(tmp_path / "s.csv", text), SCHOOL_FIELDS, what="school list")
    assert table.value(table.rows[0][1], "lat") == "50,85"


def test_headers_match_case_accents_and_punctuation(tmp_path):
    text = "FAMILIE-NAAM;Voor naam;Géboortedatum;Rijksregister nummer\nPeeters;Jan;05/03/2019;85073003328\n"
    text = text.replace("FAMILIE-NAAM", "Achter_Naam")
    table = read_table(write(tmp_path / "r.csv", text), ROSTER_FIELDS, what="roster")
    assert set(table.columns) == {"last_name", "first_name", "birth_date", "insz"}


def test_unknown_columns_are_reported_not_stored(tmp_path):
    text = "naam;voornaam;geboortedatum;medische info\nPeeters;Jan;05/03/2019;astma\n"
    table = read_table(write(tmp_path / "r.csv", text), ROSTER_FIELDS, what="roster")
    assert "medische info" in table.notes[0].message
    assert "medische info" not in table.columns


def test_xlsx_with_title_rows_dates_and_numbers(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws["B2"] = "Leerlingen GO! basisschool"
    ws.append([])
    ws.append([None, "lastName", "firstName", "dateOfBirth", "nationalRegistrationNo"])
    ws.append([None, "Peeters", "Jan", dt.datetime(2019, 3, 5), 19030500131])
    wb.save(tmp_path / "r.xlsx")
    table = read_table(tmp_path / "r.xlsx", ROSTER_FIELDS, what="roster")
    row_number, cells = table.rows[0]
    assert row_number == 5
    assert table.value(cells, "birth_date") == dt.date(2019, 3, 5)
    assert table.value(cells, "insz") == 19030500131


def test_workbook_named_csv_is_read_as_workbook(tmp_path):
    wb = Workbook()
    wb.active.append(["naam", "voornaam"])
    wb.active.append(["Peeters", "Jan"])
    wb.save(tmp_path / "roster.csv")  # the name lies; the content decides
    assert names(read_table(tmp_path / "roster.csv", ROSTER_FIELDS, what="roster")) == [("Peeters", "Jan")]


def test_second_sheet_with_the_header_is_found(tmp_path):
    wb = Workbook()
    wb.active.title = "Info"
    wb.active["A1"] = "Export van 1/9/2026"
    ws = wb.create_sheet("Leerlingen")
    ws.append(["naam", "voornaam"])
    ws.append(["Peeters", "Jan"])
    wb.save(tmp_path / "r.xlsx")
    table = read_table(tmp_path / "r.xlsx", ROSTER_FIELDS, what="roster")
    assert table.sheet == "Leerlingen"


@pytest.mark.parametrize("content,message", [
    (b"", "empty"),
    (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
    (bytes(range(256)) * 20, "not a text"),
    (b"naam;voornaam\n", "no data rows"),
    (b"a;b;c\n1;2;3\n", "no header row"),
    (b"PK\x03\x04garbage-that-is-not-a-workbook" * 10, "ZIP"),
])
def test_unreadable_files_get_a_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(content)
    with pytest.raises(ClbError) as info:
        read_table(path, ROSTER_FIELDS, what="roster")
    assert message in str(info.value)
    assert "bad.xlsx" in str(info.value)


def test_mixed_encodings_are_refused(tmp_path):
    data = "naam;voornaam\nZoë;Jan\n".encode("utf-8") + "Hélène;Marie\n".encode("cp1252")
    path = tmp_path / "mixed.csv"
    path.write_bytes(data)
    with pytest.raises(ClbError, match="mixes UTF-8 and Windows-1252"):
        read_table(path, ROSTER_FIELDS, what="roster")


def test_missing_required_column_names_accepted_headers(tmp_path):
    with pytest.raises(ClbError) as info:
        read_table(write(tmp_path / "r.csv", "naam;geboortedatum\nPeeters;05/03/2019\n"), ROSTER_FIELDS, what="roster")
    assert "first_name" in str(info.value) and "voornaam" in str(info.value)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400))
def test_any_bytes_give_a_table_or_our_error(tmp_path, data):
    path = tmp_path / "fuzz.csv"
    path.write_bytes(data)
    try:
        read_table(path, ROSTER_FIELDS, what="roster")
    except ClbError:
        pass


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.text(max_size=12), min_size=1, max_size=5), min_size=1, max_size=6),
       st.sampled_from([";", ",", "\t"]))
def test_any_text_table_gives_a_table_or_our_error(tmp_path, rows, delimiter):
    path = tmp_path / "fuzz.csv"
    path.write_text("\n".join(delimiter.join(r) for r in rows), encoding="utf-8")
    try:
        read_table(path, ROSTER_FIELDS, what="roster")
    except ClbError:
        pass
