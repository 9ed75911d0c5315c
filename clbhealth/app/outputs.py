"""Where a command may write its output, checked before anything is written.

Never onto a file of a workspace (its database with -wal/-shm, clbhealth.toml, locks, logs), never
over an existing file that is not an earlier export of the same kind (`due -o notes.docx`), never
over a pipe or device, and a folder of many files never the workspace folder itself. Every command
with `-o`/`--out`/`--output` calls `check_output_file` or `check_output_folder` first.
"""

from __future__ import annotations

import codecs
import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from clbhealth.core.errors import ClbError
from clbhealth.workspace.folder import LOG_FOLDER, Workspace, holds_workspace, workspace_file

_HEAD_BYTES = 64 * 1024


@dataclass(frozen=True)
class Kind:
    """A kind of output file: its words, the file name endings of earlier exports, a test of their content."""

    words: str
    suffixes: tuple[str, ...]
    looks_right: Callable[[bytes, Path], bool]


def _text(head: bytes) -> str | None:
    """The start of a file as UTF-8 text, or None for binary data."""
    if b"\x00" in head:
        return None
    try:
        return codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError:
        return None


def _is_xlsx(_head: bytes, path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def _starts(*prefixes: str) -> Callable[[bytes, Path], bool]:
    def test(head: bytes, _path: Path) -> bool:
        text = _text(head)
        return text is not None and text.lstrip().lower().startswith(prefixes)
    return test


def _is_text(head: bytes, _path: Path) -> bool:
    return _text(head) is not None and not head.startswith((b"PK\x03\x04", b"%PDF-", b"{\\rtf"))


KINDS = {
    "xlsx": Kind("an Excel workbook (.xlsx)", (".xlsx",), _is_xlsx),
    "csv": Kind("a CSV file", (".csv", ".txt", ".tsv"), _is_text),
    "text": Kind("a text file", (".txt", ".csv"), _is_text),  # the plain table of `due -o FILE`
    "json": Kind("a JSON file", (".json", ".txt"), _starts("{", "[")),
    "html": Kind("a web page (.html)", (".html", ".htm"), _starts("<!doctype html", "<html")),
    "pdf": Kind("a PDF file", (".pdf",), lambda head, _p: head.startswith(b"%PDF-")),
    "ics": Kind("a calendar (.ics)", (".ics",), _starts("begin:vcalendar")),
}


def check_output_file(workspace: Workspace, path: Path, kind: str) -> Path:
    """Refuse `path` as the output of `kind` (a key of KINDS) when writing it could destroy something."""
    path = Path(path).expanduser()
    _refuse_workspace_file(workspace, path, "file")
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return path
    except OSError as exc:
        raise ClbError(f"Cannot write {path}: {exc.strerror}.", hint="Choose another file name.") from None
    if stat.S_ISDIR(info.st_mode):
        raise ClbError(f"{path} is a folder; give a file name.")
    if not stat.S_ISREG(info.st_mode):
        raise ClbError(f"{path} is not a regular file (a pipe or device); clbhealth writes only to files.",
                       hint="Give the name of a file to write, or leave out the option to print to the screen.")
    if info.st_size == 0:
        return path  # an empty file holds nothing to lose
    wanted = KINDS[kind]
    try:
        with open(path, "rb") as handle:
            head = handle.read(_HEAD_BYTES)
    except OSError as exc:
        raise ClbError(f"{path} exists and cannot be read to see what it is ({exc.strerror}).",
                       hint="Choose a new file name, or move the file away first.") from None
    if path.suffix.lower() not in wanted.suffixes or not wanted.looks_right(head, path):
        raise ClbError(f"{path} exists and is not {wanted.words} that clbhealth wrote before "
                       f"(it looks like {_looks_like(head, path)}); it is not overwritten.",
                       hint="Choose a new file name, or move or delete the file yourself if it may go.")
    return path


def check_log_file(workspace: Workspace, path: Path) -> Path:
    """Refuse a --log-file that is another file of a workspace, a folder, or an existing file that is not text
    (a log is appended to, so an earlier log or any text file is fine)."""
    from clbhealth.app.weekly_log import log_path

    path = Path(path).expanduser()
    if path.resolve() == log_path(workspace).resolve():
        return path
    _refuse_workspace_file(workspace, path, "log")
    if path.is_dir():
        raise ClbError(f"--log-file {path} is a folder; give a file name.")
    if path.exists():
        try:
            with open(path, "rb") as handle:
                head = handle.read(_HEAD_BYTES)
        except OSError as exc:
            raise ClbError(f"--log-file {path} cannot be read to see what it is ({exc.strerror}).") from None
        if not _is_text(head, path):
            raise ClbError(f"--log-file {path} exists and is not a text file (it looks like {_looks_like(head, path)}); "
                           "nothing is appended to it.", hint="Give the name of a log file, new or earlier.")
    return path


def check_output_folder(workspace: Workspace, folder: Path) -> Path:
    """Refuse `folder` for an export of many files when they would mix with a workspace's own files."""
    folder = Path(folder).expanduser()
    _refuse_workspace_file(workspace, folder, "folder")
    if folder.exists() and not folder.is_dir():
        raise ClbError(f"{folder} is not a folder.", hint="Give the folder to write the files to.")
    if folder.is_dir() and holds_workspace(folder):
        raise ClbError(f"{folder} is a workspace folder: the files would mix with its database and settings.",
                       hint=f"Write them to a folder of their own, e.g. {folder / 'exports'}.")
    return folder


def _refuse_workspace_file(workspace: Workspace, path: Path, what: str) -> None:
    """Refuse a path that is a file of this workspace, or of another workspace it lies in."""
    resolved = path.resolve()
    own = workspace.root.resolve()
    roots = [own, resolved.parent]
    if resolved.parent.name == LOG_FOLDER:
        roots.append(resolved.parent.parent)
    for root in roots:
        if root != own and not holds_workspace(root):
            continue
        found = workspace_file(root, resolved) or (_same_file_as(workspace, resolved) if root == own else None)
        if found:
            if found == "the folder":
                raise ClbError(f"{path} is the workspace folder {root} itself: the exported files would mix with "
                               "its database, settings and logs. Nothing was written.",
                               hint=f"Write them to a folder of their own, e.g. {own / 'exports'}.")
            raise ClbError(f"{path} is {found} of the workspace {root}; an export never overwrites a workspace's "
                           "own files. Nothing was written.", hint=f"Write the {what} elsewhere, e.g. into {own / 'exports'}.")


def _same_file_as(workspace: Workspace, path: Path) -> str | None:
    """A hard link to the workspace's database or settings file is that file too."""
    from clbhealth.workspace.settings import CONFIG_NAME

    for own, words in ((workspace.db_path, "the database"), (workspace.root / CONFIG_NAME, "the settings file")):
        try:
            if path.exists() and os.path.samefile(path, own):
                return words
        except OSError:
            continue
    return None


def _looks_like(head: bytes, path: Path) -> str:
    """A few words on what an existing file seems to be, for the refusal."""
    if head.startswith(b"SQLite format 3"):
        return "an SQLite database"
    if head.startswith(b"PK\x03\x04"):
        return "an Excel workbook" if _is_xlsx(head, path) else "a ZIP-based document (Word, OpenDocument, ...)"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "an old Office document (.doc, .xls)"
    if head.startswith(b"%PDF-"):
        return "a PDF file"
    if _text(head) is None:
        return "binary data"
    return f"a text file ({path.suffix})" if path.suffix else "a text file without a name ending"
