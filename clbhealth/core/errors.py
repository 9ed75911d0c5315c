"""The project's own error type, the row-level problems that imports report, and the brief list
that names many of them (rows, ids) in a message a person reads."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

LISTED = 10  # items a message names before "... and N more"


def listed(items: Iterable[object], at_most: int = LISTED) -> str:
    """The first `at_most` items, comma-separated, and how many more: `2, 3, 5 and 189 more`.

    For a message a person reads: the full list belongs in a separate field (the JSON output)."""
    items = [str(i) for i in items]
    if len(items) <= at_most:
        return ", ".join(items)
    return ", ".join(items[:at_most]) + f" and {len(items) - at_most} more"


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth a warning) in an input file, located as the user sees it."""

    file: str
    message: str
    row: int | None = None
    column: str | None = None
    value: str | None = None
    hint: str | None = None
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column '{self.column}'")
        text = ", ".join(where)
        if self.value is not None:
            text += f" (value {self.value!r})"
        text += f": {self.message}"
        if self.hint:
            text += ("" if text.endswith((".", "!", "?", ":")) else ".") + f" {self.hint}"
        return text


class ClbError(Exception):
    """A problem the user can fix: the CLI prints it without a traceback and exits with `exit_code`."""

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        problems: list[Problem] | None = None,
        exit_code: int = 1,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.problems = list(problems or [])
        self.exit_code = exit_code

    def __str__(self) -> str:
        text = self.message
        if self.hint:
            text += f"\n{self.hint}"
        return text
