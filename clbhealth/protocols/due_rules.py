"""The due rules: contact moments, targeted doses and later doses of a series."""

from __future__ import annotations

import numpy as np

from clbhealth.core.dates import SchoolYear
from clbhealth.core.grades import GRADE_INDEX, standard_age
from clbhealth.protocols.due_base import (
    _NAT,
    _NO_DAY,
    _STATUS,
    DueSettings,
    _add_months,
    _age_on,
    _History,
    _none,
    _Part,
    _Pupils,
    _Reach,
    _Texts,
)
from clbhealth.protocols.due_reasons import (
    _reason,
)
from clbhealth.protocols.model import Protocol, Rule


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
                # A graded pupil is due at its school only for a grade the school teaches.
                taught = people.offers.get(grade[0])
                hit = applies & (rel == 0) & (True if taught is None else (people.by_age | taught))
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
        # [C VWVJ] by the pupil's age on the day, whatever the grade: an S4 pupil still 14 is offered it.
        catch_up |= _at_most_on_the_day(people, reach.past & ~catch_up, current.catch_up_max_age)
    covered = None
    if current.not_needed_after is not None:
        other = history.done.get(current.not_needed_after, _none(people.n))
        covered = ~np.isnat(other) & (_age_on(people.birth, other) >= (current.not_needed_after_age or 0))
    return _dose_rows(code, current, people, history, reach, catch_up, wanted, None, texts, covered)


def _follow_up_dose(
    code: str,
    current: Rule,
    protocol: Protocol,
    people: _Pupils,
    history: _History,
    year: SchoolYear,
    wanted: np.ndarray,
    texts: _Texts,
    settings: DueSettings,
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
    from_age = current.three_dose_age(settings.two_dose_15_18)
    if from_age is not None:
        three_dose = ~np.isnat(first) & (_age_on(people.birth, first) >= from_age)
    short = np.zeros(n, dtype=bool)
    if current.short_interval_months is not None:
        # [C] Gardasil 9 text: a second dose sooner than 5 months after the first needs a third dose.
        short = ~np.isnat(previous) & ~np.isnat(first) & (previous < _add_months(first, current.short_interval_months))
    eligible = ~np.isnat(previous) & ((three_dose | short) if current.only_three_dose else True)
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
        "three_dose": three_dose & ~short,
        "short": short,
        "first_code": first_code,
        "three_dose_age": from_age,
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
    covered: np.ndarray | None = None,
) -> _Part | None:
    """The rows of one dose: done, objected, refused, not needed, or open (due / needs consent) or missed."""
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
        relevant & (covered if covered is not None else False),
        reach.at_target,
        reach.skipped,
        catch_up,
        reach.past,
    ]
    kinds = ["done", "objected", "refused", "not_needed", "target", "skipped", "catch_up", "missed"]
    opened = np.where(consent > 0, _STATUS["due"], _STATUS["needs_consent"]).astype(np.int8)
    status_of = {"done": "done", "objected": "objected", "refused": "refused", "not_needed": "done", "target": opened,
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


def _at_most_on_the_day(people: _Pupils, among: np.ndarray, age: int) -> np.ndarray:
    """Pupils of `among` at most `age` completed years old on the as-of day (computed for few pupils only)."""
    out = np.zeros(people.n, dtype=bool)
    year = int(people.as_of.astype("datetime64[Y]").astype(int)) + 1970
    idx = np.flatnonzero(among & (year - people.birth_year <= age + 1))  # older by birth year: never
    if len(idx):
        out[idx] = _age_on(people.birth[idx], np.full(len(idx), people.as_of)) <= age
    return out
