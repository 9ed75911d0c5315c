"""What an existing file is, seen from its first bytes: an earlier export of a kind clbhealth writes
(an Excel workbook, a CSV or text file, JSON, a web page, a PDF, a calendar), or something else
that an export must never overwrite (a Word document, a database, ...). Used for `-o FILE`
(app.outputs) and for every file of a folder export (core.staging) before anything is written."""

from __future__ import annotations

import codecs
import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from clbhealth.core.errors import ClbError
from clbhealth.core.privacy import shown_path

HEAD_BYTES = 64 * 1024


@dataclass(frozen=True)
class Kind:
    """A kind of output file: its words, the file name endings of earlier exports, a test of their content."""

    words: str
    suffixes: tuple[str, ...]
    looks_right: Callable[[bytes, Path], bool]


def text_of(head: bytes) -> str | None:
    """The start of a file as UTF-8 text, or None for binary data."""
    if b"\x00" in head:
        return None
    try:
        return codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError:
        return None


def is_xlsx(_head: bytes, path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def _starts(*prefixes: str) -> Callable[[bytes, Path], bool]:
    def test(head: bytes, _path: Path) -> bool:
        text = text_of(head)
        return text is not None and text.lstrip().lower().startswith(prefixes)
    return test


def is_text(head: bytes, _path: Path) -> bool:
    return text_of(head) is not None and not head.startswith((b"PK\x03\x04", b"%PDF-", b"{\\rtf"))


KINDS = {
    "xlsx": Kind("an Excel workbook (.xlsx)", (".xlsx",), is_xlsx),
    "csv": Kind("a CSV file", (".csv", ".txt", ".tsv"), is_text),
    "text": Kind("a text file", (".txt", ".csv"), is_text),  # the plain table of `due -o FILE`
    "json": Kind("a JSON file", (".json", ".txt"), _starts("{", "[")),
    "html": Kind("a web page (.html)", (".html", ".htm"), _starts("<!doctype html", "<html")),
    "pdf": Kind("a PDF file", (".pdf",), lambda head, _p: head.startswith(b"%PDF-")),
    "ics": Kind("a calendar (.ics)", (".ics",), _starts("begin:vcalendar")),
}


def refuse_other_kind(path: Path, kind: str, info: os.stat_result | None = None) -> None:
    """Refuse to overwrite `path` when it exists and is not a file of `kind` (a key of KINDS) that clbhealth
    wrote before; an empty file, or none, is fine."""
    path = Path(path)
    if info is None:
        try:
            info = os.stat(path)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise ClbError(f"Cannot write {shown_path(path)}: {exc.strerror}.", hint="Choose another file name.") from None
    if stat.S_ISDIR(info.st_mode):
        raise ClbError(f"{shown_path(path)} is a folder; give a file name.")
    if not stat.S_ISREG(info.st_mode):
        raise ClbError(f"{shown_path(path)} is not a regular file (a pipe or device); clbhealth writes only to files.",
                       hint="Give the name of a file to write, or leave out the option to print to the screen.")
    if info.st_size == 0:
        return  # an empty file holds nothing to lose
    wanted = KINDS[kind]
    try:
        with open(path, "rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError as exc:
        raise ClbError(f"{shown_path(path)} exists and cannot be read to see what it is ({exc.strerror}).",
                       hint="Choose a new file name, or move the file away first.") from None
    if path.suffix.lower() not in wanted.suffixes or not wanted.looks_right(head, path):
        raise ClbError(f"{shown_path(path)} exists and is not {wanted.words} that clbhealth wrote before "
                       f"(it looks like {looks_like(head, path)}); it is not overwritten.",
                       hint="Choose a new file name, or move or delete the file yourself if it may go.")


def looks_like(head: bytes, path: Path) -> str:
    """A few words on what an existing file seems to be, for the refusal."""
    if head.startswith(b"SQLite format 3"):
        return "an SQLite database"
    if head.startswith(b"PK\x03\x04"):
        return "an Excel workbook" if is_xlsx(head, path) else "a ZIP-based document (Word, OpenDocument, ...)"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "an old Office document (.doc, .xls)"
    if head.startswith(b"%PDF-"):
        return "a PDF file"
    if text_of(head) is None:
        return "binary data"
    return f"a text file ({path.suffix})" if path.suffix else "a text file without a name ending"
