"""A disk that fills up or turns read-only halfway through a multi-file export: one clear line, and
the folder holds the files of before (none new, none half-written, no staging folder left)."""

from __future__ import annotations

import errno
import os

import pytest

from clbhealth.core.errors import ClbError
from clbhealth.exports import export_calendars, export_school_workbooks
from clbhealth.exports import workbook as workbook_module
from tests.planfixture import build_plan_workspace
from tests.exports.test_export_schools import EXPORTED


def _snapshot(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("code, words", [(errno.ENOSPC, "the disk is full"), (errno.EROFS, "read-only")])
def test_school_workbooks_are_published_all_or_nothing(tmp_path, monkeypatch, code, words):
    world = build_plan_workspace(tmp_path)
    out = tmp_path / "out"
    export_school_workbooks(world.workspace, out, exported=EXPORTED)
    before = _snapshot(out)
    saved = []
    real = workbook_module.Workbook.save

    def failing_save(self, filename):
        saved.append(filename)
        if len(saved) == 2:
            raise OSError(code, os.strerror(code))
        return real(self, filename)

    monkeypatch.setattr(workbook_module.Workbook, "save", failing_save)
    with pytest.raises(ClbError, match=words) as caught:
        export_school_workbooks(world.workspace, out, exported=EXPORTED.replace(day=2))
    assert "Traceback" not in str(caught.value)
    assert _snapshot(out) == before  # the first workbook was staged, never published
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_calendars_fail_whole_and_remember_nothing(tmp_path, monkeypatch):
    world = build_plan_workspace(tmp_path)
    out = tmp_path / "cal"
    first = export_calendars(world.workspace, out)
    before = _snapshot(out)
    with world.workspace.connect() as conn:
        remembered = conn.execute("SELECT * FROM calendar_events ORDER BY uid").fetchall()
    from clbhealth.core import staging

    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    with world.workspace.writing("test") as session:  # a change, so the export would say something new
        session.conn.execute("UPDATE sessions SET start = '09:30' WHERE session_id = 'S000001'")
    monkeypatch.setattr(staging.os, "replace", full)
    with pytest.raises(ClbError, match="the disk is full"):
        export_calendars(world.workspace, out)
    assert _snapshot(out) == before and len(first) == len(before)
    with world.workspace.connect() as conn:
        assert conn.execute("SELECT * FROM calendar_events ORDER BY uid").fetchall() == remembered
