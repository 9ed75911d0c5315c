"""`clbhealth doctor`: check a workspace and say what to do about each finding.

The doctor only reads: it opens the database read-only, never migrates, holds the write lock
for an instant only (to see whether it is free) and never removes a file. Each check gives a
Finding; a finding with `problem=True` makes the command exit with 1.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path

from clbhealth.workspace import access, audit as audit_log, integrity, schema as db
from clbhealth.workspace.settings import CONFIG_NAME, Config, load_config
from clbhealth.core.errors import ClbError
from clbhealth.workspace.folder import DB_NAME, LOCK_NAME, WEEKLY_LOCK_NAME, lock_holder, lock_is_free

LONG_LOCK = dt.timedelta(hours=2)  # a command holding the lock this long is probably stuck


@dataclass(frozen=True)
class Finding:
    """One check's outcome: what was found and, when something is wrong, what to do about it."""

    check: str
    message: str
    problem: bool = False
    advice: str | None = None


# Relations between tables, checked by query (also where the schema declares no foreign key):
# (child table, child column, parent table, parent column, what the rows are).
RELATIONS = (
    ("pupils", "school_id", "schools", "school_id", "pupils"),
    ("events", "pupil_id", "pupils", "pupil_id", "history events"),
    ("absences", "staff_id", "staff", "staff_id", "absences"),
    ("closures", "school_id", "schools", "school_id", "closures"),
    ("sessions", "plan_id", "plans", "plan_id", "planned sessions"),
    ("sessions", "school_id", "schools", "school_id", "planned sessions"),
    ("session_staff", "session_id", "sessions", "session_id", "session staff rows"),
    ("session_staff", "staff_id", "staff", "staff_id", "session staff rows"),
    ("session_pupils", "session_id", "sessions", "session_id", "session pupil rows"),
    ("session_pupils", "pupil_id", "pupils", "pupil_id", "session pupil rows"),
    ("unplanned", "plan_id", "plans", "plan_id", "unplanned rows"),
    ("unplanned", "pupil_id", "pupils", "pupil_id", "unplanned rows"),
    ("unplanned", "school_id", "schools", "school_id", "unplanned rows"),
)


def check_workspace(root: Path) -> list[Finding]:
    """Every check on the workspace in `root`; raises ClbError only when `root` is no workspace at all."""
    root = Path(root).expanduser()
    if not root.is_dir():
        raise ClbError(f"{root} is not a folder.", hint="Name the workspace folder with --workspace DIR.")
    if not (root / CONFIG_NAME).exists() and not (root / DB_NAME).exists():
        raise ClbError(
            f"No clbhealth workspace in {root} (neither {CONFIG_NAME} nor {DB_NAME}).",
            hint="Name the workspace with --workspace DIR or CLBHEALTH_WORKSPACE.",
        )
    findings: list[Finding] = []
    config = _check_config(root, findings)
    conn = _check_database(root, findings)
    if conn is not None:
        try:
            _check_schema_and_data(conn, findings)
        finally:
            conn.close()
    if config is not None:
        _check_protocol(root, config, findings)
    _check_permissions(root, findings)
    _check_lock(root, findings)
    _check_leftovers(root, findings)
    return findings


# --- settings ------------------------------------------------------------------------------------


def _check_config(root: Path, findings: list[Finding]) -> Config | None:
    path = root / CONFIG_NAME
    if not path.exists():
        findings.append(Finding(
            "settings", f"{CONFIG_NAME} is missing.", True,
            f"Restore {CONFIG_NAME} from a backup, or run `clbhealth init` in a new folder and copy its "
            f"{CONFIG_NAME} here (then set the CLB name and school year in it)."))
        return None
    try:
        config = load_config(root)
    except ClbError as exc:
        findings.append(Finding("settings", exc.message, True,
                                exc.hint or f"Correct the setting it names in {path} and run `clbhealth doctor` again."))
        return None
    findings.append(Finding("settings", f"{CONFIG_NAME} is valid ({config.clb_name}, school year {config.school_year})."))
    return config


def _check_protocol(root: Path, config: Config, findings: list[Finding]) -> None:
    from clbhealth.protocols.model import load_protocol

    try:
        protocol = load_protocol(config.protocol, base=root)
        protocol.check_year(config.school_year)
    except ClbError as exc:
        findings.append(Finding("protocol", exc.message, True,
                                exc.hint or "Fix 'protocol' in clbhealth.toml, or set it back to \"flanders\"."))
        return
    codes = set(protocol.all_codes())
    unknown = sorted(set(config.minutes) - codes)
    unknown += sorted(f"[planning.roles] {c}" for c in set(config.planning.roles) - codes)
    unknown += sorted(f"[planning.windows] {c}" for c in set(config.planning.windows) - codes)
    if unknown:
        findings.append(Finding(
            "protocol", f"{CONFIG_NAME} names codes the protocol does not have: {', '.join(unknown)} (they have no effect).",
            True, "Correct each to one of " + ", ".join(protocol.all_codes()) + ", or remove it."))
    if config.planning.travel_matrix:
        matrix = Path(config.planning.travel_matrix)
        matrix = matrix if matrix.is_absolute() else root / matrix
        if not matrix.is_file():
            findings.append(Finding("settings", f"[travel] matrix names {matrix}, which does not exist.", True,
                                    "Put the travel-time CSV there, or remove the setting."))
    if protocol.missing_cnk():  # no public source gives them: the CLB fills them in its protocol copy
        findings.append(Finding("protocol", "products without a CNK code: " + ", ".join(
            f"{p.name} ({', '.join(p.codes)})" for p in protocol.missing_cnk()) + "; the Vaccinnet export refuses "
            "their doses until the CNK code is filled in (cnk = \"...\" under [[product]] in a copy of the protocol "
            "file, named by 'protocol' in clbhealth.toml)."))
    findings.append(Finding("protocol", f"protocol {protocol.id} loads for {config.school_year} ({len(codes)} codes)."))


# --- database ------------------------------------------------------------------------------------


def _check_database(root: Path, findings: list[Finding]) -> sqlite3.Connection | None:
    path = root / DB_NAME
    if not path.exists():
        findings.append(Finding("database", f"{DB_NAME} is missing.", True,
                                f"Restore {DB_NAME} from a backup into {root}."))
        return None
    try:
        conn = integrity.open_read_only(path)
    except sqlite3.Error as exc:
        if access.cannot_open_because_read_only(root, exc):
            findings.append(Finding("database", f"the workspace is read-only (its folder or the disk): SQLite cannot "
                                    f"open {DB_NAME} there, not even to read.", True, access.HINT))
            return None
        findings.append(Finding("database", f"{DB_NAME} cannot be read as a database ({exc}).", True,
                                f"Restore {DB_NAME} from a backup. Do not run other commands on this workspace until then."))
        return None
    if access.looks_read_only(root):
        findings.append(Finding("database", f"the workspace is read-only ({DB_NAME}, its folder or the disk): "
                                "commands that only show something work; the others refuse.", True, access.HINT))
    return conn


def _check_schema_and_data(conn: sqlite3.Connection, findings: list[Finding]) -> None:
    schema_ok = _check_schema(conn, findings)
    if not _check_integrity(conn, findings) or not schema_ok:
        return  # further checks on a damaged file mean little
    tables = integrity.table_names(conn)
    _check_foreign_keys(conn, findings)
    _check_orphans(conn, tables, findings)
    lost = integrity.missing_indexes(conn)
    if lost:
        findings.append(Finding("indexes", f"{len(lost)} index(es) missing ({', '.join(lost[:5])}): commands work, "
                                "only slower on a large workspace.", True,
                                "The next clbhealth command on this workspace (e.g. clbhealth due) re-creates "
                                "them; no data is lost."))
    if db.schema_version(conn) == db.SCHEMA_VERSION:  # the columns the school-list import adds
        from clbhealth.workspace.schools import position_report

        report = position_report(conn)
        if report is not None:
            findings.append(Finding("school positions", *report))
    if "audit" in tables:
        _check_audit(conn, findings)


def _check_schema(conn: sqlite3.Connection, findings: list[Finding]) -> bool:
    """The schema version and whether the tables fit it; False when further checks mean little."""
    try:
        state = db.inspect(conn)
    except sqlite3.Error as exc:
        findings.append(Finding("schema", f"the schema version cannot be read ({exc}).", True,
                                f"Restore {DB_NAME} from a backup."))
        return False
    version = state.version
    if state.newer:
        findings.append(Finding("schema", f"schema version {version} is newer than this clbhealth knows "
                                f"({db.SCHEMA_VERSION}).", True, "Upgrade clbhealth (pip install -U clbhealth)."))
        return True
    problem = state.problem()
    if problem:
        findings.append(Finding(
            "schema", f"{DB_NAME} cannot be used: {problem}.", True,
            f"Restore {DB_NAME} from a backup. Commands refuse this workspace until then; `clbhealth init` only "
            "makes new workspaces (in another folder) and never repairs this one."))
        return False
    if version < db.SCHEMA_VERSION:
        findings.append(Finding("schema", f"schema version {version} is older than {db.SCHEMA_VERSION}; the next "
                                "clbhealth command that opens the workspace upgrades it (the data is kept).",
                                False))
    else:
        findings.append(Finding("schema", f"schema version {version} (current)."))
    return True


def _check_integrity(conn: sqlite3.Connection, findings: list[Finding]) -> bool:
    """SQLite's integrity check; False for a damaged file."""
    try:
        result = integrity.integrity_messages(conn)
    except sqlite3.Error as exc:
        result = [str(exc)]
    if result != ["ok"]:
        shown = "; ".join(result[:5]) + (" ..." if len(result) > 5 else "")
        findings.append(Finding(
            "integrity", f"the database is damaged: {shown}", True,
            f"Restore {DB_NAME} from a backup and run the imports made since. Until then, run no imports on it; "
            f"`sqlite3 {DB_NAME} .recover` can rescue readable rows into a new file."))
        return False
    findings.append(Finding("integrity", "PRAGMA integrity_check: ok."))
    return True


def _check_foreign_keys(conn: sqlite3.Connection, findings: list[Finding]) -> None:
    try:
        violations = integrity.foreign_key_violations(conn)
    except sqlite3.Error as exc:
        violations = []
        findings.append(Finding("foreign keys", f"cannot be checked ({exc}).", True, f"Restore {DB_NAME} from a backup."))
    if violations:
        groups: dict[tuple[str, str], int] = {}
        for table, _rowid, parent, _fk in violations:
            groups[(table, parent)] = groups.get((table, parent), 0) + 1
        text = "; ".join(f"{n} row(s) of {t} refer to missing {p}" for (t, p), n in sorted(groups.items()))
        findings.append(Finding(
            "foreign keys", text + ".", True,
            f"Restore {DB_NAME} from a backup made before the problem. If there is none, re-import the missing "
            "rows (schools, roster, staff); rows that still refer to nothing are not used by due lists or plans."))
    else:
        findings.append(Finding("foreign keys", "PRAGMA foreign_key_check: no violations."))


def _check_orphans(conn: sqlite3.Connection, tables: set[str], findings: list[Finding]) -> None:
    orphans = []
    for child, column, parent, parent_column, what in RELATIONS:
        if child not in tables or parent not in tables:
            continue
        count = integrity.orphan_count(conn, child, column, parent, parent_column)
        if count:
            orphans.append(f"{count} {what} without their {parent} row ({child}.{column})")
    if "pupils" in tables:
        odd = integrity.pupils_with_odd_leaving(conn)
        if odd:
            orphans.append(f"{odd} pupil(s) whose 'active' and 'left on' disagree")
    if orphans:
        findings.append(Finding(
            "orphans", "; ".join(orphans) + ".", True,
            "Re-import the school list, staff list and rosters (the missing rows come back and the orphans are "
            f"used again), or restore {DB_NAME} from a backup."))
    else:
        findings.append(Finding("orphans", "every row refers to an existing school, pupil, staff member or plan."))


def _check_audit(conn: sqlite3.Connection, findings: list[Finding]) -> None:
    last = audit_log.last_entry(conn)
    if last is None:
        findings.append(Finding("audit log", "the audit log is empty.", True,
                                "The workspace was not made by `clbhealth init`; restore it from a backup."))
    else:
        total = audit_log.entry_count(conn)
        findings.append(Finding("audit log", f"{total} entries; the last: {last[1]} at {last[0]}."))


# --- files ---------------------------------------------------------------------------------------


def _check_permissions(root: Path, findings: list[Finding]) -> None:
    """Owner-only access: 0700 for folders, 0600 for files (health data about children)."""
    wrong: list[tuple[Path, int, int]] = []
    candidates: list[tuple[Path, int]] = [(root, 0o700)]
    for path in sorted(root.iterdir()):  # the database, its -wal/-shm, settings, locks, logs, exports
        candidates.append((path, 0o700 if path.is_dir() else 0o600))
        if path.is_dir() and path.name in ("logs", "exports"):
            candidates.extend((p, 0o700 if p.is_dir() else 0o600) for p in sorted(path.rglob("*")))
    for path, wanted in candidates:
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            continue
        if stat.S_ISLNK(info.st_mode):
            continue
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            wrong.append((path, mode, wanted))
    if wrong:
        shown = "; ".join(f"{p} is {m:04o}" for p, m, _ in wrong[:10]) + (" ..." if len(wrong) > 10 else "")
        commands = " && ".join(f"chmod {w:o} '{p}'" for p, _, w in wrong[:10])
        findings.append(Finding("permissions", f"others may read the workspace: {shown}.", True,
                                f"Make them private: {commands}"))
    else:
        findings.append(Finding("permissions", "the workspace folder and its files are private to their owner."))


def _check_lock(root: Path, findings: list[Finding]) -> None:
    path = root / LOCK_NAME
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        findings.append(Finding("lock", "the lock file cannot be opened (permission denied).", True,
                                f"Make it yours and private: chmod 600 '{path}'."))
        return
    if not lock_is_free(path):
        holder = lock_holder(path)
        since = _lock_since(holder)
        stuck = since is not None and dt.datetime.now().astimezone() - since > LONG_LOCK
        pid = _lock_pid(holder)
        findings.append(Finding(
            "lock", f"a command is changing the workspace now: {holder or 'unknown'}.", stuck,
            (f"It has held the lock for more than {LONG_LOCK.seconds // 3600} hours; if it hangs, stop it "
             f"(kill {pid}); its unfinished changes are rolled back." if stuck else
             "Wait until it has finished; other writing commands wait for it or stop with a clear message.")))
        return
    findings.append(Finding("lock", "the workspace lock is free (a killed command never leaves it locked)."))


def _lock_pid(holder: str) -> int | None:
    import re

    match = re.search(r"pid (\d+)", holder)
    return int(match.group(1)) if match else None


def _lock_since(holder: str) -> dt.datetime | None:
    import re

    match = re.search(r"since ([0-9T:+\-]+)", holder)
    if not match:
        return None
    try:
        return dt.datetime.fromisoformat(match.group(1))
    except ValueError:
        return None


def _check_leftovers(root: Path, findings: list[Finding]) -> None:
    """Temporary files and folders of killed commands (they may hold personal data): at the top of the
    workspace and anywhere under exports/ (a killed export's `.NAME.PID.RANDOM.tmp`, a killed weekly
    run's staging folder `.WEEK.RANDOM.tmp` or the replaced week `.WEEK.old-PID`)."""
    weekly_lock = root / WEEKLY_LOCK_NAME
    weekly_busy = not lock_is_free(weekly_lock)
    candidates = sorted(root.glob(".*"))
    if (root / "exports").is_dir():
        candidates += sorted(p for p in (root / "exports").rglob(".*"))
    leftovers: list[Path] = []
    for path in candidates:
        if any(folder in path.parents for folder in leftovers):
            continue  # inside a leftover folder already listed
        if _is_leftover(path, weekly_busy):
            leftovers.append(path)
    if leftovers:
        findings.append(Finding(
            "leftovers", "temporary files of interrupted commands: " + ", ".join(str(p) for p in leftovers) + ".",
            True, "They are incomplete and may hold personal data; delete them: "
            + " && ".join(f"rm -r '{p}'" if p.is_dir() else f"rm '{p}'" for p in leftovers)))
    else:
        findings.append(Finding("leftovers", "no temporary files of interrupted commands."))


def _is_leftover(path: Path, weekly_busy: bool) -> bool:
    """Whether `path` is a temporary of a command that no longer runs."""
    from clbhealth.core.files import process_alive

    name = path.name
    if name.startswith(f".{DB_NAME}.init-"):
        pid = name[len(f".{DB_NAME}.init-"):].split("-")[0]
    elif ".old-" in name and path.is_dir():  # a week folder being replaced (exports.weekly.publish)
        pid = name.rsplit(".old-", 1)[1]
    elif name.endswith(".tmp"):
        # .NAME.PID.RANDOM.tmp (files.atomic_path) or .NAME.PID.tmp (settings); a weekly staging folder
        # .WEEK.RANDOM.tmp names no process: it is left over when no weekly run holds the lock.
        parts = name.split(".")
        pid = parts[-3] if len(parts) > 3 and parts[-3].isdigit() else parts[-2]
        if not pid.isdigit() and path.is_dir():
            return not weekly_busy
    else:
        return False
    return not (pid.isdigit() and process_alive(int(pid)))
