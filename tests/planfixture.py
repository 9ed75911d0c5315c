"""A small workspace with a plan inserted straight into the plan tables (the planner's contract).

Two schools and home education, three staff, five sessions in October 2026:

    S000001  di 6/10/2026 vm  100  K1            N01                 K1 pupils, individual times
    S000002  di 6/10/2026 nm  100  L1, DTPa-IPV  N01 + D01           L1 pupils, two moments each
    S000003  do 8/10/2026 vm  100  L4, MMR2      N01 + D01
    S000004  di 13/10/2026 vm 200  HPV1          D01 (catch-up kind)
    S000005  wo 14/10/2026 vm HUISONDERWIJS L1   N01                 at the CLB office
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from clbhealth.core.dates import SchoolYear
from clbhealth.imports.roster import import_roster
from clbhealth.imports.schools import import_schools
from clbhealth.samples.generator import insz_for
from clbhealth.workspace.folder import Workspace

YEAR = SchoolYear(2026)
CREATED = "2026-09-20T10:00:00+02:00"
CLB_NAME = "CLB Kempen & Zorg"
FORMULA_NAME = '=HYPERLINK("http://evil.example","klik")'

# (school, number, last, first, birth, sex, class, grade)
PUPILS = [
    ("100", "1", "Claes", "Tuur", dt.date(2023, 2, 1), "M", "K1A", "1ste kleuterklas"),
    ("100", "2", "Aerts", "Mila", dt.date(2023, 5, 9), "V", "K1A", "1ste kleuterklas"),
    ("100", "3", "Janssens", "Lou", dt.date(2023, 11, 20), "M", "K1A", "1ste kleuterklas"),
    ("100", "4", "Peeters", "Jan", dt.date(2020, 3, 5), "M", "1A", "1ste leerjaar"),
    ("100", "5", "Maes", "Zoë", dt.date(2020, 6, 7), "V", "1A", "1ste leerjaar"),
    ("100", "6", "Wouters", "Noah", dt.date(2020, 9, 17), "M", "1A", "1ste leerjaar"),
    ("100", "7", "Jacobs", "Lina", dt.date(2017, 4, 2), "V", "4A", "4de leerjaar"),
    ("100", "8", "Mertens", "Finn", dt.date(2017, 8, 30), "M", "4A", "4de leerjaar"),
    ("200", "11", "Willems", "Emma", dt.date(2014, 1, 15), "V", "1A", "1"),
    ("200", "12", "Goossens", "Lars", dt.date(2014, 7, 4), "M", "1B", "1"),
]
HOME = ("HUISONDERWIJS", None, "Hendrickx", "Tuur", dt.date(2020, 7, 25), "M", None, None)


@dataclass
class PlanWorld:
    workspace: Workspace
    pupils: dict[str, int] = field(default_factory=dict)  # last name -> pupil id
    insz: dict[str, str] = field(default_factory=dict)  # last name -> INSZ

    @property
    def root(self) -> Path:
        return self.workspace.root


def build_plan_workspace(tmp_path: Path) -> PlanWorld:
    ws = Workspace.create(tmp_path / "ws", CLB_NAME, YEAR)
    config = ws.root / "clbhealth.toml"
    text = config.read_text(encoding="utf-8")
    text = text.replace('street = ""', 'street = "Markt 1"').replace('postcode = ""', 'postcode = "2440"')
    text = text.replace('municipality = ""', 'municipality = "Geel"').replace("# lat = 51.0", "lat = 51.16")
    text = text.replace("# lon = 4.4", "lon = 4.99")
    config.write_text(text, encoding="utf-8")
    ws = Workspace.open(ws.root)

    schools = tmp_path / "schools.csv"
    schools.write_text(
        "school_id;name;street;postcode;municipality;lat;lon;level\n"
        "100;Basisschool Een;Kerkstraat 1;2000;Antwerpen;51.2194;4.4025;basis\n"
        "200;Atheneum Twee;Schoolstraat 2;2500;Lier;51.1315;4.5700;secundair\n", encoding="utf-8")
    import_schools(ws, schools)
    world = PlanWorld(ws)
    header = "instellingsnummer;stamboeknummer;rijksregisternummer;naam;voornaam;geboortedatum;geslacht;klas;leerjaar\n"
    for school in ("100", "200"):
        lines = []
        for n, (sid, number, last, first, born, sex, cls, grade) in enumerate(PUPILS, start=1):
            if sid != school:
                continue
            insz = insz_for(born, 2 * n + (1 if sex == "M" else 0))
            world.insz[last] = insz
            lines.append(f"{sid};{number};{insz};{last};{first};{born:%d/%m/%Y};{sex};{cls};{grade}\n")
        path = tmp_path / f"roster-{school}.csv"
        path.write_text(header + "".join(lines), encoding="utf-8")
        import_roster(ws, [path])
    _, _, last, first, born, sex, _, _ = HOME
    world.insz[last + "-home"] = insz_for(born, 41)
    home = tmp_path / "roster-home.csv"
    home.write_text("school_id;insz;last_name;first_name;birth_date;sex;education\n"
                    f"HUISONDERWIJS;{insz_for(born, 41)};{last};{first};{born:%d/%m/%Y};{sex};huisonderwijs\n",
                    encoding="utf-8")
    import_roster(ws, [home])

    with ws.writing("test plan") as session:
        conn = session.conn
        for row in conn.execute("SELECT pupil_id, last_name, school_id FROM pupils"):
            key = row["last_name"] + ("-home" if row["school_id"] == "HUISONDERWIJS" else "")
            world.pupils[key] = row["pupil_id"]
        stamp = CREATED
        conn.executemany(
            "INSERT INTO staff (staff_id, name, role, base_lat, base_lon, availability, schools, active, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)",
            [("N01", "An Peeters", "nurse", 51.2, 4.5, "mon-am mon-pm tue-am tue-pm wed-am thu-am", "100", stamp),
             ("D01", "Dr. Bart Claes", "doctor", 51.1, 4.6, "tue-pm thu-am", "", stamp),
             ("N02", "Els Wouters", "nurse", 51.3, 4.8, "fri-am fri-pm", "200", stamp)])
        conn.execute("INSERT INTO plans (plan_id, created_at, date_from, date_to, seed, time_limit, workers) "
                     "VALUES (1, ?, '2026-10-01', '2027-06-30', 1, 10, 1)", (stamp,))
        p = world.pupils
        add_session(conn, "S000001", "2026-10-06", "am", "08:30", "09:45", "100", ["K1"], ["K1A"],
                    [("N01", "nurse", 24.8, 18)],
                    [(p["Janssens"], "K1", 20, "08:45"), (p["Claes"], "K1", 20, "09:05"), (p["Aerts"], "K1", 20, "09:25")])
        add_session(conn, "S000002", "2026-10-06", "pm", "13:15", "15:00", "100", ["L1", "DTPa-IPV"], ["1A"],
                    [("N01", "nurse", 24.8, 18), ("D01", "doctor", 40.0, 30)],
                    [(p[n], m, mins, t) for n, t in (("Peeters", "13:30"), ("Maes", "13:50"), ("Wouters", "14:10"))
                     for m, mins in (("L1", 15), ("DTPa-IPV", 5))])
        add_session(conn, "S000003", "2026-10-08", "am", "08:30", "09:45", "100", ["L4", "MMR2"], ["4A"],
                    [("N01", "nurse", 24.8, 18), ("D01", "doctor", 40.0, 30)],
                    [(p[n], m, mins, t) for n, t in (("Jacobs", "08:45"), ("Mertens", "09:00"))
                     for m, mins in (("L4", 10), ("MMR2", 5))])
        add_session(conn, "S000004", "2026-10-13", "am", "09:00", "09:45", "200", ["HPV1"], ["1A", "1B"],
                    [("D01", "doctor", 61.5, 42)],
                    [(p["Willems"], "HPV1", 5, "09:15"), (p["Goossens"], "HPV1", 5, "09:20")], kind="catch_up")
        add_session(conn, "S000005", "2026-10-14", "am", "10:00", "10:30", "HUISONDERWIJS", ["L1"], [],
                    [("N01", "nurse", 10.2, 9)], [(p["Hendrickx-home"], "L1", 15, "10:15")])
    return world


def add_session(conn, session_id, day, part, start, end, school, moments, classes, staff, pupils, *,
                kind="regular", plan_id=1, created=CREATED) -> None:
    minutes = 15 + sum(m for _, _, m, _ in pupils)
    conn.execute(
        "INSERT INTO sessions (session_id, plan_id, date, part, start, end, school_id, minutes, moments, classes, "
        "kind, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (session_id, plan_id, day, part, start, end, school, minutes, json.dumps(moments), json.dumps(classes),
         kind, created))
    conn.executemany("INSERT INTO session_staff (session_id, staff_id, role, travel_km, travel_minutes) "
                     "VALUES (?, ?, ?, ?, ?)", [(session_id, *s) for s in staff])
    conn.executemany("INSERT INTO session_pupils (session_id, pupil_id, moment, minutes, seq, start) "
                     "VALUES (?, ?, ?, ?, ?, ?)",
                     [(session_id, pid, moment, mins, seq, t) for seq, (pid, moment, mins, t) in enumerate(pupils, 1)])


def plant_canaries(world: PlanWorld) -> list[str]:
    """Put a recognisable value in every field a school must never see; return what to search for."""
    ws = world.workspace
    p = world.pupils
    with ws.writing("test canaries") as session:
        conn = session.conn
        conn.execute("UPDATE pupils SET pupil_number = 'KANARIE-PNR-' || pupil_id")
        conn.execute("UPDATE pupils SET education = 'KANARIE-EDU' WHERE pupil_id = ?", (p["Jacobs"],))
        conn.execute("UPDATE pupils SET first_name = ? WHERE pupil_id = ?", (FORMULA_NAME, p["Mertens"]))
        stamp = CREATED
        events = [
            (p["Peeters"], "DTPa-IPV", "2026-09-15", "consent_given", "KANARIE-STAFF-1", "KANARIE-SRC-1"),
            (p["Maes"], "DTPa-IPV", "2026-09-16", "consent_refused", "KANARIE-STAFF-2", "KANARIE-SRC-2"),
            (p["Wouters"], "L1", "2026-09-17", "objected", "KANARIE-STAFF-3", "KANARIE-SRC-3"),
            (p["Jacobs"], "MMR2", "2026-09-18", "consent_given", "", "KANARIE-SRC-4"),
            (p["Claes"], "K1", "2025-05-02", "absent", "KANARIE-STAFF-5", "KANARIE-SRC-5"),
        ]
        conn.executemany("INSERT INTO events (pupil_id, code, date, status, staff_id, source, imported_at) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?)", [(*e, stamp) for e in events])
        conn.execute("INSERT INTO closures (school_id, date_from, date_to, part, reason, imported_at) "
                     "VALUES ('100', '2026-10-07', '2026-10-07', NULL, 'KANARIE-CLOSURE', ?)", (stamp,))
        conn.execute("INSERT INTO unplanned (plan_id, pupil_id, moment, school_id, reason) "
                     "VALUES (1, ?, 'L4', '100', 'KANARIE-UNPLANNED')", (p["Mertens"],))
        conn.execute("UPDATE plans SET summary = '{\"note\": \"KANARIE-PLAN\"}'")
        conn.execute("UPDATE staff SET schools = 'KANARIE-SCHOOLS' WHERE staff_id = 'N02'")
        conn.execute("UPDATE session_pupils SET outcome = 'refused' WHERE pupil_id = ? AND moment = 'DTPa-IPV'", (p["Maes"],))
        conn.execute("UPDATE session_pupils SET outcome = 'objected' WHERE pupil_id = ? AND moment = 'L1'", (p["Wouters"],))
        conn.execute("UPDATE session_pupils SET outcome = 'absent' WHERE pupil_id = ?", (p["Aerts"],))
    inszs = list(world.insz.values())
    dotted = [f"{n[:2]}.{n[2:4]}.{n[4:6]}-{n[6:9]}.{n[9:]}" for n in inszs]
    words = ["KANARIE", "toestemming", "consent", "weiger", "geweigerd", "verzet", "objected", "refused",
             "afwezig", "absent"]
    return inszs + dotted + words


def all_cells(path: Path) -> list[str]:
    """Every cell of every sheet of a workbook (or every field of a CSV/JSON/text file), as text."""
    if path.suffix == ".xlsx":
        from openpyxl import load_workbook

        workbook = load_workbook(path)
        out = []
        for ws in workbook.worksheets:
            for row in ws.iter_rows():
                out.extend(str(c.value) for c in row if c.value is not None)
            out += [ws.oddHeader.left.text or "", ws.oddHeader.right.text or "", ws.title]
        return out
    return re.split(r"[;\n]", path.read_text(encoding="utf-8-sig"))
