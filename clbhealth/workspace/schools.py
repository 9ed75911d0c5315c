"""School sites in the workspace: the only place that reads or writes the `schools` table's sites.

A row is a site (vestigingsplaats). `school_id` is the site id: the schoolnummer for
intern_vplnummer 1, `schoolnummer-N` otherwise; `school_number` is the institution.
"""

from __future__ import annotations

import sqlite3
SITE_COLUMNS = ("name", "street", "postcode", "municipality", "lat", "lon", "level", "special", "school_number",
                "site_number", "main_site", "phone", "email", "clb", "listed")
LIST_COLUMNS = ("school_id", "site", "name", "street", "postcode", "municipality", "lat", "lon", "level",
                "special", "clb", "pupils")
HOME_EDUCATION = "HUISONDERWIJS"


def site_id(school_number: str, site_number: int | None) -> str:
    """The site id: the schoolnummer for site 1 (or no site number), `schoolnummer-N` otherwise."""
    return school_number if site_number in (None, 1) else f"{school_number}-{site_number}"


def _dicts(cursor: sqlite3.Cursor) -> list[dict]:
    """Rows as dicts, whatever the connection's row factory."""
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, tuple(r))) for r in cursor]


def load_sites(conn: sqlite3.Connection) -> dict[str, dict]:
    """Every site by its id, with all stored columns (home education left out)."""
    rows = _dicts(conn.execute(f"SELECT school_id, {', '.join(SITE_COLUMNS)} FROM schools WHERE school_id != ?",
                               (HOME_EDUCATION,)))
    return {r["school_id"]: r for r in rows}


def write_sites(conn: sqlite3.Connection, records: dict[str, dict], stamp: str) -> dict[str, int]:
    """Insert new sites and update changed ones (inside the caller's transaction); returns the counts.
    A record may leave out columns: those keep their stored value (or the default for a new site)."""
    existing = load_sites(conn)
    counts = {"new": 0, "updated": 0, "unchanged": 0}
    for key, record in records.items():
        old = existing.get(key)
        columns = [c for c in SITE_COLUMNS if c in record]
        if old is None:
            counts["new"] += 1
            conn.execute(
                f"INSERT INTO schools (school_id, {', '.join(columns)}, updated_at) "
                f"VALUES (?, {', '.join('?' * len(columns))}, ?)",
                (key, *(record[c] for c in columns), stamp))
        elif any(old[c] != record[c] for c in columns):
            counts["updated"] += 1
            conn.execute(f"UPDATE schools SET {', '.join(f'{c} = ?' for c in columns)}, updated_at = ? "
                         "WHERE school_id = ?", (*(record[c] for c in columns), stamp, key))
        else:
            counts["unchanged"] += 1
    return counts


def mark_vanished(conn: sqlite3.Connection, scope: dict, listed: set[str], stamp: str) -> list[dict]:
    """Sites from an earlier official list that this list (of `scope["clb"]`, or all CLBs) no longer
    has: marked unlisted, never deleted. An institution-level list says nothing about the other sites
    of the institutions it names. Returns the vanished sites that still have active pupils."""
    gone = []
    for s in load_sites(conn).values():
        if s["site_number"] is None or not s["listed"] or s["school_id"] in listed:
            continue
        if scope["clb"] is not None and s["clb"] != scope["clb"]:
            continue
        if not scope["site_level"] and s["school_number"] in scope["institutions"] and not s["main_site"]:
            continue
        gone.append(s)
    for site in gone:
        conn.execute("UPDATE schools SET listed = 0, updated_at = ? WHERE school_id = ?", (stamp, site["school_id"]))
    counts = pupil_counts(conn)
    return [{"school_id": s["school_id"], "name": s["name"], "pupils": counts.get(s["school_id"], 0)}
            for s in gone if counts.get(s["school_id"], 0)]


def pupil_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Active pupils per site."""
    rows = conn.execute("SELECT school_id, COUNT(*) FROM pupils WHERE active = 1 GROUP BY school_id")
    return {r[0]: r[1] for r in rows}


def list_sites(conn: sqlite3.Connection, level: str | None = None) -> list[dict]:
    """The `clbhealth schools` rows, ordered by site id (numbers numerically)."""
    counts = pupil_counts(conn)
    out = []
    for s in load_sites(conn).values():
        if level is not None and s["level"] != level:
            continue
        out.append({"school_id": s["school_id"], "site": s["site_number"] or 1, "name": s["name"],
                    "street": s["street"], "postcode": s["postcode"], "municipality": s["municipality"],
                    "lat": s["lat"], "lon": s["lon"], "level": s["level"], "special": bool(s["special"]),
                    "clb": s["clb"], "pupils": counts.get(s["school_id"], 0)})
    return sorted(out, key=lambda r: _order(r["school_id"]))


def _order(key: str) -> tuple:
    number, _, site = key.partition("-")
    return (0, int(number), int(site or 1)) if number.isdigit() and (site or "1").isdigit() else (1, key, 0)


def sites_without_position(conn: sqlite3.Connection) -> list[dict]:
    """Listed sites with no lat/lon (the planner cannot place them)."""
    return [s for s in load_sites(conn).values() if s["listed"] and (s["lat"] is None or s["lon"] is None)]


def grade_levels(conn: sqlite3.Connection) -> dict[str, str | None]:
    """Site id -> the level that reads its rosters' grades ('buitengewoon' for special education)."""
    rows = _dicts(conn.execute("SELECT school_id, level, special FROM schools"))
    return {r["school_id"]: ("buitengewoon" if r["special"] and r["level"] != "huisonderwijs" else r["level"])
            for r in rows}


def main_sites(conn: sqlite3.Connection) -> dict[str, str]:
    """Institution (schoolnummer) -> its main site id, for rosters that do not name a site."""
    rows = _dicts(conn.execute("SELECT school_id, school_number, main_site, site_number FROM schools "
                               "WHERE school_number IS NOT NULL ORDER BY main_site DESC, site_number"))
    out: dict[str, str] = {}
    for r in rows:
        out.setdefault(r["school_number"], r["school_id"])
    return out


def institution_sites(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """Institution (schoolnummer) -> the ids of its sites, the main site first."""
    out: dict[str, list[str]] = {}
    for r in _dicts(conn.execute("SELECT school_id, school_number FROM schools WHERE school_number IS NOT NULL "
                                 "ORDER BY main_site DESC, site_number, school_id")):
        out.setdefault(r["school_number"], []).append(r["school_id"])
    return out


def school_levels(conn: sqlite3.Connection) -> dict[str, tuple[str | None, bool]]:
    """Site id -> (level, special), for checking a pupil's grade against the school."""
    return {r["school_id"]: (r["level"], bool(r["special"]))
            for r in _dicts(conn.execute("SELECT school_id, level, special FROM schools"))}


def position_report(conn: sqlite3.Connection) -> tuple[str, bool, str | None] | None:
    """For `doctor`: (message, problem, advice) about listed sites without a position. A warning, not a
    problem: the planner places such a site at the CLB office. None when every site has a position."""
    missing = sites_without_position(conn)
    if not missing:
        return None
    counts = pupil_counts(conn)
    with_pupils = [s["school_id"] for s in missing if counts.get(s["school_id"])]
    shown = ", ".join(sorted(s["school_id"] for s in missing)[:10])
    shown += f" and {len(missing) - 10} more" if len(missing) > 10 else ""
    message = f"warning: {len(missing)} school site(s) have no position (lat/lon): {shown}"
    if with_pupils:
        message += f"; {len(with_pupils)} of them have pupils ({', '.join(sorted(with_pupils)[:10])})"
    return (message + "; the planner counts their travel from the CLB office.", False,
            "Give their lat/lon in an own-format school CSV (school_id, name, lat, lon) and import it with "
            "`clbhealth import schools`.")


SCHOOL_COLUMNS = ("school_id", "name", "street", "postcode", "municipality", "lat", "lon", "level", "updated_at")


def add_schools(conn: sqlite3.Connection, rows) -> None:
    """New schools, each row holding SCHOOL_COLUMNS in order (the benchmark instances)."""
    conn.executemany(f"INSERT INTO schools ({', '.join(SCHOOL_COLUMNS)}) VALUES ({', '.join('?' * len(SCHOOL_COLUMNS))})",
                     rows)
