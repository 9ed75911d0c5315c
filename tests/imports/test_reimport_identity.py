"""A school that renumbers its pupils, or corrects an INSZ: the rows are the same pupils, never new
ones beside the old (which would split each pupil's history); the import asks before it says so."""

from __future__ import annotations

import datetime as dt
import sqlite3

from tests.conftest import run
from tests.imports.test_import_roster import dump, line, pupils, roster

NO_INSZ = "instellingsnummer;stamboeknummer;naam;voornaam;geboortedatum;geslacht;klas;leerjaar"
PEOPLE = [("Peeters", "Jan", dt.date(2020, 3, 5), "M"), ("Maes", "Zoë", dt.date(2020, 7, 1), "V"),
          ("Claes", "Lotte", dt.date(2019, 12, 31), "V")]


def _without_insz(path, numbers):
    lines = [";".join(["100", n, last, first, born.strftime("%d/%m/%Y"), sex, "1A", "L1"])
             for n, (last, first, born, sex) in zip(numbers, PEOPLE)]
    path.write_text("\n".join([NO_INSZ, *lines]) + "\n", encoding="utf-8")
    return path


def test_renumbered_pupils_are_refused_listed_by_a_dry_run_and_kept_with_same_pupils(tmp_path, workspace, runner):
    run(runner, "import", "roster", _without_insz(tmp_path / "a.csv", ["1", "2", "3"]), "-w", workspace.root)
    ids = {r["last_name"]: r["pupil_id"] for r in pupils(workspace)}
    conn = sqlite3.connect(workspace.db_path)
    conn.execute("INSERT INTO events (pupil_id, code, date, status, staff_id, source, imported_at) "
                 "VALUES (?, 'K1', '2017-10-01', 'done', '', 'test', 'x')", (ids["Peeters"],))
    conn.commit()
    conn.close()
    before = dump(workspace)
    renumbered = _without_insz(tmp_path / "b.csv", ["101", "102", "103"])
    refused = run(runner, "import", "roster", renumbered, "-w", workspace.root, code=1)
    assert "3 row(s) look like known pupils whose number or INSZ changed; nothing was imported" in refused.output
    assert "Peeters Jan (2020-03-05): pupil number 1 is now 101" in refused.output and "--same-pupils" in refused.output
    assert dump(workspace) == before
    dry = run(runner, "import", "roster", renumbered, "-w", workspace.root, "--dry-run", code=None)
    assert dry.exit_code in (0, 3) and "pupil number 2 is now 102" in dry.output and dump(workspace) == before
    done = run(runner, "import", "roster", renumbered, "-w", workspace.root, "--same-pupils", code=None)
    assert done.exit_code in (0, 3) and "0 new, 3 updated" in done.output and "0 left" in done.output
    rows = {r["last_name"]: r for r in pupils(workspace)}
    assert {k: r["pupil_id"] for k, r in rows.items()} == ids and rows["Peeters"]["pupil_number"] == "101"
    conn = sqlite3.connect(workspace.db_path)
    assert conn.execute("SELECT pupil_id FROM events WHERE code = 'K1'").fetchall() == [(ids["Peeters"],)]
    conn.close()


def test_a_corrected_insz_for_the_same_pupil_number_is_the_same_pupil(tmp_path, workspace, runner):
    born = dt.date(2020, 3, 5)
    run(runner, "import", "roster", roster(tmp_path / "a.csv", [line("1", "Peeters", "Jan", born, counter=1)]),
        "-w", workspace.root)
    corrected = roster(tmp_path / "b.csv", [line("1", "Peeters", "Jan", born, counter=3)])
    refused = run(runner, "import", "roster", corrected, "-w", workspace.root, code=1)
    assert "Peeters Jan (2020-03-05): the INSZ changed" in refused.output and len(pupils(workspace)) == 1
    run(runner, "import", "roster", corrected, "-w", workspace.root, "--same-pupils", code=None)
    [only] = pupils(workspace)
    assert only["insz"].startswith("200305003") and only["active"] == 1


def test_a_new_pupil_with_a_new_number_is_still_just_new(tmp_path, workspace, runner):
    run(runner, "import", "roster", _without_insz(tmp_path / "a.csv", ["1", "2", "3"]), "-w", workspace.root)
    path = tmp_path / "b.csv"
    path.write_text(_without_insz(tmp_path / "c.csv", ["1", "2", "3"]).read_text(encoding="utf-8")
                    + "100;4;Aerts;Mila;09/05/2020;V;1A;L1\n", encoding="utf-8")
    assert "1 new, 0 updated, 3 unchanged" in run(runner, "import", "roster", path, "-w", workspace.root).output


def _events_for(workspace, pupil_id):
    conn = sqlite3.connect(workspace.db_path)
    conn.execute("INSERT INTO events (pupil_id, code, date, status, staff_id, source, imported_at) "
                 "VALUES (?, 'K1', '2017-10-01', 'done', '', 'test', 'x')", (pupil_id,))
    conn.commit()
    conn.close()


def _ask_then_accept(runner, workspace, path, expected: list[str], summary: str):
    """Refused (exit 1, nothing changed), listed by --dry-run (nothing changed), accepted with --same-pupils."""
    before = dump(workspace)
    refused = run(runner, "import", "roster", path, "-w", workspace.root, code=1)
    assert "look like known pupils whose number or INSZ changed; nothing was imported" in refused.output
    assert "Traceback" not in refused.output and dump(workspace) == before
    dry = run(runner, "import", "roster", path, "-w", workspace.root, "--dry-run", code=None)
    assert dry.exit_code in (0, 3) and dump(workspace) == before
    for text in expected:
        assert text in refused.output and text in dry.output, (text, refused.output)
    done = run(runner, "import", "roster", path, "-w", workspace.root, "--same-pupils", code=None)
    assert done.exit_code in (0, 3) and summary in done.output, done.output
    return done


def test_renumbered_and_one_insz_corrected_in_the_same_file_keeps_every_history(tmp_path, workspace, runner):
    b1, b2, b3 = dt.date(2020, 3, 5), dt.date(2020, 7, 1), dt.date(2019, 12, 31)
    run(runner, "import", "roster", roster(tmp_path / "a.csv", [
        line("1", "Peeters", "Jan", b1), line("2", "Maes", "Zoë", b2, "V"), line("3", "Claes", "Lotte", b3, "V")]),
        "-w", workspace.root)
    ids = {r["last_name"]: r["pupil_id"] for r in pupils(workspace)}
    _events_for(workspace, ids["Claes"])
    both = roster(tmp_path / "b.csv", [line("101", "Peeters", "Jan", b1), line("102", "Maes", "Zoë", b2, "V"),
                                       line("103", "Claes", "Lotte", b3, "V", counter=4)])
    _ask_then_accept(runner, workspace, both, ["Claes Lotte (2019-12-31): pupil number 3 is now 103 and the INSZ "
                                               "changed"], "0 new, 3 updated, 0 unchanged, 0 moved, 0 left")
    rows = {r["last_name"]: r for r in pupils(workspace)}
    assert {k: r["pupil_id"] for k, r in rows.items()} == ids
    assert rows["Claes"]["pupil_number"] == "103" and rows["Claes"]["insz"].startswith("191231004")
    conn = sqlite3.connect(workspace.db_path)
    assert conn.execute("SELECT pupil_id FROM events WHERE code = 'K1'").fetchall() == [(ids["Claes"],)]
    conn.close()


def test_renumbered_file_with_one_insz_corrected_under_its_old_number(tmp_path, workspace, runner):
    b1, b2 = dt.date(2020, 3, 5), dt.date(2020, 7, 1)
    run(runner, "import", "roster", roster(tmp_path / "a.csv", [line("1", "Peeters", "Jan", b1),
                                                                line("2", "Maes", "Zoë", b2, "V")]),
        "-w", workspace.root)
    ids = {r["last_name"]: r["pupil_id"] for r in pupils(workspace)}
    both = roster(tmp_path / "b.csv", [line("101", "Peeters", "Jan", b1), line("2", "Maes", "Zoë", b2, "V", counter=4)])
    _ask_then_accept(runner, workspace, both, ["Maes Zoë (2020-07-01): the INSZ changed"],
                     "0 new, 2 updated, 0 unchanged, 0 moved, 0 left")
    assert {r["last_name"]: r["pupil_id"] for r in pupils(workspace)} == ids


def test_numbers_shifted_by_one_are_renumbered_pupils_not_renamed_ones(tmp_path, workspace, runner):
    """1, 2, 3 -> 2, 3, 4: pupil number 2 now belongs to Peeters; Maes must not become Peeters."""
    run(runner, "import", "roster", _without_insz(tmp_path / "a.csv", ["1", "2", "3"]), "-w", workspace.root)
    ids = {r["last_name"]: r["pupil_id"] for r in pupils(workspace)}
    _events_for(workspace, ids["Maes"])
    shifted = _without_insz(tmp_path / "b.csv", ["2", "3", "4"])
    _ask_then_accept(runner, workspace, shifted, ["Peeters Jan (2020-03-05): pupil number 1 is now 2",
                                                  "Maes Zoë (2020-07-01): pupil number 2 is now 3"],
                     "0 new, 3 updated, 0 unchanged, 0 moved, 0 left")
    rows = {r["last_name"]: r for r in pupils(workspace)}
    assert {k: r["pupil_id"] for k, r in rows.items()} == ids and rows["Maes"]["pupil_number"] == "3"
    conn = sqlite3.connect(workspace.db_path)
    assert conn.execute("SELECT pupil_id FROM events WHERE code = 'K1'").fetchall() == [(ids["Maes"],)]
    conn.close()


def test_renumbered_without_insz_and_one_insz_added_later_is_still_one_pupil(tmp_path, workspace, runner):
    """A roster with neither numbers nor INSZ, then one with both: the same pupils, numbers and INSZ added."""
    path = tmp_path / "a.csv"
    path.write_text("instellingsnummer;naam;voornaam;geboortedatum;geslacht;klas;leerjaar\n"
                    "100;Peeters;Jan;05/03/2020;M;1A;L1\n100;Maes;Zoë;01/07/2020;V;1A;L1\n", encoding="utf-8")
    run(runner, "import", "roster", path, "-w", workspace.root)
    ids = {r["last_name"]: r["pupil_id"] for r in pupils(workspace)}
    full = roster(tmp_path / "b.csv", [line("7", "Peeters", "Jan", dt.date(2020, 3, 5)),
                                       line("8", "Maes", "Zoë", dt.date(2020, 7, 1), "V")])
    done = run(runner, "import", "roster", full, "-w", workspace.root, code=None)
    assert done.exit_code in (0, 3) and "0 new, 2 updated" in done.output and "0 left" in done.output
    assert {r["last_name"]: r["pupil_id"] for r in pupils(workspace)} == ids


def test_a_corrected_insz_in_a_roster_without_numbers_asks_too(tmp_path, workspace, runner):
    header = "instellingsnummer;rijksregisternummer;naam;voornaam;geboortedatum;geslacht;klas;leerjaar\n"
    born = dt.date(2020, 3, 5)

    def write(name, counter):
        from clbhealth.samples.generator import insz_for
        p = tmp_path / name
        p.write_text(header + f"100;{insz_for(born, counter)};Peeters;Jan;05/03/2020;M;1A;L1\n", encoding="utf-8")
        return p

    run(runner, "import", "roster", write("a.csv", 1), "-w", workspace.root)
    [before] = pupils(workspace)
    _ask_then_accept(runner, workspace, write("b.csv", 3), ["Peeters Jan (2020-03-05): the INSZ changed"],
                     "0 new, 1 updated")
    [after] = pupils(workspace)
    assert after["pupil_id"] == before["pupil_id"] and after["insz"] != before["insz"]
