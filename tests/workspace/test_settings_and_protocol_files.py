"""Hostile settings and protocol files: a clear error naming the file (and line), never a traceback,
never a file silently used as if it said nothing; a BOM from Notepad is accepted."""

from __future__ import annotations

from pathlib import Path

import pytest

from clbhealth.protocols import model
from tests.conftest import run
from tests.imports.test_bad_inputs import dump


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


BAD_PROTOCOLS = [
    (b"", "has no [[contact]] or [[vaccination]] rules"),
    (b'[protocol]\nname = "x"\n', "has no [[contact]] or [[vaccination]] rules"),
    (b'contact = 5\n', "'contact' must be a list of [[contact]] tables"),
    (b'[protocl]\nname = "x"\n', "[protocl] (line 1) is not a table of a protocol; did you mean [protocol]?"),
    (b'[protocol]\nname = "x"\n[[contact]]\ncode = "K1"\n', "contact #1 lacks 'name'"),
    (b'[protocol]\nname = "Caf\xe9"\n', "is not UTF-8 text (line 2; saved as Windows-1252?)"),
    (b"\x7fELF\x02\x01\x01\x00\x00\x00binary", "is not a text file"),
    (b"x = [1,2\n", "is not valid TOML"),
]
FLANDERS = (Path(model.__file__).parent / "flanders.toml").read_text(encoding="utf-8")
K1_AT = FLANDERS.splitlines().index("[[contact]]") + 1  # the K1 table's header line


def _k1_line(key: str) -> int:
    return next(n for n, row in enumerate(FLANDERS.splitlines(), start=1) if n > K1_AT and row.startswith(key + " "))


# A copy of the bundled protocol with one value or name changed in the K1 rule (or its head): the
# change, and the words of the refusal (each names the field, its line and what to give instead).
EDITS = [
    ('grades = ["K1"]', 'grades = "K1"', f'contact #1 (K1): grades (line {_k1_line("grades")}) is \'K1\': '
     'give a list of text values'),
    ('grades = ["K1"]', 'grades = ["K7"]', "grades", "'K7' is not known; known: K1, K2"),
    ('\ngrades = ["K1"]', '\ngrade = ["K1"]', f"grade (line {_k1_line('grades')}) is not a field of [contact]; "
     "did you mean grades?"),
    ('staff = ["nurse"]', 'staff = "nurse"', "staff", "is 'nurse': give a list of text values"),  # not 5 roles
    ('staff = ["nurse"]', 'staff = ["nurze"]', "staff", "'nurze' is not known; did you mean nurse?"),
    ("minutes = 20", "minutes = -5", f"minutes (line {_k1_line('minutes')}) is -5: give a whole number from 0 to 600."),
    ("minutes = 20", "minutes = 20.7", "minutes", "is 20.7: give a whole number"),
    ("minutes = 20", "minutes = 99999999999999999999", "minutes", "give a whole number from 0 to 600"),
    ("age = 3", 'age = "three"', "age", "is 'three': give a whole number from 0 to 30."),  # was a traceback
    ('select = "birth_year"', 'select = "birthyear"', "select", "did you mean birth_year?"),
    ("parents_invited = true", 'parents_invited = "ja"', "parents_invited", "is 'ja': give true or false."),
    ("compulsory_age = 5", 'compulsory_age = "vijf"', "[protocol]: compulsory_age (line", "give a whole number"),
    ('first_year = "2019-2020"', "first_year = 2019", "[protocol]: first_year (line", "give a school year as text"),
    ('window_until = "christmas"', 'window_until = "chistmas"', "(HPV1): window_until (line", "did you mean christmas?"),
    ("\n[protocol]\n", "\n[protokol]\n", "[protokol] (line", "did you mean [protocol]?"),
    ("\n[[contact]]\n", "\n[[contacts]]\n", "[contacts] (line", "did you mean [[contact]]?"),
]


def _use_protocol(ws, content: bytes) -> None:
    (ws / "own.toml").write_bytes(content)
    (ws / "clbhealth.toml").write_text(_config(ws).replace('protocol = "flanders"', 'protocol = "own.toml"'),
                                       encoding="utf-8")


def _refused_and_unchanged(ws, runner, *messages: str) -> str:
    before = dump(ws)
    for args in (["protocols", "show"], ["due", "--as-of", "2026-10-01"], ["doctor"]):
        result = run(runner, *args, "-w", ws, code=1)
        assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output, result.output
        for message in messages:
            assert message in " ".join(result.output.split()), (args, message, result.output)
        assert "own.toml" in result.output
    assert dump(ws) == before
    return result.output


@pytest.mark.parametrize("content, message", BAD_PROTOCOLS, ids=[m[:30] for _, m in BAD_PROTOCOLS])
def test_a_bad_protocol_file_is_refused_clearly(ws, runner, content, message):
    _use_protocol(ws, content)
    _refused_and_unchanged(ws, runner, message)


@pytest.mark.parametrize("old, new, messages", [(e[0], e[1], e[2:]) for e in EDITS], ids=[e[1].strip()[:28] for e in EDITS])
def test_every_field_of_a_protocol_file_is_checked_with_its_line(ws, runner, old, new, messages):
    assert old in FLANDERS
    _use_protocol(ws, FLANDERS.replace(old, new, 1).encode("utf-8"))
    output = _refused_and_unchanged(ws, runner, *messages)
    assert "compare with the bundled flanders.toml" in " ".join(output.split())


def test_a_copy_of_the_bundled_protocol_is_accepted(ws, runner):
    _use_protocol(ws, b"\xef\xbb\xbf" + FLANDERS.encode("utf-8"))  # with Notepad's BOM too
    assert "K1" in run(runner, "protocols", "show", "-w", ws).output


def test_a_protocol_path_that_is_a_folder_is_refused(ws, runner):
    (ws / "own.toml").mkdir()
    (ws / "clbhealth.toml").write_text(_config(ws).replace('protocol = "flanders"', 'protocol = "own.toml"'),
                                       encoding="utf-8")
    assert "is not a file" in run(runner, "protocols", "show", "-w", ws, code=1).output
