"""CSV for people is `;`-separated with a UTF-8 BOM (Belgian Excel opens it in columns), `--csv-separator ,`
on request; an option with a fixed set of values refuses a typo (exit 2) naming the closest value."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from clbhealth.cli.common import app
from tests.conftest import run
from tests.planfixture import build_plan_workspace

BOM = b"\xef\xbb\xbf"
AS_OF = "2026-10-01"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return build_plan_workspace(tmp_path_factory.mktemp("csv"))


def _read_people_csv(path, sep: str = ";") -> pd.DataFrame:
    assert path.read_bytes().startswith(BOM)
    return pd.read_csv(path, sep=sep, encoding="utf-8-sig", dtype=str, keep_default_na=False)


def test_due_csv_is_semicolons_with_a_bom(world, tmp_path, runner):
    path = tmp_path / "due.csv"
    run(runner, "due", "-w", world.root, "--as-of", AS_OF, "-o", path)
    frame = _read_people_csv(path)
    assert {"pupil_id", "last_name", "school_id", "moment", "status"} <= set(frame.columns)
    assert len(frame) > 0 and set(frame["status"]) <= {"due", "needs_consent"}
    comma = tmp_path / "due-comma.csv"
    run(runner, "due", "-w", world.root, "--as-of", AS_OF, "-o", comma, "--csv-separator", ",")
    assert _read_people_csv(comma, sep=",").equals(frame)


def test_plan_show_csv_is_semicolons_with_a_bom(world, tmp_path, runner):
    path = tmp_path / "plan.csv"
    run(runner, "plan", "show", "-w", world.root, "-o", path)
    frame = _read_people_csv(path)
    assert {"session_id", "school_id", "staff_ids", "moments"} <= set(frame.columns) and len(frame) > 0


@pytest.mark.parametrize("command", [["schools"], ["audit"], ["due", "--as-of", AS_OF]])
def test_csv_on_stdout_uses_the_chosen_separator(world, runner, command):
    semicolons = run(runner, *command, "-w", world.root, "--format", "csv").stdout
    commas = run(runner, *command, "-w", world.root, "--format", "csv", "--csv-separator", ",").stdout
    by_semicolon = pd.read_csv(io.StringIO(semicolons), sep=";", dtype=str, keep_default_na=False)
    by_comma = pd.read_csv(io.StringIO(commas), sep=",", dtype=str, keep_default_na=False)
    assert len(by_semicolon.columns) > 3 and by_semicolon.equals(by_comma)


def test_an_unknown_separator_is_refused(world, runner):
    refused = run(runner, "schools", "-w", world.root, "--format", "csv", "--csv-separator", "|", code=2)
    assert "'|' is not one of ;, ," in refused.output


@pytest.mark.parametrize(("command", "typo", "meant"), [
    (["due", "--as-of", AS_OF, "--format"], "jsno", "json"),
    (["due", "--as-of", AS_OF, "--status"], "misssed", "missed"),
    (["plan", "show", "--format"], "xlxs", "xlsx"),
    (["plan", "check", "--format"], "jsn", "json"),
    (["plan", "explain", "--format"], "tabel", "table"),
    (["plan", "--format"], "jason", "json"),
    (["schools", "--level"], "secundiar", "secundair"),
    (["schools", "--format"], "cvs", "csv"),
    (["audit", "--format"], "jsonn", "json"),
    (["doctor", "--format"], "jsno", "json"),
    (["report", "--format"], "htlm", "html"),
    (["protocols", "show", "--format"], "josn", "json"),
    (["import", "staff", "staff.csv", "--format"], "jsno", "json"),
])
def test_a_mistyped_choice_names_the_closest(world, runner, command, typo, meant):
    result = runner.invoke(app, [*command, typo, "-w", str(world.root)])
    assert result.exit_code == 2, result.output
    assert f"'{typo}' is not one of" in result.output and f"did you mean {meant}?" in result.output


def test_a_choice_in_another_case_is_taken(world, runner):
    assert run(runner, "schools", "-w", world.root, "--format", "JSON").stdout.lstrip().startswith("[")


def test_the_status_choices_are_the_due_list_statuses():
    from clbhealth.cli.due import DUE_STATUSES
    from clbhealth.protocols.due import STATUSES

    assert DUE_STATUSES == STATUSES


@pytest.mark.parametrize("command", [["plan", "show"], ["export", "calendars", "-o", "{tmp}/agenda"]])
def test_an_unknown_staff_id_names_the_closest(world, runner, tmp_path, command):
    args = [a.format(tmp=tmp_path) for a in command]
    refused = run(runner, *args, "-w", world.root, "--staff", "n2", code=1)
    assert "--staff n2: no such person" in refused.output and "the closest known: N02, N01." in refused.output


def test_closest_ids_with_letters_and_numbers():
    from clbhealth.core.closest import closest

    assert closest("V9", ["A01", "V01", "V02", "V03"]) == ["V03", "V02", "V01"]
    assert closest("9999", ["729", "711", "703", "40642"]) == ["729", "711", "703"]
    assert closest("4064", ["729", "40642", "40642-2"], n=2) == ["40642", "40642-2"]
    assert closest("X1", ["A01", "V01"]) == []


def test_arguments_show_their_word_without_a_python_type(runner):
    roster = runner.invoke(app, ["import", "roster", "--help"]).output
    assert "FILE..." in roster and "<" not in roster
    assert "<" not in runner.invoke(app, ["init", "--help"]).output


def test_weekly_csvs_take_the_separator(world, runner, tmp_path):
    for separator, folder in ((";", tmp_path / "semicolons"), (",", tmp_path / "commas")):
        run(runner, "weekly", "-w", world.root, "--as-of", "2026-10-02", "-o", folder, "--csv-separator", separator,
            code=None)
    [semicolons] = (tmp_path / "semicolons").glob("*/scholen/100-*.csv")
    [commas] = (tmp_path / "commas").glob("*/scholen/100-*.csv")
    by_semicolon, by_comma = _read_people_csv(semicolons), _read_people_csv(commas, sep=",")
    assert len(by_semicolon.columns) > 3 and len(by_semicolon) > 0 and by_semicolon.equals(by_comma)


def _size(path) -> int:
    return path.stat().st_size if path.exists() else 0


def test_weekly_logs_to_the_log_file_given(world, runner, tmp_path):
    import os
    import stat

    default = world.root / "logs" / "weekly.log"
    before = _size(default)
    log = tmp_path / "cron" / "clbhealth-weekly.log"
    log.parent.mkdir()
    week = ("weekly", "-w", world.root, "--as-of", "2026-10-02", "-o", tmp_path / "w", "--log-file", log)
    first = run(runner, *week, code=None)
    assert first.exit_code in (0, 3)
    lines = log.read_text(encoding="utf-8").splitlines()
    assert any(" INFO    weekly 2026-W41: " in line for line in lines)
    run(runner, *week[:-4], "--as-of", "31/02/2026", "-o", tmp_path / "w", "--log-file", log, code=2)
    again = log.read_text(encoding="utf-8").splitlines()
    assert again[:len(lines)] == lines and "ERROR   weekly: --as-of:" in again[-1]  # appended
    assert _size(default) == before  # nothing in the workspace's own log
    if os.name == "posix":
        assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_a_log_file_that_is_not_a_log_is_refused(world, runner, tmp_path):
    workbook = tmp_path / "due.xlsx"
    run(runner, "due", "-w", world.root, "--as-of", AS_OF, "-o", workbook)
    held = workbook.read_bytes()
    for target, words in ((workbook, "is not a text file"), (world.root / "clbhealth.toml", "is the settings file")):
        refused = run(runner, "weekly", "-w", world.root, "--as-of", "2026-10-02", "-o", tmp_path / "w",
                      "--log-file", target, code=1)
        assert words in refused.output
    assert workbook.read_bytes() == held
