"""`clbhealth demo`: a workspace built from the bundled samples, and the main job run on it."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Sequence

from clbhealth.core.errors import ClbError
from clbhealth.samples.generator import SAMPLE_YEAR, build_samples
from clbhealth.workspace import meta
from clbhealth.workspace.folder import DB_NAME, Workspace

REPO_SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"  # a source checkout
DEMO_NAME = "CLB Kempen (voorbeeld)"
DUE_STATUSES = ("due", "needs_consent", "missed", "done", "objected", "refused")


@dataclass(frozen=True)
class DemoTable:
    """A small table for the terminal: a title, column names (those in `right` right-aligned), rows."""

    title: str
    columns: Sequence[str]
    rows: list[list[str]]
    right: frozenset[str] = frozenset()


class DemoPrinter(Protocol):
    """Where the demo tells what it does; the CLI prints to the terminal."""

    def heading(self, title: str, detail: str) -> None: ...

    def line(self, text: str) -> None: ...

    def table(self, table: DemoTable) -> None: ...


def sample_folder() -> tuple[Path, tempfile.TemporaryDirectory | None]:
    """data/samples of a source checkout, else the same files made afresh by the seeded generator."""
    if (REPO_SAMPLES / "schools.csv").exists():
        return REPO_SAMPLES, None
    temp = tempfile.TemporaryDirectory(prefix="clbhealth-samples-")
    build_samples(Path(temp.name))
    return Path(temp.name), temp


DEMO_DAY = dt.date(2026, 12, 1)  # the samples' history runs to 27 November 2026


def demo_as_of(today: dt.date | None = None) -> dt.date:
    """Today while it lies in the samples' school year after their history; otherwise 1 December
    2026, so that the demo plans the same months whenever it is run."""
    today = today or dt.date.today()
    if DEMO_DAY <= today <= SAMPLE_YEAR.last_day - dt.timedelta(days=60):
        return today
    return DEMO_DAY


def _prepare(directory: Path) -> None:
    """Start from an empty demo folder; never overwrite a real workspace."""
    if not (directory / DB_NAME).exists():
        return
    if not meta.get_in_file(directory / DB_NAME, "demo"):
        raise ClbError(f"{directory} holds a workspace that is not a demo; the demo will not overwrite it.",
                       hint="Give the demo another folder: clbhealth demo DIR")
    for child in directory.iterdir():
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()


def run_demo(directory: Path, out: DemoPrinter, today: dt.date | None = None, time_limit: float = 10.0) -> Workspace:
    """`today` fixes the demo's date (tests); by default see demo_as_of."""
    directory = directory.expanduser().resolve()
    _prepare(directory)
    samples, temp = sample_folder()
    try:
        out.heading("clbhealth demo", f"samples from {samples}")
        workspace = _create(directory)
        out.line(f"1. Created workspace {directory} (school year {SAMPLE_YEAR}).")
        _import_samples(workspace, samples, out)
        as_of = demo_as_of(today)
        exports = directory / "exports"
        out.table(_due_summary(workspace, as_of, exports))
        _plan_and_check(workspace, as_of, time_limit, out)
        workbooks = _export(workspace, as_of, exports, out)
        from clbhealth.app.demo_vaccination import vaccination_round_trip

        workspace = vaccination_round_trip(workspace, samples, exports, as_of, out, 12)
        out.line("")
        out.line(f"Everything is in {directory}. Try:")
        out.line(f"  clbhealth due -w {directory}")
        out.line(f"  clbhealth plan show -w {directory} --school {workbooks[0].name.split('-')[0] if workbooks else ''}")
        out.line(f"  clbhealth plan check -w {directory}")
        return workspace
    finally:
        if temp is not None:
            temp.cleanup()


def _create(directory: Path) -> Workspace:
    from clbhealth.samples.generator import SAMPLE_OFFICE
    from clbhealth.workspace.settings import Office

    workspace = Workspace.create(directory, DEMO_NAME, SAMPLE_YEAR, Office(**SAMPLE_OFFICE))
    with workspace.writing("demo") as session:
        meta.put(session.conn, "demo", "1")
    return workspace


def _roster_style(path: Path) -> str:
    if "wisa" in path.name:
        return "CSV ; Windows-1252"
    if "leerid" in path.name:
        return "CSV , UTF-8 BOM, --school"
    if "HUISONDERWIJS" in path.name:
        return "home education"
    return {".xlsx": "XLSX, title rows", ".txt": "tab-separated, title row"}.get(path.suffix, "CSV")


def _import_samples(workspace: Workspace, samples: Path, out: DemoPrinter) -> None:
    from clbhealth.imports.history import import_history
    from clbhealth.imports.roster import import_roster
    from clbhealth.imports.schools import import_schools
    from clbhealth.imports.staff import import_absences, import_closures, import_staff

    result = import_schools(workspace, samples / "schools.csv")
    out.line(f"2. Imported {result.totals['new']} school sites from schools.csv.")
    rows = []
    for path in sorted(samples.glob("roster-*")):
        match = re.match(r"roster-(\d+)-leerid", path.name)
        result = import_roster(workspace, [path], school=match.group(1) if match else None)
        rows.append([path.name, _roster_style(path), str(result.totals["new"]), str(len(result.warnings))])
    out.table(DemoTable("3. Rosters imported", ("file", "style", "new", "warnings"), rows,
                        frozenset({"new", "warnings"})))
    result = import_history(workspace, samples / "history.csv")
    out.line(f"4. Imported {result.totals['new']} history events from history.csv.")
    staff = import_staff(workspace, samples / "staff.csv")
    absences = import_absences(workspace, samples / "absences.csv")
    closures = import_closures(workspace, samples / "closures.csv")
    out.line(f"5. Imported {staff.totals['new']} staff, {absences.totals['new']} absences, "
             f"{closures.totals['new']} school closures.")


def _due_summary(workspace: Workspace, as_of: dt.date, exports: Path) -> DemoTable:
    """Write the due list (XLSX, and the open rows as CSV); count it per moment and status."""
    from clbhealth.app.due_list import due_list
    from clbhealth.exports.frames import write_frame
    from clbhealth.protocols.due import OUTPUT_COLUMNS

    frame, _ = due_list(workspace, as_of, include_all=True)
    write_frame(frame[OUTPUT_COLUMNS], "xlsx", exports / "due-list.xlsx", sheet="Due",
                title=f"{DEMO_NAME}: due list as of {as_of}")
    open_rows = frame[frame["status"].isin(["due", "needs_consent"])]
    write_frame(open_rows[OUTPUT_COLUMNS], "csv", exports / "due-list.csv")
    counts = frame.groupby(["moment", "status"]).size()
    present = set(frame["moment"])
    rows = [[moment, *(str(int(counts.get((moment, s), 0))) for s in DUE_STATUSES)]
            for moment in workspace.protocol.all_codes() if moment in present]
    return DemoTable(f"6. Due list as of {as_of}", ("moment", *DUE_STATUSES), rows, frozenset(DUE_STATUSES))


def _plan_and_check(workspace: Workspace, as_of: dt.date, time_limit: float, out: DemoPrinter) -> None:
    from clbhealth.app.plan import run_plan
    from clbhealth.app.plan_check import load_check_input
    from clbhealth.scheduler.check import check_plan

    plan = run_plan(workspace, as_of=as_of, seconds=time_limit, seed=1, workers=2)
    metrics = plan["metrics"]
    planned = sum(m["planned"] for m in plan["per_moment"].values())
    wanted = sum(m["due"] for m in plan["per_moment"].values())
    bounds = plan["bounds"]
    out.line(f"7. Planned {metrics['sessions']} sessions from {plan['period'][0]} to {plan['period'][1]}: "
             f"{planned} of {wanted} pupil-moments; {metrics['terms']['visits']} school visits "
             f"(lower bound {bounds['visits_lower_bound']}), {metrics['terms']['travel']:,.0f} km "
             f"(lower bound {bounds['travel_lower_bound_km']:,.0f} km).")
    violations = check_plan(load_check_input(workspace))
    out.line(f"8. Checked the plan against every hard rule: {len(violations)} violation(s).")


def _export(workspace: Workspace, as_of: dt.date, exports: Path, out: DemoPrinter) -> list[Path]:
    """School workbooks, calendars, one attendance sheet, the weekly lists and the report."""
    from clbhealth.app.report import build_report
    from clbhealth.exports.report_html import report_html
    from clbhealth.app.weekly import run_weekly
    from clbhealth.core.files import atomic_text
    from clbhealth.exports import export_attendance, export_calendars, export_school_workbooks
    from clbhealth.workspace.sessions import first_session_from

    workbooks = export_school_workbooks(workspace, exports / "schools")
    calendars = export_calendars(workspace, exports / "calendars")
    with workspace.connect() as conn:
        first = first_session_from(conn, as_of)
    sheet = None
    if first is not None:
        sheet = export_attendance(workspace, exports / f"attendance-{first}.xlsx", session_id=first)
    out.line(f"9. Exported {len(workbooks)} school workbooks (Dutch, no medical data) to {exports / 'schools'}, "
             f"{len(calendars)} staff calendars to {exports / 'calendars'}"
             + (f", and the attendance sheet {sheet.name}." if sheet else "."))
    weekly = run_weekly(workspace, exports / "weekly", as_of)
    out.line(f"10. Weekly lists for week {weekly.week}: {len(weekly.files)} files in {weekly.folder}.")
    report = build_report(workspace, as_of)
    with atomic_text(exports / "report.html") as handle:
        handle.write(report_html(report))
    out.line(f"11. Progress report: {exports / 'report.html'}")
    return workbooks
