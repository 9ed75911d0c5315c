"""The tables and keys clbhealth.toml may hold: a misspelt one is refused with its line and the
closest known name, never ignored (a `[planing]` table would otherwise silently keep the defaults)."""

from __future__ import annotations

import difflib
import re

# Table -> its keys; None: the keys are codes or names checked where they are read (minutes per
# moment code, windows and roles per moment, weights per soft goal).
KNOWN_SETTINGS: dict[str, frozenset[str] | None] = {
    "clb": frozenset({"name", "school_year", "protocol"}),
    "office": frozenset({"name", "street", "postcode", "municipality", "phone", "email", "lat", "lon"}),
    "due": frozenset({"catch_up_missed_contacts", "hpv_two_dose_15_18"}),
    "minutes": None,
    "calendar": frozenset({"morning", "afternoon", "wednesday_afternoon"}),
    "planning": frozenset({"plan_needs_consent", "consent_return_rate", "notice_school_days",
                           "nurse_assists_vaccination", "windows", "roles", "weights"}),
    "travel": frozenset({"road_factor", "speed_kmh", "matrix"}),
}
_SUBTABLES = {"planning": {"windows", "roles", "weights"}}


def unknown_setting(data: dict, text: str) -> str | None:
    """A sentence naming the first table or key that clbhealth does not know, with its line and
    the closest known name; None when every name is known."""
    for table, value in data.items():
        if table not in KNOWN_SETTINGS:
            return _message(f"[{table}]", table, KNOWN_SETTINGS, text, rf"^\s*\[\s*{re.escape(table)}[\].]")
        keys = KNOWN_SETTINGS[table]
        if keys is None or not isinstance(value, dict):
            continue
        for key in value:
            if key not in keys:
                pattern = rf"^\s*{re.escape(key)}\s*="
                return _message(f"{key} in [{table}]", key, keys, text, pattern)
            if key in _SUBTABLES.get(table, ()) and not isinstance(value[key], dict):
                return f"[{table}] {key} must be a table ([{table}.{key}])"
    return None


def _message(label: str, name: str, known, text: str, pattern: str) -> str:
    line = next((n for n, row in enumerate(text.splitlines(), start=1) if re.match(pattern, row)), None)
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    where = f" (line {line})" if line else ""
    hint = f"; did you mean {close[0]}?" if close else f"; known here: {', '.join(sorted(known))}"
    return f"{label}{where} is not a setting clbhealth knows{hint}"
