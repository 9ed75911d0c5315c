"""Writing output files safely: a temporary name in the same folder, then an atomic rename."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

from clbhealth.errors import ClbError


@contextmanager
def atomic_path(target: Path, mode: int = 0o600) -> Iterator[Path]:
    """Yield a temporary path next to `target`; on success it replaces `target` in one step.

    A failed or killed writer leaves only a hidden `.name.tmp*` file, never a half-written target.
    """
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ClbError(f"Cannot create the folder {folder}: {exc.strerror}.") from None
    if target.is_dir():
        raise ClbError(f"{target} is a folder; give a file name.")
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    os.close(fd)
    temp = Path(name)
    try:
        yield temp
        os.chmod(temp, mode)
        with open(temp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_text(target: Path, encoding: str = "utf-8", newline: str | None = None) -> Iterator[IO[str]]:
    """Open a text file for writing that appears at `target` only when complete."""
    with atomic_path(target) as temp:
        with open(temp, "w", encoding=encoding, newline=newline) as handle:
            yield handle


def write_bytes_atomic(target: Path, data: bytes) -> None:
    with atomic_path(target) as temp:
        temp.write_bytes(data)
