"""Stage 1 (CP-SAT): teams, and the person of each role who serves each school.

Teams form around the scarcest role (usually the doctors): each team is one person of that role
with the nearest others, so that every school's nurse and doctor work together and each team's
year can be timetabled on its own (stage 2). The model then picks, for every school, its team
and one person per role: little travel, load in proportion to each person's available
half-days, the school's fixed contacts kept, nobody over capacity unless it cannot be helped.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from clbhealth.scheduler.model import PlanningProblem
from clbhealth.scheduler.solver import Progress, Reporter, StageResult, parameters, status_name

CANDIDATES_PER_ROLE = 6
TEAMS_PER_SCHOOL = 4


@dataclass
class Team:
    index: int
    name: str
    members: list[str]  # staff ids


@dataclass
class Staffing:
    """Stage 1's answer."""

    teams: list[Team]
    team_of_school: dict[str, int]
    person_for: dict[tuple[str, str], str]  # (school_id, role) -> staff_id
    shared_roles: set[str] = field(default_factory=set)
    result: StageResult | None = None
    load: dict[str, int] = field(default_factory=dict)  # staff_id -> visits
    capacity: dict[str, int] = field(default_factory=dict)  # staff_id -> available half-days


def workload(problem: PlanningProblem) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], int]]:
    """Visits per (school, role), and those of them too long for an afternoon block."""
    total: dict[tuple[str, str], int] = defaultdict(int)
    morning_only: dict[tuple[str, str], int] = defaultdict(int)
    for visit in problem.visits:
        for role in visit.roles:
            total[(visit.school_id, role)] += 1
            if visit.minutes > problem.block_minutes["pm"]:
                morning_only[(visit.school_id, role)] += 1
    return total, morning_only


def form_teams(problem: PlanningProblem, roles: set[str]) -> tuple[list[Team], set[str]]:
    """One team per person of the scarcest needed role; others join the nearest team, evenly."""
    by_role: dict[str, list[str]] = defaultdict(list)
    for person in problem.persons:
        if person.role in roles:
            by_role[person.role].append(person.staff_id)
    anchor_role = min(roles, key=lambda r: (len(by_role[r]), r != "doctor", r))
    anchors = sorted(by_role[anchor_role])
    teams = [Team(i, problem.person(a).name, [a]) for i, a in enumerate(anchors)]
    shared = {r for r in roles if r != anchor_role and len(by_role[r]) < len(anchors)}
    for role in sorted(roles - {anchor_role} - shared):
        members = sorted(by_role[role])
        per_team = math.ceil(len(members) / len(teams))
        model = cp_model.CpModel()
        m = {(p, t.index): model.NewBoolVar(f"m_{p}_{t.index}") for p in members for t in teams}
        for p in members:
            model.AddExactlyOne(m[p, t.index] for t in teams)
        for t in teams:
            count = sum(m[p, t.index] for p in members)
            model.Add(count >= len(members) // len(teams))
            model.Add(count <= per_team)
        model.Minimize(sum(int(10 * _km(problem, p, t.members[0])) * m[p, t.index] for p in members for t in teams))
        solver = parameters(2.0, 1)
        if solver.Solve(model) in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            for (p, t), var in m.items():
                if solver.Value(var):
                    teams[t].members.append(p)
        else:  # cannot happen with these bounds, but keep a plan possible
            for i, p in enumerate(members):
                teams[i % len(teams)].members.append(p)
    for team in teams:
        team.name = f"team {team.index + 1} ({problem.person(team.members[0]).name})"
    return teams, shared


def _km(problem: PlanningProblem, a: str, b: str) -> float:
    from clbhealth.scheduler.travel import haversine_km

    pa, pb = problem.person(a), problem.person(b)
    return haversine_km(pa.lat, pa.lon, pb.lat, pb.lon)


def staff_schools(problem: PlanningProblem, *, seconds: float, seed: int, workers: int,
                  previous: dict[tuple[str, str], str] | None = None, progress: Progress | None = None) -> Staffing:
    """Solve stage 1."""
    started = time.monotonic()
    total, morning_only = workload(problem)
    roles = {r for (_, r) in total}
    schools = sorted({s for (s, _) in total})
    capacity = {p.staff_id: len(problem.available.get(p.staff_id, ())) for p in problem.persons}
    morning_capacity = {p.staff_id: sum(1 for h in problem.available.get(p.staff_id, ()) if h.part == "am")
                        for p in problem.persons}
    if not roles:
        return Staffing([], {}, {}, capacity=capacity)
    missing = [r for r in roles if not any(p.role == r for p in problem.persons)]
    if missing:
        from clbhealth.core.errors import ClbError

        raise ClbError(f"The due moments need a {', '.join(sorted(missing))}, but the staff list has none.",
                       hint="Import a staff list with that role (clbhealth import staff), or change "
                            "[planning.roles] in clbhealth.toml.")
    teams, shared = form_teams(problem, roles)
    previous = previous or {}
    data = (total, morning_only, roles, schools, capacity, morning_capacity, previous)
    # Round 1 lets people work outside their team at a cost; their team then becomes the one
    # they mostly work with, and round 2 keeps every school's people within one team.
    first = _solve(problem, teams, shared, data, hard=False, seconds=seconds * 0.5, seed=seed, progress=progress)
    teams = _regroup(problem, teams, shared, first[1], total)
    team_of_school, person_for, result = _solve(problem, teams, shared, data, hard=HARD_TEAMS, seconds=seconds * 0.5,
                                                seed=seed, progress=progress, hint=first[1])
    result.seconds = time.monotonic() - started
    load = {p.staff_id: sum(total.get((s, p.role), 0) for (s, r), q in person_for.items() if q == p.staff_id)
            for p in problem.persons}
    return Staffing(teams, team_of_school, person_for, shared, result, load, capacity)


def _solve(problem: PlanningProblem, teams: list[Team], shared: set[str], data: tuple, *, hard: bool,
           seconds: float, seed: int, progress: Progress | None, hint: dict | None = None):
    """One staffing model; returns (team of each school, person per (school, role), result)."""
    total, morning_only, roles, schools, capacity, morning_capacity, previous = data
    team_of_person = {p: t.index for t in teams for p in t.members}
    model = cp_model.CpModel()
    y: dict[tuple[str, int], cp_model.IntVar] = {}
    x: dict[tuple[str, str], cp_model.IntVar] = {}
    candidates = _candidates(problem, schools, roles, teams, previous)
    for school in schools:
        for team in candidates["teams"][school]:
            y[school, team] = model.NewBoolVar(f"y_{school}_{team}")
        for role in roles:
            if total.get((school, role), 0) == 0:
                continue
            for staff_id in candidates["people"][(school, role)]:
                x[school, staff_id] = model.NewBoolVar(f"x_{school}_{staff_id}")

    each_school_one_team(model, y, schools)
    each_role_one_person(model, x, total, candidates["people"])
    role_of = {p.staff_id: p.role for p in problem.persons}
    anchor_role = role_of[teams[0].members[0]]
    mismatches = team_consistency(model, x, y, team_of_person, role_of, shared, anchor_role)
    if hard:
        for _, var in mismatches:
            model.Add(var == 0)
    over, tight = capacity_per_person(model, x, total, morning_only, problem, capacity, morning_capacity)
    pair_over = capacity_per_pair(model, x, problem, teams, shared)
    over.update({f"pair_{k}": v for k, v in pair_over.items()})

    w = problem.weights
    travel = travel_term(x, total, problem)
    balance = balance_term(model, x, total, problem, capacity, roles)
    continuity = continuity_term(x, total, problem, previous)
    overflow = sum(over.values())
    crowding = sum(tight.values())
    coupling = sum(total[(school, role_of[staff_id])] * var for (school, staff_id), var in mismatches) if mismatches else 0
    # A visit over capacity leaves about 20 pupil-moments unplanned; one above the target
    # utilisation risks that, so it costs a tenth of it.
    objective = (w["travel"] * travel + w["balance"] * balance + w["continuity"] * 10 * continuity
                 + w["unplanned"] * 10 * 20 * overflow + w["unplanned"] * 20 * crowding
                 + max(w["travel"], 1) * COUPLING_TENTHS_KM * coupling)
    model.Minimize(objective)
    if hint:
        for (school, staff_id), var in x.items():
            model.AddHint(var, hint.get((school, role_of[staff_id])) == staff_id)
    else:
        _hint_nearest(model, x, y, total, problem, candidates, team_of_person, shared)

    solver = parameters(seconds, seed)
    status = solver.Solve(model, Reporter("staffing", progress))
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        from clbhealth.core.errors import ClbError

        raise ClbError(f"Stage 1 (staffing) found no solution ({status_name(status)}).",
                       hint="Give the solver more time with --time-limit.")
    team_of_school = {s: t for (s, t), var in y.items() if solver.Value(var)}
    person_for = {}
    for (school, staff_id), var in x.items():
        if solver.Value(var):
            person_for[(school, role_of[staff_id])] = staff_id
    result = StageResult(
        stage="staffing", status=status_name(status), objective=solver.ObjectiveValue(),
        bound=solver.BestObjectiveBound(), seconds=0.0,
        terms={"travel_km": solver.Value(travel) / 10, "balance_pct": solver.Value(balance) / 10,
               "continuity_misses": solver.Value(continuity), "over_capacity": solver.Value(overflow),
               "above_target_utilisation": solver.Value(crowding)},
    )
    return team_of_school, person_for, result


def _regroup(problem: PlanningProblem, teams: list[Team], shared: set[str], person_for: dict,
             total: dict) -> list[Team]:
    """Each non-anchor person joins the team whose anchor they share most visits with; every team
    keeps at least one person of each role it had."""
    anchor_of_school = {}
    anchors = {t.members[0]: t.index for t in teams}
    for (school, role), person in person_for.items():
        if person in anchors:
            anchor_of_school[school] = anchors[person]
    members: dict[int, list[str]] = {t.index: [t.members[0]] for t in teams}
    votes: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for (school, role), person in person_for.items():
        if person not in anchors and school in anchor_of_school:
            votes[person][anchor_of_school[school]] += total.get((school, role), 0)
    home = {}
    for team in teams:
        for person in team.members[1:]:
            choice = votes[person]
            home[person] = max(choice, key=lambda t: (choice[t], t == team.index)) if choice else team.index
    for role in sorted({problem.person(p).role for t in teams for p in t.members[1:]} - shared):
        people = [p for p in home if problem.person(p).role == role]
        for team in teams:
            if any(home[p] == team.index for p in people):
                continue
            spare = [p for p in people if sum(1 for q in people if home[q] == home[p]) > 1]
            if spare:
                best = max(spare, key=lambda p: (votes[p].get(team.index, 0), p))
                home[best] = team.index
    for person, team in sorted(home.items()):
        members[team].append(person)
    return [Team(t.index, t.name, members[t.index]) for t in teams]


def _candidates(problem: PlanningProblem, schools: list[str], roles: set[str], teams: list[Team],
                previous: dict[tuple[str, str], str]) -> dict:
    """The nearest teams and people per school (plus fixed contacts and previous ones)."""
    people_by_role: dict[str, list[str]] = defaultdict(list)
    for person in problem.persons:
        people_by_role[person.role].append(person.staff_id)
    team_choice: dict[str, list[int]] = {}
    people: dict[tuple[str, str], list[str]] = {}
    for school in schools:
        km = {p.staff_id: problem.km[(p.staff_id, school)] for p in problem.persons}
        fixed = {p.staff_id for p in problem.persons if school in p.fixed_schools}
        fixed |= {q for (s, _), q in previous.items() if s == school}
        ranked_teams = sorted(teams, key=lambda t: min(km[m] for m in t.members))
        chosen = [t.index for t in ranked_teams[:TEAMS_PER_SCHOOL]]
        for t in teams:
            if fixed & set(t.members) and t.index not in chosen:
                chosen.append(t.index)
        team_choice[school] = chosen
        for role in roles:
            pool = sorted(people_by_role[role], key=lambda p: (km[p], p))
            pick = [p for t in teams if t.index in chosen for p in t.members if p in people_by_role[role]]
            pick += [p for p in pool[:CANDIDATES_PER_ROLE] if p not in pick]
            pick += [p for p in pool if p in fixed and p not in pick]
            people[(school, role)] = sorted(pick, key=lambda p: (km[p], p))
    return {"teams": team_choice, "people": people}


def each_school_one_team(model: cp_model.CpModel, y: dict, schools: list[str]) -> None:
    """Every school belongs to exactly one team."""
    for school in schools:
        model.AddExactlyOne(var for (s, _), var in y.items() if s == school)


def each_role_one_person(model: cp_model.CpModel, x: dict, total: dict, people: dict) -> None:
    """Every role a school's visits need is served by exactly one person (continuity)."""
    for (school, role), count in total.items():
        if count:
            model.AddExactlyOne(x[school, p] for p in people[(school, role)])


HARD_TEAMS = True
COUPLING_TENTHS_KM = 40  # per visit whose people come from two teams (it is then timetabled last)


def team_consistency(model: cp_model.CpModel, x: dict, y: dict, team_of_person: dict, role_of: dict,
                     shared: set[str], anchor_role: str) -> list:
    """A school's people come from its team: hard for the team's anchor (the doctor), a cost for
    the others, whose visits are then timetabled across teams. Returns the mismatch literals."""
    mismatches = []
    for (school, staff_id), var in x.items():
        team = team_of_person.get(staff_id)
        if team is None or role_of[staff_id] in shared:
            continue
        if role_of[staff_id] == anchor_role:
            if (school, team) in y:
                model.Add(var == y[school, team])
            else:
                model.Add(var == 0)
            continue
        if (school, team) in y:
            mismatch = model.NewBoolVar(f"cross_{school}_{staff_id}")
            model.Add(var <= y[school, team] + mismatch)
            mismatches.append(((school, staff_id), mismatch))
        else:
            mismatches.append(((school, staff_id), var))
    return mismatches


TARGET_UTILISATION = 0.92  # leave room for closures, absences and half-days that do not line up


def capacity_per_person(model: cp_model.CpModel, x: dict, total: dict, morning_only: dict,
                        problem: PlanningProblem, capacity: dict, morning_capacity: dict) -> tuple[dict, dict]:
    """Nobody gets more visits than available half-days (mornings for long visits); load above
    92% of them is penalised too, to leave room for closures and half-days that do not line up."""
    over, tight = {}, {}
    for person in problem.persons:
        assigned = [(s, var) for (s, p), var in x.items() if p == person.staff_id]
        if not assigned:
            continue
        load = sum(total.get((s, person.role), 0) * var for s, var in assigned)
        long_load = sum(morning_only.get((s, person.role), 0) * var for s, var in assigned)
        slack = model.NewIntVar(0, 10_000, f"over_{person.staff_id}")
        soft = model.NewIntVar(0, 10_000, f"tight_{person.staff_id}")
        model.Add(load <= capacity[person.staff_id] + slack)
        model.Add(long_load <= morning_capacity[person.staff_id] + slack)
        model.Add(load <= int(TARGET_UTILISATION * capacity[person.staff_id]) + soft)
        model.Add(long_load <= int(TARGET_UTILISATION * morning_capacity[person.staff_id]) + soft)
        over[person.staff_id] = slack
        tight[person.staff_id] = soft
    return over, tight


def capacity_per_pair(model: cp_model.CpModel, x: dict, problem: PlanningProblem, teams: list[Team],
                      shared: set[str]) -> dict:
    """Visits that need a team member together with the team's anchor (the doctor) fit the
    half-days both work; for several members together, the half-days any of them shares with the
    anchor (the anchor can be in one place at a time)."""
    from itertools import combinations

    joint: dict[tuple[str, str], int] = defaultdict(int)
    joint_morning: dict[tuple[str, str], int] = defaultdict(int)
    anchor_role = problem.person(teams[0].members[0]).role if teams else None
    for visit in problem.visits:
        if anchor_role not in visit.roles:
            continue
        for role in visit.roles - {anchor_role}:
            joint[(visit.school_id, role)] += 1
            if visit.minutes > problem.block_minutes["pm"]:
                joint_morning[(visit.school_id, role)] += 1
    over = {}
    for team in teams:
        anchor = team.members[0]
        members = [m for m in team.members[1:] if problem.person(m).role not in shared]
        loads, morning_loads, both = {}, {}, {}
        for person in members:
            assigned = [(s, var) for (s, p), var in x.items() if p == person]
            role = problem.person(person).role
            loads[person] = sum(joint.get((s, role), 0) * var for s, var in assigned)
            morning_loads[person] = sum(joint_morning.get((s, role), 0) * var for s, var in assigned)
            both[person] = problem.available.get(person, set()) & problem.available.get(anchor, set())
        for size in range(1, min(len(members), 4) + 1):
            for group in combinations(members, size):
                halves = set().union(*(both[p] for p in group))
                mornings = sum(1 for h in halves if h.part == "am")
                slack = model.NewIntVar(0, 10_000, f"pair_over_{anchor}_{'_'.join(group)}")
                model.Add(sum(loads[p] for p in group) <= len(halves) + slack)
                model.Add(sum(morning_loads[p] for p in group) <= mornings + slack)
                over["+".join((anchor,) + group)] = slack
    return over


def travel_term(x: dict, total: dict, problem: PlanningProblem):
    """Round-trip km to each school for each of its visits, in tenths of a km."""
    return sum(int(round(10 * problem.km[(p, s)])) * total[(s, problem.person(p).role)] * var
               for (s, p), var in x.items())


def balance_term(model: cp_model.CpModel, x: dict, total: dict, problem: PlanningProblem,
                 capacity: dict, roles: set[str]):
    """Per role, the spread (tenths of a percentage point) between the busiest and least busy
    person, load measured against each person's available half-days."""
    spreads = []
    for role in sorted(roles):
        people = [p for p in problem.persons if p.role == role and capacity[p.staff_id] > 0]
        if len(people) < 2:
            continue
        high = model.NewIntVar(0, 100_000, f"high_{role}")
        low = model.NewIntVar(0, 100_000, f"low_{role}")
        for person in people:
            load = sum(total.get((s, role), 0) * var for (s, p), var in x.items() if p == person.staff_id)
            model.Add(1000 * load <= high * capacity[person.staff_id])
            model.Add(1000 * load >= low * capacity[person.staff_id])
        spreads.append(high - low)
    return sum(spreads) if spreads else 0


def continuity_term(x: dict, total: dict, problem: PlanningProblem, previous: dict):
    """Visits of a school not done by its fixed contact (or, when re-planning, its previous person)."""
    misses = []
    for person in problem.persons:
        for school in person.fixed_schools:
            var = x.get((school, person.staff_id))
            count = total.get((school, person.role), 0)
            if count and var is not None:
                misses.append(count * (1 - var))
            elif count:
                misses.append(count)
    for (school, role), staff_id in previous.items():
        var = x.get((school, staff_id))
        count = total.get((school, role), 0)
        if count and var is not None:
            misses.append(count * (1 - var))
    return sum(misses) if misses else 0


def _hint_nearest(model, x, y, total, problem, candidates, team_of_person, shared) -> None:
    """Hint: each school to the team of its nearest anchor, nearest team member per role."""
    best_team = {school: teams[0] for school, teams in candidates["teams"].items()}
    for (school, team), var in y.items():
        model.AddHint(var, team == best_team[school])
    for (school, role), people in candidates["people"].items():
        people = [p for p in people if (school, p) in x]
        if not people:
            continue
        in_team = [p for p in people if team_of_person.get(p) == best_team[school]] or people
        for p in people:
            model.AddHint(x[school, p], p == in_team[0])
