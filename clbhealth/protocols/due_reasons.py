"""One short sentence per due row saying which rule put the pupil on the list."""

from __future__ import annotations

from typing import Callable

import numpy as np

from clbhealth.protocols.due_base import (
    _EDU_LABEL,
    _NO_DAY,
    _day_key,
    _grade_text,
    _History,
    _iso1,
    _none,
    _Pupils,
    _Reach,
    _school_year_text,
    _Texts,
)
from clbhealth.protocols.model import Rule


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
    keys, make = _record_text(kind, code, p, people, history, done, objected, follow, series, rule)
    if make is None:
        keys, make = _place_text(kind, code, p, people, reach, rule)
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


def _record_text(kind, code, p, people, history, done, objected, follow, series,
                 rule) -> tuple[list, Callable | None]:
    """Reasons quoting a record: done, objected, refused, or the dose a later dose follows."""
    keys: list[np.ndarray] = []
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
    elif kind == "not_needed":
        other = rule.not_needed_after
        keys = [_day_key(history.done[other][p])]

        def make(day):
            return (f"not needed: {other} given on " + _iso1(day)
                    + f" at age {rule.not_needed_after_age} or older")
    elif kind == "target" and follow is not None:
        keys = [_day_key(follow["previous"][p]), follow["three_dose"][p], follow["short"][p],
                _day_key(follow["due_from"][p])]
        previous_code, first_code, age = follow["previous_code"], follow["first_code"], follow["three_dose_age"]

        def make(previous, three, short, due_from):
            text = previous_code + " on " + _iso1(previous)
            if three:
                text += f" at age {age} or older (3-dose schedule)"
            if short:
                text += f" less than {rule.short_interval_months} months after {first_code} (a third dose is needed)"
            return text + "; " + code + " from " + _iso1(due_from)
    else:
        return keys, None
    return keys, make


def _place_text(kind, code, p, people, reach, rule) -> tuple[list, Callable]:
    """Reasons quoting where the pupil stands: grade, age cohort, skipped grade, catch-up, missed."""
    if kind == "target" and rule is not None and rule.select == "birth_year":
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

    return keys, make
