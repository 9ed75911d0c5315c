"""A real CLB's schools with fictional pupils: the official list subset and one roster per site.

`build_real_clb` takes the official "Onderwijsaanbod in Vlaanderen" list and the real enrolment per
institution, keeps the BaO and SO institutions one CLB serves, and writes (a) that subset in the
shape a CLB downloads it (`;`, UTF-8 with BOM, CR-only line endings, all 36 columns) and (b) one
roster per site as school software exports it, with as many fictional pupils as the institution
really has, and (c) their past contacts and doses as the CLB's own system exports them (`history.csv`;
most done, as in the bundled samples). Assumptions (the enrolment is one total per institution, no split): a regular school's
total is spread evenly over its grades (K1-K3, L1-L6, S1-S6, +-15 %), classes of at most 24; a
special-education school's pupils have no grade, ages 3-12 (BuBaO) or 12-20 (BuSO), in groups of
12; an institution without a known count gets the median of its kind in the list.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from clbhealth.core.dates import SchoolYear
from clbhealth.core.grades import standard_age
from clbhealth.imports.school_list import institution_level as _level
from clbhealth.samples.formats import write_history_csv
from clbhealth.samples.generator import SAMPLE_YEAR, Site, generate_history, grades_of, insz_for
from clbhealth.samples.names import BOYS, GIRLS, LAST

COMPULSORY_LEVELS = ("BaO", "SO")
ROSTER_HEADER = ["naam", "voornaam", "rijksregisternummer", "stamboeknummer", "geboortedatum", "geslacht",
                 "instellingsnummer", "vestigingsplaats", "klascode", "leerjaar", "onderwijsvorm", "schooljaar"]


@dataclass
class RealClb:
    """What `build_real_clb` wrote."""

    school_list: Path
    rosters: list[Path] = field(default_factory=list)
    institutions: int = 0
    pupils: int = 0
    estimated: list[str] = field(default_factory=list)  # schoolnummers whose size is the median
    history: Path | None = None  # past contacts and doses (before the school year)


def institution_level(row: dict) -> tuple[str, bool]:
    """(level, special) of an official-list row."""
    return _level(row.get("onderwijsniveau", ""), row.get("instellingstype", ""))


def _read_csv(path: Path) -> tuple[list[str], list[dict]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def _sizes(pupils_csv: Path, rows: list[dict]) -> tuple[dict[str, int], list[str]]:
    """Real enrolment per schoolnummer; a missing count becomes the median of its level."""
    _, counts = _read_csv(pupils_csv)
    known = {r["schoolnummer"]: int(r["pupils"]) for r in counts if r.get("pupils", "").strip()}
    medians: dict[tuple[str, bool], int] = {}
    for key in {institution_level(r) for r in rows}:
        values = [known[r["schoolnummer"]] for r in rows if institution_level(r) == key and r["schoolnummer"] in known]
        medians[key] = int(statistics.median(values)) if values else 100
    sizes, estimated = {}, []
    for r in rows:
        if r["schoolnummer"] in known:
            sizes[r["schoolnummer"]] = known[r["schoolnummer"]]
        else:
            sizes[r["schoolnummer"]] = medians[institution_level(r)]
            estimated.append(r["schoolnummer"])
    return sizes, estimated


def _pupil(site: Site, rng: random.Random, counters: dict, birth: dt.date, number: int) -> dict:
    sex = "M" if rng.random() < 0.51 else "V"
    key = birth.isoformat()
    counters[key] = counters.get(key, 0) + 1
    return {
        "school_id": site.school_id, "pupil_number": f"{number:05d}",
        "insz": insz_for(birth, counters[key] * 2 - (1 if sex == "M" else 0)),
        "last_name": rng.choice(LAST), "first_name": rng.choice(BOYS if sex == "M" else GIRLS),
        "birth_date": birth, "sex": sex, "class": None, "grade": None, "education": "gewoon",
    }


def grade_counts(total: int, grades: tuple[str, ...], rng: random.Random) -> dict[str, int]:
    """Exactly `total` pupils over the grades: even shares +-15 %, the rest in the last grade."""
    share = total / len(grades)
    counts = {g: max(0, round(share * rng.uniform(0.85, 1.15))) for g in grades[:-1]}
    while sum(counts.values()) > total:
        biggest = max(counts, key=counts.get)
        counts[biggest] -= 1
    counts[grades[-1]] = total - sum(counts.values())
    return counts


def _regular_pupils(site: Site, year: SchoolYear, rng: random.Random, counters: dict) -> list[dict]:
    """Regular education: grades of the school's level, classes of at most 24 (1A, 1B, K2A, ...)."""
    pupils = []
    for grade, count in grade_counts(site.pupils, grades_of(site.level), rng).items():
        classes = max(1, -(-count // 24))
        for i in range(count):
            age = standard_age(grade) + (1 if rng.random() < 0.05 else 0)
            birth = dt.date(year.start_year - age, 1, 1) + dt.timedelta(days=rng.randrange(365))
            pupil = _pupil(site, rng, counters, birth, len(pupils) + 1)
            prefix = f"K{grade[1]}" if grade.startswith("K") else grade[1]
            pupil.update({"grade": grade, "class": f"{prefix}{'ABCDEFGHIJKLMNOPQRSTUVWXYZ'[i % classes % 26]}"})
            pupils.append(pupil)
    return pupils


def _special_pupils(site: Site, year: SchoolYear, rng: random.Random, counters: dict) -> list[dict]:
    """Special education: no grade, by age, in groups of 12."""
    low, high = (12, 20) if site.level == "secundair" else (3, 12)
    pupils = []
    for i in range(site.pupils):
        birth = dt.date(year.start_year - rng.randint(low, high), 1, 1) + dt.timedelta(days=rng.randrange(365))
        pupil = _pupil(site, rng, counters, birth, i + 1)
        pupil.update({"class": f"groep {1 + i // 12}", "education": "buitengewoon"})
        pupils.append(pupil)
    return pupils


def write_official_list(header: list[str], rows: list[dict], path: Path) -> None:
    """The list as a CLB downloads it: ';', UTF-8 with BOM, CR-only line endings."""
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, delimiter=";", lineterminator="\r")
        writer.writeheader()
        writer.writerows(rows)


def write_site_roster(pupils: list[dict], site_number: str, year: SchoolYear, path: Path) -> None:
    """A WISA-style roster (';', Windows-1252, dd/mm/yyyy) naming the site (vestigingsplaats)."""
    with open(path, "w", encoding="cp1252", errors="replace", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        writer.writerow(ROSTER_HEADER)
        for p in pupils:
            writer.writerow([p["last_name"], p["first_name"], p["insz"], p["pupil_number"],
                             p["birth_date"].strftime("%d/%m/%Y"), p["sex"], p["school_id"], site_number,
                             p["class"] or "", p["grade"] or "", p["education"], str(year)])


def build_real_clb(official_csv: Path, pupils_csv: Path, clb: str, seed: int, out: Path,
                   year: SchoolYear = SAMPLE_YEAR) -> RealClb:
    """Write `schools_<clb>.csv` (official shape), `rosters/roster_<site>.csv` and `history.csv` into `out`."""
    header, rows = _read_csv(official_csv)
    rows = [r for r in rows if r.get("clb", "").strip() == str(clb) and r.get("onderwijsniveau") in COMPULSORY_LEVELS]
    rows.sort(key=lambda r: (int(r["schoolnummer"]), int(r["intern_vplnummer"] or 0)))
    if not rows:
        raise ValueError(f"CLB {clb} serves no BaO or SO institution in {official_csv}")
    out.mkdir(parents=True, exist_ok=True)
    (out / "rosters").mkdir(exist_ok=True)
    result = RealClb(school_list=out / f"schools_{clb}.csv", institutions=len(rows))
    write_official_list(header, rows, result.school_list)
    sizes, result.estimated = _sizes(pupils_csv, rows)
    rng = random.Random(seed)
    counters: dict[str, int] = {}
    everyone: list[dict] = []
    for r in rows:
        level, special = institution_level(r)
        site = Site(r["schoolnummer"], r["naam"], r["straat"], r["postcode"], r["gemeente"], 0.0, 0.0, level,
                    sizes[r["schoolnummer"]])
        if special:
            pupils = _special_pupils(site, year, rng, counters)
        else:
            pupils = _regular_pupils(site, year, rng, counters)
        path = out / "rosters" / f"roster_{r['schoolnummer']}_{r['intern_vplnummer'] or 0}.csv"
        write_site_roster(pupils, r["intern_vplnummer"] or "1", year, path)
        result.rosters.append(path)
        result.pupils += len(pupils)
        everyone.extend(pupils)
    past = [e for e in generate_history(everyone, year, rng) if e["date"] < year.first_day]
    result.history = out / "history.csv"
    write_history_csv(past, result.history, leerid_schools=set())
    return result
