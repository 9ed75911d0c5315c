"""The commented clbhealth.toml that `clbhealth init` writes: every setting documented."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from clbhealth.core.dates import SchoolYear
    from clbhealth.workspace.settings import Office


def _minutes_text(value: int | dict[str, int]) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{role} = {minutes}" for role, minutes in value.items()) + " }"
    return str(value)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# The commented clbhealth.toml that `clbhealth init` writes (str.format fields in braces).
CONFIG_TEMPLATE = '''# clbhealth workspace configuration.
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
name = {office_name}
street = {office_street}
postcode = {office_postcode}
municipality = {office_municipality}
# How schools reach the CLB (printed on the school workbooks).
phone = {office_phone}
email = {office_email}
{position}

[due]
# [I] There is no general rule to catch up a missed contact moment (a pupil now past the grade
# without a record). false: report it as "missed"; true: list it as due again.
catch_up_missed_contacts = false

[minutes]
# Minutes per pupil, per contact moment and per vaccination dose. [I] No norm was found; these
# are the protocol's defaults, for each role's own part (nurse and doctor apart, in parallel rooms
# or on other days). Per role: L1 = {{ nurse = 10, doctor = 10 }}; a number alone: every role, together.
{minute_lines}
# Minutes to set up per session (room, equipment); per moment, write for example
# setup = {{ default = 15, K1 = 25 }} (a session takes the longest set-up of its moments).
setup = 15

[calendar]
# The half-day blocks in which sessions take place. The Flemish school and public holidays come
# from the `holidays` package; school closures are imported per school (clbhealth import closures).
morning = "08:30-12:00"
afternoon = "13:15-15:30"
# [I] No classes on Wednesday afternoon in primary (and most secondary) schools.
wednesday_afternoon = false

[planning]
# Plan vaccination pupils whose consent form has not come back yet (they are vaccinated only
# with consent on the day). false: plan only pupils with consent.
plan_needs_consent = true
# Doses whose form is not back are sized by the share of forms expected back with consent;
# not set: learned from this workspace's returned forms (0.8 [I] until there are 20).
# consent_return_rate = 0.8
# No new session earlier than this many school days after the day of planning (kept ones stay).
notice_school_days = 10
# [I] A doctor vaccinates; true: a nurse assists (the dose also takes a nurse's part).
nurse_assists_vaccination = false

[planning.windows]
# When a moment may be planned. `start`/`until` take a date (2027-03-31) or a mark of the school
# calendar: start, autumn, christmas, krokus, easter, end ("until = christmas": before the
# Christmas holiday). A later dose keeps its interval after the earlier one (protocol).
HPV1 = {{ until = "christmas" }}

[planning.roles]
# Roles per moment; the protocol's defaults apply to moments not listed here. E.g. a CLB whose
# psycho-social workers join L6:
# L6 = ["nurse", "psychosocial"]

[planning.weights]
# The soft goals of the planner, each a named, weighted term of its objective.
unplanned = 1000   # per pupil-moment left unplanned (only when capacity cannot cover it)
visits = 100       # per school visit
travel = 1         # per km driven
balance = 10       # per percentage point between the busiest and the least busy person
continuity = 200   # per session not done by the school's fixed contact (or, re-planning, its previous one)
early = 1          # per week a session lies after the start of the planning period
apart = 1          # per pupil whose nurse and doctor parts of one moment fall on different days (1 km of driving)
moved = 300        # re-planning: per session moved from its announced half-day

[travel]
# Straight-line distance times a road factor, driven at an average speed. Or give a CSV of real
# travel times (from_id, to_id, minutes, km), ids being staff ids, school ids or "OFFICE".
road_factor = 1.3
speed_kmh = 45
# matrix = "travel-times.csv"
'''


def default_config_text(clb_name: str, school_year: SchoolYear, minutes: dict[str, int | dict[str, int]],
                        office: Office | None = None) -> str:
    """The commented clbhealth.toml that `clbhealth init` writes."""
    name = clb_name.replace("\\", "\\\\").replace('"', '\\"')
    if office is None:
        from clbhealth.workspace.settings import Office

        office = Office()
    position = (f"lat = {office.lat}\nlon = {office.lon}" if office.lat is not None and office.lon is not None
                else "# lat = 51.0\n# lon = 4.4")
    minute_lines = "\n".join(f'"{code}" = {_minutes_text(value)}' for code, value in minutes.items())
    return CONFIG_TEMPLATE.format(
        name=name, school_year=school_year, office_name=_quote(office.name), office_street=_quote(office.street),
        office_postcode=_quote(office.postcode), office_municipality=_quote(office.municipality),
        office_phone=_quote(office.phone), office_email=_quote(office.email),
        position=position, minute_lines=minute_lines)
