"""Tables of results written as CSV, JSON, XLSX or plain fixed-width text (to stdout or a file)."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import IO, Callable, Sequence

import numpy as np
import pandas as pd

from clbhealth.core.errors import ClbError
from clbhealth.core.files import atomic_path, atomic_text

FORMATS = ("table", "csv", "json", "xlsx")
CSV_SEPARATORS = (";", ",")  # ';' is what Belgian Excel opens in columns; ',' on request (--csv-separator)
PLAIN_TABLE_ROWS = 2000  # beyond this a plain fixed-width table is printed (rich is slow on huge tables)


def safe_cell(value: object) -> object:
    """A value that Excel will show as text, never run as a formula (=, +, -, @ at the start)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def write_frame(frame: pd.DataFrame, fmt: str, output: Path | None, *, sheet: str = "Lijst",
                title: str | None = None, separator: str = ";") -> None:
    """Write `frame` in `fmt` to `output` (atomically) or stdout; xlsx needs a file.

    CSV is for people: `separator` (';' by default) between fields, and in a file a UTF-8 BOM, so
    Excel set to Dutch (Belgium) opens it in columns with accents intact.
    """
    if fmt not in FORMATS:
        raise ClbError(f"Unknown format '{fmt}'.", hint="Use table, csv, json or xlsx.")
    if separator not in CSV_SEPARATORS:
        raise ClbError(f"Unknown CSV separator {separator!r}.", hint="Use ; or ,.")
    if fmt == "xlsx":
        if output is None:
            raise ClbError("The xlsx format needs --output FILE.")
        write_xlsx(frame, output, sheet=sheet, title=title)
        return
    if fmt == "csv" and output is not None:  # written as it is made: the file appears only when complete
        with atomic_text(output, encoding="utf-8-sig", newline="") as handle:
            _write_csv(frame, handle, separator)
        return
    if fmt == "csv":
        text = _csv_text(frame, separator)
    elif fmt == "json":
        text = json.dumps(_records(frame), ensure_ascii=False, indent=1) + "\n"
    else:
        text = plain_table(frame)
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        with atomic_text(output, encoding="utf-8", newline="") as handle:
            handle.write(text)


def _csv_text(frame: pd.DataFrame, separator: str = ";") -> str:
    buffer = io.StringIO()
    _write_csv(frame, buffer, separator)
    return buffer.getvalue()


def _write_csv(frame: pd.DataFrame, handle: IO[str], separator: str = ";") -> None:
    writer = csv.writer(handle, delimiter=separator, lineterminator="\n")
    writer.writerow(frame.columns)
    columns = _csv_columns(frame, separator)
    if columns is None:
        for row in frame.itertuples(index=False, name=None):
            writer.writerow(["" if _missing(v) else _csv_cell(v) for v in row])
        return
    for start in range(0, len(frame), _CSV_CHUNK):
        cells = [column(start, start + _CSV_CHUNK) for column in columns]
        handle.write("\n".join(map(separator.join, zip(*cells))) + "\n")


_CSV_CHUNK = 50_000


def _csv_columns(frame: pd.DataFrame, separator: str = ";") -> list[Callable[[int, int], list[str]]] | None:
    """Per column, a function giving the CSV field texts of rows [start, stop); None when the frame
    needs the cell-by-cell path.

    The same text as csv.writer writes cell by cell, made once per distinct value: categoricals
    (the due list) map their categories, str columns their distinct values, integers are written
    as Python writes them. Other columns (object, float, dates) keep the cell-by-cell path.
    """
    if len(frame.columns) < 2 or not len(frame):  # csv quotes a lone empty field: leave that to csv
        return None
    columns: list[Callable[[int, int], list[str]]] = []
    for _, column in frame.items():
        dtype = column.dtype
        if isinstance(dtype, pd.CategoricalDtype):
            codes = column.cat.codes.to_numpy()
            values = list(column.cat.categories)
        elif isinstance(dtype, pd.StringDtype) and dtype.na_value is np.nan:  # pandas' str (missing is NaN)
            codes, uniques = pd.factorize(column, use_na_sentinel=True)
            values = list(uniques)
        elif pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_extension_array_dtype(dtype):
            numbers = column.to_numpy()  # digits and '-' never need quotes
            columns.append(lambda start, stop, numbers=numbers: list(map(str, numbers[start:stop].tolist())))
            continue
        else:
            return None
        texts = np.array([_csv_field(v, separator) for v in values] + [""], dtype=object)  # code -1 (missing) picks ""
        columns.append(lambda start, stop, texts=texts, codes=codes: texts[codes[start:stop]].tolist())
    return columns


def _csv_field(value: object, separator: str = ";") -> str:
    """One value as csv.writer writes it in a row (quoted when needed), after the formula guard."""
    if _missing(value):
        return ""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=separator, lineterminator="\n").writerow([_csv_cell(value), ""])
    return buffer.getvalue()[:-2]  # drop the empty second field's ',' and the line end


def _csv_cell(value: object) -> object:
    """Excel opens CSV files too: no formulas; and a lone CR would split the row (csv does not quote it)."""
    value = safe_cell(value)
    return value.replace("\r", " ") if isinstance(value, str) else value


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value is pd.NaT


def _records(frame: pd.DataFrame) -> list[dict]:
    columns = list(frame.columns)
    out = []
    for row in frame.itertuples(index=False, name=None):
        record = {}
        for key, value in zip(columns, row):
            if _missing(value) or value == "":
                value = None
            elif hasattr(value, "item"):
                value = value.item()
            record[key] = value
        out.append(record)
    return out


def plain_table(frame: pd.DataFrame, max_width: int = 60) -> str:
    """A fixed-width text table: fast for any size, readable in a terminal and in a pipe."""
    columns = [str(c) for c in frame.columns]
    cells = [["" if _missing(v) else str(v)[:max_width] for v in row] for row in frame.itertuples(index=False, name=None)]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in cells]
    return "\n".join(lines) + "\n"


def write_xlsx(frame: pd.DataFrame, output: Path, *, sheet: str = "Lijst", title: str | None = None,
               widths: Sequence[int] | None = None) -> None:
    """A plain but tidy workbook: bold frozen header, autofilter, column widths; text never a formula."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=False)
    ws = workbook.active
    ws.title = sheet[:31]
    start = 1
    if title:
        ws.cell(row=1, column=1, value=safe_cell(title)).font = Font(bold=True, size=12)
        start = 3
    for col, name in enumerate(frame.columns, start=1):
        cell = ws.cell(row=start, column=col, value=str(name))
        cell.font = Font(bold=True)
    for r, row in enumerate(frame.itertuples(index=False, name=None), start=start + 1):
        for col, value in enumerate(row, start=1):
            if _missing(value):
                continue
            if hasattr(value, "item"):
                value = value.item()
            ws.cell(row=r, column=col, value=safe_cell(value))
    ws.freeze_panes = ws.cell(row=start + 1, column=1)
    last_col = get_column_letter(max(len(frame.columns), 1))
    ws.auto_filter.ref = f"A{start}:{last_col}{start + len(frame)}"
    for col, name in enumerate(frame.columns, start=1):
        if widths:
            width = widths[col - 1]
        else:
            sample = [len(str(v)) for v in frame.iloc[:500, col - 1] if not _missing(v)]
            width = min(max([len(str(name))] + sample) + 2, 60)
        ws.column_dimensions[get_column_letter(col)].width = width
    with atomic_path(output) as temp:  # zipped in memory, written in one go (see exports.workbook.save_workbook)
        buffer = io.BytesIO()
        workbook.save(buffer)
        temp.write_bytes(buffer.getvalue())
