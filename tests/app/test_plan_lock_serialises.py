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


def test_a_plan_waits_for_an_import_that_is_writing_then_says_busy(tmp_path, runner, monkeypatch):
    world = _world(tmp_path, runner)
    monkeypatch.setattr(folder, "LOCK_WAIT_SECONDS", 0.3)
    workspace = Workspace.open(world.root)
    with workspace.locked("import roster"):  # as if an import were writing its rows
        result = world.cli("plan", "--as-of", "2026-09-01", "--time-limit", "1", code=1)
    assert "is busy: clbhealth import roster (pid" in result.output and "Traceback" not in result.output
    assert world.sessions() == []
    world.plan()
    assert len(world.sessions()) == 1


def test_two_imports_do_not_exclude_each_other_through_the_plan_lock(tmp_path, runner):
    world = _world(tmp_path, runner)
    workspace = Workspace.open(world.root)
    with workspace.writing("import staff"):
        pass
    with workspace.writing("import roster"):  # the plan lock is never held by an import
        assert folder.lock_is_free(world.root / folder.PLAN_LOCK_NAME)
