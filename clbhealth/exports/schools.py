"""`clbhealth export schools`: one workbook per school site for the school's care coordinator.

Sheet `Planning` lists the sessions (date, day, hours, classes, contact moments or vaccinations in
words, CLB staff, location); one sheet per session lists its pupils. Parents of K1 pupils are
invited, so K1 pupils have individual times; other sessions list the pupils by class. Only fields
on the allow-list of `clbhealth.exports.privacy` are written.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Sequence

from openpyxl.styles import Font
from openpyxl.worksheet.hyperlink import Hyperlink

from clbhealth.core.dates import dutch_date, dutch_short_date
from clbhealth.core.filenames import distinct_stems, file_stem
from clbhealth.core.staging import staged_files
from clbhealth.exports import privacy
from clbhealth.exports.consent_forms import return_by
from clbhealth.exports.plan import (
    PART_WORDS,
    MomentWords,
    Session,
    Site,
    birth_text,
    load_sessions,
    load_sites,
    require_plan,
    sheet_label,
)
from clbhealth.exports.workbook import new_workbook, save_workbook, table_sheet
from clbhealth.workspace.pupils import resolve_school_ids
from clbhealth.workspace.folder import Workspace

LINK_FONT = Font(color="0563C1", underline="single")


def school_file_names(sites: list[Site]) -> dict[str, str]:
    """school_id -> '<school_id>-<name-slug>.xlsx', distinct even where two ids look alike."""
    stems = distinct_stems((site.school_id, file_stem(site.school_id, site.name)) for site in sites)
    return {school_id: f"{stem}.xlsx" for school_id, stem in stems.items()}


def resolve_schools(workspace: Workspace, conn, schools: Sequence[str] | None) -> list[str] | None:
    """School ids as given on the command line, checked; None means every school with sessions."""
    return resolve_school_ids(conn, schools) or None


def export_school_workbooks(
    workspace: Workspace,
    out_dir: Path,
    schools: Sequence[str] | None = None,
    *,
    exported: dt.date | None = None,
) -> list[Path]:
    """Write DIR/<school_id>-<name-slug>.xlsx per school site; return the paths written."""
    workspace.require_writable()  # refused before a file is written, never after
    exported = exported or dt.date.today()
    out_dir = Path(out_dir)
    with workspace.connect() as conn:
        require_plan(conn)
        wanted = resolve_schools(workspace, conn, schools)
        sites = load_sites(workspace, conn)
        sessions = load_sessions(conn, schools=wanted, current_pupils_only=True)
    words = MomentWords(workspace.protocol, workspace.config.school_year)
    by_school: dict[str, list[Session]] = {school: [] for school in (wanted or [])}
    for session in sessions:
        by_school.setdefault(session.school_id, []).append(session)
    paths = []
    chosen = [sites.get(school_id) or Site(school_id, school_id) for school_id in sorted(by_school)]
    names = school_file_names(chosen)
    targets = [out_dir / names[site.school_id] for site in chosen]  # a clashing file refuses before any is made
    with staged_files(out_dir, "xlsx", targets) as stage:  # all workbooks or none (disk full, read-only)
        for site in chosen:
            workbook = school_workbook(workspace, site, by_school[site.school_id], words, exported)
            save_workbook(workbook, stage(out_dir / names[site.school_id]))
            paths.append(out_dir / names[site.school_id])
    workspace.audit("export schools", [str(p) for p in paths],
                    {"schools": len(paths), "sessions": sum(len(v) for v in by_school.values())})
    return paths


def school_workbook(workspace: Workspace, site: Site, sessions: list[Session], words: MomentWords,
                    exported: dt.date):
    """Info (the CLB's contact, what the school does and by when), Planning, and a sheet per session;
    portrait A4, printed at 9 pt or more."""
    clb = workspace.config.clb_name
    workbook = new_workbook()
    info_sheet(workbook, workspace, site, sessions, words, exported)
    labels = _sheet_names(sessions)
    planning_rows = [privacy.row(
        datum=dutch_date(session.date), dag=PART_WORDS.get(session.part, session.part), uur=session.hours,
        klas=", ".join(session.classes), moment=words.join(session.moments), medewerkers=session.staff_names,
        aantal=_count_for_school(session, words), blad=labels[session.session_id]) for session in sessions]
    heading = [
        f"{site.name}: planning van de CLB-contacten {workspace.config.school_year}",
        f"{clb} · {site.location}",
        *_contact_lines(workspace, site),
        (f"Export {dutch_short_date(exported)}. Per sessie een blad met de leerlingen."
         if sessions else f"Export {dutch_short_date(exported)}. Er zijn geen sessies gepland."),
    ]
    columns = privacy.columns("datum", "dag", "uur", "klas", "moment", "medewerkers", "aantal", "blad",
                              headers={"dag": "Dagdeel", "aantal": "Aantal"})
    ws, header_row, last = table_sheet(workbook, "Planning", columns, planning_rows, heading=heading,
                                       clb_name=clb, exported=exported, landscape=False,
                                       wrap=("klas", "moment", "medewerkers"))
    link_col = len(columns)
    for r, session in zip(range(header_row + 1, last + 1), sessions):
        cell = ws.cell(row=r, column=link_col)
        cell.hyperlink = Hyperlink(ref=cell.coordinate, location=f"'{labels[session.session_id]}'!A1")
        cell.font = LINK_FONT
    for session in sessions:
        parents = any(workspace.protocol.parents_invited(m) for m in session.moments)
        session_sheet(workbook, site, session, words, labels[session.session_id], clb, exported, parents)
    return workbook


def info_sheet(workbook, workspace: Workspace, site: Site, sessions: list[Session], words: MomentWords,
               exported: dt.date) -> None:
    """The first sheet: who the CLB is and how to reach it, and what the school does by when."""
    office = workspace.config.office
    place = office.address
    reach = _reach(office.phone, office.email)
    heading = [
        f"{workspace.config.clb_name}: CLB-contacten {workspace.config.school_year} in {site.name}",
        f"CLB: {office.name or workspace.config.clb_name}" + (f", {place}" if place else ""),
        f"Bereikbaar: {reach}" if reach else "Bereikbaar: zie de website van het CLB",
        f"School: {site.address or site.name}",
        f"Export {dutch_short_date(exported)}. De planning staat op het volgende blad, elke sessie op een eigen blad.",
    ]
    rows = [privacy.row(taak=task, uiterlijk=dutch_date(by) if by else "") for task, by in
            school_tasks(workspace, sessions, words, exported)]
    table_sheet(workbook, "Info", privacy.columns("taak", "uiterlijk"), rows, heading=heading,
                clb_name=workspace.config.clb_name, exported=exported, landscape=False, wrap=("taak",))


def school_tasks(workspace: Workspace, sessions: list[Session], words: MomentWords,
                 exported: dt.date) -> list[tuple[str, dt.date | None]]:
    """What the school does for these sessions, each with the day it must be done by."""
    if not sessions:
        return [("Er zijn nog geen sessies gepland; het CLB laat weten wanneer het komt.", None)]
    first = min(s.date for s in sessions)
    tasks = [
        ("Controleer de klassen en leerlingen op de bladen per sessie en meld nieuwe of vertrokken "
         "leerlingen aan het CLB.", max(exported, first - dt.timedelta(days=7))),
        ("Zorg voor een rustig lokaal met een tafel, stoelen en een stopcontact, een wastafel in de buurt, "
         "vanaf het beginuur van elke sessie (zie Planning).", first),
        ("Laat de klassen op het aangegeven uur komen; een leerling die er die dag niet is, haalt het CLB later in.",
         first),
    ]
    vaccinations = [s for s in sessions if any(words.is_vaccination(m) for m in s.moments)]
    if vaccinations:
        day = min(s.date for s in vaccinations)
        # Worded without "toestemming": a school file never speaks of any pupil's consent.
        tasks.insert(1, ("Geef de brieven van het CLB over de vaccinatie aan de leerlingen mee naar huis en bezorg "
                         "de ingevulde antwoordstroken terug aan het CLB (zonder ingevulde strook geen vaccin).",
                         _school_day(return_by(day, exported), exported)))
    invited = [s for s in sessions if any(workspace.protocol.parents_invited(m) for m in s.moments)]
    if invited:
        day = min(s.date for s in invited)
        tasks.insert(1, ("De ouders van de kleuters zijn uitgenodigd, elk kind op een eigen tijdstip: geef de "
                         "uitnodiging van het CLB mee en wijs de ouders die dag de weg naar het lokaal.",
                         max(exported, day - dt.timedelta(days=14))))
    return tasks


def _school_day(day: dt.date, earliest: dt.date) -> dt.date:
    """A Saturday or Sunday deadline moves to the Friday before (not before `earliest`)."""
    friday = day - dt.timedelta(days=max(0, day.weekday() - 4))
    return max(friday, min(earliest, day))


def _contact_lines(workspace: Workspace, site: Site) -> list[str]:
    """The school's own contact as the official list gives it, and the CLB office's address."""
    lines = []
    school = _reach(site.phone, site.email)
    if school and site.venue == "":
        lines.append(f"School: {site.address} · {school}")
    office = workspace.config.office
    place = office.address
    if place:
        lines.append(f"CLB: {office.name or workspace.config.clb_name}, {place}")
    return lines


def _reach(phone: str | None, email: str | None) -> str:
    """'tel. 014 12 34 56 · info@clb.be' (the parts that are known)."""
    return " · ".join(p for p in (f"tel. {phone}" if phone else "", email or "") if p)


def school_visible_pupils(session: Session, words: MomentWords) -> list:
    """The planned pupils a school may see: those of the contact moments only.

    Schools never learn vaccination status: a list of who gets a dose is a list filtered by consent
    and by who still needs it, so a vaccination is shown as classes and times, never as names.
    """
    return [p for p in session.pupils if not words.is_vaccination(p.moment)]


def _count_for_school(session: Session, words: MomentWords) -> int | str:
    visible = {p.pupil_id for p in school_visible_pupils(session, words)}
    return len(visible) if visible or not any(words.is_vaccination(m) for m in session.moments) else ""


def session_sheet(workbook, site: Site, session: Session, words: MomentWords, name: str, clb: str,
                  exported: dt.date, parents_invited: bool | None = None) -> None:
    """The pupils of one session: by individual time where parents are invited (K1), else by class.

    A vaccination session lists its classes and times only (schools never learn vaccination status).
    """
    if parents_invited is None:
        parents_invited = session.invites_parents
    visible = school_visible_pupils(session, words)
    vaccinates = any(words.is_vaccination(m) for m in session.moments)
    if vaccinates and not visible:
        _class_times_sheet(workbook, site, session, words, name, clb, exported)
        return
    first: dict[int, object] = {}
    for pupil in visible:  # one line per pupil, however many moments they have
        if pupil.pupil_id not in first or pupil.start < first[pupil.pupil_id].start:
            first[pupil.pupil_id] = pupil
    pupils = list(first.values())
    heading = [
        f"{site.name}: {words.join(session.moments)}",
        f"{dutch_short_date(session.date)} · {session.hours} · {site.location}",
        f"CLB-medewerker(s): {session.staff_names or '-'}",
    ]
    remark = " Vaccinatie: de hele klas komt mee; het CLB weet wie een vaccin krijgt." if vaccinates else ""
    if parents_invited:
        heading.append("De ouders zijn uitgenodigd: elk kind heeft een eigen tijdstip." + remark)
        pupils.sort(key=lambda p: (p.start, p.seq, p.last_name, p.first_name))
        columns = privacy.columns("tijdstip", "naam", "voornaam", "klas", "geboortedatum")
        rows = [privacy.row(tijdstip=p.start, naam=p.last_name, voornaam=p.first_name, klas=p.class_name,
                            geboortedatum=birth_text(p.birth_date)) for p in pupils]
    else:
        heading.append("De leerlingen komen per klas; het tijdstip is het begin van de klas." + remark)
        class_start: dict[str, str] = {}
        for p in pupils:
            class_start[p.class_name] = min(class_start.get(p.class_name, p.start), p.start)
        pupils.sort(key=lambda p: (class_start[p.class_name], p.class_name, p.last_name, p.first_name, p.pupil_id))
        columns = privacy.columns("klas", "tijdstip", "naam", "voornaam", "geboortedatum",
                                  headers={"tijdstip": "Klas om"})
        rows = [privacy.row(klas=p.class_name, tijdstip=class_start[p.class_name], naam=p.last_name,
                            voornaam=p.first_name, geboortedatum=birth_text(p.birth_date)) for p in pupils]
    table_sheet(workbook, name, columns, rows, heading=heading, clb_name=clb, exported=exported, landscape=False)


def _class_times_sheet(workbook, site: Site, session: Session, words: MomentWords, name: str, clb: str,
                       exported: dt.date) -> None:
    """A vaccination session for the school: the classes and when they come, no names."""
    class_start: dict[str, str] = {}
    for p in session.pupils:
        if p.class_name in session.classes or not session.classes:
            class_start[p.class_name] = min(class_start.get(p.class_name, p.start), p.start)
    for c in session.classes:
        class_start.setdefault(c, session.start)
    heading = [
        f"{site.name}: {words.join(session.moments)}",
        f"{dutch_short_date(session.date)} · {session.hours} · {site.location}",
        f"CLB-medewerker(s): {session.staff_names or '-'}",
        "Vaccinatie: de hele klas komt op het aangegeven uur; het CLB weet wie een vaccin krijgt.",
    ]
    columns = privacy.columns("klas", "tijdstip", headers={"tijdstip": "Klas om"})
    rows = [privacy.row(klas=c, tijdstip=t) for c, t in sorted(class_start.items(), key=lambda x: (x[1], x[0]))]
    table_sheet(workbook, name, columns, rows, heading=heading, clb_name=clb, exported=exported, landscape=False)


def _sheet_names(sessions: list[Session]) -> dict[str, str]:
    names: dict[str, str] = {}
    used = {"planning"}
    for session in sessions:
        base = sheet_label(session.date, session.part)
        name, n = base, 1
        while name.lower() in used:
            n += 1
            name = f"{base} ({n})"
        used.add(name.lower())
        names[session.session_id] = name
    return names
