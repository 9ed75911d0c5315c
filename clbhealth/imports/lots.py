"""`clbhealth import lots`: the vaccine lots the CLB received (product, lot number, expiry date, doses).

The product must be one of the protocol's products ([[product]] in the protocol data). A lot already
known is updated (its expiry or dose count corrected). All or nothing: an invalid row changes nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from clbhealth.core.dates import parse_date
from clbhealth.core.errors import Problem
from clbhealth.imports.common import ImportResult, RowChecker, refuse_if_invalid
from clbhealth.readers.tabular import FieldSpec, read_table
from clbhealth.readers.values import parse_label, text_of
from clbhealth.workspace import vaccination as store
from clbhealth.workspace.folder import Workspace, now_text

LOT_FIELDS = (
    FieldSpec("product", ("vaccin", "productnaam", "merknaam", "naam"), True),
    FieldSpec("lot", ("lotnummer", "lot nummer", "lotnr", "batch", "batchnummer", "lot number"), True),
    FieldSpec("expiry", ("vervaldatum", "houdbaar tot", "vervalt", "expiry date", "expiration"), True),
    FieldSpec("doses", ("dosissen", "aantal", "aantal dosissen", "doses received")),
)
_LOT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-/.]{1,29}$")


def _product_key(text: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(text).lower())


def parse_lot(value: object) -> str:
    text = parse_label(value, 30, insz_ok=True)
    if text is None:
        raise ValueError("is empty")
    if not _LOT.match(text):
        raise ValueError("is not a lot number (letters, digits, - / . only, 2-30 characters)")
    return text


def _doses(value: object) -> int | None:
    text = text_of(value)
    if text is None:
        return None
    if not text.isdigit() or not 0 < int(text) <= 100_000:
        raise ValueError("is not a number of doses (a whole number above 0)")
    return int(text)


def import_lots(workspace: Workspace, path: Path, *, dry_run: bool = False, today: dt.date | None = None) -> ImportResult:
    today = today or dt.date.today()
    products = {_product_key(p.name): p.name for p in workspace.protocol.products}
    table = read_table(path, LOT_FIELDS, what="lot list")
    result = ImportResult(kind="lots", files=[str(path)], dry_run=dry_run)
    result.warnings.extend(table.notes)
    check = RowChecker(table, result.errors, result.warnings)
    lots: dict[tuple[str, str], tuple[str, str, str, int | None]] = {}
    first_row: dict[tuple[str, str], int] = {}
    for row, cells in table.rows:
        before = len(check.errors)
        cell = table.value(cells, "product")
        product = products.get(_product_key(cell)) if text_of(cell) is not None else None
        if product is None:
            check.error(row, "product", "is not a product of the protocol" if text_of(cell) else "is empty",
                        "Use one of: " + ", ".join(sorted(products.values())) + " (or add it to the protocol).",
                        value=cell)
        lot = check.parse(row, cells, "lot", parse_lot, "Copy the lot number from the box.")
        expiry = check.parse(row, cells, "expiry", parse_date, "Write the date as dd/mm/yyyy.")
        doses = check.parse(row, cells, "doses", _doses, "Give the number of doses received, or leave it empty.")
        if len(check.errors) > before or None in (product, lot, expiry):
            continue
        if (product, lot) in lots:
            check.error(row, "lot", f"repeats row {first_row[(product, lot)]}", "Give each lot one row.", value=lot)
            continue
        if expiry < today:
            check.warn(row, "expiry", "this lot has expired: doses from it are refused", value=expiry.isoformat())
        lots[(product, lot)] = (product, lot, expiry.isoformat(), doses)
        first_row[(product, lot)] = row
    refuse_if_invalid(result, False, "lot list")
    with workspace.writing("import lots") as session:
        session.rollback = dry_run
        session.files.append(str(path))
        counts = store.store_lots(session.conn, list(lots.values()), now_text())
        session.counts.update(counts)
    result.totals = counts
    result.summary = [{"product": p, "lots": sum(1 for k in lots if k[0] == p)} for p in sorted({k[0] for k in lots})]
    result.written = not dry_run
    if not lots:
        result.warnings.append(Problem(table.file, "no lots to import.", severity="warning"))
    return result
