"""For scripts and cron: `--format json` on `plan explain` and `protocols show` (stable field names,
as the README lists them), `--quiet`, `--csv-separator`, and fixed choices refused with "did you mean"."""

from __future__ import annotations

import json

from tests.planner_world import ROSTER_HEADER, make_world, pupils

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


PLAN_FIELDS = {"plan_id", "period", "as_of", "notice_day", "kept_sessions", "per_moment", "coverage", "consent_sizing",
               "bounds", "metrics", "unplanned_pupil_moments", "unplanned_reasons", "moved", "dropped", "substitutes",
               "new_sessions", "reused_sessions", "warnings"}


def test_plan_speaks_json(tmp_path, runner):
    world = _short_world(tmp_path, runner)
    result = world.plan("--from", "2026-09-07", "--to", "2026-09-07", "--format", "json")
    data = json.loads(result.stdout)  # the whole summary, nothing else on stdout (progress goes to stderr)
    assert set(data) == PLAN_FIELDS and data["plan_id"] == 1 and data["period"] == ["2026-09-07", "2026-09-07"]
    assert set(data["coverage"]) == {"due", "planned", "pct"} and data["unplanned_pupil_moments"] == 3
    assert {"pupil_moments", "at_most", "short"} <= set(data["bounds"]["coverage"])
    assert {"terms", "weights", "units", "utilisation", "load"} <= set(data["metrics"])


IMPORT_FIELDS = {"kind", "files", "dry_run", "written", "totals", "summary", "skipped_rows", "warnings", "errors",
                 "refused"}
PROBLEM_FIELDS = {"file", "row", "column", "value", "message", "hint", "severity"}


def _import_files(world) -> list[tuple[str, str, str, str]]:
    """(kind, header, a good row, a bad row) for each import a world without a plan takes."""
    first = pupils("K1", 1, prefix="A")[0]  # A01 of school 100, as _short_world imported it
    insz = world.insz[first.last]
    return [
        ("schools", "school_id;name;street;postcode;municipality;lat;lon;level",
         "100;Basisschool Een;Straat 1;2440;Geel;51.17;4.98;basis", "100;Basisschool Een;Straat 1;2440;Geel;51.17;4.98;kok"),
        ("roster", ROSTER_HEADER.strip(), f"100;1001;{insz};A01;Kind;{first.born:%d/%m/%Y};{first.sex};K1A;1ste kleuterklas",
         "100;1001;;A01;Kind;31/02/2023;M;K1A;1ste kleuterklas"),
        ("history", "rijksregisternummer;code;datum;status", f"{insz};K1;15/09/2026;gedaan", f"{insz};K9;15/09/2026;gedaan"),
        ("staff", "medewerker_id;naam;rol;beschikbaarheid;scholen", "N1;Nurse N1;verpleegkundige;ma-vm;100 500",
         "N1;Nurse N1;kok;ma-vm;100 500"),
        ("absences", "medewerker_id;van;tot;dagdeel", "N1;01/10/2026;02/10/2026;", "ZZ9;01/10/2026;02/10/2026;"),
        ("closures", "instellingsnummer;van;tot;dagdeel;reden", "100;20/10/2026;20/10/2026;;studiedag",
         "999;20/10/2026;20/10/2026;;studiedag"),
        ("lots", "product;lot;expiry;doses", "Tetravac;TV1;2027-01-31;20", "Geen;TV1;2027-01-31;20"),
    ]


def test_every_import_speaks_json_also_when_it_is_refused(tmp_path, runner):
    world = _short_world(tmp_path, runner)
    for kind, header, good, bad in _import_files(world):
        path = world.tmp / f"{kind}-good.csv"
        path.write_text(f"{header}\n{good}\n", encoding="utf-8")
        data = json.loads(world.cli("import", kind, path, "--dry-run", "--format", "json").stdout)
        assert set(data) == IMPORT_FIELDS and data["kind"] == kind, (kind, data)
        assert data["dry_run"] is True and data["written"] is False and data["refused"] is None and not data["errors"]
        path = world.tmp / f"{kind}-bad.csv"
        path.write_text(f"{header}\n{bad}\n", encoding="utf-8")
        result = world.cli("import", kind, path, "--format", "json", code=1)
        refused = json.loads(result.stdout)  # a refused import still prints its document
        assert set(refused) == IMPORT_FIELDS and refused["written"] is False, (kind, refused)
        assert refused["refused"]["message"].endswith("nothing was imported."), (kind, refused["refused"])
        [error] = refused["errors"]
        assert set(error) == PROBLEM_FIELDS and error["row"] == 2 and error["severity"] == "error", (kind, error)
        assert "Error:" in result.stderr


def test_on_a_terminal_the_plan_shows_a_bar_in_plain_words(monkeypatch):
    """Off a terminal the plan logs plain lines (test_plan_cli); on one it shows a live bar with the same words."""
    import io
    import time

    from rich.console import Console

    from clbhealth.cli import plan as plan_cli
    from clbhealth.scheduler.solver import Snapshot

    screen = io.StringIO()
    monkeypatch.setattr(plan_cli, "err", Console(file=screen, force_terminal=True, width=160, markup=False))

    def job(progress):
        progress(Snapshot(step="first complete plan", sessions=1204, above_bound=0.02))
        time.sleep(0.4)  # the bar redraws itself 10 times a second
        return "the plan"

    assert plan_cli._with_progress(job, seconds=2) == "the plan"
    shown = screen.getvalue()
    assert "━" in shown and "\x1b[" in shown  # a bar drawn in place, not lines for a log
    assert "planning: " in shown and "% of the time used, first complete plan, 1,204 sessions, 2.0% above the bound" in shown
