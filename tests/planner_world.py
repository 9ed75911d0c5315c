"""Tiny planning worlds built the way a CLB planner builds them: `clbhealth init`, then CSV files
for schools, rosters (valid INSZ), staff, absences, closures and history, imported through the CLI.

Every solved plan is checked with `clbhealth plan check` (World.plan does it), so that each test
also proves the independent checker agrees with the solver.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from typer.testing import CliRunner

from clbhealth.samples.generator import insz_for
from tests.conftest import run

OFFICE = (51.1620, 4.9900)  # the CLB office (Geel)
SCHOOLS = {
    # id: (name, lat, lon, level)
    "100": ("Basisschool Een", 51.1700, 4.9800, "basis"),
    "200": ("Basisschool Twee", 51.1500, 5.0100, "basis"),
    "300": ("Atheneum Drie", 51.1800, 5.0200, "secundair"),
    "400": ("Basisschool Vier", 51.1400, 4.9700, "basis"),
    "500": ("Basisschool Vijf", 51.3300, 5.2500, "basis"),  # far from the others (about 25 km)
}
ROSTER_HEADER = ("instellingsnummer;stamboeknummer;rijksregisternummer;naam;voornaam;geboortedatum;geslacht;"
                 "klas;leerjaar\n")
GRADE_WORDS = {"K1": "1ste kleuterklas", "L1": "1ste leerjaar", "L4": "4de leerjaar", "S1": "1", "S2": "2",
               "S3": "3"}
# Birth years of pupils at the target grade in 2026-2027.
BORN = {"K1": 2023, "L1": 2020, "L4": 2017, "S1": 2014, "S2": 2013, "S3": 2012}


@dataclass
class Pupil:
    last: str
    first: str
    born: dt.date
    sex: str
    cls: str | None
    grade: str | None  # K1, L1, ..., S1 (None: no grade, e.g. home education)


def pupils(grade: str, n: int, *, prefix: str | None = None, cls: str | None = None) -> list[Pupil]:
    """n pupils of one class at `grade` (names prefix1, prefix2, ...), born in the grade's cohort."""
    prefix = prefix or grade
    year = BORN[grade]
    return [Pupil(f"{prefix}{i:02d}", "Kind", dt.date(year, 1 + (i % 12), 1 + (i % 27)), "MV"[i % 2],
                  cls or f"{grade}A", grade) for i in range(1, n + 1)]


@dataclass
class World:
    root: Path
    tmp: Path
    runner: CliRunner
    insz: dict[str, str] = field(default_factory=dict)  # last name -> INSZ
    _serial: int = 0
    _files: int = 0

    # --- building ------------------------------------------------------------------------------

    def _write(self, stem: str, text: str) -> Path:
        self._files += 1
        path = self.tmp / f"{self._files:02d}-{stem}.csv"
        path.write_text(text, encoding="utf-8")
        return path

    def cli(self, *args, code: int | None = 0):
        return run(self.runner, *args, "-w", self.root, code=code)

    def set_config(self, old: str, new: str) -> None:
        config = self.root / "clbhealth.toml"
        text = config.read_text(encoding="utf-8")
        assert old in text, old
        config.write_text(text.replace(old, new, 1), encoding="utf-8")

    def schools(self, *ids: str) -> None:
        lines = ["school_id;name;street;postcode;municipality;lat;lon;level"]
        for school_id in ids:
            name, lat, lon, level = SCHOOLS[school_id]
            lines.append(f"{school_id};{name};Straat {school_id};2440;Geel;{lat};{lon};{level}")
        self.cli("import", "schools", self._write("schools", "\n".join(lines) + "\n"))

    def roster(self, school: str, people: list[Pupil]) -> None:
        """A school's whole roster (it replaces what the workspace knows of that school)."""
        if school == "HUISONDERWIJS":
            text = "school_id;insz;last_name;first_name;birth_date;sex;education\n"
            for p in people:
                text += (f"HUISONDERWIJS;{self._insz(p)};{p.last};{p.first};{p.born:%d/%m/%Y};{p.sex};"
                         "huisonderwijs\n")
        else:
            text = ROSTER_HEADER
            for n, p in enumerate(people, start=1):
                text += (f"{school};{school}{n:04d};{self._insz(p)};{p.last};{p.first};{p.born:%d/%m/%Y};{p.sex};"
                         f"{p.cls};{GRADE_WORDS[p.grade]}\n")
        self.cli("import", "roster", self._write(f"roster-{school}", text))

    def _insz(self, p: Pupil) -> str:
        if p.last not in self.insz:
            self._serial += 1
            self.insz[p.last] = insz_for(p.born, 2 * self._serial + (1 if p.sex == "M" else 0))
        return self.insz[p.last]

    def staff(self, *rows: tuple) -> None:
        """Rows (id, role, availability, fixed schools[, lat, lon]); the base defaults to the office."""
        text = "medewerker_id;naam;rol;lat;lon;beschikbaarheid;scholen\n"
        for row in rows:
            staff_id, role, availability, fixed = row[:4]
            lat, lon = row[4:6] if len(row) > 4 else OFFICE
            text += f"{staff_id};Medewerker {staff_id};{role};{lat};{lon};{availability};{fixed}\n"
        self.cli("import", "staff", self._write("staff", text))

    def absences(self, *rows: tuple[str, str, str, str]) -> None:
        """Rows (staff id, from, to, part: '' | 'vm' | 'nm'), dates dd/mm/yyyy."""
        text = "medewerker_id;van;tot;dagdeel\n" + "".join(";".join(r) + "\n" for r in rows)
        self.cli("import", "absences", self._write("absences", text))

    def closures(self, *rows: tuple[str, str, str, str]) -> None:
        """Rows (school id, from, to, part), dates dd/mm/yyyy."""
        text = "instellingsnummer;van;tot;dagdeel;reden\n" + "".join(";".join(r) + ";studiedag\n" for r in rows)
        self.cli("import", "closures", self._write("closures", text))

    def history(self, *rows: tuple[str, str, str, str, str]) -> None:
        """Rows (pupil last name, code, date dd/mm/yyyy, status, staff id)."""
        text = "rijksregisternummer;code;datum;status;medewerker\n"
        text += "".join(f"{self.insz[last]};{code};{day};{status};{staff}\n" for last, code, day, status, staff in rows)
        self.cli("import", "history", self._write("history", text))

    # --- planning ------------------------------------------------------------------------------

    def plan(self, *extra, as_of: str = "2026-09-01", time_limit: float = 1, code: int = 0, check: bool = True):
        """`clbhealth plan` with a small budget and one worker; then `plan check` must pass."""
        result = self.cli("plan", "--as-of", as_of, "--time-limit", time_limit, "--workers", 1, *extra, code=code)
        if code == 0:
            assert "Traceback" not in result.output
            if check:
                self.check()
        return result

    def check(self) -> None:
        result = self.cli("plan", "check")
        assert "keeps every hard rule" in result.output, result.output

    # --- reading the plan ----------------------------------------------------------------------

    def connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.root / "clbhealth.sqlite")
        conn.row_factory = sqlite3.Row
        return conn

    def shown(self) -> list[dict]:
        """`plan show --format json`."""
        return json.loads(self.cli("plan", "show", "--format", "json").stdout)

    def sessions(self) -> list[dict]:
        """Sessions with part, staff {role: id} and pupil-moments [(last name, moment)], in time order."""
        with self.connect() as conn:
            rows = [dict(r) for r in conn.execute("SELECT * FROM sessions ORDER BY date, part, session_id")]
            for s in rows:
                s["staff"] = {r["role"]: r["staff_id"] for r in conn.execute(
                    "SELECT role, staff_id FROM session_staff WHERE session_id = ?", (s["session_id"],))}
                s["pupils"] = [(r["last_name"], r["moment"]) for r in conn.execute(
                    "SELECT p.last_name, sp.moment FROM session_pupils sp JOIN pupils p USING (pupil_id) "
                    "WHERE sp.session_id = ? ORDER BY sp.seq", (s["session_id"],))]
                s["day"] = dt.date.fromisoformat(s["date"])
                s["moments"], s["classes"] = json.loads(s["moments"]), json.loads(s["classes"])
        return rows

    def unplanned(self) -> list[dict]:
        """The current plan's unplanned pupil-moments: last name, moment, school, reason."""
        with self.connect() as conn:
            plan_id = conn.execute("SELECT max(plan_id) FROM plans").fetchone()[0]
            return [dict(r) for r in conn.execute(
                "SELECT p.last_name, u.moment, u.school_id, u.reason FROM unplanned u JOIN pupils p USING (pupil_id) "
                "WHERE u.plan_id = ? ORDER BY p.last_name, u.moment", (plan_id,))]

    def summary(self) -> dict:
        with self.connect() as conn:
            return json.loads(conn.execute("SELECT summary FROM plans ORDER BY plan_id DESC LIMIT 1").fetchone()[0])

    def pupil_id(self, last: str) -> int:
        with self.connect() as conn:
            return conn.execute("SELECT pupil_id FROM pupils WHERE last_name = ?", (last,)).fetchone()[0]


def make_world(tmp_path: Path, runner: CliRunner, *schools: str, office: tuple[float, float] = OFFICE) -> World:
    """`clbhealth init` (office position set) and the given schools."""
    root = tmp_path / "ws"
    run(runner, "init", root, "--name", "CLB Proef", "--school-year", "2026-2027")
    world = World(root, tmp_path, runner)
    world.set_config("# lat = 51.0", f"lat = {office[0]}")
    world.set_config("# lon = 4.4", f"lon = {office[1]}")
    # The tiny worlds test one rule each from the as-of day; the notice period has its own tests.
    world.set_config("notice_school_days = 10", "notice_school_days = 0")
    if schools:
        world.schools(*schools)
    return world
