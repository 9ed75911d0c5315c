"""The planner's data: people, sites, visits and the problem handed to the solver stages."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from clbhealth.scheduler.calendar import HalfDay, add_months


@dataclass(frozen=True)
class Person:
    """Someone who does systematic contacts."""

    staff_id: str
    name: str
    role: str
    lat: float
    lon: float
    slots: frozenset[str]  # weekly half-days worked, e.g. {'mon-am', 'tue-pm'}
    fixed_schools: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Site:
    """A place sessions happen: a school site, or the CLB office for home education."""

    school_id: str
    name: str
    lat: float
    lon: float
    level: str | None = None


@dataclass(frozen=True)
class Task:
    """One pupil's work in one session: a contact moment with its doses, or doses alone."""

    pupil_id: int
    school_id: str
    class_name: str
    grade: str | None
    moments: tuple[str, ...]
    minutes: int
    roles: frozenset[str]
    earliest: dt.date
    latest: dt.date
    bundle: str  # the contact moment, or the dose code for doses planned on their own
    excluded_staff: frozenset[str] = frozenset()
    catch_up: bool = False
    # Follow-up doses this task's doses lead to, as (dose code, months after).
    follow_ups: tuple[tuple[str, int], ...] = ()


@dataclass
class Visit:
    """A session to place: one school, one half-day, one team, some classes."""

    visit_id: str
    school_id: str
    tasks: list[Task]
    roles: frozenset[str]
    earliest: dt.date
    latest: dt.date
    setup: int
    bundle: str
    kind: str = "regular"  # 'regular' | 'catch_up'
    # Visits that must come first, each with the months this one must wait after it (dose intervals).
    after: tuple[tuple[str, int], ...] = ()
    session_id: str | None = None  # kept from the previous plan when re-planning
    previous: HalfDay | None = None
    previous_staff: frozenset[str] = frozenset()
    previous_start: str = ""  # "HH:MM" of the previous session (a shared half-day's order)
    riders: tuple["Visit", ...] = ()  # visits whose work rides with this later dose (packing.ride_with_follow_ups)

    @property
    def minutes(self) -> int:
        return self.setup + sum(t.minutes for t in self.tasks)

    @property
    def pupils(self) -> int:
        return len({t.pupil_id for t in self.tasks})

    @property
    def pupil_moments(self) -> int:
        return sum(len(t.moments) for t in self.tasks)

    @property
    def excluded_staff(self) -> frozenset[str]:
        return frozenset().union(*(t.excluded_staff for t in self.tasks)) if self.tasks else frozenset()

    @property
    def moments(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m for t in self.tasks for m in t.moments))

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(sorted({t.class_name for t in self.tasks}))


@dataclass
class Placement:
    """Where and with whom a visit happens."""

    visit_id: str
    half: HalfDay
    staff: dict[str, str]  # role -> staff_id
    offset: int = 0  # minutes after the block's start (a second school on a shared half-day)
    after_visit: str | None = None  # on a shared half-day: the visit the person comes from


@dataclass
class PlanningProblem:
    """Everything the stages need, as plain data (no database, no files)."""

    year_start: int
    half_days: list[HalfDay]
    persons: list[Person]
    sites: dict[str, Site]
    visits: list[Visit]
    available: dict[str, set[HalfDay]]  # staff_id -> half-days worked and not absent
    closed: dict[str, set[HalfDay]]  # school_id -> closed half-days
    block_minutes: dict[str, int]  # 'am'/'pm' -> minutes of the block
    weights: dict[str, int]
    km: dict[tuple[str, str], float] = field(default_factory=dict)  # (staff_id, school_id) -> round trip
    minutes_one_way: dict[tuple[str, str], int] = field(default_factory=dict)
    pinned: list[Placement] = field(default_factory=list)  # sessions kept as they are
    notice_day: dt.date | None = None  # no new session before this day (a kept half-day may stay)
    road_factor: float = 1.3  # road km per straight-line km, between two schools
    speed_kmh: float = 45.0

    def between(self, school_a: str, school_b: str) -> tuple[float, int]:
        """(road km, minutes) from one school to another, as the travel settings estimate them."""
        from clbhealth.scheduler.travel import haversine_km

        a, b = self.sites.get(school_a), self.sites.get(school_b)
        if a is None or b is None:
            return (0.0, 0) if school_a == school_b else (float("inf"), 10**6)
        km = haversine_km(a.lat, a.lon, b.lat, b.lon) * self.road_factor
        return km, int(round(km / self.speed_kmh * 60))

    def leg_km(self, staff_id: str, placement: Placement, visits: dict[str, Visit]) -> float:
        """The km a placement adds to a person's day: the round trip, or on a shared half-day the
        detour from the school before it (from there, then home instead of home from there)."""
        school = visits[placement.visit_id].school_id
        if placement.after_visit is None or placement.after_visit not in visits:
            return self.km[(staff_id, school)]
        before = visits[placement.after_visit].school_id
        return max(0.0, self.between(before, school)[0] + (self.km[(staff_id, school)]
                                                         - self.km[(staff_id, before)]) / 2)

    @property
    def fixed_contacts(self) -> dict[tuple[str, str], set[str]]:
        """(school, role) -> the staff who are that school's fixed contact for the role."""
        cache = getattr(self, "_fixed_cache", None)
        if cache is None:
            cache = {}
            for person in self.persons:
                for school in person.fixed_schools:
                    cache.setdefault((school, person.role), set()).add(person.staff_id)
            self._fixed_cache = cache
        return cache

    def allowed(self, visit: Visit, half: HalfDay) -> bool:
        """The notice period: no session before `notice_day` unless it keeps its announced half-day."""
        return self.notice_day is None or half.day >= self.notice_day or half == visit.previous

    def person(self, staff_id: str) -> Person:
        return self._people()[staff_id]

    def _people(self) -> dict[str, Person]:
        cache = getattr(self, "_people_cache", None)
        if cache is None:
            cache = {p.staff_id: p for p in self.persons}
            self._people_cache = cache
        return cache


def first_possible_day(visit: Visit, by_id: dict[str, Visit], depth: int = 0) -> dt.date:
    """A visit's first possible day: its window's start, or a later dose's months after the first
    possible day of each dose it follows."""
    day = visit.earliest
    for before, months in visit.after:
        if before in by_id and depth < 20:
            day = max(day, add_months(first_possible_day(by_id[before], by_id, depth + 1), months))
    return day


def followers_of(visits) -> dict[str, list[tuple[str, int]]]:
    """visit_id -> the later doses that follow it, each with the months it waits (from `Visit.after`)."""
    followers: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for visit in visits:
        for before, months in visit.after:
            followers[before].append((visit.visit_id, months))
    return followers


def followers_deadlines(visits: list[Visit]) -> dict[str, dt.date]:
    """visit_id -> the last day on which it still leaves each later dose its interval inside that
    dose's window (an HPV2 a month after HPV1 whose HPV3 comes three months later: by 30 March),
    for the follow-up doses that later doses follow and whose own window reaches past that day.
    Only follow-ups: a contact moment's session that carries a first dose keeps its whole window
    (a session of thirty pupils is not squeezed into the autumn for one pupil's third dose)."""
    followers = followers_of(visits)
    by_id = {v.visit_id: v for v in visits}
    found: dict[str, dt.date] = {}

    def last_day(visit_id: str, depth: int = 0) -> dt.date:
        if visit_id not in found:
            day = by_id[visit_id].latest
            for follower, months in followers.get(visit_id, ()) if depth < 10 else ():
                day = min(day, add_months(last_day(follower, depth + 1), -months))
            found[visit_id] = day
        return found[visit_id]

    return {v: last_day(v) for v in followers if v in by_id and by_id[v].after and last_day(v) < by_id[v].latest}
