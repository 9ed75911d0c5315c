"""Shared fixtures: workspaces in temporary folders, a CLI runner, pupil frames for the due rules."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from clbhealth.cli.main import app
from clbhealth.core.dates import SchoolYear
from clbhealth.protocols import load_protocol
from clbhealth.workspace.folder import Workspace

YEAR = SchoolYear(2026)
AS_OF = dt.date(2026, 12, 1)
SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"


@pytest.fixture(scope="session")
def protocol():
    return load_protocol("flanders")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def run(runner: CliRunner, *args: str, code: int | None = 0):
    """Invoke the CLI; check the exit code (None: any)."""
    result = runner.invoke(app, [str(a) for a in args])
    if code is not None:
        assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    return result


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    ws = Workspace.create(tmp_path / "ws", "CLB Test", YEAR)
    schools = tmp_path / "schools.csv"
    schools.write_text(
        "school_id;name;street;postcode;municipality;lat;lon;level\n"
        "100;Basisschool Een;Kerkstraat 1;2000;Antwerpen;51,2194;4,4025;basis\n"
        "200;Atheneum Twee;Schoolstraat 2;2500;Lier;51.1315;4.5700;secundair\n"
        "300;Kleuterschool Drie;Dorp 3;2260;Westerlo;51.09;4.92;kleuter\n"
        "400;BuBaO Vier;Laan 4;2300;Turnhout;51.32;4.94;buitengewoon\n",
        encoding="utf-8",
    )
    from clbhealth.imports.schools import import_schools

    import_schools(ws, schools)
    return ws


def pupil(pupil_id: int, grade: str | None, born: str, *, education: str = "gewoon", school: str = "100",
          cls: str | None = None) -> dict:
    return dict(pupil_id=pupil_id, last_name=f"Naam{pupil_id}", first_name="Kind", school_id=school,
                class_name=cls or (grade or "-"), grade=grade, education=education, birth_date=born, sex="M")


def event(pupil_id: int, code: str, date: str, status: str, staff: str = "") -> dict:
    return dict(pupil_id=pupil_id, code=code, date=date, status=status, staff_id=staff)


def frames(pupils: list[dict], events: list[dict] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    ev = pd.DataFrame(events or [], columns=["pupil_id", "code", "date", "status", "staff_id"])
    return pd.DataFrame(pupils), ev
