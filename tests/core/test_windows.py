"""Nothing POSIX-only on the paths a Windows user takes: whether a lock's process still runs is asked of
Windows without `os.kill` (there it would end the process), and the audit's user needs no uid."""

from __future__ import annotations

import ctypes
import getpass
import os
import sqlite3

from clbhealth.core import files
from clbhealth.core.files import windows_process_alive


class FakeKernel32:
    """kernel32 as far as windows_process_alive uses it."""

    def __init__(self, handle: int, last_error: int = 0, exit_code: int = 259) -> None:
        self.handle, self.last_error, self.exit_code, self.closed = handle, last_error, exit_code, []

    def OpenProcess(self, access, inherit, pid):  # noqa: N802 (the Windows API's name)
        assert access == 0x1000 and pid == 4242
        return self.handle

    def GetLastError(self):  # noqa: N802
        return self.last_error

    def GetExitCodeProcess(self, handle, pointer):  # noqa: N802
        ctypes.cast(pointer, ctypes.POINTER(ctypes.c_ulong)).contents.value = self.exit_code
        return 1

    def CloseHandle(self, handle):  # noqa: N802
        self.closed.append(handle)


def test_a_windows_process_is_asked_about_not_ended():
    assert windows_process_alive(4242, FakeKernel32(7, exit_code=259)) is True  # STILL_ACTIVE
    ended = FakeKernel32(7, exit_code=0)
    assert windows_process_alive(4242, ended) is False and ended.closed == [7]
    assert windows_process_alive(4242, FakeKernel32(0, last_error=87)) is False  # no such process
    assert windows_process_alive(4242, FakeKernel32(0, last_error=5)) is True  # another user's process


def test_on_windows_process_alive_never_calls_os_kill(monkeypatch):
    def kill(*_):
        raise AssertionError("os.kill on Windows is TerminateProcess")

    monkeypatch.setattr(os, "kill", kill)
    monkeypatch.setattr(os, "name", "nt")
    monkeypatch.setattr(ctypes, "windll", type("windll", (), {"kernel32": FakeKernel32(0, last_error=87)}),
                        raising=False)
    assert files.process_alive(4242) is False


def test_the_audit_needs_no_uid(monkeypatch):
    from clbhealth.workspace import audit

    def no_user():
        raise OSError("no user name")

    monkeypatch.setattr(getpass, "getuser", no_user)
    monkeypatch.delattr(os, "getuid", raising=False)
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE audit (at, user, command, files, counts)")
    audit.record(conn, "doctor", [], {})
    assert conn.execute("SELECT user FROM audit").fetchone() == ("unknown",)
