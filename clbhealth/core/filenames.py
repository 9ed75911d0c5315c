"""File names made from ids and names: one safe-name function, and distinct names for a set of files.

Ids come from users (`A.01`, `621-3`, `Jan/Piet`); a file name made from one must be valid on
Windows, macOS and Linux, never hidden, never a reserved device name, and two files of one export
must never get the same name (Windows and macOS compare names without case).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def slug(text: str, limit: int = 50) -> str:
    """'Basisschool De Linde (Geel)' -> 'basisschool-de-linde-geel'."""
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch)).lower()
    out = re.sub(r"[^a-z0-9]+", "-", plain).strip("-")
    return out[:limit].rstrip("-") or "x"


def safe_id(text: str, limit: int = 60) -> str:
    """An id usable in a file name: letters, digits, `_`, `-` and inner dots ('A.01' stays 'A.01')."""
    out = re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip(". ")[:limit].rstrip(". ")
    if not out:
        return "x"
    if out.split(".")[0].upper() in _WINDOWS_RESERVED:
        out = "_" + out
    return out


def file_stem(identifier: str, name: str = "") -> str:
    """The stem of a file for one id and its name: '621-3-basisschool-de-linde'."""
    return f"{safe_id(identifier)}-{slug(name)}" if name else safe_id(identifier)


def distinct_stems(stems: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """key -> stem, with '-2', '-3' added where two stems would be the same file (ignoring case)."""
    pairs = stems.items() if isinstance(stems, Mapping) else stems
    taken: set[str] = set()
    result: dict[str, str] = {}
    for key, stem in pairs:
        candidate, number = stem, 1
        while candidate.casefold() in taken:
            number += 1
            candidate = f"{stem}-{number}"
        taken.add(candidate.casefold())
        result[key] = candidate
    return result
