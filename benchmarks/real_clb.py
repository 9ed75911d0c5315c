"""The real-CLB benchmark instance: the sites of CLB 114975 (Kempen: Turnhout, Geel, Mol,
Herentals) from the official school list, as many fictional pupils per institution as it really
has, staff at the staffing norm working from three offices, built through the product's own
commands (`init`, `import schools --clb`, `import roster`, `import history`, `import staff`, `import absences`,
`import closures`) exactly as a CLB planner would.

Staffing norm: a doctor per 7,200 pupils, a nurse per 5,000 (rounded up). Most people share one of
the three offices as their base (the same coordinates: ties a planner must cope with).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from pathlib import Path

from typer.testing import CliRunner

from clbhealth.cli.main import app
from clbhealth.samples.real_clb import build_real_clb as write_real_clb
from clbhealth.workspace.folder import Workspace

CLB = "114975"
SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
OFFICES = {"Turnhout": (51.3227, 4.9447), "Geel": (51.1620, 4.9900), "Mol": (51.1911, 5.1166)}
NURSE_DAYS = ("ma-vm ma-nm di-vm do-vm do-nm vr-vm", "ma-vm di-vm di-nm wo-vm do-vm vr-vm",
              "ma-vm ma-nm di-vm wo-vm do-vm vr-vm vr-nm", "di-vm di-nm wo-vm do-vm vr-vm")
DOCTOR_DAYS = ("ma-vm di-vm do-vm vr-vm", "ma-vm ma-nm di-vm wo-vm do-vm", "di-vm wo-vm do-vm do-nm vr-vm")


def _cli(*args) -> None:
    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exit_code not in (0, 3):
        raise RuntimeError(f"clbhealth {' '.join(map(str, args))} failed ({result.exit_code}):\n{result.output}")


def staff_rows(pupils: int, rng: random.Random) -> list[str]:
    """Staff at the norm, most of them based at one of the offices."""
    doctors, nurses = math.ceil(pupils / 7200), math.ceil(pupils / 5000)
    offices = list(OFFICES.values())
    rows = ["staff_id;naam;rol;base_lat;base_lon;beschikbaarheid"]
    for i in range(doctors):
        lat, lon = offices[i % len(offices)]
        rows.append(f"A{i + 1:02d};Dokter {i + 1};arts;{lat};{lon};{DOCTOR_DAYS[i % len(DOCTOR_DAYS)]}")
    for i in range(nurses):
        lat, lon = offices[i % len(offices)]
        if i >= nurses - 2:  # two work from home
            lat, lon = lat + rng.uniform(-0.08, 0.08), lon + rng.uniform(-0.1, 0.1)
        rows.append(f"V{i + 1:02d};Verpleegkundige {i + 1};verpleegkundige;{lat:.5f};{lon:.5f};"
                    f"{NURSE_DAYS[i % len(NURSE_DAYS)]}")
    return rows


def build_real_clb(root: Path, seed: int = 7) -> Workspace:
    """The workspace of the real-CLB instance in `root` (files written beside it)."""
    rng = random.Random(seed)
    files = root.parent / "files"
    written = write_real_clb(SHARED / "flanders_schools_onderwijsaanbod.csv", SHARED / "flanders_school_pupils.csv",
                             CLB, seed, files)
    print(f"real CLB {CLB}: {written.institutions} institutions, {written.pupils:,} fictional pupils "
          f"({len(written.estimated)} sizes estimated)")
    _cli("init", root, "--name", "CLB Kempen (benchmark)", "--school-year", "2026-2027")
    text = (root / "clbhealth.toml").read_text(encoding="utf-8")
    lat, lon = OFFICES["Geel"]
    (root / "clbhealth.toml").write_text(text.replace("# lat = 51.0", f"lat = {lat}").replace("# lon = 4.4", f"lon = {lon}"),
                                         encoding="utf-8")
    _cli("import", "schools", written.school_list, "--clb", CLB, "-w", root)
    _cli("import", "roster", *written.rosters, "-w", root, "--skip-invalid")
    _cli("import", "history", written.history, "-w", root)
    staff = staff_rows(written.pupils, rng)
    (files / "staff.csv").write_text("\n".join(staff) + "\n", encoding="utf-8")
    _cli("import", "staff", files / "staff.csv", "-w", root)
    absences = ["staff_id;van;tot"]
    for row in staff[1:]:
        if rng.random() < 0.5:
            start = dt.date(2026, 9, 1) + dt.timedelta(days=rng.randrange(270))
            absences.append(f"{row.split(';')[0]};{start:%d/%m/%Y};{start + dt.timedelta(days=rng.randint(0, 9)):%d/%m/%Y}")
    (files / "absences.csv").write_text("\n".join(absences) + "\n", encoding="utf-8")
    _cli("import", "absences", files / "absences.csv", "-w", root)
    closures = ["school_id;van;tot;reden"]
    listed = CliRunner().invoke(app, ["schools", "-w", str(root), "--format", "json"])
    for site in sorted(row["school_id"] for row in json.loads(listed.stdout)):
        day = dt.date(2026, 9, 1) + dt.timedelta(days=rng.randrange(280))
        closures.append(f"{site};{day:%d/%m/%Y};{day:%d/%m/%Y};pedagogische studiedag")
    (files / "closures.csv").write_text("\n".join(closures) + "\n", encoding="utf-8")
    _cli("import", "closures", files / "closures.csv", "-w", root)
    print(f"staff at the norm: {staff[1:].__len__()} people ({sum(1 for r in staff if ';arts;' in r)} doctors), "
          f"bases at {', '.join(OFFICES)}")
    return Workspace.open(root)
