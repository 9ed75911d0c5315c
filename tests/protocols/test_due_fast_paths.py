"""The fast paths of the due list give what the plain paths give: column-wise reading, categorical
inputs, the CSV writer; the due list reads in one transaction; the terminal table escapes markup."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import sqlite3

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from clbhealth.exports import frames as output
from clbhealth.app import due_list as services
from clbhealth.workspace import pupils as store
from clbhealth.protocols.due import OUTPUT_COLUMNS, STATUSES, DueSettings, compute_due
from tests.conftest import AS_OF, YEAR, event, frames, pupil

COLUMNS = OUTPUT_COLUMNS + ["kind", "series", "due_from_date", "absent_on", "excluded_staff"]


def records(frame: pd.DataFrame) -> list[tuple]:
    def plain(value):
        if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
            return None
        if isinstance(value, pd.Timestamp):
            return value.date().isoformat()
        return value.item() if hasattr(value, "item") else value

    return [tuple(plain(v) for v in row) for row in frame[COLUMNS].itertuples(index=False, name=None)]


def fill(ws, *, seed: int = 7, extra_pupils: list[tuple] = (), extra_events: list[tuple] = ()) -> None:
    """Pupils and history with the awkward cases: NULL class and grade, names that sort oddly, left
    pupils, same-day records, staff objections, codes the protocol does not know."""
    rng = random.Random(seed)
    grades = ["K1", "K3", "L1", "L4", "L5", "L6", "S1", "S2", "S3", "S5", None]
    rows = []
    for pid in range(1, 121):
        grade = rng.choice(grades)
        education = rng.choice(["gewoon"] * 4 + ["buitengewoon", "okan"]) if grade else "buitengewoon"
        born = dt.date(2008, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 16))
        last = rng.choice(["Peeters", "Maes", "Ölçer", "de Smet", "=Claes", "Aerts, J", 'Van "Dam"'])
        rows.append((pid, rng.choice(["100", "200", "400"]), f"{pid:05d}", last, rng.choice(["Jan", "Zoë", "An"]),
                     born.isoformat(), rng.choice("MVX"), rng.choice(["1A", "4B", None, "", "K1-K2"]), grade,
                     education, 0 if pid % 17 == 0 else 1))
    rows.append((200, "HUISONDERWIJS", "h1", "Thuis", "Kind", "2019-03-01", "V", None, None, "huisonderwijs", 1))
    rows += list(extra_pupils)
    stamp = "2026-09-01T00:00:00"
    events = []
    codes = ["K1", "L1", "L4", "L6", "S3", "DTPa-IPV", "MMR2", "HPV1", "HPV2", "dTpa", "ZZ9"]
    for _ in range(600):
        pid = rng.randrange(1, 121)
        day = (dt.date(2019, 9, 1) + dt.timedelta(days=rng.randrange(0, 365 * 8))).isoformat()
        status = rng.choice(["done", "done", "done_external", "absent", "objected", "consent_given", "consent_refused"])
        staff = rng.choice(["", "", "", "N1", "A02"]) if status == "objected" else ""
        code = rng.choice(codes)
        events.append((pid, code, day, status, staff))
        if rng.random() < 0.2:
            events.append((pid, code, day, rng.choice(["done", "done_external", "consent_refused"]), staff))
    events += list(extra_events)
    conn = sqlite3.connect(ws.db_path)
    try:
        conn.executemany(
            "INSERT INTO pupils (pupil_id, school_id, pupil_number, last_name, first_name, birth_date, sex, class_name, "
            "grade, education, active, first_imported, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*r, stamp, stamp) for r in rows])
        conn.executemany(
            "INSERT OR IGNORE INTO events (pupil_id, code, date, status, staff_id, source, imported_at) "
            "VALUES (?, ?, ?, ?, ?, 'test', ?)", [(*e, stamp) for e in events])
        conn.commit()
    finally:
        conn.close()


def both_ways(ws, protocol, schools=None, statuses=STATUSES, settings=None):
    with ws.connect() as conn:
        conn.execute("BEGIN")
        pupils, events = store.load_due_inputs(conn, schools, codes=protocol.all_codes())
        plain_pupils, plain_events = store.load_pupils(conn, schools), store.load_events(conn, schools)
        conn.execute("COMMIT")
    assert pupils["pupil_id"].tolist() == plain_pupils["pupil_id"].tolist()  # the same order
    fast = compute_due(pupils, events, protocol, YEAR, AS_OF, settings, statuses=statuses)
    plain = compute_due(plain_pupils, plain_events, protocol, YEAR, AS_OF, settings, statuses=statuses)
    return fast, plain


@pytest.mark.parametrize("settings", [None, DueSettings(catch_up_missed_contacts=True)])
def test_column_wise_reading_gives_the_same_due_list(workspace, protocol, settings):
    fill(workspace)
    fast, plain = both_ways(workspace, protocol, settings=settings)
    assert len(fast) > 100
    assert records(fast) == records(plain)
    assert isinstance(fast["school_id"].dtype, pd.CategoricalDtype)
    assert fast["excluded_staff"].isin(["", "A02", "A02;N1", "N1"]).all()
    assert (fast["excluded_staff"] != "").any()  # staff objections of a code the protocol lacks count too


def test_column_wise_reading_with_a_school_filter(workspace, protocol):
    fill(workspace, seed=8)
    fast, plain = both_ways(workspace, protocol, schools=["100", "HUISONDERWIJS"])
    assert set(fast["school_id"]) <= {"100", "HUISONDERWIJS"}
    assert records(fast) == records(plain)


def test_unusual_data_falls_back_to_the_plain_reader(workspace, protocol):
    odd = (500, "100", "x", "Raar", "Graad", "2017-05-01", "M", "4A", "X9", "gewoon", 1)  # not a grade
    fill(workspace, seed=9, extra_pupils=[odd], extra_events=[(500, "L4", "2026-10-05", "absent", "")])
    fast, plain = both_ways(workspace, protocol)
    assert records(fast) == records(plain)
    assert "X9" in set(fast["grade"].dropna())


def test_one_day_done_before_done_external_whatever_the_insert_order(workspace, protocol):
    twice = (501, "100", "y", "Twee", "Records", "2020-02-01", "M", "1A", "L1", "gewoon", 1)
    fill(workspace, seed=10, extra_pupils=[twice],
         extra_events=[(501, "L1", "2026-10-01", "done_external", ""), (501, "L1", "2026-10-01", "done", "")])
    fast, plain = both_ways(workspace, protocol)
    reason = fast[(fast["pupil_id"] == 501) & (fast["moment"] == "L1")]["reason"].tolist()
    assert reason == ["done on 2026-10-01"]
    assert records(fast) == records(plain)


def test_categorical_inputs_give_the_same_rows(protocol):
    p, e = frames([pupil(1, "L1", "2020-02-01"), pupil(2, None, "2015-06-01", education="okan"),
                   pupil(3, "S1", "2014-02-01", school="200"), pupil(4, "L5", "2016-02-01")],
                  [event(1, "L1", "2026-10-01", "absent"), event(3, "HPV1", "2026-10-05", "done"),
                   event(3, "HPV1", "2026-09-10", "consent_given"), event(4, "L4", "2026-09-15", "objected", staff="N3")])
    plain = compute_due(p, e, protocol, YEAR, AS_OF, statuses=STATUSES)
    cp = p.astype({c: "category" for c in ("last_name", "first_name", "school_id", "class_name", "grade", "education")})
    cp["birth_date"] = pd.to_datetime(cp["birth_date"])
    ce = e.astype({c: "category" for c in ("code", "status", "staff_id")})
    ce["date"] = pd.to_datetime(ce["date"])
    assert records(compute_due(cp, ce, protocol, YEAR, AS_OF, statuses=STATUSES)) == records(plain)


def cell_by_cell(frame: pd.DataFrame, separator: str = ";") -> str:
    """The CSV writer as it was: csv.writer over every cell (now ';' by default, as for people)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator="\n")
    writer.writerow(frame.columns)
    for row in frame.itertuples(index=False, name=None):
        writer.writerow(["" if output._missing(v) else output._csv_cell(v) for v in row])
    return buffer.getvalue()


@pytest.mark.parametrize("separator", [";", ","])
def test_csv_fast_path_writes_what_csv_writer_writes(monkeypatch, tmp_path, separator):
    monkeypatch.setattr(output, "_CSV_CHUNK", 3)
    values = ["", "a,b", "c;d", 'q"uote', "line\nbreak", "cr\rhere", "=1+1", "+x", "-2", "@y", "\tz", " lead", "Zoë", None]
    rng = random.Random(3)
    for n in (1, 2, 7, 20):
        data = {"id": np.array([rng.randrange(-5, 10**12) for _ in range(n)], dtype=np.int64),
                "cat": pd.Categorical([rng.choice(values) for _ in range(n)]),
                "text": pd.Series([rng.choice(values) for _ in range(n)], dtype="str"),
                "cat2": pd.Categorical([rng.choice(values) for _ in range(n)])}
        frame = pd.DataFrame(data)
        assert output._csv_columns(frame, separator) is not None
        assert output._csv_text(frame, separator) == cell_by_cell(frame, separator)
        output.write_frame(frame, "csv", tmp_path / "x.csv", separator=separator)
        assert (tmp_path / "x.csv").read_bytes() == ("\ufeff" + cell_by_cell(frame, separator)).encode("utf-8")
    mixed = pd.DataFrame({"a": pd.Series([1, "x", None], dtype=object), "b": [1.5, float("nan"), -0.0]})
    assert output._csv_columns(mixed, separator) is None  # cell by cell, as before
    assert output._csv_text(mixed, separator) == cell_by_cell(mixed, separator)


def test_due_list_reads_pupils_and_events_in_one_transaction(workspace, monkeypatch):
    fill(workspace, seed=11)
    seen = []
    real = services.load_due_inputs

    def spy(conn, *args, **kwargs):
        seen.append(conn.in_transaction)
        result = real(conn, *args, **kwargs)
        seen.append(conn.in_transaction)
        return result

    monkeypatch.setattr(services, "load_due_inputs", spy)
    frame, _ = services.due_list(workspace, AS_OF)
    assert seen == [True, True] and len(frame)


def test_due_table_in_a_terminal_escapes_markup(monkeypatch):
    from clbhealth.cli import due as cli

    console = Console(file=io.StringIO(), force_terminal=True, width=250, highlight=False)
    monkeypatch.setattr(cli, "out", console)
    frame = pd.DataFrame({"pupil_id": [1], "last_name": ["[/x]"], "first_name": ["[bold]Jan"],
                          "school_id": ["100"], "class": ["1A"], "grade": ["L1"], "moment": ["L1"], "status": ["due"],
                          "reason": ["grade L1"], "due_from": [""]})
    cli.render_due_table(frame, AS_OF, ["L1"])
    text = console.file.getvalue()
    assert "[/x]" in text and "[bold]Jan" in text
