"""`clbhealth export consent-forms`: the consent letters for planned vaccinations, and per school a class list.

Per school a PDF (A4) with one letter per pupil and vaccine, in Dutch: the CLB's name and contact,
the pupil, class and leerling-id (typed back in `clbhealth import consent`), the vaccine and what it
protects against in plain words, the session's date, the three choices (by the CLB / by our own
doctor / already vaccinated, with date), the signature of a parent or the pupil and the date to
return the form by. Plus per school a class list to hand the forms out and tick "formulier terug":
names and class only, never a choice. No INSZ, no health data beyond the vaccine offered.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from fpdf import FPDF

from clbhealth.core.dates import dutch_short_date
from clbhealth.core.errors import ClbError
from clbhealth.core.files import write_bytes_atomic
from clbhealth.core.staging import staged_files
from clbhealth.core.filenames import distinct_stems, file_stem
from clbhealth.exports.plan import Site, load_sessions, load_sites, require_plan
from clbhealth.workspace.folder import Workspace

RETURN_DAYS = 7  # [I] the form comes back a week before the session (or within 3 days when that has passed)
CHOICES = (
    "Ja, ik geef toestemming: het CLB mag mijn kind vaccineren.",
    "Nee, mijn kind wordt gevaccineerd door onze eigen arts (huisarts of kinderarts).",
    "Mijn kind is al gevaccineerd op (datum): ....................................",
    "Nee, ik geef geen toestemming.",
)


@dataclass(frozen=True)
class Letter:
    school_id: str
    session_date: dt.date
    pupil_id: int
    last_name: str
    first_name: str
    class_name: str
    code: str


def consent_letters(workspace: Workspace, schools: Sequence[str] | None, moment: str | None,
                    date_from: dt.date | None, date_to: dt.date | None) -> tuple[list[Letter], dict[str, Site]]:
    """One letter per pupil and planned vaccination dose in the filter (a series gets one letter)."""
    protocol = workspace.protocol
    vaccinations = {r.code for r in protocol.rules if r.is_vaccination}
    if moment is not None and moment not in vaccinations:
        raise ClbError(f"--moment {moment} is not a vaccination.", hint="Use one of: " + ", ".join(sorted(vaccinations)))
    with workspace.connect() as conn:
        require_plan(conn)
        sessions = load_sessions(conn, date_from=date_from, date_to=date_to, schools=schools,
                                 current_pupils_only=True)
        sites = load_sites(workspace, conn)
    letters: dict[tuple[int, str], Letter] = {}
    for session in sessions:
        for p in session.pupils:
            if p.moment not in vaccinations or (moment is not None and p.moment != moment):
                continue
            key = (p.pupil_id, protocol.series_of(p.moment))
            if key not in letters:
                letters[key] = Letter(session.school_id, session.date, p.pupil_id, p.last_name, p.first_name,
                                      p.class_name, p.moment)
    return sorted(letters.values(), key=lambda x: (x.school_id, x.class_name, x.last_name, x.first_name, x.code)), sites


def export_consent_forms(workspace: Workspace, out_dir: Path, schools: Sequence[str] | None = None,
                         moment: str | None = None, date_from: dt.date | None = None,
                         date_to: dt.date | None = None, *, today: dt.date | None = None) -> list[Path]:
    """Write DIR/<school>-toestemming.pdf (the letters) and DIR/<school>-klaslijst.pdf per school."""
    workspace.require_writable()  # refused before a file is written, never after
    today = today or dt.date.today()
    letters, sites = consent_letters(workspace, schools, moment, date_from, date_to)
    if not letters:
        raise ClbError("No planned vaccinations in this selection: no consent forms to write.",
                       hint="Check --school, --moment and --from/--to, or run `clbhealth plan` first.")
    out_dir = Path(out_dir)
    paths: list[Path] = []
    school_ids = list(dict.fromkeys(letter.school_id for letter in letters))
    stems = distinct_stems((sid, file_stem(sid, (sites.get(sid) or Site(sid, sid)).name)) for sid in school_ids)
    targets = [out_dir / f"{stems[sid]}-{part}.pdf" for sid in school_ids for part in ("toestemming", "klaslijst")]
    with staged_files(out_dir, "pdf", targets) as stage:  # all letters or none; a clashing file refuses first
        for school_id in school_ids:
            mine = [letter for letter in letters if letter.school_id == school_id]
            site = sites.get(school_id) or Site(school_id, school_id)
            name = stems[school_id]
            paths.append(out_dir / f"{name}-toestemming.pdf")
            write_bytes_atomic(stage(paths[-1]), _letters_pdf(workspace, site, mine, today))
            paths.append(out_dir / f"{name}-klaslijst.pdf")
            write_bytes_atomic(stage(paths[-1]), _class_list_pdf(workspace, site, mine, today))
    workspace.audit("export consent-forms", [str(p) for p in paths],
                    {"letters": len(letters), "schools": len(paths) // 2})
    return paths


def return_by(session_date: dt.date, today: dt.date) -> dt.date:
    return max(session_date - dt.timedelta(days=RETURN_DAYS), min(today + dt.timedelta(days=3), session_date))


def _pdf() -> FPDF:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=18)
    pdf.set_margins(20, 18, 20)
    return pdf


def _text(text: str) -> str:
    """Core PDF fonts hold Latin-1: replace the few typographic characters outside it."""
    return text.replace("–", "-").replace("—", "-").replace("’", "'").replace("…", "...").encode(
        "latin-1", "replace").decode("latin-1")


def _letters_pdf(workspace: Workspace, site: Site, letters: list[Letter], today: dt.date) -> bytes:
    pdf = _pdf()
    config = workspace.config
    office = config.office
    for letter in letters:
        rule = workspace.protocol.rule(letter.code, config.school_year)
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 14)
        pdf.cell(0, 8, _text(config.clb_name), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        contact = ", ".join(x for x in (office.name, office.address) if x)
        pdf.cell(0, 5, _text(contact), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(6)
        pdf.set_font("Helvetica", "B", 13)
        series = (rule.series if rule else None) or letter.code
        pdf.cell(0, 8, _text(f"Toestemming voor de vaccinatie {series}"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 11)
        pdf.ln(2)
        for label, value in (("Leerling", f"{letter.first_name} {letter.last_name}"), ("Klas", letter.class_name),
                             ("School", site.name), ("Leerling-id", str(letter.pupil_id)),
                             ("Vaccinatie op", dutch_short_date(letter.session_date))):
            pdf.cell(40, 6, _text(label + ":"))
            pdf.cell(0, 6, _text(value), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
        disease = (rule.disease if rule else None) or series
        pdf.multi_cell(0, 5.5, _text(
            f"Beste ouder, beste leerling. Het CLB biedt gratis de vaccinatie {series} aan. Ze beschermt tegen "
            f"{disease}. Het CLB vaccineert nooit zonder schriftelijke toestemming. Kruis hieronder één keuze aan "
            "en geef het formulier terug aan de school."), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
        for choice in CHOICES:
            y = pdf.get_y()
            pdf.rect(pdf.l_margin, y + 1, 4, 4)
            pdf.set_x(pdf.l_margin + 7)
            pdf.multi_cell(0, 6, _text(choice), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
        pdf.ln(4)
        pdf.cell(0, 6, _text("Ondertekend door:   [ ] een ouder     [ ] de leerling zelf"),
                 new_x="LMARGIN", new_y="NEXT")
        pdf.cell(0, 8, _text("Naam: ..................................................   Datum: ....../....../.........."),
                 new_x="LMARGIN", new_y="NEXT")
        pdf.cell(0, 12, _text("Handtekening: ..............................................."),
                 new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
        pdf.set_font("Helvetica", "B", 11)
        due = return_by(letter.session_date, today)
        pdf.cell(0, 6, _text(f"Graag terugbezorgen aan de school vóór {dutch_short_date(due)}."),
                 new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _class_list_pdf(workspace: Workspace, site: Site, letters: list[Letter], today: dt.date) -> bytes:
    """Names and class only, to hand the forms out and tick 'formulier terug' (never a choice)."""
    pdf = _pdf()
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(0, 8, _text(f"{site.name}: toestemmingsformulieren vaccinatie"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(0, 6, _text(f"{workspace.config.clb_name} · lijst van {dutch_short_date(today)} · vink aan wanneer het "
                         "formulier terug is en bezorg de formulieren aan het CLB."), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    widths = (25, 55, 45, 25, 20)
    headers = ("Klas", "Naam", "Voornaam", "Vaccin", "Formulier terug")
    pdf.set_font("Helvetica", "B", 10)
    for w, h in zip(widths, headers):
        pdf.cell(w, 7, _text(h), border=1)
    pdf.ln()
    pdf.set_font("Helvetica", "", 10)
    for letter in letters:
        series = workspace.protocol.series_of(letter.code)
        for w, value in zip(widths, (letter.class_name, letter.last_name, letter.first_name, series, "")):
            pdf.cell(w, 7, _text(value), border=1)
        pdf.ln()
    return bytes(pdf.output())
