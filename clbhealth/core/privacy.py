"""What may be shown of an INSZ (national register number): masking in messages, logs and file names.

A file name is user data too: a roster saved as `roster-85073003328.csv` names a child. Every path
that is shown (messages, tables) or recorded (audit log, logs, the source file of a history row)
goes through `shown_path`.
"""

from __future__ import annotations

import re
from pathlib import PurePath

# 11 digits as written (85073003328, 85.07.30-033.28, 850730 033 28), or 10 (Excel dropped the leading 0).
_INSZ_LIKE = re.compile(
    r"(?<!\d)(?:\d{2}[.\-_ /]?\d{2}[.\-_ /]?\d{2}[.\-_ /]?\d{3}[.\-_ /]?\d{2}|\d{10})(?!\d)")


def mask_insz(number: str) -> str:
    """'•••••••••28': enough to find the row, too little to identify a child."""
    digits = re.sub(r"\D", "", number)
    return "•" * max(len(digits) - 2, 0) + digits[-2:]


def mask_insz_like(text: str) -> str:
    """Mask every run of 10 or 11 digits (in the usual INSZ notations) in a text, as mask_insz does."""
    return _INSZ_LIKE.sub(lambda m: mask_insz(m.group(0)), text)


def holds_insz_like(text: str) -> list[str]:
    """The digit runs in `text` written like an INSZ (to be checked by the caller)."""
    return [re.sub(r"\D", "", m.group(0)) for m in _INSZ_LIKE.finditer(text)]


def shown_path(path: str | PurePath | None, *, name_only: bool = False) -> str:
    """A path as it may be shown or recorded: any INSZ-like run of digits in it masked.

    `name_only` keeps the file name alone (what the audit log and row problems record).
    """
    if path is None:
        return ""
    text = PurePath(path).name if name_only else str(path)
    return mask_insz_like(text)
