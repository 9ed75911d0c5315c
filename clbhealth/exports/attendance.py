"""`clbhealth export attendance`: the nurse's sheet for a session, filled in and read back by
`clbhealth import results`.

One worksheet per session (named by the session id), one row per planned pupil and moment. The
session id, pupil id and moment code sit in locked columns (the sheet is protected without a
password); only the status column is open, limited by a drop-down to gezien / afwezig /
geweigerd / verzet.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.worksheet.datavalidation import DataValidation

from clbhealth.core.dates import dutch_short_date
from clbhealth.core.errors import ClbError
from clbhealth.exports.plan import (
    OUTCOME_WORDS, MomentWords, Site, birth_text, load_sessions, load_sites, require_plan,
)
from clbhealth.exports.workbook import Column, new_workbook, save_workbook, table_sheet
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
STATUS_COLUMN = len(COLUMNS)  # the last column


def export_attendance(
    workspace: Workspace,
    out: Path,
    session_id: str | None = None,
    day: dt.date | None = None,
    staff_id: str | None = None,
    *,
    exported: dt.date | None = None,
) -> Path:
    """Write one workbook with a sheet per session: the session named, or those on `day` (of `staff_id`)."""
    if (session_id is None) == (day is None):
        raise ClbError("Name one session (--session ID) or one day (--date DATE).",
                       hint="e.g. clbhealth export attendance --date 2026-10-06 --staff N01 --out aanwezig.xlsx")
    if staff_id is not None and day is None:
        raise ClbError("--staff goes with --date (a session already names its staff).")
    exported = exported or dt.date.today()
    out = Path(out)
    with workspace.connect() as conn:
        require_plan(conn)
        if staff_id is not None and conn.execute("SELECT 1 FROM staff WHERE staff_id = ?", (staff_id,)).fetchone() is None:
            raise ClbError(f"--staff {staff_id}: no such person in the staff list.")
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
    words = MomentWords(workspace.protocol, workspace.config.school_year)
    clb = workspace.config.clb_name
    workbook = new_workbook()
    for session in sessions:
        site = sites.get(session.school_id) or Site(session.school_id, session.school_id)
        heading = [
            f"Aanwezigheden {site.name}: {words.join(session.moments)}",
            f"{dutch_short_date(session.date)} · {session.hours} · {site.location}",
            f"Sessie {session.session_id} · CLB-medewerker(s): {session.staff_names or '-'}",
            "Kies per rij de status (gezien / afwezig / geweigerd / verzet) en lees het bestand in met "
            "'clbhealth import results BESTAND'.",
        ]
        rows = [{
            "session": session.session_id, "pupil": p.pupil_id, "code": p.moment, "last_name": p.last_name,
            "first_name": p.first_name, "class": p.class_name, "birth": birth_text(p.birth_date), "time": p.start,
            "moment": words(p.moment), "status": OUTCOME_WORDS.get(p.outcome or "", None),
        } for p in session.pupils]
        ws, header_row, last = table_sheet(workbook, session.session_id, COLUMNS, rows, heading=heading,
                                           clb_name=clb, exported=exported)
        _protect(ws, header_row, last)
    save_workbook(workbook, out)
    workspace.audit("export attendance", [str(out)],
                    {"sessions": len(sessions), "rows": sum(len(s.pupils) for s in sessions)})
    return out


def _protect(ws, header_row: int, last: int) -> None:
    """Lock everything but the status cells; a drop-down limits the status to the four words."""
    first = header_row + 1
    bottom = max(last, first)
    letter = ws.cell(row=header_row, column=STATUS_COLUMN).column_letter
    validation = DataValidation(
        type="list", formula1='"' + ",".join(STATUS_CHOICES) + '"', allow_blank=True,
        showErrorMessage=True, errorTitle="Status", error="Kies gezien, afwezig, geweigerd of verzet.",
        showInputMessage=True, promptTitle="Status", prompt="gezien / afwezig / geweigerd / verzet",
    )
    validation.add(f"{letter}{first}:{letter}{bottom}")
    ws.add_data_validation(validation)
    for r in range(first, bottom + 1):
        cell = ws.cell(row=r, column=STATUS_COLUMN)
        cell.protection = Protection(locked=False)
        cell.fill = STATUS_FILL
        cell.alignment = Alignment(horizontal="center")
    ws.cell(row=header_row, column=STATUS_COLUMN).font = Font(bold=True, color="9C5700")
    protection = ws.protection
    protection.sheet = True
    protection.formatColumns = False  # widening columns and filtering stay possible
    protection.formatRows = False
    protection.autoFilter = False
