"""Benchmark: importing a 50,000-row XLSX roster in the Informat style.

    python benchmarks/bench_import.py [--rows N] [--keep DIR]

Writes an Informat-style workbook (title rows, English field names, Excel date cells, INSZ as
numbers) with seeded fictional pupils of a few dozen large schools, creates a workspace, imports
the schools, then times `clbhealth import roster FILE -w DIR` as a subprocess, twice: the first
import (all new) and a re-import of the same file (all unchanged). Target (issue): < 20 s.
No assertions: figures only.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import header, remove, row, run_cli  # noqa: E402

from clbhealth.core.dates import SchoolYear  # noqa: E402
from clbhealth.imports.schools import import_schools  # noqa: E402
from clbhealth.samples.generator import (  # noqa: E402
    SAMPLE_HISTORY_UNTIL,
    Site,
    _informat_year,
    generate_site_pupils,
)
from clbhealth.workspace.folder import Workspace  # noqa: E402

YEAR = SchoolYear(2026)
SEED = 50_000
TARGET_SECONDS = 20
# generate_site_pupils puts at most 8 classes of 24 in a grade ("ABCDEFGH"), so a site may have
# at most ~190 pupils per grade: 1,400 for a basic school (9 grades), 1,000 for a secondary (6).
BASIC_PUPILS, SECONDARY_PUPILS = 1_400, 1_000


def make_sites(rows: int) -> list[Site]:
    """Enough large sites for `rows` pupils: three basic schools for each secondary one."""
    sites: list[Site] = []
    total = 0
    i = 0
    while total < rows * 1.1:
        secondary = i % 4 == 3
        school_id = f"{(310_000 if secondary else 300_000) + i:06d}"
        level, pupils = ("secundair", SECONDARY_PUPILS) if secondary else ("basis", BASIC_PUPILS)
        sites.append(Site(school_id, f"Benchmarkschool {school_id}", f"Schoolstraat {i + 1}", "2000",
                          "Antwerpen", 51.2, 4.4, level, pupils, fictional=True))
        total += pupils
        i += 1
    return sites


def make_pupils(sites: list[Site], rows: int) -> list[dict]:
    rng = random.Random(SEED)
    counters: dict[str, int] = {}
    pupils: list[dict] = []
    for site in sites:
        pupils.extend(generate_site_pupils(site, YEAR, rng, counters))
    if len(pupils) < rows:
        raise SystemExit(f"generated only {len(pupils)} pupils for {rows} rows")
    return pupils[:rows]


def write_informat_xlsx_fast(pupils: list[dict], path: Path, title: str) -> None:
    """The same workbook as generator.write_informat_xlsx, streamed (write-only mode).

    generator.write_informat_xlsx calls `ws.max_row` for every row, which openpyxl computes over
    all cells so far: quadratic, more than 10 minutes for 50,000 rows. Same cells, same layout here.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    ws = workbook.create_sheet("Leerlingen")
    ws.append([title])
    ws.append([f"Afgedrukt op {SAMPLE_HISTORY_UNTIL:%d/%m/%Y}"])
    ws.append([])
    ws.append(["lastName", "firstName", "dateOfBirth", "sex", "nationalRegistrationNo", "instituteNo",
               "studentNo", "departmentYear", "classGroup", "isOkan"])
    for p in pupils:
        birth = WriteOnlyCell(ws, value=p["birth_date"])
        birth.number_format = "DD/MM/YYYY"
        ws.append([p["last_name"], p["first_name"], birth, p["sex"], int(p["insz"]), int(p["school_id"]),
                   p["pupil_number"], _informat_year(p["grade"]), p["class"], "nee"])
    workbook.save(path)


def write_schools_csv(sites: list[Site], path: Path) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["schoolnummer", "naam", "straat_huisnr", "postcode", "gemeente", "lat", "lon",
                         "instellingstype"])
        for s in sites:
            writer.writerow([s.school_id, s.name, s.street, s.postcode, s.municipality, s.lat, s.lon,
                             "Secundaire school" if s.level == "secundair" else "Basisschool"])


def totals_line(stdout: str) -> str:
    for line in reversed(stdout.splitlines()):
        if line.startswith(("Imported roster", "Dry run")):
            return line.strip()
    return "(no totals line)"


def counts(line: str) -> dict[str, int]:
    return {word: int(n) for n, word in re.findall(r"(\d+) (\w+)", line)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=50_000, help="roster rows (default 50,000)")
    parser.add_argument("--keep", type=Path, help="build the workspace and files in DIR and keep them")
    args = parser.parse_args()
    if args.keep:
        base = args.keep.expanduser().resolve()
        base.mkdir(parents=True, exist_ok=True)
        cleanup = None
    else:
        cleanup = base = Path(tempfile.mkdtemp(prefix="clbhealth-bench-import-"))
    print(f"clbhealth roster import benchmark: {args.rows:,} rows, Informat-style XLSX, school year {YEAR}")
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}")
    print(f"folder: {base}")
    try:
        return run(base, args.rows)
    finally:
        if cleanup is not None:
            remove(cleanup)


def run(base: Path, rows: int) -> int:
    root = base / "workspace"
    roster = base / "roster-informat.xlsx"
    schools_csv = base / "schools.csv"

    t0 = time.perf_counter()
    sites = make_sites(rows)
    pupils = make_pupils(sites, rows)
    used = sorted({p["school_id"] for p in pupils})
    sites = [s for s in sites if s.school_id in used]
    t1 = time.perf_counter()
    write_informat_xlsx_fast(pupils, roster, f"Leerlingenlijst benchmark {YEAR}")
    t2 = time.perf_counter()
    workspace = Workspace.create(root, "Bench", YEAR)
    write_schools_csv(sites, schools_csv)
    imported = import_schools(workspace, schools_csv)
    t3 = time.perf_counter()
    print(f"setup: {len(pupils):,} pupils of {len(sites)} schools generated in {t1 - t0:.1f} s; "
          f"XLSX written in {t2 - t1:.1f} s ({roster.stat().st_size / 2**20:.1f} MB); "
          f"workspace + {imported.totals.get('new', 0)} schools imported in {t3 - t2:.1f} s")
    print()
    print(header())

    status = 0
    results = []
    for label in ("first import (all new)", "re-import, same file"):
        cli = run_cli(["import", "roster", str(roster), "-w", str(root)])
        line = totals_line(cli.stdout)
        if cli.returncode != 0:
            print(row(f"clbhealth import roster: {label}", "FAILED", cli.seconds, cli.peak_mb,
                      f"exit {cli.returncode}"))
            print((cli.stderr or cli.stdout).strip()[-3000:])
            status = 1
            break
        c = counts(line)
        n = sum(c.get(k, 0) for k in ("new", "updated", "unchanged", "moved"))
        print(row(f"clbhealth import roster: {label}", n, cli.seconds, cli.peak_mb, line))
        results.append((label, cli, c))
        if cli.stderr.strip():
            print("    stderr: " + cli.stderr.strip().splitlines()[-1])
    print()
    if len(results) == 2:
        second = results[1][2]
        changed = {k: v for k, v in second.items() if k != "unchanged" and v}
        print("re-import: " + ("all unchanged" if not changed else f"NOT all unchanged: {second}"))
    for label, cli, _ in results:
        verdict = "within" if cli.seconds < TARGET_SECONDS else "NOT within"
        print(f"target < {TARGET_SECONDS} s: {label} took {cli.seconds:.2f} s ({verdict} target), "
              f"peak {cli.peak_mb:,.0f} MB")
    return status


if __name__ == "__main__":
    sys.exit(main())
