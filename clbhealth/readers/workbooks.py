"""Workbooks (XLSX, ODS, legacy XLS) as rows of clean cells, read with calamine; huge sheets, passwords,
damaged files and formulas without a computed value are refused with a message that says what to do."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

from clbhealth.core.errors import ClbError, Problem
from clbhealth.core.privacy import shown_path

if TYPE_CHECKING:
    from clbhealth.readers.tabular import Table

MAX_ROWS = 250_000
HEADER_SEARCH_ROWS = 30


def read_zip_workbook(path: Path, data: bytes) -> list[tuple[str, list[list[object]]]]:
    if b"[Content_Types].xml" not in data[:65536] and b"mimetype" not in data[:200]:
        # A ZIP that is not an Office/ODF document (e.g. a zipped folder).
        if b"xl/" not in data and b"content.xml" not in data:
            raise ClbError(
                f"{shown_path(path, name_only=True)}: this is a ZIP archive, not a spreadsheet.",
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
                    raise _too_many_rows(shown_path(path, name_only=True))
    except ClbError:
        raise
    except Exception:  # a damaged archive: calamine says so below
        return


def read_ole_workbook(path: Path) -> list[tuple[str, list[list[object]]]]:
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
                raise _too_many_rows(shown_path(path, name_only=True))
            sheets.append((meta.name, sheet.to_python(skip_empty_area=False)))
        return sheets
    except ClbError:
        raise
    except calamine.PasswordError:
        raise ClbError(
            f"{shown_path(path, name_only=True)}: the workbook is protected with a password.",
            hint="Open it in Excel, remove the password (File > Info > Protect workbook) and save it again.",
        ) from None
    except Exception as exc:  # calamine raises several types for damaged files
        if (ole and "encrypt" in str(exc).lower()) or "password" in str(exc).lower():
            raise ClbError(
                f"{shown_path(path, name_only=True)}: the workbook is protected with a password.",
                hint="Open it in Excel, remove the password and save it again as .xlsx.",
            ) from None
        raise ClbError(
            f"{shown_path(path, name_only=True)}: the workbook is damaged or not a spreadsheet ({type(exc).__name__}).",
            hint="Open it in Excel and save it again as .xlsx, or export it as CSV.",
        ) from None


_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_CELL_REF = re.compile(r"([A-Z]{1,3})(\d+)")


def check_formula_cells(path: Path, table: "Table") -> None:
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


def clean_cell(cell: object) -> object:
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
