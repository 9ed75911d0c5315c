"""Read a spreadsheet-like file into rows and find its header, whatever the school's software made.

The format is chosen by content, not by the file name: a ZIP container is a workbook (XLSX/ODS),
an OLE2 container is a legacy or password-protected workbook, anything else must be text (CSV).
Text is decoded as UTF-8 (with or without BOM), UTF-16 (with BOM) or Windows-1252, and the
delimiter (`;`, `,`, tab, `|`) is the one under which a header row is best recognised.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from clbhealth.core.errors import ClbError, Problem
from clbhealth.core.privacy import shown_path
from clbhealth.readers.files import read_input
from clbhealth.readers.values import mask_insz_like
from clbhealth.readers.workbooks import (  # noqa: F401 (the private names: imports/results.py reads sheets itself)
    HEADER_SEARCH_ROWS,
    MAX_ROWS,
    check_formula_cells,
    clean_cell,
    clean_cell as _clean_cell,
    read_ole_workbook,
    read_zip_workbook,
    read_zip_workbook as _read_zip_workbook,
)

MAX_FIELD_CHARS = 10_000
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
    name = shown_path(path, name_only=True)
    data = read_input(path, what=what)
    if not data.strip():
        raise ClbError(f"{name}: the file is empty.", hint=f"Export the {what} again from the school software.")

    if data[:4] == b"PK\x03\x04":
        sheets = read_zip_workbook(path, data)
        table = _pick_sheet(name, sheets, specs, what)
        check_formula_cells(path, table)
        return table
    elif data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        sheets = read_ole_workbook(path)
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


def _pick_sheet(
    name: str, sheets: list[tuple[str, list[list[object]]]], specs: Sequence[FieldSpec], what: str
) -> Table:
    if not sheets:
        raise ClbError(f"{name}: the workbook has no visible worksheet.")
    first_error: ClbError | None = None
    for sheet_name, rows in sheets:
        rows = [[clean_cell(c) for c in row] for row in rows]
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
    chosen, ignored = _choose_columns(name, header_index, rows[header_index], specs)
    missing = [s for s in specs if s.required and s.name not in chosen]
    if missing:
        lines = [f"  {s.name}: accepted headers {s.accepted()}" for s in missing]
        raise ClbError(
            f"{name}, row {header_index + 1}: the {what} lacks required column(s) "
            + ", ".join(s.name for s in missing)
            + ".",
            hint="Add the column(s) with one of these headers:\n" + "\n".join(lines),
        )
    notes: list[Problem] = []
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
    data_rows = _data_rows(name, rows, header_index)
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


def _choose_columns(name: str, header_index: int, header: list[object],
                    specs: Sequence[FieldSpec]) -> tuple[dict[str, tuple[int, int, str]], list[str]]:
    """field -> (priority, column, header text) of the best header for each field, and the headers not used."""
    aliases = _alias_index(specs)
    chosen: dict[str, tuple[int, int, str]] = {}
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
    return chosen, ignored


def _data_rows(name: str, rows: list[list[object]], header_index: int) -> list[tuple[int, list[object]]]:
    """(row number, cells) of each non-blank row below the header; refuses an absurdly long cell."""
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
    return data_rows
