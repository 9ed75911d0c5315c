"""Seeded planning instances of three sizes on real school sites, for tests and benchmarks.

S: 10 real sites of one Flemish CLB; M: 60 real Flemish sites (several CLBs in Brussels,
Vlaams-Brabant and Antwerpen); L: 300 real Dutch sites around Eindhoven as a stand-in (the
Flemish excerpt has at most 19 sites of one CLB), scaled to 60,000 pupils, with 40 staff.
Pupils per grade come from each site's total (total / number of grades). Everything but the
sites is fictional and follows from the seed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from clbhealth.workspace.settings import Office
from clbhealth.samples.generator import (
    SAMPLE_YEAR, Site, flanders_sites, generate_history, generate_site_pupils, insz_for, _level,
)
from clbhealth.samples.names import BOYS, GIRLS, LAST
from clbhealth.workspace import history as event_rows, roster as pupil_rows, staff as staff_table
from clbhealth.workspace.folder import Workspace, now_text
from clbhealth.workspace.schools import add_schools

PUPIL_COLUMNS = ("insz", "school_id", "pupil_number", "last_name", "first_name", "birth_date", "sex", "class_name",
                 "grade", "education")
STAFF_COLUMNS = ("name", "role", "base_lat", "base_lon", "availability", "schools")

NL_NOTE = "Dutch school sites (DUO/BAG open data, CC0) used as a stand-in for a large Flemish CLB"


@dataclass(frozen=True)
class Size:
    name: str
    sites: int
    nurses: int
    doctors: int
    pupils: int | None = None  # scale site totals to this many pupils
    source: str = "flanders"
    fixed_share: float = 0.5  # share of schools with a fixed nurse


SIZES = {
    "S": Size("S", 10, 3, 1, source="flanders-clb"),
    "M": Size("M", 60, 10, 5, source="flanders"),
    "L": Size("L", 300, 26, 14, pupils=60_000, source="nl", fixed_share=0.0),
}


def _nl_sites() -> list[dict]:
    text = resources.files("clbhealth.samples").joinpath("nl_school_sites_eindhoven.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def _nl_level(kind: str) -> str:
    if kind == "basisschool":
        return "basis"
    if kind in ("SBAO", "SO", "(V)SO", "VSO"):
        return "buitengewoon"
    return "secundair"


def instance_sites(size: Size) -> list[Site]:
    if size.source == "nl":
        rows = _nl_sites()[: size.sites]
        total = sum(int(r["pupils"]) for r in rows)
        scale = (size.pupils or total) / total
        return [Site(r["site_id"], r["name"], r["street"], r["postcode"], r["municipality"], float(r["lat"]),
                     float(r["lon"]), _nl_level(r["type"]), max(12, round(int(r["pupils"]) * scale))) for r in rows]
    rows = flanders_sites()
    if size.source == "flanders-clb":
        rows = [r for r in rows if r["clb_instellingsnummer"] == "114322"]
    rows = sorted(rows, key=lambda r: int(r["schoolnummer"]))[: size.sites]
    return [Site(r["schoolnummer"], r["naam"], r["straat_huisnr"], r["postcode"], r["gemeente"], float(r["lat"]),
                 float(r["lon"]), _level(r["instellingstype"]), int(r["leerlingen_totaal"])) for r in rows]


def _special_pupils(site: Site, rng: random.Random, counters: dict) -> list[dict]:
    """Special education without year grades: by age, 6 to 17."""
    pupils = []
    for i in range(site.pupils):
        sex = "M" if rng.random() < 0.6 else "V"
        age = rng.randint(6, 17)
        birth = dt.date(SAMPLE_YEAR.start_year - age, 1, 1) + dt.timedelta(days=rng.randrange(365))
        key = birth.isoformat()
        counters[key] = counters.get(key, 0) + 1
        pupils.append({
            "school_id": site.school_id, "pupil_number": f"B{i + 1:05d}",
            "insz": insz_for(birth, counters[key] * 2 - (1 if sex == "M" else 0)),
            "last_name": rng.choice(LAST), "first_name": rng.choice(BOYS if sex == "M" else GIRLS),
            "birth_date": birth, "sex": sex, "class": f"groep {1 + i // 12}", "grade": None,
            "education": "buitengewoon",
        })
    return pupils


def _kmeans(points: list[tuple[float, float, float]], k: int, rng: random.Random) -> list[tuple[float, float]]:
    """Staff bases where the pupils are: k-means on the sites weighted by their pupils."""
    centres = [(p[0], p[1]) for p in rng.sample(points, k)]
    for _ in range(25):
        groups: list[list[tuple[float, float, float]]] = [[] for _ in centres]
        for p in points:
            i = min(range(len(centres)), key=lambda j: (p[0] - centres[j][0]) ** 2 + ((p[1] - centres[j][1]) * 0.63) ** 2)
            groups[i].append(p)
        centres = [(sum(x * w for x, _, w in g) / sum(w for *_, w in g), sum(y * w for _, y, w in g) / sum(w for *_, w in g))
                   if g else centres[i] for i, g in enumerate(groups)]
    return centres


NURSE_PATTERNS = ("ma-vm ma-nm di-vm do-vm vr-vm", "ma-vm di-vm di-nm do-vm vr-vm", "di-vm wo-vm do-vm do-nm vr-vm",
                  "ma-vm di-vm wo-vm do-vm vr-vm vr-nm", "ma-vm ma-nm wo-vm do-vm")
DOCTOR_PATTERNS = ("ma-vm di-vm do-vm vr-vm", "ma-vm di-vm wo-vm do-vm vr-vm", "ma-vm wo-vm do-vm vr-vm vr-nm",
                   "ma-vm di-vm di-nm do-vm vr-vm")


def build_instance(size_name: str, root: Path, seed: int = 7) -> Workspace:
    """A workspace in `root` with schools, pupils, history, staff, absences and closures."""
    size = SIZES[size_name]
    rng = random.Random(seed)
    sites = instance_sites(size)
    centre = (sum(s.lat for s in sites) / len(sites), sum(s.lon for s in sites) / len(sites))
    office = Office("CLB-kantoor (benchmark)", "", "", "", round(centre[0], 5), round(centre[1], 5))
    workspace = Workspace.create(root, f"Benchmark {size.name}", SAMPLE_YEAR, office)
    counters: dict[str, int] = {}
    pupils: list[dict] = []
    for site in sites:
        if site.level == "buitengewoon":
            pupils.extend(_special_pupils(site, rng, counters))
        else:
            pupils.extend(generate_site_pupils(site, SAMPLE_YEAR, rng, counters))
    history = [e for e in generate_history(pupils, SAMPLE_YEAR, rng) if e["date"] < SAMPLE_YEAR.first_day]
    bases = _kmeans([(s.lat, s.lon, float(max(s.pupils, 1))) for s in sites], max(size.doctors, 1), rng)
    staff, fixed = _instance_staff(size, sites, bases, rng)
    stamp = now_text()
    with workspace.writing("benchmark instance") as session:
        conn = session.conn
        add_schools(conn, [(s.school_id, s.name, s.street, s.postcode, s.municipality, s.lat, s.lon, s.level, stamp)
                           for s in sites])
        pupil_rows.insert_pupils(conn, PUPIL_COLUMNS, [
            (p["insz"], p["school_id"], p["pupil_number"], p["last_name"], p["first_name"], p["birth_date"].isoformat(),
             p["sex"], p["class"], p["grade"], p["education"], stamp, stamp) for p in pupils])
        ids = {insz: pupil_id for insz, (pupil_id, _) in pupil_rows.ids_by_insz(conn).items()}
        event_rows.add_events(conn, [(ids[e["pupil"]["insz"]], e["code"], e["date"].isoformat(), e["status"],
                                      e["staff_id"], "instance", stamp) for e in history])
        for s in staff:
            staff_table.add_person(conn, s[0], STAFF_COLUMNS,
                                   (s[1], s[2], round(s[3], 5), round(s[4], 5), s[5], " ".join(fixed[s[0]])), stamp)
        absences = []
        for s in staff:
            for _ in range(rng.randint(0, 2)):
                start = SAMPLE_YEAR.first_day + dt.timedelta(days=rng.randrange(280))
                absences.append((s[0], start.isoformat(), (start + dt.timedelta(days=rng.randint(0, 9))).isoformat(),
                                 None))
        staff_table.add_periods(conn, "absences", ("staff_id", "date_from", "date_to", "part"), absences, stamp,
                                replace=False)
        closures = []
        for site in sites:
            for _ in range(rng.randint(1, 2)):
                day = SAMPLE_YEAR.first_day + dt.timedelta(days=rng.randrange(290))
                closures.append((site.school_id, day.isoformat(), day.isoformat(), None, "pedagogische studiedag"))
        staff_table.add_periods(conn, "closures", ("school_id", "date_from", "date_to", "part", "reason"), closures,
                                stamp, replace=False)
        session.counts.update({"schools": len(sites), "pupils": len(pupils), "staff": len(staff)})
    return workspace


def _instance_staff(size: Size, sites: list[Site], bases: list[tuple[float, float]],
                    rng: random.Random) -> tuple[list[tuple], dict[str, list[str]]]:
    """Doctors at the cluster centres, nurses near them; some schools get a fixed nurse nearby.
    Returns (staff rows, staff id -> fixed school ids)."""
    staff = []
    for i in range(size.doctors):
        lat, lon = bases[i % len(bases)]
        staff.append((f"A{i + 1:02d}", f"Dr. {rng.choice(GIRLS + BOYS)} {rng.choice(LAST)}", "doctor", lat, lon,
                      _availability(DOCTOR_PATTERNS[i % len(DOCTOR_PATTERNS)])))
    for i in range(size.nurses):
        lat, lon = bases[i % len(bases)]
        staff.append((f"V{i + 1:02d}", f"{rng.choice(GIRLS + BOYS)} {rng.choice(LAST)}", "nurse",
                      lat + rng.uniform(-0.01, 0.01), lon + rng.uniform(-0.015, 0.015),
                      _availability(NURSE_PATTERNS[i % len(NURSE_PATTERNS)])))
    nurses = [s for s in staff if s[2] == "nurse"]
    fixed: dict[str, list[str]] = {s[0]: [] for s in staff}
    for site in sites:
        if rng.random() < size.fixed_share:
            near = sorted(nurses, key=lambda n: (n[3] - site.lat) ** 2 + ((n[4] - site.lon) * 0.63) ** 2)[:2]
            fixed[rng.choice(near)[0]].append(site.school_id)
    return staff, fixed


def _availability(pattern: str) -> str:
    from clbhealth.imports.staff import parse_availability

    return " ".join(parse_availability(pattern))
