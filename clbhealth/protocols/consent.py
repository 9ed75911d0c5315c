"""The consent state of one pupil for one vaccine series, from its records (pure).

[C] The CLB never vaccinates without written consent (clbaandeleie.be); the latest record counts,
and a dose the CLB gave is such a record. On one day a refusal outranks a consent.
"""

from __future__ import annotations

from typing import Iterable

GIVEN, NO_FORM, REFUSED, ELSEWHERE = "toestemming", "geen formulier", "geweigerd", "elders"
CONSENT_STATES = (GIVEN, NO_FORM, REFUSED, ELSEWHERE)
_STATE_OF = {"consent_given": GIVEN, "done": GIVEN, "consent_refused": REFUSED, "done_external": ELSEWHERE}
_RANK = {"consent_given": 0, "done": 1, "done_external": 2, "consent_refused": 3}


def consent_state(records: Iterable[tuple], as_of: str | None = None) -> str:
    """`records`: (iso date, event status, ...) of one series; records after `as_of` are ignored."""
    latest: tuple[str, int, str] | None = None
    for day, status, *_ in records:
        if status not in _STATE_OF or (as_of is not None and day > as_of):
            continue
        key = (day, _RANK[status], status)
        if latest is None or key > latest:
            latest = key
    return NO_FORM if latest is None else _STATE_OF[latest[2]]
