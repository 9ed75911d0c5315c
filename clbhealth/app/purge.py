"""`clbhealth purge --left-before DATE`: remove pupils who left before a date, with all they left here.

Only this workspace is touched: the official CLB dossier (LARS or the CLB's own record system)
keeps its own retention rules. Everything is removed in one transaction with an audit row (counts
only, no personal data); deleted rows are overwritten in the database file (secure_delete) and the
write-ahead log is emptied, so nothing of them lingers in the workspace's files.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from clbhealth.core.errors import ClbError
from clbhealth.workspace import roster as pupil_rows
from clbhealth.workspace.folder import Workspace
from clbhealth.workspace.roster import PUPIL_ROWS  # noqa: F401 (the CLI names the rows removed)

DOSSIER_NOTE = (
    "This removes the pupils from this clbhealth workspace only. It does not touch the official CLB "
    "dossier (LARS) or any other record system: keeping and destroying the dossier follows the CLB's own "
    "retention rules."
)

@dataclass
class PurgeResult:
    left_before: dt.date
    dry_run: bool
    pupils: int = 0
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows removed with the pupils
    per_school: list[dict] = field(default_factory=list)


def purge_left(workspace: Workspace, left_before: dt.date, *, dry_run: bool = False,
               today: dt.date | None = None) -> PurgeResult:
    """Remove the pupils marked as left before `left_before` with their events, planned contacts and
    unplanned rows; `dry_run` counts without removing."""
    today = today or dt.date.today()
    if left_before > today + dt.timedelta(days=1):
        raise ClbError(f"--left-before {left_before} lies in the future.",
                       hint="Give a date in the past: pupils who left before it are removed.")
    result = PurgeResult(left_before=left_before, dry_run=dry_run)
    day = left_before.isoformat()
    with workspace.writing("purge") as session:
        session.rollback = dry_run
        result.per_school = pupil_rows.left_per_school(session.conn, day)
        result.pupils = sum(s["pupils"] for s in result.per_school)
        result.rows, removed = pupil_rows.delete_left(session.conn, day)
        assert removed == result.pupils
        session.counts.update({"left_before": day, "pupils": result.pupils, **result.rows})
    if not dry_run and result.pupils:
        with workspace.connect() as conn:  # the log still holds the pages as they were before the deletion
            pupil_rows.empty_write_ahead_log(conn)
    return result
