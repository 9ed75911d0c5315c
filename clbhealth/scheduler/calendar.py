"""The planning calendar: school half-days (Flemish holidays from the `holidays` package),
staff availability and absences, school closures, and calendar marks for windows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import holidays

from clbhealth.core.dates import SchoolYear

DAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, order=True)
class HalfDay:
    """One block of one school day."""

    day: dt.date
    part: str  # 'am' | 'pm'

    @property
    def slot(self) -> str:
        """The weekly availability slot, e.g. 'tue-am'."""
        return f"{DAY_CODES[self.day.weekday()]}-{self.part}"

    def __str__(self) -> str:
        return f"{self.day.isoformat()} {self.part}"


@lru_cache(maxsize=16)
def flemish_holidays(start_year: int) -> dict[dt.date, str]:
    """Public and school holidays of a school year (September of start_year to August after)."""
    table = holidays.country_holidays(
        "BE", subdiv="Flemish", categories=("public", "school"), language="nl",
        years=(start_year, start_year + 1),
    )
    return dict(table.items())


class CalendarSettings(Protocol):
    """What the school calendar needs of the settings (the workspace's `Planning` has it)."""

    wednesday_afternoon: bool


def school_half_days(year: SchoolYear, planning: CalendarSettings, date_from: dt.date | None = None,
                     date_to: dt.date | None = None) -> list[HalfDay]:
    """Every half-day with classes in the school year (or the given range), in time order."""
    off = flemish_holidays(year.start_year)
    first = max(year.first_day, date_from or year.first_day)
    last = min(year.last_day, date_to or year.last_day)
    result: list[HalfDay] = []
    day = first
    while day <= last:
        if day.weekday() < 5 and day not in off:
            result.append(HalfDay(day, "am"))
            if day.weekday() != 2 or planning.wednesday_afternoon:
                result.append(HalfDay(day, "pm"))
        day += dt.timedelta(days=1)
    return result


def holiday_name(day: dt.date, year: SchoolYear) -> str | None:
    return flemish_holidays(year.start_year).get(day)


def calendar_mark(mark: str, year: SchoolYear) -> dt.date:
    """The date a window mark stands for: start, autumn, christmas, krokus, easter, end.

    A holiday mark is the first day of that holiday (so "until christmas" ends the day before).
    """
    if mark == "start":
        return year.first_day
    if mark == "end":
        return year.last_day
    names = {"autumn": "Herfstvakantie", "christmas": "Kerstvakantie", "krokus": "Krokusvakantie",
             "easter": "Paasvakantie"}
    wanted = names[mark]
    days = sorted(d for d, n in flemish_holidays(year.start_year).items()
                  if wanted in n and year.first_day <= d <= year.last_day)
    if not days:
        raise ValueError(f"no {wanted} found in {year}")
    return days[0]


def window_dates(window, year: SchoolYear) -> tuple[dt.date, dt.date]:
    """(first allowed day, last allowed day) of a configured window."""
    start = year.first_day
    end = year.last_day
    if window is not None and window.start:
        start = _resolve(window.start, year, before=False)
    if window is not None and window.until:
        end = _resolve(window.until, year, before=True)
    return start, end


def _resolve(value: str, year: SchoolYear, before: bool) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        day = calendar_mark(value, year)
        if before and value not in ("start", "end"):
            return day - dt.timedelta(days=1)
        return day


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` plus whole months, clipped to the month's last day."""
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    month += 1
    for d in range(day.day, 27, -1):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    return dt.date(year, month, min(day.day, 28))


def covers(date_from: dt.date, date_to: dt.date, part: str | None, half: HalfDay) -> bool:
    """Whether an absence or closure (part None = whole days) covers a half-day."""
    return date_from <= half.day <= date_to and (part is None or part == half.part)
