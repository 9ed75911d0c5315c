"""The workspace configuration file, clbhealth.toml: read, check, and write a documented default."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from clbhealth.core.dates import WINDOW_MARKS, SchoolYear
from clbhealth.core.errors import ClbError
from clbhealth.workspace.settings_keys import unknown_setting
from clbhealth.readers.files import read_input_text
from clbhealth.scheduler.goals import DEFAULT_WEIGHTS  # the goals are declared once, there

CONFIG_NAME = "clbhealth.toml"


@dataclass(frozen=True)
class Office:
    """The CLB office: home-educated pupils are seen here."""

    name: str = "CLB-kantoor"
    street: str = ""
    postcode: str = ""
    municipality: str = ""
    lat: float | None = None
    lon: float | None = None
    phone: str = ""  # printed on the school workbooks, with the e-mail
    email: str = ""

    @property
    def address(self) -> str:
        """'Markt 1, 2440 Geel' (the parts that are known)."""
        town = " ".join(x for x in (self.postcode, self.municipality) if x)
        return ", ".join(x for x in (self.street, town) if x)


@dataclass(frozen=True)
class Block:
    """A half-day block in which sessions take place."""

    part: str  # 'am' or 'pm'
    start: dt.time
    end: dt.time

    @property
    def minutes(self) -> int:
        return (self.end.hour * 60 + self.end.minute) - (self.start.hour * 60 + self.start.minute)


@dataclass(frozen=True)
class Window:
    """When a moment may be planned: dates or calendar marks, and for a later dose a gap after the earlier."""

    start: str | None = None  # ISO date or a mark: start, autumn, christmas, krokus, easter, end
    until: str | None = None


@dataclass(frozen=True)
class Planning:
    """Planner settings ([calendar], [planning], [travel] in clbhealth.toml)."""

    morning: Block = field(default_factory=lambda: Block("am", dt.time(8, 30), dt.time(12, 0)))
    afternoon: Block = field(default_factory=lambda: Block("pm", dt.time(13, 15), dt.time(15, 30)))
    wednesday_afternoon: bool = False
    plan_needs_consent: bool = True
    windows: dict[str, Window] = field(default_factory=dict)  # else the protocol's (HPV1 before Christmas)
    roles: dict[str, tuple[str, ...]] = field(default_factory=dict)
    weights: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    road_factor: float = 1.3
    speed_kmh: float = 45.0
    travel_matrix: str | None = None
    notice_school_days: int = 10
    consent_return_rate: float | None = None  # None: learned from the returned forms, else 0.8 [I]
    nurse_assists_vaccination: bool = False




@dataclass(frozen=True)
class Config:
    """Everything a workspace can set; every field has a documented default."""

    clb_name: str
    school_year: SchoolYear
    protocol: str = "flanders"
    office: Office = field(default_factory=Office)
    catch_up_missed_contacts: bool = False
    minutes: dict[str, int | dict[str, int]] = field(default_factory=dict)
    setup_minutes: int = 15
    setup_per_moment: dict[str, int] = field(default_factory=dict)
    planning: Planning = field(default_factory=Planning)
    raw: dict = field(default_factory=dict)

    def minutes_for(self, code: str, protocol_default: int) -> int:
        """Minutes per pupil of the longest part (the whole moment when done together)."""
        value = self.minutes.get(code, protocol_default)
        return max(value.values()) if isinstance(value, dict) else int(value)

    def parts_for(self, code: str, protocol_default: int, roles: tuple[str, ...]) -> tuple[dict[str, int], bool]:
        """Each role's minutes per pupil and whether the roles work together in one session.

        `L1 = { nurse = 10, doctor = 10 }`: parts, done apart; `L1 = 15`: every role, together;
        not set: the protocol's minutes for each role's own part.
        """
        value = self.minutes.get(code)
        if isinstance(value, dict):
            return {role: value.get(role, 0) for role in roles if value.get(role, 0) > 0}, False
        if value is not None:
            return {role: int(value) for role in roles}, True
        return {role: int(protocol_default) for role in roles}, False

    def setup_for(self, moments) -> int:
        """Set-up minutes of a session with these moments: the longest of theirs."""
        return max((self.setup_per_moment.get(m, self.setup_minutes) for m in moments), default=self.setup_minutes)

    @property
    def longest_setup(self) -> int:
        return max([self.setup_minutes, *self.setup_per_moment.values()])


MAX_SETTINGS_BYTES = 10 * 1024 * 1024


def load_config(root: Path) -> Config:
    """Read and check `root/clbhealth.toml`; raise ClbError naming the setting that is wrong."""
    path = root / CONFIG_NAME
    if not path.exists():
        raise ClbError(f"{path} is missing.", hint="Run `clbhealth init` to create a workspace.")
    try:
        text = read_input_text(path, limit=MAX_SETTINGS_BYTES, what="settings file", encoding="utf-8-sig")
        data = tomllib.loads(text)  # utf-8-sig: Notepad may save UTF-8 with a BOM
    except tomllib.TOMLDecodeError as exc:
        raise ClbError(f"{path} is not valid TOML: {exc}", hint="Fix the line it names, or compare with a new `clbhealth init`.") from None
    except UnicodeDecodeError:
        raise ClbError(f"{path} is not UTF-8 text.") from None

    def fail(setting: str, message: str) -> ClbError:
        return ClbError(f"{path}: setting {setting} {message}")

    unknown = unknown_setting(data, text)
    if unknown:
        raise ClbError(f"{path}: {unknown}" + ("" if unknown.endswith("?") else "."), hint="Fix the name, or compare with the file a new `clbhealth init` writes.")

    clb = _table(data, "clb", fail)
    try:
        year = SchoolYear.parse(str(clb.get("school_year", "")))
    except ValueError as exc:
        raise fail("[clb] school_year", f"is wrong: {exc}") from None
    name = clb.get("name", "")
    if not isinstance(name, str) or not name.strip():
        raise fail("[clb] name", "must be the CLB's name")
    protocol = clb.get("protocol", "flanders")
    if not isinstance(protocol, str) or not protocol:
        raise fail("[clb] protocol", 'must be "flanders" or the path of a protocol file')

    office = _office(_table(data, "office", fail), fail)
    due = _table(data, "due", fail)
    catch_up = due.get("catch_up_missed_contacts", False)
    if not isinstance(catch_up, bool):
        raise fail("[due] catch_up_missed_contacts", "must be true or false")

    minutes, setup, setup_per_moment = _minutes(dict(_table(data, "minutes", fail)), fail)
    planning = _planning(data, fail)
    return Config(
        clb_name=name.strip(),
        school_year=year,
        protocol=protocol,
        office=office,
        catch_up_missed_contacts=catch_up,
        minutes=minutes,
        setup_minutes=setup,
        setup_per_moment=setup_per_moment,
        planning=planning,
        raw=data,
    )


def _office(office_data: dict, fail) -> Office:
    return Office(
        name=str(office_data.get("name", "CLB-kantoor")),
        street=str(office_data.get("street", "")),
        postcode=str(office_data.get("postcode", "")),
        municipality=str(office_data.get("municipality", "")),
        phone=str(office_data.get("phone", "")),
        email=str(office_data.get("email", "")),
        lat=_number(office_data, "lat", fail, "[office] lat", -90, 90),
        lon=_number(office_data, "lon", fail, "[office] lon", -180, 180),
    )


def _minutes(minutes_data: dict, fail) -> tuple[dict[str, int | dict[str, int]], int, dict[str, int]]:
    """(minutes per pupil per code, set-up minutes per session, set-up minutes per moment)."""
    setup = minutes_data.pop("setup", 15)
    setup_per_moment: dict[str, int] = {}
    if isinstance(setup, dict):
        for code, value in setup.items():
            if code != "default" and (not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 120):
                raise fail(f"[minutes] setup.{code}", "must be a whole number of minutes between 0 and 120")
            if code != "default":
                setup_per_moment[code] = value
        setup = setup.get("default", 15)
    minutes: dict[str, int | dict[str, int]] = {}
    for code, value in minutes_data.items():
        minutes[code] = _minutes_value(code, value, fail)
    if not isinstance(setup, int) or isinstance(setup, bool) or not 0 <= setup <= 120:
        raise fail("[minutes] setup", "must be a whole number of minutes between 0 and 120")
    return minutes, setup, setup_per_moment


def _table(data: dict, key: str, fail) -> dict:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise fail(f"[{key}]", "must be a table")
    return value


def _number(table: dict, key: str, fail, label: str, low: float, high: float) -> float | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise fail(label, f"must be a number between {low} and {high}")
    return float(value)


def _block(text: object, part: str, fail, label: str) -> Block:
    match = re.fullmatch(r"\s*(\d{1,2})[:.](\d{2})\s*-\s*(\d{1,2})[:.](\d{2})\s*", str(text))
    if not match:
        raise fail(label, 'must be a time range like "08:30-12:00"')
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    try:
        block = Block(part, dt.time(h1, m1), dt.time(h2, m2))
    except ValueError:
        raise fail(label, "holds a time that does not exist") from None
    if block.minutes < 30:
        raise fail(label, "must last at least 30 minutes")
    return block


def _planning(data: dict, fail) -> Planning:
    calendar = _table(data, "calendar", fail)
    planning = _table(data, "planning", fail)
    travel = _table(data, "travel", fail)
    morning = _block(calendar.get("morning", "08:30-12:00"), "am", fail, "[calendar] morning")
    afternoon = _block(calendar.get("afternoon", "13:15-15:30"), "pm", fail, "[calendar] afternoon")
    if afternoon.start < morning.end:
        raise fail("[calendar] afternoon", "must start after the morning block ends")
    wednesday = calendar.get("wednesday_afternoon", False)
    if not isinstance(wednesday, bool):
        raise fail("[calendar] wednesday_afternoon", "must be true or false")
    needs_consent = planning.get("plan_needs_consent", True)
    if not isinstance(needs_consent, bool):
        raise fail("[planning] plan_needs_consent", "must be true or false")
    windows = _windows(planning, fail)
    roles = _roles(planning, fail)
    weights = _weights(planning, fail)
    road = travel.get("road_factor", 1.3)
    speed = travel.get("speed_kmh", 45)
    if isinstance(road, bool) or not isinstance(road, (int, float)) or not 1 <= road <= 3:
        raise fail("[travel] road_factor", "must be a number from 1 to 3")
    if isinstance(speed, bool) or not isinstance(speed, (int, float)) or not 5 <= speed <= 130:
        raise fail("[travel] speed_kmh", "must be a number from 5 to 130")
    matrix = travel.get("matrix")
    if matrix is not None and (not isinstance(matrix, str) or not matrix.strip()):
        raise fail("[travel] matrix", "must be the path of a CSV file")
    notice, rate, assists = _planner_options(planning, fail)
    return Planning(morning=morning, afternoon=afternoon, wednesday_afternoon=wednesday,
                    plan_needs_consent=needs_consent, windows=windows, roles=roles, weights=weights,
                    road_factor=float(road), speed_kmh=float(speed), travel_matrix=matrix or None,
                    notice_school_days=notice, consent_return_rate=rate, nurse_assists_vaccination=assists)


def _planner_options(planning: dict, fail) -> tuple[int, float | None, bool]:
    """The notice period, the expected consent return rate, whether a nurse assists vaccination."""
    notice = planning.get("notice_school_days", 10)
    if isinstance(notice, bool) or not isinstance(notice, int) or not 0 <= notice <= 60:
        raise fail("[planning] notice_school_days", "must be a whole number of school days from 0 to 60")
    rate = planning.get("consent_return_rate")
    if rate is not None and (isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate <= 1):
        raise fail("[planning] consent_return_rate", "must be a share above 0 and at most 1, e.g. 0.8")
    assists = planning.get("nurse_assists_vaccination", False)
    if not isinstance(assists, bool):
        raise fail("[planning] nurse_assists_vaccination", "must be true or false")
    return notice, float(rate) if rate is not None else None, assists


def _minutes_value(code: str, value: object, fail) -> int | dict[str, int]:
    """A number (every role, together) or a table of minutes per role (parts done apart)."""
    def whole(v: object) -> bool:
        return isinstance(v, int) and not isinstance(v, bool) and 0 < v <= 240
    if isinstance(value, dict):
        if not value or not all(isinstance(k, str) and whole(v) for k, v in value.items()):
            raise fail(f"[minutes] {code}", "must be like { nurse = 10, doctor = 10 } (whole minutes, 1 to 240)")
        return dict(value)
    if not whole(value):
        raise fail(f"[minutes] {code}", "must be a whole number of minutes between 1 and 240, "
                                        "or minutes per role like { nurse = 10, doctor = 10 }")
    return value


def _windows(planning: dict, fail) -> dict[str, Window]:
    """[planning.windows]: when each moment may be planned."""
    windows: dict[str, Window] = {}
    raw_windows = planning.get("windows", {})
    if not isinstance(raw_windows, dict):
        raise fail("[planning.windows]", "must be a table")
    for code, spec in raw_windows.items():
        if not isinstance(spec, dict) or set(spec) - {"start", "until"}:
            raise fail(f"[planning.windows] {code}", 'must be like { start = "autumn", until = "2027-03-31" }')
        for key in ("start", "until"):
            value = spec.get(key)
            if value is None:
                continue
            if not isinstance(value, (str, dt.date)):
                raise fail(f"[planning.windows] {code}.{key}", "must be a date or a calendar mark")
            if isinstance(value, str) and value not in WINDOW_MARKS:
                try:
                    dt.date.fromisoformat(value)
                except ValueError:
                    raise fail(f"[planning.windows] {code}.{key}",
                               f"must be a date (yyyy-mm-dd) or one of {', '.join(WINDOW_MARKS)}") from None
        windows[code] = Window(start=_iso(spec.get("start")), until=_iso(spec.get("until")))
    return windows


def _roles(planning: dict, fail) -> dict[str, tuple[str, ...]]:
    """[planning.roles]: the roles per moment where the protocol's defaults do not apply."""
    roles: dict[str, tuple[str, ...]] = {}
    raw_roles = planning.get("roles", {})
    if not isinstance(raw_roles, dict):
        raise fail("[planning.roles]", "must be a table")
    for code, value in raw_roles.items():
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise fail(f"[planning.roles] {code}", 'must be a list of roles, e.g. ["nurse", "doctor"]')
        roles[code] = tuple(value)
    return roles


def _weights(planning: dict, fail) -> dict[str, int]:
    """[planning.weights]: the weight of each soft goal of the planner."""
    weights = dict(DEFAULT_WEIGHTS)
    raw_weights = planning.get("weights", {})
    if not isinstance(raw_weights, dict):
        raise fail("[planning.weights]", "must be a table")
    for key, value in raw_weights.items():
        if key not in DEFAULT_WEIGHTS:
            raise fail(f"[planning.weights] {key}", f"is not a goal; the goals are {', '.join(DEFAULT_WEIGHTS)}")
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1_000_000:
            raise fail(f"[planning.weights] {key}", "must be a whole number from 0 to 1000000")
        weights[key] = value
    return weights


def _iso(value: object) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, dt.date) else str(value)


from clbhealth.workspace.settings_template import default_config_text  # noqa: E402, F401  (re-export for init)
