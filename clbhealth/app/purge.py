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
from clbhealth.workspace.folder import Workspace

DOSSIER_NOTE = (
    "This removes the pupils from this clbhealth workspace only. It does not touch the official CLB "
    "dossier (LARS) or any other record system: keeping and destroying the dossier follows the CLB's own "
    "retention rules."
)

# Rows that belong to a pupil, deleted before the pupil (table, what the rows are).
PUPIL_ROWS = (
    ("events", "history events"),
    ("session_pupils", "planned contacts"),
    ("unplanned", "unplanned rows"),
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
    chosen = "SELECT pupil_id FROM pupils WHERE active = 0 AND left_on IS NOT NULL AND left_on < ?"
    day = left_before.isoformat()
    with workspace.writing("purge") as session:
        session.rollback = dry_run
        conn = session.conn
        conn.execute("PRAGMA secure_delete = ON")  # overwrite what is deleted, do not just unlink it
        result.per_school = [
            {"school_id": r[0], "pupils": r[1]} for r in conn.execute(
                "SELECT school_id, count(*) FROM pupils WHERE active = 0 AND left_on IS NOT NULL AND left_on < ? "
                "GROUP BY school_id ORDER BY school_id", (day,))]
        result.pupils = sum(s["pupils"] for s in result.per_school)
        for table, _ in PUPIL_ROWS:
            result.rows[table] = conn.execute(f"DELETE FROM {table} WHERE pupil_id IN ({chosen})", (day,)).rowcount
        removed = conn.execute(f"DELETE FROM pupils WHERE pupil_id IN ({chosen})", (day,)).rowcount
        assert removed == result.pupils
        session.counts.update({"left_before": day, "pupils": result.pupils, **result.rows})
    if not dry_run and result.pupils:
        with workspace.connect() as conn:
            try:  # the log still holds the pages as they were before the deletion: empty it
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            except Exception:  # another reader keeps the log; SQLite empties it later
                pass
    return result
