"""The workspace configuration file, clbhealth.toml: read, check, and write a documented default."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from clbhealth.dates import SchoolYear
from clbhealth.errors import ClbError

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


@dataclass(frozen=True)
class Config:
    """Everything a workspace can set; every field has a documented default."""

    clb_name: str
    school_year: SchoolYear
    protocol: str = "flanders"
    office: Office = field(default_factory=Office)
    catch_up_missed_contacts: bool = False
    minutes: dict[str, int] = field(default_factory=dict)
    setup_minutes: int = 15
    raw: dict = field(default_factory=dict)

    def minutes_for(self, code: str, protocol_default: int) -> int:
        return int(self.minutes.get(code, protocol_default))


def default_config_text(clb_name: str, school_year: SchoolYear, minutes: dict[str, int]) -> str:
    """The commented clbhealth.toml that `clbhealth init` writes."""
    name = clb_name.replace("\\", "\\\\").replace('"', '\\"')
    minute_lines = "\n".join(f'"{code}" = {value}' for code, value in minutes.items())
    return f'''# clbhealth workspace configuration.
# Edit freely; `clbhealth doctor` checks this file. Lines starting with # are comments.
# [I] marks a default that is our reading where no rule settles it (see protocol-facts).

[clb]
# The CLB's name, printed on every export.
name = "{name}"
# The school year this workspace plans (a school year starts on 1 September).
school_year = "{school_year}"
# The protocol: "flanders" (bundled, see `clbhealth protocols show`) or the path of a
# protocol .toml of your own, relative to this folder.
protocol = "flanders"

[office]
# The CLB office, where home-educated pupils are seen (and where staff without a base start).
name = "CLB-kantoor"
street = ""
postcode = ""
municipality = ""
# lat = 51.0
# lon = 4.4

[due]
# [I] There is no general rule to catch up a missed contact moment (a pupil now past the grade
# without a record). false: report it as "missed"; true: list it as due again.
catch_up_missed_contacts = false

[minutes]
# Minutes per pupil, per contact moment and per vaccination dose. [I] No norm was found; these
# are the protocol's defaults.
{minute_lines}
# Minutes to set up per session (room, equipment).
setup = 15
'''


def load_config(root: Path) -> Config:
    """Read and check `root/clbhealth.toml`; raise ClbError naming the setting that is wrong."""
    path = root / CONFIG_NAME
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ClbError(f"{path} is missing.", hint="Run `clbhealth init` to create a workspace.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ClbError(f"{path} is not valid TOML: {exc}", hint="Fix the line it names, or compare with a new `clbhealth init`.") from None
    except UnicodeDecodeError:
        raise ClbError(f"{path} is not UTF-8 text.") from None

    def fail(setting: str, message: str) -> ClbError:
        return ClbError(f"{path}: setting {setting} {message}")

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

    office_data = _table(data, "office", fail)
    office = Office(
        name=str(office_data.get("name", "CLB-kantoor")),
        street=str(office_data.get("street", "")),
        postcode=str(office_data.get("postcode", "")),
        municipality=str(office_data.get("municipality", "")),
        lat=_number(office_data, "lat", fail, "[office] lat", -90, 90),
        lon=_number(office_data, "lon", fail, "[office] lon", -180, 180),
    )
    due = _table(data, "due", fail)
    catch_up = due.get("catch_up_missed_contacts", False)
    if not isinstance(catch_up, bool):
        raise fail("[due] catch_up_missed_contacts", "must be true or false")

    minutes_data = dict(_table(data, "minutes", fail))
    setup = minutes_data.pop("setup", 15)
    minutes: dict[str, int] = {}
    for code, value in minutes_data.items():
        if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= 240:
            raise fail(f"[minutes] {code}", "must be a whole number of minutes between 1 and 240")
        minutes[code] = value
    if not isinstance(setup, int) or isinstance(setup, bool) or not 0 <= setup <= 120:
        raise fail("[minutes] setup", "must be a whole number of minutes between 0 and 120")
    return Config(
        clb_name=name.strip(),
        school_year=year,
        protocol=protocol,
        office=office,
        catch_up_missed_contacts=catch_up,
        minutes=minutes,
        setup_minutes=setup,
        raw=data,
    )


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
