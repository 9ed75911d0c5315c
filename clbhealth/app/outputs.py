"""Where a command may write its output, checked before anything is written.

Never onto a file of a workspace (its database with -wal/-shm, clbhealth.toml, locks, logs), never
over an existing file that is not an earlier export of the same kind (`due -o notes.docx`), never
over a pipe or device, and a folder of many files never the workspace folder itself. Every command
with `-o`/`--out`/`--output` calls `check_output_file` or `check_output_folder` first.
"""

from __future__ import annotations

import os
from pathlib import Path

from clbhealth.core.errors import ClbError
from clbhealth.core.filekinds import HEAD_BYTES, is_text, looks_like, refuse_other_kind
from clbhealth.workspace.folder import LOG_FOLDER, Workspace, holds_workspace, workspace_file


def check_output_file(workspace: Workspace, path: Path, kind: str) -> Path:
    """Refuse `path` as the output of `kind` (a key of KINDS) when writing it could destroy something."""
    path = Path(path).expanduser()
    _refuse_workspace_file(workspace, path, "file")
    refuse_other_kind(path, kind)
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
                head = handle.read(HEAD_BYTES)
        except OSError as exc:
            raise ClbError(f"--log-file {path} cannot be read to see what it is ({exc.strerror}).") from None
        if not is_text(head, path):
            raise ClbError(f"--log-file {path} exists and is not a text file (it looks like {looks_like(head, path)}); "
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
