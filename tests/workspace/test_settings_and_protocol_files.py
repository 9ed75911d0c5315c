"""Hostile settings and protocol files: a clear error naming the file (and line), never a traceback,
never a file silently used as if it said nothing; a BOM from Notepad is accepted."""

from __future__ import annotations

import pytest

from tests.conftest import run


@pytest.fixture
def ws(tmp_path, runner):
    run(runner, "init", tmp_path / "ws")
    return tmp_path / "ws"


def _config(ws) -> str:
    return (ws / "clbhealth.toml").read_text(encoding="utf-8")


def test_a_misspelt_table_or_key_is_refused_with_its_line_and_the_closest_name(ws, runner):
    text = _config(ws)
    (ws / "clbhealth.toml").write_text(text.replace("[planning]\n", "[planing]\n"), encoding="utf-8")
    result = run(runner, "protocols", "show", "-w", ws, code=1)
    line = text.splitlines().index("[planning]") + 1
    assert f"[planing] (line {line}) is not a setting clbhealth knows; did you mean planning?" in result.output
    (ws / "clbhealth.toml").write_text(text.replace("catch_up_missed_contacts =", "catchup_missed_contacts ="),
                                       encoding="utf-8")
    result = run(runner, "due", "-w", ws, "--as-of", "2026-10-01", code=1)
    assert "catchup_missed_contacts in [due]" in result.output and "did you mean catch_up_missed_contacts?" in result.output
    assert "Traceback" not in result.output


def test_a_settings_file_saved_with_a_bom_is_read(ws, runner):
    (ws / "clbhealth.toml").write_bytes(b"\xef\xbb\xbf" + _config(ws).encode("utf-8"))
    assert "K1" in run(runner, "protocols", "show", "-w", ws).output


@pytest.mark.parametrize("content, message", [
    (b"", "has no [[contact]] or [[vaccination]] rules"),
    (b'[protocol]\nname = "x"\n', "has no [[contact]] or [[vaccination]] rules"),
    (b'contact = 5\n', "'contact' must be a list of [[contact]] tables"),
    (b'[protocl]\nname = "x"\n', "has unknown table(s) protocl"),
    (b'[protocol]\nname = "x"\n[[contact]]\ncode = "K1"\n', "contact #1 lacks 'name'"),
    (b'[protocol]\nname = "Caf\xe9"\n', "is not UTF-8 text (line 2; saved as Windows-1252?)"),
    (b"\x7fELF\x02\x01\x01\x00\x00\x00binary", "is not a text file"),
])
def test_a_bad_protocol_file_is_refused_clearly(ws, runner, content, message):
    (ws / "own.toml").write_bytes(content)
    (ws / "clbhealth.toml").write_text(_config(ws).replace('protocol = "flanders"', 'protocol = "own.toml"'),
                                       encoding="utf-8")
    result = run(runner, "protocols", "show", "-w", ws, code=1)
    assert message in result.output and "own.toml" in result.output and "Traceback" not in result.output


def test_a_protocol_path_that_is_a_folder_is_refused(ws, runner):
    (ws / "own.toml").mkdir()
    (ws / "clbhealth.toml").write_text(_config(ws).replace('protocol = "flanders"', 'protocol = "own.toml"'),
                                       encoding="utf-8")
    assert "is not a file" in run(runner, "protocols", "show", "-w", ws, code=1).output
