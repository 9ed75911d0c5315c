"""`plan check`'s input: the stored plan and the rules it must keep, from the workspace's rows."""

from __future__ import annotations

from clbhealth.app.plan_demand import moment_specs
from clbhealth.scheduler.check import CheckInput
from clbhealth.workspace.folder import Workspace
from clbhealth.workspace.plan import read_check_rows


def load_check_input(workspace: Workspace) -> CheckInput:
    """The stored plan and every input its hard rules refer to, for `plan check`."""
    config = workspace.config
    protocol = workspace.protocol
    specs = moment_specs(workspace)
    rules = protocol.in_force(config.school_year)
    from clbhealth.app.due_list import due_settings

    two_dose = due_settings(workspace).two_dose_15_18
    intervals = {r.code: (r.follows, r.interval_months, r.interval_months_three_dose, r.three_dose_age(two_dose),
                          r.only_three_dose) for r in rules if r.follows}
    rows = read_check_rows(workspace)
    planning = config.planning
    return CheckInput(
        year_start=config.school_year.start_year,
        blocks={"am": (planning.morning.start, planning.morning.end),
                "pm": (planning.afternoon.start, planning.afternoon.end)},
        wednesday_afternoon=planning.wednesday_afternoon, setup=config.setup_minutes,
        setup_per_moment=dict(config.setup_per_moment), **rows,
        roles={c: s.roles for c, s in specs.items()}, minutes={c: s.minutes for c, s in specs.items()},
        windows={c: (s.earliest, s.latest) for c, s in specs.items()}, intervals=intervals,
        series={r.code: r.series or r.code for r in protocol.rules},
        doses=frozenset(c for c, s in specs.items() if s.kind == "vaccination"),
        part_minutes={c: s.part_minutes() for c, s in specs.items()},
        notice_school_days=planning.notice_school_days,
    )
