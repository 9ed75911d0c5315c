"""Workbooks and CSV files made for people: a title, a bold frozen header with a filter, sensible
widths, A4 print set-up with the header repeated on every page, the CLB's name and the export date
in the page header. Every text cell goes through `safe_cell`; every file is written atomically.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from clbhealth.core.dates import dutch_short_date
from clbhealth.core.files import atomic_path, atomic_text
from clbhealth.exports.frames import safe_cell

HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
THIN = Side(style="thin", color="A6A6A6")
HEADER_BORDER = Border(bottom=THIN)


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    width: float  # minimum width in characters; grows with the content up to `max_width`
    max_width: float = 45


def new_workbook() -> Workbook:
    workbook = Workbook()
    workbook.remove(workbook.active)
    return workbook


def table_sheet(
    workbook: Workbook,
    name: str,
    columns: Sequence[Column],
    rows: Iterable[dict],
    *,
    heading: Sequence[str] = (),
    clb_name: str,
    exported: dt.date,
    landscape: bool = True,
    wrap: Sequence[str] = (),
) -> tuple[Worksheet, int, int]:
    """Add a sheet with title lines, a header row and the rows; return (sheet, header row, last row).

    The columns fit the printed page width at body text of 9 pt or more: the `wrap` columns give
    up width (their text wraps) when the columns would be wider than that.

    Each row is a dict keyed by column key; keys not among the columns are refused, so a caller
    cannot slip an extra field into a file.
    """
    ws = workbook.create_sheet(title=name[:31])
    keys = [c.key for c in columns]
    r = 1
    for i, line in enumerate(heading):
        cell = ws.cell(row=r, column=1, value=text_cell(line))
        cell.font = Font(bold=True, size=13) if i == 0 else Font(italic=i == len(heading) - 1 and len(heading) > 2)
        r += 1
    if heading:
        r += 1  # a blank line between the title and the table
    header_row = r
    for col, column in enumerate(columns, start=1):
        cell = ws.cell(row=header_row, column=col, value=column.header)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.border = HEADER_BORDER
        cell.alignment = Alignment(vertical="center", wrap_text=False)
    widths = [max(c.width, len(c.header) + 2) for c in columns]
    last = header_row
    for row in rows:
        extra = set(row) - set(keys)
        if extra:
            raise ValueError(f"fields not in this sheet's columns: {sorted(extra)}")
        last += 1
        for col, key in enumerate(keys, start=1):
            value = row.get(key)
            if value is None or value == "":
                continue
            ws.cell(row=last, column=col, value=text_cell(value))
            widths[col - 1] = max(widths[col - 1], min(len(str(value)) + 2, columns[col - 1].max_width))
    widths = fit_widths(widths, [c.key in wrap for c in columns], landscape)
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
        if columns[col - 1].key in wrap:
            for r in range(header_row + 1, last + 1):
                ws.cell(row=r, column=col).alignment = WRAP
    last_col = get_column_letter(len(columns))
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    ws.auto_filter.ref = f"A{header_row}:{last_col}{max(last, header_row)}"
    print_setup(ws, header_row, clb_name, exported, landscape=landscape)
    return ws, header_row, last


# Printing: A4 is 8.27 x 11.69 inches; Excel shows a column of width w as about 7w + 5 pixels at
# 96 dpi (Calibri 11, the body font); a page printed fit-to-width is scaled by printable width /
# columns width, and the body must stay at 9 pt or more, so at least 9/11 of its size.
A4_INCHES = (8.27, 11.69)
BODY_POINTS, MIN_PRINTED_POINTS = 11, 9
MIN_WRAPPED_WIDTH = 12
SIDE_MARGIN_INCHES = 0.6
WRAP = Alignment(wrap_text=True, vertical="top")


def max_total_width(columns: int, landscape: bool, side_margins: float = 2 * SIDE_MARGIN_INCHES) -> float:
    """The widest a sheet of `columns` columns may be so that fit-to-width keeps 9 pt body text."""
    printable_px = ((A4_INCHES[1] if landscape else A4_INCHES[0]) - side_margins) * 96
    return (printable_px * BODY_POINTS / MIN_PRINTED_POINTS - 5 * columns) / 7


def fit_widths(widths: list[float], wrappable: list[bool], landscape: bool) -> list[float]:
    """Narrow the wrappable columns (never below MIN_WRAPPED_WIDTH) until the sheet fits the page."""
    budget = max_total_width(len(widths), landscape)
    excess = sum(widths) - budget
    room = sum(w - MIN_WRAPPED_WIDTH for w, ok in zip(widths, wrappable) if ok and w > MIN_WRAPPED_WIDTH)
    if excess <= 0 or room <= 0:
        return widths
    share = min(1.0, excess / room)
    return [w - (w - MIN_WRAPPED_WIDTH) * share if ok and w > MIN_WRAPPED_WIDTH else w
            for w, ok in zip(widths, wrappable)]


def text_cell(value: object) -> object:
    """A cell value that is never a formula and holds no character a workbook cannot store."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return safe_cell(value)


def print_setup(ws: Worksheet, header_row: int, clb_name: str, exported: dt.date, *, landscape: bool = True) -> None:
    """A4, fit to the page width, the header row repeated on every page, CLB and date in the header."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE if landscape else ws.ORIENTATION_PORTRAIT
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.top = 0.8
    ws.page_margins.left = ws.page_margins.right = SIDE_MARGIN_INCHES
    ws.page_margins.bottom = 0.7
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.oddHeader.left.text = _header_text(clb_name)
    ws.oddHeader.left.size = 10
    ws.oddHeader.right.text = f"Export {dutch_short_date(exported)}"
    ws.oddHeader.right.size = 10
    ws.oddFooter.center.text = "Pagina &P van &N"
    ws.oddFooter.center.size = 9


def _header_text(text: str) -> str:
    # '&' starts a code in Excel page headers; a literal ampersand is written '&&'.
    return text.replace("&", "&&")


def save_workbook(workbook: Workbook, path: Path) -> Path:
    """Saved all or nothing. The workbook is zipped in memory and written in one go: a full disk fails in
    that write with one clear line, never inside zipfile (whose half-written archive, collected later,
    prints a traceback of its own)."""
    with atomic_path(path) as temp:
        buffer = io.BytesIO()
        workbook.save(buffer)
        temp.write_bytes(buffer.getvalue())
    return path


def csv_text(columns: Sequence[Column], rows: Iterable[dict], separator: str = ";") -> str:
    """Semicolon CSV as Flemish Excel opens it (or `separator`); text never runs as a formula."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator="\r\n")
    writer.writerow([c.header for c in columns])
    keys = [c.key for c in columns]
    for row in rows:
        extra = set(row) - set(keys)
        if extra:
            raise ValueError(f"fields not in this file's columns: {sorted(extra)}")
        writer.writerow(["" if row.get(k) is None else safe_cell(row.get(k)) for k in keys])
    return buffer.getvalue()


def write_csv(path: Path, columns: Sequence[Column], rows: Iterable[dict], separator: str = ";") -> Path:
    """`csv_text` in a file with a UTF-8 BOM (Excel then reads the accents right)."""
    with atomic_text(path, encoding="utf-8-sig", newline="") as handle:
        handle.write(csv_text(columns, rows, separator))
    return path
