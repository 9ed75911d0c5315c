"""One small test per hard rule and soft goal of the planner, each on a tiny instance where only
that rule decides the outcome (usually with a control: the same instance without the rule's
obstacle gives the earlier or other answer).

Most instances go through the CLI like a planner's (init, CSV imports, `plan`); a few hand a
`PlanningProblem` straight to the pure stages. After every solved plan `clbhealth plan check`
must pass (World.plan does it); the last tests prove that check catches each broken rule.
"""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
import sqlite3

import pytest
from typer.testing import CliRunner

from clbhealth.workspace.settings import DEFAULT_WEIGHTS
from clbhealth.scheduler.calendar import HalfDay, add_months
from clbhealth.scheduler.demand import pack_visits
from clbhealth.scheduler.greedy import greedy_plan
from clbhealth.scheduler.model import Person, PlanningProblem, Site, Task, Visit
from clbhealth.scheduler.solve import SolveOptions, solve
from tests.conftest import run
from tests.planner_world import Pupil, World, make_world, pupils

D = dt.date


def days_of(world: World) -> list[tuple[str, dt.date, str]]:
    return [(s["school_id"], s["day"], s["part"]) for s in world.sessions()]


def planned_pupils(world: World) -> list[tuple[str, str]]:
    return sorted(p for s in world.sessions() for p in s["pupils"])


# --- staff calendar ------------------------------------------------------------------------------


@pytest.mark.parametrize("availability, expected", [
    ("do-nm", (D(2026, 9, 10), "pm")),        # the only half-day she works: Thursday afternoon
    ("ma-vm do-nm", (D(2026, 9, 7), "am")),   # control: Monday morning, the earliest, when she works then
], ids=["thursday-pm", "control"])
def test_a_person_works_only_in_available_half_days(tmp_path, runner, availability, expected):
    world = make_world(tmp_path, runner, "100")
    world.roster("100", pupils("K1", 3))
    world.staff(("N1", "verpleegkundige", availability, "100"))
    world.plan("--from", "2026-09-07", "--to", "2026-09-11")
    assert days_of(world) == [("100", *expected)]
    assert world.sessions()[0]["staff"] == {"nurse": "N1"}


@pytest.mark.parametrize("absence, expected", [
    (("07/09/2026", "07/09/2026", "vm"), (D(2026, 9, 7), "pm")),  # half a day: the afternoon is still free
    (("07/09/2026", "11/09/2026", ""), (D(2026, 9, 14), None)),   # a whole week: the next week
], ids=["morning", "week"])
def test_never_on_absences(tmp_path, runner, absence, expected):
    world = make_world(tmp_path, runner, "100")
    world.roster("100", pupils("K1", 3))
    world.staff(("N1", "verpleegkundige", "ma-vm ma-nm", "100"))
    world.absences(("N1", *absence))
    world.plan("--from", "2026-09-07", "--to", "2026-09-18")
    [(school, day, part)] = days_of(world)
    assert day == expected[0] and (expected[1] is None or part == expected[1])


@pytest.mark.parametrize("availability, period, expected", [
    ("ma-vm", ("2026-11-02", "2026-11-13"), D(2026, 11, 9)),   # autumn holiday 2-8 Nov 2026
    ("ma-vm", ("2026-12-21", "2027-01-08"), D(2027, 1, 4)),    # Christmas 21 Dec 2026 - 3 Jan 2027
    ("wo-vm", ("2026-11-09", "2026-11-20"), D(2026, 11, 18)),  # Wapenstilstand, Wednesday 11 Nov
    ("vr-vm", ("2027-05-03", "2027-05-14"), D(2027, 5, 14)),   # the Friday after Ascension
], ids=["autumn", "christmas", "armistice", "ascension-friday"])
def test_never_on_flemish_school_holidays(tmp_path, runner, availability, period, expected):
    world = make_world(tmp_path, runner, "100")
    world.roster("100", pupils("K1", 3))
    world.staff(("N1", "verpleegkundige", availability, "100"))
    world.plan("--from", period[0], "--to", period[1])
    assert [d for _, d, _ in days_of(world)] == [expected]


def test_never_on_wednesday_afternoon_unless_configured(tmp_path, runner):
    world = make_world(tmp_path, runner, "100")
    world.roster("100", pupils("K1", 3))
    world.staff(("N1", "verpleegkundige", "wo-nm", "100"))
    result = world.plan("--from", "2026-09-09", "--to", "2026-09-16")
    assert world.sessions() == []
    [reason] = {u["reason"] for u in world.unplanned()}
    assert reason.startswith("no nurse is free on a half-day in its window") and "nurse N1: works 0 of 10, free 0" in reason
    assert "3 pupil-moment(s) are not planned" in result.output

    world.set_config("wednesday_afternoon = false", "wednesday_afternoon = true")
    world.plan("--from", "2026-09-09", "--to", "2026-09-16")
    assert days_of(world) == [("100", D(2026, 9, 9), "pm")]


def test_never_on_a_schools_closure_days(tmp_path, runner):
    world = make_world(tmp_path, runner, "100", "200")
    world.roster("100", pupils("K1", 3, prefix="A"))
    world.roster("200", pupils("K1", 3, prefix="B"))
    world.staff(("N1", "verpleegkundige", "ma-vm ma-nm", "100 200"))
    world.closures(("200", "07/09/2026", "07/09/2026", ""))
    world.plan("--from", "2026-09-07", "--to", "2026-09-18")
    # The nurse has a free half-day on the 7th, but school 200 is closed then; school 100 is not.
    days = {school: day for school, day, _ in days_of(world)}
    assert days == {"100": D(2026, 9, 7), "200": D(2026, 9, 14)}


def test_a_morning_closure_leaves_the_afternoon(tmp_path, runner):
    world = make_world(tmp_path, runner, "100")
    world.roster("100", pupils("K1", 3))
    world.staff(("N1", "verpleegkundige", "ma-vm ma-nm", "100"))
    world.closures(("100", "07/09/2026", "07/09/2026", "vm"))
    world.plan("--from", "2026-09-07", "--to", "2026-09-18")
    assert days_of(world) == [("100", D(2026, 9, 7), "pm")]


# --- one place per half-day, roles, minutes --------------------------------------------------------


def test_one_place_per_half_day_leaves_the_other_school_unplanned_for_capacity(tmp_path, runner):
    # Two schools too far apart for one half-day (sharing a half-day has its own tests).
    world = make_world(tmp_path, runner, "100", "500")
    world.roster("100", pupils("K1", 3, prefix="A"))
    world.roster("500", pupils("K1", 3, prefix="B"))
    world.staff(("N1", "verpleegkundige", "ma-vm", "100 500"))
    result = world.plan("--from", "2026-09-07", "--to", "2026-09-07")
    [(school, day, part)] = days_of(world)
    assert (day, part) == (D(2026, 9, 7), "am")
    other = "500" if school == "100" else "100"
    unplanned = world.unplanned()
    assert {u["school_id"] for u in unplanned} == {other} and len(unplanned) == 3
    assert all(u["reason"].startswith("capacity: all") and "nurse N1" in u["reason"] for u in unplanned)
    assert "3 pupil-moment(s) are not planned" in result.output and "capacity" in result.output
    explained = world.cli("plan", "explain").output
    assert f"school {other}: 3 x K1 - capacity" in explained

    world.staff(("N1", "verpleegkundige", "ma-vm ma-nm", "100 500"))  # control: a second half-day
    result = world.plan("--from", "2026-09-07", "--to", "2026-09-07")
    assert sorted(p for _, _, p in days_of(world)) == ["am", "pm"] and world.unplanned() == []
    assert "Every due pupil-moment is planned." in result.output


def test_l1_needs_a_nurse_and_a_doctor(tmp_path, runner):
    world = make_world(tmp_path, runner, "100")
    world.roster("100", pupils("L1", 4))
    world.staff(("N1", "verpleegkundige", "ma-vm di-vm", "100"))
    result = world.plan("--from", "2026-09-07", "--to", "2026-09-08", code=1)
    assert "need a doctor, but the staff list has none" in result.output and "Traceback" not in result.output

    # Parts per role: the nurse's part on Monday, the doctor's part (L1 and DTPa-IPV) on Tuesday.
    world.staff(("N1", "verpleegkundige", "ma-vm", "100"), ("D1", "arts", "di-vm", ""))
    world.plan("--from", "2026-09-07", "--to", "2026-09-08")
    assert world.unplanned() == []
    nurse, doctor = world.sessions()
    assert nurse["staff"] == {"nurse": "N1"} and nurse["day"] == D(2026, 9, 7)
    assert doctor["staff"] == {"doctor": "D1"} and doctor["day"] == D(2026, 9, 8)
    assert {m for _, m in nurse["pupils"]} == {"L1"} and len(nurse["pupils"]) == 4
    assert {m for _, m in doctor["pupils"]} == {"L1", "DTPa-IPV"} and len(doctor["pupils"]) == 8

    # Both free on Monday: the two parts on the same day, in parallel rooms (soft goal `apart`); a
    # fresh plan (a re-plan would keep the announced Tuesday session: moving costs more).
    (tmp_path / "fresh").mkdir()
    world = make_world(tmp_path / "fresh", runner, "100")
    world.roster("100", pupils("L1", 4))
    world.staff(("N1", "verpleegkundige", "ma-vm", "100"), ("D1", "arts", "ma-vm di-vm", ""))
    world.plan("--from", "2026-09-07", "--to", "2026-09-08")
    assert {s["day"] for s in world.sessions()} == {D(2026, 9, 7)} and len(world.sessions()) == 2


def test_a_number_alone_in_minutes_means_every_role_together(tmp_path, runner):
    """`L1 = 15` in [minutes]: nurse and doctor in one session; without a day they share, unplanned."""
    world = make_world(tmp_path, runner, "100")
    world.set_config('"L1" = { nurse = 15, doctor = 15 }', '"L1" = 15')
    world.roster("100", pupils("L1", 4))
    world.staff(("N1", "verpleegkundige", "ma-vm", "100"), ("D1", "arts", "di-vm", ""))
    world.plan("--from", "2026-09-07", "--to", "2026-09-08")
    assert {u["moment"] for u in world.unplanned()} == {"L1"}
    world.staff(("N1", "verpleegkundige", "ma-vm", "100"), ("D1", "arts", "ma-vm di-vm", ""))
    world.plan("--from", "2026-09-07", "--to", "2026-09-08")
    together = [s for s in world.sessions() if "L1" in s["moments"] and len(s["staff"]) == 2]
    assert len(together) == 1 and together[0]["staff"] == {"nurse": "N1", "doctor": "D1"}
    assert world.unplanned() == []


def test_nurse_only_work_does_not_wait_for_an_unavailable_doctor(tmp_path, runner):
    """K1 (nurse) and L1 (nurse + doctor parts) at one school: the doctor never works when the nurse
    does, so the doctor's part goes on the doctor's own day and no nurse work waits for it."""
    world = make_world(tmp_path, runner, "100")
    world.roster("100", pupils("K1", 3) + pupils("L1", 4))
    world.staff(("N1", "verpleegkundige", "ma-vm ma-nm di-vm", "100"), ("D1", "arts", "wo-vm", ""))
    world.plan("--to", "2026-10-30")
    assert world.unplanned() == []
    for session in world.sessions():
        if "nurse" in session["staff"]:
            assert session["day"].weekday() in (0, 1) and "doctor" not in session["staff"]
        else:
            assert session["day"].weekday() == 2 and set(session["moments"]) == {"L1", "DTPa-IPV"}

    world.staff(("N1", "verpleegkundige", "ma-vm ma-nm di-vm", "100"), ("D1", "arts", "wo-vm", ""))
    world.set_config('"L1" = { nurse = 15, doctor = 15 }', '"L1" = 15')  # together: needs a shared half-day
    world.plan("--to", "2026-10-30")
    assert {u["moment"] for u in world.unplanned()} == {"L1"}
    assert ("K101", "K1") in planned_pupils(world)


def test_a_k1_class_that_does_not_fit_one_morning_is_split_over_sessions(tmp_path, runner):
    world = make_world(tmp_path, runner, "100")
    world.roster("100", pupils("K1", 24))  # 24 x 20 min + 15 min set-up: more than 08:30-12:00
    world.staff(("N1", "verpleegkundige", "ma-vm ma-nm di-vm di-nm", "100"))
    world.plan("--from", "2026-09-07", "--to", "2026-09-18")
    sessions = world.sessions()
    assert len(sessions) == 3 == world.summary()["bounds"]["visits_lower_bound"]
    assert planned_pupils(world) == sorted((f"K1{i:02d}", "K1") for i in range(1, 25))  # each pupil once
    for s in sessions:
        block_end = "12:00" if s["part"] == "am" else "15:30"
        assert s["minutes"] == 15 + 20 * len(s["pupils"]) and s["end"] <= block_end
        assert s["minutes"] <= (210 if s["part"] == "am" else 135)
    assert sorted(len(s["pupils"]) for s in sessions) == [6, 9, 9]


def test_packing_cuts_consecutive_blocks_and_keeps_classes_whole_where_they_fit():
    """Pure: the packer alone, on tasks made by hand."""
    def task(pid, cls):
        return Task(pid, "100", cls, "K1", ("K1",), 20, frozenset({"nurse"}), D(2026, 9, 1), D(2027, 6, 30), "K1")

    tasks = [task(i, "K1A") for i in range(24)]
    visits = pack_visits(tasks, capacity=195, setup=15)  # 195 minutes of room: 9 pupils of 20 minutes
    assert [len(v.tasks) for v in visits] == [9, 9, 6] and all(v.minutes <= 210 for v in visits)
    assert sorted(t.pupil_id for v in visits for t in v.tasks) == list(range(24))
    tasks = [task(i, "K1A") for i in range(18)] + [task(100 + i, "K1B") for i in range(5)]
    visits = pack_visits(tasks, capacity=195, setup=15)
    assert [v.classes for v in visits] == [("K1A",), ("K1A",), ("K1B",)]  # K1B fits a block: kept whole


def test_packing_never_combines_work_into_a_visit_whose_team_cannot_meet():
    """Pure: each role's work is packed apart (nurse-only work never waits for a doctor), and a team
    done together is never combined with work whose team cannot meet."""
    def task(pid, roles, moment, excluded=frozenset()):
        return Task(pid, "100", moment, None, (moment,), 20, frozenset(roles), D(2026, 9, 1), D(2026, 10, 30), moment,
                    excluded_staff=excluded)

    tasks = [task(i, {"nurse"}, "K1") for i in range(3)] + [task(10 + i, {"nurse", "doctor"}, "L1") for i in range(3)]
    assert sorted(v.moments for v in pack_visits(tasks, 195, 15)) == [("K1",), ("L1",)]
    no_doctor = lambda school, roles, first, last, excluded: "doctor" not in roles  # noqa: E731
    assert sorted(v.moments for v in pack_visits(tasks, 195, 15, can_meet=no_doctor)) == [("K1",), ("L1",)]
    objector = [task(20, {"nurse"}, "K1", frozenset({"N1"}))]
    only_n1 = lambda school, roles, first, last, excluded: "N1" not in excluded  # noqa: E731
    visits = pack_visits(tasks[:3] + objector, 195, 15, can_meet=only_n1)
    assert sorted(sorted(t.pupil_id for t in v.tasks) for v in visits) == [[0, 1, 2], [20]]


# --- dose intervals ---------------------------------------------------------------------------------


def test_hpv2_comes_five_months_after_hpv1_from_the_history(tmp_path, runner):
    world = make_world(tmp_path, runner, "300")
    world.roster("300", [Pupil("Smet", "Lien", D(2013, 4, 2), "V", "2A", "S2")])
    world.history(("Smet", "HPV1", "15/06/2026", "gedaan", ""))
    world.staff(("D1", "arts", "ma-vm", ""))
    world.plan()
    # Due from 15 November 2026; the first Monday from then on.
    assert days_of(world) == [("300", D(2026, 11, 16), "am")]
    assert world.sessions()[0]["pupils"] == [("Smet", "HPV2")]


def test_a_first_dose_planned_now_gets_its_follow_up_five_months_later(tmp_path, runner):
    world = make_world(tmp_path, runner, "300")
    world.roster("300", pupils("S1", 3))
    world.staff(("D1", "arts", "ma-vm", ""))
    world.plan()
    first, second = world.sessions()
    assert {m for _, m in first["pupils"]} == {"HPV1"} and {m for _, m in second["pupils"]} == {"HPV2"}
    assert sorted(p for p, _ in first["pupils"]) == sorted(p for p, _ in second["pupils"])
    assert first["day"] == D(2026, 9, 7)  # the doctor's first Monday
    assert second["day"] >= add_months(first["day"], 5)
    assert second["day"] == D(2027, 2, 15)  # 7 Feb + the Krokus holiday (8-12 Feb 2027)
    assert world.summary()["per_moment"]["HPV2"] == {"due": 3, "planned": 3}


def test_first_dose_at_15_follows_the_three_dose_schedule(tmp_path, runner):
    world = make_world(tmp_path, runner, "300")
    world.roster("300", [Pupil("Oud", "Jan", D(2011, 3, 1), "M", "2A", "S2")])
    world.history(("Oud", "HPV1", "20/08/2026", "gedaan", ""))  # at 15: 3 doses, the second after 1 month
    world.staff(("D1", "arts", "ma-vm", ""))
    world.plan()
    assert [(s["day"], s["pupils"]) for s in world.sessions()] == [
        (D(2026, 9, 21), [("Oud", "HPV2")]),
        (D(2027, 1, 4), [("Oud", "HPV3")]),  # 3 months after the second dose, after Christmas
    ]


def test_first_dose_at_14_gets_no_third_dose_even_when_the_second_is_given_at_15(tmp_path, runner):
    world = make_world(tmp_path, runner, "300")
    world.roster("300", [Pupil("Laat", "Mia", D(2011, 8, 15), "V", "2A", "S2")])
    world.history(("Laat", "HPV1", "01/03/2026", "gedaan", ""))  # at 14: the two-dose schedule
    world.staff(("D1", "arts", "ma-vm", ""))
    world.plan()
    assert [(s["day"], s["pupils"]) for s in world.sessions()] == [(D(2026, 9, 7), [("Laat", "HPV2")])]


# --- objections, once per moment, windows, home education -------------------------------------------


def test_an_objection_against_one_person_gets_a_colleague(tmp_path, runner):
    world = make_world(tmp_path, runner, "100", "200")
    world.roster("100", pupils("K1", 3, prefix="A"))
    world.roster("200", pupils("K1", 3, prefix="B"))
    world.staff(("N1", "verpleegkundige", "ma-vm ma-nm di-vm", "100 200"),
                ("N2", "verpleegkundige", "ma-vm ma-nm di-vm", "", 51.30, 4.99))
    world.history(("A02", "K1", "01/09/2026", "verzet", "N1"))  # the parents object to N1, not to K1
    world.plan("--from", "2026-09-07", "--to", "2026-09-18")
    sessions = world.sessions()
    [with_a02] = [s for s in sessions if ("A02", "K1") in s["pupils"]]
    assert with_a02["staff"] == {"nurse": "N2"}
    assert all(s["staff"] == {"nurse": "N1"} for s in sessions if s["school_id"] == "200")
    assert sorted(p for s in sessions for p, _ in s["pupils"]) == ["A01", "A02", "A03", "B01", "B02", "B03"]


def test_an_objection_against_the_only_nurse_leaves_only_that_pupil_unplanned(tmp_path, runner):
    world = make_world(tmp_path, runner, "100")
    world.roster("100", pupils("K1", 3, prefix="A"))
    world.staff(("N1", "verpleegkundige", "ma-vm di-vm", "100"))
    world.history(("A02", "K1", "01/09/2026", "verzet", "N1"))
    world.plan("--from", "2026-09-07", "--to", "2026-09-18")
    [session] = world.sessions()
    assert session["staff"] == {"nurse": "N1"} and session["pupils"] == [("A01", "K1"), ("A03", "K1")]
    assert world.unplanned() == [{"last_name": "A02", "moment": "K1", "school_id": "100",
                                  "reason": "every nurse is excluded by an objection of a pupil in it"}]


def test_a_pupil_is_planned_at_most_once_per_moment(tmp_path, runner):
    world = make_world(tmp_path, runner, "100")
    world.roster("100", pupils("L1", 5) + pupils("K1", 4))
    world.history(("K101", "K1", "02/06/2026", "gedaan", ""))  # done already: not again
    world.staff(("N1", "verpleegkundige", "ma-vm ma-nm di-vm di-nm", "100"),
                ("N2", "verpleegkundige", "ma-vm ma-nm di-vm di-nm", "100"),
                ("D1", "arts", "ma-vm ma-nm di-vm di-nm", ""))
    for _ in range(2):  # plenty of room, and a re-plan on top of the first plan
        world.plan("--from", "2026-09-07", "--to", "2026-10-30")
        parts = [(p, tuple(sorted(s["staff"]))) for s in world.sessions() for p in s["pupils"]]
        assert len(parts) == len(set(parts))  # each role's part once
        got = planned_pupils(world)
        assert set(got) == ({(f"L1{i:02d}", m) for i in range(1, 6) for m in ("L1", "DTPa-IPV")}
                            | {(f"K1{i:02d}", "K1") for i in range(2, 5)})


def test_hpv1_lies_before_the_christmas_holiday_by_default(tmp_path, runner):
    world = make_world(tmp_path, runner, "300")
    world.roster("300", pupils("S1", 2))
    world.staff(("D1", "arts", "vr-vm", ""))
    world.absences(("D1", "01/09/2026", "17/12/2026", ""))
    world.plan()
    hpv1 = [s for s in world.sessions() if "HPV1" in s["moments"]]
    assert [s["day"] for s in hpv1] == [D(2026, 12, 18)]  # the last Friday before Christmas

    world.absences(("D1", "18/12/2026", "18/12/2026", ""))  # now no Friday before Christmas is left
    world.plan()
    assert world.sessions() == []
    reasons = {u["moment"]: u["reason"] for u in world.unplanned()}
    assert reasons["HPV1"].startswith("no doctor is free on a half-day in its window (doctor D1: works 0 of")

    world.set_config('HPV1 = { until = "christmas" }', 'HPV1 = { until = "krokus" }')
    world.plan()
    assert [s["day"] for s in world.sessions() if "HPV1" in s["moments"]] == [D(2027, 1, 8)]


def test_a_follow_up_whose_first_dose_is_unplanned_says_so(tmp_path, runner):
    world = make_world(tmp_path, runner, "300")
    world.roster("300", pupils("S1", 2))
    world.staff(("D1", "arts", "vr-vm", ""))
    world.absences(("D1", "01/09/2026", "18/12/2026", ""))  # no Friday before Christmas
    world.plan()
    reasons = {u["moment"]: u["reason"] for u in world.unplanned()}
    assert reasons["HPV1"].startswith("no doctor is free on a half-day in its window")
    assert reasons["HPV2"] == "the dose it follows is not planned"


def test_home_educated_pupils_are_seen_at_the_clb_office(tmp_path, runner):
    world = make_world(tmp_path, runner, "100")
    world.roster("100", pupils("L1", 3))
    world.roster("HUISONDERWIJS", [Pupil("Thuis", "Noor", D(2020, 5, 5), "V", None, None)])
    world.staff(("N1", "verpleegkundige", "ma-vm ma-nm", "100 HUISONDERWIJS"),
                ("D1", "arts", "ma-vm ma-nm", "", 51.20, 4.90))
    world.plan("--from", "2026-09-07", "--to", "2026-09-18")
    sessions = {s["school_id"]: s for s in world.sessions()}
    assert set(sessions) == {"100", "HUISONDERWIJS"}
    assert {p for p, _ in sessions["HUISONDERWIJS"]["pupils"]} == {"Thuis"}
    assert "Thuis" not in {p for p, _ in sessions["100"]["pupils"]}
    with world.connect() as conn:
        km = {(r[0], r[1]): r[2] for r in conn.execute(
            "SELECT s.school_id, ss.staff_id, ss.travel_km FROM session_staff ss JOIN sessions s USING (session_id)")}
    assert km[("HUISONDERWIJS", "N1")] == 0.0  # her base is the office
    assert km[("HUISONDERWIJS", "D1")] > 0 and km[("100", "N1")] > 0


# --- soft goals ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fixed, expected", [("100", "N1"), ("", "N2")], ids=["fixed-contact", "no-fixed-contact"])
def test_fixed_contacts_get_their_schools_sessions(tmp_path, runner, fixed, expected):
    world = make_world(tmp_path, runner, "100")
    world.roster("100", pupils("K1", 3))
    # N2 lives next to the school, N1 some 15 km away; only N1 is the school's fixed contact.
    world.staff(("N1", "verpleegkundige", "ma-vm ma-nm", fixed, 51.30, 4.98),
                ("N2", "verpleegkundige", "ma-vm ma-nm", "", 51.1700, 4.9800))
    world.plan("--from", "2026-09-07", "--to", "2026-09-18")
    assert [s["staff"] for s in world.sessions()] == [{"nurse": expected}]
    assert world.summary()["metrics"]["terms"]["continuity"] == 0


def test_sessions_come_early_rather_than_late(tmp_path, runner):
    world = make_world(tmp_path, runner, "100", "200")
    world.roster("100", pupils("K1", 3, prefix="A"))
    world.roster("200", pupils("K1", 3, prefix="B"))
    world.staff(("N1", "verpleegkundige", "ma-vm", "100 200"))
    world.plan()  # the whole school year is open
    # The first morning: the two small schools, a short drive apart, share it.
    assert sorted(d for _, d, _ in days_of(world)) == [D(2026, 9, 7), D(2026, 9, 7)]
    assert world.summary()["metrics"]["terms"]["early"] == 0


def test_nothing_is_unplanned_when_capacity_covers_it(tmp_path, runner):
    """Three schools, three half-days, closures that allow exactly one assignment; the by-hand
    greedy (school by school, earliest day) would leave school 400 out."""
    world = make_world(tmp_path, runner, "100", "200", "400")
    for school, prefix in (("100", "A"), ("200", "B"), ("400", "C")):
        world.roster(school, pupils("K1", 3, prefix=prefix))
    world.staff(("N1", "verpleegkundige", "ma-vm di-vm wo-vm", "100 200 400"))
    world.closures(("100", "08/09/2026", "09/09/2026", ""), ("200", "07/09/2026", "07/09/2026", ""),
                   ("400", "09/09/2026", "09/09/2026", ""))
    result = world.plan("--from", "2026-09-07", "--to", "2026-09-09")
    days = {school: day for school, day, _ in days_of(world)}
    assert days["100"] == D(2026, 9, 7) and days["400"] == D(2026, 9, 8)  # their only open mornings
    assert days["200"] in (D(2026, 9, 8), D(2026, 9, 9))  # on its own, or behind 400 a short drive away
    assert world.unplanned() == [] and "Every due pupil-moment is planned." in result.output


# --- the pure stages on hand-made problems ------------------------------------------------------------


def _problem(visits: list[Visit], persons: list[Person], halves: list[HalfDay], closed=None) -> PlanningProblem:
    sites = {v.school_id: Site(v.school_id, v.school_id, 51.17, 4.98) for v in visits}
    available = {p.staff_id: {h for h in halves if h.slot in p.slots} for p in persons}
    km = {(p.staff_id, s): 10.0 for p in persons for s in sites}
    return PlanningProblem(2026, halves, persons, sites, visits, available, closed or {},
                           {"am": 210, "pm": 135}, dict(DEFAULT_WEIGHTS), km, {k: 10 for k in km})


_PUPIL_IDS = itertools.count(1)


def _visit(visit_id: str, school: str, n: int, *, roles=("nurse",), start=D(2026, 9, 1), end=D(2027, 6, 30),
           moment="K1", after=()) -> Visit:
    tasks = [Task(next(_PUPIL_IDS), school, "A", None, (moment,), 20, frozenset(roles), start, end, moment)
             for _ in range(n)]
    return Visit(visit_id, school, tasks, frozenset(roles), start, end, 15, moment, after=tuple(after))


def _nurse(staff_id="N1", slots=("mon-am",)) -> Person:
    return Person(staff_id, staff_id, "nurse", 51.16, 4.99, frozenset(slots))


def test_pure_one_place_per_half_day_and_the_capacity_reason():
    halves = [HalfDay(D(2026, 9, 7), "am"), HalfDay(D(2026, 9, 7), "pm")]
    problem = _problem([_visit("a", "100", 3), _visit("b", "200", 3)], [_nurse()], halves)
    problem.sites["200"] = Site("200", "200", 51.5, 5.5)  # too far from 100 to share a half-day
    result = solve(problem, SolveOptions(seconds=1, seed=1, workers=1))
    assert len(result.placements) == 1 and len(result.unplanned) == 1
    [(_, reason)] = result.unplanned.items()
    assert reason.startswith("capacity: all") and "nurse N1" in reason


def test_pure_follow_up_visit_waits_its_interval_after_the_visit_it_follows():
    halves = [HalfDay(D(2026, 9, 7) + dt.timedelta(weeks=w), "am") for w in range(40)]
    doctor = Person("D1", "D1", "doctor", 51.16, 4.99, frozenset({"mon-am"}))
    first = _visit("first", "300", 3, roles=("doctor",), moment="HPV1")
    second = _visit("second", "300", 3, roles=("doctor",), moment="HPV2", after=[("first", 5)])
    result = solve(_problem([first, second], [doctor], halves), SolveOptions(seconds=1, seed=1, workers=1))
    one, two = result.placements["first"].half.day, result.placements["second"].half.day
    assert one == D(2026, 9, 7) and two == D(2027, 2, 8)  # 7 Feb is a Sunday; no holidays in this calendar


def test_pure_solver_plans_what_the_greedy_baseline_leaves_out():
    halves = [HalfDay(D(2026, 9, 7), "am"), HalfDay(D(2026, 9, 8), "am"), HalfDay(D(2026, 9, 9), "am")]
    closed = {"100": {halves[1], halves[2]}, "200": {halves[0]}, "400": {halves[2]}}
    visits = [_visit("a", "100", 3), _visit("b", "200", 3), _visit("c", "400", 3)]
    problem = _problem(visits, [_nurse(slots=("mon-am", "tue-am", "wed-am"))], halves, closed)
    for n, school in enumerate(("100", "200", "400")):  # too far apart to share a half-day
        problem.sites[school] = Site(school, school, 51.0 + 0.5 * n, 4.5 + 0.5 * n)
    assert len(greedy_plan(problem, visits).unplanned) == 1
    result = solve(problem, SolveOptions(seconds=1, seed=1, workers=1))
    assert result.unplanned == {} and {v: p.half.day.day for v, p in result.placements.items()} == {
        "a": 7, "c": 8, "b": 9}


# --- plan check catches every broken rule ------------------------------------------------------------


@pytest.fixture(scope="module")
def checked_world(tmp_path_factory) -> World:
    """K1 and L1 at a primary school, HPV1 (and its HPV2 follow-up) at a secondary: a checked plan."""
    tmp = tmp_path_factory.mktemp("check")
    world = make_world(tmp, CliRunner(), "100", "300")
    world.roster("100", pupils("K1", 9) + pupils("L1", 3))  # two sessions: L1 with 6 K1, then 3 K1
    world.roster("300", pupils("S1", 3))
    world.staff(("N1", "verpleegkundige", "ma-vm ma-nm di-vm", "100"), ("D1", "arts", "ma-vm di-vm", ""),
                ("N2", "verpleegkundige", "ma-vm", ""))
    world.plan()
    return world


def _session_with(world: World, moment: str) -> dict:
    return next(s for s in world.sessions() if moment in s["moments"])


TAMPERS = {
    # rule: (moment of the session to break, SQL with :sid (that session) and :other (another session with
    # one of its people), expected text)
    "calendar": ("K1", ["UPDATE sessions SET date = '2026-11-03' WHERE session_id = :sid"], "Herfstvakantie"),
    "wednesday": ("K1", ["UPDATE sessions SET date = '2026-09-09', part = 'pm', start = '13:15', end = '14:30' "
                         "WHERE session_id = :sid"], "Wednesday afternoon has no classes"),
    "closure": ("K1", ["INSERT INTO closures (school_id, date_from, date_to, part, reason, imported_at) "
                       "SELECT school_id, date, date, NULL, 'x', '' FROM sessions WHERE session_id = :sid"],
                "[closure]"),
    "availability": ("K1", ["UPDATE staff SET availability = 'vr-vm' WHERE staff_id = "
                            "(SELECT staff_id FROM session_staff WHERE session_id = :sid)"], "[availability]"),
    "absence": ("K1", ["INSERT INTO absences (staff_id, date_from, date_to, part, imported_at) "
                       "SELECT ss.staff_id, s.date, s.date, NULL, '' FROM sessions s "
                       "JOIN session_staff ss USING (session_id) WHERE s.session_id = :sid"], "[absence]"),
    "one place": ("L1", ["UPDATE sessions SET (date, part, start, end) = (SELECT date, part, start, end "
                         "FROM sessions WHERE session_id = :other) WHERE session_id = :sid"], "[one place]"),
    "roles": ("DTPa-IPV", ["DELETE FROM session_staff WHERE session_id = :sid AND role = 'doctor'"], "no doctor"),
    "block": ("K1", ["UPDATE sessions SET end = '12:30' WHERE session_id = :sid"], "[block]"),
    "objection": ("K1", ["INSERT INTO events (pupil_id, code, date, status, staff_id, source, imported_at) "
                         "SELECT sp.pupil_id, 'K1', '2026-09-01', 'objected', ss.staff_id, 'x', '' "
                         "FROM session_pupils sp JOIN session_staff ss USING (session_id) "
                         "WHERE sp.session_id = :sid LIMIT 1"], "[objection]"),
    "once": ("L1", ["INSERT INTO session_pupils (session_id, pupil_id, moment, minutes, seq, start) "
                    "SELECT s2.session_id, sp.pupil_id, sp.moment, sp.minutes, 99, '09:00' FROM session_pupils sp, "
                    "sessions s2 WHERE sp.session_id = :sid AND s2.session_id != :sid AND sp.moment = 'L1' "
                    "LIMIT 1"], "[once]"),
    "window": ("HPV1", ["UPDATE sessions SET date = '2027-01-11' WHERE session_id = :sid"], "[window]"),
    "interval": ("HPV2", ["UPDATE sessions SET date = '2026-12-14' WHERE session_id = :sid"],
                 "less than 5 month(s) after HPV1"),
    "school": ("K1", ["UPDATE sessions SET school_id = '300' WHERE session_id = :sid"], "goes to school 100"),
}


@pytest.mark.parametrize("rule", sorted(TAMPERS))
def test_plan_check_catches_each_broken_rule(checked_world, tmp_path, rule):
    root = tmp_path / "copy"
    shutil.copytree(checked_world.root, root)
    moment, statements, expected = TAMPERS[rule]
    session = _session_with(checked_world, moment)
    other = next(s for s in checked_world.sessions()
                 if s["session_id"] != session["session_id"] and set(s["staff"].values()) & set(session["staff"].values()))
    ids = {"sid": session["session_id"], "other": other["session_id"]}
    with sqlite3.connect(root / "clbhealth.sqlite") as conn:
        for sql in statements:
            assert conn.execute(sql, ids).rowcount >= 1
    result = run(CliRunner(), "plan", "check", "-w", root, code=1)
    assert expected in result.output and "violation(s)" in result.output, result.output


def test_the_untouched_plan_passes_check(checked_world):
    moments = {m for s in checked_world.sessions() for m in s["moments"]}
    assert {"K1", "L1", "DTPa-IPV", "HPV1", "HPV2"} <= moments
    checked_world.check()


def test_follow_up_visits_of_both_schedules_get_their_own_ids():
    import datetime as dt

    from clbhealth.scheduler.demand import MomentSpec, follow_up_visits
    from clbhealth.scheduler.model import Task, Visit

    spec = MomentSpec("HPV2", "vaccination", 5, frozenset({"doctor"}), dt.date(2026, 9, 1), dt.date(2027, 6, 30))
    spec3 = MomentSpec("HPV3", "vaccination", 5, frozenset({"doctor"}), dt.date(2026, 9, 1), dt.date(2027, 6, 30))

    def task(pupil, chain):
        return Task(pupil, "S", "3A", "S3", ("HPV1",), 5, frozenset({"doctor"}), dt.date(2026, 9, 1),
                    dt.date(2026, 12, 20), "HPV1", follow_ups=chain)

    first = Visit("S/HPV1/0901/1", "S", [task(1, (("HPV2", 5),)), task(2, (("HPV2", 1), ("HPV3", 3)))],
                  frozenset({"doctor"}), dt.date(2026, 9, 1), dt.date(2026, 12, 20), 15, "HPV1")
    follow = follow_up_visits([first], {"HPV2": spec, "HPV3": spec3}, dt.date(2027, 6, 30), 195, 15)
    ids = [v.visit_id for v in follow]
    assert len(ids) == len(set(ids)) == 3
    assert sorted(v.after[0][1] for v in follow if v.bundle == "HPV2") == [1, 5]


def test_set_up_minutes_per_moment(tmp_path, runner):
    """A session takes the longest set-up of its moments ([minutes] setup = { default, K1 })."""
    world = make_world(tmp_path, runner, "100")
    world.set_config("setup = 15", "setup = { default = 10, K1 = 30 }")
    world.roster("100", pupils("K1", 3) + pupils("L4", 3))
    world.staff(("N1", "verpleegkundige", "ma-vm di-vm", "100"), ("D1", "arts", "ma-vm di-vm", ""))
    world.plan("--from", "2026-09-07", "--to", "2026-09-18")
    with world.connect() as conn:
        rows = conn.execute("SELECT s.session_id, s.moments, s.minutes, min(sp.start), sum(sp.minutes) "
                            "FROM sessions s JOIN session_pupils sp USING (session_id) GROUP BY s.session_id").fetchall()
    for _, moments, minutes, first_start, pupil_minutes in rows:
        setup = 30 if "K1" in moments else 10
        assert minutes == setup + pupil_minutes
        assert first_start == ("09:00" if setup == 30 else "08:40")
