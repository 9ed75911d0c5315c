"""The vaccination round trip of `clbhealth demo`: consent forms, returned choices, lots, the attendance
sheet with consent, results with lots, the Vaccinnet export, and a second export that is empty."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from clbhealth.workspace.folder import Workspace


# DEMO ONLY: made-up CNK codes so that the demo's Vaccinnet export has rows. A CLB fills in the real
# codes of the products it receives in its own copy of the protocol file.
DEMO_CNK = {"Tetravac": "9900001", "M-M-RvaxPro": "9900002", "Gardasil 9": "9900003", "Boostrix": "9900004"}
# No refusal: a refusal after planning leaves the pupil in the current plan until the next `plan`,
# and `plan check` reports it (the demo's check of step 8 stays clean).
CHOICES = ("toestemming", "toestemming", "toestemming", "toestemming", "eigen arts")


def demo_riziv(n: int) -> str:
    """A made-up RIZIV number with valid check digits (DEMO ONLY)."""
    base = f"1{n:05d}"
    return f"{base}{97 - int(base) % 97:02d}004"


def _demo_protocol(workspace: Workspace) -> Workspace:
    """A copy of the bundled protocol with the demo's CNK codes, named in clbhealth.toml."""
    from importlib import resources

    text = resources.files("clbhealth.protocols").joinpath("flanders.toml").read_text(encoding="utf-8")
    for name, cnk in DEMO_CNK.items():
        start = text.index(f'name = "{name}"\n')
        text = text[:start] + text[start:].replace('cnk = ""', f'cnk = "{cnk}"  # DEMO ONLY, not a real CNK', 1)
    (workspace.root / "protocol-demo.toml").write_text(text, encoding="utf-8")
    config = workspace.root / "clbhealth.toml"
    config.write_text(config.read_text(encoding="utf-8").replace('protocol = "flanders"',
                                                                  'protocol = "protocol-demo.toml"'), encoding="utf-8")
    return Workspace.open(workspace.root)


def _first_vaccination_session(workspace: Workspace, as_of: dt.date):
    from clbhealth.exports.plan import load_sessions

    rules = workspace.protocol.rules
    followed = {r.follows for r in rules if r.follows}
    # A single-dose vaccination: a first dose of a series recorded in a kept session is planned twice
    # for its next dose by a later re-plan (reported to the planner's owner), so the demo leaves series alone.
    single = {r.code for r in rules if r.is_vaccination and r.code not in followed and not r.follows}
    with workspace.connect() as conn:
        sessions = load_sessions(conn, date_from=as_of)
    return next((s for s in sessions if sum(p.moment in single for p in s.pupils) >= 3
                 and all(m in single or not _is_vaccination(rules, m) for m in s.moments)), None)


def _is_vaccination(rules, code: str) -> bool:
    return any(r.code == code and r.is_vaccination for r in rules)


def _staff_with_riziv(workspace: Workspace, samples: Path, work: Path) -> None:
    """The sample staff list again, with a (made-up) RIZIV number for each person."""
    from clbhealth.imports.staff import import_staff

    rows = list(csv.reader(io.StringIO((samples / "staff.csv").read_text(encoding="utf-8-sig")), delimiter=";"))
    rows[0].append("riziv")
    for n, row in enumerate(rows[1:], start=1):
        row.append(demo_riziv(n))
    path = work / "staff-riziv.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows(rows)
    import_staff(workspace, path)


def _fill_sheet(sheet: Path, lot_of: dict[str, str]) -> None:
    """Like the doctor: every consented dose given with the lot of its product, the others left open."""
    from openpyxl import load_workbook

    workbook = load_workbook(sheet)
    for ws in workbook.worksheets:
        for row in ws.iter_rows(min_row=7):
            if len(row) > 15 and row[11].value == "ja" and row[2].value in lot_of:
                row[12].value, row[13].value = "ja", lot_of[row[2].value]
    workbook.save(sheet)


def vaccination_round_trip(workspace: Workspace, samples: Path, exports: Path, as_of: dt.date,
                           out, step: int) -> Workspace:
    """Run the round trip on the first vaccination session from `as_of`; returns the reopened workspace."""
    from clbhealth.exports import export_attendance
    from clbhealth.exports.consent_forms import export_consent_forms
    from clbhealth.exports.vaccinnet import export_vaccinnet
    from clbhealth.imports.consent import import_consent
    from clbhealth.imports.lots import import_lots
    from clbhealth.imports.results import import_results

    workspace = _demo_protocol(workspace)
    session = _first_vaccination_session(workspace, as_of)
    if session is None:
        out.line(f"{step}. No vaccination session planned: the vaccination round trip is skipped.")
        return workspace
    work = exports / "vaccination"
    forms = export_consent_forms(workspace, work / "consent-forms", [session.school_id], date_from=session.date,
                                 date_to=session.date, today=as_of)
    vaccinations = {r.code for r in workspace.protocol.rules if r.is_vaccination}
    doses = [p for p in session.pupils if p.moment in vaccinations]
    lines = ["leerling-id;vaccin;keuze;datum ondertekend;ondertekend door"]
    lines += [f"{p.pupil_id};{p.moment};{CHOICES[i % len(CHOICES)]};{as_of:%d/%m/%Y};ouder"
              for i, p in enumerate(doses) if i % 7 != 6]  # every seventh form does not come back
    (work / "consent.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    consent = import_consent(workspace, work / "consent.csv", today=as_of)
    expiry = (as_of + dt.timedelta(days=365)).strftime("%d/%m/%Y")
    lot_of = {code: f"DEMO{n:03d}" for n, code in enumerate(sorted({p.moment for p in doses}), start=1)}
    lot_lines = ["product;lot;vervaldatum;dosissen"] + [
        f"{workspace.protocol.products_for(code)[0].name};{lot};{expiry};200" for code, lot in lot_of.items()]
    (work / "lots.csv").write_text("\n".join(lot_lines) + "\n", encoding="utf-8")
    import_lots(workspace, work / "lots.csv", today=as_of)
    _staff_with_riziv(workspace, samples, work)
    sheet = export_attendance(workspace, work / f"attendance-{session.session_id}.xlsx", session_id=session.session_id)
    _fill_sheet(sheet, lot_of)
    results = import_results(workspace, sheet, today=session.date)
    first = export_vaccinnet(workspace, work / "vaccinnet.csv")
    second = export_vaccinnet(workspace, work / "vaccinnet-again.csv")
    out.line(f"{step}. Vaccination round trip on session {session.session_id} ({session.date}): "
              f"{len(forms) // 2} school(s) of consent letters, {sum(consent.totals.values())} forms back, "
              f"{results.totals['new']} results, {first.rows} dose(s) in {work / 'vaccinnet.csv'}; "
              f"a second Vaccinnet export has {second.rows} (only new doses are exported).")
    return workspace
