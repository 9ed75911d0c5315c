"""Several output files published all or nothing: written into a hidden staging folder beside
them, then moved into place together; if anything fails (disk full, read-only) or is interrupted
(Ctrl-C), every target is as it was before, the staging folder is removed, and so are the folders
the run made (when still empty; a killed run's leftovers are removed by the next run).
The error names the folder and the cause in one line ('the disk is full'), never a temporary's path."""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable, Iterator

from clbhealth.core.errors import ClbError
from clbhealth.core.filekinds import refuse_other_kind
from clbhealth.core.files import WriteError, os_hint, os_problem, process_alive
from clbhealth.core.privacy import shown_path

STAGING_PREFIX = ".clbhealth-staging."


def _refused(out_dir: Path, problem: str, hint: str | None) -> ClbError:
    return ClbError(f"Cannot write into {shown_path(out_dir)}: {problem}; nothing was written, the files there "
                    "are as they were.", hint=hint)


def _new_folders(out_dir: Path) -> list[Path]:
    """The folders `out_dir.mkdir(parents=True)` would make, deepest first."""
    return [f for f in (out_dir, *out_dir.parents) if not f.exists()]


def _remove_empty(folders: list[Path]) -> None:
    for made in folders:  # deepest first; a folder someone else filled meanwhile stays
        try:
            made.rmdir()
        except OSError:
            return


@contextmanager
def _failures_named(out_dir: Path, inside: Path | None, made: list[Path]) -> Iterator[None]:
    """Any disk failure while writing into `inside` (a staging folder) is one line naming `out_dir`;
    the folders made for the export are removed again."""
    try:
        yield
    except BaseException as exc:
        if inside is not None:
            shutil.rmtree(inside, ignore_errors=True)
        _remove_empty(made)
        if isinstance(exc, WriteError) and inside is not None and inside in exc.target.parents:
            raise _refused(out_dir, exc.problem, exc.hint) from None
        if isinstance(exc, OSError):  # a writer that wrote straight into the folder, or making the folder
            raise _refused(out_dir, os_problem(exc), os_hint(exc)) from None
        raise


def _refuse_clash(target: Path, kind: str | None) -> None:
    """A target that exists and is not an earlier export of `kind` (a document of the user's that has
    the export's name) refuses the whole export."""
    if kind is None:
        return
    try:
        refuse_other_kind(target, kind)
    except ClbError as exc:
        raise ClbError(exc.message, hint="Export into another folder, or move or delete that file yourself "
                       "if it may go.") from None


@contextmanager
def staged_files(out_dir: Path, kind: str | None = None,
                 targets: Iterable[Path] = ()) -> Iterator[Callable[[Path], Path]]:
    """Yield `stage(target) -> path to write instead`; on success every staged file replaces its target.
    With `kind` (a key of core.filekinds.KINDS), a target that exists and is not an earlier export of that
    kind refuses the whole export: the `targets` known beforehand are checked before any folder is made
    or file written, any other when it is staged."""
    out_dir = Path(out_dir)
    for target in targets:
        _refuse_clash(Path(target), kind)
    made = _new_folders(out_dir)
    with _failures_named(out_dir, None, made):
        out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        _remove_leftovers(out_dir)
        folder = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}.", suffix=".tmp", dir=out_dir))
    staged: dict[Path, Path] = {}

    def stage(target: Path) -> Path:
        _refuse_clash(Path(target), kind)  # also a file that appeared meanwhile
        path = folder / f"{len(staged):04d}" / Path(target).name
        path.parent.mkdir(mode=0o700)
        staged[path] = Path(target)
        return path

    try:
        with _failures_named(out_dir, folder, made):
            yield stage
            _publish(staged, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _remove_leftovers(out_dir: Path) -> None:
    """Staging folders of killed exports (their process is gone) are removed."""
    for leftover in out_dir.glob(f"{STAGING_PREFIX}*.tmp"):
        pid = leftover.name[len(STAGING_PREFIX):].split(".", 1)[0]
        if pid.isdigit() and not process_alive(int(pid)):
            shutil.rmtree(leftover, ignore_errors=True)


def _publish(staged: dict[Path, Path], folder: Path) -> None:
    """Move each staged file onto its target; on a failure put back what was moved."""
    backups: list[tuple[Path, Path | None]] = []
    try:
        for number, (path, target) in enumerate(staged.items()):
            if not path.exists():
                continue  # staged but not written: the caller decided against it
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            backup = None
            if target.exists():
                backup = folder / f"old-{number:04d}"
                os.replace(target, backup)
            backups.append((target, backup))
            os.replace(path, target)
    except OSError as exc:
        failing = target
        for target, backup in reversed(backups):
            try:
                if backup is not None:
                    os.replace(backup, target)
                else:
                    target.unlink(missing_ok=True)
            except OSError:
                pass
        raise ClbError(f"Cannot publish {shown_path(failing)}: {os_problem(exc)}; the files are as they were.",
                       hint=os_hint(exc)) from None


@contextmanager
def staged_folder(final: Path) -> Iterator[Path]:
    """Yield a hidden folder `.NAME.RANDOM.tmp` beside `final`; on success it takes `final`'s place
    (the old one renamed `.NAME.old-PID`, then removed); on a failure the staging folder is removed and
    `final` is as it was. Leftovers of killed runs are removed first (the caller holds a lock)."""
    final = Path(final)
    out_dir = final.parent
    made = _new_folders(out_dir)
    with _failures_named(out_dir, None, made):
        out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        for leftover in out_dir.glob(f".{final.name}.*"):
            shutil.rmtree(leftover, ignore_errors=True)
        folder = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=out_dir))
    try:
        with _failures_named(out_dir, folder, made):
            yield folder
            _swap(folder, final)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _swap(staged: Path, final: Path) -> None:
    """Put `staged` in place of `final` (two renames; the old one is then removed, or put back on a failure)."""
    old = final.with_name(f".{final.name}.old-{os.getpid()}") if final.exists() else None
    if old is not None:
        os.rename(final, old)
    try:
        os.rename(staged, final)
    except OSError:
        if old is not None:
            os.rename(old, final)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
