"""The dose columns of a vaccination session's attendance sheet (gegeven, lot, vaccinator, reden niet gegeven).

Part of `clbhealth import results`: a dose given needs consent on record before the session and a
lot on record for one of the dose's products, not expired on the session date.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from clbhealth.imports.common import RowChecker
from clbhealth.protocols.consent import GIVEN, consent_state
from clbhealth.readers.tabular import Table
from clbhealth.readers.values import text_of
from clbhealth.workspace import vaccination as vac_store
from clbhealth.workspace.folder import Workspace

if TYPE_CHECKING:
    from clbhealth.imports.results import _Plan

OUTCOME_DUTCH = {"seen": "gezien", "absent": "afwezig", "refused": "geweigerd", "objected": "verzet"}
WHY_NOT_WORDS = {"afwezig": "absent", "ziek": "absent", "weigerttplaatse": "refused", "weigertterplaatse": "refused",
                 "weigert": "refused", "geweigerd": "refused"}
GIVEN_WORDS = {"ja": True, "j": True, "yes": True, "x": True, "gegeven": True, "nee": False, "n": False, "no": False,
               "niet": False}


def _key(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())


def source_of(session_id: str) -> str:
    return f"session {session_id}"


def _check_dose(workspace: Workspace, plan: _Plan, table: Table, check: RowChecker, row: int, cells: list,
                item: dict) -> dict | None:
    """The dose columns of a vaccination row: given, lot, vaccinator, why not; consent and lot checked."""
    session_id, pupil_id, moment = item["key"]
    before = len(check.errors)
    given = _choice(table, check, row, cells, "given", GIVEN_WORDS, "Write ja or nee.")
    why_not = _choice(table, check, row, cells, "why_not", WHY_NOT_WORDS,
                      "Choose afwezig, ziek or weigert ter plaatse.")
    why_text = text_of(table.value(cells, "why_not"))
    outcome = item["outcome"]
    if given is True and outcome not in (None, "seen") or given is False and outcome == "seen":
        check.error(row, "given", f"says {'ja' if given else 'nee'} but the status is "
                    f"{OUTCOME_DUTCH[outcome]}", "Make the two agree.", value=table.value(cells, "given"))
    elif given is True:
        outcome = "seen"
    elif outcome is None and why_not is not None:
        outcome = why_not
    elif given is False and outcome is None:
        check.error(row, "why_not", "is empty while the dose was not given",
                    "Choose afwezig, ziek or weigert ter plaatse.")
    if len(check.errors) > before:
        return None
    item["outcome"] = outcome
    day = plan.sessions[session_id]["date"]
    if outcome != "seen":
        item["dose"] = {"given": False, "why_not": why_text} if outcome in ("absent", "refused") else None
        return item
    series = workspace.protocol.series_of(moment)
    own = source_of(session_id)
    records = [r for r in plan.consent.get((pupil_id, series), []) if r[3] != own]
    if consent_state(records, as_of=day) != GIVEN:
        check.error(row, "given", f"a dose of {moment} without consent on record "
                    f"({consent_state(records, as_of=day)}): the CLB never vaccinates without written consent",
                    "Import the returned consent form first (clbhealth import consent), or correct the row.",
                    value=table.value(cells, "given") or table.value(cells, "status"))
        return None
    return _check_lot(workspace, plan, table, check, row, cells, item, day)


def _check_lot(workspace: Workspace, plan: _Plan, table: Table, check: RowChecker, row: int, cells: list,
               item: dict, day: str) -> dict | None:
    """The lot of a dose given: known for one of the dose's products and not expired on the day."""
    session_id, _pupil, moment = item["key"]
    vaccinator = text_of(table.value(cells, "vaccinator"))
    if vaccinator is not None and vaccinator not in plan.staff:
        check.error(row, "vaccinator", "is not a staff id of the staff list", "Use the staff id, e.g. D01.",
                    value=vaccinator)
        return None
    vaccinator = vaccinator or _performer(workspace.protocol.rule(moment, workspace.config.school_year),
                                          plan.staff_of.get(session_id, []))
    lot = text_of(table.value(cells, "lot"))
    products = [p.name for p in workspace.protocol.products_for(moment)]
    if lot is None:
        if "lot" in table.columns:
            check.error(row, "lot", "is empty for a dose given", "Copy the lot number from the vial or box.")
            return None
        item["dose"] = {"given": True, "product": products[0] if len(products) == 1 else None, "lot": None,
                        "vaccinator": vaccinator}
        return item
    found = [name for name in products if (name, lot) in plan.lots]
    if not found:
        check.error(row, "lot", f"is not a lot on record for {' / '.join(products) or moment}",
                    "Import the lot first (clbhealth import lots), or correct the number.", value=lot)
        return None
    expiry = plan.lots[(found[0], lot)]["expiry"]
    if expiry < day:
        check.error(row, "lot", f"expired on {expiry}, before the session ({day})",
                    "Check the lot number: an expired lot is never used.", value=lot)
        return None
    item["dose"] = {"given": True, "product": found[0], "lot": lot, "vaccinator": vaccinator}
    return item


def _choice(table: Table, check: RowChecker, row: int, cells: list, name: str, words: dict, hint: str):
    cell = table.value(cells, name)
    if text_of(cell) is None:
        return None
    value = words.get(_key(str(cell)))
    if value is None:
        check.error(row, name, "is not one of the choices", hint, value=cell)
    return value


def _store_dose(conn, item: dict, day: str, stamp: str) -> None:
    dose = item["dose"]
    if dose is None:
        if item["key"][2] and item["outcome"] == "objected":
            vac_store.clear_dose(conn, item["key"])
        return
    vac_store.store_dose(conn, item["key"], day, dose["given"], dose.get("product"), dose.get("lot"),
                         dose.get("vaccinator"), dose.get("why_not"), stamp)


def _performer(rule, staff: list[tuple[str, str]]) -> str:
    """Who did a contact or gave a dose: the first of the session's staff in a role the rule needs."""
    for role in (rule.staff if rule else ()):
        for staff_role, staff_id in staff:
            if staff_role == role:
                return staff_id
    return staff[0][1] if staff else ""
