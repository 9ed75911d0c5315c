"""Every command that takes an output path (`-o`/`--out`/`--output`, weekly's `--log-file`) goes
through the one guard (app.outputs): a workspace's own files (clbhealth.sqlite with its -wal, -shm
and -journal, clbhealth.toml, the locks, the logs and anything in the log folder), the workspace
folder itself, another workspace, and an existing file that is not an earlier export of the same
kind are refused: exit 1, one message, nothing changed. The catalogue below is checked against the
command line itself, so a new command with an output option cannot be left out of it.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from clbhealth.cli.main import app
from tests.app.test_hostile_workspace import refused
from tests.conftest import run
from tests.planfixture import build_plan_workspace

AS_OF = "2026-10-02"
FILE_COMMANDS = {  # command -> (arguments without the output, the name ending of an earlier export)
    "due": (["due", "--as-of", AS_OF, "--format", "csv"], ".csv"),
    "report": (["report", "--as-of", AS_OF, "--format", "json"], ".json"),
    "plan show": (["plan", "show", "--format", "csv"], ".csv"),
    "export attendance": (["export", "attendance", "--date", "2026-10-06"], ".xlsx"),
    "export vaccinnet": (["export", "vaccinnet", "--again"], ".csv"),
    "export vaccine-order": (["export", "vaccine-order"], ".xlsx"),
}
FOLDER_COMMANDS = {  # command -> (arguments without the output, a file name the export writes there)
    "export schools": (["export", "schools"], "100-basisschool-een.xlsx"),
    "export calendars": (["export", "calendars"], "N01-an-peeters.ics"),
    "export consent-forms": (["export", "consent-forms", "--as-of", "2026-10-01"], "100-basisschool-een-toestemming.pdf"),
    "weekly": (["weekly", "--as-of", AS_OF], "2026-W41/scholen/100-basisschool-een.xlsx"),
}
OUTPUT_OPTIONS = {"--output", "--out", "-o", "--log-file"}
WORKSPACE_FILES = {  # a path in the workspace -> what the refusal calls it
    "clbhealth.sqlite": "is the database",
    "clbhealth.sqlite-wal": "is a file of the database",
    "clbhealth.sqlite-shm": "is a file of the database",
    "clbhealth.sqlite-journal": "is a file of the database",
    "clbhealth.toml": "is the settings file",
    ".clbhealth.lock": "is a lock file",
    ".clbhealth-plan.lock": "is a lock file",
    ".weekly.lock": "is a lock file",
    "logs/weekly.log": "is a log of the workspace",
    "logs/old/export": "is inside the log folder of the workspace",
}
WORKSPACE_FOLDERS = {
    "": "is the workspace folder",
    "logs": "is the log folder of the workspace",
    "logs/2026": "is a log of the workspace",
    "logs/2026/weekly": "is inside the log folder of the workspace",
}


def _commands_with_an_output(command, prefix=()):
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from _commands_with_an_output(sub, (*prefix, name))
        return
    for param in command.params:
        if OUTPUT_OPTIONS & set(param.opts):
            yield " ".join(prefix), max(param.opts, key=len)


def test_the_catalogue_holds_every_command_with_an_output_path():
    import typer

    found = set(_commands_with_an_output(typer.main.get_command(app)))
    listed = {(c, "--output") for c in [*FILE_COMMANDS, *FOLDER_COMMANDS]} | {("weekly", "--log-file")}
    assert found == listed


@pytest.fixture
def world(tmp_path):
    world = build_plan_workspace(tmp_path)
    (world.root / "logs" / "old").mkdir()
    return world


@pytest.mark.parametrize("name", WORKSPACE_FILES)
@pytest.mark.parametrize("command", FILE_COMMANDS)
def test_a_file_output_onto_a_workspace_file_is_refused(command, name, world, runner):
    args, _ = FILE_COMMANDS[command]
    refused(runner, [*args, "-o", world.root / name, "-w", world.root], WORKSPACE_FILES[name], "exports", world.root)


@pytest.mark.parametrize("name", WORKSPACE_FOLDERS)
@pytest.mark.parametrize("command", FOLDER_COMMANDS)
def test_a_folder_output_onto_the_workspace_is_refused(command, name, world, runner, tmp_path):
    args, _ = FOLDER_COMMANDS[command]
    target = world.root / name if name else world.root
    refused(runner, [*args, "--out", target, "-w", world.root], WORKSPACE_FOLDERS[name], "exports",
            world.root, tmp_path)


@pytest.mark.parametrize("name", ["clbhealth.sqlite", "clbhealth.toml", ".weekly.lock"])
def test_the_weekly_log_file_is_never_a_workspace_file(name, world, runner, tmp_path):
    args, _ = FOLDER_COMMANDS["weekly"]
    refused(runner, [*args, "-o", tmp_path / "weekly", "--log-file", world.root / name, "-w", world.root],
            WORKSPACE_FILES[name], "exports", world.root, tmp_path)


@pytest.mark.parametrize("command", [*FILE_COMMANDS, *FOLDER_COMMANDS])
def test_an_output_into_another_workspace_is_refused(command, world, runner, tmp_path):
    other = tmp_path / "other"
    run(runner, "init", other, "--school-year", "2026-2027")
    if command in FILE_COMMANDS:
        args, target, message = FILE_COMMANDS[command][0], other / "clbhealth.toml", "is the settings file of the workspace"
    else:
        args, target, message = FOLDER_COMMANDS[command][0], other, "is a workspace folder: the files would mix"
    refused(runner, [*args, "-o", target, "-w", world.root], message, "exports", world.root, other)


def _docx(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")


@pytest.mark.parametrize("command", FILE_COMMANDS)
def test_a_file_output_over_a_document_of_another_kind_is_refused(command, world, runner, tmp_path):
    args, suffix = FILE_COMMANDS[command]
    target = tmp_path / "out" / f"mine{suffix}"
    _docx(target)
    result = refused(runner, [*args, "-o", target, "-w", world.root], "that clbhealth wrote before",
                     "Choose a new file name", world.root, target.parent)
    assert "a ZIP-based document" in result.output and "it is not overwritten" in result.output


@pytest.mark.parametrize("command", [c for c in FOLDER_COMMANDS if c != "weekly"])  # weekly: a week folder of its own
def test_a_folder_export_never_overwrites_a_document_that_has_an_export_s_name(command, world, runner, tmp_path):
    """A file of the user's in the export folder with the name of one of the export's files (a note
    saved as 100-basisschool-een.xlsx) refuses the whole export: no file is replaced, none is added."""
    args, name = FOLDER_COMMANDS[command]
    out = tmp_path / "out"
    out.mkdir()
    (out / name).write_text("my own notes\n", encoding="utf-8")
    result = refused(runner, [*args, "-o", out, "-w", world.root], f"{name} exists and is not",
                     "Export into another folder", world.root, out)
    assert "it is not overwritten" in result.output
    assert [p.name for p in out.iterdir()] == [name]


@pytest.mark.parametrize("command", [c for c in FOLDER_COMMANDS if c != "weekly"])
def test_a_folder_export_replaces_its_own_earlier_files(command, world, runner, tmp_path):
    args, name = FOLDER_COMMANDS[command]
    out = tmp_path / "out"
    run(runner, *args, "-o", out, "-w", world.root)
    earlier = (out / name).read_bytes()
    (out / "empty.txt").write_bytes(b"")
    run(runner, *args, "-o", out, "-w", world.root)
    assert (out / name).read_bytes()[:4] == earlier[:4]
