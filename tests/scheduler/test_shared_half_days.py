"""Half-days used fully when a role is short: free half-days take unplanned work cut to their
room, and two small schools a short drive apart share one person's half-day, one after the other,
with the drive between them; a re-plan keeps the shared half-day."""

from __future__ import annotations

import datetime as dt

from clbhealth.scheduler.check import Violation, one_place_per_half_day
from tests.planner_world import make_world, pupils

D = dt.date


def _minute(clock: str) -> int:
    return int(clock[:2]) * 60 + int(clock[3:5])


def test_two_small_schools_nearby_share_one_half_day_of_a_short_nurse(tmp_path, runner):
    world = make_world(tmp_path, runner, "100", "200")  # about 3 km apart
    world.roster("100", pupils("K1", 3, prefix="Een"))
    world.roster("200", pupils("K1", 3, prefix="Twee"))
    world.staff(("N1", "verpleegkundige", "ma-vm", ""))
    world.plan("--from", "2026-09-07", "--to", "2026-09-07")  # one morning for the whole work
    sessions = world.sessions()
    assert sorted(s["school_id"] for s in sessions) == ["100", "200"]
    assert {(s["date"], s["part"]) for s in sessions} == {("2026-09-07", "am")}
    first, second = sorted(sessions, key=lambda s: s["start"])
    with world.connect() as conn:
        drive = conn.execute("SELECT travel_minutes FROM session_staff WHERE session_id = ?",
                             (second["session_id"],)).fetchone()[0]
    assert 0 < drive <= 20
    assert _minute(second["start"]) >= _minute(first["end"]) + drive  # one after the other, the drive between
    assert not world.unplanned()
    assert world.summary()["metrics"]["utilisation"]["nurse"]["sessions"] == 1  # one half-day booked


def test_a_short_afternoon_takes_part_of_the_work_a_morning_could_not(tmp_path, runner):
    """The doctor has a morning and a short afternoon: L1 work for more than a morning is split, the
    afternoon takes what fits it instead of staying empty."""
    world = make_world(tmp_path, runner, "100")
    world.set_config('"L1" = { nurse = 15, doctor = 15 }', '"L1" = { nurse = 10, doctor = 20 }')
    world.set_config("# consent_return_rate = 0.8", "consent_return_rate = 1.0")
    world.roster("100", pupils("L1", 12))  # 12 x 25 doctor minutes: more than one morning
    world.staff(("N1", "verpleegkundige", "ma-vm", "100"), ("D1", "arts", "ma-vm ma-nm", ""))
    world.plan("--from", "2026-09-07", "--to", "2026-09-07")
    doctor = [s for s in world.sessions() if "doctor" in s["staff"]]
    assert {s["part"] for s in doctor} == {"am", "pm"}
    seen = {p for s in doctor for p, m in s["pupils"] if m == "L1"}
    # A morning holds 7 pupils (15 + 7 x 25 <= 210 minutes), the afternoon 4 (15 + 4 x 25 <= 135).
    assert len(seen) == 11
    assert {u["last_name"] for u in world.unplanned()} == {f"L1{i:02d}" for i in range(1, 13)} - seen


def test_re_planning_keeps_the_shared_half_day(tmp_path, runner):
    world = make_world(tmp_path, runner, "100", "200")
    world.roster("100", pupils("K1", 3, prefix="Een"))
    world.roster("200", pupils("K1", 3, prefix="Twee"))
    world.staff(("N1", "verpleegkundige", "ma-vm", ""))
    world.plan("--from", "2026-09-07", "--to", "2026-09-07")
    before = {(s["session_id"], s["date"], s["start"]) for s in world.sessions()}
    world.plan("--from", "2026-09-07", "--to", "2026-09-07")
    assert {(s["session_id"], s["date"], s["start"]) for s in world.sessions()} == before
    assert not world.summary()["moved"]


def _session(sid: str, school: str, start: str, end: str) -> dict:
    return {"session_id": sid, "school_id": school, "date": "2026-09-07", "part": "am", "start": start, "end": end}


def test_plan_check_lets_one_person_do_two_schools_a_half_day_one_after_the_other():
    sessions = [_session("S1", "100", "08:30", "09:45"), _session("S2", "200", "09:50", "11:00")]
    staff = {"S1": [{"staff_id": "N1", "role": "nurse", "travel_minutes": 20}],
             "S2": [{"staff_id": "N1", "role": "nurse", "travel_minutes": 5}]}

    class Data:
        pass

    data = Data()
    data.sessions = sessions
    assert one_place_per_half_day(data, staff, {}) == []
    staff["S2"][0]["travel_minutes"] = 10  # no time to drive there
    [violation] = one_place_per_half_day(data, staff, {})
    assert isinstance(violation, Violation) and violation.session_id == "S2"
    sessions[1]["start"] = "09:30"  # overlapping
    assert len(one_place_per_half_day(data, staff, {})) == 1


def test_work_at_the_same_school_joins_the_session_before_it_without_a_second_set_up():
    """A morning session leaves 55 minutes; 2 more pupils of another visit at the same school (20
    minutes each) join it: no new session, no second set-up; a third would not fit."""
    from clbhealth.scheduler.calendar import HalfDay
    from clbhealth.scheduler.fill import fill_slot
    from clbhealth.scheduler.repair import _State
    from tests.scheduler.test_planner_rules import _nurse, _problem, _visit

    morning = HalfDay(D(2026, 9, 7), "am")
    host, rest = _visit("host", "100", 7), _visit("rest", "100", 3)  # 15 + 7 x 20 = 155 of 210 minutes
    problem = _problem([host, rest], [_nurse()], [morning])
    state = _State()
    state.place("host", morning, {"nurse": "N1"})
    by_id = {"host": host, "rest": rest}
    assert fill_slot(problem, state, by_id, {}, (morning, problem.persons[0], host.minutes, "host")) == "host"
    assert len(host.tasks) == 9 and host.minutes == 15 + 9 * 20 <= 210
    assert len(rest.tasks) == 1 and "rest" not in state.days  # the third pupil waits for another half-day
    assert set(by_id) == {"host", "rest"}


def test_an_announced_session_is_not_changed_by_the_fill():
    from clbhealth.scheduler.calendar import HalfDay
    from clbhealth.scheduler.fill import fill_slot
    from clbhealth.scheduler.repair import _State
    from tests.scheduler.test_planner_rules import _nurse, _problem, _visit

    morning = HalfDay(D(2026, 9, 7), "am")
    host, rest = _visit("host", "100", 7), _visit("rest", "100", 1)
    problem = _problem([host, rest], [_nurse()], [morning])
    state = _State()
    state.place("host", morning, {"nurse": "N1"})
    by_id = {"host": host, "rest": rest}
    new = fill_slot(problem, state, by_id, {"host": morning}, (morning, problem.persons[0], host.minutes, "host"))
    assert len(host.tasks) == 7 and new not in (None, "host") and state.after[new] == ("host", host.minutes)
