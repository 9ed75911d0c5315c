"""Several output files published all or nothing: written into a hidden staging folder beside
them, then moved into place together; if anything fails (disk full, read-only, Ctrl-C), every
target is as it was before and the staging folder is removed (and the output folder, when the run
created it)."""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from clbhealth.core.errors import ClbError
from clbhealth.core.files import os_problem, process_alive
from clbhealth.core.privacy import shown_path

STAGING_PREFIX = ".clbhealth-staging."


@contextmanager
def staged_files(out_dir: Path) -> Iterator[Callable[[Path], Path]]:
    """Yield `stage(target) -> path to write instead`; on success every staged file replaces its target."""
    out_dir = Path(out_dir)
    created = not out_dir.exists()
    try:
        out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        _remove_leftovers(out_dir)
        folder = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}.", suffix=".tmp", dir=out_dir))
    except OSError as exc:
        raise ClbError(f"Cannot write into {shown_path(out_dir)}: {os_problem(exc)}; nothing was written.") from None
    staged: dict[Path, Path] = {}

    def stage(target: Path) -> Path:
        path = folder / f"{len(staged):04d}" / Path(target).name
        path.parent.mkdir(mode=0o700)
        staged[path] = Path(target)
        return path

    try:
        yield stage
        _publish(staged, folder)
    except BaseException:  # failed or interrupted (Ctrl-C): a folder this run created goes again, if still empty
        shutil.rmtree(folder, ignore_errors=True)
        remove_if_created(out_dir, created)
        raise
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
                       hint="Free some disk space or choose another folder, then run the command again.") from None


def remove_if_created(out_dir: Path, created: bool) -> None:
    """An output folder this run created goes again when the run fails, if it is still empty."""
    if created:
        try:
            out_dir.rmdir()
        except OSError:
            pass
