"""The log of `clbhealth weekly` for cron: the standard `logging` module with a file handler.

One line per message line: `<time> <LEVEL> <text>`, INSZ-like digit runs masked, never personal
data. The file is the workspace's logs/weekly.log unless `--log-file` names another; it is created
owner-only (0600 where the system has file modes). A log that cannot be written never turns a good
run into a failed one.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from clbhealth.core.privacy import mask_insz_like
from clbhealth.workspace.folder import LOG_FOLDER, Workspace, now_text

LOG_NAME = "weekly.log"
_LOGGER = logging.getLogger("clbhealth.weekly")
_LOGGER.setLevel(logging.INFO)
_LOGGER.propagate = False  # only the file: cron mails what is printed, and the CLI prints on its own


class _PrivateFileHandler(logging.FileHandler):
    """Appends to the log file, created owner-only; a failed write is dropped, not raised or printed."""

    def _open(self):  # FileHandler's hook for opening its stream
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)

    def handleError(self, record: logging.LogRecord) -> None:
        pass


class _LineFormatter(logging.Formatter):
    """`<time> <LEVEL> <text>` for every line of the message, digits that look like an INSZ masked."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = now_text()
        lines = record.getMessage().splitlines() or [""]
        return "\n".join(f"{stamp} {record.levelname:<7} {mask_insz_like(line)}" for line in lines)


def log_path(workspace: Workspace, log_file: Path | None = None) -> Path:
    """Where the weekly run logs: `log_file`, else the workspace's logs/weekly.log."""
    return Path(log_file).expanduser() if log_file is not None else workspace.root / LOG_FOLDER / LOG_NAME


def log(workspace: Workspace, level: str, message: str, log_file: Path | None = None) -> None:
    """One message (INFO, WARNING or ERROR) in the weekly log."""
    path = log_path(workspace, log_file)
    try:
        if log_file is None:
            path.parent.mkdir(mode=0o700, exist_ok=True)
        handler = _PrivateFileHandler(path, encoding="utf-8")
    except OSError:
        return  # logging must never turn a good run into a failed one
    handler.setFormatter(_LineFormatter())
    _LOGGER.addHandler(handler)
    try:
        _LOGGER.log(logging.getLevelName(level), message)
    finally:
        _LOGGER.removeHandler(handler)
        handler.close()
