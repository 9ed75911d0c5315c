"""The known ids closest to one that is not known, for "did you mean" in error messages."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(value: str, known: Iterable[str], n: int = 3) -> list[str]:
    """Up to `n` known ids like `value`: spelt alike, or for a number the numbers nearest to it."""
    known = sorted(set(known))
    found = difflib.get_close_matches(value, known, n=n, cutoff=0.5)
    head = value.split("-")[0]
    if head.isdigit():
        numbers = [k for k in known if k.split("-")[0].isdigit()]
        numbers.sort(key=lambda k: (abs(int(k.split("-")[0]) - int(head)), k))
        found += [k for k in numbers[:n] if k not in found]
    return found[:n]
