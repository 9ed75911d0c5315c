"""The current plan as plain objects (read by workspace/sessions.py), and the words users see for it.

The plan is every row of `sessions` with its `session_staff` and `session_pupils`. Pupils are read
with only the fields exports may show (names, class, birth date) plus the planning fields
(moment, time, order, outcome); INSZ, pupil numbers, education and history are never read here.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from clbhealth.core.dates import DUTCH_DAYS, SchoolYear
from clbhealth.core.errors import ClbError
from clbhealth.protocols.model import Protocol
from clbhealth.workspace import sessions as plan_rows
from clbhealth.workspace.folder import HOME_EDUCATION, Workspace
from clbhealth.workspace.pupils import school_sites

# Parents of K1 pupils are invited to the contact, so each K1 pupil gets an individual time.
PARENTS_INVITED = ("K1",)

ROLE_WORDS = {"nurse": "verpleegkundige", "doctor": "arts", "psychosocial": "psychosociaal medewerker"}
DAY_NAMES = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
PART_WORDS = {"am": "voormiddag", "pm": "namiddag"}
OUTCOME_WORDS = {"seen": "gezien", "absent": "afwezig", "refused": "geweigerd", "objected": "verzet"}


@dataclass(frozen=True)
class Site:
    """A school site (or, for HUISONDERWIJS, the CLB office) as the exports show it."""

    school_id: str
    name: str
    street: str = ""
    postcode: str = ""
    municipality: str = ""
    lat: float | None = None
    lon: float | None = None
    venue: str = ""  # where the sessions take place when not at the school itself (the CLB office)
    phone: str = ""  # the school's own, as the official list gives it
    email: str = ""

    @property
    def address(self) -> str:
        town = " ".join(p for p in (self.postcode, self.municipality) if p)
        return ", ".join(p for p in (self.street, town) if p)

    @property
    def location(self) -> str:
        """Where the session takes place, in one line."""
        place = self.venue or self.name
        return f"{place}, {self.address}" if self.address else place


@dataclass(frozen=True)
class SessionStaff:
    staff_id: str
    name: str
    role: str
    travel_km: float
    travel_minutes: int

    @property
    def label(self) -> str:
        return f"{self.name} ({ROLE_WORDS.get(self.role, self.role)})"


@dataclass(frozen=True)
class PlannedPupil:
    pupil_id: int
    last_name: str
    first_name: str
    class_name: str
    birth_date: dt.date | None
    moment: str
    minutes: int
    seq: int
    start: str
    outcome: str | None


@dataclass
class Session:
    session_id: str
    plan_id: int
    date: dt.date
    part: str
    start: str
    end: str
    school_id: str
    minutes: int
    moments: list[str]
    classes: list[str]
    kind: str
    created_at: str
    staff: list[SessionStaff] = field(default_factory=list)
    pupils: list[PlannedPupil] = field(default_factory=list)

    @property
    def invites_parents(self) -> bool:
        return any(m in PARENTS_INVITED for m in self.moments)

    @property
    def hours(self) -> str:
        return f"{self.start}–{self.end}"

    @property
    def staff_names(self) -> str:
        return ", ".join(s.label for s in self.staff)


def load_sites(workspace: Workspace, conn: sqlite3.Connection) -> dict[str, Site]:
    """Every school site by id; HUISONDERWIJS is the CLB office with the office's address."""
    sites = {}
    for row in school_sites(conn):
        sites[row["school_id"]] = Site(row["school_id"], row["name"], row["street"] or "", row["postcode"] or "",
                                       row["municipality"] or "", row["lat"], row["lon"],
                                       phone=row["phone"] or "", email=row["email"] or "")
    office = workspace.config.office
    home = sites.get(HOME_EDUCATION)
    sites[HOME_EDUCATION] = Site(HOME_EDUCATION, home.name if home else "Huisonderwijs", office.street,
                                 office.postcode, office.municipality, office.lat, office.lon,
                                 venue=office.name or "CLB-kantoor")
    return sites


def load_sessions(
    conn: sqlite3.Connection,
    *,
    session_ids: Sequence[str] | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    schools: Sequence[str] | None = None,
    staff_id: str | None = None,
    with_pupils: bool = True,
    current_pupils_only: bool = False,
) -> list[Session]:
    """Sessions of the current plan in date, time and id order, with their staff and pupils.

    `current_pupils_only`: leave out planned pupils who have left or moved to another school since
    (for lists that go to a school; the attendance sheet keeps every planned pupil).
    """
    sessions = [_session(row) for row in plan_rows.session_rows(
        conn, session_ids=session_ids, date_from=date_from, date_to=date_to, schools=schools, staff_id=staff_id)]
    if not sessions:
        return sessions
    by_id = {s.session_id: s for s in sessions}
    for row in plan_rows.session_staff_rows(conn, list(by_id)):
        by_id[row["session_id"]].staff.append(SessionStaff(
            row["staff_id"], row["name"], row["role"], float(row["travel_km"] or 0), int(row["travel_minutes"] or 0)))
    if with_pupils:
        # Only the fields an export may show are read (never INSZ, pupil number, education, history).
        for row in plan_rows.session_pupil_rows(conn, list(by_id), current_pupils_only=current_pupils_only):
            by_id[row["session_id"]].pupils.append(PlannedPupil(
                pupil_id=int(row["pupil_id"]), last_name=row["last_name"], first_name=row["first_name"],
                class_name=row["class_name"] or "", birth_date=_date_or_none(row["birth_date"]),
                moment=row["moment"], minutes=int(row["minutes"]), seq=int(row["seq"]), start=row["start"],
                outcome=row["outcome"],
            ))
    return sessions


def _session(row: sqlite3.Row) -> Session:
    return Session(
        session_id=row["session_id"], plan_id=row["plan_id"], date=dt.date.fromisoformat(row["date"]),
        part=row["part"], start=row["start"], end=row["end"], school_id=row["school_id"],
        minutes=int(row["minutes"]), moments=_json_list(row["moments"]), classes=_json_list(row["classes"]),
        kind=row["kind"], created_at=row["created_at"],
    )


def require_plan(conn: sqlite3.Connection) -> None:
    if plan_rows.session_count(conn) == 0:
        raise ClbError("There is no plan yet: the workspace has no sessions.",
                       hint="Run `clbhealth plan` first, then export.")


# --- words ------------------------------------------------------------------------------------------


class MomentWords:
    """Dutch names of contact moments and doses: 'Eerste leerjaar', 'Vaccinatie HPV (eerste dosis)'."""

    def __init__(self, protocol: Protocol, year: SchoolYear) -> None:
        self._names: dict[str, str] = {}
        self._vaccination: set[str] = set()
        for rule in sorted(protocol.rules, key=lambda r: not r.in_force(year)):  # the version in force wins
            if rule.code in self._names:
                continue
            self._names[rule.code] = rule.name
            if rule.is_vaccination:
                self._vaccination.add(rule.code)
        self._order = {code: i for i, code in enumerate(protocol.all_codes())}

    def is_vaccination(self, code: str) -> bool:
        return code in self._vaccination

    def __call__(self, code: str) -> str:
        name = self._names.get(code, code)
        if code in self._vaccination:
            return f"Vaccinatie {_lower_first(name)}"
        return name

    def join(self, codes: Iterable[str]) -> str:
        return ", ".join(self(c) for c in self.ordered(codes))

    def ordered(self, codes: Iterable[str]) -> list[str]:
        return sorted(dict.fromkeys(codes), key=lambda c: (self._order.get(c, 999), c))


def _lower_first(text: str) -> str:
    """'Difterie-tetanus' -> 'difterie-tetanus', but 'HPV (eerste dosis)' stays."""
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def day_name(day: dt.date) -> str:
    return DAY_NAMES[day.weekday()]


def birth_text(day: dt.date | None) -> str:
    return f"{day.day}/{day.month}/{day.year}" if day else ""


def sheet_label(day: dt.date, part: str) -> str:
    """A worksheet name for a session: 'di 6-10 vm' (no '/' allowed in sheet names)."""
    return f"{DUTCH_DAYS[day.weekday()]} {day.day}-{day.month} {'vm' if part == 'am' else 'nm'}"


def _json_list(text: str | None) -> list[str]:
    if not text:
        return []
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return [text]
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


def _date_or_none(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None

