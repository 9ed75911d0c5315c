"""`clbhealth demo`: a workspace built from the bundled samples, and the main job run on it."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from clbhealth.errors import ClbError
from clbhealth.samples.generator import SAMPLE_YEAR, build_samples
from clbhealth.workspace import DB_NAME, Workspace

REPO_SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
DEMO_NAME = "CLB Kempen (voorbeeld)"


def sample_folder() -> tuple[Path, tempfile.TemporaryDirectory | None]:
    """data/samples of a source checkout, else the same files made afresh by the seeded generator."""
    if (REPO_SAMPLES / "schools.csv").exists():
        return REPO_SAMPLES, None
    temp = tempfile.TemporaryDirectory(prefix="clbhealth-samples-")
    build_samples(Path(temp.name))
    return Path(temp.name), temp


def demo_as_of(today: dt.date | None = None) -> dt.date:
    """Today if it falls in the samples' school year, else the nearest day of that year."""
    today = today or dt.date.today()
    return min(max(today, SAMPLE_YEAR.first_day), SAMPLE_YEAR.last_day)


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


def run_demo(directory: Path, out: Console, today: dt.date | None = None) -> Workspace:
    from clbhealth.imports.history import import_history
    from clbhealth.imports.roster import import_roster
    from clbhealth.imports.schools import import_schools
    from clbhealth.output import write_frame
    from clbhealth.protocols.due import OUTPUT_COLUMNS
    from clbhealth.services import due_list

    directory = directory.expanduser().resolve()
    _prepare(directory)
    samples, temp = sample_folder()
    try:
        out.print(f"[bold]clbhealth demo[/] — samples from {samples}")
        workspace = Workspace.create(directory, DEMO_NAME, SAMPLE_YEAR)
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

        as_of = demo_as_of(today)
        frame, _ = due_list(workspace, as_of, include_all=True)
        exports = directory / "exports"
        write_frame(frame[OUTPUT_COLUMNS], "xlsx", exports / "due-list.xlsx", sheet="Due",
                    title=f"{DEMO_NAME}: due list as of {as_of}")
        open_rows = frame[frame["status"].isin(["due", "needs_consent"])]
        write_frame(open_rows[OUTPUT_COLUMNS], "csv", exports / "due-list.csv")
        summary = Table(title=f"5. Due list as of {as_of}", title_justify="left")
        summary.add_column("moment")
        for status in ("due", "needs_consent", "missed", "done", "objected", "refused"):
            summary.add_column(status, justify="right")
        counts = frame.groupby(["moment", "status"]).size()
        present = set(frame["moment"])
        for moment in [m for m in workspace.protocol.all_codes() if m in present]:
            summary.add_row(moment, *(str(int(counts.get((moment, s), 0))) for s in
                                      ("due", "needs_consent", "missed", "done", "objected", "refused")))
        out.print(summary)
        out.print(f"Due list: {exports / 'due-list.xlsx'} (all statuses), {exports / 'due-list.csv'} (open ones).")
        out.print(f"Try: clbhealth due -w {directory} --school {open_rows['school_id'].iloc[0] if len(open_rows) else ''}")
        return workspace
    finally:
        if temp is not None:
            temp.cleanup()
