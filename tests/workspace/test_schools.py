"""workspace/schools.py: site ids, writing sites, vanished sites, the roster's site lookup."""

from __future__ import annotations

from pathlib import Path

from clbhealth.workspace.folder import Workspace, now_text
from clbhealth.workspace.schools import (
    grade_levels,
    list_sites,
    main_sites,
    mark_vanished,
    site_id,
    sites_without_position,
    write_sites,
)
from tests.conftest import YEAR


def record(number: str, site: int, main: int = 1, **extra) -> dict:
    return {"school_number": number, "site_number": site, "main_site": main, "name": f"School {number}-{site}",
            "level": "basis", "special": 0, "lat": 51.0, "lon": 4.5, "clb": "114975", "listed": 1} | extra


def test_site_id() -> None:
    assert site_id("18", 1) == "18" and site_id("18", None) == "18"
    assert site_id("18", 2) == "18-2" and site_id("34", 0) == "34-0"


def test_write_vanish_and_look_up(tmp_path: Path) -> None:
    ws = Workspace.create(tmp_path / "ws", "CLB", YEAR)
    with ws.writing("test") as session:
        conn = session.conn
        first = {"18": record("18", 1), "18-2": record("18", 2, main=0), "34-2": record("34", 2, lat=None, lon=None),
                 "40": record("40", 1, level="secundair", special=1)}
        assert write_sites(conn, first, now_text()) == {"new": 4, "updated": 0, "unchanged": 0}
        assert write_sites(conn, first, now_text()) == {"new": 0, "updated": 0, "unchanged": 4}
        assert main_sites(conn)["34"] == "34-2" and main_sites(conn)["18"] == "18"
        assert grade_levels(conn)["40"] == "buitengewoon" and grade_levels(conn)["18"] == "basis"
        assert [s["school_id"] for s in sites_without_position(conn)] == ["34-2"]
        assert [r["school_id"] for r in list_sites(conn)] == ["18", "18-2", "34-2", "40"]
        assert [r["school_id"] for r in list_sites(conn, "secundair")] == ["40"]
        # an institution-level list leaves the other sites of its institutions alone
        scope = {"clb": "114975", "institutions": {"18", "34", "40"}, "site_level": False}
        assert mark_vanished(conn, scope, {"18", "34-2", "40"}, now_text()) == []
        assert conn.execute("SELECT listed FROM schools WHERE school_id = '18-2'").fetchone()[0] == 1
        # a site-level list without 18-2 marks it unlisted (kept), and so a closed institution
        scope = {"clb": "114975", "institutions": {"18", "34"}, "site_level": True}
        mark_vanished(conn, scope, {"18", "34-2"}, now_text())
        listed = dict(conn.execute("SELECT school_id, listed FROM schools WHERE school_id != 'HUISONDERWIJS'"))
        assert listed == {"18": 1, "18-2": 0, "34-2": 1, "40": 0}
        session.rollback = True
