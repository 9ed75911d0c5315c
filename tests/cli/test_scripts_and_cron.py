"""For scripts and cron: `--format json` on `plan explain` and `protocols show` (stable field names,
as the README lists them), `--quiet`, `--csv-separator`, and fixed choices refused with "did you mean"."""

from __future__ import annotations

import json

from tests.planner_world import make_world, pupils

EXPLAIN_FIELDS = {"plan_id", "period", "school", "staff", "person", "capacity", "utilisation", "unplanned", "resources",
                  "late"}
RULE_FIELDS = {"code", "name", "kind", "needs_consent", "who", "select", "grades", "birth_year", "follows",
               "interval_months", "catch_up_grades", "catch_up_max_age", "staff", "minutes", "valid", "source"}


def _short_world(tmp_path, runner):
    """Two schools far apart and one nurse with one half-day: one school's K1 stays unplanned."""
    world = make_world(tmp_path, runner, "100", "500")
    world.roster("100", pupils("K1", 3, prefix="A"))
    world.roster("500", pupils("K1", 3, prefix="B"))
    world.staff(("N1", "verpleegkundige", "ma-vm", "100 500"))
    return world


def test_plan_explain_speaks_json(tmp_path, runner):
    world = _short_world(tmp_path, runner)
    empty = json.loads(world.cli("plan", "explain", "--format", "json").stdout)
    assert set(empty) == EXPLAIN_FIELDS and empty["plan_id"] is None  # no plan yet: the same fields
    world.plan("--from", "2026-09-07", "--to", "2026-09-07")
    data = json.loads(world.cli("plan", "explain", "--format", "json").stdout)
    assert set(data) == EXPLAIN_FIELDS and data["plan_id"] == 1 and data["period"] == ["2026-09-07", "2026-09-07"]
    assert data["unplanned"]["pupil_moments"] == 3
    [group] = data["unplanned"]["groups"]
    assert set(group) == {"school_id", "reason", "moments"} and group["moments"] == {"K1": 3}
    assert group["reason"].startswith("capacity")
    assert all({"role", "from", "to", "need", "free", "short"} == set(r) for r in data["resources"])
    assert set(data["late"]) == {"sessions", "listed"}
    text = world.cli("plan", "explain").output  # the text says the same
    assert f"school {group['school_id']}: 3 x K1 - capacity" in text
    assert "did you mean json?" in world.cli("plan", "explain", "--format", "jsno", code=2).output


def test_protocols_show_speaks_json(tmp_path, runner):
    world = make_world(tmp_path, runner)
    data = json.loads(world.cli("protocols", "show", "--format", "json").stdout)
    assert set(data) == {"protocol", "school_year", "rules"} and data["school_year"] == "2026-2027"
    assert {"id", "name", "source"} == set(data["protocol"])
    assert all(set(rule) == RULE_FIELDS for rule in data["rules"])
    rules = {rule["code"]: rule for rule in data["rules"]}
    assert rules["K1"]["kind"] == "contact" and rules["K1"]["birth_year"] == 2023 and not rules["K1"]["needs_consent"]
    assert rules["HPV2"]["follows"] == "HPV1" and rules["HPV2"]["needs_consent"] and rules["HPV1"]["source"]
    text = world.cli("protocols", "show").output
    assert f"who:    {rules['K1']['who']}" in text and f"source: {rules['HPV1']['source']}" in text


def test_quiet_prints_only_warnings_and_keeps_the_exit_codes(tmp_path, runner):
    world = _short_world(tmp_path, runner)
    staff = world.tmp / "staff-again.csv"
    staff.write_text("staff_id;name;role;availability;schools\nN1;Nurse N1;verpleegkundige;ma-vm;100 500\n",
                     encoding="utf-8")
    imported = world.cli("import", "staff", staff, "--quiet")
    assert imported.stdout == "" and "no base position" in imported.stderr  # the warning stays
    loud = world.plan("--from", "2026-09-07", "--to", "2026-09-07")
    assert "Plan 1" in loud.stdout
    quiet = world.plan("--from", "2026-09-07", "--to", "2026-09-07", "--quiet")
    assert quiet.stdout == "" and quiet.exit_code == loud.exit_code == 0
    assert "3 pupil-moment(s) are not planned" in quiet.stderr and "planning:" not in quiet.stderr
    week = ("weekly", "--as-of", "2026-09-04", "-o", world.tmp / "weekly")
    said = world.cli(*week, "--verbose", code=None)
    assert said.stdout.startswith("Week 2026-W37")
    hushed = world.cli(*week, "--quiet", code=None)
    assert hushed.stdout == "" and hushed.exit_code == said.exit_code == 3  # due pupils left unplanned
    assert "Warning:" in hushed.stderr
    assert world.cli(*week, "--quiet", "--verbose", code=2).exit_code == 2
    exported = world.cli("export", "schools", "-o", world.tmp / "scholen", "--quiet")
    assert exported.stdout == "" and any((world.tmp / "scholen").iterdir())


def test_plan_explain_on_a_plan_stored_without_a_full_summary(tmp_path, runner):
    """An older plan or one stored with a partial summary: the period comes from the plan's own dates."""
    import sqlite3

    from tests.conftest import run
    from tests.planfixture import build_plan_workspace

    root = build_plan_workspace(tmp_path).root  # its plan is stored with the summary '{}'
    db = root / "clbhealth.sqlite"
    for stored in ("{}", '{"metrics": null, "bounds": {"coverage": {}}}', "not json", "[1, 2]"):
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE plans SET summary = ?", (stored,))
        data = json.loads(run(runner, "plan", "explain", "--format", "json", "-w", root).stdout)
        assert set(data) == EXPLAIN_FIELDS and data["plan_id"] == 1, stored
        assert data["period"] == ["2026-10-01", "2027-06-30"] and data["capacity"] is None
        assert data["utilisation"] == {}
        text = run(runner, "plan", "explain", "-w", root).output
        assert text.startswith("Plan 1 (2026-10-01 to 2027-06-30).") and "Traceback" not in text
        staff = json.loads(run(runner, "plan", "explain", "--staff", "N01", "--format", "json", "-w", root).stdout)
        assert staff["person"]["staff_id"] == "N01" and staff["person"]["sessions"] == 0


WEEKLY_FIELDS = ["folder", "clb", "week", "from", "to", "counts", "files", "warnings"]


def test_weekly_speaks_json(tmp_path, runner):
    world = _short_world(tmp_path, runner)
    world.plan("--from", "2026-09-07", "--to", "2026-09-07")
    week = ("weekly", "--as-of", "2026-09-04", "-o", world.tmp / "weekly")
    result = world.cli(*week, "--format", "json", code=3)  # the exit code as without JSON
    data = json.loads(result.stdout)  # nothing but the JSON on stdout; the warnings on stderr
    assert list(data) == WEEKLY_FIELDS and data["week"] == "2026-W37" and data["from"] == "2026-09-07"
    stored = json.loads((world.tmp / "weekly" / "2026-W37" / "summary.json").read_text(encoding="utf-8"))
    assert {k: v for k, v in data.items() if k != "folder"} == stored
    assert data["folder"].endswith("2026-W37") and "Warning:" in result.stderr
    quiet = world.cli(*week, "--format", "json", "--quiet", code=3)  # for cron: the JSON still printed
    assert json.loads(quiet.stdout)["counts"] == data["counts"]
    assert "did you mean json?" in world.cli(*week, "--format", "jsn", code=2).output
