"""`clbhealth protocols show`: the rules in force for a school year, as plain data.

The fields are those of `protocols show --format json` (documented in the README).
"""

from __future__ import annotations

from clbhealth.core.dates import SchoolYear
from clbhealth.protocols.model import Rule
from clbhealth.workspace.folder import Workspace


def protocol_data(workspace: Workspace, year: SchoolYear | None = None) -> dict:
    """protocol {id, name, source}, school_year, rules [one per rule in force, see `rule_data`]."""
    year = year or workspace.config.school_year
    protocol = workspace.protocol
    protocol.check_year(year)
    return {"protocol": {"id": protocol.id, "name": protocol.name, "source": protocol.source},
            "school_year": str(year),
            "rules": [rule_data(rule, year, workspace.config.minutes_for(rule.code, rule.minutes))
                      for rule in protocol.in_force(year)]}


def rule_data(rule: Rule, year: SchoolYear, minutes: int) -> dict:
    """code, name, kind (contact or vaccination), needs_consent, who (in words), select, grades,
    birth_year, follows, interval_months, catch_up_grades, catch_up_max_age, staff, minutes, valid, source."""
    return {"code": rule.code, "name": rule.name, "kind": rule.kind, "needs_consent": rule.kind == "vaccination",
            "who": who_text(rule, year), "select": rule.select, "grades": list(rule.grades),
            "birth_year": year.start_year - rule.age if rule.age is not None else None,
            "follows": rule.follows, "interval_months": rule.interval_months or None,
            "catch_up_grades": list(rule.catch_up_grades), "catch_up_max_age": rule.catch_up_max_age,
            "staff": list(rule.staff), "minutes": minutes, "valid": rule.validity(), "source": rule.source}


def who_text(rule: Rule, year: SchoolYear) -> str:
    """Who the rule concerns, in words."""
    if rule.follows:
        who = f"{rule.interval_months} months after {rule.follows}"
        if rule.three_dose_from_age:
            prefix = "only in the " if rule.only_three_dose else ""
            who += f"; {prefix}3-dose schedule when the first dose is given at {rule.three_dose_from_age} or older"
            if rule.interval_months_three_dose:
                who += f" ({rule.interval_months_three_dose} month(s) then)"
    elif rule.select == "birth_year":
        who = f"born {year.start_year - (rule.age or 0)} (by birth year, whatever the class)"
    else:
        who = f"grade {', '.join(rule.grades)}; pupils without a grade: born {year.start_year - (rule.age or 0)}"
    if rule.catch_up_grades:
        who += f"; catch-up at {', '.join(rule.catch_up_grades)}"
    if rule.catch_up_max_age:
        who += f" and for pupils up to age {rule.catch_up_max_age}"
    return who
