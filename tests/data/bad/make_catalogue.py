"""Make the catalogue of bad input files in this folder (deterministic: the same bytes every time).

    python tests/data/bad/make_catalogue.py

The files are committed; run this after changing one here, then update README.md and
tests/test_bad_inputs.py. The huge cases (a million rows, huge fields) are made at test time in a
temporary folder instead (see make_huge_* below), so the repository stays small.
The password-protected workbook needs msoffcrypto-tool (in the `test` extra).
"""

from __future__ import annotations

import datetime as dt
import io
import random
import struct
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from clbhealth.samples.generator import insz_for  # noqa: E402

HEADER = "instellingsnummer;stamboeknummer;rijksregisternummer;naam;voornaam;geboortedatum;geslacht;klas;leerjaar"
FIXED_TIME = (2026, 9, 1, 0, 0, 0)  # zip entries get this time, so the bytes never change

# Fictional pupils (born 2020 = L1, 2017 = L4 in 2026-2027) of school 100 (basis).
B1, B2, B3 = dt.date(2020, 3, 5), dt.date(2017, 6, 7), dt.date(2020, 11, 30)
INSZ1, INSZ2, INSZ3 = insz_for(B1, 11), insz_for(B2, 12), insz_for(B3, 14)
# A valid INSZ of nobody in the test workspace (for history rows about an unknown pupil).
STRANGER = insz_for(dt.date(2019, 1, 9), 41)


def line(*cells: object) -> str:
    return ";".join("" if c is None else str(c) for c in cells)


def good(number: int = 1, insz: str = INSZ1, last: str = "Peeters", first: str = "Jan", born: str = "05/03/2020",
         sex: str = "M", cls: str = "1A", grade: str = "L1", school: str = "100") -> str:
    return line(school, number, insz, last, first, born, sex, cls, grade)


def csv_text(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def fixed_zip(members: list[tuple[str, bytes]], *, stored_first: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i, (name, data) in enumerate(members):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_STORED if (stored_first and i == 0) else zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


# --- minimal XLSX written by hand (so formulas, cached values and errors are exactly as wanted) ----

_CT = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
       '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
       '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
       '<Default Extension="xml" ContentType="application/xml"/>'
       '<Override PartName="/xl/workbook.xml" '
       'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
       '<Override PartName="/xl/worksheets/sheet1.xml" '
       'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
         '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
         'officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
             'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
             '<sheets><sheet name="Leerlingen" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WORKBOOK_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                  '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                  '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                  'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _cell(ref: str, value: object) -> str:
    """A cell: text, a number, or ('f', formula, cached value or None, type) for a formula/error."""
    if isinstance(value, tuple):
        _, formula, cached, kind = value
        attr = f' t="{kind}"' if kind else ""
        f = f"<f>{_xml(formula)}</f>" if formula else ""
        v = "" if cached is None else f"<v>{_xml(str(cached))}</v>"
        return f'<c r="{ref}"{attr}>{f}{v}</c>'
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{_xml(str(value))}</t></is></c>'


def xlsx_bytes(rows: list[list[object]], *, dimension: bool = True) -> bytes:
    width = max(len(r) for r in rows)
    parts = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">']
    if dimension:
        parts.append(f'<dimension ref="A1:{chr(64 + width)}{len(rows)}"/>')
    parts.append("<sheetData>")
    for r, row in enumerate(rows, start=1):
        cells = "".join(_cell(f"{chr(65 + c)}{r}", v) for c, v in enumerate(row) if v is not None)
        parts.append(f'<row r="{r}">{cells}</row>')
    parts.append("</sheetData></worksheet>")
    return fixed_zip([("[Content_Types].xml", _CT.encode()), ("_rels/.rels", _RELS.encode()),
                      ("xl/workbook.xml", _WORKBOOK.encode()), ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS.encode()),
                      ("xl/worksheets/sheet1.xml", "".join(parts).encode())])


def ods_bytes(rows: list[list[str]]) -> bytes:
    """A minimal OpenDocument spreadsheet (as LibreOffice saves it, without styles)."""
    body = []
    for row in rows:
        cells = "".join(f'<table:table-cell office:value-type="string"><text:p>{_xml(v)}</text:p></table:table-cell>'
                        for v in row)
        body.append(f"<table:table-row>{cells}</table:table-row>")
    content = ('<?xml version="1.0" encoding="UTF-8"?>'
               '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
               '<office:body><office:spreadsheet><table:table table:name="Leerlingen">'
               + "".join(body) + "</table:table></office:spreadsheet></office:body></office:document-content>")
    manifest = ('<?xml version="1.0" encoding="UTF-8"?>'
                '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
                'manifest:version="1.2"><manifest:file-entry manifest:full-path="/" '
                'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                '</manifest:manifest>')
    return fixed_zip([("mimetype", b"application/vnd.oasis.opendocument.spreadsheet"),
                      ("content.xml", content.encode()), ("META-INF/manifest.xml", manifest.encode())],
                     stored_first=True)


# --- a minimal legacy workbook (BIFF8 .xls in an OLE2 container), written by hand ------------------


def _record(kind: int, data: bytes = b"") -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


def _biff_workbook(rows: list[list[object]], *, password: bool = False) -> bytes:
    """The Workbook stream: globals (BOF, FilePass when `password`, code page, XFs, sheet) + one sheet."""
    bof = _record(0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0x0DBB, 0x07CC, 0, 0x06))
    filepass = _record(0x002F, struct.pack("<HHH", 1, 1, 1) + bytes(range(48))) if password else b""
    codepage = _record(0x0042, struct.pack("<H", 1200))
    xf = _record(0x00E0, struct.pack("<HHHBBBBIIH", 0, 0, 0xFFF5, 0x20, 0, 0, 0, 0, 0, 0x20C0))
    xfs = xf * 16 + _record(0x00E0, struct.pack("<HHHBBBBIIH", 0, 0, 0x0001, 0x20, 0, 0, 0, 0, 0, 0x20C0))
    eof = _record(0x000A)
    name = "Leerlingen"

    def boundsheet(offset: int) -> bytes:
        return _record(0x0085, struct.pack("<IBBBB", offset, 0, 0, len(name), 1) + name.encode("utf-16-le"))

    head = bof + filepass + codepage + xfs
    globals_ = head + boundsheet(len(head) + len(boundsheet(0)) + len(eof)) + eof
    cells = b""
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, (int, float)):
                cells += _record(0x0203, struct.pack("<HHHd", r, c, 16, float(value)))
            else:
                text = str(value)
                cells += _record(0x0204, struct.pack("<HHHHB", r, c, 16, len(text), 1) + text.encode("utf-16-le"))
    dims = _record(0x0200, struct.pack("<IIHHH", 0, len(rows), 0, max(len(r) for r in rows), 0))
    sheet_bof = _record(0x0809, struct.pack("<HHHHII", 0x0600, 0x0010, 0x0DBB, 0x07CC, 0, 0x06))
    return globals_ + sheet_bof + dims + cells + eof


def xls_bytes(rows: list[list[object]], *, password: bool = False) -> bytes:
    """An .xls: the Workbook stream in a compound file (v3, 512-byte sectors, no mini stream)."""
    sector = 512
    stream = _biff_workbook(rows, password=password)
    stream += b"\0" * (max(4096, -(-len(stream) // sector) * sector) - len(stream))  # >= 4096: no mini stream
    count = len(stream) // sector
    directory_sector = 1 + count
    fat = [0xFFFFFFFD] + [2 + i for i in range(count - 1)] + [0xFFFFFFFE, 0xFFFFFFFE]
    fat += [0xFFFFFFFF] * (128 - len(fat))
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
              + b"\0" * 6 + struct.pack("<IIIIIIIII", 0, 1, directory_sector, 0, 4096, 0xFFFFFFFE, 0, 0xFFFFFFFE, 0)
              + struct.pack("<I", 0) + struct.pack("<I", 0xFFFFFFFF) * 108)

    def entry(name: str, kind: int, child: int, start: int, size: int) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0"
        return (raw.ljust(64, b"\0") + struct.pack("<HBB", len(raw), kind, 1)
                + struct.pack("<III", 0xFFFFFFFF, 0xFFFFFFFF, child) + b"\0" * 36 + struct.pack("<IQ", start, size))

    empty = b"\0" * 64 + struct.pack("<HBB", 0, 0, 0) + struct.pack("<III", *[0xFFFFFFFF] * 3) + b"\0" * 48
    directory = entry("Root Entry", 5, 1, 0xFFFFFFFE, 0) + entry("Workbook", 2, 0xFFFFFFFF, 1, len(stream)) + empty * 2
    return header + struct.pack("<128I", *fat) + stream + directory


ROSTER_ROWS = [HEADER.split(";"), good().split(";"), good(2, INSZ2, "Maes", "Zoë", "07/06/2017", "V", "4A", "L4").split(";")]


def encrypted_xlsx() -> bytes:
    """The roster above as an XLSX protected with the password 'geheim' (Excel's agile encryption)."""
    import msoffcrypto.format.ooxml as ooxml

    from openpyxl import Workbook

    workbook = Workbook()
    for row in ROSTER_ROWS:
        workbook.active.append(row)
    plain = io.BytesIO()
    workbook.save(plain)
    plain.seek(0)
    out = io.BytesIO()
    ooxml.OOXMLFile(plain).encrypt("geheim", out)
    return out.getvalue()


def minimal_pdf() -> bytes:
    return (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
            b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
            b"trailer << /Root 1 0 R >>\n%%EOF\n")


def catalogue() -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    rnd = random.Random(20261201)

    # --- not a table at all ------------------------------------------------------------------
    files["empty.csv"] = b""
    files["blank_lines.csv"] = b"\r\n   \r\n\t\r\n"
    files["only_header.csv"] = csv_text(HEADER)
    files["binary_garbage.csv"] = bytes(rnd.randrange(256) for _ in range(4096))
    files["pdf_renamed.xlsx"] = minimal_pdf()
    good_xlsx = xlsx_bytes(ROSTER_ROWS)
    files["corrupt.xlsx"] = good_xlsx[: len(good_xlsx) // 2]
    files["zip_archive.xlsx"] = fixed_zip([("leerlingen.csv", csv_text(HEADER, good()))])
    files["corrupt.ods"] = fixed_zip([("mimetype", b"application/vnd.oasis.opendocument.spreadsheet"),
                                      ("content.xml", b"<office:document-content><broken")], stored_first=True)
    files["password_protected.xls"] = xls_bytes([["naam", "voornaam"], ["Peeters", "Jan"]], password=True)
    files["html_saved_as.xls"] = ("<html><body><table><tr><td>naam</td><td>voornaam</td></tr>"
                                  "<tr><td>Peeters</td><td>Jan</td></tr></table></body></html>\n").encode()

    # --- encodings ---------------------------------------------------------------------------
    files["mixed_encodings.csv"] = (HEADER + "\r\n").encode() + good(last="Maës").encode("utf-8") + b"\r\n" + \
        good(2, INSZ2, "Maes", "Zoë", "07/06/2017", "V", "4A", "L4").encode("cp1252") + b"\r\n"
    files["broken_utf16.csv"] = b"\xff\xfe" + (HEADER + "\r\n").encode("utf-16-le") + b"\x00\xd8\x41"

    # --- headers -----------------------------------------------------------------------------
    files["no_header.csv"] = csv_text(good(), good(2, INSZ2, "Maes", "Zoë", "07/06/2017", "V", "4A", "L4"))
    files["wrong_headers.csv"] = csv_text("Kolom1;Kolom2;Kolom3;Kolom4", "Peeters;Jan;05/03/2020;M")
    files["missing_first_name_column.csv"] = csv_text(
        "instellingsnummer;naam;geboortedatum;geslacht;leerjaar", "100;Peeters;05/03/2020;M;L1")
    files["two_columns_same_meaning.csv"] = csv_text(
        "instellingsnummer;naam;voornaam;Naam;geboortedatum;geslacht;leerjaar",
        "100;Peeters;Jan;Peeters;05/03/2020;M;L1")
    files["no_school_column.csv"] = csv_text("naam;voornaam;geboortedatum;geslacht;leerjaar", "Peeters;Jan;05/03/2020;M;L1")
    files["no_birth_date_nor_insz.csv"] = csv_text("instellingsnummer;naam;voornaam;geslacht;leerjaar", "100;Peeters;Jan;M;L1")
    files["no_grade_nor_class.csv"] = csv_text("instellingsnummer;naam;voornaam;geboortedatum;geslacht",
                                               "100;Peeters;Jan;05/03/2020;M")

    # --- cells -------------------------------------------------------------------------------
    files["invalid_date_31_02.csv"] = csv_text(HEADER, good(), good(2, "", "Maes", "Zoë", "31/02/2017", "V", "4A", "L4"))
    files["two_digit_year.csv"] = csv_text(HEADER, good(born="05/03/20", insz=""))
    files["future_birth_date.csv"] = csv_text(HEADER, good(), good(2, "", "Maes", "Zoë", "01/01/2099", "V", "4A", "L4"))
    files["implausible_age.csv"] = csv_text(HEADER, good(insz="", born="05/03/1950"))
    wrong = INSZ1[:-2] + f"{(int(INSZ1[-2:]) + 1) % 100:02d}"
    files["insz_wrong_checksum.csv"] = csv_text(HEADER, good(insz=wrong))
    files["insz_birth_date_mismatch.csv"] = csv_text(HEADER, good(insz=INSZ1, born="06/03/2020"))
    files["insz_sex_mismatch.csv"] = csv_text(HEADER, good(insz=INSZ1, sex="V"))
    files["insz_wrong_length.csv"] = csv_text(HEADER, good(insz="200305011"))
    files["duplicate_pupils.csv"] = csv_text(HEADER, good(), good(2, INSZ2, "Maes", "Zoë", "07/06/2017", "V", "4A", "L4"),
                                             good(3))
    files["duplicate_pupil_number.csv"] = csv_text(HEADER, good(insz=""), good(1, "", "Maes", "Zoë", "07/06/2017", "V", "4A", "L4"))
    files["unknown_school.csv"] = csv_text(HEADER, good(school="999"))
    files["unknown_grades.csv"] = csv_text(HEADER, good(grade="L9"), good(2, INSZ2, "Maes", "Zoë", "07/06/2017", "V", "4A", "S8"),
                                           good(3, INSZ3, "Claes", "Lotte", "30/11/2020", "V", "1B", "7de leerjaar"))
    files["formula_cells.csv"] = csv_text(
        HEADER, good(last="=cmd|' /C calc'!A0"), good(2, INSZ2, "Maes", '+HYPERLINK("http://x")', "07/06/2017", "V", "4A", "L4"),
        good(3, INSZ3, "Claes", "Lotte", "30/11/2020", "V", "@SUM(1+1)", "L1"))
    files["spreadsheet_error_text.csv"] = csv_text(HEADER, good(last="#N/A"), good(2, INSZ2, "Maes", "#REF!", "07/06/2017", "V", "4A", "L4"))
    files["bad_sex.csv"] = csv_text(HEADER, good(insz="", sex="Q"))
    files["empty_names.csv"] = csv_text(HEADER, good(last=""), good(2, INSZ2, "Maes", "1234", "07/06/2017", "V", "4A", "L4"))
    files["wrong_school_year.csv"] = csv_text(HEADER + ";schooljaar", good() + ";2025-2026")
    files["home_education_too_young.csv"] = csv_text(
        "instellingsnummer;naam;voornaam;geboortedatum;geslacht", "HUISONDERWIJS;Peeters;Jan;05/03/2022;M")
    files["home_educated_in_school_roster.csv"] = csv_text(HEADER + ";onderwijsvorm", good() + ";huisonderwijs")
    files["school_differs_from_option.csv"] = csv_text(HEADER, good(school="200", grade="S1"))
    files["unclosed_quote.csv"] = csv_text(HEADER, good(), '100;2;;"Maes;Zoë;07/06/2017;V;4A;L4', good(3, INSZ3, "Claes", "Lotte", "30/11/2020", "V", "1B", "L1"))
    files["many_bad_rows.csv"] = csv_text(HEADER, *(good(i, "", f"Naam{i}", "Kind", "31/02/2020") for i in range(1, 61)))

    # --- workbooks with formulas -------------------------------------------------------------
    header = HEADER.split(";")
    files["formula_text.xlsx"] = xlsx_bytes([header, [100, 1, INSZ1, "=cmd|' /C calc'!A0", "Jan", "05/03/2020", "M", "1A", "L1"]])
    files["formula_no_value.xlsx"] = xlsx_bytes([
        header,
        [100, 1, ("f", "A1&B1", None, "str"), ("f", "cmd|' /C calc'!A0", None, None), "Jan", ("f", "DATE(2020,3,5)", None, None),
         "M", "1A", "L1"]])
    files["formula_error_values.xlsx"] = xlsx_bytes([
        header,
        [100, 1, ("f", "VLOOKUP(A2,Z:Z,2,0)", "#N/A", "e"), "Peeters", "Jan", "05/03/2020", ("f", "", "#REF!", "e"), "1A", "L1"]])

    # --- school lists ------------------------------------------------------------------------
    schools = "school_id;name;street;postcode;municipality;lat;lon;level"
    files["schools_swapped_coordinates.csv"] = csv_text(schools, "500;School Vijf;Straat 5;2000;Antwerpen;4.40;51.22;basis")
    files["schools_duplicate_id.csv"] = csv_text(schools, "500;School Vijf;;;;;;basis", "500;School Vijf bis;;;;;;basis")
    files["schools_reserved_id.csv"] = csv_text(schools, "HUISONDERWIJS;Thuis;;;;;;basis")
    files["schools_bad_level.csv"] = csv_text(schools, "500;School Vijf;;;;;;universiteit")
    files["schools_missing_name_column.csv"] = csv_text("school_id;street;level", "500;Straat 5;basis")

    # --- history -----------------------------------------------------------------------------
    history = "rijksregisternummer;code;datum;status"
    files["history_unknown_pupil.csv"] = csv_text(history, f"{INSZ1};L1;15/10/2026;gedaan", f"{STRANGER};L1;15/10/2026;gedaan")
    files["history_unknown_code.csv"] = csv_text(history, f"{INSZ1};L7;15/10/2026;gedaan")
    files["history_bad_status.csv"] = csv_text(history, f"{INSZ1};L1;15/10/2026;misschien")
    files["history_before_birth.csv"] = csv_text(history, f"{INSZ1};L1;15/10/2010;gedaan")
    files["history_far_future.csv"] = csv_text(history, f"{INSZ1};L1;15/10/2099;gedaan")
    files["history_who_missing.csv"] = csv_text("naam;code;datum;status", "Peeters;L1;15/10/2026;gedaan")
    files["history_consent_for_contact.csv"] = csv_text(history, f"{INSZ1};L1;15/10/2026;toestemming")
    files["history_duplicate_rows.csv"] = csv_text(history, f"{INSZ1};L1;15/10/2026;gedaan", f"{INSZ1};L1;15/10/2026;gedaan")

    # --- staff, absences, closures -----------------------------------------------------------
    staff = "staff_id;name;role;availability;schools"
    files["staff_impossible_availability.csv"] = csv_text(
        staff, "N2;Nina Nurse;verpleegkundige;za-vm zo-nm;100", "N3;Omer Nurse;nurse;ma-avond;", "N4;Pia Nurse;nurse;;",
        "N5;Rik Nurse;nurse;maandag-vm dinsdag-xx;")
    files["staff_unknown_role.csv"] = csv_text(staff, "N2;Nina;kok;ma-vm;")
    files["staff_unknown_school.csv"] = csv_text(staff, "N2;Nina;nurse;ma-vm;100 999")
    files["staff_duplicate_id.csv"] = csv_text(staff, "N2;Nina;nurse;ma-vm;", "N2;Nina bis;nurse;di-vm;")
    absences = "staff_id;from;to;part"
    files["absences_overlapping.csv"] = csv_text(absences, "N1;05/10/2026;09/10/2026;", "N1;08/10/2026;12/10/2026;vm")
    files["absences_unknown_staff.csv"] = csv_text(absences, "X9;05/10/2026;09/10/2026;")
    files["absences_end_before_start.csv"] = csv_text(absences, "N1;09/10/2026;05/10/2026;")
    files["absences_longer_than_a_year.csv"] = csv_text(absences, "N1;01/09/2026;30/06/2028;")
    closures = "school_id;from;to;part;reason"
    files["closures_unknown_school.csv"] = csv_text(closures, "999;12/10/2026;;;pedagogische studiedag")
    files["closures_bad_part.csv"] = csv_text(closures, "100;12/10/2026;;avond;oudercontact")

    # --- edge cases that must be accepted ----------------------------------------------------
    files["ok_unknown_columns.csv"] = csv_text(HEADER + ";medische info;opmerking", good() + ";astma;allergie noten")
    files["ok_excel_unicode_text.txt"] = b"\xff\xfe" + ("\r\n".join(
        "\t".join(r) for r in ROSTER_ROWS) + "\r\n").encode("utf-16-le")
    files["ok_utf16_without_bom.csv"] = ("\r\n".join(";".join(r) for r in ROSTER_ROWS) + "\r\n").encode("utf-16-le")
    files["ok_formula_cached_values.xlsx"] = xlsx_bytes([
        header,
        [("f", "100", 100, None), 1, ("f", "TEXT(Z1)", INSZ1, "str"), ("f", "UPPER(Z2)", "PEETERS", "str"), "Jan",
         ("f", "DATE(2020,3,5)", 43895, None), "M", "1A", "L1"]])
    files["ok_roster.ods"] = ods_bytes(ROSTER_ROWS)
    files["ok_roster.xls"] = xls_bytes([[100 if c == "100" else c for c in row] for row in ROSTER_ROWS])
    return files


def make_huge_rows_csv(path: Path, rows: int = 1_000_000) -> Path:
    """A roster with `rows` data rows (about 45 MB for a million), written in well under a second."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(HEADER.replace(";rijksregisternummer", "") + "\n")
        handle.write("100;1;Peeters;Jan;05/03/2020;M;1A;L1\n" * rows)
    return path


def make_huge_rows_xlsx(path: Path, rows: int = 1_000_000, *, dimension: bool = True) -> Path:
    """An XLSX roster with `rows` data rows, streamed into the zip (about a second)."""
    head = "".join(f'<c t="inlineStr"><is><t>{h}</t></is></c>' for h in ("naam", "voornaam"))
    cells = b'<row><c t="inlineStr"><is><t>P</t></is></c><c t="inlineStr"><is><t>J</t></is></c></row>'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, text in (("[Content_Types].xml", _CT), ("_rels/.rels", _RELS), ("xl/workbook.xml", _WORKBOOK),
                           ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)):
            archive.writestr(name, text)
        with archive.open("xl/worksheets/sheet1.xml", "w") as handle:
            handle.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                         b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
            if dimension:
                handle.write(f'<dimension ref="A1:B{rows + 1}"/>'.encode())
            handle.write(f"<sheetData><row>{head}</row>".encode())
            block = cells * 1000
            for _ in range(rows // 1000):
                handle.write(block)
            handle.write(cells * (rows % 1000))
            handle.write(b"</sheetData></worksheet>")
    return path


def make_huge_field_csv(path: Path, chars: int) -> Path:
    """A roster whose row 3 holds a last name of `chars` characters."""
    path.write_bytes(csv_text(HEADER, good(), good(2, INSZ2, "M" * chars, "Zoë", "07/06/2017", "V", "4A", "L4")))
    return path


def main() -> None:
    files = catalogue()
    for name, data in files.items():
        (HERE / name).write_bytes(data)
    encrypted = HERE / "password_protected.xlsx"
    if not encrypted.exists():  # encryption salts are random: keep the committed file
        encrypted.write_bytes(encrypted_xlsx())
    print(f"{len(files) + 1} files in {HERE}")


if __name__ == "__main__":
    main()
