"""What every import shares: collecting row problems and reporting the outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, TypeVar

from clbhealth.core.errors import ClbError, Problem
from clbhealth.readers.tabular import Table
from clbhealth.readers.values import mask_insz_like

T = TypeVar("T")


@dataclass
class ImportResult:
    """What an import found and did; the CLI renders it."""

    kind: str
    files: list[str]
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    summary: list[dict] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False
    written: bool = False
    skipped_rows: int = 0


class RowChecker:
    """Parses the cells of one table, recording each problem with file, row, column and value."""

    def __init__(self, table: Table, errors: list[Problem], warnings: list[Problem]) -> None:
        self.table = table
        self.errors = errors
        self.warnings = warnings
        self.bad_rows: set[int] = set()

    def parse(
        self,
        row: int,
        cells: list[object],
        name: str,
        parser: Callable[[object], T],
        hint: str,
        *,
        shown: Callable[[object], str] | None = None,
    ) -> T | None:
        """Run `parser` on the cell of field `name`; on ValueError record an error and return None."""
        value = self.table.value(cells, name)
        try:
            return parser(value)
        except ValueError as exc:
            self.error(row, name, str(exc), hint, value=value, shown=shown)
            return None

    def error(
        self,
        row: int,
        name: str | None,
        message: str,
        hint: str = "",
        *,
        value: object = None,
        shown: Callable[[object], str] | None = None,
    ) -> None:
        self.bad_rows.add(row)
        self.errors.append(self._problem(row, name, message, hint, value, shown, "error"))

    def warn(self, row: int, name: str | None, message: str, hint: str = "", *, value: object = None) -> None:
        self.warnings.append(self._problem(row, name, message, hint, value, None, "warning"))

    def _problem(self, row, name, message, hint, value, shown, severity) -> Problem:
        column = self.table.headers.get(name, name) if name else None
        if value is None:
            text = None
        elif shown is not None:
            text = shown(value)
        else:
            text = mask_insz_like(str(value))  # an INSZ in the wrong column is still an INSZ
            if len(text) > 60:
                text = text[:57] + "..."
        return Problem(
            file=self.table.file,
            row=row,
            column=column,
            value=text,
            message=mask_insz_like(message),
            hint=hint or None,
            severity=severity,  # type: ignore[arg-type]
        )


def refuse_if_invalid(result: ImportResult, skip_invalid: bool, what: str) -> None:
    """An import with any invalid row changes nothing unless --skip-invalid was given."""
    if result.errors and not skip_invalid:
        rows = len({(p.file, p.row) for p in result.errors})
        raise ClbError(
            f"{len(result.errors)} problem(s) in {rows} row(s) of the {what}; nothing was imported.",
            hint="Fix the rows listed above (--format json lists each one) and import again, or add --skip-invalid to "
                 "import the valid rows.",
            problems=result.errors + result.warnings,
        )
