"""Read a spreadsheet-like file into rows and find its header, whatever the school's software made.

The format is chosen by content, not by the file name: a ZIP container is a workbook (XLSX/ODS),
an OLE2 container is a legacy or password-protected workbook, anything else must be text (CSV).
Text is decoded as UTF-8 (with or without BOM), UTF-16 (with BOM) or Windows-1252, and the
delimiter (`;`, `,`, tab, `|`) is the one under which a header row is best recognised.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from clbhealth.core.errors import ClbError, Problem
from clbhealth.readers.values import mask_insz_like

MAX_ROWS = 250_000
MAX_FIELD_CHARS = 10_000
HEADER_SEARCH_ROWS = 30
_DELIMITERS = (";", ",", "\t", "|")


@dataclass(frozen=True)
class FieldSpec:
    """A column an import understands: its canonical name and the header texts that mean it."""

    name: str
    aliases: tuple[str, ...]
    required: bool = False
    description: str = ""

    def accepted(self) -> str:
        return ", ".join(dict.fromkeys((self.name, *self.aliases)))


@dataclass
class Table:
    """The data rows of one file, with the column of each field the file has."""

    file: str
    columns: dict[str, int]
    headers: dict[str, str]
    rows: list[tuple[int, list[object]]]
    notes: list[Problem] = field(default_factory=list)
    sheet: str | None = None
    header_row: int | None = None  # the header's row number as the spreadsheet shows it

    def value(self, cells: list[object], name: str) -> object:
        """The cell of field `name` in a row, or None when the file has no such column or it is blank."""
        index = self.columns.get(name)
        if index is None or index >= len(cells):
            return None
        return cells[index]


def normalise_header(text: object) -> str:
    """Header text compared case-, accent-, space- and punctuation-insensitively."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[^0-9a-z]", "", plain.lower())


def read_table(path: Path, specs: Sequence[FieldSpec], *, what: str) -> Table:
    """Read `path` and return the rows below its header, mapped to `specs`.

    `what` names the kind of file in messages ("roster", "school list"). Raises ClbError for a
    file that cannot be read or has no recognisable header.
    """
    name = path.name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ClbError(f"{path}: no such file.", hint="Check the path and the file name.") from None
    except IsADirectoryError:
        raise ClbError(f"{path} is a folder, not a file.") from None
    except OSError as exc:
        raise ClbError(f"{path}: cannot be read ({exc.strerror}).") from None
    if not data.strip():
        raise ClbError(f"{name}: the file is empty.", hint=f"Export the {what} again from the school software.")

    if data[:4] == b"PK\x03\x04":
        sheets = _read_zip_workbook(path, data)
        table = _pick_sheet(name, sheets, specs, what)
        _check_formula_cells(path, table)
        return table
    elif data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        sheets = _read_ole_workbook(path)
    elif data[:5] == b"%PDF-":
        raise ClbError(
            f"{name}: this is a PDF document, not a spreadsheet.",
            hint=f"Ask for the {what} as an Excel file (.xlsx) or CSV.",
        )
    else:
        text = _decode_text(name, data)
        if re.match(r"\s*<(?:!doctype\s+html|html|table|\?xml)", text[:2000], re.IGNORECASE):
            raise ClbError(
                f"{name}: this is a web page or XML document (as some school software saves '.xls'), "
                "not a spreadsheet.",
                hint=f"Open it in Excel and save it as .xlsx, or export the {what} as CSV.",
            )
        return _table_from_text(name, text, specs, what)

    return _pick_sheet(name, sheets, specs, what)


# --- workbooks -----------------------------------------------------------------------------------


def _read_zip_workbook(path: Path, data: bytes) -> list[tuple[str, list[list[object]]]]:
    if b"[Content_Types].xml" not in data[:65536] and b"mimetype" not in data[:200]:
        # A ZIP that is not an Office/ODF document (e.g. a zipped folder).
        if b"xl/" not in data and b"content.xml" not in data:
            raise ClbError(
                f"{path.name}: this is a ZIP archive, not a spreadsheet.",
                hint="Unpack it and import the .xlsx or .csv file inside.",
            )
    _check_xlsx_dimensions(path)
    return _read_with_calamine(path)


def _too_many_rows(name: str) -> ClbError:
    return ClbError(
        f"{name}: the file has more than {MAX_ROWS:,} rows.",
        hint="Split it into files of at most that many rows (one school or a few schools each).",
    )


def _check_xlsx_dimensions(path: Path) -> None:
    """Refuse a huge XLSX from the size its sheets declare, before loading any of them."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if not (info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")):
                    continue
                with archive.open(info) as handle:
                    head = handle.read(4096)
                match = re.search(rb'<(?:\w+:)?dimension ref="[A-Z]+\d+(?::[A-Z]+(\d+))?"', head)
                if match and match.group(1) and int(match.group(1)) > MAX_ROWS + HEADER_SEARCH_ROWS:
                    raise _too_many_rows(path.name)
    except ClbError:
        raise
    except Exception:  # a damaged archive: calamine says so below
        return


def _read_ole_workbook(path: Path) -> list[tuple[str, list[list[object]]]]:
    return _read_with_calamine(path, ole=True)


def _read_with_calamine(path: Path, ole: bool = False) -> list[tuple[str, list[list[object]]]]:
    import python_calamine as calamine

    try:
        workbook = calamine.CalamineWorkbook.from_path(str(path))
        sheets = []
        for meta in workbook.sheets_metadata:
            if str(meta.typ) != str(calamine.SheetTypeEnum.WorkSheet):
                continue
            if str(meta.visible) != str(calamine.SheetVisibleEnum.Visible):
                continue
            sheet = workbook.get_sheet_by_name(meta.name)
            if max(sheet.height, sheet.total_height) > MAX_ROWS + HEADER_SEARCH_ROWS:
                raise _too_many_rows(path.name)
            sheets.append((meta.name, sheet.to_python(skip_empty_area=False)))
        return sheets
    except ClbError:
        raise
    except calamine.PasswordError:
        raise ClbError(
            f"{path.name}: the workbook is protected with a password.",
            hint="Open it in Excel, remove the password (File > Info > Protect workbook) and save it again.",
        ) from None
    except Exception as exc:  # calamine raises several types for damaged files
        if (ole and "encrypt" in str(exc).lower()) or "password" in str(exc).lower():
            raise ClbError(
                f"{path.name}: the workbook is protected with a password.",
                hint="Open it in Excel, remove the password and save it again as .xlsx.",
            ) from None
        raise ClbError(
            f"{path.name}: the workbook is damaged or not a spreadsheet ({type(exc).__name__}).",
            hint="Open it in Excel and save it again as .xlsx, or export it as CSV.",
        ) from None


def _pick_sheet(
    name: str, sheets: list[tuple[str, list[list[object]]]], specs: Sequence[FieldSpec], what: str
) -> Table:
    if not sheets:
        raise ClbError(f"{name}: the workbook has no visible worksheet.")
    first_error: ClbError | None = None
    for sheet_name, rows in sheets:
        rows = [[_clean_cell(c) for c in row] for row in rows]
        try:
            table = _table_from_rows(name, rows, specs, what)
        except ClbError as exc:
            first_error = first_error or exc
            continue
        table.sheet = sheet_name
        if len(sheets) > 1:
            table.notes.append(
                Problem(name, f"read worksheet '{sheet_name}' (the first with a {what} header).", severity="warning")
            )
        return table
    assert first_error is not None
    raise first_error


_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_CELL_REF = re.compile(r"([A-Z]{1,3})(\d+)")


def _check_formula_cells(path: Path, table: Table) -> None:
    """Refuse XLSX cells whose value the reader cannot see: formulas never computed, error values.

    Calamine gives a formula's computed (cached) value, which is right for files saved by Excel.
    A formula without a stored result (a file written by a script) or an error result (#N/A,
    #REF!) would otherwise read as a blank cell and the value would silently be lost. Only the
    columns the import uses are checked; each such cell is reported with its row and column.
    """
    import zipfile
    import xml.etree.ElementTree as ET

    used = {column: field for field, column in table.columns.items()}
    first_data_row = (table.header_row or 0) + 1
    problems: list[Problem] = []
    try:
        with zipfile.ZipFile(path) as archive:
            part = _sheet_part(archive, table.sheet)
            if part is None:
                return
            with archive.open(part) as handle:
                raw = handle.read()
            if b"<f" not in raw and b't="e"' not in raw:
                return
            for _, element in ET.iterparse(io.BytesIO(raw)):
                if element.tag != _MAIN_NS + "c":
                    continue
                ref = _CELL_REF.fullmatch(element.get("r", ""))
                kind = element.get("t")
                formula = element.find(_MAIN_NS + "f")
                value = element.find(_MAIN_NS + "v")
                element.clear()
                if ref is None:
                    continue
                row, column = int(ref.group(2)), _column_index(ref.group(1))
                if column not in used or row < first_data_row:
                    continue
                header = table.headers.get(used[column], used[column])
                if kind == "e":
                    shown = value.text if value is not None and value.text else "#ERROR"
                    problems.append(Problem(
                        table.file, f"holds the spreadsheet error {shown}: the formula behind it failed",
                        row=row, column=header, value=shown,
                        hint="Correct the formula in Excel, or type the value in the cell."))
                elif formula is not None and (value is None or (not value.text and kind not in ("str", "s"))):
                    problems.append(Problem(
                        table.file, "holds a formula without a computed value (the file was not saved by Excel)",
                        row=row, column=header,
                        hint="Open the file in Excel and save it again, or replace the formulas by their values."))
    except Exception:  # unreadable parts: calamine has read the values, nothing more to check
        return
    if problems:
        raise ClbError(
            f"{table.file}: {len(problems)} cell(s) hold no readable value; nothing was imported.",
            hint="Open the file in Excel, correct or recalculate those cells and save it again.",
            problems=problems,
        )


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + (ord(letter) - ord("A") + 1)
    return index - 1


def _sheet_part(archive, sheet_name: str | None) -> str | None:
    """The zip member holding the worksheet called `sheet_name` in an XLSX, or None."""
    import xml.etree.ElementTree as ET

    if sheet_name is None or "xl/workbook.xml" not in archive.namelist():
        return None
    workbook = ET.fromstring(archive.read("xl/workbook.xml"))
    rel_id = None
    for sheet in workbook.iter(_MAIN_NS + "sheet"):
        if sheet.get("name") == sheet_name:
            rel_id = sheet.get(_REL_NS + "id")
    if rel_id is None or "xl/_rels/workbook.xml.rels" not in archive.namelist():
        return None
    rels = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    for rel in rels:
        if rel.get("Id") == rel_id:
            target = rel.get("Target", "")
            member = target.lstrip("/") if target.startswith("/") else "xl/" + target
            return member if member in archive.namelist() else None
    return None


def _clean_cell(cell: object) -> object:
    """A workbook cell as text, number or date; integral floats become ints, blanks None."""
    if cell is None:
        return None
    if isinstance(cell, str):
        stripped = cell.strip()
        return stripped or None
    if isinstance(cell, bool):
        return cell
    if isinstance(cell, float):
        if cell != cell:  # NaN
            return None
        if cell.is_integer():
            return int(cell)
        return cell
    if isinstance(cell, (dt.date, dt.datetime, int)):
        return cell
    if isinstance(cell, dt.time):
        return cell.strftime("%H:%M")
    if isinstance(cell, dt.timedelta):
        return str(cell)
    return str(cell).strip() or None


# --- text files ----------------------------------------------------------------------------------

_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")


def _decode_text(name: str, data: bytes) -> str:
    """Decode CSV bytes: BOMs first, then UTF-8, then Windows-1252; refuse mixtures and binaries."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise ClbError(f"{name}: the file claims to be UTF-16 but cannot be read as such.",
                           hint="Open it in Excel and save it again as 'CSV UTF-8 (comma delimited)'.") from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise ClbError(
                f"{name}: the file starts as UTF-8 but line {line} holds text in another encoding.",
                hint="Open it in Excel and save it again as 'CSV UTF-8 (comma delimited)'.",
            ) from None
    sample = data[:200_000]
    utf16 = _utf16_without_bom(sample)
    if utf16 is not None:
        try:
            return data.decode(utf16)
        except UnicodeDecodeError:
            raise ClbError(f"{name}: the file looks like UTF-16 text but cannot be read as such.",
                           hint="Open it in Excel and save it again as 'CSV UTF-8 (comma delimited)'.") from None
    if b"\x00" in sample or _looks_binary(sample):
        raise ClbError(
            f"{name}: this is not a text (CSV) file nor an Excel workbook.",
            hint="Export the list from the school software as .xlsx or .csv.",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if _UTF8_MULTIBYTE.search(data):
            first_bad = data[: exc.start].count(b"\n") + 1
            raise ClbError(
                f"{name}: the file mixes UTF-8 and Windows-1252 text (first odd character on line {first_bad}).",
                hint="Open it in Excel and save it again as 'CSV UTF-8 (comma delimited)'.",
            ) from None
        return data.decode("cp1252", errors="replace")


def _utf16_without_bom(sample: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' for text saved as UTF-16 without a byte order mark, else None."""
    even, odd = sample[0:2000:2], sample[1:2000:2]
    if len(sample) < 4 or len(sample) % 2:
        return None
    if odd.count(0) >= 0.9 * len(odd) and even.count(0) == 0:
        return "utf-16-le"
    if even.count(0) >= 0.9 * len(even) and odd.count(0) == 0:
        return "utf-16-be"
    return None


def _looks_binary(sample: bytes) -> bool:
    control = sum(1 for b in sample if b < 32 and b not in (9, 10, 13))
    return control > max(8, len(sample) // 100)


def _table_from_text(name: str, text: str, specs: Sequence[FieldSpec], what: str) -> Table:
    head = text[: 1_000_000] if len(text) > 1_000_000 else text
    sample_lines = [line for line in head.splitlines()[: HEADER_SEARCH_ROWS * 2] if line.strip()]
    sample = "\n".join(sample_lines)
    best_score: tuple[int, int, int] | None = None
    best_delimiter = _DELIMITERS[0]
    for rank, delimiter in enumerate(_DELIMITERS):
        rows = _parse_csv(name, sample, delimiter, limit=None)
        found = _find_header(rows, specs)
        matched = found[1] if found else 0
        widths = [len(r) for r in rows if len(r) > 1]
        consistency = max((widths.count(w) for w in set(widths)), default=0)
        score = (matched, consistency, -rank)
        if best_score is None or score > best_score:
            best_score, best_delimiter = score, delimiter
    rows = _parse_csv(name, text, best_delimiter, limit=MAX_ROWS + HEADER_SEARCH_ROWS + 1)
    _check_unclosed_quotes(name, rows, best_delimiter)
    cleaned = [[(c.strip() or None) for c in row] for row in rows]
    return _table_from_rows(name, cleaned, specs, what)


def _check_unclosed_quotes(name: str, rows: list[list[str]], delimiter: str) -> None:
    """A cell running over lines that look like rows (2+ delimiters) is the rest of the file after a stray quote.

    A quoted cell may hold line breaks (an address); it does not hold whole rows.
    """
    for number, row in enumerate(rows, start=1):
        for cell in row:
            if "\n" in cell and any(line.count(delimiter) >= 2 for line in cell.splitlines()[1:]):
                raise ClbError(
                    f"{name}, row {number}: a quote (\") opens a cell that is never closed, so the rows "
                    "after it run together.",
                    hint="Remove the stray quote in that row, or double it (\"\") inside quoted text; "
                    "then save the file again.",
                )


def _parse_csv(name: str, text: str, delimiter: str, limit: int | None) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[str]] = []
    try:
        for row in reader:
            rows.append(row)
            if limit is not None and len(rows) > limit:
                raise ClbError(
                    f"{name}: the file has more than {MAX_ROWS:,} rows.",
                    hint="Split it into files of at most that many rows (one school or a few schools each).",
                )
    except csv.Error as exc:
        raise ClbError(
            f"{name}, row {len(rows) + 1}: the CSV structure is broken ({exc}).",
            hint="Check for an unclosed quote or a field that is far too long; save the file again from Excel.",
        ) from None
    return rows


# --- header --------------------------------------------------------------------------------------


def _alias_index(specs: Sequence[FieldSpec]) -> dict[str, tuple[str, int]]:
    """Normalised header text -> (field name, priority); a lower priority number wins."""
    index: dict[str, tuple[str, int]] = {}
    for spec in specs:
        names = spec.aliases if spec.name in spec.aliases else (spec.name, *spec.aliases)
        for priority, alias in enumerate(names):
            key = normalise_header(alias)
            if key and key not in index:
                index[key] = (spec.name, priority)
    return index


def _find_header(rows: Sequence[Sequence[object]], specs: Sequence[FieldSpec]) -> tuple[int, int] | None:
    """(row index, matched fields) of the likeliest header row within the first rows."""
    aliases = _alias_index(specs)
    best: tuple[int, int] | None = None
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        fields = {aliases[k][0] for k in (normalise_header(c) for c in row if c is not None) if k in aliases}
        if fields and (best is None or len(fields) > best[1]):
            best = (i, len(fields))
    return best


def _table_from_rows(name: str, rows: list[list[object]], specs: Sequence[FieldSpec], what: str) -> Table:
    if len(rows) > MAX_ROWS + HEADER_SEARCH_ROWS:
        raise ClbError(
            f"{name}: the file has more than {MAX_ROWS:,} rows.",
            hint="Split it into files of at most that many rows.",
        )
    found = _find_header(rows, specs)
    examples = ", ".join(s.name for s in specs if s.required) or ", ".join(s.name for s in specs[:4])
    if found is None:
        raise ClbError(
            f"{name}: no header row found in this {what}.",
            hint=f"The table needs a row of column names, such as: {examples}.",
        )
    header_index, _ = found
    header = rows[header_index]
    aliases = _alias_index(specs)
    chosen: dict[str, tuple[int, int, str]] = {}  # field -> (priority, column, header text)
    notes: list[Problem] = []
    ignored: list[str] = []
    for column, cell in enumerate(header):
        if cell is None or str(cell).strip() == "":
            continue
        key = normalise_header(cell)
        if key not in aliases:
            ignored.append(str(cell))
            continue
        field_name, priority = aliases[key]
        previous = chosen.get(field_name)
        if previous is not None and previous[0] == priority:
            raise ClbError(
                f"{name}, row {header_index + 1}: columns '{previous[2]}' and '{cell}' both mean {field_name}.",
                hint="Remove or rename one of them.",
            )
        if previous is None or priority < previous[0]:
            if previous is not None:
                ignored.append(previous[2])
            chosen[field_name] = (priority, column, str(cell))
        else:
            ignored.append(str(cell))
    missing = [s for s in specs if s.required and s.name not in chosen]
    if missing:
        lines = [f"  {s.name}: accepted headers {s.accepted()}" for s in missing]
        raise ClbError(
            f"{name}, row {header_index + 1}: the {what} lacks required column(s) "
            + ", ".join(s.name for s in missing)
            + ".",
            hint="Add the column(s) with one of these headers:\n" + "\n".join(lines),
        )
    if ignored:
        notes.append(
            Problem(
                name,
                "columns not used (nothing from them is stored): "
                + ", ".join(f"'{mask_insz_like(c[:40])}'" for c in ignored[:20])
                + (f" and {len(ignored) - 20:,} more" if len(ignored) > 20 else ""),
                row=header_index + 1,
                severity="warning",
            )
        )
    data_rows: list[tuple[int, list[object]]] = []
    for offset, row in enumerate(rows[header_index + 1 :], start=header_index + 2):
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in row):
            continue
        for cell in row:
            if isinstance(cell, str) and len(cell) > MAX_FIELD_CHARS:
                raise ClbError(
                    f"{name}, row {offset}: a cell holds {len(cell):,} characters.",
                    hint="No field of a roster is that long; check the file for pasted text or a broken export.",
                )
        data_rows.append((offset, list(row)))
    if not data_rows:
        raise ClbError(
            f"{name}: the {what} has a header but no data rows; nothing was imported.",
            hint="Check that you exported the right list.",
        )
    return Table(
        file=name,
        columns={f: c for f, (_, c, _) in chosen.items()},
        headers={f: h for f, (_, _, h) in chosen.items()},
        rows=data_rows,
        notes=notes,
        header_row=header_index + 1,
    )


def iter_values(table: Table, name: str) -> Iterable[tuple[int, object]]:
    """(row number, cell) for field `name` over all data rows."""
    for row_number, cells in table.rows:
        yield row_number, table.value(cells, name)
