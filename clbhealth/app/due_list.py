"""The due list: who is due for which contact moment or dose, with the CLI's filters."""

from __future__ import annotations

import datetime as dt
from typing import Sequence

import pandas as pd

from clbhealth.core.errors import ClbError, Problem
from clbhealth.protocols.due import OPEN_STATUSES, STATUSES, DueSettings, compute_due
from clbhealth.workspace.pupils import load_due_inputs, resolve_school_ids
from clbhealth.workspace.schools import grade_levels
from clbhealth.workspace.folder import Workspace


def due_settings(workspace: Workspace) -> DueSettings:
    two_dose = workspace.config.raw.get("due", {}).get("hpv_two_dose_15_18", False)
    if not isinstance(two_dose, bool):
        raise ClbError("clbhealth.toml: [due] hpv_two_dose_15_18 must be true or false.",
                       hint="true: 2 HPV doses for pupils starting at 15-18 (VWVJ alternative); false: 3 doses.")
    return DueSettings(catch_up_missed_contacts=workspace.config.catch_up_missed_contacts, two_dose_15_18=two_dose)


def due_list(
    workspace: Workspace,
    as_of: dt.date,
    *,
    schools: Sequence[str] = (),
    moments: Sequence[str] = (),
    statuses: Sequence[str] = (),
    include_all: bool = False,
) -> tuple[pd.DataFrame, list[Problem]]:
    """The due list with the CLI's filters; returns the rows and warnings for the user."""
    year = workspace.config.school_year
    protocol = workspace.protocol
    warnings: list[Problem] = []
    if not year.first_day <= as_of <= year.last_day:
        warnings.append(Problem(
            "due", f"the as-of date {as_of} lies outside the workspace's school year {year} "
            f"({year.first_day} to {year.last_day}); grades are those of {year}.", severity="warning"))
    codes = protocol.all_codes()
    lookup = {c.lower(): c for c in codes}
    wanted_moments = []
    for moment in moments:
        code = lookup.get(moment.lower())
        if code is None:
            raise ClbError(f"--moment {moment!r} is not a contact moment or dose.", hint="Use one of: " + ", ".join(codes) + ".")
        wanted_moments.append(code)
    for status in statuses:
        if status not in STATUSES:
            raise ClbError(f"--status {status!r} is not a status.", hint="Use one of: " + ", ".join(STATUSES) + ".")
    chosen = tuple(statuses) if statuses else (STATUSES if include_all else OPEN_STATUSES)
    school_ids: list[str] = []
    with workspace.snapshot() as conn:  # pupils and events from the same state of the database
        school_ids = resolve_school_ids(conn, schools)
        pupils, events = load_due_inputs(conn, school_ids or None, codes=codes)
        levels = grade_levels(conn)
    frame = compute_due(pupils, events, protocol, year, as_of, due_settings(workspace),
                        statuses=chosen, moments=tuple(wanted_moments) or None, levels=levels)
    return frame, warnings
