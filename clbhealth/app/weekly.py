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
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

import pandas as pd

from clbhealth.core.dates import dutch_short_date
from clbhealth.core.errors import ClbError
from clbhealth.core.files import atomic_text
from clbhealth.core.staging import staged_folder
from clbhealth.exports import privacy
from clbhealth.core.filenames import distinct_stems, file_stem
from clbhealth.exports.plan import MomentWords, Session, Site, birth_text, load_sessions, load_sites
from clbhealth.exports.weekly import (
    BACKLOG_COLUMNS, NEW_COLUMNS, SCHOOL_COLUMNS, STAFF_COLUMNS, date_or_none, school_rows, staff_rows, write_pair,
)
from clbhealth.workspace import folder as workspace_module, meta, roster as pupil_rows, sessions as plan_rows
from clbhealth.workspace import staff as staff_table
from clbhealth.workspace.folder import Workspace, now_text
from clbhealth.app.weekly_log import log, log_path  # noqa: F401  (log: for the CLI)

LOCK_NAME = workspace_module.WEEKLY_LOCK_NAME
STATE_KEY = "weekly_runs"
CATEGORIES = {  # key in summary.json -> words in achterstand.xlsx
    "results_missing": "resultaat ontbreekt",
    "catch_up": "inhalen",
    "unplanned": "niet gepland",
}


@dataclass
class WeeklyResult:
    week: str
    monday: dt.date
    folder: Path
    files: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    counts: dict = field(default_factory=dict)
    summary: dict = field(default_factory=dict)  # what summary.json says

    @property
    def exit_code(self) -> int:
        return 3 if self.warnings else 0


def coming_week(as_of: dt.date) -> tuple[dt.date, str]:
    """The Monday on or after `as_of` and its ISO week label ('2026-W41')."""
    monday = as_of + dt.timedelta(days=(7 - as_of.weekday()) % 7)
    year, week, _ = monday.isocalendar()
    return monday, f"{year}-W{week:02d}"


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


def run_weekly(workspace: Workspace, out_dir: Path, as_of: dt.date, *, lock_wait: float | None = None,
               csv_separator: str = ";", log_file: Path | None = None) -> WeeklyResult:
    """Write the week's files (CSVs with `csv_separator`); log the outcome; raise ClbError (logged) when the run fails."""
    monday, label = coming_week(as_of)
    try:
        workspace.require_writable()  # refused before a file is written, never after
        with weekly_lock(workspace, lock_wait):
            result = _run(workspace, Path(out_dir), as_of, monday, label, csv_separator)
    except ClbError as exc:
        log(workspace, "ERROR", f"weekly {label}: {exc.message}" + (f" {exc.hint}" if exc.hint else ""), log_file)
        raise
    except Exception as exc:  # a bug: keep the details in the log, tell cron briefly
        log(workspace, "ERROR", f"weekly {label}: unexpected {type(exc).__name__}\n{traceback.format_exc()}", log_file)
        raise ClbError(f"weekly {label} failed: unexpected {type(exc).__name__}: {exc}",
                       hint=f"Details in {log_path(workspace, log_file)}.") from None
    for warning in result.warnings:
        log(workspace, "WARNING", f"weekly {label}: {warning}", log_file)
    log(workspace, "INFO", f"weekly {label}: {len(result.files)} file(s) in {result.folder}; "
        + ", ".join(f"{k} {v}" for k, v in result.counts.items() if not isinstance(v, dict)), log_file)
    return result


@dataclass
class _Week:
    """What one run reads (in one snapshot of the workspace) and the words of its headings."""

    label: str
    monday: dt.date
    as_of: dt.date
    clb: str
    words: MomentWords
    sites: dict[str, Site]
    sessions: list[Session]
    any_plan: bool
    staff_names: dict[str, str]
    placed: dict[tuple[int, str], list[tuple[str, str | None]]]  # (pupil, moment) -> [(date, outcome)]
    pupils: dict[int, dict]
    max_pupil: int
    state: dict  # week label -> {pupil_watermark, first_run}
    csv_separator: str = ";"

    @property
    def sunday(self) -> dt.date:
        return self.monday + dt.timedelta(days=6)

    @property
    def heading_words(self) -> str:
        friday = self.monday + dt.timedelta(days=4)
        return f"week {self.monday.isocalendar()[1]} ({dutch_short_date(self.monday)} – {dutch_short_date(friday)})"


def _read_week(workspace: Workspace, as_of: dt.date, monday: dt.date, label: str) -> _Week:
    sunday = monday + dt.timedelta(days=6)
    with workspace.snapshot() as conn:  # one consistent snapshot of the plan
        sites = load_sites(workspace, conn)
        sessions = load_sessions(conn, date_from=monday, date_to=sunday, current_pupils_only=True)
        any_plan = plan_rows.session_count(conn) > 0
        staff_names = staff_table.staff_names(conn)
        placed: dict[tuple[int, str], list[tuple[str, str | None]]] = {}
        for r in plan_rows.planned_contacts(conn):
            placed.setdefault((int(r[0]), r[1]), []).append((r[2], r[3]))
        pupils = pupil_rows.active_pupils(conn)
        max_pupil = pupil_rows.max_pupil_id(conn)
        state_text = meta.get(conn, STATE_KEY)
    return _Week(label=label, monday=monday, as_of=as_of, clb=workspace.config.clb_name,
                 words=MomentWords(workspace.protocol, workspace.config.school_year), sites=sites,
                 sessions=sessions, any_plan=any_plan, staff_names=staff_names, placed=placed, pupils=pupils,
                 max_pupil=max_pupil, state=json.loads(state_text) if state_text else {})


def _run(workspace: Workspace, out_dir: Path, as_of: dt.date, monday: dt.date, label: str,
         csv_separator: str = ";") -> WeeklyResult:
    from clbhealth.app.due_list import due_list

    final = out_dir / label
    if final.exists() and not _is_week_folder(final):
        raise ClbError(f"{final} exists and is not a folder of weekly lists (no summary.json in it); "
                       "it is not replaced. Nothing was written.",
                       hint="Move it away, or give --out a folder of its own for the weekly lists.")
    result = WeeklyResult(week=label, monday=monday, folder=final)
    week = _read_week(workspace, as_of, monday, label)
    week.csv_separator = csv_separator
    due, problems = due_list(workspace, monday)
    result.warnings += [p.message for p in problems]
    # Everything is written into a hidden folder first, which then takes the week's place in one
    # rename: a killed run (or a full disk) leaves the previous week's files, never a mix of old and new.
    with staged_folder(final) as folder:
        written = _write_week(week, due, folder, result, workspace.config.planning.plan_needs_consent)
    result.files = [final / p.relative_to(folder) for p in written]
    _record_run(workspace, week, result)
    return result


def _write_week(week: _Week, due: pd.DataFrame, folder: Path, result: WeeklyResult,
                plan_needs_consent: bool) -> list[Path]:
    """Every file of the week into `folder`; the counts and warnings into `result`."""
    as_of, csv_separator = week.as_of, week.csv_separator
    written, schools, people = _write_sessions(week, folder)
    backlog, counts = _backlog(week, due, plan_needs_consent)
    heading = [f"{week.clb}: achterstand en inhalen, {week.heading_words}",
               "Toestand: resultaat ontbreekt (sessie voorbij, resultaat niet ingelezen), inhalen (niet opnieuw "
               "gepland), niet gepland (in geen enkele sessie)."]
    written += write_pair(folder / "achterstand", BACKLOG_COLUMNS, backlog, heading, week.clb, as_of, csv_separator)
    new_rows, since_words = _new_pupils(week, due)
    written += write_pair(folder / "nieuwe-leerlingen", NEW_COLUMNS, new_rows,
                          [f"{week.clb}: nieuwe leerlingen, {week.heading_words}", f"Leerlingen {since_words}."],
                          week.clb, as_of, csv_separator)
    result.warnings += _warnings(week.any_plan, counts)
    result.counts = {
        "sessions": len(week.sessions),
        "schools": schools,
        "staff": people,
        "planned_pupil_moments": sum(len(s.pupils) for s in week.sessions),
        "backlog": counts,
        "new_pupils": len(new_rows),
    }
    written.append(_write_summary(week, folder, result, written))
    return written


def _is_week_folder(folder: Path) -> bool:
    """An earlier run's week folder (with its summary.json), or an empty folder: safe to replace."""
    return folder.is_dir() and ((folder / "summary.json").is_file() or not any(folder.iterdir()))


def _write_sessions(week: _Week, folder: Path) -> tuple[list[Path], int, int]:
    """Per school and per person: the week's sessions with their pupils. Returns (files, schools, people)."""
    by_school: dict[str, list[Session]] = {}
    by_staff: dict[str, list[Session]] = {}
    for session in week.sessions:
        by_school.setdefault(session.school_id, []).append(session)
        for member in session.staff:
            by_staff.setdefault(member.staff_id, []).append(session)
    written: list[Path] = []
    site_names = {sid: (week.sites.get(sid) or Site(sid, sid)).name for sid in by_school}
    school_stems = distinct_stems((sid, file_stem(sid, site_names[sid])) for sid in sorted(by_school))
    staff_stems = distinct_stems((staff_id, file_stem(staff_id, week.staff_names.get(staff_id, staff_id)))
                                 for staff_id in sorted({*week.staff_names, *by_staff}))  # the same name every week
    for school_id, items in sorted(by_school.items()):
        site = week.sites.get(school_id) or Site(school_id, school_id)
        rows = [row for s in items for row in school_rows(s, site, week.words)]
        base = folder / "scholen" / school_stems[school_id]
        heading = [f"{site.name}: CLB-sessies {week.heading_words}", f"{week.clb} · {site.location}"]
        written += write_pair(base, SCHOOL_COLUMNS, rows, heading, week.clb, week.as_of, week.csv_separator)
    for staff_id, items in sorted(by_staff.items()):
        name = week.staff_names.get(staff_id, staff_id)
        rows = [row for s in items for row in staff_rows(s, week.sites, week.words)]
        base = folder / "medewerkers" / staff_stems[staff_id]
        written += write_pair(base, STAFF_COLUMNS, rows, [f"{name}: CLB-sessies {week.heading_words}", week.clb],
                              week.clb, week.as_of, week.csv_separator)
    return written, len(by_school), len(by_staff)


def _backlog(week: _Week, due: pd.DataFrame, plan_needs_consent: bool) -> tuple[list[dict], dict[str, int]]:
    """Overdue and catch-up: due pupil-moments planned in no session from this week on."""
    # A session before the run's date whose result is not in is "resultaat ontbreekt"; one from the
    # run's date on (later this week, or in the coming week) has not happened yet.
    today_text = week.as_of.isoformat()
    backlog: list[dict] = []
    counts = {key: 0 for key in CATEGORIES}
    due_from = due["due_from_date"].to_numpy().astype("datetime64[D]") if len(due) else np.array([], "datetime64[D]")
    absent_on = due["absent_on"].to_numpy().astype("datetime64[D]") if len(due) else np.array([], "datetime64[D]")
    for i, row in enumerate(due.itertuples(index=False)):
        pupil_id, moment = int(row.pupil_id), row.moment
        tries = week.placed.get((pupil_id, moment), [])
        if any(day >= today_text and outcome is None for day, outcome in tries):
            continue  # planned on the run's date or later
        waiting = [day for day, outcome in tries if day < today_text and outcome is None]
        since = ""
        if waiting:
            category, since = "results_missing", waiting[-1]
        elif not np.isnat(absent_on[i]):
            category, since = "catch_up", str(absent_on[i])
        else:
            if row.status == "needs_consent" and not plan_needs_consent:
                continue
            if not np.isnat(due_from[i]) and due_from[i] > np.datetime64(week.sunday, "D"):
                continue  # not due yet (a later dose's interval)
            category = "unplanned"
        counts[category] += 1
        pupil = week.pupils.get(pupil_id, {})
        site = week.sites.get(row.school_id)
        backlog.append({**privacy.row(
            school=site.name if site else row.school_id, klas=pupil.get("class_name") or "",
            naam=row.last_name, voornaam=row.first_name,
            geboortedatum=birth_text(date_or_none(pupil.get("birth_date"))), moment=week.words(moment)),
            "toestand": CATEGORIES[category],
            "sinds": dutch_short_date(dt.date.fromisoformat(since)) if since else ""})
    backlog.sort(key=lambda r: (r["school"], r["klas"], r["naam"], r["voornaam"], r["moment"]))
    return backlog, counts


def _new_pupils(week: _Week, due: pd.DataFrame) -> tuple[list[dict], str]:
    """Pupils new since the run of an earlier week (the first run: imported in the week before)."""
    monday = week.monday
    earlier = sorted(w for w in week.state if w < week.label)
    if earlier:
        watermark = int(week.state[earlier[-1]].get("pupil_watermark", 0))
        new_ids = [pid for pid in week.pupils if pid > watermark]
        since_words = f"sinds de lijst van {earlier[-1]}"
    else:
        start = (monday - dt.timedelta(days=7)).isoformat()
        new_ids = [pid for pid, p in week.pupils.items()
                   if start <= (p["first_imported"] or "")[:10] < monday.isoformat()]
        since_words = (f"ingelezen van {dutch_short_date(monday - dt.timedelta(days=7))} tot "
                       f"{dutch_short_date(monday - dt.timedelta(days=1))} (eerste lijst)")
    open_moments: dict[int, list[str]] = {}
    for row in due.itertuples(index=False):
        open_moments.setdefault(int(row.pupil_id), []).append(row.moment)
    new_rows = []
    for pid in new_ids:
        p = week.pupils[pid]
        site = week.sites.get(p["school_id"])
        new_rows.append({**privacy.row(school=site.name if site else p["school_id"], klas=p["class_name"] or "",
                                       naam=p["last_name"], voornaam=p["first_name"],
                                       geboortedatum=birth_text(date_or_none(p["birth_date"]))),
                         "open": week.words.join(open_moments.get(pid, []))})
    new_rows.sort(key=lambda r: (r["school"], r["klas"], r["naam"], r["voornaam"]))
    return new_rows, since_words


def _warnings(any_plan: bool, counts: dict[str, int]) -> list[str]:
    warnings = []
    if not any_plan:
        warnings.append("there is no plan yet (no sessions): run `clbhealth plan`.")
    if counts["unplanned"]:
        warnings.append(f"{counts['unplanned']} due pupil-moment(s) are in no planned session: "
                        "run `clbhealth plan` (see achterstand.xlsx).")
    if counts["catch_up"]:
        warnings.append(f"{counts['catch_up']} pupil-moment(s) missed at a session are not planned again "
                        "yet: run `clbhealth plan`.")
    if counts["results_missing"]:
        warnings.append(f"{counts['results_missing']} pupil-moment(s) of past sessions have no result: "
                        "import the attendance sheets with `clbhealth import results`.")
    return warnings


def _write_summary(week: _Week, folder: Path, result: WeeklyResult, written: list[Path]) -> Path:
    summary = {
        "clb": week.clb,
        "week": week.label,
        "from": week.monday.isoformat(),
        "to": (week.monday + dt.timedelta(days=4)).isoformat(),
        "counts": result.counts,
        "files": sorted(p.relative_to(folder).as_posix() for p in written) + ["summary.json"],
        "warnings": result.warnings,
    }
    result.summary = summary
    with atomic_text(folder / "summary.json") as handle:
        handle.write(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
    return folder / "summary.json"


def _record_run(workspace: Workspace, week: _Week, result: WeeklyResult) -> None:
    """The run itself (audit) and, for a new week, where the list of new pupils starts next time."""
    try:
        with workspace.writing("weekly") as session:
            session.files.extend(str(p) for p in result.files)
            session.counts.update({k: v for k, v in result.counts.items() if not isinstance(v, dict)}
                                  | {"week": week.label, "warnings": len(result.warnings)})
            if week.label not in week.state:
                week.state[week.label] = {"pupil_watermark": int(week.max_pupil), "first_run": now_text()}
                meta.put(session.conn, STATE_KEY, json.dumps(week.state, sort_keys=True))
    except ClbError as exc:  # the files are complete; only the record of the run is missing
        result.warnings.append(f"the files are written, but the run could not be recorded ({exc.message}); "
                               "next week's list of new pupils may repeat some.")
