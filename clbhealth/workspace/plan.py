"""The planner's I/O edge: build the planning problem from the workspace, store the solved plan,
and read the stored plan back (for `plan show`, `plan check`, exports)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field

import pandas as pd

from clbhealth.core.errors import ClbError
from clbhealth.protocols.due import compute_due
from clbhealth.scheduler.calendar import HalfDay, covers, school_half_days, window_dates
from clbhealth.scheduler.demand import MomentSpec, build_tasks, follow_up_visits, pack_visits
from clbhealth.scheduler.model import Person, Placement, PlanningProblem, Site, Task, Visit
from clbhealth.scheduler.solve import PlanResult, SolveOptions, plan_metrics
from clbhealth.scheduler.travel import TravelModel, read_matrix
from clbhealth.app.due_list import due_settings
from clbhealth.workspace.pupils import load_events, load_pupils
from clbhealth.workspace.folder import HOME_EDUCATION, Workspace, now_text


@dataclass
class OldSession:
    session_id: str
    half: HalfDay
    school_id: str
    staff: dict[str, str]  # role -> staff_id
    pupils: dict[tuple[int, str], str | None]  # (pupil, moment) -> outcome
    kind: str


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
        specs[rule.code] = MomentSpec(
            code=rule.code, kind=rule.kind, minutes=config.minutes_for(rule.code, rule.minutes),
            roles=frozenset(config.planning.roles.get(rule.code, rule.staff)), earliest=start, latest=end,
            with_contact=rule.with_contact, follow_ups=tuple(chain), three_dose_age=three_age,
            first_dose=first_dose,
        )
    return specs


def _slots(text: str) -> frozenset[str]:
    return frozenset(t for t in text.split() if t)


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
    capacity = max(planning.morning.minutes, planning.afternoon.minutes) - config.longest_setup
    if capacity <= 0:
        raise ClbError("The set-up time fills the whole block.", hint="Lower [minutes] setup in clbhealth.toml.")
    too_long = [t for t in tasks if t.minutes > capacity]
    if too_long:
        raise ClbError(f"{len(too_long)} pupil(s) need more minutes ({too_long[0].minutes}) than a block holds.",
                       hint="Check [minutes] and [calendar] in clbhealth.toml.")

    movable = {sid: s for sid, s in old.items() if sid not in pinned_ids}
    sticky, loose = _sticky_visits(tasks, movable, config.setup_minutes)
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
    )
    info = {int(r.pupil_id): {"last_name": r.last_name, "first_name": r.first_name, "class_name": r.class_name,
                              "birth_date": r.birth_date} for r in pupils.itertuples()}
    context = PlanContext(
        as_of=as_of, date_from=first, date_to=last, keep_until=keep_until, specs=specs, pupils=info,
        old_sessions=movable, pinned_sessions=pinned_ids, due_per_moment=due_per_moment,
        planned_before=dict(planned_before), rejected=rejected, warnings=warnings, capacity=capacity,
    )
    return problem, context


def _load_sessions(conn: sqlite3.Connection) -> dict[str, OldSession]:
    sessions: dict[str, OldSession] = {}
    for r in conn.execute("SELECT session_id, date, part, school_id, kind FROM sessions"):
        sessions[r["session_id"]] = OldSession(r["session_id"], HalfDay(dt.date.fromisoformat(r["date"]), r["part"]),
                                               r["school_id"], {}, {}, r["kind"])
    for r in conn.execute("SELECT session_id, staff_id, role FROM session_staff"):
        if r["session_id"] in sessions:  # orphans (a damaged workspace) are for `clbhealth doctor`
            sessions[r["session_id"]].staff[r["role"]] = r["staff_id"]
    for r in conn.execute("SELECT session_id, pupil_id, moment, outcome FROM session_pupils"):
        if r["session_id"] in sessions:
            sessions[r["session_id"]].pupils[(r["pupil_id"], r["moment"])] = r["outcome"]
    return sessions


def _sticky_visits(tasks: list[Task], movable: dict[str, OldSession], setup: int) -> tuple[list[Visit], list[Task]]:
    """Tasks whose pupil was planned in a session that may still change stay with that session."""
    where: dict[tuple[int, str], str] = {}
    for sid, session in movable.items():
        for (pid, moment), outcome in session.pupils.items():
            if outcome is None:
                where[(pid, moment)] = sid
    grouped: dict[str, list[Task]] = defaultdict(list)
    loose = []
    for task in tasks:
        sid = next((where[(task.pupil_id, m)] for m in task.moments if (task.pupil_id, m) in where), None)
        session = movable.get(sid) if sid else None
        if session is not None and task.earliest <= session.half.day <= task.latest and session.school_id == task.school_id:
            grouped[sid].append(task)
        else:
            loose.append(task)
    visits = []
    for sid, kept in sorted(grouped.items()):
        session = movable[sid]
        visits.append(Visit(
            visit_id=f"KEEP:{sid}", school_id=session.school_id, tasks=kept,
            roles=frozenset().union(*(t.roles for t in kept)), earliest=max(t.earliest for t in kept),
            latest=min(t.latest for t in kept), setup=setup, bundle=kept[0].bundle, kind=session.kind,
            session_id=sid, previous=session.half, previous_staff=frozenset(session.staff.values()),
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


# --- storing -------------------------------------------------------------------------------------


def _block_start(workspace: Workspace, part: str) -> dt.datetime:
    block = workspace.config.planning.morning if part == "am" else workspace.config.planning.afternoon
    return dt.datetime.combine(dt.date(2000, 1, 1), block.start)


def save_plan(workspace: Workspace, problem: PlanningProblem, context: PlanContext, result: PlanResult,
              options: SolveOptions, extra: dict | None = None) -> dict:
    """Store the plan in one transaction: kept sessions stay, the rest is replaced. Returns the summary."""
    metrics = plan_metrics(problem, result)
    moved, dropped, new = [], [], []
    with workspace.writing("plan") as session:
        conn = session.conn
        number = int((conn.execute("SELECT value FROM meta WHERE key = 'next_session'").fetchone() or ["1"])[0])
        plan_id = conn.execute(
            "INSERT INTO plans (created_at, date_from, date_to, seed, time_limit, workers, keep_until) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (now_text(), context.date_from.isoformat(), context.date_to.isoformat(), options.seed, options.seconds,
             options.workers, context.keep_until.isoformat() if context.keep_until else None)).lastrowid
        reused = {p.visit_id: result.visits[p.visit_id].session_id for p in result.placements.values()
                  if result.visits[p.visit_id].session_id}
        for sid, old in context.old_sessions.items():
            if sid not in reused.values():
                dropped.append({"session_id": sid, "date": str(old.half), "school_id": old.school_id})
        conn.executemany("DELETE FROM sessions WHERE session_id = ?", [(sid,) for sid in context.old_sessions])
        for visit_id, placement in sorted(result.placements.items(), key=lambda kv: (kv[1].half, kv[0])):
            visit = result.visits[visit_id]
            if visit.session_id:
                sid = visit.session_id
                if visit.previous != placement.half or visit.previous_staff != frozenset(placement.staff.values()):
                    moved.append({"session_id": sid, "school_id": visit.school_id, "from": str(visit.previous),
                                  "to": str(placement.half),
                                  "staff_from": sorted(visit.previous_staff), "staff_to": sorted(placement.staff.values())})
            else:
                sid = f"S{number:06d}"
                number += 1
                new.append(sid)
            _insert_session(conn, workspace, problem, context, plan_id, sid, visit, placement)
        unplanned_rows = []
        for visit_id, reason in result.unplanned.items():
            visit = result.visits.get(visit_id)
            if visit is None:
                continue
            for task in visit.tasks:
                for moment in task.moments:
                    unplanned_rows.append((plan_id, task.pupil_id, moment, visit.school_id, reason))
        for row in context.rejected:
            unplanned_rows.append((plan_id, row["pupil_id"], row["moment"], row["school_id"], row["reason"]))
        conn.executemany("INSERT OR IGNORE INTO unplanned (plan_id, pupil_id, moment, school_id, reason) "
                         "VALUES (?, ?, ?, ?, ?)", unplanned_rows)
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('next_session', ?)", (str(number),))
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('current_plan', ?)", (str(plan_id),))
        summary = _summary(problem, context, result, metrics, moved, dropped, new, len(unplanned_rows))
        summary.update(extra or {})
        conn.execute("UPDATE plans SET summary = ? WHERE plan_id = ?", (json.dumps(summary), plan_id))
        session.counts.update({"sessions": len(result.placements), "kept": len(context.pinned_sessions),
                               "moved": len(moved), "new": len(new), "unplanned_pupil_moments": len(unplanned_rows)})
    summary["plan_id"] = plan_id
    return summary


def _insert_session(conn, workspace: Workspace, problem: PlanningProblem, context: PlanContext, plan_id: int,
                    sid: str, visit: Visit, placement: Placement) -> None:
    start = _block_start(workspace, placement.half.part)
    end = start + dt.timedelta(minutes=visit.minutes)
    info = context.pupils
    tasks = sorted(visit.tasks, key=lambda t: (t.class_name, info.get(t.pupil_id, {}).get("last_name", ""),
                                               info.get(t.pupil_id, {}).get("first_name", ""), t.pupil_id))
    # The moments in protocol order, not in the order the packer happened to meet them, so that an
    # unchanged session is stored the same way on every re-plan.
    moments = [m for m in context.specs if m in visit.moments] + [m for m in visit.moments if m not in context.specs]
    conn.execute(
        "INSERT INTO sessions (session_id, plan_id, date, part, start, end, school_id, minutes, moments, classes, "
        "kind, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (sid, plan_id, placement.half.day.isoformat(), placement.half.part, start.strftime("%H:%M"),
         end.strftime("%H:%M"), visit.school_id, visit.minutes, json.dumps(moments),
         json.dumps(list(visit.classes)), visit.kind, now_text()))
    conn.executemany(
        "INSERT INTO session_staff (session_id, staff_id, role, travel_km, travel_minutes) VALUES (?, ?, ?, ?, ?)",
        [(sid, person, role, problem.km[(person, visit.school_id)], problem.minutes_one_way[(person, visit.school_id)])
         for role, person in sorted(placement.staff.items())])
    clock = start + dt.timedelta(minutes=visit.setup)
    rows = []
    seq = 0
    for task in tasks:
        for moment in task.moments:
            seq += 1
            rows.append((sid, task.pupil_id, moment, context.specs[moment].minutes, seq, clock.strftime("%H:%M")))
        clock += dt.timedelta(minutes=task.minutes)
    conn.executemany("INSERT INTO session_pupils (session_id, pupil_id, moment, minutes, seq, start) "
                     "VALUES (?, ?, ?, ?, ?, ?)", rows)


def _summary(problem, context, result, metrics, moved, dropped, new, unplanned_count) -> dict:
    planned: dict[str, int] = defaultdict(int)
    for visit_id in result.placements:
        for task in result.visits[visit_id].tasks:
            for moment in task.moments:
                planned[moment] += 1
    for moment, count in context.planned_before.items():
        planned[moment] += count
    projected = defaultdict(int)
    for visit in result.visits.values():
        if visit.after:
            for task in visit.tasks:
                for moment in task.moments:
                    projected[moment] += 1
    per_moment = {}
    for moment in context.specs:
        due = context.due_per_moment.get(moment, 0) + projected.get(moment, 0)
        if due or planned.get(moment):
            per_moment[moment] = {"due": due, "planned": planned.get(moment, 0)}
    reasons: dict[str, int] = defaultdict(int)
    for visit_id, reason in result.unplanned.items():
        visit = result.visits.get(visit_id)
        if visit is not None:
            reasons[reason.split(" (")[0]] += visit.pupil_moments
    for row in context.rejected:
        reasons["window outside the planning period"] += 1
    return {
        "period": [context.date_from.isoformat(), context.date_to.isoformat()],
        "as_of": context.as_of.isoformat(),
        "kept_sessions": len(context.pinned_sessions),
        "per_moment": per_moment,
        "metrics": metrics,
        "unplanned_pupil_moments": unplanned_count,
        "unplanned_reasons": dict(reasons),
        "moved": moved,
        "dropped": dropped,
        "new_sessions": len(new),
        "reused_sessions": sum(1 for v in result.placements if result.visits[v].session_id),
        "teams": [{"team": t.name, "members": t.members} for t in result.staffing.teams],
        "warnings": context.warnings,
    }


# --- reading the stored plan -------------------------------------------------------------------


def load_plan_frame(conn: sqlite3.Connection, school: str | None = None, staff: str | None = None) -> pd.DataFrame:
    """One row per session with its staff and pupils (ids), as `plan show` prints it."""
    sql = "SELECT s.* FROM sessions s"
    params: list = []
    clauses = []
    if school:
        clauses.append("s.school_id = ?")
        params.append(school)
    if staff:
        clauses.append("s.session_id IN (SELECT session_id FROM session_staff WHERE staff_id = ?)")
        params.append(staff)
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    sql += " ORDER BY s.date, s.part, s.school_id, s.session_id"
    sessions = [dict(r) for r in conn.execute(sql, params)]
    staff_of: dict[str, list[str]] = defaultdict(list)
    for r in conn.execute("SELECT session_id, staff_id FROM session_staff ORDER BY role, staff_id"):
        staff_of[r[0]].append(r[1])
    pupils_of: dict[str, list[int]] = defaultdict(list)
    for r in conn.execute("SELECT session_id, pupil_id FROM session_pupils ORDER BY seq"):
        if r[1] not in pupils_of[r[0]]:
            pupils_of[r[0]].append(r[1])
    rows = []
    for s in sessions:
        rows.append({
            "session_id": s["session_id"], "date": s["date"], "start": s["start"], "end": s["end"],
            "school_id": s["school_id"], "staff_ids": staff_of[s["session_id"]],
            "moments": json.loads(s["moments"]), "classes": json.loads(s["classes"]),
            "pupil_ids": pupils_of[s["session_id"]], "minutes": s["minutes"], "kind": s["kind"],
        })
    columns = ["session_id", "date", "start", "end", "school_id", "staff_ids", "moments", "classes", "pupil_ids",
               "minutes", "kind"]
    return pd.DataFrame(rows, columns=columns)


def current_summary(conn: sqlite3.Connection) -> dict | None:
    row = conn.execute("SELECT plan_id, summary FROM plans ORDER BY plan_id DESC LIMIT 1").fetchone()
    if row is None:
        return None
    summary = json.loads(row["summary"])
    summary["plan_id"] = row["plan_id"]
    return summary


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
            "SELECT session_id, pupil_id, moment, minutes, outcome FROM session_pupils")]
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
    )


__all__ = ["build_problem", "save_plan", "load_plan_frame", "current_summary", "moment_specs", "load_check_input"]
