"""School years and the date forms schools write."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

SCHOOL_YEAR_START_MONTH = 9
# The marks a planning window may name instead of a date (settings and protocol files).
WINDOW_MARKS = ("start", "autumn", "christmas", "krokus", "easter", "end")


@dataclass(frozen=True, order=True)
class SchoolYear:
    """A Flemish school year, 1 September of `start_year` to 30 June of the next year."""

    start_year: int

    @classmethod
    def parse(cls, text: str) -> "SchoolYear":
        """Read '2026-2027' (or '2026-27', '2026/2027', '2026')."""
        match = re.fullmatch(r"\s*(\d{4})\s*(?:[-/]\s*(\d{2}|\d{4}))?\s*", str(text))
        if not match:
            raise ValueError(f"'{text}' is not a school year; write it as 2026-2027")
        start = int(match.group(1))
        if match.group(2):
            end = int(match.group(2))
            if end < 100:
                end += (start // 100) * 100
            if end != start + 1:
                raise ValueError(f"'{text}' is not a school year: the second year must follow the first")
        return cls(start)

    @classmethod
    def containing(cls, day: dt.date) -> "SchoolYear":
        """The school year a date belongs to (a year starts on 1 September)."""
        return cls(day.year if day.month >= SCHOOL_YEAR_START_MONTH else day.year - 1)

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.start_year, 9, 1)

    @property
    def last_day(self) -> dt.date:
        """30 June, the last day of classes."""
        return dt.date(self.start_year + 1, 6, 30)

    def offset(self, years: int) -> "SchoolYear":
        return SchoolYear(self.start_year + years)

    def __str__(self) -> str:
        return f"{self.start_year}-{self.start_year + 1}"


EXCEL_EPOCH = dt.date(1899, 12, 30)
_DMY = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})")
_YMD = re.compile(r"(\d{4})[/.\-](\d{1,2})[/.\-](\d{1,2})")
_SERIAL = re.compile(r"\d{5}(?:\.0+)?")


def parse_date(value: object) -> dt.date:
    """Read a date as schools write it: dd/mm/yyyy, yyyy-mm-dd, an Excel date cell or serial number.

    Raises ValueError with a message meant for the user.
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _from_serial(float(value))
    text = str(value).strip()
    # Drop a time part such as '2019-03-05 00:00:00' or '05/03/2019 0:00'.
    text = re.sub(r"[ T]\d{1,2}:\d{2}(:\d{2})?(\.\d+)?$", "", text)
    for pattern, order in ((_DMY, "dmy"), (_YMD, "ymd")):
        match = pattern.fullmatch(text)
        if match:
            a, b, c = (int(g) for g in match.groups())
            day, month, year = (a, b, c) if order == "dmy" else (c, b, a)
            try:
                return dt.date(year, month, day)
            except ValueError:
                raise ValueError("is not a real date (check day and month)") from None
    if _SERIAL.fullmatch(text):
        return _from_serial(float(text))
    if re.fullmatch(r"\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2}", text):
        raise ValueError("has a two-digit year; write the year in full (dd/mm/yyyy)")
    raise ValueError("is not a date; write it as dd/mm/yyyy")


def _from_serial(serial: float) -> dt.date:
    """An Excel serial day number (1900 date system) as a date."""
    if not 1 <= serial < 2958466:
        raise ValueError("is not a date; write it as dd/mm/yyyy")
    return EXCEL_EPOCH + dt.timedelta(days=int(serial))


DUTCH_DAYS = ("ma", "di", "wo", "do", "vr", "za", "zo")


DUTCH_MONTHS = ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec")


def dutch_date(day: dt.date) -> str:
    """'ma 12 okt 2026': a date as a school's letters write it."""
    return f"{DUTCH_DAYS[day.weekday()]} {day.day} {DUTCH_MONTHS[day.month - 1]} {day.year}"


def dutch_short_date(day: dt.date) -> str:
    """'di 6/10/2026': how Flemish schools write a date."""
    return f"{DUTCH_DAYS[day.weekday()]} {day.day}/{day.month}/{day.year}"
