"""The schema of a protocol file: the tables and fields it may hold and the type of each value.

Every value is checked before it is used (a `staff = "nurse"` is not read as five roles, a
`minutes = -5` is not planned), and a misspelt table or field is refused with its line and the
closest known name, as for clbhealth.toml."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass

from clbhealth.core.dates import WINDOW_MARKS
from clbhealth.core.errors import ClbError
from clbhealth.core.grades import GRADE_INDEX

ROLES_KNOWN = ("nurse", "doctor", "psychosocial")
HINT = ("Fix the protocol file, or compare with the bundled flanders.toml (`clbhealth protocols show` "
        "shows the rules in force).")
TABLES = ("protocol", "contact", "vaccination", "product")


@dataclass(frozen=True)
class Field:
    """A field's type: text, whole (a whole number from `low` to `high`), flag, texts (a list of text),
    year (a school year '2019-2020'); `choices` for a text from a fixed set, `grades`/`roles` for lists."""

    kind: str
    low: int = 0
    high: int = 0
    choices: tuple[str, ...] = ()


TEXT, FLAG, TEXTS, YEAR = Field("text"), Field("flag"), Field("texts"), Field("year")
AGE, MONTHS = Field("whole", 0, 30), Field("whole", 0, 240)
GRADES, ROLES = Field("texts", choices=tuple(GRADE_INDEX)), Field("texts", choices=ROLES_KNOWN)

RULE_FIELDS: dict[str, Field] = {
    "code": TEXT, "name": TEXT, "source": TEXT, "from_year": YEAR, "until_year": YEAR,
    "select": Field("text", choices=("class", "birth_year")), "grades": GRADES, "age": AGE, "staff": ROLES,
    "minutes": Field("whole", 0, 600), "series": TEXT, "dose": Field("whole", 1, 10), "follows": TEXT,
    "interval_months": MONTHS, "three_dose_from_age": AGE, "interval_months_three_dose": MONTHS,
    "only_three_dose": FLAG, "catch_up_grades": GRADES, "catch_up_max_age": AGE, "with_contact": TEXT,
    "parents_invited": FLAG, "window_until": Field("window"), "short_interval_months": MONTHS,
    "two_dose_option_until_age": AGE, "not_needed_after": TEXT, "not_needed_after_age": AGE, "disease": TEXT,
}
PRODUCT_FIELDS: dict[str, Field] = {"name": TEXT, "codes": TEXTS, "cnk": Field("cnk"), "source": TEXT}
PROTOCOL_FIELDS: dict[str, Field] = {
    "id": TEXT, "name": TEXT, "first_year": YEAR, "source": TEXT, "compulsory_age": AGE,
    "vaccinations_by_age_education": TEXTS, "vaccinations_by_age_source": TEXT,
}
FIELDS = {"protocol": PROTOCOL_FIELDS, "contact": RULE_FIELDS, "vaccination": RULE_FIELDS, "product": PRODUCT_FIELDS}

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?")


class Lines:
    """Where the tables and keys of a TOML text are: the line of the n-th [[contact]], of a key in it."""

    def __init__(self, text: str) -> None:
        self.rows = text.splitlines()
        self.headers: list[tuple[str, int]] = []  # (table name, line number) in file order
        for number, row in enumerate(self.rows, start=1):
            match = _HEADER.match(row)
            if match:
                self.headers.append((match.group(2).strip().strip('"'), number))

    def table(self, name: str, n: int = 1) -> int | None:
        """The line of the n-th header of table `name` (1 for [protocol])."""
        found = [line for table, line in self.headers if table == name]
        return found[n - 1] if len(found) >= n else None

    def key(self, key: str, table: str | None, n: int = 1) -> int | None:
        """The line of `key = ...` inside the n-th table `table` (None: before the first header)."""
        start = self.table(table, n) if table else 0
        if start is None:
            return None
        later = [line for _, line in self.headers if line > start]
        end = later[0] if later else len(self.rows) + 1
        pattern = re.compile(rf"^\s*\"?{re.escape(key)}\"?\s*=")
        return next((n for n in range(start + 1, end) if pattern.match(self.rows[n - 1])), None)


def at(line: int | None) -> str:
    return f" (line {line})" if line else ""


def did_you_mean(name: str, known) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else f"; known: {', '.join(sorted(known))}."


def check_tables(label: str, data: dict, lines: Lines) -> None:
    """Refuse a table a protocol does not have ([protokol], [[contacts]]), with its line."""
    for table in data:
        if table not in TABLES:
            close = difflib.get_close_matches(table, TABLES, n=1, cutoff=0.6)
            brackets = "[{}]" if close and close[0] == "protocol" else "[[{}]]"
            guess = f"; did you mean {brackets.format(close[0])}?" if close else "."
            raise ClbError(f"{label}: [{table}]{at(lines.table(table))} is not a table of a protocol{guess}",
                           hint="A protocol has [protocol], [[contact]], [[vaccination]] and [[product]]. " + HINT)


def check_fields(label: str, where: str, table: str, n: int, raw: dict, lines: Lines) -> None:
    """Check every field of the n-th table `table` (its place in messages: `where`): known, of its type."""
    fields = FIELDS[table]
    for key, value in raw.items():
        line = lines.key(key, table, n)
        if key not in fields:
            raise ClbError(f"{label}: {where}: {key}{at(line)} is not a field of [{table}]"
                           f"{did_you_mean(key, fields)}", hint=HINT)
        problem = _problem(fields[key], value)
        if problem:
            end = "" if problem.endswith(("?", ".")) else "."
            raise ClbError(f"{label}: {where}: {key}{at(line)} is {_shown(value)}: {problem}{end}", hint=HINT)


def _shown(value: object) -> str:
    text = repr(value) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _problem(spec: Field, value: object) -> str | None:
    """What is wrong with `value` for a field of type `spec`, or None."""
    kind = spec.kind
    if kind == "flag":
        return None if isinstance(value, bool) else "give true or false"
    if kind == "whole":
        if isinstance(value, bool) or not isinstance(value, int) or not spec.low <= value <= spec.high:
            return f"give a whole number from {spec.low} to {spec.high}"
        return None
    if kind == "texts":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return 'give a list of text values, e.g. ["a", "b"]'
        wrong = [v for v in value if spec.choices and v not in spec.choices]
        return f"'{wrong[0]}' is not known{did_you_mean(wrong[0], spec.choices)}" if wrong else None
    if kind == "year":
        return None if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{4}", value) else (
            "give a school year as text, e.g. \"2019-2020\"")
    if kind == "cnk":
        return None if isinstance(value, str) else 'give the CNK code as text, e.g. "1234567" (or "")'
    if not isinstance(value, str) or not value.strip():
        return "give a text value in quotes"
    if kind == "window":
        return _window_problem(value)
    if spec.choices and value not in spec.choices:
        return f"give one of {', '.join(spec.choices)}{did_you_mean(value, spec.choices)}"
    return None


def _window_problem(value: str) -> str | None:
    if value in WINDOW_MARKS:
        return None
    try:
        dt.date.fromisoformat(value)
        return None
    except ValueError:
        return f"give a date (yyyy-mm-dd) or one of {', '.join(WINDOW_MARKS)}{did_you_mean(value, WINDOW_MARKS)}"
