"""`clbhealth export attendance`: the nurse's sheet for a session, filled in and read back by
`clbhealth import results`.

One worksheet per session (named by the session id), one row per planned pupil and moment. The
session id, pupil id and moment code sit in locked columns (the sheet is protected without a
password); only the status column is open, limited by a drop-down to gezien / afwezig /
geweigerd / verzet.

A session with vaccinations also has, per dose row, the consent state on record (toestemming,
geen formulier, geweigerd, elders), "Vaccineren" ja only with consent, and open columns Gegeven
(ja/nee), Lot, Vaccinator (staff id) and Reden niet gegeven (afwezig, ziek, weigert ter plaatse);
the session's products and lots (not expired on the session date) are in the heading.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.worksheet.datavalidation import DataValidation

from clbhealth.core.dates import dutch_short_date
from clbhealth.core.errors import ClbError
from clbhealth.workspace.staff import resolve_staff_id
from clbhealth.exports.plan import (
    OUTCOME_WORDS, MomentWords, Site, birth_text, load_sessions, load_sites, require_plan,
)
from clbhealth.exports.workbook import Column, new_workbook, save_workbook, table_sheet
from clbhealth.protocols.consent import GIVEN, consent_state
from clbhealth.workspace import vaccination as store
from clbhealth.workspace.folder import Workspace

STATUS_CHOICES = ("gezien", "afwezig", "geweigerd", "verzet")
STATUS_FILL = PatternFill("solid", fgColor="FFF2CC")

COLUMNS = (
    Column("session", "Sessie", 10),
    Column("pupil", "Leerling-id", 11),
    Column("code", "Code", 10),
    Column("last_name", "Naam", 16, 30),
    Column("first_name", "Voornaam", 14, 30),
    Column("class", "Klas", 8, 20),
    Column("birth", "Geboortedatum", 14),
    Column("time", "Tijdstip", 9),
    Column("moment", "Contactmoment / vaccinatie", 28, 50),
    Column("status", "Status", 13),
)
STATUS_COLUMN = len(COLUMNS)  # the last column of a session without vaccinations
VACCINATION_COLUMNS = (
    Column("consent", "Toestemming", 15),
    Column("to_vaccinate", "Vaccineren", 11),
    Column("given", "Gegeven", 9),
    Column("lot", "Lot", 12),
    Column("vaccinator", "Vaccinator", 11),
    Column("why_not", "Reden niet gegeven", 20),
)
GIVEN_CHOICES = ("ja", "nee")
WHY_NOT_CHOICES = ("afwezig", "ziek", "weigert ter plaatse")


def export_attendance(workspace: Workspace, out: Path, session_id: str | None = None, day: dt.date | None = None,
                      staff_id: str | None = None, *, exported: dt.date | None = None) -> Path:
    """Write one workbook with a sheet per session: the session named, or those on `day` (of `staff_id`)."""
    workspace.require_writable()  # refused before a file is written, never after
    if (session_id is None) == (day is None):
        raise ClbError("Name one session (--session ID) or one day (--date DATE).",
                       hint="e.g. clbhealth export attendance --date 2026-10-06 --staff N01 --out aanwezig.xlsx")
    if staff_id is not None and day is None:
        raise ClbError("--staff goes with --date (a session already names its staff).")
    exported = exported or dt.date.today()
    out = Path(out)
    with workspace.connect() as conn:
        require_plan(conn)
        if staff_id is not None:
            resolve_staff_id(conn, staff_id)  # an unknown id is refused with the closest known ones
        if session_id is not None:
            sessions = load_sessions(conn, session_ids=[session_id.strip().upper()])
            if not sessions:
                raise ClbError(f"--session {session_id}: no such session in the current plan.",
                               hint="Session ids look like S000123; see the school workbooks or calendars.")
        else:
            sessions = load_sessions(conn, date_from=day, date_to=day, staff_id=staff_id)
            if not sessions:
                who = f" for {staff_id}" if staff_id else ""
                raise ClbError(f"No sessions on {day}{who} in the current plan.", hint="Check the date (and --staff).")
        sites = load_sites(workspace, conn)
        consent = _consent_of(workspace, conn, sessions)
        lots = store.load_lots(conn)
        done = {s.session_id: store.session_doses(conn, s.session_id) for s in sessions}
    words = MomentWords(workspace.protocol, workspace.config.school_year)
    clb = workspace.config.clb_name
    workbook = new_workbook()
    for session in sessions:
        site = sites.get(session.school_id) or Site(session.school_id, session.school_id)
        doses = [m for m in session.moments if m in consent]
        heading = [
            f"Aanwezigheden {site.name}: {words.join(session.moments)}",
            f"{dutch_short_date(session.date)} · {session.hours} · {site.location}",
            f"Sessie {session.session_id} · CLB-medewerker(s): {session.staff_names or '-'}"
            + (f" · {_products_line(workspace, doses, lots, session.date)}" if doses else ""),
            ("Kies per rij de status (gezien / afwezig / geweigerd / verzet); per dosis: gegeven ja/nee, lot, "
             "vaccinator en de reden als niet gegeven. Vaccineer alleen wie 'Vaccineren: ja' heeft. "
             if doses else "Kies per rij de status (gezien / afwezig / geweigerd / verzet) en ")
            + "lees het bestand in met 'clbhealth import results BESTAND'.",
        ]
        rows = [_row(session, p, words, consent, done[session.session_id], doses) for p in session.pupils]
        columns = COLUMNS + (VACCINATION_COLUMNS if doses else ())
        ws, header_row, last = table_sheet(workbook, session.session_id, columns, rows, heading=heading,
                                           clb_name=clb, exported=exported)
        _protect(ws, header_row, last, bool(doses), [p.moment in consent for p in session.pupils])
    save_workbook(workbook, out)
    workspace.audit("export attendance", [str(out)],
                    {"sessions": len(sessions), "rows": sum(len(s.pupils) for s in sessions)})
    return out


def _row(session, p, words: MomentWords, consent: dict, done: dict, doses: list[str]) -> dict:
    row = {
        "session": session.session_id, "pupil": p.pupil_id, "code": p.moment, "last_name": p.last_name,
        "first_name": p.first_name, "class": p.class_name, "birth": birth_text(p.birth_date), "time": p.start,
        "moment": words(p.moment), "status": OUTCOME_WORDS.get(p.outcome or "", None),
    }
    if doses:
        state = consent[p.moment].get(p.pupil_id) if p.moment in consent else None
        dose = done.get((p.pupil_id, p.moment)) or {}
        given = {1: "ja", 0: "nee"}.get(dose.get("given")) if dose else None
        row.update(consent=state, to_vaccinate=None if state is None else ("ja" if state == GIVEN else "nee"),
                   given=given, lot=dose.get("lot"), vaccinator=dose.get("vaccinator"), why_not=dose.get("why_not"))
    return row


def _consent_of(workspace: Workspace, conn, sessions) -> dict[str, dict[int, str]]:
    """Per vaccination code in these sessions: pupil -> consent state on record (before this session's results)."""
    protocol = workspace.protocol
    vaccinations = {r.code for r in protocol.rules if r.is_vaccination}
    wanted: dict[str, set[int]] = {}
    for session in sessions:
        for p in session.pupils:
            if p.moment in vaccinations:
                wanted.setdefault(p.moment, set()).add(p.pupil_id)
    states: dict[str, dict[int, str]] = {}
    for code, pupils in wanted.items():
        series = protocol.series_of(code)
        codes = [r.code for r in protocol.rules if (r.series or r.code) == series]
        records = store.series_events(conn, pupils, codes)
        states[code] = {pid: consent_state(recs) for pid, recs in records.items()}
    return states


def _products_line(workspace: Workspace, codes: list[str], lots: dict, day: dt.date) -> str:
    """The session's products and their lots still valid on the day, for the heading."""
    parts = []
    for product in dict.fromkeys(p for code in codes for p in workspace.protocol.products_for(code)):
        valid = [f"{lot} (tot {info['expiry']})" for (name, lot), info in lots.items()
                 if name == product.name and info["expiry"] >= day.isoformat()]
        parts.append(f"{product.name}: lot " + (", ".join(valid) if valid else "geen geldig lot geregistreerd"))
    return "Vaccins: " + "; ".join(parts) if parts else "Vaccins: geen product in het protocol"


def _drop_down(ws, column: int, first: int, bottom: int, choices: tuple[str, ...], title: str) -> None:
    letter = ws.cell(row=first, column=column).column_letter
    validation = DataValidation(
        type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True,
        showErrorMessage=True, errorTitle=title, error="Kies " + " of ".join(choices) + ".",
        showInputMessage=True, promptTitle=title, prompt=" / ".join(choices),
    )
    validation.add(f"{letter}{first}:{letter}{bottom}")
    ws.add_data_validation(validation)


def _protect(ws, header_row: int, last: int, vaccination: bool = False, dose_rows: list[bool] | None = None) -> None:
    """Lock everything but the status cells (and the dose cells of dose rows); drop-downs limit the choices."""
    first = header_row + 1
    bottom = max(last, first)
    _drop_down(ws, STATUS_COLUMN, first, bottom, STATUS_CHOICES, "Status")
    open_columns = [STATUS_COLUMN]
    if vaccination:
        given, why_not = STATUS_COLUMN + 3, STATUS_COLUMN + 6
        _drop_down(ws, given, first, bottom, GIVEN_CHOICES, "Gegeven")
        _drop_down(ws, why_not, first, bottom, WHY_NOT_CHOICES, "Reden niet gegeven")
        open_columns += [given, given + 1, given + 2, why_not]
    for r in range(first, bottom + 1):
        is_dose = bool(dose_rows and r - first < len(dose_rows) and dose_rows[r - first])
        for column in open_columns:
            if column != STATUS_COLUMN and not is_dose:
                continue
            cell = ws.cell(row=r, column=column)
            cell.protection = Protection(locked=False)
            cell.fill = STATUS_FILL
            cell.alignment = Alignment(horizontal="center")
    for column in open_columns:
        ws.cell(row=header_row, column=column).font = Font(bold=True, color="9C5700")
    protection = ws.protection
    protection.sheet = True
    protection.formatColumns = False  # widening columns and filtering stay possible
    protection.formatRows = False
    protection.autoFilter = False
