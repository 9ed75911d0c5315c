"""`clbhealth demo`: a workspace built from the bundled samples, and the main job run on it."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from clbhealth.core.errors import ClbError
from clbhealth.samples.generator import SAMPLE_YEAR, build_samples
from clbhealth.workspace.folder import DB_NAME, Workspace

REPO_SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
DEMO_NAME = "CLB Kempen (voorbeeld)"


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
    import sqlite3

    try:
        with sqlite3.connect(directory / DB_NAME) as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = 'demo'").fetchone()
    except sqlite3.Error:
        row = None
    if not row:
        raise ClbError(f"{directory} holds a workspace that is not a demo; the demo will not overwrite it.",
                       hint="Give the demo another folder: clbhealth demo DIR")
    for child in directory.iterdir():
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()


def run_demo(directory: Path, out: Console, today: dt.date | None = None, time_limit: float = 10.0) -> Workspace:
    """`today` fixes the demo's date (tests); by default see demo_as_of."""
    from clbhealth.workspace.settings import Office
    from clbhealth.exports import export_attendance, export_calendars, export_school_workbooks
    from clbhealth.imports.history import import_history
    from clbhealth.imports.roster import import_roster
    from clbhealth.imports.schools import import_schools
    from clbhealth.imports.staff import import_absences, import_closures, import_staff
    from clbhealth.cli.render import write_frame
    from clbhealth.app.plan_check import load_check_input
    from clbhealth.protocols.due import OUTPUT_COLUMNS
    from clbhealth.app.report import build_report, report_html
    from clbhealth.samples.generator import SAMPLE_OFFICE
    from clbhealth.scheduler.check import check_plan
    from clbhealth.app.due_list import due_list
    from clbhealth.app.plan import run_plan
    from clbhealth.core.files import atomic_text
    from clbhealth.app.weekly import run_weekly

    directory = directory.expanduser().resolve()
    _prepare(directory)
    samples, temp = sample_folder()
    try:
        out.print(f"[bold]clbhealth demo[/] - samples from {samples}")
        workspace = Workspace.create(directory, DEMO_NAME, SAMPLE_YEAR, Office(**SAMPLE_OFFICE))
        with workspace.writing("demo") as session:
            session.conn.execute("INSERT INTO meta (key, value) VALUES ('demo', '1')")
        out.print(f"1. Created workspace {directory} (school year {SAMPLE_YEAR}).")

        result = import_schools(workspace, samples / "schools.csv")
        out.print(f"2. Imported {result.totals['new']} school sites from schools.csv.")

        rosters = sorted(samples.glob("roster-*"))
        table = Table(title="3. Rosters imported", title_justify="left")
        for column in ("file", "style", "new", "warnings"):
            table.add_column(column, justify="right" if column in ("new", "warnings") else "left")
        for path in rosters:
            match = re.match(r"roster-(\d+)-leerid", path.name)
            school = match.group(1) if match else None
            result = import_roster(workspace, [path], school=school)
            style = {".xlsx": "XLSX, title rows", ".txt": "tab-separated, title row"}.get(path.suffix, "CSV")
            if "wisa" in path.name:
                style = "CSV ; Windows-1252"
            elif "leerid" in path.name:
                style = "CSV , UTF-8 BOM, --school"
            elif "HUISONDERWIJS" in path.name:
                style = "home education"
            table.add_row(path.name, style, str(result.totals["new"]), str(len(result.warnings)))
        out.print(table)

        result = import_history(workspace, samples / "history.csv")
        out.print(f"4. Imported {result.totals['new']} history events from history.csv.")
        staff = import_staff(workspace, samples / "staff.csv")
        absences = import_absences(workspace, samples / "absences.csv")
        closures = import_closures(workspace, samples / "closures.csv")
        out.print(f"5. Imported {staff.totals['new']} staff, {absences.totals['new']} absences, "
                  f"{closures.totals['new']} school closures.")

        as_of = demo_as_of(today)
        frame, _ = due_list(workspace, as_of, include_all=True)
        exports = directory / "exports"
        write_frame(frame[OUTPUT_COLUMNS], "xlsx", exports / "due-list.xlsx", sheet="Due",
                    title=f"{DEMO_NAME}: due list as of {as_of}")
        open_rows = frame[frame["status"].isin(["due", "needs_consent"])]
        write_frame(open_rows[OUTPUT_COLUMNS], "csv", exports / "due-list.csv")
        summary = Table(title=f"6. Due list as of {as_of}", title_justify="left")
        summary.add_column("moment")
        statuses = ("due", "needs_consent", "missed", "done", "objected", "refused")
        for status in statuses:
            summary.add_column(status, justify="right")
        counts = frame.groupby(["moment", "status"]).size()
        present = set(frame["moment"])
        for moment in [m for m in workspace.protocol.all_codes() if m in present]:
            summary.add_row(moment, *(str(int(counts.get((moment, s), 0))) for s in statuses))
        out.print(summary)

        plan = run_plan(workspace, as_of=as_of, seconds=time_limit, seed=1, workers=2)
        metrics = plan["metrics"]
        planned = sum(m["planned"] for m in plan["per_moment"].values())
        wanted = sum(m["due"] for m in plan["per_moment"].values())
        bounds = plan["bounds"]
        out.print(f"7. Planned {metrics['sessions']} sessions from {plan['period'][0]} to {plan['period'][1]}: "
                  f"{planned} of {wanted} pupil-moments; {metrics['terms']['visits']} school visits "
                  f"(lower bound {bounds['visits_lower_bound']}), {metrics['terms']['travel']:,.0f} km "
                  f"(lower bound {bounds['travel_lower_bound_km']:,.0f} km).")
        violations = check_plan(load_check_input(workspace))
        out.print(f"8. Checked the plan against every hard rule: {len(violations)} violation(s).")

        workbooks = export_school_workbooks(workspace, exports / "schools")
        calendars = export_calendars(workspace, exports / "calendars")
        with workspace.connect() as conn:
            first = conn.execute("SELECT session_id FROM sessions WHERE date >= ? ORDER BY date, part, session_id "
                                 "LIMIT 1", (as_of.isoformat(),)).fetchone()
        sheet = None
        if first is not None:
            sheet = export_attendance(workspace, exports / f"attendance-{first[0]}.xlsx", session_id=first[0])
        out.print(f"9. Exported {len(workbooks)} school workbooks (Dutch, no medical data) to {exports / 'schools'}, "
                  f"{len(calendars)} staff calendars to {exports / 'calendars'}"
                  + (f", and the attendance sheet {sheet.name}." if sheet else "."))
        weekly = run_weekly(workspace, exports / "weekly", as_of)
        out.print(f"10. Weekly lists for week {weekly.week}: {len(weekly.files)} files in {weekly.folder}.")
        report = build_report(workspace, as_of)
        with atomic_text(exports / "report.html") as handle:
            handle.write(report_html(report))
        out.print(f"11. Progress report: {exports / 'report.html'}")
        from clbhealth.app.demo_vaccination import vaccination_round_trip

        workspace = vaccination_round_trip(workspace, samples, exports, as_of, out, 12)
        out.print("")
        out.print(f"Everything is in {directory}. Try:")
        out.print(f"  clbhealth due -w {directory}")
        out.print(f"  clbhealth plan show -w {directory} --school {workbooks[0].name.split('-')[0] if workbooks else ''}")
        out.print(f"  clbhealth plan check -w {directory}")
        return workspace
    finally:
        if temp is not None:
            temp.cleanup()
