"""Who is due for which contact moment and vaccination dose, and why: vectorised over all pupils.

`compute_due` is pure: it takes the pupils and their history as DataFrames and returns one row
per (pupil, moment) that matters this school year, with a status and a one-sentence reason.
Every rule works on whole NumPy columns; there is no Python loop over pupils.

Positions: a graded pupil's position relative to a target grade is `grade index - target
index` (0 = in the grade now, 2 = two years past it). A pupil without a grade (home education,
OKAN, special education without year grades) and every pupil for K1 (planned by birth year) is
placed by age instead: `Y - birth year - cohort age`, 0 meaning "in the cohort this year".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from clbhealth.dates import SchoolYear
from clbhealth.grades import GRADE_INDEX, standard_age
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
    by_age: np.ndarray  # bool
    home_education: np.ndarray  # bool
    grade: np.ndarray  # object (str or None)
    education: np.ndarray  # object


@dataclass
class _History:
    """History reduced to arrays per code (aligned with the pupils), up to the as-of date."""

    done: dict[str, np.ndarray]  # first done date
    done_external: dict[str, np.ndarray]  # bool: that first record was external
    objected: dict[str, np.ndarray]  # last general objection date
    absent: dict[str, np.ndarray]  # last absence date
    consent: dict[str, np.ndarray]  # series -> +1 given, -1 refused, 0 none (latest record)
    consent_date: dict[str, np.ndarray]
    excluded_staff: np.ndarray  # object: 'S1;S7' or ''


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
    birth_date; `events` needs pupil_id, code, date, status, staff_id. Rows come out in pupil
    order, then protocol order. Extra columns beyond OUTPUT_COLUMNS: kind, series, due_from_date,
    absent_on, excluded_staff (for the planner).
    """
    settings = settings or DueSettings()
    protocol.check_year(year)
    statuses = tuple(statuses or OPEN_STATUSES)
    codes = [c for c in protocol.codes(year) if moments is None or c in moments]
    people = _pupil_arrays(pupils, year)
    history = _history_arrays(pupils, events, protocol, as_of, people.n)

    parts: list[pd.DataFrame] = []
    for rank, code in enumerate(codes):
        current = protocol.rule(code, year)
        assert current is not None
        if current.follows:
            part = _follow_up_dose(code, current, protocol, people, history, year, statuses)
        elif current.is_vaccination:
            part = _targeted_dose(code, protocol, people, history, year, statuses)
        else:
            part = _contact(code, protocol, people, history, year, settings, statuses)
        if part is not None and len(part):
            part["rank"] = rank
            part["kind"] = current.kind
            part["series"] = current.series or code
            parts.append(part)
    return _assemble(pupils, people, history, parts)


# --- inputs as arrays ------------------------------------------------------------------------------


def _pupil_arrays(pupils: pd.DataFrame, year: SchoolYear) -> _Pupils:
    birth = pd.to_datetime(pupils["birth_date"]).to_numpy().astype("datetime64[D]")
    birth_year = birth.astype("datetime64[Y]").astype(int) + 1970
    grade = pupils["grade"].to_numpy(dtype=object)
    grade_index = pupils["grade"].map(GRADE_INDEX).to_numpy(dtype=float)
    education = pupils["education"].fillna("gewoon").to_numpy(dtype=object)
    by_age = np.isnan(grade_index) | np.isin(education, BY_AGE_EDUCATION)
    return _Pupils(
        n=len(pupils),
        birth=birth,
        birth_year=birth_year,
        age_this_year=year.start_year - birth_year,
        grade_index=grade_index,
        by_age=by_age,
        home_education=education == "huisonderwijs",
        grade=grade,
        education=education,
    )


def _history_arrays(
    pupils: pd.DataFrame, events: pd.DataFrame, protocol: Protocol, as_of: dt.date, n: int
) -> _History:
    position = pd.Index(pupils["pupil_id"]).get_indexer(events["pupil_id"])
    dates = pd.to_datetime(events["date"]).to_numpy().astype("datetime64[D]")
    keep = (position >= 0) & (dates <= np.datetime64(as_of, "D"))
    ev = pd.DataFrame(
        {
            "pos": position[keep],
            "code": events["code"].to_numpy(dtype=object)[keep],
            "status": events["status"].to_numpy(dtype=object)[keep],
            "staff": events["staff_id"].fillna("").to_numpy(dtype=object)[keep],
            "date": dates[keep],
        }
    )

    def per_code(frame: pd.DataFrame, first: bool) -> dict[str, tuple[np.ndarray, pd.DataFrame]]:
        ordered = frame.sort_values(["code", "pos", "date"], kind="stable")
        picked = ordered.drop_duplicates(["code", "pos"], keep="first" if first else "last")
        out = {}
        for code, group in picked.groupby("code", sort=False):
            arr = np.full(n, _NAT)
            arr[group["pos"].to_numpy()] = group["date"].to_numpy()
            out[code] = (arr, group)
        return out

    done_rows = ev[ev["status"].isin(("done", "done_external"))]
    done, done_external = {}, {}
    for code, (arr, group) in per_code(done_rows, first=True).items():
        done[code] = arr
        ext = np.zeros(n, dtype=bool)
        ext[group["pos"].to_numpy()] = (group["status"] == "done_external").to_numpy()
        done_external[code] = ext
    general = ev[(ev["status"] == "objected") & (ev["staff"] == "")]
    objected = {c: a for c, (a, _) in per_code(general, first=False).items()}
    absent = {c: a for c, (a, _) in per_code(ev[ev["status"] == "absent"], first=False).items()}

    consent_rows = ev[ev["status"].isin(("consent_given", "consent_refused"))].copy()
    consent_rows["series"] = consent_rows["code"].map(protocol.series_of)
    # On one day a refusal outranks a consent (the safer reading of two papers).
    consent_rows["weight"] = (consent_rows["status"] == "consent_refused").astype(int)
    consent_rows = consent_rows.sort_values(["series", "pos", "date", "weight"], kind="stable")
    latest = consent_rows.drop_duplicates(["series", "pos"], keep="last")
    consent, consent_date = {}, {}
    for series, group in latest.groupby("series", sort=False):
        value = np.zeros(n, dtype=np.int8)
        when = np.full(n, _NAT)
        pos = group["pos"].to_numpy()
        value[pos] = np.where(group["status"].to_numpy() == "consent_given", 1, -1)
        when[pos] = group["date"].to_numpy()
        consent[series], consent_date[series] = value, when

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

    staff_rows = ev[(ev["status"] == "objected") & (ev["staff"] != "")]
    excluded = np.full(n, "", dtype=object)
    if len(staff_rows):
        joined = staff_rows.groupby("pos")["staff"].agg(lambda s: ";".join(sorted(set(s))))
        excluded[joined.index.to_numpy()] = joined.to_numpy()
    return _History(done, done_external, objected, absent, consent, consent_date, excluded)


# --- the rules -------------------------------------------------------------------------------------


@dataclass
class _Reach:
    """Where a pupil stands towards one code: at its target now, skipped it, or past it."""

    at_target: np.ndarray
    skipped: np.ndarray
    past: np.ndarray
    past_year: np.ndarray  # start year of the latest school year in which the pupil had the chance
    target_label: np.ndarray  # object: the grade or cohort that reached the target (for reasons)


def _reach(code: str, protocol: Protocol, people: _Pupils, year: SchoolYear) -> _Reach:
    """Combine every version of `code` into at-target, skipped-grade and past-opportunity masks."""
    n, y = people.n, year.start_year
    at_target = np.zeros(n, dtype=bool)
    skipped = np.zeros(n, dtype=bool)
    past = np.zeros(n, dtype=bool)
    past_year = np.full(n, -1, dtype=int)
    label = np.full(n, "", dtype=object)
    for version in protocol.versions(code):
        in_force = version.in_force(year)
        until = version.until_year.start_year if version.until_year else 10_000
        by_cohort = version.select == "birth_year"
        age_rel = people.age_this_year - version.age
        # Home education starts at compulsory school age: no moment from before it is owed.
        applies = ~people.home_education | (version.age >= protocol.compulsory_age)
        for grade in version.grades:
            if by_cohort:
                rel = age_rel.astype(float)
            else:
                rel = np.where(people.by_age, age_rel, people.grade_index - GRADE_INDEX[grade])
            rel = np.where(applies, rel, np.nan)
            if in_force:
                hit = rel == 0
                at_target |= hit
                label[hit & (label == "")] = grade
                if not by_cohort:
                    skipped |= ~people.by_age & (people.grade_index > GRADE_INDEX[grade]) & (age_rel == 0)
            chance = y - np.nan_to_num(rel, nan=-1).astype(int)
            ok = (rel > 0) & (chance >= version.from_year.start_year) & (chance <= until)
            newer = ok & (chance > past_year)
            past_year = np.where(newer, chance, past_year)
            label[newer & ~at_target] = grade
            past |= ok
    return _Reach(at_target, skipped & ~at_target, past & ~at_target, past_year, label)


def _contact(
    code: str,
    protocol: Protocol,
    people: _Pupils,
    history: _History,
    year: SchoolYear,
    settings: DueSettings,
    statuses: tuple[str, ...],
) -> pd.DataFrame | None:
    """A systematic contact: owed once, by grade (K1 by birth year, no grade by age)."""
    reach = _reach(code, protocol, people, year)
    done = history.done.get(code, np.full(people.n, _NAT))
    objected = history.objected.get(code, np.full(people.n, _NAT))
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
    return _rows(code, conditions, kinds, status_of, statuses, people, history, reach, done, objected, None,
                 rule=rule)


def _targeted_dose(
    code: str,
    protocol: Protocol,
    people: _Pupils,
    history: _History,
    year: SchoolYear,
    statuses: tuple[str, ...],
) -> pd.DataFrame | None:
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
    return _dose_rows(code, current, people, history, reach, catch_up, statuses, None)


def _follow_up_dose(
    code: str,
    current: Rule,
    protocol: Protocol,
    people: _Pupils,
    history: _History,
    year: SchoolYear,
    statuses: tuple[str, ...],
) -> pd.DataFrame | None:
    """A later dose of a series: due a fixed interval after the dose it follows."""
    n = people.n
    previous = history.done.get(current.follows or "", np.full(n, _NAT))
    series = current.series or code
    first_code = next(
        (r.code for r in protocol.rules if (r.series or r.code) == series and r.dose == 1), current.follows
    )
    first = history.done.get(first_code or "", np.full(n, _NAT))
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
        target_label=np.full(n, "", dtype=object),
    )
    follow = {
        "previous": previous,
        "previous_code": current.follows,
        "due_from": due_from,
        "three_dose": three_dose,
        "first_age": _age_on(people.birth, first),
    }
    return _dose_rows(code, current, people, history, reach, np.zeros(n, dtype=bool), statuses, follow)


def _dose_rows(
    code: str,
    rule: Rule,
    people: _Pupils,
    history: _History,
    reach: _Reach,
    catch_up: np.ndarray,
    statuses: tuple[str, ...],
    follow: dict | None,
) -> pd.DataFrame | None:
    n = people.n
    series = rule.series or code
    done = history.done.get(code, np.full(n, _NAT))
    objected = history.objected.get(code, np.full(n, _NAT))
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
    opened = np.where(consent > 0, "due", "needs_consent")
    status_of = {"done": "done", "objected": "objected", "refused": "refused", "target": opened,
                 "skipped": opened, "catch_up": opened, "missed": "missed"}
    return _rows(code, conditions, kinds, status_of, statuses, people, history, reach, done, objected,
                 follow, series=series, rule=rule)


def _rows(
    code: str,
    conditions: list[np.ndarray],
    kinds: list[str],
    status_of: dict[str, object],
    statuses: tuple[str, ...],
    people: _Pupils,
    history: _History,
    reach: _Reach,
    done: np.ndarray,
    objected: np.ndarray,
    follow: dict | None,
    series: str | None = None,
    rule: Rule | None = None,
) -> pd.DataFrame | None:
    """Pick the first matching condition per pupil, keep the wanted statuses, write the reasons."""
    kind_index = np.select(conditions, list(range(len(kinds))), default=-1)
    status = np.full(people.n, None, dtype=object)
    for i, kind in enumerate(kinds):
        hit = kind_index == i
        value = status_of[kind]
        status[hit] = value[hit] if isinstance(value, np.ndarray) else value
    keep = np.isin(status, statuses)
    pos = np.flatnonzero(keep)
    if not len(pos):
        return None
    kind_at = kind_index[pos]
    reason = np.full(len(pos), "", dtype=object)
    due_from = np.full(len(pos), _NAT)
    for i, kind in enumerate(kinds):
        sel = kind_at == i
        if not sel.any():
            continue
        p = pos[sel]
        reason[sel] = _reason(kind, code, p, people, history, reach, done, objected, follow, series, rule)
        if follow is not None and kind in ("target", "catch_up", "skipped"):
            due_from[sel] = follow["due_from"][p]
    absent = history.absent.get(code)
    if absent is not None:
        was_absent = ~np.isnat(absent[pos]) & np.isin(status[pos], OPEN_STATUSES)
        if was_absent.any():
            reason[was_absent] = reason[was_absent] + "; absent on " + _iso(absent[pos][was_absent])
    return pd.DataFrame(
        {
            "pos": pos,
            "moment": code,
            "status": status[pos],
            "reason": reason,
            "due_from_date": due_from,
            "absent_on": absent[pos] if absent is not None else np.full(len(pos), _NAT),
        }
    )


def _reason(
    kind: str,
    code: str,
    p: np.ndarray,
    people: _Pupils,
    history: _History,
    reach: _Reach,
    done: np.ndarray,
    objected: np.ndarray,
    follow: dict | None,
    series: str | None,
    rule: Rule | None,
) -> np.ndarray:
    """One short sentence per selected pupil saying which rule put them on the list."""
    born = people.birth_year[p].astype(str).astype(object)
    if kind == "done":
        external = history.done_external.get(code, np.zeros(people.n, dtype=bool))[p]
        return np.where(external, "done externally on ", "done on ").astype(object) + _iso(done[p])
    if kind == "objected":
        return "objection (verzet) on " + _iso(objected[p]) + "; done once the chosen doctor's report arrives"
    if kind == "refused":
        return "consent refused on " + _iso(history.consent_date[series][p])
    if kind == "target" and follow is not None:
        text = follow["previous_code"] + " on " + _iso(follow["previous"][p])
        three = follow["three_dose"][p]
        if three.any():
            text = np.where(three, text + " at age 15 or older (3-dose schedule)", text)
        text = text + "; " + code + " from " + _iso(follow["due_from"][p])
    elif kind == "target":
        if rule is not None and rule.select == "birth_year":
            text = "born " + born + " (" + code + " by birth year)"
        else:
            cohort = people.by_age[p]
            text = ("grade " + reach.target_label[p]).astype(object)
            if cohort.any():
                label = np.array([_EDU_LABEL.get(e, "no grade") for e in people.education[p][cohort]], dtype=object)
                text[cohort] = "age cohort born " + born[cohort] + ", " + label
    elif kind == "skipped":
        text = "skipped grade: born " + born + ", now in " + people.grade[p].astype(object) \
            + ", no " + code + " on record"
    elif kind == "catch_up":
        text = "catch-up: no " + code + " on record (" + reach.target_label[p] + " in " \
            + _school_year_text(reach.past_year[p]) + ")"
    else:  # missed
        text = "no " + code + " on record; " + reach.target_label[p] + " was in " \
            + _school_year_text(reach.past_year[p])
    text = np.asarray(text, dtype=object)
    if series is not None and kind in ("target", "skipped", "catch_up"):
        given = history.consent.get(series, np.zeros(people.n, dtype=np.int8))[p] > 0
        when = history.consent_date.get(series, np.full(people.n, _NAT))[p]
        consent_text = np.full(len(p), "; no consent yet", dtype=object)
        if given.any():
            consent_text[given] = "; consent on " + _iso(when[given])
        text = text + consent_text
    return text


# --- helpers ---------------------------------------------------------------------------------------


def _iso(dates: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(dates.astype("datetime64[D]"), unit="D").astype(object)


def _school_year_text(start_years: np.ndarray) -> np.ndarray:
    return start_years.astype(str).astype(object) + "-" + (start_years + 1).astype(str).astype(object)


def _age_on(birth: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Completed years between birth and `day` (NaN where `day` is NaT)."""
    by, bm, bd = _ymd(birth)
    dy, dm, dd = _ymd(day)
    age = (dy - by - ((dm < bm) | ((dm == bm) & (dd < bd)))).astype(float)
    age[np.isnat(day)] = np.nan
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


def _assemble(pupils: pd.DataFrame, people: _Pupils, history: _History, parts: list[pd.DataFrame]) -> pd.DataFrame:
    if not parts:
        columns = OUTPUT_COLUMNS + ["kind", "series", "due_from_date", "absent_on", "excluded_staff"]
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    rows = pd.concat(parts, ignore_index=True)
    order = np.lexsort((rows["rank"].to_numpy(), rows["pos"].to_numpy()))
    rows = rows.iloc[order].reset_index(drop=True)
    pos = rows["pos"].to_numpy()
    due_from = rows["due_from_date"].to_numpy().astype("datetime64[D]")
    due_from_text = np.where(np.isnat(due_from), "", np.datetime_as_string(due_from, unit="D")).astype(object)
    out = pd.DataFrame(
        {
            "pupil_id": pupils["pupil_id"].to_numpy()[pos],
            "last_name": pupils["last_name"].to_numpy(dtype=object)[pos],
            "first_name": pupils["first_name"].to_numpy(dtype=object)[pos],
            "school_id": pupils["school_id"].to_numpy(dtype=object)[pos],
            "class": pupils["class_name"].to_numpy(dtype=object)[pos],
            "grade": pupils["grade"].to_numpy(dtype=object)[pos],
            "moment": rows["moment"].to_numpy(dtype=object),
            "status": rows["status"].to_numpy(dtype=object),
            "reason": rows["reason"].to_numpy(dtype=object),
            "due_from": due_from_text,
            "kind": rows["kind"].to_numpy(dtype=object),
            "series": rows["series"].to_numpy(dtype=object),
            "due_from_date": due_from,
            "absent_on": rows["absent_on"].to_numpy().astype("datetime64[D]"),
            "excluded_staff": history.excluded_staff[pos],
        }
    )
    return out
