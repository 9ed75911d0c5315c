"""Lower bounds computed without the CP-SAT models, so that a reported gap means something.

- visits: per school, the pupil-minutes of each group of overlapping windows over the room of
  one morning block (no plan can do that work in fewer visits);
- travel: the cheapest way to send, for every school and role, at least the number of visits
  that role's work needs there, to people of that role within their available half-days, each
  visit one round trip (a min-cost flow; it ignores days and teams, so any real plan drives more).
"""

from __future__ import annotations

import math
from collections import defaultdict

from ortools.graph.python import min_cost_flow

from clbhealth.scheduler.demand import visits_lower_bound
from clbhealth.scheduler.model import PlanningProblem, Visit


def visits_bound(visits: list[Visit], capacity: int) -> int:
    return sum(visits_lower_bound(visits, capacity).values())


def role_visits_needed(visits: list[Visit], capacity: int) -> dict[tuple[str, str], int]:
    """Per (school, role): the fewest visits with that role present that can do its minutes."""
    minutes: dict[tuple[str, str], int] = defaultdict(int)
    for visit in visits:
        for task in visit.tasks:
            for role in task.roles:
                minutes[(visit.school_id, role)] += task.minutes
    return {key: math.ceil(m / capacity) for key, m in minutes.items()}


def travel_bound(problem: PlanningProblem, visits: list[Visit], capacity: int) -> float:
    """Round-trip km of the cheapest assignment of needed role-visits to people (min-cost flow)."""
    need = role_visits_needed(visits, capacity)
    if not need:
        return 0.0
    flow = min_cost_flow.SimpleMinCostFlow()
    keys = sorted(need)
    people = [p for p in problem.persons if len(problem.available.get(p.staff_id, ())) > 0]
    source, sink = 0, 1
    demand_node = {key: 2 + i for i, key in enumerate(keys)}
    person_node = {p.staff_id: 2 + len(keys) + i for i, p in enumerate(people)}
    for key, node in demand_node.items():
        flow.add_arc_with_capacity_and_unit_cost(source, node, need[key], 0)
    for person in people:
        flow.add_arc_with_capacity_and_unit_cost(person_node[person.staff_id], sink,
                                                 len(problem.available[person.staff_id]), 0)
    for (school, role), node in demand_node.items():
        for person in people:
            if person.role == role:
                cost = int(round(problem.km[(person.staff_id, school)] * 100))
                flow.add_arc_with_capacity_and_unit_cost(node, person_node[person.staff_id], need[(school, role)], cost)
    total = sum(need.values())
    flow.set_node_supply(source, total)
    flow.set_node_supply(sink, -total)
    status = flow.solve_max_flow_with_min_cost()
    if status != flow.OPTIMAL:
        return 0.0
    return flow.optimal_cost() / 100.0
