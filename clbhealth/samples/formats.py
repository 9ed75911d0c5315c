"""The sample files in the styles school and CLB software export them: WISA CSV (';', Windows-1252),
Informat XLSX (title rows), LeerID CSV (BOM, no INSZ), tab-separated text, home education, history."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from clbhealth.samples.year import SAMPLE_HISTORY_UNTIL, SAMPLE_YEAR


def write_wisa_csv(pupils: list[dict], path: Path) -> None:
    """Belgian-locale Excel CSV: ';', Windows-1252, dd/mm/yyyy, WISA headers."""
    with open(path, "w", encoding="cp1252", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        writer.writerow(["naam", "voornaam", "rijksregisternummer", "stamboeknummer", "geboortedatum", "geslacht",
                         "instellingsnummer", "klascode", "leerjaar", "schooljaar"])
        for p in pupils:
            writer.writerow([p["last_name"], p["first_name"], _dotted_insz(p["insz"]), p["pupil_number"],
                             p["birth_date"].strftime("%d/%m/%Y"), p["sex"], p["school_id"], p["class"],
                             _dutch_grade(p["grade"]), str(SAMPLE_YEAR)])


def write_informat_xlsx(pupils: list[dict], path: Path, title: str) -> None:
    """Informat-style workbook: a title row, English field names, Excel date cells, INSZ as numbers."""
    from openpyxl import Workbook

    workbook = Workbook()
    ws = workbook.active
    ws.title = "Leerlingen"
    ws["A1"] = title
    ws["A2"] = f"Afgedrukt op {SAMPLE_HISTORY_UNTIL:%d/%m/%Y}"
    ws.append([])
    ws.append(["lastName", "firstName", "dateOfBirth", "sex", "nationalRegistrationNo", "instituteNo",
               "studentNo", "departmentYear", "classGroup", "isOkan"])
    for row, p in enumerate(pupils, start=ws.max_row + 1):
        ws.append([p["last_name"], p["first_name"], p["birth_date"], p["sex"], int(p["insz"]), int(p["school_id"]),
                   p["pupil_number"], _informat_year(p["grade"]), p["class"], "nee"])
        ws.cell(row=row, column=3).number_format = "DD/MM/YYYY"
    stamp = dt.datetime(2026, 11, 27, 8, 0)
    workbook.properties.created = stamp
    workbook.properties.modified = stamp
    workbook.save(path)


def write_leerid_csv(pupils: list[dict], path: Path) -> None:
    """LeerID-style export: UTF-8 with BOM, ',', ISO dates, no INSZ, no school column, grade in the class."""
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=",", lineterminator="\n")
        writer.writerow(["Stamnummer", "Administratieve groep", "Voornaam", "Achternaam", "Geboortedatum", "Geslacht"])
        for p in pupils:
            writer.writerow([p["pupil_number"], p["class"], p["first_name"], p["last_name"],
                             p["birth_date"].isoformat(), p["sex"]])


def write_tab_txt(pupils: list[dict], path: Path) -> None:
    """A tab-separated UTF-8 export with a title line and a blank line above the header."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write("Leerlingenlijst\t\t\t\n\n")
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(["Instellingsnummer", "Leerlingnummer", "Rijksregisternummer", "Familienaam", "Voornaam",
                         "Geboortedatum", "Geslacht", "Klas", "Leerjaar"])
        for p in pupils:
            writer.writerow([p["school_id"], p["pupil_number"], p["insz"], p["last_name"], p["first_name"],
                             p["birth_date"].strftime("%d/%m/%Y"), {"M": "man", "V": "vrouw"}.get(p["sex"], "X"),
                             p["class"], p["grade"]])


def write_home_education_csv(pupils: list[dict], path: Path) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\n")
        writer.writerow(["school_id", "insz", "last_name", "first_name", "birth_date", "sex", "education"])
        for p in pupils:
            writer.writerow([p["school_id"], p["insz"], p["last_name"], p["first_name"],
                             p["birth_date"].strftime("%d/%m/%Y"), p["sex"], "huisonderwijs"])


def _informat_year(grade: str) -> str:
    """Secondary schools write the bare year ('3'); basic schools the Dutch form."""
    return grade[1] if grade.startswith("S") else _dutch_grade(grade)


def _dotted_insz(number: str) -> str:
    return f"{number[0:2]}.{number[2:4]}.{number[4:6]}-{number[6:9]}.{number[9:11]}"


def _dutch_grade(grade: str) -> str:
    n = int(grade[1])
    suffix = "ste" if n in (1, 8) else "de"
    if grade.startswith("K"):
        return f"{n}{suffix} kleuterklas"
    if grade.startswith("L"):
        return f"{n}{suffix} leerjaar"
    return f"{n}{suffix} jaar"


def write_history_csv(events: list[dict], path: Path, leerid_schools: set[str]) -> None:
    """History as the CLB's own system exports it: ';', dd/mm/yyyy, INSZ or school + pupil number."""
    words = {"done": "gedaan", "consent_given": "toestemming", "consent_refused": "geweigerd",
             "objected": "verzet", "absent": "afwezig", "done_external": "extern"}
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\n")
        writer.writerow(["rijksregisternummer", "instellingsnummer", "stamboeknummer", "code", "datum", "status",
                         "medewerker"])
        for e in sorted(events, key=lambda e: (e["date"], e["pupil"]["pupil_number"], e["code"])):
            p = e["pupil"]
            by_number = p["school_id"] in leerid_schools
            writer.writerow([
                "" if by_number else p["insz"],
                p["school_id"] if by_number else "",
                p["pupil_number"] if by_number else "",
                e["code"], e["date"].strftime("%d/%m/%Y"), words[e["status"]], e["staff_id"],
            ])
