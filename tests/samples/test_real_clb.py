"""The real-CLB data builder: the official list subset and one roster per site."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from clbhealth.samples.real_clb import build_real_clb, grade_counts

# The shared data folder beside the checkout (as CI lays it out), else the workplace's.
DATA = next((p for p in (Path(__file__).resolve().parents[3] / "shared" / "data", Path("/work/shared/data"))
             if p.exists()), Path("/work/shared/data"))
OFFICIAL = DATA / "flanders_schools_onderwijsaanbod.csv"
PUPILS = DATA / "flanders_school_pupils.csv"
pytestmark = pytest.mark.skipif(not OFFICIAL.exists(), reason="shared data not present")


def test_grade_counts_are_exact() -> None:
    rng = random.Random(3)
    for total in (0, 1, 7, 95, 1234):
        counts = grade_counts(total, ("L1", "L2", "L3", "L4", "L5", "L6"), rng)
        assert sum(counts.values()) == total and min(counts.values()) >= 0


def test_build_real_clb_writes_official_shape_and_rosters(tmp_path: Path) -> None:
    built = build_real_clb(OFFICIAL, PUPILS, "114975", seed=5, out=tmp_path)
    raw = built.school_list.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\n" not in raw and raw.count(b"\r") == 194
    rows = list(csv.DictReader(raw.decode("utf-8-sig").replace("\r", "\n").splitlines(), delimiter=";"))
    assert len(rows) == built.institutions == 193
    assert {r["clb"] for r in rows} == {"114975"} and {r["onderwijsniveau"] for r in rows} == {"BaO", "SO"}
    assert len(built.rosters) == 193
    real = {r["schoolnummer"]: r["pupils"] for r in csv.DictReader(PUPILS.open(encoding="utf-8"))}
    total = 0
    for path in built.rosters:
        pupils = list(csv.DictReader(path.open(encoding="cp1252"), delimiter=";"))
        school = pupils[0]["instellingsnummer"] if pupils else None
        if school and school not in built.estimated:
            assert len(pupils) == int(real[school])
        total += len(pupils)
    assert total == built.pupils > 60000
    again = build_real_clb(OFFICIAL, PUPILS, "114975", seed=5, out=tmp_path / "again")
    assert again.rosters[0].read_bytes() == built.rosters[0].read_bytes()


def test_real_clb_imports_through_the_cli(tmp_path: Path, runner) -> None:
    """The builder's files go through the real `import schools --clb` and `import roster` commands."""
    import sqlite3

    from clbhealth.workspace.folder import Workspace
    from tests.conftest import YEAR, run

    built = build_real_clb(OFFICIAL, PUPILS, "114314", seed=2, out=tmp_path / "clb")
    ws = Workspace.create(tmp_path / "ws", "CLB 114314", YEAR)
    result = run(runner, "import", "schools", built.school_list, "--clb", "114314", "-w", ws.root)
    assert f"{built.institutions} new" in result.output
    result = run(runner, "import", "roster", *built.rosters, "-w", ws.root)
    assert f"{built.pupils} new" in result.output
    conn = sqlite3.connect(ws.db_path)
    try:
        per_site = dict(conn.execute("SELECT school_id, COUNT(*) FROM pupils GROUP BY school_id").fetchall())
        special = conn.execute("SELECT COUNT(*) FROM pupils WHERE education = 'buitengewoon'").fetchone()[0]
        unplaced = conn.execute("SELECT COUNT(*) FROM schools WHERE lat IS NULL AND school_id != 'HUISONDERWIJS'").fetchone()[0]
    finally:
        conn.close()
    assert sum(per_site.values()) == built.pupils and len(per_site) == built.institutions
    assert special > 0 and unplaced == 0
