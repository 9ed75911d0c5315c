"""Ctrl-C (a real SIGINT to a real process) stops a plan within 2 s, with one line, exit 130, and
the workspace keeps what it had (no plan half-saved)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from clbhealth.samples.instances import build_instance
from clbhealth.workspace.folder import Workspace

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is a POSIX signal")


def _count(workspace: Workspace, sql: str) -> int:
    with workspace.connect() as conn:
        return conn.execute(sql).fetchone()[0]


def test_ctrl_c_during_a_plan_stops_at_once_and_saves_nothing(tmp_path):
    workspace = build_instance("M", tmp_path / "ws")  # 60 sites: a plan of well over 10 s
    before = (_count(workspace, "SELECT count(*) FROM sessions"), _count(workspace, "SELECT count(*) FROM audit"))
    proc = subprocess.Popen([sys.executable, "-m", "clbhealth.cli.main", "plan", "-w", str(workspace.root),
                             "--as-of", "2026-09-01", "--time-limit", "120"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "COLUMNS": "120"})
    time.sleep(4)  # reading the workspace and solving (the whole plan takes well over 4 s)
    assert proc.poll() is None, "the plan ended before Ctrl-C; the test needs a longer plan"
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    took = time.monotonic() - sent
    assert proc.returncode == 130, (proc.returncode, err.decode())
    assert took <= 2.0, took
    lines = [line for line in err.decode().splitlines() if line.strip() and "planning:" not in line]
    assert len(lines) == 1 and "Traceback" not in err.decode(), err.decode()
    after = (_count(workspace, "SELECT count(*) FROM sessions"), _count(workspace, "SELECT count(*) FROM audit"))
    assert after == before
