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

from importlib import import_module

__all__ = ["export_attendance", "export_calendars", "export_school_workbooks"]
_HOMES = {"export_attendance": "attendance", "export_calendars": "calendars", "export_school_workbooks": "schools"}


def __getattr__(name: str):
    """Load an export on first use: `clbhealth due` writes a CSV through exports.frames and need not
    load the workbook and calendar libraries (PEP 562)."""
    if name in _HOMES:
        return getattr(import_module(f"clbhealth.exports.{_HOMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
