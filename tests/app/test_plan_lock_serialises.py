"""A plan and the commands that change what it is made from never overlap: no plan saved from old data."""

from __future__ import annotations

from clbhealth.workspace import folder
from clbhealth.workspace.folder import Workspace
from tests.planner_world import make_world, pupils


def _world(tmp_path, runner):
    world = make_world(tmp_path, runner, "100")
    world.roster("100", pupils("K1", 3))
    world.staff(("N1", "verpleegkundige", "ma-vm", "100"))
    return world


def test_an_import_while_a_plan_is_being_made_is_refused_and_changes_nothing(tmp_path, runner, monkeypatch):
    world = _world(tmp_path, runner)
    monkeypatch.setattr(folder, "LOCK_WAIT_SECONDS", 0.3)
    before = (world.root / "clbhealth.sqlite").read_bytes()
    with Workspace.open(world.root).plan_lock():  # as if `clbhealth plan` were solving
        result = world.cli("import", "staff", world._write("staff", "medewerker_id;naam;rol;beschikbaarheid\n"
                                                           "N2;Nieuw;verpleegkundige;di-vm\n"), code=1)
        purge = world.cli("purge", "--left-before", "2026-08-01", code=None)
    assert "A plan is being made in" in result.output and "clbhealth plan (pid" in result.output
    assert "`import staff` would change what it is made from, so nothing was changed" in result.output
    assert "Traceback" not in result.output
    assert purge.exit_code == 1 and "A plan is being made" in purge.output
    assert (world.root / "clbhealth.sqlite").read_bytes() == before
    world.staff(("N1", "verpleegkundige", "ma-vm", "100"), ("N2", "verpleegkundige", "di-vm", ""))  # free again


def test_a_plan_while_an_import_is_writing_is_refused(tmp_path, runner):
    world = _world(tmp_path, runner)
    workspace = Workspace.open(world.root)
    with workspace._no_plan_running("import roster"):  # as if an import were writing its rows
        result = world.cli("plan", "--as-of", "2026-09-01", "--time-limit", "1", code=1)
    assert "is busy: clbhealth import roster (pid" in result.output
    assert "is changing what a plan is made from" in result.output and "Traceback" not in result.output
    assert world.sessions() == []
    world.plan()
    assert len(world.sessions()) == 1
