"""After the first pass of relocate, reassign, join and swap, more rounds run while one still
shortens the drive and time is left; a plan that cannot drive less stops after one round."""

from __future__ import annotations

import time

from clbhealth.scheduler.solve import MAX_EXTRA_ROUNDS, improve_while_it_pays, round_trip_km
from tests.scheduler.test_reassign import MON, TUE, _problem, _state, _visit


def test_round_trip_km_counts_one_trip_per_person_half_day_and_school():
    x, x2, y = _visit("x", "X"), _visit("x2", "X"), _visit("y", "Y")
    problem = _problem([x, x2, y], {"A": {MON, TUE}, "B": {MON, TUE}})
    state = _state(("x", MON, "A"), ("x2", MON, "A"), ("y", TUE, "A"))
    assert round_trip_km(problem, state, {"x": x, "x2": x2, "y": y}) == 4.0 + 60.0


def test_a_plan_that_drives_too_far_gets_better_and_the_rounds_stop():
    x, y = _visit("x", "X"), _visit("y", "Y")
    problem = _problem([x, y], {"A": {MON}, "B": {TUE}})
    state = _state(("y", MON, "A"), ("x", TUE, "B"))
    by_id = {"x": x, "y": y}
    rounds = improve_while_it_pays(problem, state, by_id, {}, time.monotonic() + 30)
    assert round_trip_km(problem, state, by_id) == 8.0
    assert 2 <= rounds < MAX_EXTRA_ROUNDS  # the first round gains, the next finds nothing and stops


def test_a_plan_that_cannot_drive_less_runs_one_round_and_no_time_runs_none():
    x, y = _visit("x", "X"), _visit("y", "Y")
    problem = _problem([x, y], {"A": {MON, TUE}, "B": {MON, TUE}})
    state = _state(("x", MON, "A"), ("y", TUE, "B"))
    by_id = {"x": x, "y": y}
    assert improve_while_it_pays(problem, state, by_id, {}, time.monotonic() + 30) == 1
    assert (state.days["x"], state.days["y"]) == (MON, TUE)
    assert improve_while_it_pays(problem, state, by_id, {}, time.monotonic() - 1) == 0

