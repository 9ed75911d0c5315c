"""What leaves the CLB: school workbooks, staff calendars, attendance sheets.

Plain functions the CLI and the demo call:

- `export_school_workbooks(workspace, out_dir, schools=None) -> list[Path]`
- `export_calendars(workspace, out_dir, staff=None) -> list[Path]`
- `export_attendance(workspace, out, session_id=None, day=None, staff_id=None) -> Path`

Everything is built from the plan tables (sessions, session_staff, session_pupils), so it works
on any plan the planner stores. Every file is written to a temporary name and renamed. Besides:
the weekly lists' files (weekly.py), the report page (report_html.py), tables as CSV/JSON/XLSX
(frames.py). School files never carry findings, consent, objections or vaccination status.

May import: protocols, imports, scheduler, samples (its own floor, without circles), workspace,
readers, core.
"""

from clbhealth.exports.attendance import export_attendance
from clbhealth.exports.calendars import export_calendars
from clbhealth.exports.schools import export_school_workbooks

__all__ = ["export_attendance", "export_calendars", "export_school_workbooks"]
