"""Storing a checked roster: the same pupil twice in the files is refused; each row is matched to a
known pupil (INSZ, else school + pupil number, else name + birth date), then updated or added; the
pupils no longer listed are marked as left."""

from __future__ import annotations

import datetime as dt
import sqlite3
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence

from clbhealth.core.errors import ClbError, Problem
from clbhealth.imports.common import ImportResult
from clbhealth.workspace import roster as pupil_rows
from clbhealth.workspace.folder import now_text

if TYPE_CHECKING:
    from clbhealth.imports.roster import PupilRow


def name_key(last: str, first: str, birth: str) -> str:
    """Name and birth date compared case- and accent-insensitively."""
    text = f"{last}|{first}|{birth}".lower()
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def check_duplicates(rows: list["PupilRow"], result: ImportResult) -> None:
    """The same pupil twice in the files is an error on the second row."""
    seen: dict[tuple, "PupilRow"] = {}
    for record in rows:
        keys = []
        if record.insz:
            keys.append(("insz", record.insz))
        if record.pupil_number:
            keys.append(("number", record.school_id, record.pupil_number))
        if not record.insz and not record.pupil_number:
            keys.append(("name",) + record.name_key())
        for key in keys:
            first = seen.get(key)
            if first is None:
                seen[key] = record
                continue
            what = {"insz": "the same INSZ", "number": "the same pupil number", "name": "the same name and birth date"}[key[0]]
            where = f"row {first.row}" if first.file == record.file else f"{first.file} row {first.row}"
            result.errors.append(Problem(
                record.file, f"has {what} as {where}", row=record.row,
                column={"insz": "insz", "number": "pupil_number", "name": "last_name"}[key[0]],
                hint="A pupil may appear once; remove the duplicate row.",
            ))
            break


@dataclass
class _Known:
    """The pupils a roster may match, by each of the three keys."""

    existing: dict[int, dict]
    by_insz: dict[str, dict] = field(default_factory=dict)
    by_number: dict[tuple, dict] = field(default_factory=dict)
    by_name: dict[tuple, dict] = field(default_factory=dict)
    listed: dict[tuple, tuple] = field(default_factory=dict)  # (school, pupil number) -> name key of the row
    listed_insz: set[str] = field(default_factory=set)  # the INSZs of the rows being imported

    def __post_init__(self) -> None:
        people = self.existing.values()
        self.by_insz = {p["insz"]: p for p in people if p["insz"]}
        self.by_number = {(p["school_id"], p["pupil_number"]): p for p in people if p["pupil_number"]}
        self.by_name = {(p["school_id"], name_key(p["last_name"], p["first_name"], p["birth_date"])): p
                        for p in people}

    def _elsewhere(self, pupil: dict | None) -> dict | None:
        """`pupil`, unless its INSZ is on one of the rows (that row is this pupil, not the one asking)."""
        return None if pupil is None or (pupil["insz"] and pupil["insz"] in self.listed_insz) else pupil

    def find(self, record: "PupilRow") -> tuple[dict | None, str]:
        """The known pupil this row is about (or None) and how it was found: 'insz', 'number', 'name',
        or an identity change to confirm (IDENTITY_CHANGES): 'renumbered' (a known pupil of the same
        name and birth date had another number), 'insz corrected' (same name and birth date, another
        INSZ) or both. A number whose known pupil has another name is that pupil renamed only when no
        known pupil has the row's name and birth date (numbers shifted: 1, 2, 3 -> 2, 3, 4)."""
        if record.insz and record.insz in self.by_insz:
            return self.by_insz[record.insz], "insz"
        same_person = self._elsewhere(self.by_name.get(record.name_key()))
        candidate = self._elsewhere(self.by_number.get((record.school_id, record.pupil_number))) \
            if record.pupil_number else None

        def insz_changed(pupil: dict) -> bool:
            return bool(record.insz and pupil["insz"] and record.insz != pupil["insz"])

        if candidate is not None and (same_person is None or candidate is same_person):
            if not insz_changed(candidate):
                return candidate, "number"
            return (candidate, "insz corrected") if candidate is same_person else (None, "")
        if same_person is None:
            return None, ""
        old_number = same_person["pupil_number"]
        renumbered = bool(record.pupil_number and old_number and old_number != record.pupil_number)
        row_at_old_number = self.listed.get((record.school_id, old_number)) if renumbered else None
        if row_at_old_number is not None and self.by_name.get(row_at_old_number) is None:
            return None, ""  # its old number is listed under an unknown name: perhaps that row is this pupil
        how = " and ".join(w for w, on in (("renumbered", renumbered), ("insz corrected", insz_changed(same_person)))
                           if on)
        return same_person, how or "name"


IDENTITY_CHANGES = ("renumbered", "insz corrected", "renumbered and insz corrected")  # ways `find` takes a row for a known pupil to confirm


@dataclass(frozen=True)
class IdentityChange:
    """A row taken for a known pupil although its number or INSZ changed: to confirm (--same-pupils)."""

    record: "PupilRow"
    pupil: dict
    how: str

    def describe(self) -> str:
        r, p = self.record, self.pupil
        changes = ([f"pupil number {p['pupil_number']} is now {r.pupil_number}"] if "renumbered" in self.how else []) \
            + (["the INSZ changed"] if "insz" in self.how else [])
        change = " and ".join(changes)
        return f"{r.file} row {r.row}: {r.last_name} {r.first_name} ({r.birth_date}): {change}"


def store_roster(conn: sqlite3.Connection, rows: list["PupilRow"], columns: Sequence[str], covered: set[str],
                 schools_with_bad_rows: set[str], result: ImportResult, today: dt.date, *,
                 same_pupils: bool = False, dry_run: bool = False) -> list[dict]:
    """Match, insert, update and mark as left; returns the summary per school."""
    existing = pupil_rows.pupils_at_schools(conn, sorted(covered), columns)
    known_insz = {p["insz"] for p in existing.values() if p["insz"]}
    existing.update(pupil_rows.pupils_with_insz(conn, [r.insz for r in rows if r.insz and r.insz not in known_insz],
                                                columns))
    known = _Known(existing, listed={(r.school_id, r.pupil_number): r.name_key() for r in rows if r.pupil_number},
                   listed_insz={r.insz for r in rows if r.insz})
    stamp = now_text()
    summary = {s: {"school_id": s, "new": 0, "updated": 0, "unchanged": 0, "moved": 0, "left": 0}
               for s in sorted(covered)}
    found = [(record, *known.find(record)) for record in rows]
    changes = [IdentityChange(r, p, how) for r, p, how in found if how in IDENTITY_CHANGES]
    confirm_identity_changes(changes, same_pupils, dry_run, result)
    matched, inserts, updates, name_matches = _match(found, summary, stamp, same_pupils)
    unnamed = sum(1 for r in rows if not r.insz and not r.pupil_number)
    if unnamed:
        result.warnings.append(Problem(
            ", ".join(sorted({r.file for r in rows if not r.insz and not r.pupil_number})),
            f"{unnamed} pupil(s) have neither INSZ nor pupil number: they are recognised by name, birth date "
            f"and school only ({name_matches} matched that way).",
            hint="Add the INSZ or the school's pupil number to make re-imports reliable.", severity="warning"))
    left = _left(existing, matched, covered, schools_with_bad_rows, summary, result, today, stamp)
    pupil_rows.insert_pupils(conn, columns, inserts)
    # Moves first free INSZ/number clashes: apply updates in one statement each.
    pupil_rows.update_pupils(conn, columns, updates)
    pupil_rows.mark_left(conn, left)
    return list(summary.values())


def confirm_identity_changes(changes: list[IdentityChange], same_pupils: bool, dry_run: bool,
                             result: ImportResult) -> None:
    """Renumbered pupils and corrected INSZs are never silently split from (or merged into) a history:
    a dry run lists them, a real import needs --same-pupils to take them as the same pupils."""
    if not changes or same_pupils:
        if changes:
            result.warnings.append(Problem(changes[0].record.file, f"{len(changes)} pupil(s) taken as the same "
                                           "pupils as before (--same-pupils): " + "; ".join(
                                               c.describe() for c in changes[:5]) + (" ..." if len(changes) > 5 else ""),
                                           severity="warning"))
        return
    shown = "\n  ".join(c.describe() for c in changes[:10]) + ("\n  ..." if len(changes) > 10 else "")
    hint = ("If these are the same pupils (the school renumbered them, or an INSZ was corrected), import again "
            "with --same-pupils: their history stays theirs. Otherwise fix the roster.")
    if dry_run:
        result.warnings.append(Problem(changes[0].record.file, f"{len(changes)} row(s) look like known pupils "
                                       f"whose number or INSZ changed:\n  {shown}", hint=hint, severity="warning"))
        return
    raise ClbError(f"{len(changes)} row(s) look like known pupils whose number or INSZ changed; nothing was "
                   f"imported:\n  {shown}", hint=hint)


def _match(found: list[tuple["PupilRow", dict | None, str]], summary: dict[str, dict], stamp: str,
           same_pupils: bool = False):
    """From each row with the known pupil it was found to be (and how): (pupil id -> its row, rows
    to insert, rows to update, how many were matched by name)."""
    matched: dict[int, "PupilRow"] = {}
    inserts, updates = [], []
    name_matches = 0
    for record, pupil, how in found:
        if how in IDENTITY_CHANGES and not same_pupils:
            pupil = None  # a dry run without --same-pupils shows them as new (and the old ones as left)
        name_matches += how == "name"
        if pupil is not None and pupil["pupil_id"] in matched:
            other = matched[pupil["pupil_id"]]
            raise ClbError(
                f"{record.file}, row {record.row}: is the same pupil as {other.file} row {other.row}; "
                "nothing was imported.",
                hint="Remove one of the two rows.",
            )
        counts = summary[record.school_id]
        if pupil is None:
            inserts.append((*record.values().values(), stamp, stamp))
            counts["new"] += 1
            continue
        matched[pupil["pupil_id"]] = record
        values = record.values()
        if not values["insz"] and pupil["insz"]:
            values["insz"] = pupil["insz"]  # a roster without INSZ keeps the one we know
        changed = any(pupil[k] != v for k, v in values.items()) or not pupil["active"]
        if pupil["school_id"] != record.school_id:
            counts["moved"] += 1
        elif changed:
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
        if changed:
            updates.append((*values.values(), stamp, pupil["pupil_id"]))
    return matched, inserts, updates, name_matches


def _left(existing: dict[int, dict], matched: dict, covered: set[str], schools_with_bad_rows: set[str],
          summary: dict[str, dict], result: ImportResult, today: dt.date, stamp: str) -> list[tuple]:
    """Rows of (left on, updated_at, pupil_id) for the active pupils of the covered schools not listed;
    not for schools with skipped rows (a skipped row may be one of them)."""
    left = []
    kept_back = 0
    for pupil in existing.values():
        if pupil["pupil_id"] in matched or not pupil["active"] or pupil["school_id"] not in covered:
            continue
        if pupil["school_id"] in schools_with_bad_rows:
            kept_back += 1
            continue
        left.append((today.isoformat(), stamp, pupil["pupil_id"]))
        summary[pupil["school_id"]]["left"] += 1
    if kept_back:
        result.warnings.append(Problem(
            "roster", f"{kept_back} pupil(s) missing from schools with skipped rows were not marked as left.",
            hint="Fix the skipped rows and import the roster again.", severity="warning"))
    return left
