"""The planning use case: workspace -> planning problem -> scheduler -> stored plan."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import replace

import pandas as pd

from clbhealth.app.due_list import due_settings
from clbhealth.app.plan_context import OldSession, PlanContext, old_sessions
from clbhealth.app.plan_demand import (
    consent_return_rate, doses_given, match_follow_ups, moment_specs, notice_day, pinned_visits, sticky_visits,
    team_can_meet,
)
from clbhealth.app.plan_save import save_plan
from clbhealth.core.errors import ClbError, listed
from clbhealth.protocols.due import compute_due
from clbhealth.scheduler.calendar import HalfDay, covers, school_half_days
from clbhealth.scheduler.demand import MomentSpec, build_tasks, follow_up_visits, pack_visits, split_by_role
from clbhealth.scheduler.packing import ride_with_follow_ups
from clbhealth.scheduler.model import Person, PlanningProblem, Site, Task, Visit
from clbhealth.scheduler.travel import TravelModel, read_matrix
from clbhealth.workspace.folder import HOME_EDUCATION, Workspace
from clbhealth.workspace.plan import read_planning_rows

__all__ = ["build_problem", "run_plan", "save_plan", "moment_specs"]


def run_plan(workspace: Workspace, *, as_of: dt.date, seconds: float, seed: int, workers: int,
             date_from: dt.date | None = None, date_to: dt.date | None = None, keep_until: dt.date | None = None,
             progress=None) -> dict:
    """Build the planning problem, solve it, store the plan; returns the summary.

    One plan at a time: the plan lock is held from reading the workspace to saving the plan, and a
    second `plan` meanwhile is refused (it would store a plan made from the same state twice).
    """
    from clbhealth.scheduler.bounds import coverage_bound, travel_bound, visits_bound
    from clbhealth.scheduler.solve import SolveOptions, earliest_days, solve

    if seconds <= 0:
        raise ClbError("--time-limit must be more than 0 seconds.")
    if workers < 1:
        raise ClbError("--workers must be at least 1.")
    with workspace.plan_lock():
        problem, context = build_problem(workspace, as_of=as_of, date_from=date_from, date_to=date_to,
                                         keep_until=keep_until)
        options = SolveOptions(seconds=seconds, seed=seed, workers=workers)
        result = solve(problem, options, progress=progress)
        planned = [v for v in problem.visits if v.visit_id in result.placements]
        busy: dict = defaultdict(set)
        for placement in problem.pinned:
            for person in placement.staff.values():
                busy[person].add(placement.half)
        bounds = {
            "visits_lower_bound": visits_bound(planned, context.capacity),
            "travel_lower_bound_km": round(travel_bound(problem, planned, context.capacity), 1),
            "coverage": coverage_bound(problem, problem.visits, earliest_days(problem, {}), context.setup, busy),
        }
        return save_plan(workspace, problem, context, result, options, extra={"bounds": bounds})


def planning_period(workspace: Workspace, as_of: dt.date, date_from: dt.date | None,
                    date_to: dt.date | None) -> tuple[dt.date, dt.date, list[HalfDay]]:
    """The days to plan: from the as-of day at the earliest (nothing is planned in the past)."""
    year = workspace.config.school_year
    first = max(date_from or year.first_day, year.first_day, as_of)
    last = min(date_to or year.last_day, year.last_day)
    if first > last:
        raise ClbError(f"The planning period {first} to {last} is empty or outside the school year {year}.",
                       hint="Choose --from and --to within the school year.")
    half_days = school_half_days(year, workspace.config.planning, first, last)
    if not half_days:
        raise ClbError(f"There are no school days between {first} and {last}.")
    return first, last, half_days


def people_and_sites(workspace: Workspace, rows: dict, warnings: list[str]) -> tuple[list[Person], dict[str, Site], list[str]]:
    """The staff as planner persons and the schools as sites (home education at the CLB office)."""
    if not rows["staff"]:
        raise ClbError("The workspace has no staff list.",
                       hint="Import one first: clbhealth import staff FILE (staff_id, name, role, availability, ...).")
    office = workspace.config.office
    bases = [(r["base_lat"], r["base_lon"]) for r in rows["staff"] if r["base_lat"] is not None]
    if office.lat is not None and office.lon is not None:
        office_pos = (office.lat, office.lon)
    elif bases:
        office_pos = (sum(b[0] for b in bases) / len(bases), sum(b[1] for b in bases) / len(bases))
        warnings.append("the CLB office has no position in clbhealth.toml ([office] lat, lon); the centre of the "
                        "staff bases is used for home education and for staff without a base")
    else:
        raise ClbError("Neither the CLB office nor any staff member has a position.",
                       hint="Set [office] lat and lon in clbhealth.toml, or give staff base_lat/base_lon.")
    persons = [
        Person(r["staff_id"], r["name"], r["role"],
               r["base_lat"] if r["base_lat"] is not None else office_pos[0],
               r["base_lon"] if r["base_lon"] is not None else office_pos[1],
               frozenset(t for t in r["availability"].split() if t), frozenset(r["schools"].split()))
        for r in rows["staff"]
    ]
    sites: dict[str, Site] = {}
    no_position = []
    for r in rows["schools"]:
        if r["school_id"] == HOME_EDUCATION:
            sites[r["school_id"]] = Site(r["school_id"], office.name, office_pos[0], office_pos[1], "huisonderwijs")
        elif r["lat"] is None:
            no_position.append(r["school_id"])
            sites[r["school_id"]] = Site(r["school_id"], r["name"], office_pos[0], office_pos[1], r["level"])
        else:
            sites[r["school_id"]] = Site(r["school_id"], r["name"], r["lat"], r["lon"], r["level"])
    return persons, sites, no_position


def calendars(persons: list[Person], rows: dict, half_days: list[HalfDay]) -> tuple[dict, dict]:
    """Each person's available half-days (worked, not absent) and each school's closed ones."""
    absence_by_person: dict[str, list] = defaultdict(list)
    for a in rows["absences"]:
        absence_by_person[a["staff_id"]].append((dt.date.fromisoformat(a["date_from"]),
                                                 dt.date.fromisoformat(a["date_to"]), a["part"]))
    available: dict[str, set[HalfDay]] = {}
    for person in persons:
        off = absence_by_person.get(person.staff_id, [])
        available[person.staff_id] = {h for h in half_days if h.slot in person.slots
                                      and not any(covers(f, t, p, h) for f, t, p in off)}
    closed: dict[str, set[HalfDay]] = defaultdict(set)
    for c in rows["closures"]:
        f, t = dt.date.fromisoformat(c["date_from"]), dt.date.fromisoformat(c["date_to"])
        for h in half_days:
            if covers(f, t, c["part"], h):
                closed[c["school_id"]].add(h)
    return available, closed


def due_work(workspace: Workspace, rows: dict, as_of: dt.date, specs: dict[str, MomentSpec],
             old: dict[str, OldSession], pinned_ids: set[str]) -> tuple[pd.DataFrame, dict, dict]:
    """The due list to plan (pupil-moments already in kept sessions left out), due and kept counts."""
    planning = workspace.config.planning
    statuses = ("due", "needs_consent") if planning.plan_needs_consent else ("due",)
    levels = {r["school_id"]: r["level"] for r in rows["schools"]}
    due = compute_due(rows["pupils"], rows["events"], workspace.protocol, workspace.config.school_year, as_of,
                      due_settings(workspace), statuses=statuses, levels=levels)
    due = due[due["moment"].isin(specs)]
    planned_keep = {(pid, m) for sid in pinned_ids for (pid, m), outcome in old[sid].pupils.items()
                    if outcome in (None, "seen")}
    due_per_moment = due.groupby("moment").size().to_dict()
    planned_before: dict[str, int] = defaultdict(int)
    for _, moment in planned_keep:
        planned_before[moment] += 1
    if planned_keep:
        keys = list(zip(due["pupil_id"].astype(int), due["moment"]))
        due = due[[k not in planned_keep for k in keys]]
    return due, due_per_moment, dict(planned_before)


def role_tasks(workspace: Workspace, due: pd.DataFrame, rows: dict, specs: dict[str, MomentSpec], first: dt.date,
               last: dt.date, given: dict, capacity: int) -> tuple[list[Task], list[dict], dict]:
    """Each pupil's work per role (doses without a form sized by the expected consent)."""
    pupils = rows["pupils"]
    birth = dict(zip(pupils["pupil_id"].astype(int), pd.to_datetime(pupils["birth_date"]).dt.date))
    tasks, rejected = build_tasks(due, specs, birth, first, last, given)
    unsure = {(int(p), m) for p, m, st in zip(due["pupil_id"], due["moment"], due["status"]) if st == "needs_consent"}
    rate, source = consent_return_rate(rows["events"], workspace.config.planning.consent_return_rate)
    tasks = split_by_role(tasks, specs, unsure, rate)
    too_long = [t for t in tasks if t.minutes > capacity]
    if too_long:
        raise ClbError(f"{len(too_long)} pupil(s) need more minutes ({too_long[0].minutes}) than a block holds.",
                       hint="Check [minutes] and [calendar] in clbhealth.toml.")
    return tasks, rejected, {"rate": rate, "source": source, "unsure_pupil_moments": len(unsure)}


def without_seen_parts(tasks: list[Task], old: dict[str, OldSession], specs: dict[str, MomentSpec]) -> list[Task]:
    """A moment done in parts stays due until its last part is seen: the parts already seen (in a
    session of those roles) are not planned again."""
    seen = {(pid, moment, frozenset(s.staff)) for s in old.values()
            for (pid, moment), outcome in s.pupils.items() if outcome == "seen"}
    if not seen:
        return tasks
    result = []
    for task in tasks:
        moments = tuple(m for m in task.moments if not any(
            (task.pupil_id, m, roles) in seen for roles in seen_roles(task.roles)))
        if moments == task.moments:
            result.append(task)
        elif moments:
            minutes = sum(max(specs[m].part_minutes().get(r, specs[m].minutes) for r in task.roles) for m in moments)
            result.append(replace(task, moments=moments, minutes=min(task.minutes, minutes)))
    return result


def seen_roles(roles: frozenset[str]) -> list[frozenset[str]]:
    """The staff role sets of sessions that did a part of these roles (alone, or with the others)."""
    return [roles, roles | {"nurse"}, roles | {"doctor"}]


def travel_tables(workspace: Workspace, persons: list[Person], sites: dict[str, Site]) -> tuple[dict, dict]:
    """Round-trip km and one-way minutes from every person's base to every site."""
    planning = workspace.config.planning
    travel = TravelModel(planning.road_factor, planning.speed_kmh,
                         read_matrix(workspace.root / planning.travel_matrix) if planning.travel_matrix else None)
    km: dict[tuple[str, str], float] = {}
    minutes: dict[tuple[str, str], int] = {}
    for person in persons:
        for site in sites.values():
            one_km, one_min = travel.one_way(person.staff_id, person.lat, person.lon,
                                             "OFFICE" if site.school_id == HOME_EDUCATION else site.school_id,
                                             site.lat, site.lon)
            km[(person.staff_id, site.school_id)] = round(2 * one_km, 2)
            minutes[(person.staff_id, site.school_id)] = one_min
    return km, minutes


def visits_of(workspace: Workspace, tasks: list[Task], movable: dict[str, OldSession], pinned: list[Visit],
              specs: dict, last: dt.date, capacity: int, can_meet) -> list[Visit]:
    """Tasks packed into visits (kept sessions first), with the follow-up doses' visits."""
    config = workspace.config
    sticky, loose = sticky_visits(tasks, movable, config.setup_minutes, capacity)
    visits = pack_visits(loose, capacity, config.setup_minutes, sticky=sticky, can_meet=can_meet)
    follow = follow_up_visits(visits + pinned, specs, last, capacity, config.setup_minutes)
    visits = ride_with_follow_ups(visits, follow, capacity)
    for visit in visits + follow:
        visit.setup = config.setup_for(visit.moments)
    used = {v.session_id for v in visits if v.session_id}
    match_follow_ups(follow, {sid: s for sid, s in movable.items() if sid not in used})
    visits.extend(follow)
    ids = [v.visit_id for v in visits]
    if len(ids) != len(set(ids)):  # a programming error, never a user's: every visit needs its own id
        raise RuntimeError("two visits share an id: " + ", ".join(sorted({i for i in ids if ids.count(i) > 1})[:5]))
    return visits


def site_warnings(visits: list[Visit], no_position: list[str], schools: list[dict]) -> list[str]:
    """Sites with work that lack a position, or that vanished from the official list."""
    planned = {v.school_id for v in visits}
    warnings = []
    if planned & set(no_position):
        warnings.append("these schools have no position, so travel to them is counted from the office: "
                        + listed(sorted(planned & set(no_position))) + " (clbhealth schools lists them all)")
    vanished = {r["school_id"] for r in schools if not r.get("listed", 1)} & planned
    if vanished:
        warnings.append("these sites are no longer in the official school list but still have pupils, who are "
                        "planned there as before; import the new rosters to move them: " + listed(sorted(vanished)))
    return warnings


def build_problem(workspace: Workspace, *, as_of: dt.date, date_from: dt.date | None = None,
                  date_to: dt.date | None = None, keep_until: dt.date | None = None) -> tuple[PlanningProblem, PlanContext]:
    """The planning problem of the workspace as it is, and what saving the plan needs besides."""
    config, planning, warnings = workspace.config, workspace.config.planning, []
    first, last, half_days = planning_period(workspace, as_of, date_from, date_to)
    rows = read_planning_rows(workspace)
    old = old_sessions(rows["sessions"])
    persons, sites, no_position = people_and_sites(workspace, rows, warnings)
    available, closed = calendars(persons, rows, half_days)
    specs = moment_specs(workspace)
    pinned_ids = {sid for sid, s in old.items() if s.half.day < as_of or (keep_until and s.half.day <= keep_until)
                  or s.half.day < first or s.half.day > last}
    due, due_per_moment, planned_before = due_work(workspace, rows, as_of, specs, old, pinned_ids)
    capacity = max(planning.morning.minutes, planning.afternoon.minutes) - config.longest_setup
    if capacity <= 0:
        raise ClbError("The set-up time fills the whole block.", hint="Lower [minutes] setup in clbhealth.toml.")
    given = doses_given(rows["events"], old, pinned_ids)
    tasks, rejected, consent = role_tasks(workspace, due, rows, specs, first, last, given, capacity)
    tasks = without_seen_parts(tasks, old, specs)
    movable = {sid: s for sid, s in old.items() if sid not in pinned_ids}
    birth = dict(zip(rows["pupils"]["pupil_id"].astype(int), pd.to_datetime(rows["pupils"]["birth_date"]).dt.date))
    pinned, placements = pinned_visits(old, pinned_ids, specs, birth, config.setup_minutes, given)
    visits = visits_of(workspace, tasks, movable, pinned, specs, last, capacity,
                       team_can_meet(persons, available, closed))
    warnings.extend(site_warnings(visits, no_position, rows["schools"]))
    km, minutes = travel_tables(workspace, persons, sites)
    problem = PlanningProblem(
        year_start=config.school_year.start_year, half_days=half_days, persons=persons, sites=sites, visits=visits,
        available=available, closed=dict(closed),
        block_minutes={"am": planning.morning.minutes, "pm": planning.afternoon.minutes},
        weights=dict(planning.weights), km=km, minutes_one_way=minutes, pinned=placements,
        notice_day=notice_day(half_days, as_of, planning.notice_school_days),
        road_factor=planning.road_factor, speed_kmh=planning.speed_kmh,
    )
    info = {int(r.pupil_id): {"last_name": r.last_name, "first_name": r.first_name, "class_name": r.class_name,
                              "birth_date": r.birth_date} for r in rows["pupils"].itertuples()}
    context = PlanContext(
        as_of=as_of, date_from=first, date_to=last, keep_until=keep_until, specs=specs, pupils=info,
        old_sessions=movable, pinned_sessions=pinned_ids, due_per_moment=due_per_moment,
        planned_before=planned_before, rejected=rejected, warnings=warnings, capacity=capacity,
        setup=config.longest_setup, consent_rate=consent,
    )
    return problem, context
