"""Every soft goal of the planner, declared once: name, unit, default weight, what it measures.

The models (`assign.py`, `timetable.py`), the summary, `plan check` and `plan explain` all read
the goals from here; `clbhealth.toml` may change the weights ([planning.weights]).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Goal:
    name: str
    unit: str
    weight: int  # default weight per unit
    measures: str


GOALS: tuple[Goal, ...] = (
    Goal("unplanned", "pupil-moments", 1000, "due work left unplanned (only when capacity cannot cover it)"),
    Goal("visits", "sessions", 100, "sessions: a person at a school in a half-day"),
    Goal("travel", "km", 1, "kilometres driven, a round trip from the person's base per session"),
    Goal("balance", "percentage points", 10, "spread of load relative to availability, per role"),
    Goal("continuity", "sessions", 200, "sessions not done by the school's fixed contact (or, re-planning, the previous person)"),
    Goal("early", "weeks", 1, "weeks a session lies after the start of the planning period"),
    Goal("apart", "pupil-parts", 1, "a pupil's parts of one moment (nurse and doctor) on different days"),
    Goal("moved", "sessions", 300, "re-planning: a session moved from its announced half-day"),
)
GOAL_BY_NAME = {goal.name: goal for goal in GOALS}
DEFAULT_WEIGHTS: dict[str, int] = {goal.name: goal.weight for goal in GOALS}
UNITS: dict[str, str] = {goal.name: goal.unit for goal in GOALS}
