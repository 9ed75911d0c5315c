"""What a planner expects of the command line: --version, one spelling for output (-o/--output),
the format from the file's extension (a mismatch refused), option types as words, examples."""

from __future__ import annotations

import csv
import io
import json
import re

from openpyxl import load_workbook

from clbhealth.cli.common import app
from tests.conftest import run
from tests.planfixture import build_plan_workspace


def test_version(runner):
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("clbhealth ")


def test_help_shows_types_as_words_and_an_example(runner):
    due = runner.invoke(app, ["due", "--help"]).output
    for word in ("DATE", "SCHOOL", "FILE", "DIR", "-o, --output", "Example: clbhealth due"):
        assert word in due, word
    assert "<str>" not in due and "<path>" not in due
    assert "FILE..." in runner.invoke(app, ["import", "roster", "--help"]).output
    assert "--install-completion" in runner.invoke(app, ["--help"]).output


def _commands():
    """Every command as its words (`["plan", "show"]`) with its click command; `plan` itself is one."""
    from typer.main import get_command

    def walk(command, words):
        if hasattr(command, "commands"):
            if words and getattr(command, "invoke_without_command", False):
                yield words, command
            for name, sub in command.commands.items():
                yield from walk(sub, [*words, name])
        else:
            yield words, command

    return list(walk(get_command(app), []))


PYTHON_TYPES = re.compile(r"(?i:<(str|int|float|bool|path|date|datetime|list\[[^>]*\])>)|"
                          r"\b(TEXT|INTEGER|FLOAT|PATH|BOOLEAN|FILENAME|DIRECTORY)\b")  # typer's and click's words
SPEAKS_JSON = (["plan"], ["plan", "show"], ["plan", "check"], ["plan", "explain"], ["doctor"], ["protocols", "show"],
               ["schools"], ["staff"], ["due"], ["report"], ["weekly"], ["audit"], ["lots"], ["purge"])


def test_every_command_has_an_example_words_for_types_and_one_output_spelling(runner):
    commands = _commands()
    assert len(commands) >= 30
    for words, command in commands:
        text = runner.invoke(app, [*words, "--help"]).output
        assert f"Example: clbhealth {' '.join(words)}" in text, words
        assert not PYTHON_TYPES.search(text), (words, PYTHON_TYPES.search(text))
        for param in command.params:
            if set(param.opts) & {"-o", "--out", "--output"}:
                assert {"-o", "--output"} <= set(param.opts), (words, param.opts)
        formats = [p for p in command.params if "--format" in p.opts]
        if words in SPEAKS_JSON or words[0] == "import":
            assert formats and "json" in (formats[0].help or ""), words


def test_the_extension_decides_the_format_and_a_mismatch_is_refused(tmp_path, runner):
    world = build_plan_workspace(tmp_path)
    workbook = tmp_path / "due.xlsx"
    run(runner, "due", "-w", world.root, "--as-of", "2026-10-01", "-o", workbook)
    assert load_workbook(workbook).sheetnames  # a real workbook, not a text table named .xlsx
    listed = tmp_path / "due.csv"
    run(runner, "due", "-w", world.root, "--as-of", "2026-10-01", "--output", listed)
    rows = list(csv.reader(io.StringIO(listed.read_text(encoding="utf-8-sig")), delimiter=";"))
    assert rows[0][0] and len(rows) > 1  # ; with a BOM: Belgian Excel opens it in columns
    plan = tmp_path / "plan.json"
    run(runner, "plan", "show", "-w", world.root, "-o", plan)
    assert isinstance(json.loads(plan.read_text(encoding="utf-8")), list)
    refused = run(runner, "due", "-w", world.root, "--format", "csv", "-o", tmp_path / "x.xlsx", code=1)
    assert "--format csv does not match the file x.xlsx" in refused.output and not (tmp_path / "x.xlsx").exists()
    typo = run(runner, "report", "-w", world.root, "--format", "jsn", code=2)
    assert "did you mean json?" in typo.output


def test_the_old_out_spelling_still_works(tmp_path, runner):
    world = build_plan_workspace(tmp_path)
    run(runner, "export", "schools", "-w", world.root, "--out", tmp_path / "a")
    run(runner, "export", "schools", "-w", world.root, "-o", tmp_path / "b")
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == sorted(p.name for p in (tmp_path / "b").iterdir())


def test_doctor_and_plan_check_speak_json(tmp_path, runner):
    world = build_plan_workspace(tmp_path)
    doctor = json.loads(run(runner, "doctor", "-w", world.root, "--format", "json", code=None).stdout)
    assert {"workspace", "problems", "findings"} <= set(doctor)
    assert all({"check", "message", "problem", "advice"} == set(f) for f in doctor["findings"])
    check = run(runner, "plan", "check", "-w", world.root, "--format", "json", code=None)
    data = json.loads(check.stdout)
    assert data["sessions"] >= 1 and isinstance(data["violations"], list)
    assert check.exit_code == (1 if data["violations"] else 0)


def test_imports_speak_json(tmp_path, runner):
    from tests.imports.test_import_roster import line, roster

    world = build_plan_workspace(tmp_path)
    import datetime as dt

    path = roster(tmp_path / "r.csv", [line("9001", "Nieuw", "Piet", dt.date(2020, 2, 2)),
                                       line("9002", "Fout", "Jan", dt.date(2020, 2, 2), insz="123")])
    result = run(runner, "import", "roster", path, "-w", world.root, "--dry-run", "--skip-invalid",
                 "--format", "json", code=3)
    data = json.loads(result.stdout)
    assert data["kind"] == "roster" and data["dry_run"] is True and data["written"] is False
    assert data["skipped_rows"] == 1 and data["errors"][0]["row"] == 3 and data["errors"][0]["column"]
    assert {"new", "updated", "unchanged", "moved", "left"} <= set(data["totals"])
