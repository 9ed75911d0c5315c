"""Writing output files safely: a temporary name in the same folder, then an atomic rename."""

from __future__ import annotations

import errno
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

from clbhealth.core.errors import ClbError
from clbhealth.core.privacy import shown_path


class WriteError(ClbError):
    """Writing `target` failed for a reason of the disk: `problem` says which, in words ('the disk is full').

    A caller writing several files (core.staging) names its own folder instead of a temporary's path."""

    def __init__(self, message: str, *, target: Path, problem: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.target = Path(target)
        self.problem = problem


def write_error(target: Path, exc: OSError, tail: str = "", hint: str | None = None) -> WriteError:
    """'Cannot write FILE: the disk is full<tail>.' as a WriteError."""
    problem = os_problem(exc)
    return WriteError(f"Cannot write {shown_path(target)}: {problem}{tail}.", target=target, problem=problem,
                      hint=hint or os_hint(exc))


@contextmanager
def atomic_path(target: Path, mode: int = 0o600) -> Iterator[Path]:
    """Yield a temporary path next to `target`; on success it replaces `target` in one step.

    A failed or killed writer leaves only a hidden `.name.tmp*` file, never a half-written target.
    """
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        missing = [f for f in (folder, *folder.parents) if not f.exists()]
        for new_folder in reversed(missing):  # new folders for exports are private too
            new_folder.mkdir(mode=0o700, exist_ok=True)
    except OSError as exc:
        problem = os_problem(exc)
        raise WriteError(f"Cannot create the folder {shown_path(folder)}: {problem}.", target=target,
                         problem=problem, hint=os_hint(exc)) from None
    if target.is_dir():
        raise ClbError(f"{shown_path(target)} is a folder; give a file name.")
    if target.exists() and not target.is_file():  # a pipe or device: renaming over it would replace it
        raise ClbError(f"{shown_path(target)} is not a regular file (a pipe or device); clbhealth writes only to files.",
                       hint="Give the name of a file to write.")
    remove_stale_temporaries(target)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise write_error(target, exc) from None
    os.close(fd)
    temp = Path(name)
    try:
        yield temp
        os.chmod(temp, mode)
        with open(temp, "rb") as handle:
            os.fsync(handle.fileno())
        try:
            os.replace(temp, target)
        except OSError as exc:
            raise write_error(target, exc, hint=None if exc.errno in _NOT_IN_USE else
                              "Close the file if it is open in another program, then run the command again.") from None
        _fsync_folder(folder)
    except BaseException as exc:
        temp.unlink(missing_ok=True)
        if isinstance(exc, OSError):  # disk full, read-only, ... while writing: one line, not a traceback
            raise write_error(target, exc, "; the file was left as it was") from None
        raise


_FULL = (errno.ENOSPC, getattr(errno, "EDQUOT", -1))
_NOT_IN_USE = (*_FULL, errno.EROFS)  # a rename that fails for these is not about a file open in another program
FULL_HINT = "Free some disk space, or choose a folder on another disk, then run the command again."
READ_ONLY_HINT = ("The disk or folder may not be written to: choose a folder you may write to (not on a read-only "
                  "disk or share), or make it writable, then run the command again.")
DENIED_HINT = ("Choose a folder you may write to, or check the folder's and the file's permissions (a file open in "
               "another program cannot be replaced either), then run the command again.")
OTHER_HINT = "Check the folder, the free disk space and the permissions, or choose another folder, then run the command again."


def os_problem(exc: OSError) -> str:
    """What an OSError means for someone saving a file: 'the disk is full', 'the folder is read-only'."""
    words = {errno.ENOSPC: "the disk is full", errno.EROFS: "the disk or folder is read-only",
             errno.EACCES: "permission denied", errno.EPERM: "permission denied",
             getattr(errno, "EDQUOT", -1): "the disk quota is used up"}
    return words.get(exc.errno, exc.strerror or str(exc))


def os_hint(exc: OSError) -> str:
    """What to do about an OSError while saving: free space for a full disk, a writable folder for a
    read-only one or a refused permission; never "free some disk space" for a read-only disk."""
    if exc.errno in _FULL:
        return FULL_HINT
    if exc.errno == errno.EROFS:
        return READ_ONLY_HINT
    if exc.errno in (errno.EACCES, errno.EPERM):
        return DENIED_HINT
    return OTHER_HINT


def remove_stale_temporaries(target: Path) -> list[Path]:
    """Remove the hidden temporary files that killed writers of `target` left (their process is gone).

    Returns the files removed. A temporary of a writer that is still running is left alone.
    """
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    removed = []
    try:
        candidates = list(folder.glob(f".{glob_escape(target.name)}.*.tmp"))
    except OSError:
        return removed
    for path in candidates:
        pid_text = path.name[len(target.name) + 2 :].split(".", 1)[0]
        if not pid_text.isdigit() or process_alive(int(pid_text)):
            continue
        try:
            path.unlink()
            removed.append(path)
        except OSError:
            pass
    return removed


def glob_escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs (ours counts as running)."""
    if pid == os.getpid():
        return True
    if os.name == "nt":  # os.kill(pid, 0) on Windows is TerminateProcess: it would end the process asked about
        import ctypes

        return windows_process_alive(pid, ctypes.windll.kernel32)  # type: ignore[attr-defined]
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def windows_process_alive(pid: int, kernel32) -> bool:
    """Whether process `pid` runs, asked of Windows (kernel32) without touching it: a process that
    cannot be opened for lack of rights runs; one that can runs until it has an exit code."""
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return kernel32.GetLastError() == 5  # ERROR_ACCESS_DENIED: someone else's process
    try:
        import ctypes

        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return True
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (a crash right after it must not bring back the old file)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_text(target: Path, encoding: str = "utf-8", newline: str | None = None) -> Iterator[IO[str]]:
    """Open a text file for writing that appears at `target` only when complete."""
    with atomic_path(target) as temp:
        with open(temp, "w", encoding=encoding, newline=newline) as handle:
            yield handle


def write_bytes_atomic(target: Path, data: bytes) -> None:
    with atomic_path(target) as temp:
        temp.write_bytes(data)
