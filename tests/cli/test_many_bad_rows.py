"""Many rows with the same problem: the message a person reads names the first rows and how many
more (never 194 row numbers on one line); `--format json` still lists each problem with its row,
also when the import is refused."""

from __future__ import annotations

import json

from clbhealth.core.errors import listed
from tests.conftest import run

HEADER = "instellingsnummer;stamboeknummer;rijksregisternummer;naam;voornaam;geboortedatum;geslacht;klas;leerjaar"
BAD = 200


def _roster(tmp_path):
    """Six good pupils, then 200 whose birth date is 31 February (rows 8 to 207)."""
    lines = [HEADER]
    for number in range(1, 7 + BAD):
        born = "03/02/2020" if number <= 6 else "31/02/2020"
        lines.append(f"100;{number};;Naam{number};Kind;{born};M;1A;L1")
    path = tmp_path / "veel-fouten.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _grouped_line(stderr: str) -> str:
    [line] = [line for line in stderr.splitlines() if "geboortedatum" in line]
    return line


def test_a_refused_roster_names_the_first_rows_and_the_count(workspace, runner, tmp_path):
    path = _roster(tmp_path)
    result = run(runner, "import", "roster", path, "-w", workspace.root, code=1)
    line = _grouped_line(result.stderr)
    assert f"{BAD} row(s) [8, 9, 10, 11, 12, 13, 14, 15, 16, 17 and {BAD - 10} more]" in line
    assert len(line) < 250 and "207" not in line
    assert f"{BAD} problem(s) in {BAD} row(s) of the roster; nothing was imported." in result.stderr
    assert "--format json lists each one" in result.stderr


def test_skipped_rows_are_named_briefly_too(workspace, runner, tmp_path):
    result = run(runner, "import", "roster", _roster(tmp_path), "-w", workspace.root, "--skip-invalid", "--dry-run",
                 code=3)
    line = _grouped_line(result.stderr)
    assert f"and {BAD - 10} more" in line and len(line) < 250
    assert f"{BAD} invalid row(s) were skipped" in result.stderr


def test_json_lists_every_row_also_when_the_import_is_refused(workspace, runner, tmp_path):
    path = _roster(tmp_path)
    result = run(runner, "import", "roster", path, "-w", workspace.root, "--format", "json", code=1)
    data = json.loads(result.stdout)
    assert data["written"] is False and data["kind"] == "roster" and data["files"] == [str(path)]
    assert sorted(e["row"] for e in data["errors"]) == list(range(8, 8 + BAD))
    assert all(e["column"] == "geboortedatum" and "row" not in e["message"] for e in data["errors"])
    assert data["refused"]["message"].startswith(f"{BAD} problem(s) in {BAD} row(s)")
    assert "nothing was imported" in result.stderr and "[8, 9" not in result.stderr  # the rows are in the JSON
    skipped = json.loads(run(runner, "import", "roster", path, "-w", workspace.root, "--format", "json",
                             "--skip-invalid", "--dry-run", code=3).stdout)
    assert skipped["refused"] is None and skipped["skipped_rows"] == BAD and len(skipped["errors"]) == BAD
    nowhere = run(runner, "import", "roster", path, "-w", tmp_path / "nowhere", "--format", "json", code=1)
    assert json.loads(nowhere.stdout)["refused"]["message"].startswith("No clbhealth workspace")


def test_listed_names_ten_and_counts_the_rest():
    assert listed([2, 3, 5]) == "2, 3, 5"
    assert listed(range(1, 11)) == "1, 2, 3, 4, 5, 6, 7, 8, 9, 10"
    assert listed(range(1, 200)) == "1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 189 more"
    assert listed(["a", "b", "c"], at_most=2) == "a, b and 1 more"
