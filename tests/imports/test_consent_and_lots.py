"""import consent and import lots on their own: pupil by INSZ or school and number, dry run, RIZIV and consent state."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from clbhealth.core.errors import ClbError
from clbhealth.core.riziv import parse_riziv
from clbhealth.imports.consent import import_consent
from clbhealth.imports.lots import import_lots
from clbhealth.protocols.consent import consent_state
from tests.planfixture import build_plan_workspace

TODAY = dt.date(2026, 10, 1)


def test_pupil_by_insz_or_school_and_number_and_a_dry_run_writes_nothing(tmp_path):
    world = build_plan_workspace(tmp_path)
    path = tmp_path / "c.csv"
    path.write_text("rijksregisternummer;instellingsnummer;stamboeknummer;vaccine;choice;signed_on;signed_by\n"
                    f"{world.insz['Willems']};;;HPV;clb;2026-09-28;parent\n"
                    f";200;12;HPV1;refused;2026-09-28;pupil\n", encoding="utf-8")
    dry = import_consent(world.workspace, path, dry_run=True, today=TODAY)
    assert dry.totals["new"] == 2 and not dry.written
    with sqlite3.connect(world.root / "clbhealth.sqlite") as conn:
        assert conn.execute("SELECT count(*) FROM consent_forms").fetchone()[0] == 0
    import_consent(world.workspace, path, today=TODAY)
    again = import_consent(world.workspace, path, today=TODAY)
    assert again.totals == {"new": 0, "replaced": 0, "unchanged": 2, "older_kept": 0}


def test_an_insz_in_an_error_is_masked(tmp_path):
    world = build_plan_workspace(tmp_path)
    path = tmp_path / "c.csv"
    path.write_text("insz;vaccin;keuze;datum;ondertekend door\n85073003328;HPV;clb;28/09/2026;ouder\n",
                    encoding="utf-8")
    with pytest.raises(ClbError) as caught:
        import_consent(world.workspace, path, today=TODAY)
    text = " ".join(str(p) for p in caught.value.problems)
    assert "is not a pupil of this workspace" in text and "85073003328" not in text


def test_a_lot_of_an_unknown_product_or_a_bad_date_is_refused(tmp_path):
    world = build_plan_workspace(tmp_path)
    path = tmp_path / "l.csv"
    path.write_text("product;lot;vervaldatum;dosissen\nGardasil 9;A 1;30/06/2027;10\nGardasil 9;B1;31/02/2027;x\n",
                    encoding="utf-8")
    with pytest.raises(ClbError) as caught:
        import_lots(world.workspace, path, today=TODAY)
    where = {(p.row, p.column) for p in caught.value.problems if p.severity == "error"}
    assert {(2, "lot"), (3, "vervaldatum"), (3, "dosissen")} <= where


def test_riziv_check_digits():
    assert parse_riziv("1-23456-25-004") == "12345625004"
    assert parse_riziv(None) is None
    with pytest.raises(ValueError, match="check digits"):
        parse_riziv("12345626004")
    with pytest.raises(ValueError, match="11 digits"):
        parse_riziv("123")


def test_consent_state_latest_record_counts():
    assert consent_state([]) == "geen formulier"
    assert consent_state([("2026-09-01", "consent_refused", "HPV1"), ("2026-10-05", "done", "HPV1")]) == "toestemming"
    assert consent_state([("2026-09-01", "consent_given", "HPV1"), ("2026-09-01", "consent_refused", "HPV1")]) \
        == "geweigerd"  # on one day a refusal outranks a consent
    assert consent_state([("2026-09-01", "done_external", "HPV1")]) == "elders"
    assert consent_state([("2026-11-01", "consent_given", "HPV1")], as_of="2026-10-13") == "geen formulier"
