"""`clbhealth weekly`: the due lists of the coming week, for cron.

`run_weekly(workspace, out_dir, as_of)` writes `out_dir/<yyyy-Www>/`:

    scholen/<school_id>-<slug>.xlsx|.csv       per school: the week's sessions with their pupils
    medewerkers/<staff_id>-<slug>.xlsx|.csv    per person: the same, for their own sessions
    achterstand.xlsx|.csv                      due pupils whose result is missing, who were absent and
                                               are not planned again, or who are in no session at all
    nieuwe-leerlingen.xlsx|.csv                pupils added since the run of an earlier week
    summary.json                               counts, files and warnings

The coming week is the week of the first Monday on or after the as-of date (run it on Friday or
on Monday morning). The lists are made as of that Monday, so every run for the same week gives the
same files as long as the workspace does not change (CSV and JSON byte for byte). A lock keeps two
runs apart; each file is written to a temporary name and renamed; files of an earlier run of the
same week that no longer apply are removed. Errors go to stderr and to logs/weekly.log.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from clbhealth.workspace import folder as workspace_module
from clbhealth.core.dates import dutch_short_date
from clbhealth.core.errors import ClbError
from clbhealth.exports.schools import school_visible_pupils
from clbhealth.exports import privacy
from clbhealth.exports.plan import (
    MomentWords, Session, Site, birth_text, day_name, load_sessions, load_sites, safe_id, slug, PART_WORDS,
)
from clbhealth.exports.workbook import Column, new_workbook, save_workbook, table_sheet, write_csv
from clbhealth.core.files import atomic_text
from clbhealth.workspace.folder import Workspace, now_text

LOG_NAME = "weekly.log"
LOCK_NAME = ".weekly.lock"
STATE_KEY = "weekly_runs"
CATEGORIES = {  # key in summary.json -> words in achterstand.xlsx
    "results_missing": "resultaat ontbreekt",
    "catch_up": "inhalen",
    "unplanned": "niet gepland",
}

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


@dataclass
class WeeklyResult:
    week: str
    monday: dt.date
    folder: Path
    files: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    counts: dict = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return 3 if self.warnings else 0


def coming_week(as_of: dt.date) -> tuple[dt.date, str]:
    """The Monday on or after `as_of` and its ISO week label ('2026-W41')."""
    monday = as_of + dt.timedelta(days=(7 - as_of.weekday()) % 7)
    year, week, _ = monday.isocalendar()
    return monday, f"{year}-W{week:02d}"


def log(workspace: Workspace, level: str, message: str) -> None:
    """One line in logs/weekly.log (never personal data: counts, file and school names only)."""
    folder = workspace.root / "logs"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(folder / LOG_NAME, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            for line in message.splitlines() or [""]:
                handle.write(f"{now_text()} {level:<7} {line}\n")
    except OSError:
        pass  # logging must never turn a good run into a failed one


@contextmanager
def weekly_lock(workspace: Workspace, wait: float | None = None) -> Iterator[None]:
    """Only one weekly run per workspace at a time; a second waits a little, then gives up clearly."""
    wait = workspace_module.LOCK_WAIT_SECONDS if wait is None else wait
    with workspace_module.file_lock(
        workspace.root / LOCK_NAME, wait,
        lambda holder: ClbError(
            f"Another `clbhealth weekly` is running for the workspace {workspace.root} ({holder}).",
            hint=f"Waited {wait:g} s; nothing was written. Run it again when the other run has finished."),
    ):
        yield


def run_weekly(workspace: Workspace, out_dir: Path, as_of: dt.date, *, lock_wait: float | None = None) -> WeeklyResult:
    """Write the week's files; log the outcome; raise ClbError (logged) when the run fails."""
    monday, label = coming_week(as_of)
    try:
        with weekly_lock(workspace, lock_wait):
            result = _run(workspace, Path(out_dir), as_of, monday, label)
    except ClbError as exc:
        log(workspace, "ERROR", f"weekly {label}: {exc.message}" + (f" {exc.hint}" if exc.hint else ""))
        raise
    except Exception as exc:  # a bug: keep the details in the log, tell cron briefly
        log(workspace, "ERROR", f"weekly {label}: unexpected {type(exc).__name__}\n{traceback.format_exc()}")
        raise ClbError(f"weekly {label} failed: unexpected {type(exc).__name__}: {exc}",
                       hint=f"Details in {workspace.root / 'logs' / LOG_NAME}.") from None
    for warning in result.warnings:
        log(workspace, "WARNING", f"weekly {label}: {warning}")
    log(workspace, "INFO", f"weekly {label}: {len(result.files)} file(s) in {result.folder}; "
        + ", ".join(f"{k} {v}" for k, v in result.counts.items() if not isinstance(v, dict)))
    return result


def _run(workspace: Workspace, out_dir: Path, as_of: dt.date, monday: dt.date, label: str) -> WeeklyResult:
    from clbhealth.app.due_list import due_list

    sunday = monday + dt.timedelta(days=6)
    final = out_dir / label
    # Everything is written into a hidden folder first, which then takes the week's place in one
    # rename: a killed run leaves the previous week's files, never a mix of old and new.
    folder = _staging(out_dir, label)
    result = WeeklyResult(week=label, monday=monday, folder=final)
    clb = workspace.config.clb_name
    words = MomentWords(workspace.protocol, workspace.config.school_year)
    week_words = f"week {monday.isocalendar()[1]} ({dutch_short_date(monday)} – {dutch_short_date(monday + dt.timedelta(days=4))})"

    with workspace.connect() as conn:
        conn.execute("BEGIN")  # one consistent snapshot of the plan
        sites = load_sites(workspace, conn)
        sessions = load_sessions(conn, date_from=monday, date_to=sunday, current_pupils_only=True)
        any_plan = conn.execute("SELECT count(*) FROM sessions").fetchone()[0] > 0
        staff_names = {r[0]: r[1] for r in conn.execute("SELECT staff_id, name FROM staff")}
        placed: dict[tuple[int, str], list[tuple[str, str | None]]] = {}
        for r in conn.execute("SELECT sp.pupil_id, sp.moment, s.date, sp.outcome FROM session_pupils sp "
                              "JOIN sessions s ON s.session_id = sp.session_id ORDER BY s.date"):
            placed.setdefault((int(r[0]), r[1]), []).append((r[2], r[3]))
        pupils = {int(r["pupil_id"]): dict(r) for r in conn.execute(
            "SELECT pupil_id, school_id, last_name, first_name, class_name, birth_date, first_imported "
            "FROM pupils WHERE active = 1")}
        max_pupil = conn.execute("SELECT COALESCE(MAX(pupil_id), 0) FROM pupils").fetchone()[0]
        state_row = conn.execute("SELECT value FROM meta WHERE key = ?", (STATE_KEY,)).fetchone()
        conn.execute("COMMIT")
    state = json.loads(state_row[0]) if state_row else {}

    due, problems = due_list(workspace, monday)
    result.warnings += [p.message for p in problems]
    written: list[Path] = []

    # --- per school and per person: the week's sessions with their pupils ---------------------------
    by_school: dict[str, list[Session]] = {}
    by_staff: dict[str, list[Session]] = {}
    for session in sessions:
        by_school.setdefault(session.school_id, []).append(session)
        for member in session.staff:
            by_staff.setdefault(member.staff_id, []).append(session)
    for school_id, items in sorted(by_school.items()):
        site = sites.get(school_id) or Site(school_id, school_id)
        rows = [row for s in items for row in _school_rows(s, site, words)]
        base = folder / "scholen" / f"{safe_id(school_id)}-{slug(site.name)}"
        heading = [f"{site.name}: CLB-sessies {week_words}", f"{clb} · {site.location}"]
        written += _write_pair(base, SCHOOL_COLUMNS, rows, heading, clb, as_of)
    for staff_id, items in sorted(by_staff.items()):
        name = staff_names.get(staff_id, staff_id)
        rows = [row for s in items for row in _staff_rows(s, sites, words)]
        base = folder / "medewerkers" / f"{safe_id(staff_id)}-{slug(name)}"
        written += _write_pair(base, STAFF_COLUMNS, rows, [f"{name}: CLB-sessies {week_words}", clb], clb, as_of)

    # --- overdue and catch-up ---------------------------------------------------------------------------
    monday_text = monday.isoformat()
    backlog: list[dict] = []
    counts = {key: 0 for key in CATEGORIES}
    plan_needs_consent = workspace.config.planning.plan_needs_consent
    due_from = due["due_from_date"].to_numpy().astype("datetime64[D]") if len(due) else np.array([], "datetime64[D]")
    absent_on = due["absent_on"].to_numpy().astype("datetime64[D]") if len(due) else np.array([], "datetime64[D]")
    for i, row in enumerate(due.itertuples(index=False)):
        pupil_id, moment = int(row.pupil_id), row.moment
        tries = placed.get((pupil_id, moment), [])
        if any(day >= monday_text and outcome is None for day, outcome in tries):
            continue  # planned in this week or later
        waiting = [day for day, outcome in tries if day < monday_text and outcome is None]
        since = ""
        if waiting:
            category, since = "results_missing", waiting[-1]
        elif not np.isnat(absent_on[i]):
            category, since = "catch_up", str(absent_on[i])
        else:
            if row.status == "needs_consent" and not plan_needs_consent:
                continue
            if not np.isnat(due_from[i]) and due_from[i] > np.datetime64(sunday, "D"):
                continue  # not due yet (a later dose's interval)
            category = "unplanned"
        counts[category] += 1
        pupil = pupils.get(pupil_id, {})
        site = sites.get(row.school_id)
        backlog.append({**privacy.row(
            school=site.name if site else row.school_id, klas=pupil.get("class_name") or "",
            naam=row.last_name, voornaam=row.first_name, geboortedatum=birth_text(_date(pupil.get("birth_date"))),
            moment=words(moment)), "toestand": CATEGORIES[category],
            "sinds": dutch_short_date(dt.date.fromisoformat(since)) if since else ""})
    backlog.sort(key=lambda r: (r["school"], r["klas"], r["naam"], r["voornaam"], r["moment"]))
    heading = [f"{clb}: achterstand en inhalen, {week_words}",
               "Toestand: resultaat ontbreekt (sessie voorbij, resultaat niet ingelezen), inhalen (niet opnieuw "
               "gepland), niet gepland (in geen enkele sessie)."]
    written += _write_pair(folder / "achterstand", BACKLOG_COLUMNS, backlog, heading, clb, as_of)

    # --- pupils new since the run of an earlier week ------------------------------------------------------
    earlier = sorted(w for w in state if w < label)
    if earlier:
        watermark = int(state[earlier[-1]].get("pupil_watermark", 0))
        new_ids = [pid for pid in pupils if pid > watermark]
        since_words = f"sinds de lijst van {earlier[-1]}"
    else:
        start = (monday - dt.timedelta(days=7)).isoformat()
        new_ids = [pid for pid, p in pupils.items() if start <= (p["first_imported"] or "")[:10] < monday_text]
        since_words = (f"ingelezen van {dutch_short_date(monday - dt.timedelta(days=7))} tot "
                       f"{dutch_short_date(monday - dt.timedelta(days=1))} (eerste lijst)")
    open_moments: dict[int, list[str]] = {}
    for row in due.itertuples(index=False):
        open_moments.setdefault(int(row.pupil_id), []).append(row.moment)
    new_rows = []
    for pid in new_ids:
        p = pupils[pid]
        site = sites.get(p["school_id"])
        new_rows.append({**privacy.row(school=site.name if site else p["school_id"], klas=p["class_name"] or "",
                                       naam=p["last_name"], voornaam=p["first_name"],
                                       geboortedatum=birth_text(_date(p["birth_date"]))),
                         "open": words.join(open_moments.get(pid, []))})
    new_rows.sort(key=lambda r: (r["school"], r["klas"], r["naam"], r["voornaam"]))
    written += _write_pair(folder / "nieuwe-leerlingen", NEW_COLUMNS, new_rows,
                           [f"{clb}: nieuwe leerlingen, {week_words}", f"Leerlingen {since_words}."], clb, as_of)

    # --- warnings, summary, clean-up ----------------------------------------------------------------------
    if not any_plan:
        result.warnings.append("there is no plan yet (no sessions): run `clbhealth plan`.")
    if counts["unplanned"]:
        result.warnings.append(f"{counts['unplanned']} due pupil-moment(s) are in no planned session: "
                               "run `clbhealth plan` (see achterstand.xlsx).")
    if counts["catch_up"]:
        result.warnings.append(f"{counts['catch_up']} pupil-moment(s) missed at a session are not planned again "
                               "yet: run `clbhealth plan`.")
    if counts["results_missing"]:
        result.warnings.append(f"{counts['results_missing']} pupil-moment(s) of past sessions have no result: "
                               "import the attendance sheets with `clbhealth import results`.")
    result.counts = {
        "sessions": len(sessions),
        "schools": len(by_school),
        "staff": len(by_staff),
        "planned_pupil_moments": sum(len(s.pupils) for s in sessions),
        "backlog": counts,
        "new_pupils": len(new_rows),
    }
    summary = {
        "clb": clb,
        "week": label,
        "from": monday.isoformat(),
        "to": (monday + dt.timedelta(days=4)).isoformat(),
        "counts": result.counts,
        "files": sorted(p.relative_to(folder).as_posix() for p in written) + ["summary.json"],
        "warnings": result.warnings,
    }
    with atomic_text(folder / "summary.json") as handle:
        handle.write(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
    written.append(folder / "summary.json")
    _publish(folder, final)
    written = [final / p.relative_to(folder) for p in written]
    result.files = written

    try:  # the run itself (audit) and, for a new week, where the list of new pupils starts next time
        with workspace.writing("weekly") as session:
            session.files.extend(str(p) for p in written)
            session.counts.update({k: v for k, v in result.counts.items() if not isinstance(v, dict)}
                                  | {"week": label, "warnings": len(result.warnings)})
            if label not in state:
                state[label] = {"pupil_watermark": int(max_pupil), "first_run": now_text()}
                session.conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) "
                                     "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                                     (STATE_KEY, json.dumps(state, sort_keys=True)))
    except ClbError as exc:  # the files are complete; only the record of the run is missing
        result.warnings.append(f"the files are written, but the run could not be recorded ({exc.message}); "
                               "next week's list of new pupils may repeat some.")
    return result


def _school_rows(session: Session, site: Site, words: MomentWords) -> list[dict]:
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


def _staff_rows(session: Session, sites: dict[str, Site], words: MomentWords) -> list[dict]:
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


def _write_pair(base: Path, columns: list[Column], rows: list[dict], heading: list[str], clb: str,
                exported: dt.date) -> list[Path]:
    """The same table as XLSX (for people) and CSV (for other software)."""
    workbook = new_workbook()
    table_sheet(workbook, "Lijst", columns, rows, heading=heading, clb_name=clb, exported=exported)
    xlsx = save_workbook(workbook, base.with_suffix(".xlsx"))
    csv_path = write_csv(base.with_suffix(".csv"), columns, rows)
    return [xlsx, csv_path]


def _staging(out_dir: Path, label: str) -> Path:
    """A fresh hidden folder beside the week's folder; leftovers of killed runs are removed."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise ClbError(f"Cannot create the folder {out_dir}: {exc.strerror}.") from None
    for leftover in out_dir.glob(f".{label}.*"):
        shutil.rmtree(leftover, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f".{label}.", suffix=".tmp", dir=out_dir))


def _publish(staging: Path, final: Path) -> None:
    """Put the staged week in place of the old one (two renames; the old one is then removed)."""
    if final.exists():
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        os.rename(final, old)
        os.rename(staging, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(staging, final)


def _remove_stale(folder: Path, written: list[Path]) -> None:
    """Files of an earlier run of this week that this run did not make again (e.g. a moved session)."""
    keep = {p.resolve() for p in written}
    for sub in ("scholen", "medewerkers"):
        for path in (folder / sub).glob("*"):
            if path.suffix in (".xlsx", ".csv") and path.resolve() not in keep:
                path.unlink(missing_ok=True)


def _date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None
