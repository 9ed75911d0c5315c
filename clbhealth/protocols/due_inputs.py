"""Pupils and history as NumPy arrays, reduced once per due computation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from clbhealth.core.dates import SchoolYear
from clbhealth.core.grades import GRADE_INDEX, GRADE_LEVELS
from clbhealth.protocols.due_base import (
    _EVENT,
    _LATE,
    _NAT,
    _NO_DAY,
    BY_AGE_EDUCATION,
    EVENT_STATUSES,
    _History,
    _Pupils,
)
from clbhealth.protocols.model import Protocol


def _codes(column: pd.Series, fill: object = None) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (-1 for missing) and the distinct values (object array) of a column."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy()
        labels = np.asarray(column.cat.categories, dtype=object)
    else:
        codes, uniques = pd.factorize(column.to_numpy(dtype=object), use_na_sentinel=True)
        labels = np.asarray(uniques, dtype=object)
    if fill is not None and (codes < 0).any():
        where = next((i for i, v in enumerate(labels.tolist()) if v == fill), None)
        if where is None:
            labels = np.append(labels, np.array([fill], dtype=object))
            where = len(labels) - 1
        codes = np.where(codes < 0, where, codes)
    return codes, labels


def _days(column: pd.Series) -> np.ndarray:
    """Days since 1970 as int64 (NaT as the int64 minimum)."""
    if not pd.api.types.is_datetime64_any_dtype(column.dtype):
        column = pd.to_datetime(column)
    return column.to_numpy().astype("datetime64[D]").view(np.int64)


def _offers(pupils: pd.DataFrame, levels: Mapping[str, str | None] | None) -> dict[str, np.ndarray]:
    """Per grade letter, whether each pupil's school teaches such grades (its level; True when unknown)."""
    if not levels or "school_id" not in pupils:
        return {}
    school_code, school_labels = _codes(pupils["school_id"])
    out = {}
    for letter in "KLS":
        taught = [letter in GRADE_LEVELS.get(levels.get(s) or "", "KLS") for s in school_labels.tolist()] + [True]
        out[letter] = np.array(taught, dtype=bool)[school_code]
    return out


def _pupil_arrays(pupils: pd.DataFrame, year: SchoolYear, as_of: dt.date,
                  levels: Mapping[str, str | None] | None = None) -> _Pupils:
    birth = _days(pupils["birth_date"]).view("datetime64[D]")
    birth_year = birth.astype("datetime64[Y]").astype(int) + 1970
    grade_code, grade_labels = _codes(pupils["grade"])
    index_of = np.array([GRADE_INDEX.get(g, np.nan) if isinstance(g, str) else np.nan for g in grade_labels.tolist()]
                        + [np.nan], dtype=float)
    grade_index = index_of[grade_code]  # code -1 picks the trailing NaN
    edu_code, edu_labels = _codes(pupils["education"], fill="gewoon")
    edu = edu_labels.tolist()
    by_age_edu = np.array([e in BY_AGE_EDUCATION for e in edu] + [False], dtype=bool)
    home_edu = np.array([e == "huisonderwijs" for e in edu] + [False], dtype=bool)
    return _Pupils(
        n=len(pupils),
        birth=birth,
        birth_year=birth_year,
        age_this_year=(year.start_year - birth_year).astype(np.int16),
        grade_index=grade_index,
        grade_int=np.where(np.isnan(grade_index), -100, grade_index).astype(np.int16),
        by_age=np.isnan(grade_index) | by_age_edu[edu_code],
        home_education=home_edu[edu_code],
        grade_code=grade_code,
        grade_labels=grade_labels,
        edu_code=edu_code,
        edu_labels=edu_labels,
        as_of=np.datetime64(as_of, "D"),
        offers=_offers(pupils, levels),
    )


def _vaccination_view(people: _Pupils, protocol: Protocol) -> _Pupils:
    """The pupils as the vaccination rules see them: special education by age even with a grade.

    [C] "Voor leerlingen uit het buitengewoon onderwijs worden ze op een bepaalde leeftijd aangeboden"
    (clbdiesttess.be); the education types are protocol data (vaccinations_by_age_education).
    """
    kinds = protocol.vaccinations_by_age_education
    if not kinds:
        return people
    special = np.array([e in kinds for e in people.edu_labels.tolist()] + [False], dtype=bool)[people.edu_code]
    return replace(people, by_age=people.by_age | special)


@dataclass
class _Events:
    """The kept events (known pupil, code and status, dated up to the as-of day), grouped by (code, status)."""

    n: int
    row: np.ndarray  # input row of each kept event, grouped; input order within a group
    pos: np.ndarray  # pupil position per kept event
    day: np.ndarray  # int64 day per kept event
    status: np.ndarray  # event status number per input row
    bounds: np.ndarray  # start of each (code, status) group in row/pos/day
    code_labels: np.ndarray
    keep: np.ndarray  # bool per input row
    position: np.ndarray  # pupil position per input row
    staff_code: np.ndarray
    staff_labels: np.ndarray
    general: np.ndarray  # bool per staff label: '' (not about one staff member)

    def segment(self, c: int, *names: str) -> np.ndarray:
        """Indices (into row/pos/day) of the kept events of code number c with these statuses."""
        width = len(EVENT_STATUSES)
        return np.concatenate([np.arange(self.bounds[c * width + _EVENT[s]], self.bounds[c * width + _EVENT[s] + 1])
                               for s in names])

    def present(self) -> list[int]:
        width = len(EVENT_STATUSES)
        return [c for c in range(len(self.code_labels)) if self.bounds[(c + 1) * width] > self.bounds[c * width]]

    def latest(self, i: np.ndarray) -> np.ndarray:
        arr = np.full(self.n, _NO_DAY, dtype=np.int64)
        np.maximum.at(arr, self.pos[i], self.day[i])
        return arr.view("datetime64[D]")


def _event_groups(pupils: pd.DataFrame, events: pd.DataFrame, as_of: dt.date, n: int) -> _Events:
    position = pd.Index(pupils["pupil_id"]).get_indexer(events["pupil_id"])
    days = _days(events["date"])
    code, code_labels = _codes(events["code"])
    status_code, status_labels = _codes(events["status"])
    to_event = np.array([_EVENT.get(s, -1) if isinstance(s, str) else -1 for s in status_labels.tolist()] + [-1],
                        dtype=np.int64)
    status = to_event[status_code]
    staff_code, staff_labels = _codes(events["staff_id"], fill="")
    general = np.array([s == "" for s in staff_labels.tolist()], dtype=bool)
    keep = ((position >= 0) & (days != _NO_DAY) & (days <= np.datetime64(as_of, "D").astype(np.int64))
            & (code >= 0) & (status >= 0))
    # Events grouped by (code, status) with one stable (radix) sort; `row` keeps their input order,
    # which breaks ties between records of one day.
    row = np.flatnonzero(keep)
    group = (code[row] * len(EVENT_STATUSES) + status[row]).astype(np.int16 if len(code_labels) < 5000 else np.int64)
    row = row[np.argsort(group, kind="stable")]
    bounds = np.concatenate([[0], np.cumsum(np.bincount(group, minlength=len(code_labels) * len(EVENT_STATUSES)))])
    return _Events(n, row, position[row], days[row], status, bounds, code_labels, keep, position, staff_code,
                   staff_labels, general)


def _history_arrays(
    pupils: pd.DataFrame, events: pd.DataFrame, protocol: Protocol, as_of: dt.date, n: int
) -> _History:
    ev = _event_groups(pupils, events, as_of, n)
    done, done_external, objected, absent = {}, {}, {}, {}
    by_series: dict[str, list[np.ndarray]] = {}
    for c in ev.present():
        label = ev.code_labels[c]
        i = ev.segment(c, "done", "done_external")
        if len(i):
            done[label], done_external[label] = _first_done(ev, i)
        i = ev.segment(c, "objected")
        i = i[ev.general[ev.staff_code[ev.row[i]]]]
        if len(i):
            objected[label] = ev.latest(i)
        i = ev.segment(c, "absent")
        if len(i):
            absent[label] = ev.latest(i)
        i = ev.segment(c, "consent_given", "consent_refused")
        if len(i):
            by_series.setdefault(protocol.series_of(label), []).append(i)
    consent, consent_date = _series_consent(ev, by_series)
    _consent_from_doses(protocol, ev, consent, consent_date, done, done_external)
    excluded_code, excluded_labels = _staff_exclusions(ev)
    return _History(done, done_external, objected, absent, consent, consent_date, excluded_code, excluded_labels)


def _first_done(ev: _Events, i: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first done date per pupil, and whether that first record was external."""
    n = ev.n
    first = np.full(n, _LATE, dtype=np.int64)
    np.minimum.at(first, ev.pos[i], ev.day[i])
    # Of the records on that first day, the first one in the input says whether it was external.
    tied = i[ev.day[i] == first[ev.pos[i]]]
    which = np.full(n, _LATE, dtype=np.int64)
    np.minimum.at(which, ev.pos[tied], ev.row[tied])
    has = which != _LATE
    ext = np.zeros(n, dtype=bool)
    ext[has] = ev.status[which[has]] == _EVENT["done_external"]
    first[~has] = _NO_DAY
    return first.view("datetime64[D]"), ext


def _series_consent(ev: _Events, by_series: dict[str, list[np.ndarray]]) -> tuple[dict, dict]:
    """Per series: +1 given, -1 refused, 0 none (the latest record), and its date."""
    consent, consent_date = {}, {}
    for series, chunks in by_series.items():
        i = np.concatenate(chunks)
        # The latest record counts; on one day a refusal outranks a consent (the safer reading of two papers).
        refused = ev.status[ev.row[i]] == _EVENT["consent_refused"]
        key = np.full(ev.n, -1, dtype=np.int64)
        np.maximum.at(key, ev.pos[i], (ev.day[i] - _MIN_DAY) * 2 + refused)
        has = key >= 0
        value = np.zeros(ev.n, dtype=np.int8)
        value[has] = np.where(key[has] & 1, -1, 1)
        when = np.full(ev.n, _NO_DAY, dtype=np.int64)
        when[has] = (key[has] >> 1) + _MIN_DAY
        consent[series], consent_date[series] = value, when.view("datetime64[D]")
    return consent, consent_date


def _consent_from_doses(protocol: Protocol, ev: _Events, consent: dict, consent_date: dict, done: dict,
                        done_external: dict) -> None:
    """A dose the CLB gave (not an external one) proves consent for its series at that date.

    [C] "Het CLB geeft nooit vaccinaties zonder schriftelijke toestemming" (clbaandeleie.be): the
    latest record counts, and a CLB dose after an earlier refusal is such a record.
    """
    n = ev.n
    for rule in protocol.rules:
        if not rule.is_vaccination or rule.code not in done:
            continue
        series = rule.series or rule.code
        given_here = ~np.isnat(done[rule.code]) & ~done_external[rule.code]
        value = consent.setdefault(series, np.zeros(n, dtype=np.int8))
        when = consent_date.setdefault(series, np.full(n, _NAT))
        later = np.isnat(when) | (done[rule.code] > when)
        implied = given_here & ((value == 0) | ((value < 0) & later))
        value[implied] = 1
        when[implied] = done[rule.code][implied]


def _staff_exclusions(ev: _Events) -> tuple[np.ndarray, list[str]]:
    """Objections against one staff member, of any code: that person is kept away from the pupil."""
    excluded_code = np.zeros(ev.n, dtype=np.int64)
    excluded_labels = [""]
    staff_rows = np.flatnonzero(ev.keep & (ev.status == _EVENT["objected"]))
    staff_rows = staff_rows[~ev.general[ev.staff_code[staff_rows]]]
    if len(staff_rows):
        names: dict[int, set] = {}
        for p, s in zip(ev.position[staff_rows].tolist(), ev.staff_code[staff_rows].tolist()):
            names.setdefault(p, set()).add(ev.staff_labels[s])
        number: dict[str, int] = {"": 0}
        for p, found in names.items():
            text = ";".join(sorted(found))
            excluded_code[p] = number.setdefault(text, len(number))
        excluded_labels = list(number)
    return excluded_code, excluded_labels


_MIN_DAY = -(2**40)  # below every real day: keeps the consent keys non-negative
