"""Hostile disks, through the command line: a disk that is full, or turns read-only, when a command
writes its output (from the first file on, or halfway through), and a workspace database that is
read-only. Each is one line naming the cause and the folder, exit 1, no traceback; the workspace and
every output file that was there before are byte for byte as they were, and no staging folder or
temporary file is left behind (nor a new output folder).

The disk is faked by making the calls that need new room on it fail from the n-th on (creating a
temporary file or folder, and fsync, which is where a full disk shows for data already handed over);
renames (which need no room) keep working, as they do on a real full disk.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

import pytest

from clbhealth.core.privacy import shown_path
from clbhealth.workspace import schema
from tests.app.test_hostile_workspace import snapshot
from tests.conftest import run
from tests.planfixture import build_plan_workspace

AS_OF = "2026-10-02"  # the coming week (5-9 October) holds three sessions
MULTI = {  # a folder of files, published all or nothing
    "export schools": ["export", "schools", "-o", "{out}"],
    "export calendars": ["export", "calendars", "-o", "{out}"],
    "export consent-forms": ["export", "consent-forms", "-o", "{out}", "--as-of", "2026-10-01"],
    "weekly": ["weekly", "-o", "{out}", "--as-of", AS_OF],
}
SINGLE = {  # one file, replaced in one step
    "due -o x.xlsx": ["due", "--as-of", AS_OF, "-o", "{out}/due.xlsx"],
    "export attendance": ["export", "attendance", "--date", "2026-10-06", "-o", "{out}/aanwezigheid.xlsx"],
    "export vaccine-order": ["export", "vaccine-order", "-o", "{out}/bestelling.xlsx"],
    "report -o html": ["report", "--as-of", AS_OF, "-o", "{out}/voortgang.html"],
    "plan show -o csv": ["plan", "show", "-o", "{out}/plan.csv"],
}
COMMANDS = {**MULTI, **SINGLE}
NO_DOSES_YET = {"export vaccinnet": ["export", "vaccinnet", "-o", "{out}/vaccinnet.csv", "--again"]}  # audits only
CAUSES = {
    "disk full": (errno.ENOSPC, "the disk is full", "Free some disk space"),
    "read-only disk": (errno.EROFS, "the disk or folder is read-only", "choose a folder you may write to"),
}


class FailingDisk:
    """From the `fail_at`-th call on, every call that needs new room on the disk fails with `code`."""

    def __init__(self, monkeypatch, code: int | None = None, fail_at: int = 0) -> None:
        self.code, self.fail_at, self.calls = code, fail_at, 0
        for module, name in ((os, "fsync"), (tempfile, "mkstemp"), (tempfile, "mkdtemp")):
            monkeypatch.setattr(module, name, self._wrap(getattr(module, name)))

    def _wrap(self, real):
        def call(*args, **kwargs):
            self.calls += 1
            if self.code is not None and self.calls >= self.fail_at:
                raise OSError(self.code, os.strerror(self.code))
            return real(*args, **kwargs)
        return call


@pytest.fixture
def world(tmp_path):
    return build_plan_workspace(tmp_path)


def _args(command: str, root: Path, out: Path) -> list[str]:
    return [a.format(out=out) for a in {**COMMANDS, **NO_DOSES_YET}[command]] + ["-w", str(root)]


def _change_the_plan(world) -> None:
    """A change after the first export, so that the export that fails would have written new bytes."""
    with world.workspace.writing("test") as session:
        session.conn.execute("UPDATE sessions SET start = '09:30' WHERE session_id = 'S000001'")


def _leftovers(folder: Path) -> list[Path]:
    """Staging folders, replaced weeks and temporaries (`.NAME.RANDOM.tmp`, `.clbhealth-staging.*`, `.WEEK.old-PID`)."""
    if not folder.exists():
        return []
    return [p for p in folder.rglob(".*") if p.name.endswith(".tmp") or "staging" in p.name or ".old-" in p.name]


def _without_weekly_log(before: dict, after: dict, words: str) -> None:
    """`weekly` logs its error in the workspace's logs/weekly.log, for cron: that line is the one change."""
    for name in [n for n in after if n.endswith(os.path.join("logs", "weekly.log"))]:
        last = after.pop(name).decode("utf-8").splitlines()[-1]
        assert " ERROR " in last and words in last, last
        before.pop(name, None)


def assert_one_line_failure(result, words: str, hint: str, folder: Path) -> str:
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), (result.output, result.exception)
    assert "Traceback" not in result.output and "OSError" not in result.output, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    line = errors[0]
    assert words in line and str(shown_path(folder)) in line, result.output
    assert ".tmp" not in line and "staging" not in line, line  # the user's folder, never a temporary's path
    assert hint in result.output, result.output
    return line


@pytest.mark.parametrize("at", ["first write", "halfway"])
@pytest.mark.parametrize("cause", CAUSES)
@pytest.mark.parametrize("command", COMMANDS)
def test_a_failing_disk_is_one_line_and_leaves_every_file_as_it_was(command, cause, at, world, runner, tmp_path,
                                                                    monkeypatch):
    code, words, hint = CAUSES[cause]
    out = tmp_path / "out"
    out.mkdir()
    counting = FailingDisk(monkeypatch)
    first = run(runner, *_args(command, world.root, out), code=None)
    assert first.exit_code in (0, 3), first.output  # 3: weekly's warnings
    calls = counting.calls
    assert calls >= 2 and any(out.iterdir())
    _change_the_plan(world)
    before = snapshot(world.root, out)
    FailingDisk(monkeypatch, code, 1 if at == "first write" else max(2, calls // 2 + 1))
    result = run(runner, *_args(command, world.root, out), code=None)
    assert_one_line_failure(result, words, hint, out)
    if code == errno.EROFS:
        assert "Free some disk space" not in result.output, result.output  # not the advice for a full disk
    after = snapshot(world.root, out)
    _without_weekly_log(before, after, words)
    assert after == before
    assert _leftovers(out) == [] and _leftovers(world.root) == []


@pytest.mark.parametrize("cause", CAUSES)
@pytest.mark.parametrize("command", MULTI)
def test_a_failing_disk_leaves_no_new_output_folder(command, cause, world, runner, tmp_path, monkeypatch):
    code, words, hint = CAUSES[cause]
    out = tmp_path / "new" / "deeper"
    before = snapshot(world.root)
    FailingDisk(monkeypatch, code, 2)  # the folders are made, the first file fails
    result = run(runner, *_args(command, world.root, out), code=None)
    assert_one_line_failure(result, words, hint, out)
    assert not (tmp_path / "new").exists()
    after = snapshot(world.root)
    _without_weekly_log(before, after, words)
    assert after == before


READ_ONLY_REFUSED = [c for c in COMMANDS if not c.startswith(("due", "plan show"))] + list(NO_DOSES_YET)


@pytest.fixture
def read_only_database(monkeypatch):
    """Every connection of the workspace opens the database read-only, as SQLite does for a read-only
    file (this runs as root, whom file permissions do not stop)."""
    real = schema.file_uri
    monkeypatch.setattr(schema, "file_uri", lambda path, mode: real(path, "ro"))


@pytest.mark.parametrize("command", READ_ONLY_REFUSED)
def test_a_read_only_workspace_is_refused_before_a_file_is_written(command, world, runner, tmp_path,
                                                                  read_only_database):
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("my own notes\n", encoding="utf-8")
    before = snapshot(world.root, out)
    result = run(runner, *_args(command, world.root, out), code=None)
    line = assert_one_line_failure(result, "is read-only", "writable", world.root)
    assert "Restore" not in result.output and "Free some disk space" not in result.output, result.output
    assert "nothing was written" in line
    after = snapshot(world.root, out)
    _without_weekly_log(before, after, "read-only")
    assert after == before and _leftovers(out) == []


@pytest.mark.parametrize("command", ["due -o x.xlsx", "plan show -o csv"])
def test_a_read_only_workspace_still_gives_what_only_reads_it(command, world, runner, tmp_path, read_only_database):
    out = tmp_path / "out"
    before = snapshot(world.root)
    run(runner, *_args(command, world.root, out))
    assert snapshot(world.root) == before and len(list(out.iterdir())) == 1


def test_a_change_to_a_read_only_workspace_is_one_line(world, runner, tmp_path, read_only_database):
    staff = tmp_path / "staff.csv"
    staff.write_text("staff_id;name;role;base_lat;base_lon;availability;schools\n"
                     "N09;Nieuwe Verpleger;nurse;51.2;4.5;mon-am;100\n", encoding="utf-8")
    before = snapshot(world.root)
    result = run(runner, "import", "staff", staff, "-w", world.root, code=None)
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "read-only" in errors[0], result.output
    assert "writable" in result.output and "Restore" not in result.output, result.output
    assert snapshot(world.root) == before
