"""Shared pieces of the due computation: statuses, per-pupil and history arrays, text numbering, date helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from clbhealth.core.grades import GRADES

STATUSES: tuple[str, ...] = ("due", "needs_consent", "missed", "done", "objected", "refused")
OPEN_STATUSES: tuple[str, ...] = ("due", "needs_consent")
EVENT_STATUSES: tuple[str, ...] = (
    "done", "done_external", "absent", "objected", "consent_given", "consent_refused",
)
BY_AGE_EDUCATION = ("huisonderwijs", "okan")
OUTPUT_COLUMNS = [
    "pupil_id", "last_name", "first_name", "school_id", "class", "grade", "moment", "status",
    "reason", "due_from",
]
_NAT = np.datetime64("NaT", "D")
_EDU_LABEL = {
    "huisonderwijs": "home education",
    "okan": "OKAN",
    "buitengewoon": "special education",
    "gewoon": "no grade",
}
_STATUS = {s: i for i, s in enumerate(STATUSES)}
_EVENT = {s: i for i, s in enumerate(EVENT_STATUSES)}
_NO_DAY = np.iinfo(np.int64).min  # int64 view of NaT
_LATE = np.iinfo(np.int64).max


@dataclass(frozen=True)
class DueSettings:
    """The workspace's choices where the rules leave room ([I] in protocol-facts)."""

    catch_up_missed_contacts: bool = False
    # [I] VWVJ allows 2 HPV doses for 15-18 as an alternative; the default is 3 doses from 15.
    two_dose_15_18: bool = False


@dataclass
class _Pupils:
    """Per-pupil columns as NumPy arrays, in the order of the input frame."""

    n: int
    birth: np.ndarray  # datetime64[D]
    birth_year: np.ndarray  # int
    age_this_year: np.ndarray  # Y - birth year
    grade_index: np.ndarray  # float, NaN without grade
    grade_int: np.ndarray  # int: the grade index, -100 without grade (those pupils go by age)
    by_age: np.ndarray  # bool
    home_education: np.ndarray  # bool
    grade_code: np.ndarray  # int: index into grade_labels, -1 without grade
    grade_labels: np.ndarray  # object: the grade values as written
    edu_code: np.ndarray  # int: index into edu_labels
    edu_labels: np.ndarray  # object: education ('gewoon' where missing)
    as_of: np.datetime64  # the as-of day (datetime64[D]): ages "on the day" are taken on it
    # Grade letter (K, L, S) -> bool per pupil: the pupil's school teaches such grades (True when
    # its level is unknown). A graded pupil is due for a moment only at a school of its level.
    offers: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class _History:
    """History reduced to arrays per code (aligned with the pupils), up to the as-of date."""

    done: dict[str, np.ndarray]  # first done date
    done_external: dict[str, np.ndarray]  # bool: that first record was external
    objected: dict[str, np.ndarray]  # last general objection date
    absent: dict[str, np.ndarray]  # last absence date
    consent: dict[str, np.ndarray]  # series -> +1 given, -1 refused, 0 none (latest record)
    consent_date: dict[str, np.ndarray]
    excluded_code: np.ndarray  # int: index into excluded_labels per pupil
    excluded_labels: list[str]  # '' first, then 'S1;S7' forms


@dataclass
class _Part:
    """The rows of one code: pupil positions and per-row values."""

    pos: np.ndarray
    status: np.ndarray  # index into STATUSES
    reason: np.ndarray  # index into the reason texts
    due_from: np.ndarray  # datetime64[D]
    absent_on: np.ndarray  # datetime64[D]


@dataclass
class _Reach:
    """Where a pupil stands towards one code: at its target now, skipped it, or past it."""

    at_target: np.ndarray
    skipped: np.ndarray
    past: np.ndarray
    past_year: np.ndarray  # start year of the latest school year in which the pupil had the chance
    target_label: np.ndarray  # int: GRADE_INDEX of the grade or cohort that reached the target, -1 none


class _Texts:
    """Distinct texts (reasons) with a number each."""

    def __init__(self) -> None:
        self.number: dict[str, int] = {}
        self.values: list[str] = []

    def code(self, text: str) -> int:
        found = self.number.get(text)
        if found is None:
            found = self.number[text] = len(self.values)
            self.values.append(text)
        return found

    def for_rows(self, keys: list[np.ndarray], make: Callable[..., str]) -> np.ndarray:
        """A text number per row: `make(*values)` is called once per distinct row of `keys`."""
        codes, rep = _group(keys)
        numbers = np.array([self.code(make(*(k[r] for k in keys))) for r in rep.tolist()], dtype=np.int32)
        return numbers[codes] if len(codes) else np.zeros(0, dtype=np.int32)



def _group(keys: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Number the distinct rows of `keys` (equal-length arrays): a code per row and one row per code."""
    n = len(keys[0])
    codes = np.zeros(n, dtype=np.int64)
    for key in keys:
        part, uniques = pd.factorize(key)
        codes, _ = pd.factorize(codes * len(uniques) + part)
    count = int(codes.max()) + 1 if n else 0
    rep = np.zeros(count, dtype=np.int64)
    rep[codes] = np.arange(n)  # any row of a code will do: they are all alike
    return codes, rep


def _none(n: int) -> np.ndarray:
    """n times NaT (read-only, shared)."""
    cached = _NONE.get(n)
    if cached is None:
        _NONE.clear()
        cached = _NONE[n] = np.full(n, _NAT)
        cached.flags.writeable = False
    return cached


_NONE: dict[int, np.ndarray] = {}


def _day_key(dates: np.ndarray) -> np.ndarray:
    return dates.astype("datetime64[D]").view(np.int64)


def _iso1(day: int) -> str:
    return str(np.datetime_as_string(np.datetime64(int(day), "D"), unit="D"))


def _grade_text(label: int) -> str:
    return GRADES[label] if label >= 0 else ""


def _school_year_text(start_year: int) -> str:
    return f"{start_year}-{start_year + 1}"


def _age_on(birth: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Completed years between birth and `day` (NaN where `day` is NaT)."""
    age = np.full(day.shape, np.nan)
    valid = ~np.isnat(day)
    if valid.any():
        by, bm, bd = _ymd(birth[valid])
        dy, dm, dd = _ymd(day[valid])
        age[valid] = dy - by - ((dm < bm) | ((dm == bm) & (dd < bd)))
    return age


def _ymd(dates: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = dates.astype("datetime64[D]")
    years = d.astype("datetime64[Y]")
    months = d.astype("datetime64[M]")
    y = years.astype(int) + 1970
    m = (months - years.astype("datetime64[M]")).astype(int) + 1
    day = (d - months.astype("datetime64[D]")).astype(int) + 1
    return y, m, day


def _add_months(dates: np.ndarray, months: np.ndarray | int) -> np.ndarray:
    """`dates` plus whole months, the day clipped to the month's length (31/1 + 1 month = 28/2)."""
    d = dates.astype("datetime64[D]")
    valid = ~np.isnat(d)
    out = np.full(d.shape, _NAT)
    if not valid.any():
        return out
    month_start = d.astype("datetime64[M]")
    day = (d - month_start.astype("datetime64[D]")).astype(int)
    target = month_start + np.asarray(months, dtype=int)
    month_len = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(int)
    clipped = np.minimum(day, month_len - 1)
    result = target.astype("datetime64[D]") + clipped
    out[valid] = result[valid]
    return out


