"""The weekly lists' files: per school and per person the week's sessions with their pupils,
the backlog and the new pupils, each as XLSX (for people) and CSV (for other software).

Only the columns of `privacy` leave the CLB: names, class and birth date, never findings, consent,
objections or vaccination status. A week is written into a hidden folder that then takes the
week's place (`core.staging.staged_folder`): a killed run leaves the previous files, never a mix.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from clbhealth.core.dates import dutch_short_date
from clbhealth.exports import privacy
from clbhealth.exports.schools import school_visible_pupils
from clbhealth.exports.plan import MomentWords, Session, Site, birth_text, day_name, PART_WORDS
from clbhealth.exports.workbook import Column, new_workbook, save_workbook, table_sheet, write_csv

BACKLOG_COLUMNS = [
    *privacy.columns("school", "klas", "naam", "voornaam", "geboortedatum", "moment"),
    Column("toestand", "Toestand", 18),
    Column("sinds", "Sessie of laatste poging", 14),
]
NEW_COLUMNS = [
    *privacy.columns("school", "klas", "naam", "voornaam", "geboortedatum"),
    Column("open", "Nog te doen", 28, 60),
]
SCHOOL_COLUMNS = privacy.columns("datum", "dag", "uur", "klas", "tijdstip", "naam", "voornaam", "geboortedatum",
                                 "moment", "medewerkers", "locatie")
STAFF_COLUMNS = privacy.columns("datum", "dag", "uur", "school", "locatie", "klas", "tijdstip", "naam", "voornaam",
                                "geboortedatum", "moment")



def school_rows(session: Session, site: Site, words: MomentWords) -> list[dict]:
    base = dict(datum=dutch_short_date(session.date),
                dag=f"{day_name(session.date)} {PART_WORDS.get(session.part, session.part)}",
                uur=session.hours, moment=words.join(session.moments), medewerkers=session.staff_names,
                locatie=site.location)
    first: dict[int, object] = {}
    for p in school_visible_pupils(session, words):  # never who gets a dose (vaccination status)
        if p.pupil_id not in first or p.start < first[p.pupil_id].start:
            first[p.pupil_id] = p
    if not first:
        return [privacy.row(**base, klas=", ".join(session.classes))]
    class_start: dict[str, str] = {}
    for p in first.values():
        class_start[p.class_name] = min(class_start.get(p.class_name, p.start), p.start)
    if session.invites_parents:
        ordered = sorted(first.values(), key=lambda p: (p.start, p.seq, p.last_name))
    else:
        ordered = sorted(first.values(), key=lambda p: (class_start[p.class_name], p.class_name, p.last_name,
                                                        p.first_name, p.pupil_id))
    return [privacy.row(**base, klas=p.class_name,
                        tijdstip=p.start if session.invites_parents else class_start[p.class_name],
                        naam=p.last_name, voornaam=p.first_name, geboortedatum=birth_text(p.birth_date))
            for p in ordered]


def staff_rows(session: Session, sites: dict[str, Site], words: MomentWords) -> list[dict]:
    site = sites.get(session.school_id) or Site(session.school_id, session.school_id)
    base = dict(datum=dutch_short_date(session.date),
                dag=f"{day_name(session.date)} {PART_WORDS.get(session.part, session.part)}",
                uur=session.hours, school=site.name, locatie=site.location)
    moments: dict[int, list[str]] = {}
    first: dict[int, object] = {}
    for p in session.pupils:
        moments.setdefault(p.pupil_id, []).append(p.moment)
        if p.pupil_id not in first or p.start < first[p.pupil_id].start:
            first[p.pupil_id] = p
    if not first:
        return [privacy.row(**base, klas=", ".join(session.classes), moment=words.join(session.moments))]
    ordered = sorted(first.values(), key=lambda p: (p.start, p.seq))
    return [privacy.row(**base, klas=p.class_name, tijdstip=p.start, naam=p.last_name, voornaam=p.first_name,
                        geboortedatum=birth_text(p.birth_date), moment=words.join(moments[p.pupil_id]))
            for p in ordered]


def write_pair(base: Path, columns: list[Column], rows: list[dict], heading: list[str], clb: str,
               exported: dt.date, separator: str = ";") -> list[Path]:
    """The same table as XLSX (for people) and CSV (for other software)."""
    workbook = new_workbook()
    table_sheet(workbook, "Lijst", columns, rows, heading=heading, clb_name=clb, exported=exported)
    # with_name, not with_suffix: a stem like 'A.01-jan' has no suffix to replace
    xlsx = save_workbook(workbook, base.with_name(base.name + ".xlsx"))
    csv_path = write_csv(base.with_name(base.name + ".csv"), columns, rows, separator)
    return [xlsx, csv_path]


def date_or_none(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None
