"""The vaccination round trip through the CLI (issue 11): plan -> consent forms -> import consent ->
attendance sheet with consent -> import results with lots -> vaccinnet export -> a second export is empty.
Bad consent, results and lot files get row errors and change nothing."""

from __future__ import annotations

import csv
import os
import sqlite3
from importlib import resources

import pytest
from openpyxl import load_workbook

from tests.conftest import run
from tests.exports.test_attendance import fill_doses
from tests.planfixture import build_plan_workspace

CNK = {"Tetravac": "1111111", "M-M-RvaxPro": "2222222", "Gardasil 9": "3333333", "Boostrix": "4444444"}  # test values
RIZIV = "12345625004"  # 123456 + check digits 25 + qualification 004


@pytest.fixture
def world(tmp_path):
    world = build_plan_workspace(tmp_path)
    text = resources.files("clbhealth.protocols").joinpath("flanders.toml").read_text(encoding="utf-8")
    for name, cnk in CNK.items():  # the CLB fills in the CNK codes in its own copy of the protocol
        text = text.replace(f'name = "{name}"\ncodes', f'name = "{name}"\ncodes', 1)
        start = text.index(f'name = "{name}"\n')
        text = text[:start] + text[start:].replace('cnk = ""', f'cnk = "{cnk}"', 1)
    (world.root / "protocol.toml").write_text(text, encoding="utf-8")
    config = world.root / "clbhealth.toml"
    config.write_text(config.read_text(encoding="utf-8").replace('protocol = "flanders"', 'protocol = "protocol.toml"'),
                      encoding="utf-8")
    with sqlite3.connect(world.root / "clbhealth.sqlite") as conn:
        conn.execute("UPDATE staff SET riziv = ? WHERE staff_id = 'D01'", (RIZIV,))
    return world


def state(world) -> tuple:
    with sqlite3.connect(world.root / "clbhealth.sqlite") as conn:
        return tuple(conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2, 3").fetchall()
                     for t in ("events", "consent_forms", "lots", "doses", "session_pupils"))


def test_round_trip(world, tmp_path, runner):
    p, ws = world.pupils, world.root
    forms = tmp_path / "forms"
    result = run(runner, "export", "consent-forms", "-w", ws, "--moment", "HPV1", "--as-of", "2026-09-25", "-o", forms)
    assert "1 school(s)" in result.output
    letters = forms / "200-atheneum-twee-toestemming.pdf"
    assert letters.read_bytes()[:5] == b"%PDF-" and letters.read_bytes().count(b"/Type /Page\n") == 2
    assert (forms / "200-atheneum-twee-klaslijst.pdf").exists()

    consent = tmp_path / "consent.csv"
    consent.write_text("leerling-id;vaccin;keuze;datum ondertekend;ondertekend door\n"
                       f"{p['Willems']};HPV;toestemming;28/09/2026;ouder\n"
                       f"{p['Goossens']};HPV;geweigerd;29/09/2026;leerling\n", encoding="utf-8")
    run(runner, "import", "consent", consent, "-w", ws, "--as-of", "2026-10-01")
    lots = tmp_path / "lots.csv"
    lots.write_text("product;lot;vervaldatum;dosissen\nGardasil 9;G9A1;30/06/2027;50\n"
                    "Gardasil 9;G9OLD;01/09/2026;10\n", encoding="utf-8")
    run(runner, "import", "lots", lots, "-w", ws, "--as-of", "2026-10-01")
    listed = run(runner, "lots", "-w", ws, "--as-of", "2026-10-01").output
    assert "G9A1" in listed and "G9OLD" in listed
    order = tmp_path / "order.xlsx"
    run(runner, "export", "vaccine-order", "-w", ws, "-o", order, "--from", "2026-10-01", "--to", "2026-10-31")
    ordered = [r for r in load_workbook(order)["Bestelling"].iter_rows(min_row=5, values_only=True) if r[0]]
    by_product = {r[1]: r for r in ordered}
    # HPV: Willems consented, Goossens refused; DTPa-IPV and MMR2: no form yet (expected); only valid lots count
    assert by_product["Gardasil 9"][:8] == ("2026-10-12", "Gardasil 9", "HPV1", 1, 0, 1, "G9A1: 50", 50)
    assert by_product["Tetravac"][3:6] == (0, 3, 3) and by_product["Tetravac"][6] == "geen lot"

    sheet = tmp_path / "hpv.xlsx"
    run(runner, "export", "attendance", "-w", ws, "--session", "S000004", "--out", sheet)
    rows = {r[3]: r for r in load_workbook(sheet)["S000004"].iter_rows(min_row=7, values_only=True)}
    assert rows["Willems"][10:12] == ("toestemming", "ja") and rows["Goossens"][10:12] == ("geweigerd", "nee")
    assert "Gardasil 9: lot G9A1 (tot 2027-06-30)" in load_workbook(sheet)["S000004"]["A3"].value
    fill_doses(sheet, {("Willems", "HPV1"): {"given": "ja", "lot": "G9A1"},
                       ("Goossens", "HPV1"): {"given": "nee", "why_not": "afwezig"}})
    result = run(runner, "import", "results", sheet, "-w", world.root)
    assert "1 new" not in result.output and "2 new" in result.output

    registration = tmp_path / "vaccinnet.csv"
    result = run(runner, "export", "vaccinnet", "-w", ws, "-o", registration)
    assert "Wrote 1 dose(s)" in result.output
    with open(registration, encoding="utf-8", newline="") as handle:
        lines = list(csv.reader(handle, delimiter=";"))
    assert lines[0] == ["insz", "family_name", "first_names", "birth_date", "sex", "product_name", "product_cnk",
                        "date_given", "lot_number", "vaccinator_riziv", "place"]
    assert lines[1] == [world.insz["Willems"], "Willems", "Emma", "2014-01-15", "V", "Gardasil 9", "3333333",
                        "2026-10-13", "G9A1", RIZIV, "school"]
    if os.name == "posix":
        assert registration.stat().st_mode & 0o777 == 0o600
    second = tmp_path / "second.csv"
    assert "No doses to register" in run(runner, "export", "vaccinnet", "-w", ws, "-o", second).output
    assert not second.exists()
    again = run(runner, "export", "vaccinnet", "-w", ws, "-o", second, "--again", "--from", "2026-10-13")
    assert "Wrote 1 dose(s)" in again.output
    assert "G9A1" in run(runner, "lots", "-w", ws, "--as-of", "2026-10-20").output


def test_bad_files_get_row_errors_and_change_nothing(world, tmp_path, runner):
    p, ws = world.pupils, world.root
    before = state(world)
    bad = tmp_path / "bad-consent.csv"
    bad.write_text("leerling-id;vaccin;keuze;datum ondertekend;ondertekend door\n"
                   f"{p['Willems']};HPV;toestemming;28/09/2026;ouder\n"
                   f"{p['Goossens']};griep;misschien;31/02/2026;buurman\n"
                   "999999;HPV;geweigerd;29/09/2026;ouder\n", encoding="utf-8")
    result = run(runner, "import", "consent", bad, "-w", ws, "--as-of", "2026-10-01", code=1)
    for text in ("row 3, column 'vaccin'", "row 3, column 'keuze'", "row 3, column 'datum ondertekend'",
                 "row 3, column 'ondertekend door'", "row 4, column 'leerling-id'", "nothing was imported"):
        assert text in result.output, text
    bad_lots = tmp_path / "bad-lots.csv"
    bad_lots.write_text("product;lot;vervaldatum\nGardasil 9;G9A1;30/06/2027\nAspirine;X1;30/06/2027\n"
                        "Gardasil 9;;30/06/2027\nGardasil 9;G9A1;01/01/2028\n", encoding="utf-8")
    result = run(runner, "import", "lots", bad_lots, "-w", ws, code=1)
    for text in ("row 3, column 'product'", "row 4, column 'lot'", "row 5, column 'lot'"):
        assert text in result.output, text
    assert state(world) == before

    consent = tmp_path / "consent.csv"
    consent.write_text("leerling-id;vaccin;keuze;datum ondertekend;ondertekend door\n"
                       f"{p['Willems']};HPV;clb;28/09/2026;ouder\n", encoding="utf-8")
    run(runner, "import", "consent", consent, "-w", ws, "--as-of", "2026-10-01")
    lots = tmp_path / "lots.csv"
    lots.write_text("product;lot;vervaldatum\nGardasil 9;G9A1;30/06/2027\nGardasil 9;G9OLD;01/09/2026\n",
                    encoding="utf-8")
    run(runner, "import", "lots", lots, "-w", ws, "--as-of", "2026-10-01")
    sheet = tmp_path / "hpv.xlsx"
    run(runner, "export", "attendance", "-w", ws, "--session", "S000004", "--out", sheet)
    before = state(world)
    for doses, expected in (
        ({("Goossens", "HPV1"): {"given": "ja", "lot": "G9A1"}}, "without consent on record (geen formulier)"),
        ({("Willems", "HPV1"): {"given": "ja", "lot": "NOPE"}}, "is not a lot on record for Gardasil 9"),
        ({("Willems", "HPV1"): {"given": "ja", "lot": "G9OLD"}}, "expired on 2026-09-01"),
        ({("Willems", "HPV1"): {"given": "ja"}}, "is empty for a dose given"),
        ({("Willems", "HPV1"): {"given": "nee"}}, "is empty while the dose was not given"),
    ):
        filled = tmp_path / "filled.xlsx"
        filled.write_bytes(sheet.read_bytes())
        fill_doses(filled, doses)
        result = run(runner, "import", "results", filled, "-w", ws, code=1)
        assert expected in result.output and "nothing was imported" in result.output
        assert state(world) == before


def test_a_later_form_replaces_an_earlier_one_and_the_audit_says_so(world, tmp_path, runner):
    p, ws = world.pupils, world.root
    first = tmp_path / "first.csv"
    first.write_text("leerling-id;vaccin;keuze;datum ondertekend;ondertekend door\n"
                     f"{p['Willems']};HPV;geweigerd;20/09/2026;ouder\n", encoding="utf-8")
    run(runner, "import", "consent", first, "-w", ws, "--as-of", "2026-10-01")
    later = tmp_path / "later.csv"
    later.write_text("leerling-id;vaccin;keuze;datum ondertekend;ondertekend door;datum vaccinatie\n"
                     f"{p['Willems']};HPV1;al gevaccineerd;27/09/2026;leerling;01/06/2026\n"
                     f"{p['Goossens']};HPV;eigen arts;27/09/2026;ouder;\n", encoding="utf-8")
    result = run(runner, "import", "consent", later, "-w", ws, "--as-of", "2026-10-01")
    assert "1 new, 1 replaced" in result.output
    with sqlite3.connect(world.root / "clbhealth.sqlite") as conn:
        events = conn.execute("SELECT pupil_id, code, date, status FROM events WHERE source LIKE 'consent form%' "
                              "ORDER BY 1").fetchall()
        forms = conn.execute("SELECT pupil_id, choice, replaced_by IS NOT NULL FROM consent_forms ORDER BY 1, 3").fetchall()
        audit = conn.execute("SELECT counts FROM audit WHERE command = 'import consent' ORDER BY audit_id").fetchall()
    assert sorted(events) == sorted([(p["Willems"], "HPV1", "2026-06-01", "done_external"),
                                     (p["Goossens"], "HPV1", "2026-09-27", "done_external")])
    assert (p["Willems"], "refused", 1) in forms and (p["Willems"], "already", 0) in forms  # history kept
    assert '"replaced": 1' in audit[-1][0]
    due = run(runner, "due", "-w", ws, "--as-of", "2026-10-02", "--all", "--school", "200").output
    assert "done externally on 2026-06-01" in due


def test_the_demo_runs_the_round_trip(tmp_path, runner):
    result = run(runner, "demo", tmp_path / "demo", "--as-of", "2026-12-01", "--time-limit", "3")
    assert "Vaccination round trip on session" in result.output
    assert "a second Vaccinnet export has 0" in result.output
    exported = tmp_path / "demo" / "exports" / "vaccination" / "vaccinnet.csv"
    assert len(exported.read_text(encoding="utf-8").splitlines()) > 1
    assert not (tmp_path / "demo" / "exports" / "vaccination" / "vaccinnet-again.csv").exists()


def test_vaccinnet_names_a_dose_that_cannot_be_registered(world, tmp_path, runner):
    p, ws = world.pupils, world.root
    (tmp_path / "c.csv").write_text("leerling-id;vaccin;keuze;datum ondertekend;ondertekend door\n"
                                    f"{p['Willems']};HPV;clb;28/09/2026;ouder\n{p['Goossens']};HPV;clb;28/09/2026;ouder\n",
                                    encoding="utf-8")
    run(runner, "import", "consent", tmp_path / "c.csv", "-w", ws, "--as-of", "2026-10-01")
    (tmp_path / "l.csv").write_text("product;lot;vervaldatum\nGardasil 9;G9A1;30/06/2027\n", encoding="utf-8")
    run(runner, "import", "lots", tmp_path / "l.csv", "-w", ws, "--as-of", "2026-10-01")
    sheet = tmp_path / "hpv.xlsx"
    run(runner, "export", "attendance", "-w", ws, "--session", "S000004", "--out", sheet)
    fill_doses(sheet, {("Willems", "HPV1"): {"given": "ja", "lot": "G9A1"},
                       ("Goossens", "HPV1"): {"given": "ja", "lot": "G9A1", "vaccinator": "N02"}})
    run(runner, "import", "results", sheet, "-w", ws)
    out = tmp_path / "v.csv"
    refused = run(runner, "export", "vaccinnet", "-w", ws, "-o", out, code=1)
    assert "vaccinator N02 has no RIZIV number" in refused.output and "nothing was exported" in refused.output
    assert not out.exists()
    skipped = run(runner, "export", "vaccinnet", "-w", ws, "-o", out, "--skip-invalid", code=3)
    assert "Wrote 1 dose(s)" in skipped.output and "1 dose(s) could not be registered" in skipped.output
    with sqlite3.connect(world.root / "clbhealth.sqlite") as conn:
        left = conn.execute("SELECT pupil_id FROM doses WHERE registered_at IS NULL AND given = 1").fetchall()
    assert left == [(p["Goossens"],)]  # the skipped dose stays to register once fixed
