"""The planner's rules of the parts-per-role redesign, each on a tiny instance: parts per role,
one visit per pupil and role, consent-aware sizing, the notice period, a substitute on re-plan,
HPV3 still fitting in the year, the capacity bound, one plan at a time."""

from __future__ import annotations

import datetime as dt
import json

from clbhealth.scheduler.calendar import add_months
from clbhealth.scheduler.demand import MomentSpec, split_by_role
from clbhealth.scheduler.model import Task
from clbhealth.workspace.folder import Workspace
from tests.planner_world import Pupil, make_world, pupils

D = dt.date


def test_parts_per_role_take_their_own_minutes(tmp_path, runner):
    world = make_world(tmp_path, runner, "100")
    world.set_config('"L1" = { nurse = 15, doctor = 15 }', '"L1" = { nurse = 10, doctor = 20 }')
    world.set_config("# consent_return_rate = 0.8", "consent_return_rate = 1.0")  # every form comes back
    world.roster("100", pupils("L1", 4))
    world.staff(("N1", "verpleegkundige", "ma-vm", "100"), ("D1", "arts", "ma-vm", ""))
    world.plan("--from", "2026-09-07", "--to", "2026-09-07")
    by_role = {next(iter(s["staff"])): s for s in world.sessions()}
    assert by_role["nurse"]["minutes"] == 15 + 4 * 10  # set-up + the nurse's part
    assert by_role["doctor"]["minutes"] == 15 + 4 * (20 + 5)  # the doctor's part and DTPa-IPV
    shown = world.shown()
    assert {(p["moment"], p["role"]) for s in shown for p in s["parts"]} == {
        ("L1", "nurse"), ("L1", "doctor"), ("DTPa-IPV", "doctor")}
    assert world.summary()["per_moment"]["L1"] == {"due": 4, "planned": 4}


def test_a_moment_counts_as_planned_only_when_every_part_is(tmp_path, runner):
    world = make_world(tmp_path, runner, "100")
    world.roster("100", pupils("L1", 4))
    world.staff(("N1", "verpleegkundige", "ma-vm", "100"), ("D1", "arts", "vr-vm", ""))
    world.absences(("D1", "01/09/2026", "30/06/2027", ""))  # the doctor is never there
    world.plan("--from", "2026-09-07", "--to", "2026-09-11")
    assert [set(s["staff"]) for s in world.sessions()] == [{"nurse"}]  # the nurse's part is done
    assert world.summary()["per_moment"]["L1"] == {"due": 4, "planned": 0}  # but L1 is not complete


def test_one_pupil_one_visit_per_role_a_catch_up_dose_joins_the_contact(tmp_path, runner):
    """An L4 pupil without DTPa-IPV: the catch-up dose goes with L4's MMR2 in one doctor session."""
    world = make_world(tmp_path, runner, "100")
    world.roster("100", pupils("L4", 3))
    world.staff(("N1", "verpleegkundige", "ma-vm ma-nm di-vm", "100"), ("D1", "arts", "ma-vm di-vm wo-vm", ""))
    world.plan("--to", "2026-10-30")
    doses = [s for s in world.sessions() if "doctor" in s["staff"]]
    for pupil in ("L401", "L402", "L403"):
        sessions = {s["session_id"] for s in doses for p, m in s["pupils"] if p == pupil}
        moments = {m for s in doses for p, m in s["pupils"] if p == pupil}
        if {"DTPa-IPV", "MMR2"} <= moments:
            assert len(sessions) == 1, pupil


def test_doses_without_a_form_are_sized_by_the_expected_return_rate():
    spec = MomentSpec("HPV1", "vaccination", 10, frozenset({"doctor"}), D(2026, 9, 1), D(2026, 12, 18),
                      parts=(("doctor", 10),))
    tasks = [Task(i, "300", "1A", "S1", ("HPV1",), 10, frozenset({"doctor"}), D(2026, 9, 1), D(2026, 12, 18), "HPV1")
             for i in range(4)]
    sized = split_by_role(tasks, {"HPV1": spec}, unsure={(0, "HPV1"), (1, "HPV1")}, return_rate=0.5)
    assert [t.minutes for t in sized] == [5, 5, 10, 10]


def test_the_notice_period_keeps_new_sessions_away_from_the_next_ten_school_days(tmp_path, runner):
    world = make_world(tmp_path, runner, "100")
    world.roster("100", pupils("K1", 3))
    world.staff(("N1", "verpleegkundige", "ma-vm", "100"))
    world.plan(as_of="2026-09-01")
    assert world.sessions()[0]["day"] == D(2026, 9, 7)  # the notice period is 0 in these tiny worlds
    world.set_config("notice_school_days = 0", "notice_school_days = 10")
    world.cli("plan", "--as-of", "2026-09-01", "--time-limit", "1", "--workers", "1", "--from", "2026-09-01")
    # Ten school days after Tuesday 1 September: Tuesday 15 September; the nurse works Mondays.
    assert world.sessions()[0]["day"] == D(2026, 9, 7)  # re-planning: the announced session stays
    (tmp_path / "fresh").mkdir()
    fresh = make_world(tmp_path / "fresh", runner, "100")
    fresh.set_config("notice_school_days = 0", "notice_school_days = 10")
    fresh.roster("100", pupils("K1", 3))
    fresh.staff(("N1", "verpleegkundige", "ma-vm", "100"))
    fresh.plan(as_of="2026-09-01")
    assert fresh.sessions()[0]["day"] == D(2026, 9, 21)
    assert fresh.summary()["notice_day"] == "2026-09-15"


def test_re_planning_gives_an_absent_persons_session_to_a_free_colleague(tmp_path, runner):
    world = make_world(tmp_path, runner, "100")
    world.roster("100", pupils("K1", 3))
    world.staff(("N1", "verpleegkundige", "ma-vm", "100"), ("N2", "verpleegkundige", "ma-vm", ""))
    world.plan()
    [before] = world.sessions()
    assert before["staff"] == {"nurse": "N1"} and before["day"] == D(2026, 9, 7)
    world.absences(("N1", "07/09/2026", "07/09/2026", ""))
    result = world.plan()
    [after] = world.sessions()
    assert after["session_id"] == before["session_id"] and after["day"] == before["day"]
    assert after["staff"] == {"nurse": "N2"}  # a colleague on the same half-day, not a later week
    assert "substitute" in result.output and world.summary()["substitutes"]


def test_hpv2_early_enough_for_the_third_dose(tmp_path, runner):
    """A 3-dose pupil planned late in the year among a lot of other doctor work: HPV2 comes early
    enough that HPV3, three months later, still falls in the school year."""
    world = make_world(tmp_path, runner, "100", "300")
    world.roster("300", [Pupil("Oud", "Jan", D(2011, 3, 1), "M", "2A", "S2")])
    world.roster("100", pupils("L1", 40))
    world.history(("Oud", "HPV1", "20/01/2027", "gedaan", ""))  # at 15: three doses
    world.staff(("N1", "verpleegkundige", "ma-vm di-vm", "100 300"), ("D1", "arts", "ma-vm", ""))
    world.plan(as_of="2027-02-15")
    days = {m: s["day"] for s in world.sessions() for p, m in s["pupils"] if p == "Oud"}
    assert set(days) == {"HPV2", "HPV3"}
    assert days["HPV3"] >= add_months(days["HPV2"], 3) and days["HPV3"] <= D(2027, 6, 30)
    assert not [u for u in world.unplanned() if u["last_name"] == "Oud"]


def test_the_capacity_bound_says_how_much_can_be_planned_at_most(tmp_path, runner):
    world = make_world(tmp_path, runner, "100")
    world.roster("100", pupils("K1", 12))  # 12 x 20 minutes; one morning holds 195 minutes of work
    world.staff(("N1", "verpleegkundige", "ma-vm", "100"))
    result = world.plan("--from", "2026-09-07", "--to", "2026-09-07")
    coverage = world.summary()["bounds"]["coverage"]
    assert coverage["pupil_moments"] == 12 and coverage["at_most"] == 9
    assert coverage["short"] and coverage["short"][0]["role"] == "nurse"
    assert world.summary()["coverage"]["planned"] == 9  # the plan reaches the bound
    assert "at most 9 can be" in " ".join(result.output.split())
    summary = json.loads(world.cli("plan", "--from", "2026-09-07", "--to", "2026-09-07", "--as-of", "2026-09-01",
                                   "--time-limit", "1", "--format", "json").stdout)
    assert summary["bounds"]["coverage"]["at_most"] == 9 and summary["metrics"]["utilisation"]["nurse"]["load_pct"] == 100.0


def test_a_second_plan_while_one_runs_is_refused(tmp_path, runner):
    world = make_world(tmp_path, runner, "100")
    world.roster("100", pupils("K1", 3))
    world.staff(("N1", "verpleegkundige", "ma-vm", "100"))
    workspace = Workspace.open(world.root)
    with workspace.plan_lock():  # as if another `clbhealth plan` were solving
        result = world.cli("plan", "--as-of", "2026-09-01", "--time-limit", "1", code=1)
    assert "Another plan is being made" in result.output and "Traceback" not in result.output
    assert world.sessions() == []
    world.plan()  # the lock is free again
    assert len(world.sessions()) == 1


def test_plan_check_knows_the_notice_period(tmp_path, runner):
    import shutil
    import sqlite3

    from tests.conftest import run

    world = make_world(tmp_path, runner, "100")
    world.set_config("notice_school_days = 0", "notice_school_days = 10")
    world.roster("100", pupils("K1", 3))
    world.staff(("N1", "verpleegkundige", "ma-vm", "100"))
    world.plan(as_of="2026-09-01")  # World.plan runs plan check: the untouched plan passes
    [session] = world.sessions()
    assert session["announced_on"] == "2026-09-01"
    copy = tmp_path / "copy"
    shutil.copytree(world.root, copy)
    with sqlite3.connect(copy / "clbhealth.sqlite") as conn:
        conn.execute("UPDATE sessions SET announced_on = '2026-09-17'")  # four school days before 21 Sep
    result = run(runner, "plan", "check", "-w", copy, code=1)
    assert "[notice]" in result.output and "the notice period is 10" in result.output


def test_a_moment_in_parts_is_done_when_its_last_part_is_seen(tmp_path, runner):
    """L1 by a nurse on Monday and a doctor on Tuesday: the nurse's sheet marks her part seen (L1
    stays due, her part is not planned again); the doctor's sheet completes L1."""
    from openpyxl import load_workbook

    world = make_world(tmp_path, runner, "100")
    world.roster("100", pupils("K1", 1) + pupils("L1", 2))
    world.staff(("N1", "verpleegkundige", "ma-vm", "100"), ("D1", "arts", "di-vm", ""))
    world.plan("--from", "2026-09-07", "--to", "2026-09-18")
    nurse = next(s for s in world.sessions() if s["staff"] == {"nurse": "N1"} and "L1" in s["moments"])
    sheet = tmp_path / "nurse.xlsx"
    world.cli("export", "attendance", "--session", nurse["session_id"], "--out", sheet)
    workbook = load_workbook(sheet)
    for ws in workbook.worksheets:
        for row in ws.iter_rows(min_row=7):
            if row[0].value is not None and row[2].value in ("L1", "K1"):
                row[9].value = "gezien"
    workbook.save(sheet)
    world.cli("import", "results", sheet)
    due = world.cli("due", "--as-of", "2026-09-08", "--moment", "L1", "--format", "json").stdout
    assert '"L101"' in due  # the doctor's part is still to come
    world.plan("--from", "2026-09-08", "--to", "2026-09-18", as_of="2026-09-08")
    for s in world.sessions():
        if s["day"] >= D(2026, 9, 8) and "nurse" in s["staff"]:
            assert not {m for _, m in s["pupils"]} & {"L1"}  # the nurse's part is not planned again
