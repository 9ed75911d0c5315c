"""Who is due for which contact moment and vaccination dose, and why: vectorised over all pupils.

`compute_due` is pure: it takes the pupils and their history as DataFrames and returns one row
per (pupil, moment) that matters this school year, with a status and a one-sentence reason.
Every rule works on whole NumPy columns; there is no Python loop over pupils.

Positions: a graded pupil's position relative to a target grade is `grade index - target
index` (0 = in the grade now, 2 = two years past it). A pupil without a grade (home education,
OKAN, special education without year grades) and every pupil for K1 (planned by birth year) is
placed by age instead: `Y - birth year - cohort age`, 0 meaning "in the cohort this year".

Speed (1.2 million pupils): text columns are turned into integer codes once (categoricals pass
straight through), the history is reduced with `np.minimum.at`/`np.maximum.at` instead of sorts
and group-bys, and a reason is written once per distinct combination of the values it quotes
(most reasons repeat, e.g. "grade L1"), then mapped onto the rows. Repeated text columns of the
result are categoricals.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from clbhealth.core.dates import SchoolYear
from clbhealth.core.grades import GRADE_INDEX, GRADES, standard_age
from clbhealth.protocols.model import Protocol, Rule

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


def compute_due(
    pupils: pd.DataFrame,
    events: pd.DataFrame,
    protocol: Protocol,
    year: SchoolYear,
    as_of: dt.date,
    settings: DueSettings | None = None,
    *,
    statuses: tuple[str, ...] | None = OPEN_STATUSES,
    moments: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """Due list for `year` as of `as_of`.

    `pupils` needs pupil_id, last_name, first_name, school_id, class_name, grade, education,
    birth_date; `events` needs pupil_id, code, date, status, staff_id (text columns may be
    categoricals, dates may be datetime64). Rows come out in pupil order, then protocol order.
    Extra columns beyond OUTPUT_COLUMNS: kind, series, due_from_date, absent_on, excluded_staff
    (for the planner). Repeated text columns are categoricals.
    """
    settings = settings or DueSettings()
    protocol.check_year(year)
    statuses = tuple(statuses or OPEN_STATUSES)
    codes = [c for c in protocol.codes(year) if moments is None or c in moments]
    people = _pupil_arrays(pupils, year)
    history = _history_arrays(pupils, events, protocol, as_of, people.n)
    wanted = np.array(sorted({_STATUS[s] for s in statuses if s in _STATUS}), dtype=np.int8)
    texts = _Texts()

    parts: list[tuple[int, Rule, _Part]] = []
    for rank, code in enumerate(codes):
        current = protocol.rule(code, year)
        assert current is not None
        if current.follows:
            part = _follow_up_dose(code, current, protocol, people, history, year, wanted, texts)
        elif current.is_vaccination:
            part = _targeted_dose(code, protocol, people, history, year, wanted, texts)
        else:
            part = _contact(code, protocol, people, history, year, settings, wanted, texts)
        if part is not None and len(part.pos):
            parts.append((rank, current, part))
    return _assemble(pupils, people, history, parts, codes, texts)


# --- inputs as arrays ------------------------------------------------------------------------------


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


def _pupil_arrays(pupils: pd.DataFrame, year: SchoolYear) -> _Pupils:
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
    )


def _history_arrays(
    pupils: pd.DataFrame, events: pd.DataFrame, protocol: Protocol, as_of: dt.date, n: int
) -> _History:
    position = pd.Index(pupils["pupil_id"]).get_indexer(events["pupil_id"])
    days = _days(events["date"])
    code, code_labels = _codes(events["code"])
    status_code, status_labels = _codes(events["status"])
    to_event = np.array([_EVENT.get(s, -1) if isinstance(s, str) else -1 for s in status_labels.tolist()] + [-1],
                        dtype=np.int64)
    status = to_event[status_code]
    staff_code, staff_labels = _codes(events["staff_id"], fill="")
    general_label = np.array([s == "" for s in staff_labels.tolist()], dtype=bool)
    keep = ((position >= 0) & (days != _NO_DAY) & (days <= np.datetime64(as_of, "D").astype(np.int64))
            & (code >= 0) & (status >= 0))
    # Events grouped by (code, status) with one stable (radix) sort; `row` keeps their input order,
    # which breaks ties between records of one day.
    row = np.flatnonzero(keep)
    group = (code[row] * len(EVENT_STATUSES) + status[row]).astype(np.int16 if len(code_labels) < 5000 else np.int64)
    by_group = np.argsort(group, kind="stable")
    row = row[by_group]
    bounds = np.concatenate([[0], np.cumsum(np.bincount(group, minlength=len(code_labels) * len(EVENT_STATUSES)))])
    pos, day = position[row], days[row]

    width = len(EVENT_STATUSES)

    def segment(c: int, *names: str) -> np.ndarray:
        """Indices (into row/pos/day) of the kept events of code number c with these statuses."""
        return np.concatenate([np.arange(bounds[c * width + _EVENT[s]], bounds[c * width + _EVENT[s] + 1])
                               for s in names])

    present = [c for c in range(len(code_labels)) if bounds[(c + 1) * width] > bounds[c * width]]

    def latest(i: np.ndarray) -> np.ndarray:
        arr = np.full(n, _NO_DAY, dtype=np.int64)
        np.maximum.at(arr, pos[i], day[i])
        return arr.view("datetime64[D]")

    done, done_external, objected, absent = {}, {}, {}, {}
    by_series: dict[str, list[np.ndarray]] = {}
    for c in present:
        label = code_labels[c]
        i = segment(c, "done", "done_external")
        if len(i):
            first = np.full(n, _LATE, dtype=np.int64)
            np.minimum.at(first, pos[i], day[i])
            # Of the records on that first day, the first one in the input says whether it was external.
            tied = i[day[i] == first[pos[i]]]
            which = np.full(n, _LATE, dtype=np.int64)
            np.minimum.at(which, pos[tied], row[tied])
            has = which != _LATE
            ext = np.zeros(n, dtype=bool)
            ext[has] = status[which[has]] == _EVENT["done_external"]
            first[~has] = _NO_DAY
            done[label], done_external[label] = first.view("datetime64[D]"), ext
        i = segment(c, "objected")
        i = i[general_label[staff_code[row[i]]]]
        if len(i):
            objected[label] = latest(i)
        i = segment(c, "absent")
        if len(i):
            absent[label] = latest(i)
        i = segment(c, "consent_given", "consent_refused")
        if len(i):
            by_series.setdefault(protocol.series_of(label), []).append(i)

    consent, consent_date = {}, {}
    for series, chunks in by_series.items():
        i = np.concatenate(chunks)
        # The latest record counts; on one day a refusal outranks a consent (the safer reading of two papers).
        refused = status[row[i]] == _EVENT["consent_refused"]
        key = np.full(n, -1, dtype=np.int64)
        np.maximum.at(key, pos[i], (day[i] - _MIN_DAY) * 2 + refused)
        has = key >= 0
        value = np.zeros(n, dtype=np.int8)
        value[has] = np.where(key[has] & 1, -1, 1)
        when = np.full(n, _NO_DAY, dtype=np.int64)
        when[has] = (key[has] >> 1) + _MIN_DAY
        consent[series], consent_date[series] = value, when.view("datetime64[D]")

    # A dose the CLB gave (not an external one) shows that consent for its series was given.
    for rule in protocol.rules:
        if not rule.is_vaccination or rule.code not in done:
            continue
        series = rule.series or rule.code
        given_here = ~np.isnat(done[rule.code]) & ~done_external[rule.code]
        value = consent.setdefault(series, np.zeros(n, dtype=np.int8))
        when = consent_date.setdefault(series, np.full(n, _NAT))
        implied = given_here & (value == 0)
        value[implied] = 1
        when[implied] = done[rule.code][implied]

    # Objections against one staff member, of any code: that person is kept away from the pupil.
    excluded_code = np.zeros(n, dtype=np.int64)
    excluded_labels = [""]
    staff_rows = np.flatnonzero(keep & (status == _EVENT["objected"]))
    staff_rows = staff_rows[~general_label[staff_code[staff_rows]]]
    if len(staff_rows):
        names: dict[int, set] = {}
        for p, s in zip(position[staff_rows].tolist(), staff_code[staff_rows].tolist()):
            names.setdefault(p, set()).add(staff_labels[s])
        number: dict[str, int] = {"": 0}
        for p, found in names.items():
            text = ";".join(sorted(found))
            excluded_code[p] = number.setdefault(text, len(number))
        excluded_labels = list(number)
    return _History(done, done_external, objected, absent, consent, consent_date, excluded_code, excluded_labels)


_MIN_DAY = -(2**40)  # below every real day: keeps the consent keys non-negative


# --- the rules -------------------------------------------------------------------------------------


@dataclass
class _Reach:
    """Where a pupil stands towards one code: at its target now, skipped it, or past it."""

    at_target: np.ndarray
    skipped: np.ndarray
    past: np.ndarray
    past_year: np.ndarray  # start year of the latest school year in which the pupil had the chance
    target_label: np.ndarray  # int: GRADE_INDEX of the grade or cohort that reached the target, -1 none


def _reach(code: str, protocol: Protocol, people: _Pupils, year: SchoolYear) -> _Reach:
    """Combine every version of `code` into at-target, skipped-grade and past-opportunity masks."""
    n, y = people.n, year.start_year
    at_target = np.zeros(n, dtype=bool)
    skipped = np.zeros(n, dtype=bool)
    past = np.zeros(n, dtype=bool)
    past_year = np.full(n, -1, dtype=np.int16)
    label = np.full(n, -1, dtype=np.int8)
    for version in protocol.versions(code):
        in_force = version.in_force(year)
        until = version.until_year.start_year if version.until_year else 10_000
        by_cohort = version.select == "birth_year"
        age_rel = people.age_this_year - version.age
        # Home education starts at compulsory school age: no moment from before it is owed.
        applies = ~people.home_education | (version.age >= protocol.compulsory_age)
        for grade in version.grades:
            target = GRADE_INDEX[grade]
            # rel: the position towards this grade; it has no value where the version does not apply.
            rel = age_rel if by_cohort else np.where(people.by_age, age_rel, people.grade_int - target)
            if in_force:
                hit = applies & (rel == 0)
                at_target |= hit
                label[hit & (label < 0)] = target
                if not by_cohort:
                    skipped |= ~people.by_age & (people.grade_int > target) & (age_rel == 0)
            chance = np.where(applies, y - rel, y + 1)
            ok = applies & (rel > 0) & (chance >= version.from_year.start_year) & (chance <= until)
            newer = ok & (chance > past_year)
            past_year = np.where(newer, chance, past_year)
            label[newer & ~at_target] = target
            past |= ok
    return _Reach(at_target, skipped & ~at_target, past & ~at_target, past_year, label)


def _contact(
    code: str,
    protocol: Protocol,
    people: _Pupils,
    history: _History,
    year: SchoolYear,
    settings: DueSettings,
    wanted: np.ndarray,
    texts: _Texts,
) -> _Part | None:
    """A systematic contact: owed once, by grade (K1 by birth year, no grade by age)."""
    reach = _reach(code, protocol, people, year)
    done = history.done.get(code, _none(people.n))
    objected = history.objected.get(code, _none(people.n))
    has_done, has_objection = ~np.isnat(done), ~np.isnat(objected)
    relevant = reach.at_target | reach.skipped | reach.past
    conditions = [
        relevant & has_done,
        relevant & has_objection,
        reach.at_target,
        reach.skipped,
        reach.past & settings.catch_up_missed_contacts,
        reach.past,
    ]
    kinds = ["done", "objected", "target", "skipped", "catch_up", "missed"]
    status_of = {"done": "done", "objected": "objected", "target": "due", "skipped": "due",
                 "catch_up": "due", "missed": "missed"}
    rule = protocol.rule(code, year)
    return _rows(code, conditions, kinds, status_of, wanted, people, history, reach, done, objected, None, texts,
                 rule=rule)


def _targeted_dose(
    code: str,
    protocol: Protocol,
    people: _Pupils,
    history: _History,
    year: SchoolYear,
    wanted: np.ndarray,
    texts: _Texts,
) -> _Part | None:
    """A vaccination dose with a target grade, offered again at later contacts (catch-up)."""
    current = protocol.rule(code, year)
    assert current is not None
    reach = _reach(code, protocol, people, year)
    catch_up = np.zeros(people.n, dtype=bool)
    for grade in current.catch_up_grades:
        in_grade = np.where(
            people.by_age, people.age_this_year == standard_age(grade), people.grade_index == GRADE_INDEX[grade]
        )
        catch_up |= reach.past & in_grade
    if current.catch_up_max_age is not None:
        catch_up |= reach.past & (people.age_this_year <= current.catch_up_max_age)
    return _dose_rows(code, current, people, history, reach, catch_up, wanted, None, texts)


def _follow_up_dose(
    code: str,
    current: Rule,
    protocol: Protocol,
    people: _Pupils,
    history: _History,
    year: SchoolYear,
    wanted: np.ndarray,
    texts: _Texts,
) -> _Part | None:
    """A later dose of a series: due a fixed interval after the dose it follows."""
    n = people.n
    previous = history.done.get(current.follows or "", _none(n))
    series = current.series or code
    first_code = next(
        (r.code for r in protocol.rules if (r.series or r.code) == series and r.dose == 1), current.follows
    )
    first = history.done.get(first_code or "", _none(n))
    three_dose = np.zeros(n, dtype=bool)
    if current.three_dose_from_age is not None:
        three_dose = ~np.isnat(first) & (_age_on(people.birth, first) >= current.three_dose_from_age)
    eligible = ~np.isnat(previous) & (three_dose if current.only_three_dose else True)
    months = np.where(
        three_dose & (current.interval_months_three_dose is not None),
        current.interval_months_three_dose or 0,
        current.interval_months,
    )
    due_from = np.where(eligible, _add_months(previous, months), _NAT)
    reach = _Reach(
        at_target=eligible,
        skipped=np.zeros(n, dtype=bool),
        past=np.zeros(n, dtype=bool),
        past_year=np.full(n, -1),
        target_label=np.full(n, -1, dtype=np.int8),
    )
    follow = {
        "previous": previous,
        "previous_code": current.follows,
        "due_from": due_from,
        "three_dose": three_dose,
    }
    return _dose_rows(code, current, people, history, reach, np.zeros(n, dtype=bool), wanted, follow, texts)


def _dose_rows(
    code: str,
    rule: Rule,
    people: _Pupils,
    history: _History,
    reach: _Reach,
    catch_up: np.ndarray,
    wanted: np.ndarray,
    follow: dict | None,
    texts: _Texts,
) -> _Part | None:
    n = people.n
    series = rule.series or code
    done = history.done.get(code, _none(n))
    objected = history.objected.get(code, _none(n))
    consent = history.consent.get(series, np.zeros(n, dtype=np.int8))
    offered = reach.at_target | reach.skipped | catch_up
    relevant = offered | reach.past
    conditions = [
        relevant & ~np.isnat(done),
        relevant & ~np.isnat(objected),
        relevant & (consent < 0),
        reach.at_target,
        reach.skipped,
        catch_up,
        reach.past,
    ]
    kinds = ["done", "objected", "refused", "target", "skipped", "catch_up", "missed"]
    opened = np.where(consent > 0, _STATUS["due"], _STATUS["needs_consent"]).astype(np.int8)
    status_of = {"done": "done", "objected": "objected", "refused": "refused", "target": opened,
                 "skipped": opened, "catch_up": opened, "missed": "missed"}
    return _rows(code, conditions, kinds, status_of, wanted, people, history, reach, done, objected,
                 follow, texts, series=series, rule=rule)


def _rows(
    code: str,
    conditions: list[np.ndarray],
    kinds: list[str],
    status_of: dict[str, object],
    wanted: np.ndarray,
    people: _Pupils,
    history: _History,
    reach: _Reach,
    done: np.ndarray,
    objected: np.ndarray,
    follow: dict | None,
    texts: _Texts,
    series: str | None = None,
    rule: Rule | None = None,
) -> _Part | None:
    """Pick the first matching condition per pupil, keep the wanted statuses, write the reasons."""
    kind_index = np.select(conditions, list(range(len(kinds))), default=-1).astype(np.int8)
    fixed = np.array([-1 if isinstance(status_of[k], np.ndarray) else _STATUS[status_of[k]] for k in kinds] + [-1],
                     dtype=np.int8)
    status = fixed[kind_index]  # kind -1 (none) picks the trailing -1
    for i, kind in enumerate(kinds):
        value = status_of[kind]
        if isinstance(value, np.ndarray):
            hit = kind_index == i
            status[hit] = value[hit]
    pos = np.flatnonzero(np.isin(status, wanted))
    if not len(pos):
        return None
    kind_at = kind_index[pos]
    status_at = status[pos]
    reason = np.zeros(len(pos), dtype=np.int32)
    due_from = np.full(len(pos), _NAT)
    absent = history.absent.get(code)
    absent_at = absent[pos] if absent is not None else np.full(len(pos), _NAT)
    # The absence is quoted for open rows only.
    absent_key = np.where(~np.isnat(absent_at) & (status_at <= _STATUS["needs_consent"]),
                          absent_at.view(np.int64), _NO_DAY)
    for i, kind in enumerate(kinds):
        sel = np.flatnonzero(kind_at == i)
        if not len(sel):
            continue
        p = pos[sel]
        reason[sel] = _reason(kind, code, p, absent_key[sel], people, history, reach, done, objected, follow,
                              series, rule, texts)
        if follow is not None and kind in ("target", "catch_up", "skipped"):
            due_from[sel] = follow["due_from"][p]
    return _Part(pos=pos, status=status_at, reason=reason, due_from=due_from, absent_on=absent_at)


def _reason(
    kind: str,
    code: str,
    p: np.ndarray,
    absent_key: np.ndarray,
    people: _Pupils,
    history: _History,
    reach: _Reach,
    done: np.ndarray,
    objected: np.ndarray,
    follow: dict | None,
    series: str | None,
    rule: Rule | None,
    texts: _Texts,
) -> np.ndarray:
    """One short sentence per selected pupil saying which rule put them on the list (a text number)."""
    keys: list[np.ndarray]
    if kind == "done":
        external = history.done_external.get(code, np.zeros(people.n, dtype=bool))[p]
        keys = [external, _day_key(done[p])]

        def make(ext, day):
            return ("done externally on " if ext else "done on ") + _iso1(day)
    elif kind == "objected":
        keys = [_day_key(objected[p])]

        def make(day):
            return "objection (verzet) on " + _iso1(day) + "; done once the chosen doctor's report arrives"
    elif kind == "refused":
        keys = [_day_key(history.consent_date[series][p])]

        def make(day):
            return "consent refused on " + _iso1(day)
    elif kind == "target" and follow is not None:
        keys = [_day_key(follow["previous"][p]), follow["three_dose"][p], _day_key(follow["due_from"][p])]
        previous_code = follow["previous_code"]

        def make(previous, three, due_from):
            text = previous_code + " on " + _iso1(previous)
            if three:
                text += " at age 15 or older (3-dose schedule)"
            return text + "; " + code + " from " + _iso1(due_from)
    elif kind == "target" and rule is not None and rule.select == "birth_year":
        keys = [people.birth_year[p]]

        def make(born):
            return "born " + str(born) + " (" + code + " by birth year)"
    elif kind == "target":
        cohort = people.by_age[p]
        keys = [cohort, np.where(cohort, -1, reach.target_label[p]), np.where(cohort, people.birth_year[p], 0),
                np.where(cohort, people.edu_code[p], -1)]
        edu_labels = people.edu_labels

        def make(by_age, label, born, edu):
            if by_age:
                return "age cohort born " + str(born) + ", " + _EDU_LABEL.get(edu_labels[edu], "no grade")
            return "grade " + _grade_text(label)
    elif kind == "skipped":
        keys = [people.birth_year[p], people.grade_code[p]]
        grade_labels = people.grade_labels

        def make(born, grade):
            return "skipped grade: born " + str(born) + ", now in " + grade_labels[grade] + ", no " + code \
                + " on record"
    elif kind == "catch_up":
        keys = [reach.target_label[p], reach.past_year[p]]

        def make(label, past):
            return "catch-up: no " + code + " on record (" + _grade_text(label) + " in " + _school_year_text(past) \
                + ")"
    else:  # missed
        keys = [reach.target_label[p], reach.past_year[p]]

        def make(label, past):
            return "no " + code + " on record; " + _grade_text(label) + " was in " + _school_year_text(past)

    base = make
    extra: list[Callable[[object], str]] = []
    if series is not None and kind in ("target", "skipped", "catch_up"):
        given = history.consent.get(series, np.zeros(people.n, dtype=np.int8))[p] > 0
        when = history.consent_date.get(series, _none(people.n))[p]
        keys.append(np.where(given, _day_key(when), _NO_DAY))
        extra.append(lambda day: "; consent on " + _iso1(day) if day != _NO_DAY else "; no consent yet")
    keys.append(absent_key)
    extra.append(lambda day: "; absent on " + _iso1(day) if day != _NO_DAY else "")
    width = len(keys) - len(extra)

    def full(*values):
        return base(*values[:width]) + "".join(f(v) for f, v in zip(extra, values[width:]))

    return texts.for_rows(keys, full)


# --- helpers ---------------------------------------------------------------------------------------


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


def _categorical(codes: np.ndarray, labels: list | np.ndarray) -> pd.Categorical:
    """A categorical of the used labels only, in sorted order when the labels can be sorted."""
    labels = list(labels)
    used = np.flatnonzero(np.bincount(codes[codes >= 0], minlength=len(labels)))
    chosen = [labels[i] for i in used.tolist()]
    try:
        order = sorted(range(len(chosen)), key=chosen.__getitem__)
    except TypeError:
        order = list(range(len(chosen)))
    remap = np.full(len(labels) + 1, -1, dtype=np.int64)
    remap[used[order]] = np.arange(len(order))
    categories = pd.Index([chosen[i] for i in order])
    return pd.Categorical.from_codes(remap[codes], categories=categories)


def _pupil_column(column: pd.Series, pos: np.ndarray):
    """A pupil column at the rows' positions: categoricals stay categoricals."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return _categorical(column.cat.codes.to_numpy()[pos].astype(np.int64), column.cat.categories)
    return column.to_numpy(dtype=object)[pos]


def _assemble(pupils: pd.DataFrame, people: _Pupils, history: _History, parts: list[tuple[int, Rule, _Part]],
              codes: list[str], texts: _Texts) -> pd.DataFrame:
    if not parts:
        columns = OUTPUT_COLUMNS + ["kind", "series", "due_from_date", "absent_on", "excluded_staff"]
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    # Each part is in pupil order; a stable sort on the pupil merges them: pupil order, then protocol order.
    pos = np.concatenate([part.pos for _, _, part in parts])
    order = np.argsort(pos, kind="stable")
    pos = pos[order]

    def joined(values: Callable[[int, Rule, _Part], np.ndarray]) -> np.ndarray:
        return np.concatenate([values(rank, rule, part) for rank, rule, part in parts])[order]

    sizes = [len(part.pos) for _, _, part in parts]
    rank = np.repeat(np.array([r for r, _, _ in parts], dtype=np.int64), sizes)[order]
    kinds = ["contact", "vaccination"]
    kind = np.repeat(np.array([kinds.index(rule.kind) for _, rule, _ in parts], dtype=np.int64), sizes)[order]
    series_names = list(dict.fromkeys((rule.series or codes[r]) for r, rule, _ in parts))
    series = np.repeat(np.array([series_names.index(rule.series or codes[r]) for r, rule, _ in parts],
                                dtype=np.int64), sizes)[order]
    due_from = joined(lambda r, rule, part: part.due_from)
    due_days, due_code = np.unique(due_from.view(np.int64), return_inverse=True)
    due_text = ["" if d == _NO_DAY else _iso1(d) for d in due_days.tolist()]
    out = pd.DataFrame(
        {
            "pupil_id": pupils["pupil_id"].to_numpy()[pos],
            "last_name": _pupil_column(pupils["last_name"], pos),
            "first_name": _pupil_column(pupils["first_name"], pos),
            "school_id": _pupil_column(pupils["school_id"], pos),
            "class": _pupil_column(pupils["class_name"], pos),
            "grade": _pupil_column(pupils["grade"], pos),
            "moment": _categorical(rank, codes),
            "status": _categorical(joined(lambda r, rule, part: part.status).astype(np.int64), STATUSES),
            "reason": _categorical(joined(lambda r, rule, part: part.reason).astype(np.int64), texts.values),
            "due_from": _categorical(due_code.reshape(-1).astype(np.int64), due_text),
            "kind": _categorical(kind, kinds),
            "series": _categorical(series, series_names),
            "due_from_date": due_from,
            "absent_on": joined(lambda r, rule, part: part.absent_on),
            "excluded_staff": _categorical(history.excluded_code[pos], history.excluded_labels),
        }
    )
    return out
