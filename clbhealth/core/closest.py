"""The known ids closest to one that is not known, for "did you mean" in error messages."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

_LETTERS_AND_NUMBER = re.compile(r"([A-Za-z]*)0*(\d+)")


def closest(value: str, known: Iterable[str], n: int = 3) -> list[str]:
    """Up to `n` known ids like `value`: spelt alike, or for a number (`9999`, `40642-2`) or letters
    with a number (`V9`, staff ids) the known ones with the same letters and the nearest numbers."""
    known = sorted(set(known))
    found = difflib.get_close_matches(value, known, n=n, cutoff=0.5)
    head = _LETTERS_AND_NUMBER.fullmatch(value.split("-")[0].strip())
    if head:
        letters, number = head.group(1).upper(), int(head.group(2))
        alike = []
        for k in known:
            other = _LETTERS_AND_NUMBER.fullmatch(k.split("-")[0])
            if other and other.group(1).upper() == letters:
                alike.append((abs(int(other.group(2)) - number), k))
        same = [k for distance, k in sorted(alike) if distance == 0]  # `S00001` is S000001: the number itself
        found = same + [k for k in found if k not in same]
        found += [k for _, k in sorted(alike)[:n] if k not in found]
    return found[:n]


def unknown_id_message(said: str, value: str, known: Iterable[str], listed: int = 8) -> str:
    """`said` followed by the closest known ids, or, when none is alike, the first known ones (so an
    unknown id is never answered without the ids that do exist), or that none is known at all."""
    known = sorted(set(known))
    close = closest(value, known)
    if close:
        return f"{said}; the closest known: {', '.join(close)}."
    if not known:
        return f"{said}; none is known yet."
    more = f" (and {len(known) - listed} more)" if len(known) > listed else ""
    return f"{said}; the known ones: {', '.join(known[:listed])}{more}."
