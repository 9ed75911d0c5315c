"""What the planning use case carries beside the pure planning problem: the previous plan's
sessions and everything saving and summarising the plan needs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from clbhealth.scheduler.calendar import HalfDay
from clbhealth.scheduler.demand import MomentSpec


@dataclass
class OldSession:
    """A session of the stored plan."""

    session_id: str
    half: HalfDay
    school_id: str
    staff: dict[str, str]  # role -> staff_id
    pupils: dict[tuple[int, str], str | None]  # (pupil, moment) -> outcome
    kind: str
    announced_on: str | None = None  # the as-of day of the plan that gave it this half-day
    start: str = ""  # "HH:MM": two sessions of one person's half-day follow each other


def old_sessions(rows: dict[str, dict]) -> dict[str, OldSession]:
    """The workspace's session rows as OldSession objects."""
    return {sid: OldSession(sid, HalfDay(r["date"], r["part"]), r["school_id"], dict(r["staff"]), dict(r["pupils"]),
                            r["kind"], r.get("announced_on"), r.get("start") or "") for sid, r in rows.items()}


@dataclass
class PlanContext:
    """What saving and summarising the plan needs beyond the problem itself."""

    as_of: dt.date
    date_from: dt.date
    date_to: dt.date
    keep_until: dt.date | None
    specs: dict[str, MomentSpec]
    pupils: dict[int, dict]
    old_sessions: dict[str, OldSession]  # sessions that may change
    pinned_sessions: set[str]
    due_per_moment: dict[str, int]
    planned_before: dict[str, int]  # pupil-moments already in kept sessions, per moment
    rejected: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    capacity: int = 0
    setup: int = 0
    consent_rate: dict = field(default_factory=dict)
