"""Reading the workspace database into DataFrames (the I/O edge of the pure due logic).

`load_pupils` and `load_events` give plain frames (text as Python strings, None for NULL).
`load_due_inputs` gives the same data compactly for `compute_due` on a whole region: text
columns as categoricals and dates as datetime64. It reads whole columns with one aggregate query
per table (`group_concat` of integers, `json_group_array` of text), so SQLite does the per-row
work in C and Python parses one string per column instead of building a tuple per row (1.2
million pupils and 2.9 million events: a few seconds instead of ~15 s). Small integer columns
(grade, education, code, status, day numbers) are packed into one integer per row in SQL.
"""

from __future__ import annotations

import gc
import json
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Iterator, Sequence

import numpy as np
import pandas as pd

from clbhealth.core.grades import GRADES

PUPIL_COLUMNS = ("pupil_id", "last_name", "first_name", "school_id", "class_name", "grade", "education",
                 "birth_date", "sex")
EVENT_COLUMNS = ("pupil_id", "code", "date", "status", "staff_id")
PUPIL_ORDER = ("school_id", "class_name", "last_name", "first_name", "pupil_id")
# The columns compute_due reads, as load_due_inputs returns them.
DUE_PUPIL_COLUMNS = ("pupil_id", "last_name", "first_name", "school_id", "class_name", "grade", "education",
                     "birth_date")
EDUCATIONS = ("gewoon", "buitengewoon", "okan", "huisonderwijs")
EVENT_STATUSES = ("done", "done_external", "absent", "objected", "consent_given", "consent_refused")
_EPOCH_JULIAN = 2440587.5  # julianday('1970-01-01')
_DAY_OFFSET = 1 << 20  # keeps packed day numbers positive (dates from 1970 - 2870 years on)


def _frame(cursor: sqlite3.Cursor, columns: Sequence[str]) -> pd.DataFrame:
    with _gc_paused():  # millions of new tuples would set off the cyclic garbage collector again and again
        rows = cursor.fetchall()
        if not rows:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
        data = list(zip(*rows))
        del rows
        return pd.DataFrame({c: pd.Series(v, dtype="int64" if c == "pupil_id" else object)
                             for c, v in zip(columns, data)})


@contextmanager
def _gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _tuples(conn: sqlite3.Connection, sql: str, params: Sequence = ()) -> sqlite3.Cursor:
    """A cursor that yields plain tuples (much faster than sqlite3.Row for many rows)."""
    cursor = conn.cursor()
    cursor.row_factory = None
    return cursor.execute(sql, params)


def _school_filter(schools: Sequence[str] | None, column: str) -> tuple[str, list]:
    if not schools:
        return "", []
    return f" AND {column} IN ({','.join('?' * len(schools))})", list(schools)


def load_pupils(conn: sqlite3.Connection, schools: Sequence[str] | None = None) -> pd.DataFrame:
    """Active pupils, ordered by school, class and name."""
    where, params = _school_filter(schools, "school_id")
    sql = f"SELECT {', '.join(PUPIL_COLUMNS)} FROM pupils WHERE active = 1{where}"
    frame = _frame(_tuples(conn, sql, params), PUPIL_COLUMNS)
    if len(frame):
        order = _sort_order([_ranks(frame[c].to_numpy(dtype=object))[0] for c in PUPIL_ORDER[:-1]],
                            frame["pupil_id"].to_numpy())
        frame = frame.take(order).reset_index(drop=True)
    return frame


def load_events(conn: sqlite3.Connection, schools: Sequence[str] | None = None) -> pd.DataFrame:
    """History events (of active pupils, optionally of some schools)."""
    where, params = _school_filter(schools, "p.school_id")
    sql = (f"SELECT {', '.join('e.' + c for c in EVENT_COLUMNS)} FROM events e "
           f"JOIN pupils p ON p.pupil_id = e.pupil_id WHERE p.active = 1{where}")
    return _frame(_tuples(conn, sql, params), EVENT_COLUMNS)


def school_sites(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """school_id, name, street, postcode, municipality, lat, lon, phone, email of every school."""
    return conn.execute("SELECT school_id, name, street, postcode, municipality, lat, lon, phone, email "
                        "FROM schools").fetchall()


def resolve_school_ids(conn: sqlite3.Connection, schools) -> list[str]:
    """School ids as given with --school, normalised and checked against the workspace (no repeats).

    A site id stands for itself; an institution's number (schoolnummer) for all its sites (`621`
    for site `621-3`). An unknown id is refused with the closest known ones.
    """
    from clbhealth.core.closest import unknown_id_message
    from clbhealth.core.errors import ClbError
    from clbhealth.readers.values import parse_school_id
    from clbhealth.workspace.schools import institution_sites

    known = known_school_ids(conn) if schools else set()
    institutions = institution_sites(conn) if schools else {}
    out: list[str] = []
    for text in schools or ():
        try:
            school_id = parse_school_id(text)
        except ValueError as exc:
            raise ClbError(f"--school {text!r} {exc}.") from None
        if school_id in known:
            sites = [school_id]
        elif school_id in institutions:
            sites = institutions[school_id]
        else:
            raise ClbError(unknown_id_message(f"--school {text}: no such school in this workspace", school_id,
                                              (known | set(institutions)) - {"HUISONDERWIJS"}),
                           hint="Import the school list first, or check the number (`clbhealth schools` lists them).")
        out.extend(site for site in sites if site not in out)
    return out


def known_school_ids(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT school_id FROM schools")}


# --- compact, column-wise reading for the due list --------------------------------------------------


class _Unusual(Exception):
    """The data holds something the fast reader does not expect: read it the plain way."""


def load_due_inputs(conn: sqlite3.Connection, schools: Sequence[str] | None = None, *,
                    codes: Sequence[str] = ()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Active pupils (ordered as `load_pupils`) and their events, in the compact form for compute_due.

    Pupils: DUE_PUPIL_COLUMNS, text as categoricals (sorted categories), birth_date as datetime64.
    Events: EVENT_COLUMNS, code/status/staff_id as categoricals, date as datetime64, ordered by
    pupil_id, code, date, status, staff_id (so on one day a 'done' comes before a 'done_external').
    `codes`: the codes expected in the history (others are found and read too, a little slower).
    Read inside one transaction so that both come from the same state of the database. Data the
    importers never write (a grade or date that is not one, SQLite without JSON) is read with
    load_pupils / load_events instead, with the same result.
    """
    try:
        pupils_text = _due_pupils_query(conn, schools)
        # Python parses the pupils while SQLite (which lets go of the GIL) reads the events: on two
        # cores this hides most of the parsing.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pupils_future = pool.submit(_due_pupils_frame, *pupils_text)
            del pupils_text
            events_query = _due_events_query(conn, schools, list(codes))
            pupils = pupils_future.result()
        events = _due_events_frame(conn, *events_query, pupils["pupil_id"].to_numpy())
    except (_Unusual, sqlite3.OperationalError, ValueError, TypeError):
        pupils = load_pupils(conn, schools)
        events = load_events(conn, schools)
        pupils = pupils.drop(columns=["sex"])
        events = events.sort_values(list(EVENT_COLUMNS), kind="stable").reset_index(drop=True)
    return pupils, events


def _aggregate(conn: sqlite3.Connection, sql: str, params: Sequence) -> list:
    """The one row of an aggregate query (columns of json_group_array or group_concat text)."""
    return list(_tuples(conn, sql, params).fetchone())


def _json(text: str | None) -> list:
    return json.loads(text) if text is not None else []


def _integers(text: str | None) -> np.ndarray:
    """A group_concat of integers as an int64 array (NULLs must be kept out of the column)."""
    return np.fromstring(text, dtype=np.int64, sep=",") if text else np.zeros(0, dtype=np.int64)


def _case(column: str, values: Sequence[str], other: int) -> tuple[str, list]:
    """SQL mapping the text `column` to the index of its value in `values` (`other` when absent)."""
    if not values:
        return str(other), []
    whens = " ".join(f"WHEN ? THEN {i}" for i in range(len(values)))
    return f"CASE {column} {whens} ELSE {other} END", list(values)


def _day_sql(column: str) -> str:
    return f"(CAST(julianday({column}) - {_EPOCH_JULIAN} AS INTEGER) + {_DAY_OFFSET})"


def _due_pupils_query(conn: sqlite3.Connection, schools: Sequence[str] | None) -> list:
    where, filter_params = _school_filter(schools, "school_id")
    grade_sql, grade_params = _case("grade", GRADES, 31)
    edu_sql, edu_params = _case("education", EDUCATIONS, 7)
    # birth day, education (3 bits: 7 other), grade (5 bits: 30 NULL, 31 other): one integer per pupil.
    packed = (f"ifnull(({_day_sql('birth_date')} << 8) | ({edu_sql} << 5)"
              f" | (CASE WHEN grade IS NULL THEN 30 ELSE {grade_sql} END), -1)")
    # Aggregates over one scan see the rows in the same order, so the columns line up.
    sql = (f"SELECT group_concat(pupil_id), group_concat({packed}), json_group_array(last_name), "
           f"json_group_array(first_name), json_group_array(school_id), json_group_array(class_name) "
           f"FROM pupils WHERE active = 1{where}")
    return _aggregate(conn, sql, edu_params + grade_params + filter_params)


def _due_pupils_frame(ids: str | None, packed_text: str | None, last: str, first: str, school: str,
                      class_name: str) -> pd.DataFrame:
    ids, packed_arr = _integers(ids), _integers(packed_text)
    if len(packed_arr) != len(ids) or (packed_arr < 0).any():
        raise _Unusual("birth date")
    grade = packed_arr & 31
    education = (packed_arr >> 5) & 7
    if (grade == 31).any() or (education == 7).any():
        raise _Unusual("grade or education")
    birth = ((packed_arr >> 8) - _DAY_OFFSET).astype("datetime64[D]")
    text = {}
    for name, values in (("school_id", school), ("class_name", class_name), ("last_name", last),
                         ("first_name", first)):
        values = _json(values)
        if len(values) != len(ids):
            raise _Unusual(name)
        text[name] = _ranks(np.array(values, dtype=object))
    order = _sort_order([text[c][0] for c in PUPIL_ORDER[:-1]], ids)
    grade_code = np.where(grade == 30, -1, grade)[order]
    return pd.DataFrame({
        "pupil_id": ids[order],
        "last_name": _from_codes(*text["last_name"], order),
        "first_name": _from_codes(*text["first_name"], order),
        "school_id": _from_codes(*text["school_id"], order),
        "class_name": _from_codes(*text["class_name"], order),
        "grade": _fixed_categories(grade_code, GRADES),
        "education": _fixed_categories(education[order], EDUCATIONS),
        "birth_date": birth[order],
    })


def _due_events_query(conn: sqlite3.Connection, schools: Sequence[str] | None, codes: list[str]) -> tuple:
    if schools:
        where = (f" WHERE pupil_id IN (SELECT pupil_id FROM pupils WHERE active = 1 AND school_id IN "
                 f"({','.join('?' * len(schools))}))")
        filter_params = list(schools)
    else:  # events of pupils who left are dropped later
        where, filter_params = "", []
    status_sql, status_params = _case("status", EVENT_STATUSES, 7)
    for attempt in range(2):
        if len(codes) > 254:
            raise _Unusual("codes")
        code_sql, code_params = _case("code", codes, 255)
        # day, code (8 bits: 255 other), status (3 bits: 7 other), 'has a staff id' (1 bit): one integer.
        packed = (f"ifnull(({_day_sql('date')} << 12) | ({code_sql} << 4) | ({status_sql} << 1)"
                  f" | (staff_id != ''), -1)")
        ids, packed_text = _aggregate(
            conn, f"SELECT group_concat(pupil_id), group_concat({packed}) FROM events{where}",
            code_params + status_params + filter_params)
        packed_arr = _integers(packed_text)
        code = (packed_arr >> 4) & 255
        if attempt == 0 and (code == 255).any():
            others = _tuples(conn, f"SELECT DISTINCT code FROM events{where}", filter_params).fetchall()
            codes = codes + sorted({r[0] for r in others} - set(codes))
            continue
        break
    # What the staff query needs: the same filter and the same mapping of code and status.
    staff_sql = (f"SELECT pupil_id, {code_sql}, {_day_sql('date')} - {_DAY_OFFSET}, {status_sql}, staff_id "
                 f"FROM events{(where + ' AND') if where else ' WHERE'} staff_id != ''")
    return ids, packed_arr, codes, staff_sql, code_params + status_params + filter_params


def _due_events_frame(conn: sqlite3.Connection, ids: str | None, packed_arr: np.ndarray, codes: list[str],
                      staff_sql: str, staff_params: list, pupil_ids: np.ndarray) -> pd.DataFrame:
    code = (packed_arr >> 4) & 255
    ids = _integers(ids)
    status = (packed_arr >> 1) & 7
    if len(ids) != len(packed_arr) or (packed_arr < 0).any() or (code == 255).any() or (status == 7).any():
        raise _Unusual("event")
    day = (packed_arr >> 12) - _DAY_OFFSET
    has_staff = (packed_arr & 1).astype(bool)
    # The order of the unique key (pupil_id, code, date, status, staff_id), as the index holds it: on
    # one day a 'done' comes before a 'done_external'. A scan of that index gives it already.
    code_rank = _text_rank(codes)[code]
    status_rank = _text_rank(EVENT_STATUSES)[status]
    keys = (has_staff, status_rank, day, code_rank, ids)
    if not _is_sorted(keys):
        order = np.lexsort(keys)
        ids, code, day, status, has_staff = ids[order], code[order], day[order], status[order], has_staff[order]
    staff_code = np.zeros(len(ids), dtype=np.int64)
    staff_labels = [""]
    if has_staff.any():
        rows = _tuples(conn, staff_sql, staff_params).fetchall()
        rows.sort(key=lambda r: (r[0], codes[r[1]], r[2], EVENT_STATUSES[r[3]], r[4]))
        at = np.flatnonzero(has_staff)
        if len(rows) != len(at) or any(
                (ids[i], code[i], day[i], status[i]) != r[:4] for i, r in zip(at.tolist(), rows)):
            raise _Unusual("staff")
        rank, labels = _ranks(np.array([r[4] for r in rows], dtype=object))
        staff_code[at] = rank + 1
        staff_labels += list(labels)
    known = pd.Index(pupil_ids).get_indexer(ids) >= 0
    return pd.DataFrame({
        "pupil_id": ids[known],
        "code": pd.Categorical.from_codes(code[known], categories=pd.Index(codes, dtype=object)),
        "date": day[known].astype("datetime64[D]"),
        "status": pd.Categorical.from_codes(status[known], categories=pd.Index(EVENT_STATUSES, dtype=object)),
        "staff_id": pd.Categorical.from_codes(staff_code[known], categories=pd.Index(staff_labels, dtype=object)),
    })


def _text_rank(values: Sequence[str]) -> np.ndarray:
    """For each value, its place in sorted order."""
    rank = np.empty(len(values), dtype=np.int64)
    rank[sorted(range(len(values)), key=lambda i: values[i])] = np.arange(len(values))
    return rank


def _is_sorted(keys: tuple[np.ndarray, ...]) -> bool:
    """Whether rows are in lexsort order of `keys` (the last key first)."""
    if len(keys[0]) < 2:
        return True
    equal = np.ones(len(keys[0]) - 1, dtype=bool)
    for key in keys[::-1]:
        a, b = key[:-1], key[1:]
        if (equal & (a > b)).any():
            return False
        equal &= a == b
    return True


def _ranks(values: np.ndarray) -> tuple[np.ndarray, list]:
    """Codes that follow the sorted order of the distinct values (-1 for None), and those values."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    labels = list(uniques)
    order = sorted(range(len(labels)), key=labels.__getitem__)
    rank_of = np.empty(len(labels) + 1, dtype=np.int64)
    rank_of[order] = np.arange(len(labels))
    rank_of[-1] = -1
    return rank_of[codes], [labels[i] for i in order]


def _sort_order(ranks: list[np.ndarray], ids: np.ndarray) -> np.ndarray:
    """Row order by the ranked keys (missing first), then by id: the order of load_pupils."""
    key = np.zeros(len(ids), dtype=np.int64)
    size = 1
    keys = []
    for rank in ranks:
        width = int(rank.max(initial=-1)) + 2
        if size * width >= 2**62:  # would overflow: start a new key
            keys.append(key)
            key, size = np.zeros(len(ids), dtype=np.int64), 1
        key = key * width + (rank + 1)
        size *= width
    keys.append(key)
    return np.lexsort([ids] + keys[::-1])


def _from_codes(rank: np.ndarray, labels: list, order: np.ndarray) -> pd.Categorical:
    return pd.Categorical.from_codes(rank[order], categories=pd.Index(labels, dtype=object))


def _fixed_categories(codes: np.ndarray, labels: Sequence[str]) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, categories=pd.Index(list(labels), dtype=object))
