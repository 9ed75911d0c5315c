"""A seeded generator of fictional pupils on real school sites, and of the files schools send.

The same seed gives the same pupils, files and history. `build_samples` writes data/samples (the
files' styles are in formats.py); region.py makes large instances directly as DataFrames.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from clbhealth.core.dates import SchoolYear
from clbhealth.core.grades import GRADES, standard_age
from clbhealth.samples.names import BOYS, GIRLS, LAST

from clbhealth.samples.year import SAMPLE_CLB, SAMPLE_HISTORY_UNTIL, SAMPLE_SEED, SAMPLE_YEAR  # noqa: F401
from clbhealth.samples.formats import (  # noqa: F401 (the sample files' writers, also used by the benchmarks)
    _informat_year,
    write_history_csv,
    write_home_education_csv,
    write_informat_xlsx,
    write_leerid_csv,
    write_tab_txt,
    write_wisa_csv,
)
GO_SOURCE = "Bron: Vlaams Ministerie van Onderwijs en Vorming (via pietervdvn/MapComplete)"


def insz_for(birth: dt.date, counter: int) -> str:
    """A valid INSZ for a birth date and a day counter (odd = male, even = female)."""
    base = f"{birth:%y%m%d}{counter:03d}"
    number = int(("2" + base) if birth.year >= 2000 else base)
    return f"{base}{97 - number % 97:02d}"


@dataclass(frozen=True)
class Site:
    school_id: str
    name: str
    street: str
    postcode: str
    municipality: str
    lat: float
    lon: float
    level: str
    pupils: int
    fictional: bool = False


def flanders_sites() -> list[dict]:
    """The rows of the bundled excerpt of real Flemish school sites."""
    text = resources.files("clbhealth.samples").joinpath("flanders_school_sites.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def _level(instellingstype: str) -> str:
    text = instellingstype.lower()
    if "kleuter" in text:
        return "kleuter"
    if "lagere" in text:
        return "lager"
    return "basis"


OFFICIAL_EXCERPT = "onderwijsaanbod_clb114322.csv"  # the sample CLB's rows of the official list, as downloaded
ENROLMENT_EXCERPT = "school_pupils_clb114322.csv"  # their real enrolment and WGS84 position
SAMPLE_PRIMARY = 12  # the first regular primary schools of the sample CLB by schoolnummer
SAMPLE_SECONDARY = ("40642", "40717")  # GO! atheneum Geel, GO! SO De Vesten Herentals (near the office)


def official_excerpt() -> tuple[list[str], list[dict]]:
    """The header and rows of the bundled excerpt of the official list (the sample CLB's institutions)."""
    text = resources.files("clbhealth.samples").joinpath(OFFICIAL_EXCERPT).read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=";")
    return list(reader.fieldnames or []), list(reader)


def _enrolment() -> dict[str, dict]:
    text = resources.files("clbhealth.samples").joinpath(ENROLMENT_EXCERPT).read_text(encoding="utf-8")
    return {r["schoolnummer"]: r for r in csv.DictReader(io.StringIO(text))}


def sample_rows() -> tuple[list[str], list[dict]]:
    """The official-list rows of the sample sites: regular primary and secondary schools of one CLB."""
    header, rows = official_excerpt()
    primary = [r for r in rows if r["onderwijsniveau"] == "BaO" and r["instellingstype"] == "Basisschool"]
    chosen = sorted(primary, key=lambda r: int(r["schoolnummer"]))[:SAMPLE_PRIMARY]
    chosen += [r for r in rows if r["schoolnummer"] in SAMPLE_SECONDARY]
    return header, chosen


def sample_sites() -> list[Site]:
    """12 real primary and 2 real secondary schools of one CLB, with their real enrolment."""
    from clbhealth.imports.school_list import institution_level

    sizes = _enrolment()
    sites = []
    for r in sample_rows()[1]:
        level, _ = institution_level(r["onderwijsniveau"], r["instellingstype"])
        street = " ".join(part for part in (r["straat"], r["huisnummer"]) if part.strip())
        if r["busnummer"].strip():
            street += f" bus {r['busnummer'].strip()}"
        known = sizes[r["schoolnummer"]]
        sites.append(Site(r["schoolnummer"], r["naam"], street, r["postcode"], r["gemeente"], float(known["lat"]),
                          float(known["lon"]), level, int(known["pupils"])))
    return sites


def grades_of(level: str) -> tuple[str, ...]:
    return {
        "kleuter": GRADES[0:3],
        "lager": GRADES[3:9],
        "basis": GRADES[0:9],
        "secundair": GRADES[9:15],
    }[level]


def _birth_for(rng: random.Random, year: SchoolYear, grade: str) -> dt.date:
    """Mostly the grade's cohort; some held back a year, a few a year ahead."""
    age = standard_age(grade)
    roll = rng.random()
    if roll < 0.05:
        age += 1
    elif roll < 0.06 and grade not in ("K1",):
        age -= 1
    birth_year = year.start_year - age
    return dt.date(birth_year, 1, 1) + dt.timedelta(days=rng.randrange(365))


def generate_site_pupils(site: Site, year: SchoolYear, rng: random.Random, counters: dict) -> list[dict]:
    """Pupils per grade from the site's total (total / number of grades), classes of at most 24."""
    grades = grades_of(site.level)
    per_grade = max(site.pupils // len(grades), 4)
    pupils = []
    number = 1
    for grade in grades:
        count = max(2, int(per_grade * rng.uniform(0.85, 1.15)))
        classes = max(1, -(-count // 24))
        for i in range(count):
            sex = "M" if rng.random() < 0.51 else "V"
            birth = _birth_for(rng, year, grade)
            key = birth.isoformat()
            counters[key] = counters.get(key, 0) + 1
            counter = counters[key] * 2 - (1 if sex == "M" else 0)
            class_letter = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[i % classes % 26]
            pupils.append({
                "school_id": site.school_id,
                "pupil_number": f"{_number_prefix(site.school_id)}{number:04d}",
                "insz": insz_for(birth, counter),
                "last_name": rng.choice(LAST),
                "first_name": rng.choice(BOYS if sex == "M" else GIRLS),
                "birth_date": birth,
                "sex": sex,
                "class": _class_name(grade, class_letter, site.level),
                "grade": grade,
                "education": "gewoon",
            })
            number += 1
    return pupils


def _number_prefix(school_id: str) -> str:
    return f"{int(school_id) % 1000:03d}" if school_id.isdigit() else school_id[:4]


def _class_name(grade: str, letter: str, level: str) -> str:
    if grade.startswith("K"):
        return f"K{grade[1]}{letter}"
    return f"{grade[1]}{letter}"


def generate_home_education(year: SchoolYear, rng: random.Random, counters: dict, count: int = 14) -> list[dict]:
    pupils = []
    ages = [6, 6, 7, 9, 9, 10, 11, 11, 12, 12, 13, 14, 14, 16]
    for i in range(count):
        sex = "M" if rng.random() < 0.5 else "V"
        age = ages[i % len(ages)]
        birth = dt.date(year.start_year - age, 1, 1) + dt.timedelta(days=rng.randrange(365))
        key = birth.isoformat()
        counters[key] = counters.get(key, 0) + 1
        counter = counters[key] * 2 - (1 if sex == "M" else 0)
        pupils.append({
            "school_id": "HUISONDERWIJS", "pupil_number": f"H{i + 1:03d}", "insz": insz_for(birth, counter),
            "last_name": rng.choice(LAST), "first_name": rng.choice(BOYS if sex == "M" else GIRLS),
            "birth_date": birth, "sex": sex, "class": None, "grade": None, "education": "huisonderwijs",
        })
    return pupils


# --- history -------------------------------------------------------------------------------------


def generate_history(pupils: list[dict], year: SchoolYear, rng: random.Random) -> list[dict]:
    """Past contacts and doses (mostly done), this year's consent forms, a few objections and absences."""
    from clbhealth.protocols.model import load_protocol

    protocol = load_protocol("flanders")
    events: list[dict] = []
    y = year.start_year
    for p in pupils:
        birth_year = p["birth_date"].year

        def add(code: str, day: dt.date, status: str, staff: str = "") -> None:
            if day <= SAMPLE_HISTORY_UNTIL and day >= p["birth_date"]:
                events.append({"pupil": p, "code": code, "date": day, "status": status, "staff_id": staff})

        position = (y - birth_year - 3) if p["grade"] is None else GRADES.index(p["grade"])
        for rule in protocol.rules:
            if rule.follows or not rule.grades:
                continue
            target = GRADES.index(rule.grades[0])
            years_ago = position - target
            past_year = SchoolYear(y - years_ago)
            if years_ago <= 0 or not rule.in_force(past_year):
                continue
            chance = 0.93 if rule.kind == "contact" else 0.85
            if rng.random() < chance:
                day = past_year.first_day + dt.timedelta(days=30 + rng.randrange(200))
                add(rule.code, day, "done")
                if rule.code == "HPV1":
                    add("HPV2", day + dt.timedelta(days=160 + rng.randrange(30)), "done")
        # This school year: consent forms for the doses offered, and a first few contacts done.
        for rule in protocol.in_force(year):
            if not rule.is_vaccination or rule.follows:
                continue
            at_target = (p["grade"] in rule.grades) if p["grade"] else (y - birth_year == rule.age)
            if not at_target:
                continue
            roll = rng.random()
            form_day = dt.date(y, 9, 10) + dt.timedelta(days=rng.randrange(40))
            if roll < 0.62:
                add(rule.code, form_day, "consent_given")
                if rule.code == "HPV1" and rng.random() < 0.5:
                    add("HPV1", dt.date(y, 10, 19), "done")
            elif roll < 0.70:
                add(rule.code, form_day, "consent_refused")
        if p["grade"] == "K1" or (y - birth_year == 3):
            if rng.random() < 0.15:
                add("K1", dt.date(y, 10, 6) + dt.timedelta(days=rng.randrange(30)), "done")
        if rng.random() < 0.004 and p["grade"] in ("L1", "L4", "L6", "S3"):
            add(p["grade"], dt.date(y, 9, 20), "objected")
    return events


def build_samples(out: Path, seed: int = SAMPLE_SEED, year: SchoolYear = SAMPLE_YEAR) -> list[Path]:
    """Write the sample CLB: schools, one roster per site in rotating styles, home education, history."""
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    sites = sample_sites()
    written: list[Path] = []

    schools = out / "schools.csv"
    from clbhealth.samples.real_clb import write_official_list

    write_official_list(*sample_rows(), schools)  # as a CLB downloads the official list
    written.append(schools)

    counters: dict[str, int] = {}
    everyone: list[dict] = []
    leerid: set[str] = set()
    styles = ("wisa", "informat", "leerid", "tab")
    for i, site in enumerate(sites):
        pupils = generate_site_pupils(site, year, rng, counters)
        everyone.extend(pupils)
        style = "informat" if site.level == "secundair" else styles[i % len(styles)]
        slug = site.school_id
        if style == "wisa":
            path = out / f"roster-{slug}-wisa.csv"
            write_wisa_csv(pupils, path)
        elif style == "informat":
            path = out / f"roster-{slug}-informat.xlsx"
            write_informat_xlsx(pupils, path, f"Leerlingenlijst {site.name} {year}")
        elif style == "leerid":
            path = out / f"roster-{slug}-leerid.csv"
            write_leerid_csv(pupils, path)
            leerid.add(site.school_id)
        else:
            path = out / f"roster-{slug}-export.txt"
            write_tab_txt(pupils, path)
        written.append(path)
    home = generate_home_education(year, rng, counters)
    everyone.extend(home)
    path = out / "roster-HUISONDERWIJS.csv"
    write_home_education_csv(home, path)
    written.append(path)

    history = out / "history.csv"
    write_history_csv(generate_history(everyone, year, rng), history, leerid)
    written.append(history)
    written.extend(write_planning_samples(out, sites))
    return written


SAMPLE_OFFICE = {"name": "CLB-kantoor Herentals (voorbeeld)", "street": "Voorbeeldlaan 10", "postcode": "2200",
                 "municipality": "Herentals", "lat": 51.1766, "lon": 4.8323,
                 "phone": "014 00 00 00 (voorbeeld)", "email": "onthaal@clb-voorbeeld.invalid"}


def write_planning_samples(out: Path, sites: list[Site]) -> list[Path]:
    """Fictional staff (bases near real towns), their absences and some school closures."""
    from clbhealth.scheduler.travel import haversine_km

    ids = [s.school_id for s in sites]
    nurses = {"V01": (51.1766, 4.8323), "V02": (51.3227, 4.9447), "V03": (51.1320, 4.5680)}
    # Each school's fixed nurse is the one based nearest to it; home education is seen at the
    # office in Herentals, V01's base.
    fixed: dict[str, list[str]] = {n: [] for n in nurses}
    for site in sites:
        nearest = min(nurses, key=lambda n: (haversine_km(site.lat, site.lon, *nurses[n]), n))
        fixed[nearest].append(site.school_id)
    fixed["V01"].append("HUISONDERWIJS")
    staff = out / "staff.csv"
    rows = [
        ("V01", "An Verbeeck", "verpleegkundige", *nurses["V01"], "ma-vm ma-nm di-vm di-nm do-vm do-nm vr-vm",
         " ".join(fixed["V01"])),
        ("V02", "Koen Mertens", "verpleegkundige", *nurses["V02"], "ma-vm di-vm wo-vm do-vm do-nm vr-vm vr-nm",
         " ".join(fixed["V02"])),
        ("V03", "Sofie Wouters", "verpleegkundige", *nurses["V03"], "di-vm wo-vm do-vm vr-vm",
         " ".join(fixed["V03"])),
        ("A01", "Dr. Els Peeters", "arts", 51.1766, 4.8323, "ma-vm di-vm di-nm do-vm vr-vm", ""),
        ("A02", "Dr. Pieter Claes", "arts", 51.2140, 5.0840, "ma-vm wo-vm do-vm", ""),
    ]
    with open(staff, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\n")
        writer.writerow(["medewerker_id", "naam", "rol", "lat", "lon", "beschikbaarheid", "scholen"])
        writer.writerows(rows)
    absences = out / "absences.csv"
    with open(absences, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\n")
        writer.writerow(["medewerker_id", "van", "tot", "dagdeel"])
        writer.writerow(["V02", "11/01/2027", "22/01/2027", ""])
        writer.writerow(["A01", "03/12/2026", "03/12/2026", "vm"])
        writer.writerow(["A02", "15/03/2027", "19/03/2027", ""])
    closures = out / "closures.csv"
    with open(closures, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\n")
        writer.writerow(["instellingsnummer", "van", "tot", "reden"])
        writer.writerow([ids[0], "14/10/2026", "14/10/2026", "pedagogische studiedag"])
        writer.writerow([ids[4], "20/05/2027", "21/05/2027", "schoolreis"])
        writer.writerow([ids[-1], "22/03/2027", "26/03/2027", "projectweek"])
    return [staff, absences, closures]
