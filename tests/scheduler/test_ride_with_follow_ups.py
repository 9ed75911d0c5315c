"""Flexible work rides with a school's later doses: a class's S3 (doctor part) joins two pupils'
HPV2 visit months after HPV1 instead of taking a half-day of its own; never when its window ends
too soon, never into a dose whose own later dose must follow, never with an objection."""

from __future__ import annotations

import datetime as dt

from clbhealth.scheduler.model import Task, Visit
from clbhealth.scheduler.packing import ride_with_follow_ups

START, END = dt.date(2026, 9, 1), dt.date(2027, 6, 30)
DOCTOR = frozenset({"doctor"})


def _task(pupil: int, moment: str, minutes: int, latest: dt.date = END, excluded: frozenset[str] = frozenset(),
          follow_ups=()) -> Task:
    return Task(pupil, "S", "3A", "S3", (moment,), minutes, DOCTOR, START, latest, moment,
                excluded_staff=excluded, follow_ups=follow_ups)


def _visit(visit_id: str, tasks: list[Task], after=()) -> Visit:
    return Visit(visit_id, "S", tasks, DOCTOR, max(t.earliest for t in tasks), min(t.latest for t in tasks), 15,
                 tasks[0].bundle, after=after)


def _world(s3_latest: dt.date = END, excluded: frozenset[str] = frozenset()):
    hpv1 = _visit("hpv1", [_task(1, "HPV1", 5, dt.date(2026, 12, 20), follow_ups=(("HPV2", 5),)),
                           _task(2, "HPV1", 5, dt.date(2026, 12, 20), follow_ups=(("HPV2", 5),))])
    s3 = _visit("s3", [_task(10 + i, "S3", 8, s3_latest, excluded) for i in range(20)])
    hpv2 = _visit("hpv2", [_task(1, "HPV2", 5), _task(2, "HPV2", 5)], after=(("hpv1", 5),))
    return hpv1, s3, hpv2


def test_a_class_rides_with_two_pupils_later_dose():
    hpv1, s3, hpv2 = _world()
    alone = ride_with_follow_ups([hpv1, s3], [hpv2], capacity=195)
    assert [v.visit_id for v in alone] == ["hpv1"]  # S3 needs no half-day of its own
    assert len(hpv2.tasks) == 22 and hpv2.after == (("hpv1", 5),)  # the interval still binds it
    assert sum(t.minutes for t in hpv2.tasks) <= 195


def test_not_when_its_window_ends_before_the_later_dose_can_come():
    hpv1, s3, hpv2 = _world(s3_latest=dt.date(2027, 1, 15))  # HPV2 comes in February at the earliest
    assert [v.visit_id for v in ride_with_follow_ups([hpv1, s3], [hpv2], capacity=195)] == ["hpv1", "s3"]
    assert len(hpv2.tasks) == 2


def test_not_into_a_dose_whose_own_later_dose_must_follow():
    hpv1, s3, hpv2 = _world()
    hpv3 = _visit("hpv3", [_task(1, "HPV3", 5), _task(2, "HPV3", 5)], after=(("hpv2", 3),))
    assert [v.visit_id for v in ride_with_follow_ups([hpv1, s3], [hpv2, hpv3], capacity=195)] == ["hpv1"]
    assert len(hpv2.tasks) == 2 and len(hpv3.tasks) == 22  # the last dose of the series takes it


def test_not_with_an_objection_nor_beyond_the_room():
    hpv1, s3, hpv2 = _world(excluded=frozenset({"A01"}))
    assert [v.visit_id for v in ride_with_follow_ups([hpv1, s3], [hpv2], capacity=195)] == ["hpv1", "s3"]
    hpv1, s3, hpv2 = _world()
    assert [v.visit_id for v in ride_with_follow_ups([hpv1, s3], [hpv2], capacity=160)] == ["hpv1", "s3"]


def test_riders_get_their_own_visit_back_when_the_first_dose_stays_unplanned():
    from clbhealth.scheduler.repair import _State
    from clbhealth.scheduler.solve import free_stranded_riders

    hpv1, s3, hpv2 = _world()
    ride_with_follow_ups([hpv1, s3], [hpv2], capacity=195)

    class Problem:
        visits = [hpv1, hpv2]

    by_id = {v.visit_id: v for v in Problem.visits}
    freed = free_stranded_riders(Problem, _State(), by_id, {})  # hpv1 unplanned: hpv2 can never come
    assert freed == [s3] and by_id["s3"] is s3 and s3 in Problem.visits
    assert [t.moments for t in hpv2.tasks] == [("HPV2",), ("HPV2",)] and hpv2.riders == ()
    assert len(s3.tasks) == 20


def test_riders_stay_when_the_first_dose_is_planned():
    from clbhealth.scheduler.calendar import HalfDay
    from clbhealth.scheduler.repair import _State
    from clbhealth.scheduler.solve import free_stranded_riders

    hpv1, s3, hpv2 = _world()
    ride_with_follow_ups([hpv1, s3], [hpv2], capacity=195)
    state = _State()
    state.place("hpv1", HalfDay(dt.date(2026, 9, 14), "am"), {"doctor": "A01"})

    class Problem:
        visits = [hpv1, hpv2]

    assert free_stranded_riders(Problem, state, {"hpv1": hpv1, "hpv2": hpv2}, {}) == []
    assert len(hpv2.tasks) == 22
