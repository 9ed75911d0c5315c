"""File names made from ids: safe on every system, never hidden, and distinct within one export."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, strategies as st

from clbhealth.core.filenames import distinct_stems, file_stem, safe_id
from clbhealth.exports.calendars import calendar_file_names
from clbhealth.exports.weekly import STAFF_COLUMNS, write_pair


def test_ids_with_dots_keep_their_dots_and_get_their_own_files(tmp_path):
    assert file_stem("A.01", "An Peeters") == "A.01-an-peeters"
    assert calendar_file_names([("A.01", "An"), ("A.02", "An")]) == {"A.01": "A.01-an.ics", "A.02": "A.02-an.ics"}
    written = write_pair(tmp_path / "A.01-an", STAFF_COLUMNS, [], ["x"], "CLB", dt.date(2026, 10, 2))
    assert [p.name for p in written] == ["A.01-an.xlsx", "A.01-an.csv"]


def test_ids_that_map_to_one_name_get_distinct_names():
    stems = distinct_stems({"A/01": file_stem("A/01", "x"), "A_01": file_stem("A_01", "x"), "a_01": file_stem("a_01", "x")})
    assert stems == {"A/01": "A_01-x", "A_01": "A_01-x-2", "a_01": "a_01-x-3"}


def test_no_hidden_reserved_or_empty_names():
    assert safe_id("..") == "x" and safe_id("") == "x" and safe_id(".profile") == "profile"
    assert safe_id("CON") == "_CON" and safe_id("nul.txt") == "_nul.txt" and safe_id("CONTACT") == "CONTACT"
    assert safe_id("A.") == "A" and safe_id("x" * 100) == "x" * 60


@given(st.lists(st.text(min_size=0, max_size=12), min_size=1, max_size=12, unique=True))
def test_any_ids_give_distinct_portable_names(ids):
    stems = distinct_stems((i, file_stem(i, "naam")) for i in ids)
    assert len({s.casefold() for s in stems.values()}) == len(ids)
    for stem in stems.values():
        assert stem[0] not in ". " and all(c.isascii() and (c.isalnum() or c in "_.-") for c in stem)


def test_every_windows_reserved_name_in_any_case_or_dress_is_escaped():
    reserved = ["CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))]
    for name in reserved:
        for dressed in (name, name.lower(), f"{name}.", f"{name} ", f" {name}. ", f"{name}.csv", f"{name}.tar.gz"):
            stem = safe_id(dressed)
            assert stem and not stem.endswith((".", " ")) and not stem.startswith((".", " ")), (dressed, stem)
            assert stem.split(".")[0].upper() not in reserved, (dressed, stem)
    for id_ in ("A.", "A. ", "A..", "A . ", "."):  # Windows drops trailing dots and spaces: two names would be one
        assert not safe_id(id_).endswith((".", " ")), id_
    stems = distinct_stems((i, file_stem(i)) for i in ("CON", "_CON", "con", "A.", "A"))
    assert len({s.casefold() for s in stems.values()}) == 5, stems
