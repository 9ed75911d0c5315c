"""Opening an input file: only a regular file of a sane size, read in one go, with a clear message if not.

Every file clbhealth reads from the user (rosters, lists, attendance sheets, a travel matrix, a protocol,
clbhealth.toml) comes through `read_input`: a pipe (FIFO) would block the command forever and a device
such as /dev/zero would fill the memory, so both are refused before anything is read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from clbhealth.core.errors import ClbError
from clbhealth.core.privacy import shown_path

MAX_INPUT_BYTES = 200 * 1024 * 1024  # far above any school's roster; a bigger file is a mistake
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)


def read_input(path: Path, *, limit: int = MAX_INPUT_BYTES, what: str = "file") -> bytes:
    """The bytes of the regular file `path`; ClbError naming the file when it is none or cannot be read."""
    path = Path(path)
    try:
        # Non-blocking: opening a FIFO does not wait for a writer; it is refused by the fstat below.
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        raise ClbError(f"{shown_path(path)}: no such file.", hint="Check the path and the file name.") from None
    except IsADirectoryError:
        raise ClbError(f"{shown_path(path)} is a folder, not a file.", hint=f"Give the path of the {what} itself.") from None
    except PermissionError:
        if path.is_dir():  # Windows says "permission denied" for a folder
            raise ClbError(f"{shown_path(path)} is a folder, not a file.", hint=f"Give the path of the {what} itself.") from None
        raise _unreadable(path, "permission denied") from None
    except OSError as exc:
        raise _unreadable(path, exc.strerror or str(exc)) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise ClbError(f"{shown_path(path)} is a folder, not a file.", hint=f"Give the path of the {what} itself.")
        if not stat.S_ISREG(info.st_mode):
            raise ClbError(f"{shown_path(path)} is not a regular file but {_kind(info.st_mode)}.",
                           hint=f"Save the {what} as a file on disk and give that file's path.")
        if info.st_size > limit:
            raise _too_big(path, limit, what)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise _unreadable(path, exc.strerror or str(exc)) from None
    finally:
        os.close(fd)
    if len(data) > limit:  # it grew while being read
        raise _too_big(path, limit, what)
    return data


def read_input_text(path: Path, *, limit: int = MAX_INPUT_BYTES, what: str = "file",
                    encoding: str = "utf-8") -> str:
    """`read_input` decoded; UnicodeDecodeError is left to the caller, who knows what the file should be."""
    return read_input(path, limit=limit, what=what).decode(encoding)


def _unreadable(path: Path, reason: str) -> ClbError:
    return ClbError(f"{shown_path(path)}: cannot be read ({reason}).",
                    hint="Check that the file is yours to read (its permissions), or copy it to a folder of "
                    "your own, then run the command again.")


def _too_big(path: Path, limit: int, what: str) -> ClbError:
    return ClbError(f"{shown_path(path)} is larger than {limit // (1024 * 1024)} MB, the most clbhealth reads.",
                    hint=f"Check that this is the {what} you meant; split a very large one into smaller files.")


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "something without contents to read"
