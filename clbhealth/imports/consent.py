"""`clbhealth import consent`: the returned consent forms (protocol-facts §7).

One row per returned form: the pupil (leerling-id as printed on the form, INSZ, or school and pupil
number), the vaccine, the choice, the date signed and who signed. Choices: `clb` / `toestemming`
(vaccination by the CLB), `geweigerd`, `eigen arts` (the dose is expected as done elsewhere: a
done_external record), `al gevaccineerd` (recorded as done_external on the vaccination date, or the
date signed when the form gives none). All or nothing: a file with an invalid row changes nothing.
A later form for the same pupil and vaccine series replaces the earlier one; both stay on record,
and the audit log counts the replaced forms.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from clbhealth.core.dates import parse_date
from clbhealth.core.errors import Problem
from clbhealth.imports.common import ImportResult, RowChecker, refuse_if_invalid
from clbhealth.protocols.model import Protocol
from clbhealth.readers.tabular import FieldSpec, Table, read_table
from clbhealth.readers.values import (
    mask_insz,
    parse_insz,
    parse_pupil_number,
    parse_school_id,
    text_of,
)
from clbhealth.workspace import vaccination as store
from clbhealth.workspace.folder import Workspace, now_text

CONSENT_FIELDS = (
    FieldSpec("pupil_id", ("leerling-id", "leerling id", "leerlingid", "pupil id")),
    FieldSpec("insz", ("rijksregisternummer", "insz_nummer", "rrn", "nationalRegistrationNo")),
    FieldSpec("school_id", ("instellingsnummer", "schoolnummer", "school")),
    FieldSpec("pupil_number", ("stamboeknummer", "leerlingnummer", "stamnummer", "pupil number")),
    FieldSpec("vaccine", ("vaccin", "vaccinatie", "code", "dosis"), True),
    FieldSpec("choice", ("keuze", "antwoord", "beslissing"), True),
    FieldSpec("signed_on", ("datum ondertekend", "ondertekend op", "datum handtekening", "date signed", "datum"), True),
    FieldSpec("signed_by", ("ondertekend door", "getekend door", "handtekening van", "signed by"), True),
    FieldSpec("done_on", ("datum vaccinatie", "gevaccineerd op", "vaccinatiedatum", "vaccination date")),
    # Printed on the class list for the school staff; read so they are not reported as unused.
    FieldSpec("last_name", ("naam", "achternaam")),
    FieldSpec("first_name", ("voornaam",)),
    FieldSpec("class", ("klas",)),
)
CHOICE_WORDS = {
    "clb": "clb", "toestemming": "clb", "akkoord": "clb", "ja": "clb", "doorhetclb": "clb", "consent": "clb",
    "geweigerd": "refused", "weigering": "refused", "nee": "refused", "refused": "refused", "geentoestemming": "refused",
    "eigenarts": "own_doctor", "huisarts": "own_doctor", "doordeeigenarts": "own_doctor", "owndoctor": "own_doctor",
    "elders": "own_doctor",
    "algevaccineerd": "already", "reedsgevaccineerd": "already", "alreadyvaccinated": "already", "already": "already",
}
SIGNER_WORDS = {"ouder": "parent", "ouders": "parent", "parent": "parent", "voogd": "parent", "moeder": "parent",
                "vader": "parent", "leerling": "pupil", "pupil": "pupil", "jongere": "pupil", "kind": "pupil"}
EVENT_OF_CHOICE = {"clb": "consent_given", "refused": "consent_refused", "own_doctor": "done_external",
                   "already": "done_external"}


def _key(text: object) -> str:
    return re.sub(r"[^a-z]", "", str(text).lower())


def vaccine_codes(protocol: Protocol) -> dict[str, str]:
    """Words for a vaccine -> the dose code a form is about: each dose code, and each series (its first dose)."""
    words: dict[str, str] = {}
    for rule in protocol.rules:
        if rule.is_vaccination:
            words.setdefault(re.sub(r"[^a-z0-9]", "", rule.code.lower()), rule.code)
            if rule.dose == 1:
                words.setdefault(re.sub(r"[^a-z0-9]", "", (rule.series or rule.code).lower()), rule.code)
    return words


def import_consent(workspace: Workspace, path: Path, *, dry_run: bool = False,
                   today: dt.date | None = None) -> ImportResult:
    today = today or dt.date.today()
    table = read_table(path, CONSENT_FIELDS, what="consent file")
    result = ImportResult(kind="consent", files=[str(path)], dry_run=dry_run)
    result.warnings.extend(table.notes)
    check = RowChecker(table, result.errors, result.warnings)
    with workspace.connect() as conn:
        keys = store.pupil_keys(conn)
    forms: dict[tuple[int, str], tuple[int, store.Form]] = {}
    for row, cells in table.rows:
        form = _read_row(workspace.protocol, table, check, row, cells, keys, today)
        if form is None:
            continue
        key = (form.pupil_id, form.series)
        earlier = forms.get(key)
        if earlier is not None and earlier[1].signed_on == form.signed_on:
            check.error(row, "signed_on", f"row {earlier[0]} has a form for the same pupil and vaccine signed the "
                        "same day", "Keep the form that counts and remove the other row.", value=form.signed_on)
        elif earlier is None or earlier[1].signed_on < form.signed_on:
            forms[key] = (row, form)  # of two forms in one file the later one counts
    refuse_if_invalid(result, False, "consent file")
    counts = _store(workspace, path, [f for _, f in forms.values()], dry_run)
    result.totals = counts
    result.summary = [{"choice": c, "forms": n} for c, n in sorted(_by_choice(forms).items())]
    result.written = not dry_run
    if counts["older_kept"]:
        result.warnings.append(Problem(table.file, f"{counts['older_kept']} form(s) are older than the form on "
                                       "record: kept in the history, the newer form still counts.", severity="warning"))
    return result


def _by_choice(forms: dict) -> dict[str, int]:
    tally: dict[str, int] = {}
    for _, form in forms.values():
        tally[form.choice] = tally.get(form.choice, 0) + 1
    return tally


def _read_row(protocol: Protocol, table: Table, check: RowChecker, row: int, cells: list, keys: tuple,
              today: dt.date) -> store.Form | None:
    """One row checked: every problem of the row is reported, None when it cannot be stored."""
    before = len(check.errors)
    pupil = _pupil(table, check, row, cells, keys)
    codes = vaccine_codes(protocol)
    vaccine_cell = table.value(cells, "vaccine")
    code = codes.get(re.sub(r"[^a-z0-9]", "", str(vaccine_cell).lower())) if vaccine_cell is not None else None
    if code is None:
        names = sorted({r.series or r.code for r in protocol.rules if r.is_vaccination})
        check.error(row, "vaccine", "is not a vaccine of the protocol" if vaccine_cell is not None else "is empty",
                    "Use one of: " + ", ".join(names) + ".", value=vaccine_cell)
    choice = _word(table, check, row, cells, "choice", CHOICE_WORDS,
                   "Write clb (or toestemming), geweigerd, eigen arts or al gevaccineerd.")
    signer = _word(table, check, row, cells, "signed_by", SIGNER_WORDS, "Write ouder or leerling.")
    signed = check.parse(row, cells, "signed_on", parse_date, "Write the date as dd/mm/yyyy.")
    done_cell = table.value(cells, "done_on")
    done = check.parse(row, cells, "done_on", parse_date, "Write the date as dd/mm/yyyy.") if done_cell else None
    for name, day in (("signed_on", signed), ("done_on", done)):
        if day is not None and day > today:
            check.error(row, name, "lies in the future", "Check the date.", value=day.strftime("%d/%m/%Y"))
        elif day is not None and pupil is not None and day.isoformat() < pupil.birth_date:
            check.error(row, name, "lies before the pupil's birth date", "Check the date.",
                        value=day.strftime("%d/%m/%Y"))
    if done is not None and choice not in (None, "already"):
        check.error(row, "done_on", "is only for 'al gevaccineerd'", "Clear the date or correct the choice.",
                    value=done.strftime("%d/%m/%Y"))
    if len(check.errors) > before or None in (pupil, code, choice, signer, signed):
        return None
    if choice == "already" and done is None:
        check.warn(row, "done_on", "no vaccination date: the date signed is recorded",
                   "Add the date from the vaccination card when known.")
    return store.Form(pupil.pupil_id, code, protocol.series_of(code), choice, signed.isoformat(), signer,
                      done.isoformat() if done else None, Path(table.file).name)


def _word(table: Table, check: RowChecker, row: int, cells: list, name: str, words: dict, hint: str) -> str | None:
    cell = table.value(cells, name)
    value = words.get(_key(cell)) if text_of(cell) is not None else None
    if value is None:
        check.error(row, name, "is not one of the choices" if text_of(cell) is not None else "is empty", hint,
                    value=cell)
    return value


def _pupil(table: Table, check: RowChecker, row: int, cells: list, keys: tuple) -> store.PupilKey | None:
    """The pupil of a row: by leerling-id, INSZ, or school id and pupil number (in that order)."""
    by_id, by_insz, by_number = keys
    before = len(check.errors)
    pupil_text = text_of(table.value(cells, "pupil_id"))
    insz = check.parse(row, cells, "insz", parse_insz, "Check the number.", shown=lambda v: mask_insz(str(v)))
    school = check.parse(row, cells, "school_id", lambda v: parse_school_id(v) if v is not None else None,
                         "Give the school's number.")
    number = check.parse(row, cells, "pupil_number", parse_pupil_number, "Give the school's pupil number.")
    if len(check.errors) > before:
        return None
    if pupil_text is not None:
        found = by_id.get(int(pupil_text)) if pupil_text.isdigit() else None
        column, shown = "pupil_id", pupil_text
    elif insz is not None:
        found, column, shown = by_insz.get(insz.number), "insz", mask_insz(insz.number)
    elif school is not None and number is not None:
        found, column, shown = by_number.get((school, number)), "pupil_number", number
    else:
        check.error(row, "pupil_id", "does not say which pupil", "Fill in the leerling-id of the form, the INSZ, "
                    "or the school id and pupil number.")
        return None
    if found is None:
        check.error(row, column, "is not a pupil of this workspace", "Check the number on the form.", value=shown)
    return found


def _store(workspace: Workspace, path: Path, forms: list[store.Form], dry_run: bool) -> dict[str, int]:
    """Write the forms in one transaction; a newer form replaces the one in force (the audit counts them)."""
    counts = {"new": 0, "replaced": 0, "unchanged": 0, "older_kept": 0}
    with workspace.writing("import consent") as session:
        session.rollback = dry_run
        session.files.append(str(path))
        conn = session.conn
        current = store.current_forms(conn)
        stamp = now_text()
        for form in forms:
            old = current.get((form.pupil_id, form.series))
            if old is not None and (old["choice"], old["signed_on"], old["done_on"], old["code"]) == (
                    form.choice, form.signed_on, form.done_on, form.code):
                counts["unchanged"] += 1
                continue
            if old is not None and old["signed_on"] > form.signed_on:
                store.store_superseded_form(conn, form, stamp, by=old["form_id"])
                counts["older_kept"] += 1
                continue
            day = form.done_on or form.signed_on
            store.store_form(conn, form, [(form.code, day, EVENT_OF_CHOICE[form.choice])], stamp,
                             replaces=old["form_id"] if old is not None else None)
            counts["replaced" if old is not None else "new"] += 1
        session.counts.update(counts)
    return counts
