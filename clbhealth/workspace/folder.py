"""A workspace: a folder with clbhealth.toml, the SQLite database, a lock and a log folder."""

from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Callable, Iterator

from filelock import FileLock, Timeout

from clbhealth.workspace import access, audit as audit_log, schema as db
from clbhealth.workspace.audit import now_text
from clbhealth.workspace.settings import CONFIG_NAME, Config, Office, default_config_text, load_config
from clbhealth.core.dates import SchoolYear
from clbhealth.core.errors import ClbError
from clbhealth.readers.files import read_input
from clbhealth.protocols.model import Protocol, load_protocol

DB_NAME = "clbhealth.sqlite"
LOCK_NAME = ".clbhealth.lock"
PLAN_LOCK_NAME = ".clbhealth-plan.lock"
WEEKLY_LOCK_NAME = ".weekly.lock"
LOG_FOLDER = "logs"
HOME_EDUCATION = "HUISONDERWIJS"
LOCK_WAIT_SECONDS = float(os.environ.get("CLBHEALTH_LOCK_WAIT", "10"))
# Commands whose writes change nothing a plan is made from: they never wait for a plan being made.
NOT_PLAN_INPUT = ("plan", "weekly", "demo", "export")  # first words of the command
RESTORE_NOTE = ("`clbhealth init` only makes new workspaces (in another folder); it never repairs this one, "
                "and clbhealth never makes its database anew.")


@dataclass
class Workspace:
    root: Path
    config: Config

    @property
    def db_path(self) -> Path:
        return self.root / DB_NAME

    @cached_property
    def protocol(self) -> Protocol:
        protocol = load_protocol(self.config.protocol, base=self.root)
        protocol.check_year(self.config.school_year)
        return protocol

    # --- creating and opening ------------------------------------------------------------------

    @classmethod
    def create(cls, root: Path, name: str, school_year: SchoolYear, office: "Office | None" = None) -> "Workspace":
        """Make a new workspace in `root` (created if needed); refuse to overwrite one."""
        root = root.expanduser()
        if (root / CONFIG_NAME).exists() or ((root / DB_NAME).exists() and not _unfinished_init(root / DB_NAME)):
            raise ClbError(f"{root} already holds a clbhealth workspace.", hint="Use it, or choose another folder.")
        protocol = load_protocol("flanders")
        protocol.check_year(school_year)
        try:
            root.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(root, 0o700)
        except OSError as exc:
            raise ClbError(f"Cannot create the workspace folder {root}: {exc.strerror}.") from None
        minutes = {}
        for rule in protocol.in_force(school_year):
            # Each role's own part by default (nurse and doctor apart); a number alone means together.
            parts = {role: rule.minutes for role in rule.staff}
            minutes.setdefault(rule.code, parts if len(parts) > 1 else rule.minutes)
        text = default_config_text(name, school_year, minutes, office)
        # Built under a temporary name, then put in place: a killed init leaves no half-made workspace.
        # The database comes first and the settings file last; the settings file marks a workspace.
        for stale in root.glob(f".{DB_NAME}.init-*"):
            stale.unlink(missing_ok=True)
        temp = root / f".{DB_NAME}.init-{os.getpid()}"
        conn = _open_db(temp, create=True)
        try:
            db.migrate(conn)
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "INSERT INTO schools (school_id, name, level, updated_at) VALUES (?, ?, ?, ?)",
                (HOME_EDUCATION, "Huisonderwijs (CLB-kantoor)", "huisonderwijs", now_text()),
            )
            conn.execute("INSERT INTO meta (key, value) VALUES ('created_at', ?)", (now_text(),))
            audit_log.record(conn, "init", [], {"school_year": str(school_year)})
            conn.execute("COMMIT")
            conn.execute("PRAGMA journal_mode = DELETE")  # one self-contained file to rename
        finally:
            conn.close()
        for suffix in ("-wal", "-shm"):
            Path(f"{root / DB_NAME}{suffix}").unlink(missing_ok=True)
        os.replace(temp, root / DB_NAME)
        _write_private(root / CONFIG_NAME, text)
        (root / "logs").mkdir(mode=0o700, exist_ok=True)
        os.chmod(root / "logs", 0o700)
        return cls(root=root, config=load_config(root))

    @classmethod
    def open(cls, root: Path | str | None) -> "Workspace":
        """Open the workspace in `root` (default: current folder); explain when there is none.

        A workspace that existed is never made anew behind the user's back: a database that is missing,
        empty or lacks tables of its schema is refused (restore it from a backup), never recreated."""
        root = Path(root).expanduser() if root else Path.cwd()
        if not (root / CONFIG_NAME).exists():
            if (root / DB_NAME).exists():
                raise ClbError(
                    f"The workspace {root} has a database ({DB_NAME}) but no settings file ({CONFIG_NAME}).",
                    hint=f"Restore {CONFIG_NAME} from a backup. `clbhealth init` only makes new workspaces "
                    "(in an empty folder); it never repairs one.",
                )
            raise ClbError(
                f"No clbhealth workspace in {root} (no {CONFIG_NAME} there).",
                hint="Create one with `clbhealth init DIR`, or name one with --workspace DIR "
                "or the CLBHEALTH_WORKSPACE environment variable.",
            )
        if not (root / DB_NAME).exists():
            raise ClbError(
                f"The workspace {root} has {CONFIG_NAME} but no database ({DB_NAME}).",
                hint=f"Restore the database from a backup. {RESTORE_NOTE}",
            )
        version = check_database(root / DB_NAME)
        workspace = cls(root=root, config=load_config(root))
        if version < db.SCHEMA_VERSION:
            with workspace.locked(), workspace.connect() as conn:
                db.migrate(conn)
        else:
            workspace._restore_lost_indexes()
        return workspace

    def _restore_lost_indexes(self) -> None:
        """An index the file lost is made again (a read-only workspace keeps working without it)."""
        with self.connect() as conn, suppress(OSError, sqlite3.OperationalError):
            if db.lost_indexes(conn):
                with self.locked():
                    db.restore_indexes(conn)

    # --- database access ----------------------------------------------------------------------

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        conn = _open_db(self.db_path)
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A connection in one read transaction: every read inside sees the same state of the database,
        even while another command is committing."""
        with self.connect() as conn:
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")

    @contextmanager
    def locked(self, command: str = "") -> Iterator[None]:
        """Hold the workspace's write lock; wait a little for another command, then give up clearly."""
        with file_lock(self.root / LOCK_NAME, LOCK_WAIT_SECONDS,
                       lambda holder: ClbError(f"The workspace {self.root} is busy: {holder} is changing it.",
                                               hint="Wait until it has finished and run the command again."),
                       label=command):
            yield

    @contextmanager
    def plan_lock(self) -> Iterator[None]:
        """Held by `plan` from reading the workspace to saving the plan: a second plan is refused, and a
        command that changes what a plan is made from (an import, a purge) is refused while it is held.
        Taking it waits for such a command that is writing now, so the plan reads what it wrote."""
        with file_lock(self.root / PLAN_LOCK_NAME, 0.0,
                       lambda holder: ClbError(f"Another plan is being made in {self.root} ({holder}).",
                                               hint="Wait until it has finished, then run `clbhealth plan` again "
                                                    "if you still need to; two plans at once would book people twice."),
                       label="plan"):
            with self.locked("plan"):
                pass  # an import or purge that is writing has finished
            yield

    def _refuse_while_planning(self, command: str) -> None:
        """Inside the write lock: a command that changes what a plan reads is refused while one is made."""
        if command.split(" ")[0] in NOT_PLAN_INPUT:  # a plan's own save, among others
            return
        path = self.root / PLAN_LOCK_NAME
        if not lock_is_free(path):
            raise ClbError(f"A plan is being made in {self.root} ({lock_holder(path) or 'clbhealth plan'}); "
                           f"`{command}` would change what it is made from, so nothing was changed.",
                           hint="Wait until the plan is saved, then run the command again (and `clbhealth plan` "
                                "after it if the change matters for the plan).")

    @contextmanager
    def writing(self, command: str) -> Iterator["WriteSession"]:
        """One locked transaction: everything inside is stored together, or nothing is."""
        with self.locked(command), self.connect() as conn:
            self._refuse_while_planning(command)
            conn.execute("BEGIN IMMEDIATE")
            session = WriteSession(conn, command)
            try:
                yield session
                if session.rollback:
                    conn.execute("ROLLBACK")
                else:
                    audit_log.record(conn, command, session.files, session.counts)
                    conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def require_writable(self) -> None:
        """Refuse, before anything is written, a workspace whose database cannot take a change (read-only)."""
        with self.connect() as conn:
            access.require_writable(conn, self.root)

    def audit(self, command: str, files: list[str], counts: dict) -> None:
        """Record a command that wrote no data (an export) in the audit log."""
        with self.connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            audit_log.record(conn, command, files, counts)
            conn.execute("COMMIT")


@contextmanager
def file_lock(path: Path, wait: float, busy: "Callable[[str], ClbError]", label: str = "") -> Iterator[None]:
    """An exclusive lock on `path` (filelock: flock on Linux and macOS, msvcrt on Windows); after
    `wait` seconds raise busy(holder). Who holds it is written next to it (see `lock_holder`)."""
    lock = FileLock(path, mode=0o600)
    try:
        lock.acquire(timeout=wait, poll_interval=0.1)
    except Timeout:
        raise busy(lock_holder(path) or "another command") from None
    holder = holder_path(path)
    try:
        try:
            fd = os.open(holder, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(f"clbhealth{' ' + label if label else ''} (pid {os.getpid()}, since {now_text()})")
        except OSError:
            pass  # who holds the lock is a courtesy for `doctor` and the busy message
        yield
    finally:
        try:
            holder.unlink(missing_ok=True)
        except OSError:
            pass
        lock.release()


def workspace_file(root: Path, path: Path) -> str | None:
    """What `path` is of the workspace folder `root` ("the database", ...), or None when it is none of its own
    files: the folder itself, the database with its -wal, -shm and -journal, clbhealth.toml, the locks, the logs
    (and anything in the log folder, however deep)."""
    root, path = Path(root).resolve(), Path(path).resolve()
    name = path.name
    if path == root:
        return "the folder"
    if path == root / LOG_FOLDER:
        return "the log folder"
    if path.parent == root / LOG_FOLDER:
        return "a log"
    if root / LOG_FOLDER in path.parents:
        return "inside the log folder"
    if path.parent != root:
        return None
    if name.startswith((DB_NAME, f".{DB_NAME}")):
        return "the database" if name == DB_NAME else "a file of the database"
    if name == CONFIG_NAME or name.startswith(f".{CONFIG_NAME}."):
        return "the settings file"
    locks = (LOCK_NAME, PLAN_LOCK_NAME, WEEKLY_LOCK_NAME)
    if name in locks or name in {holder_path(root / lock).name for lock in locks}:
        return "a lock file"
    return None


def holds_workspace(folder: Path) -> bool:
    """True when `folder` is (or was) a workspace: it holds clbhealth.toml or the database."""
    return (Path(folder) / CONFIG_NAME).exists() or (Path(folder) / DB_NAME).exists()


def holder_path(lock: Path) -> Path:
    """The file that says which command holds the lock `lock`."""
    return lock.with_name(lock.name + ".holder")


def lock_holder(lock: Path) -> str:
    """Who holds the lock `lock` ("clbhealth (pid 123, since ...)"), or "" when nobody says."""
    try:  # through read_input: a pipe put in its place must not block `doctor` or the busy message
        return read_input(holder_path(lock), limit=4096).decode("utf-8", errors="replace").strip()[:200]
    except (ClbError, OSError):
        return ""


def lock_is_free(lock: Path) -> bool:
    """True when nobody holds the lock `lock` (tried at once, released again); a lock file that does
    not exist is free, and is not made by asking."""
    if not lock.exists():
        return True
    probe = FileLock(lock, mode=0o600)
    try:
        probe.acquire(timeout=0)
    except Timeout:
        return False
    probe.release()
    return True


@dataclass
class WriteSession:
    conn: sqlite3.Connection
    command: str
    files: list[str] | None = None
    counts: dict | None = None
    rollback: bool = False  # set for a dry run: the work is done, then undone

    def __post_init__(self) -> None:
        self.files = []
        self.counts = {}


def _open_db(path: Path, *, create: bool = False) -> sqlite3.Connection:
    """A connection to the database at `path`; only `create` (for `init`) makes a new file."""
    if create and not path.exists():
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
    elif not path.is_file():
        raise ClbError(f"The workspace database {path} is missing.", hint=f"Restore it from a backup. {RESTORE_NOTE}")
    try:
        conn = db.connect(path, create=create)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise _unreadable(path, exc) from None
    return conn


def check_database(path: Path) -> int:
    """Refuse a workspace database that cannot be used as it is; return its schema version.

    Read-only: a refused database is left exactly as it was (a 0-byte file stays 0 bytes)."""
    try:
        if not path.is_file():
            raise ClbError(f"The workspace database {path} is not a file.", hint=f"Restore it from a backup. {RESTORE_NOTE}")
        conn = sqlite3.connect(db.file_uri(path, "ro"), uri=True, timeout=30)
        try:
            state = db.inspect(conn)
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise _unreadable(path, exc) from None
    if state.newer:
        raise db.newer_schema_error(state.version)
    problem = state.problem()
    if problem:
        raise ClbError(f"The workspace database {path} cannot be used: {problem}.",
                       hint=f"Restore {DB_NAME} from a backup (`clbhealth doctor` says what is wrong). {RESTORE_NOTE}")
    return state.version


def _unreadable(path: Path, exc: Exception) -> ClbError:
    if isinstance(exc, sqlite3.Error) and access.cannot_open_because_read_only(path.parent, exc):
        return access.read_only_error(path.parent, "SQLite cannot open the database there, not even to read")
    return ClbError(f"{path} is not a readable clbhealth database ({exc}).",
                    hint="Run `clbhealth doctor`, or restore the file from a backup.")


def _write_private(path: Path, text: str) -> None:
    """Write a file readable by the owner only, complete or not at all (temporary name, then rename)."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _unfinished_init(path: Path) -> bool:
    """True for a database that an interrupted `init` left without its settings file: nothing in it yet."""
    try:
        conn = sqlite3.connect(db.file_uri(path, "ro"), uri=True)
        try:
            if int(conn.execute("PRAGMA user_version").fetchone()[0]) != db.SCHEMA_VERSION:
                return False
            data = sum(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                       for t in ("pupils", "events", "staff", "absences", "closures", "plans"))
            schools = [r[0] for r in conn.execute("SELECT school_id FROM schools")]
            commands = audit_log.commands(conn)
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return data == 0 and schools in ([], [HOME_EDUCATION]) and commands <= {"init"}
