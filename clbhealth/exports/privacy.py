"""The allow-list of what may leave the CLB towards a school (and in the weekly lists).

A school's care coordinator needs to know who comes when, where and for what, and nothing more:
name, first name, class, birth date, date, day, time, the contact moment or vaccination in words,
the CLB staff's names and the location. Never INSZ, pupil numbers, education, consent, objections,
refusals, outcomes, history or reasons. Every school-facing and weekly file builds its columns
through `columns()` and its rows through `row()`, which refuse any other field.
"""

from __future__ import annotations

from clbhealth.exports.workbook import Column

ALLOWED: dict[str, Column] = {
    c.key: c
    for c in (
        Column("datum", "Datum", 14),
        Column("dag", "Dag", 12),
        Column("uur", "Uur", 13),
        Column("tijdstip", "Tijdstip", 10),
        Column("school", "School", 24),
        Column("klas", "Klas", 10, 30),
        Column("naam", "Naam", 16, 30),
        Column("voornaam", "Voornaam", 14, 30),
        Column("geboortedatum", "Geboortedatum", 14),
        Column("moment", "Contactmoment / vaccinatie", 28, 60),
        Column("medewerkers", "CLB-medewerker(s)", 26, 60),
        Column("locatie", "Locatie", 30, 60),
        Column("aantal", "Aantal leerlingen", 10),
        Column("blad", "Blad", 12),
        Column("taak", "Wat de school doet", 60, 62),  # the school's own tasks (Info sheet), no pupil data
        Column("uiterlijk", "Uiterlijk", 16),
    )
}


def columns(*keys: str, headers: dict[str, str] | None = None) -> list[Column]:
    """Columns for a school-facing file; a key outside the allow-list is a programming error."""
    out = []
    for key in keys:
        if key not in ALLOWED:
            raise ValueError(f"'{key}' is not on the allow-list of fields a school may receive")
        column = ALLOWED[key]
        if headers and key in headers:
            column = Column(column.key, headers[key], column.width, column.max_width)
        out.append(column)
    return out


def row(**fields: object) -> dict:
    """One row of a school-facing file, checked against the allow-list."""
    extra = set(fields) - set(ALLOWED)
    if extra:
        raise ValueError(f"not on the allow-list of fields a school may receive: {sorted(extra)}")
    return fields
