"""The planning use case: workspace -> planning problem -> scheduler -> stored plan."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pandas as pd

from clbhealth.core.errors import ClbError
from clbhealth.protocols.due import compute_due
from clbhealth.scheduler.calendar import HalfDay, covers, school_half_days, window_dates
from clbhealth.scheduler.demand import MomentSpec, build_tasks, follow_up_visits, pack_visits, split_by_role
from clbhealth.scheduler.model import Person, Placement, PlanningProblem, Site, Task, Visit
from clbhealth.scheduler.travel import TravelModel, read_matrix
from clbhealth.app.due_list import due_settings
from clbhealth.workspace.pupils import load_events, load_pupils
from clbhealth.workspace.folder import HOME_EDUCATION, Workspace
from clbhealth.workspace.plan import OldSession, PlanContext, _load_sessions, _slots, save_plan


def moment_specs(workspace: Workspace) -> dict[str, MomentSpec]:
    """Minutes, roles, window and follow-up doses per code in force (protocol + clbhealth.toml)."""
    config = workspace.config
    protocol = workspace.protocol
    year = config.school_year
    rules = protocol.in_force(year)
    specs = {}
    for rule in rules:
        if rule.code in specs:
            continue
        chain = []
        three_age = None
        code = rule.code
        while True:
            nxt = next((r for r in rules if r.follows == code), None)
            if nxt is None:
                break
            chain.append((nxt.code, nxt.interval_months, nxt.interval_months_three_dose, nxt.only_three_dose))
            three_age = three_age or nxt.three_dose_from_age
            code = nxt.code
        first_dose = rule.follows
        for _ in rules:  # back along the series to its first dose (bounded: no endless loop on a bad protocol)
            before = next((r for r in rules if r.code == first_dose and r.follows), None)
            if before is None:
                break
            first_dose = before.follows
        start, end = window_dates(config.planning.windows.get(rule.code), year)
        roles = tuple(config.planning.roles.get(rule.code, rule.staff))
        if rule.kind == "vaccination" and config.planning.nurse_assists_vaccination and "nurse" not in roles:
            roles = (*roles, "nurse")
        parts, together = config.parts_for(rule.code, rule.minutes, roles)
        specs[rule.code] = MomentSpec(
            code=rule.code, kind=rule.kind, minutes=config.minutes_for(rule.code, rule.minutes),
            roles=frozenset(parts), earliest=start, latest=end,
            with_contact=rule.with_contact, follow_ups=tuple(chain), three_dose_age=three_age,
            first_dose=first_dose, parts=tuple(sorted(parts.items())), together=together,
        )
    return specs


def build_problem(workspace: Workspace, *, as_of: dt.date, date_from: dt.date | None = None,
                  date_to: dt.date | None = None, keep_until: dt.date | None = None) -> tuple[PlanningProblem, PlanContext]:
    config = workspace.config
    planning = config.planning
    year = config.school_year
    warnings: list[str] = []
    # Nothing can be planned in the past: the period starts on the as-of day at the earliest.
    first = max(date_from or year.first_day, year.first_day, as_of)
    last = min(date_to or year.last_day, year.last_day)
    if first > last:
        raise ClbError(f"The planning period {first} to {last} is empty or outside the school year {year}.",
                       hint="Choose --from and --to within the school year.")
    half_days = school_half_days(year, planning, first, last)
    if not half_days:
        raise ClbError(f"There are no school days between {first} and {last}.")
    with workspace.connect() as conn:
        staff_rows = conn.execute("SELECT staff_id, name, role, base_lat, base_lon, availability, schools "
                                  "FROM staff WHERE active = 1 ORDER BY staff_id").fetchall()
        if not staff_rows:
            raise ClbError("The workspace has no staff list.",
                           hint="Import one first: clbhealth import staff FILE (staff_id, name, role, availability, ...).")
        school_rows = conn.execute("SELECT school_id, name, lat, lon, level FROM schools").fetchall()
        absences = conn.execute("SELECT staff_id, date_from, date_to, part FROM absences").fetchall()
        closures = conn.execute("SELECT school_id, date_from, date_to, part FROM closures").fetchall()
        pupils = load_pupils(conn)
        events = load_events(conn)
        old = _load_sessions(conn)
    office = config.office
    bases = [(r["base_lat"], r["base_lon"]) for r in staff_rows if r["base_lat"] is not None]
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
               _slots(r["availability"]), frozenset(r["schools"].split()))
        for r in staff_rows
    ]
    sites: dict[str, Site] = {}
    no_position = []
    for r in school_rows:
        if r["school_id"] == HOME_EDUCATION:
            sites[r["school_id"]] = Site(r["school_id"], office.name, office_pos[0], office_pos[1], "huisonderwijs")
        elif r["lat"] is None:
            no_position.append(r["school_id"])
            sites[r["school_id"]] = Site(r["school_id"], r["name"], office_pos[0], office_pos[1], r["level"])
        else:
            sites[r["school_id"]] = Site(r["school_id"], r["name"], r["lat"], r["lon"], r["level"])

    available: dict[str, set[HalfDay]] = {}
    absence_by_person: dict[str, list] = defaultdict(list)
    for a in absences:
        absence_by_person[a["staff_id"]].append((dt.date.fromisoformat(a["date_from"]),
                                                 dt.date.fromisoformat(a["date_to"]), a["part"]))
    for person in persons:
        off = absence_by_person.get(person.staff_id, [])
        available[person.staff_id] = {h for h in half_days if h.slot in person.slots
                                      and not any(covers(f, t, p, h) for f, t, p in off)}
    closed: dict[str, set[HalfDay]] = defaultdict(set)
    for c in closures:
        f, t = dt.date.fromisoformat(c["date_from"]), dt.date.fromisoformat(c["date_to"])
        for h in half_days:
            if covers(f, t, c["part"], h):
                closed[c["school_id"]].add(h)

    specs = moment_specs(workspace)
    statuses = ("due", "needs_consent") if planning.plan_needs_consent else ("due",)
    due = compute_due(pupils, events, workspace.protocol, year, as_of, due_settings(workspace), statuses=statuses)
    due = due[due["moment"].isin(specs)]
    pinned_ids = {sid for sid, s in old.items() if s.half.day < as_of or (keep_until and s.half.day <= keep_until)
                  or s.half.day < first or s.half.day > last}
    planned_keep = {(pid, m) for sid in pinned_ids for (pid, m), outcome in old[sid].pupils.items()
                    if outcome in (None, "seen")}
    due_per_moment = due.groupby("moment").size().to_dict()
    planned_before: dict[str, int] = defaultdict(int)
    for pid, moment in planned_keep:
        planned_before[moment] += 1
    if planned_keep:
        keys = list(zip(due["pupil_id"].astype(int), due["moment"]))
        due = due[[k not in planned_keep for k in keys]]
    birth = dict(zip(pupils["pupil_id"].astype(int), pd.to_datetime(pupils["birth_date"]).dt.date))
    given = _doses_given(events, old, pinned_ids)
    tasks, rejected = build_tasks(due, specs, birth, first, last, given)
    unsure = {(int(p), m) for p, m, st in zip(due["pupil_id"], due["moment"], due["status"]) if st == "needs_consent"}
    rate, rate_source = consent_return_rate(events, planning.consent_return_rate)
    tasks = split_by_role(tasks, specs, unsure, rate)
    capacity = max(planning.morning.minutes, planning.afternoon.minutes) - config.longest_setup
    if capacity <= 0:
        raise ClbError("The set-up time fills the whole block.", hint="Lower [minutes] setup in clbhealth.toml.")
    too_long = [t for t in tasks if t.minutes > capacity]
    if too_long:
        raise ClbError(f"{len(too_long)} pupil(s) need more minutes ({too_long[0].minutes}) than a block holds.",
                       hint="Check [minutes] and [calendar] in clbhealth.toml.")

    movable = {sid: s for sid, s in old.items() if sid not in pinned_ids}
    sticky, loose = _sticky_visits(tasks, movable, config.setup_minutes, capacity)
    visits = pack_visits(loose, capacity, config.setup_minutes, sticky=sticky,
                         can_meet=_team_can_meet(persons, available, closed))
    pinned_visits, pinned_placements = _pinned_visits(old, pinned_ids, specs, birth, config.setup_minutes, given)
    follow = follow_up_visits(visits + pinned_visits, specs, last, capacity, config.setup_minutes)
    for visit in visits + follow:
        visit.setup = config.setup_for(visit.moments)
    used = {v.session_id for v in visits if v.session_id}
    _match_follow_ups(follow, {sid: s for sid, s in movable.items() if sid not in used})
    visits.extend(follow)
    ids = [v.visit_id for v in visits]
    if len(ids) != len(set(ids)):  # a programming error, never a user's: every visit needs its own id
        raise RuntimeError("two visits share an id: " + ", ".join(sorted({i for i in ids if ids.count(i) > 1})[:5]))
    if no_position and any(v.school_id in no_position for v in visits):
        warnings.append("these schools have no position, so travel to them is counted from the office: "
                        + ", ".join(sorted({v.school_id for v in visits if v.school_id in no_position})))

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
    problem = PlanningProblem(
        year_start=year.start_year, half_days=half_days, persons=persons, sites=sites, visits=visits,
        available=available, closed=dict(closed),
        block_minutes={"am": planning.morning.minutes, "pm": planning.afternoon.minutes},
        weights=dict(planning.weights), km=km, minutes_one_way=minutes, pinned=pinned_placements,
        notice_day=notice_day(half_days, as_of, planning.notice_school_days),
    )
    info = {int(r.pupil_id): {"last_name": r.last_name, "first_name": r.first_name, "class_name": r.class_name,
                              "birth_date": r.birth_date} for r in pupils.itertuples()}
    context = PlanContext(
        as_of=as_of, date_from=first, date_to=last, keep_until=keep_until, specs=specs, pupils=info,
        old_sessions=movable, pinned_sessions=pinned_ids, due_per_moment=due_per_moment,
        planned_before=dict(planned_before), rejected=rejected, warnings=warnings, capacity=capacity,
    )
    context.consent_rate = {"rate": rate, "source": rate_source, "unsure_pupil_moments": len(unsure)}
    context.setup = config.longest_setup
    return problem, context


MIN_FORMS_TO_LEARN = 20
DEFAULT_RETURN_RATE = 0.8  # [I] no source gives a figure


def consent_return_rate(events: pd.DataFrame, setting: float | None) -> tuple[float, str]:
    """The share of consent forms expected back with consent: the setting, else learned from this
    workspace's returned forms (given / (given + refused)), else 0.8 [I]."""
    if setting is not None:
        return setting, "clbhealth.toml [planning] consent_return_rate"
    given = int((events["status"] == "consent_given").sum()) if len(events) else 0
    refused = int((events["status"] == "consent_refused").sum()) if len(events) else 0
    if given + refused >= MIN_FORMS_TO_LEARN:
        return round(given / (given + refused), 3), f"learned from {given + refused} returned forms"
    return DEFAULT_RETURN_RATE, f"default [I] (only {given + refused} returned forms to learn from)"


def notice_day(half_days: list[HalfDay], as_of: dt.date, school_days: int) -> dt.date | None:
    """The first day a new session may fall on: `school_days` school days after the day of planning."""
    days = sorted({h.day for h in half_days if h.day > as_of})
    if school_days <= 0 or not days:
        return None
    return days[school_days - 1] if school_days <= len(days) else days[-1] + dt.timedelta(days=1)


def _sticky_visits(tasks: list[Task], movable: dict[str, OldSession], setup: int,
                   capacity: int) -> tuple[list[Visit], list[Task]]:
    """Tasks whose pupil was planned in a session that may still change stay with that session."""
    where: dict[tuple[int, str], list[str]] = defaultdict(list)
    for sid, session in sorted(movable.items()):
        for (pid, moment), outcome in session.pupils.items():
            if outcome is None:
                where[(pid, moment)].append(sid)
    grouped: dict[tuple[str, frozenset], list[Task]] = defaultdict(list)
    loose = []
    for task in tasks:
        # The previous session that did this part: the one with the pupil and the task's roles.
        sid = next((s for m in task.moments for s in where.get((task.pupil_id, m), ())
                    if task.roles <= set(movable[s].staff)), None)
        session = movable.get(sid) if sid else None
        if session is not None and task.earliest <= session.half.day <= task.latest and session.school_id == task.school_id:
            grouped[(sid, task.roles)].append(task)
        else:
            loose.append(task)
    visits = []
    owner: set[str] = set()
    for (sid, roles), kept in sorted(grouped.items(), key=lambda kv: (kv[0][0], -len(kv[0][1]), sorted(kv[0][1]))):
        session = movable[sid]
        room, fits = capacity, []
        for task in sorted(kept, key=lambda t: (t.class_name, t.pupil_id)):
            if task.minutes <= room:  # more work than the block holds now (forms came back): the rest moves
                fits.append(task)
                room -= task.minutes
            else:
                loose.append(task)
        kept = fits
        if not kept:
            continue
        # A session of an older plan done together may now be parts apart: the first part keeps its id.
        keeps_id = sid not in owner
        owner.add(sid)
        visits.append(Visit(
            visit_id=f"KEEP:{sid}:{'+'.join(sorted(roles))}", school_id=session.school_id, tasks=kept,
            roles=roles, earliest=max(t.earliest for t in kept),
            latest=min(t.latest for t in kept), setup=setup, bundle=kept[0].bundle, kind=session.kind,
            session_id=sid if keeps_id else None, previous=session.half,
            previous_staff=frozenset(p for r, p in session.staff.items() if r in roles),
        ))
    return visits, loose


def _team_can_meet(persons: list[Person], available: dict[str, set[HalfDay]], closed: dict[str, set[HalfDay]]):
    """Whether, in a window, some person of each role (none that pupils object to) is free on one
    same half-day when the school is open: the packer combines work only into visits that can happen."""
    by_role: dict[str, set[HalfDay]] = defaultdict(set)
    people: dict[str, set[str]] = defaultdict(set)
    for person in persons:
        by_role[person.role] |= available.get(person.staff_id, set())
        people[person.role].add(person.staff_id)
    cache: dict[tuple, bool] = {}

    def free(role: str, excluded: frozenset) -> set[HalfDay]:
        if not excluded & people[role]:
            return by_role.get(role, set())
        return set().union(*(available.get(p, set()) for p in people[role] - excluded))

    def can_meet(school_id: str, roles: frozenset, first: dt.date, last: dt.date,
                 excluded: frozenset = frozenset()) -> bool:
        key = (school_id, roles, first, last, excluded)
        if key not in cache:
            common = set.intersection(*(free(r, excluded) for r in roles)) if roles else set()
            shut = closed.get(school_id, set())
            cache[key] = any(first <= h.day <= last and h not in shut for h in common)
        return cache[key]

    return can_meet


def _doses_given(events: pd.DataFrame, old: dict[str, OldSession], pinned: set[str]) -> dict[tuple[int, str], dt.date]:
    """The first day each (pupil, code) was done, or is planned in a kept session."""
    given: dict[tuple[int, str], dt.date] = {}
    done = events[events["status"].isin(["done", "done_external"])]
    for pupil_id, code, day in zip(done["pupil_id"].astype(int), done["code"], done["date"]):
        when = dt.date.fromisoformat(str(day)[:10])
        if (pupil_id, code) not in given or when < given[(pupil_id, code)]:
            given[(pupil_id, code)] = when
    for sid in sorted(pinned, key=lambda s: old[s].half):
        for (pupil_id, code), outcome in old[sid].pupils.items():
            if outcome in (None, "seen"):
                given.setdefault((pupil_id, code), old[sid].half.day)
    return given


def _pinned_visits(old: dict[str, OldSession], pinned: set[str], specs: dict[str, MomentSpec],
                   birth: dict[int, dt.date], setup: int,
                   given: dict[tuple[int, str], dt.date] | None = None) -> tuple[list[Visit], list[Placement]]:
    """Kept sessions as fixed visits, so that doses planned in them get their follow-up sessions."""
    from clbhealth.scheduler.demand import _follow_ups

    visits, placements = [], []
    for sid in sorted(pinned):
        session = old[sid]
        placements.append(Placement(f"PIN:{sid}", session.half, dict(session.staff)))
        tasks = []
        for (pid, moment), outcome in session.pupils.items():
            spec = specs.get(moment)
            if spec is None or not spec.follow_ups or outcome not in (None,):
                continue
            first_given = (given or {}).get((pid, spec.first_dose)) if spec.first_dose else None
            follow = tuple(_follow_ups(spec, birth.get(pid), session.half.day, first_given))
            tasks.append(Task(pid, session.school_id, "", None, (moment,), spec.minutes, spec.roles,
                              session.half.day, session.half.day, moment, follow_ups=follow))
        if tasks:
            visits.append(Visit(f"PIN:{sid}", session.school_id, tasks, frozenset(session.staff),
                                session.half.day, session.half.day, setup, tasks[0].bundle))
    return visits, placements


def _match_follow_ups(follow: list[Visit], movable: dict[str, OldSession]) -> None:
    """A follow-up visit takes over the previous plan's session with most of the same pupils."""
    taken: set[str] = set()
    for visit in follow:
        pupils = {(t.pupil_id, m) for t in visit.tasks for m in t.moments}
        best, overlap = None, 0
        for sid, session in movable.items():
            if sid in taken or session.school_id != visit.school_id:
                continue
            common = len(pupils & set(session.pupils))
            if common > overlap:
                best, overlap = sid, common
        if best is not None:
            taken.add(best)
            session = movable[best]
            visit.session_id, visit.previous = best, session.half
            visit.previous_staff = frozenset(session.staff.values())


def load_check_input(workspace: Workspace):
    """The stored plan and every input its hard rules refer to, for `plan check`."""
    from clbhealth.scheduler.check import CheckInput

    config = workspace.config
    protocol = workspace.protocol
    specs = moment_specs(workspace)
    rules = protocol.in_force(config.school_year)
    intervals = {r.code: (r.follows, r.interval_months, r.interval_months_three_dose, r.three_dose_from_age,
                          r.only_three_dose) for r in rules if r.follows}
    with workspace.connect() as conn:
        sessions = [dict(r) for r in conn.execute("SELECT * FROM sessions")]
        session_staff = [dict(r) for r in conn.execute("SELECT session_id, staff_id, role FROM session_staff")]
        session_pupils = [dict(r) for r in conn.execute(
            "SELECT session_id, pupil_id, moment, minutes, outcome, roles FROM session_pupils")]
        staff = {r["staff_id"]: {"role": r["role"], "availability": set(r["availability"].split()),
                                 "active": bool(r["active"])}
                 for r in conn.execute("SELECT staff_id, role, availability, active FROM staff")}
        absences = [(r[0], dt.date.fromisoformat(r[1]), dt.date.fromisoformat(r[2]), r[3])
                    for r in conn.execute("SELECT staff_id, date_from, date_to, part FROM absences")]
        closures = [(r[0], dt.date.fromisoformat(r[1]), dt.date.fromisoformat(r[2]), r[3])
                    for r in conn.execute("SELECT school_id, date_from, date_to, part FROM closures")]
        pupils = {r[0]: {"school_id": r[1], "birth_date": dt.date.fromisoformat(r[2]), "active": bool(r[3])}
                  for r in conn.execute("SELECT pupil_id, school_id, birth_date, active FROM pupils")}
        events = [dict(r) for r in conn.execute("SELECT pupil_id, code, date, status, staff_id FROM events")]
    planning = config.planning
    return CheckInput(
        year_start=config.school_year.start_year,
        blocks={"am": (planning.morning.start, planning.morning.end),
                "pm": (planning.afternoon.start, planning.afternoon.end)},
        wednesday_afternoon=planning.wednesday_afternoon, setup=config.setup_minutes,
        setup_per_moment=dict(config.setup_per_moment), sessions=sessions,
        session_staff=session_staff, session_pupils=session_pupils, staff=staff, absences=absences,
        closures=closures, pupils=pupils, events=events,
        roles={c: s.roles for c, s in specs.items()}, minutes={c: s.minutes for c, s in specs.items()},
        windows={c: (s.earliest, s.latest) for c, s in specs.items()}, intervals=intervals,
        series={r.code: r.series or r.code for r in protocol.rules},
        doses=frozenset(c for c, s in specs.items() if s.kind == "vaccination"),
        part_minutes={c: s.part_minutes() for c, s in specs.items()},
    )


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
        coverage = coverage_bound(problem, problem.visits, earliest_days(problem, {}), context.setup, busy)
        bounds = {
            "visits_lower_bound": visits_bound(planned, context.capacity),
            "travel_lower_bound_km": round(travel_bound(problem, planned, context.capacity), 1),
            "coverage": coverage,
        }
        return save_plan(workspace, problem, context, result, options, extra={"bounds": bounds})
