"""`import schools` with the official list in every shape, and the own CSV; `schools`; sites in rosters."""

from __future__ import annotations

import csv
import json
import math
import sqlite3
from pathlib import Path

import pytest

from clbhealth.imports.school_list import lambert72_to_wgs84
from clbhealth.workspace.folder import Workspace
from tests.conftest import YEAR, run

ROWS = Path(__file__).parents[1] / "data" / "schools" / "official_rows.csv"


def official_rows() -> tuple[list[str], list[dict]]:
    with open(ROWS, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def write_list(path: Path, rows: list[dict], header: list[str], *, download: bool = True) -> Path:
    """`download`: ';', UTF-8 with BOM, CR-only (as csv.ashx gives it); else ',' and LF."""
    encoding, sep, eol = ("utf-8-sig", ";", "\r") if download else ("utf-8", ",", "\n")
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, delimiter=sep, lineterminator=eol)
        writer.writeheader()
        writer.writerows(rows)
    return path


def sites(ws: Workspace) -> dict[str, dict]:
    conn = sqlite3.connect(ws.db_path)
    conn.row_factory = sqlite3.Row
    try:
        return {r["school_id"]: dict(r) for r in conn.execute("SELECT * FROM schools WHERE school_id != 'HUISONDERWIJS'")}
    finally:
        conn.close()


@pytest.fixture
def empty_ws(tmp_path: Path) -> Workspace:
    return Workspace.create(tmp_path / "ws", "CLB Test", YEAR)


def test_download_shape_is_read_and_compulsory_levels_kept(tmp_path, empty_ws, runner) -> None:
    header, rows = official_rows()
    path = write_list(tmp_path / "download.csv", rows, header)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf") and b"\n" not in path.read_bytes()
    result = run(runner, "import", "schools", path, "-w", empty_ws.root)
    assert "9 new" in result.output and "skipped institutions of other levels (DKO)" in result.output
    assert "no position" in result.output and "10413" not in result.output.split("no position")[0][-5:]
    got = sites(empty_ws)
    assert set(got) == {"18", "26", "34-2", "10413", "27193", "1479-2", "7724", "463", "31963"}
    assert got["34-2"]["school_number"] == "34" and got["34-2"]["site_number"] == 2 and got["34-2"]["main_site"] == 1
    assert got["10413"]["lat"] is None and got["10413"]["lon"] is None  # lx/ly 0: unknown, never (0, 0)
    assert got["1479-2"]["street"] == "Sint-Jansstraat 22 bus A"
    assert got["18"]["street"] == "Moutstraat 24" and got["18"]["postcode"] == "1000"
    assert got["18"]["phone"] == "02 512 49 79" and got["18"]["email"] == "info@bsdekleurdoos.be"
    assert (got["463"]["level"], got["463"]["special"]) == ("kleuter", 0)
    assert (got["27193"]["level"], got["27193"]["special"]) == ("secundair", 1)
    assert (got["31963"]["level"], got["18"]["level"]) == ("secundair", "basis")
    assert got["7724"]["clb"] == "114975"
    assert abs(got["18"]["lat"] - 50.85019) < 0.0001 and abs(got["18"]["lon"] - 4.34478) < 0.0001


def test_comma_lf_gives_the_same_sites(tmp_path, runner) -> None:
    header, rows = official_rows()
    first = Workspace.create(tmp_path / "a", "CLB", YEAR)
    second = Workspace.create(tmp_path / "b", "CLB", YEAR)
    run(runner, "import", "schools", write_list(tmp_path / "d.csv", rows, header), "-w", first.root)
    run(runner, "import", "schools", write_list(tmp_path / "c.csv", rows, header, download=False), "-w", second.root)
    strip = lambda d: {k: {c: v for c, v in s.items() if c != "updated_at"} for k, s in d.items()}  # noqa: E731
    assert strip(sites(first)) == strip(sites(second))


def test_clb_keeps_the_institutions_it_serves(tmp_path, empty_ws, runner) -> None:
    header, rows = official_rows()
    path = write_list(tmp_path / "download.csv", rows, header)
    result = run(runner, "import", "schools", path, "--clb", "114331", "-w", empty_ws.root)
    assert "5 new" in result.output and "5 institutions of other CLBs left out (--clb 114331)" in result.output
    assert set(sites(empty_ws)) == {"18", "26", "34-2", "27193", "31963"}
    bad = run(runner, "import", "schools", path, "--clb", "999999", "-w", empty_ws.root, code=None)
    assert bad.exit_code != 0 and "no institution in the list is served by CLB 999999" in bad.output
    assert "Traceback" not in bad.output
    own = tmp_path / "own.csv"
    own.write_text("school_id;name\n100;School\n", encoding="utf-8")
    refused = run(runner, "import", "schools", own, "--clb", "114331", "-w", empty_ws.root, code=None)
    assert refused.exit_code != 0 and "--clb works with the official list" in refused.output


# Independent positions of the same institutions (MapComplete's geojson, WGS84, 6 decimals).
KNOWN_POINTS = [  # (lx, ly, lat, lon)
    (157705, 161721, 50.765928, 4.477976),
    (162148, 162607, 50.773816, 4.540982),
    (159308, 167908, 50.821522, 4.500855),
]


@pytest.mark.parametrize("lx, ly, lat, lon", KNOWN_POINTS)
def test_lambert72_conversion_to_a_metre(lx, ly, lat, lon) -> None:
    got_lat, got_lon = lambert72_to_wgs84(lx, ly)
    metres = math.hypot((got_lat - lat) * 111_200, (got_lon - lon) * 111_200 * math.cos(math.radians(lat)))
    assert metres < 1.5  # the reference itself is rounded to ~0.1 m and converted by its publisher


def test_lambert72_projection_matches_epsg_example() -> None:
    """EPSG Guidance Note 7-2, Belgian Lambert 72: 50°40'46.461"N 5°48'26.533"E (BD72) = 251763.20, 153034.13."""
    from pyproj import Transformer

    x, y = Transformer.from_crs("EPSG:4313", "EPSG:31370", always_xy=True).transform(
        5 + 48 / 60 + 26.533 / 3600, 50 + 40 / 60 + 46.461 / 3600)
    assert abs(x - 251763.20) < 0.1 and abs(y - 153034.13) < 0.1


def test_reimport_is_idempotent_and_a_newer_list_updates(tmp_path, empty_ws, runner) -> None:
    header, rows = official_rows()
    path = write_list(tmp_path / "download.csv", rows, header)
    run(runner, "import", "schools", path, "-w", empty_ws.root)
    before = sites(empty_ws)
    again = run(runner, "import", "schools", path, "-w", empty_ws.root)
    assert "0 new, 0 updated, 9 unchanged" in again.output
    assert sites(empty_ws) == before
    rows[0] = rows[0] | {"naam": "GO! basisschool De Kleurdoos", "huisnummer": "26"}
    newer = run(runner, "import", "schools", write_list(tmp_path / "newer.csv", rows, header), "-w", empty_ws.root)
    assert "0 new, 1 updated, 8 unchanged" in newer.output
    assert sites(empty_ws)["18"]["street"] == "Moutstraat 26"


def site_level_rows() -> tuple[list[str], list[dict]]:
    """The site-level variant: institutions 18 and 26 with a second vestigingsplaats."""
    header, rows = official_rows()
    second = rows[0] | {"intern_vplnummer": "2", "hoofdzetel": "False", "straat": "Nieuwstraat", "huisnummer": "5",
                        "busnummer": "", "lx": "149000", "ly": "171500"}
    other = rows[1] | {"intern_vplnummer": "3", "hoofdzetel": "False", "lx": "148600", "ly": "174600"}
    return header, [rows[0], second, rows[1], other, *rows[2:]]


ROSTER = ("instellingsnummer;vestigingsplaats;stamboeknummer;naam;voornaam;geboortedatum;geslacht;klas;leerjaar\r\n"
          "18;1;1;Peeters;Jan;03/05/2019;M;1A;L1\r\n"
          "18;2;2;Janssens;An;04/06/2019;V;1B;L1\r\n"
          "34;;3;Maes;Els;05/07/2020;V;K3A;K3\r\n"
          "18;1;4;Claes;Tom;03/05/2013;M;1A;S1\r\n")


def test_site_level_list_roster_sites_and_vanished_sites(tmp_path, empty_ws, runner) -> None:
    header, rows = site_level_rows()
    run(runner, "import", "schools", write_list(tmp_path / "sites.csv", rows, header), "-w", empty_ws.root)
    got = sites(empty_ws)
    assert got["18-2"]["street"] == "Nieuwstraat 5" and got["18-2"]["main_site"] == 0 and got["18"]["main_site"] == 1
    assert got["18-2"]["lat"] != got["18"]["lat"]
    roster = tmp_path / "roster.csv"
    roster.write_bytes(ROSTER.encode("cp1252"))
    result = run(runner, "import", "roster", roster, "-w", empty_ws.root)
    assert "S1 does not fit school 18, a basis school" in result.output
    conn = sqlite3.connect(empty_ws.db_path)
    placed = dict(conn.execute("SELECT last_name, school_id FROM pupils").fetchall())
    conn.close()
    assert placed == {"Peeters": "18", "Janssens": "18-2", "Maes": "34-2", "Claes": "18"}
    newer = [r for r in rows if not (r["schoolnummer"] == "18" and r["intern_vplnummer"] == "2")]
    result = run(runner, "import", "schools", write_list(tmp_path / "newer.csv", newer, header), "-w", empty_ws.root)
    assert "site 18-2" in result.output and "1 pupil(s)" in result.output
    assert sites(empty_ws)["18-2"]["listed"] == 0  # kept, not deleted


def test_roster_site_option_and_unknown_site(tmp_path, empty_ws, runner) -> None:
    header, rows = site_level_rows()
    run(runner, "import", "schools", write_list(tmp_path / "sites.csv", rows, header), "-w", empty_ws.root)
    roster = tmp_path / "r.csv"
    roster.write_bytes(b"instellingsnummer;stamboeknummer;naam;voornaam;geboortedatum;geslacht;leerjaar\r\n"
                       b"18;1;Peeters;Jan;03/05/2019;M;L1\r\n")
    run(runner, "import", "roster", roster, "--site", "2", "-w", empty_ws.root)
    conn = sqlite3.connect(empty_ws.db_path)
    assert conn.execute("SELECT school_id FROM pupils").fetchall() == [("18-2",)]
    conn.close()
    bad = run(runner, "import", "roster", roster, "--site", "7", "-w", empty_ws.root, code=None)
    assert bad.exit_code != 0 and "school 18 has no site 7" in bad.output and "Traceback" not in bad.output


def test_schools_command_formats_and_level(tmp_path, empty_ws, runner) -> None:
    header, rows = official_rows()
    run(runner, "import", "schools", write_list(tmp_path / "d.csv", rows, header), "-w", empty_ws.root)
    listed = json.loads(run(runner, "schools", "--format", "json", "-w", empty_ws.root).output)
    assert [r["school_id"] for r in listed][:3] == ["18", "26", "34-2"]
    assert set(listed[0]) == {"school_id", "site", "name", "street", "postcode", "municipality", "lat", "lon",
                              "level", "special", "clb", "pupils"}
    secondary = run(runner, "schools", "--level", "secundair", "--format", "csv", "-w", empty_ws.root).output
    lines = secondary.strip().splitlines()
    assert lines[0].startswith("school_id;site;name") and len(lines) == 3
    assert "27193" in secondary and "31963" in secondary
    assert "9 school site(s)" in run(runner, "schools", "-w", empty_ws.root).output
    bad = run(runner, "schools", "--level", "hoger", "-w", empty_ws.root, code=2)
    assert "'hoger' is not one of kleuter, lager, basis, secundair" in bad.output


def test_doctor_warns_about_sites_without_position(tmp_path, empty_ws, runner) -> None:
    header, rows = official_rows()
    run(runner, "import", "schools", write_list(tmp_path / "d.csv", rows, header), "-w", empty_ws.root)
    result = run(runner, "doctor", "-w", empty_ws.root)
    assert "warning: 1 school site(s) have no position (lat/lon): 10413" in result.output


def test_own_csv_still_works(tmp_path, empty_ws, runner) -> None:
    own = tmp_path / "own.csv"
    own.write_text("school_id;name;street;postcode;municipality;lat;lon;level\n"
                   "100;Basisschool Een;Kerkstraat 1;2000;Antwerpen;51,2194;4,4025;basis\n"
                   "400;BuBaO Vier;Laan 4;2300;Turnhout;51.32;4.94;buitengewoon\n", encoding="utf-8")
    run(runner, "import", "schools", own, "-w", empty_ws.root)
    got = sites(empty_ws)
    assert got["100"]["lat"] == 51.2194 and got["400"]["special"] == 1 and got["100"]["school_number"] == "100"


def test_bad_official_row_names_file_row_column_and_changes_nothing(tmp_path, empty_ws, runner) -> None:
    header, rows = official_rows()
    rows[2] = rows[2] | {"lx": "veel"}
    path = write_list(tmp_path / "bad.csv", rows, header)
    bad = run(runner, "import", "schools", path, "-w", empty_ws.root, code=1)
    assert "bad.csv, row 4, column 'lx'" in bad.output and "is not a number of metres" in bad.output
    assert "Traceback" not in bad.output and sites(empty_ws) == {}
