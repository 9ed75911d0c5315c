"""Crashes, concurrency and permissions: what cron and a busy CLB office do to a workspace.

Kill tests: a command runs as `python -m clbhealth ...` in a subprocess and is killed with SIGKILL,
after short random delays and right inside its write transaction (the moment it holds the
workspace lock, or its output's temporary file appears). Afterwards the workspace must open, pass
`PRAGMA integrity_check` and `foreign_key_check`, hold exactly the old or exactly the new state,
have an audit row only for a finished command, leave no partial output file, and running the
command again must give the new state.

To cover another command, add a KillCase to KILL_CASES (with `needs=` naming the CLI command, so
the case runs once that command exists): `prepare` builds its inputs and returns the arguments,
`state` reads what the command changes, `output` names the file (or folder) it writes, `base` the
workspace it starts from. Files written are compared with those of an unkilled reference run.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from clbhealth.samples.generator import insz_for
from tests.conftest import run

PUPILS = 3_000
SEED = 5
SCHOOLS = ("school_id;name;level\n100;Basisschool Een;basis\n200;Atheneum Twee;secundair\n"
           "300;Kleuterschool Drie;kleuter\n")
HEADER = "instellingsnummer;stamboeknummer;rijksregisternummer;naam;voornaam;geboortedatum;geslacht;klas;leerjaar"
FIGURES: dict[str, int] = {"runs killed": 0, "killed inside the write": 0, "old state after kill": 0,
                           "new state after kill": 0, "some files whole, none partial": 0,
                           "finished before the kill": 0, "reruns": 0}


# --- data ----------------------------------------------------------------------------------------


def pupil_line(i: int, cls_suffix: str = "A") -> str:
    """Pupil i: schools 100 (L1-L6) and 200 (S1-S6); a unique valid INSZ for each i below 30,000."""
    school, grade = (100, (i // 2) % 6 + 1) if i % 2 == 0 else (200, (i // 2) % 6 + 1)
    year = (2021 - grade) if school == 100 else (2014 - grade + 1)
    born = dt.date(year, 1, 1) + dt.timedelta(days=(i // 12) % 300)
    male = (i // 12) % 2 == 0
    counter = 2 * (i // 3600) + (1 if male else 2)
    level = "L" if school == 100 else "S"
    return ";".join([str(school), str(i), insz_for(born, counter), f"Naam{i}", f"Kind{i}", born.strftime("%d/%m/%Y"),
                     "M" if male else "V", f"{grade}{cls_suffix}", f"{level}{grade}"])


def write_roster(path: Path, ids, changed=()) -> Path:
    changed = set(changed)
    lines = [HEADER] + [pupil_line(i, "B" if i in changed else "A") for i in ids]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def base_ids() -> list[int]:
    return [i for i in range(PUPILS) if i % 7]  # every 7th pupil has left (imported, then missing)


# --- a workspace to start from (built once per module, copied for each run) ----------------------


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    from clbhealth.core.dates import SchoolYear
    from clbhealth.imports.roster import import_roster
    from clbhealth.imports.schools import import_schools
    from clbhealth.workspace.folder import Workspace

    folder = tmp_path_factory.mktemp("base")
    ws = Workspace.create(folder / "ws", "CLB Test", SchoolYear(2026))
    (folder / "schools.csv").write_text(SCHOOLS, encoding="utf-8")
    import_schools(ws, folder / "schools.csv")
    import_roster(ws, [write_roster(folder / "all.csv", range(PUPILS))])
    import_roster(ws, [write_roster(folder / "base.csv", base_ids())])
    return ws.root


def copy_of(base: Path, target: Path) -> Path:
    shutil.copytree(base, target)
    return target


def query(root: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(f"file:{root / 'clbhealth.sqlite'}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def pupils_state(root: Path, _tmp: Path):
    return query(root, "SELECT insz, school_id, pupil_number, last_name, first_name, birth_date, sex, class_name, "
                       "grade, education, active, left_on FROM pupils ORDER BY insz")


def events_state(root: Path, _tmp: Path):
    return query(root, "SELECT pupil_id, code, date, status, staff_id, source FROM events ORDER BY 1, 2, 3, 4")


def purge_state(root: Path, tmp: Path):
    return (pupils_state(root, tmp), events_state(root, tmp))


def audit_count(root: Path) -> int:
    return query(root, "SELECT count(*) FROM audit")[0][0]


# --- the commands under test --------------------------------------------------------------------


@dataclass
class KillCase:
    name: str
    prepare: Callable[[Path, Path], list[str]]  # (workspace, folder for inputs and outputs) -> CLI arguments
    state: Callable[[Path, Path], object]  # what the command changes in the database
    kills: int = 6  # kills after random delays; kills inside the write come on top
    in_write: tuple[float, ...] = (0.0, 0.02)  # kills this long after the write began
    after_commit: bool = True  # one kill right after the change is stored (before the process ends)
    output: str | None = None  # the file, or folder (ending in '/'), the command writes in its folder
    audited: bool = True  # the command leaves an audit row
    needs: str | None = None  # the CLI command that must exist for this case
    base: str = "pupils"  # the start: "pupils" (3,000 pupils, see `base`) or "plan world" (tests/planfixture.py)


def prepare_roster(ws: Path, folder: Path) -> list[str]:
    ids = [i for i in base_ids() if i % 11] + list(range(PUPILS, PUPILS + PUPILS // 10))
    path = write_roster(folder / "roster-new.csv", ids, changed=range(0, PUPILS, 3))
    return ["import", "roster", str(path), "-w", str(ws)]


def prepare_history(ws: Path, folder: Path) -> list[str]:
    lines = ["rijksregisternummer;code;datum;status"]
    for line in (pupil_line(i) for i in base_ids()):
        cells = line.split(";")
        lines.append(f"{cells[2]};{'L1' if cells[0] == '100' else 'S3'};15/10/2026;gedaan")
        lines.append(f"{cells[2]};DTPa-IPV;01/10/2026;toestemming")
    path = folder / "history.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ["import", "history", str(path), "-w", str(ws)]


def prepare_purge(ws: Path, folder: Path) -> list[str]:
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    return ["purge", "--left-before", tomorrow.isoformat(), "-w", str(ws)]


def _previous_xlsx() -> bytes:
    """A small workbook standing for an earlier xlsx export (only an export of the same kind is replaced)."""
    import io

    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active["A1"] = "the previous export"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


PREVIOUS_EXPORT = b"the previous export\n"
PREVIOUS_EXPORTS = {"csv": PREVIOUS_EXPORT, "xlsx": _previous_xlsx()}


def is_previous_export(path: Path) -> bool:
    return path.read_bytes() in PREVIOUS_EXPORTS.values()


def prepare_due(fmt: str, *options: str):
    def prepare(ws: Path, folder: Path) -> list[str]:
        target = folder / f"due.{fmt}"
        target.write_bytes(PREVIOUS_EXPORTS[fmt])  # an older file the new one must replace whole
        return ["due", "-w", str(ws), "--as-of", "2026-12-01", *options, "--format", fmt, "-o", str(target)]
    return prepare


def prepare_plan(ws: Path, folder: Path) -> list[str]:
    return ["plan", "-w", str(ws), "--from", "2026-10-01", "--to", "2026-10-31", "--as-of", "2026-10-01",
            "--time-limit", "2", "--workers", "1", "--seed", "1"]


def prepare_export_schools(ws: Path, folder: Path) -> list[str]:
    return ["export", "schools", "-w", str(ws), "--out", str(folder / "export")]


def prepare_weekly(ws: Path, folder: Path) -> list[str]:
    return ["weekly", "-w", str(ws), "--out", str(folder / "weekly"), "--as-of", "2026-10-02"]


def db_unchanged(root: Path, tmp: Path):
    return pupils_state(root, tmp), events_state(root, tmp), audit_count(root)


def plan_state(root: Path, _tmp: Path):
    """The current plan (each run adds a row to the plan history, so a rerun after a kill that came
    after the commit is compared on the plan it leaves, not on the length of the history)."""
    return (query(root, "SELECT date_from, date_to, seed FROM plans ORDER BY plan_id DESC LIMIT 1"),
            query(root, "SELECT date, part, start, end, school_id, minutes, moments, classes, kind FROM sessions "
                        "ORDER BY 1, 2, 3, 5"),
            query(root, "SELECT count(*) FROM session_pupils"), query(root, "SELECT count(*) FROM session_staff"),
            query(root, "SELECT count(*) FROM unplanned WHERE plan_id = (SELECT max(plan_id) FROM plans)"))


def xlsx_rows(path: Path) -> list[tuple]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True)
    try:
        return [tuple(r) for sheet in workbook.worksheets for r in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def same_file(path: Path, reference: Path) -> bool:
    """The file is whole: as the reference run wrote it (workbooks and JSON compared by content)."""
    if path.suffix == ".xlsx":
        return xlsx_rows(path) == xlsx_rows(reference)
    if path.suffix == ".json":
        import json

        return json.loads(path.read_text(encoding="utf-8")).keys() == json.loads(reference.read_text(encoding="utf-8")).keys()
    return path.read_bytes() == reference.read_bytes()


def output_state(target: Path, reference: Path) -> str:
    """'old' (nothing replaced), 'new' (all of it whole) or 'some' (some files whole, the others not yet
    written); fails on any partial file. Temporary files of a killed writer must be private."""
    for temp in target.parent.rglob(".*.tmp"):
        # A killed writer's leftover (a temporary file, or the staging folder of a week) is private.
        assert stat.S_IMODE(temp.stat().st_mode) == (0o700 if temp.is_dir() else 0o600), temp
    if reference.is_file():
        if is_previous_export(target):
            return "old"
        assert same_file(target, reference), f"{target} is partial"
        return "new"
    expected = sorted(p.relative_to(reference) for p in reference.rglob("*") if p.is_file())
    present = sorted(p.relative_to(target) for p in target.rglob("*") if p.is_file()
                     and not any(part.startswith(".") for part in p.relative_to(target).parts)) \
        if target.exists() else []
    for name in present:
        assert name in expected, name
        assert same_file(target / name, reference / name), f"{target / name} is partial"
    return "old" if not present else ("new" if present == expected else "some")


def world_base(folder: Path) -> Path:
    from tests.planfixture import build_plan_workspace

    return build_plan_workspace(folder).root


KILL_CASES = [
    KillCase("import roster", prepare_roster, pupils_state, kills=4, in_write=(0.0, 0.05, 0.15)),
    KillCase("import history", prepare_history, events_state, kills=2),
    KillCase("purge", prepare_purge, purge_state, kills=2, in_write=(0.0, 0.005, 0.02)),
    KillCase("due csv", prepare_due("csv", "--all"), db_unchanged, kills=1, output="due.csv", audited=False),
    KillCase("due xlsx", prepare_due("xlsx", "--school", "100"), db_unchanged, kills=1, in_write=(0.0,),
             output="due.xlsx", audited=False),
    KillCase("plan", prepare_plan, plan_state, kills=3, in_write=(0.0, 0.01), needs="plan", base="plan world"),
    KillCase("export schools", prepare_export_schools, db_unchanged, kills=2, in_write=(0.0, 0.05), output="export/",
             needs="export", base="plan world"),
    KillCase("weekly", prepare_weekly, db_unchanged, kills=2, in_write=(0.0, 0.05), output="weekly/", needs="weekly",
             base="plan world"),
]


def cli_commands() -> set[str]:
    from clbhealth.cli.main import app

    names = {c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands}
    return names | {g.name for g in app.registered_groups}


def launch(args: list[str], env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "clbhealth", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env={**os.environ, **(env or {})})


def kill_when(proc: subprocess.Popen, ready: Callable[[], bool], delay: float, timeout: float = 60) -> bool:
    """Wait until `ready()` (or the process ends), wait `delay` more, SIGKILL. True if it was still running."""
    deadline = time.monotonic() + timeout
    while not ready() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.0005)
    if delay:
        time.sleep(delay)
    alive = proc.poll() is None
    if alive:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    if proc.stderr:
        proc.stderr.close()
    return alive and proc.returncode == -signal.SIGKILL


def holds_lock(root: Path, proc: subprocess.Popen) -> Callable[[], bool]:
    path = root / ".clbhealth.lock.holder"

    def ready() -> bool:
        try:
            return f"pid {proc.pid}," in path.read_text(errors="replace")
        except OSError:
            return False
    return ready


def writes_output(target: Path, proc: subprocess.Popen) -> Callable[[], bool]:
    folder = target if target.suffix == "" else target.parent

    def ready() -> bool:
        return folder.exists() and any(f".{proc.pid}." in p.name for p in folder.rglob(".*.tmp"))
    return ready


def assert_sound(root: Path) -> None:
    """The workspace opens, passes the integrity checks and the doctor finds nothing but leftovers."""
    from clbhealth.app.doctor import check_workspace
    from clbhealth.workspace.folder import Workspace

    Workspace.open(root)
    assert query(root, "PRAGMA integrity_check") == [("ok",)]
    assert query(root, "PRAGMA foreign_key_check") == []
    problems = [f for f in check_workspace(root) if f.problem and f.check != "leftovers"]
    assert not problems, problems


@pytest.fixture(scope="module")
def bases(base, tmp_path_factory):
    """The start workspaces, each built once when a case first needs it."""
    built = {"pupils": base}

    def get(name: str) -> Path:
        if name not in built:
            built[name] = world_base(tmp_path_factory.mktemp(name.replace(" ", "-")))
        return built[name]
    return get


@pytest.mark.parametrize("case", KILL_CASES, ids=[c.name for c in KILL_CASES])
def test_a_killed_command_leaves_the_old_or_the_new_state(case, bases, tmp_path):
    if case.needs and case.needs not in cli_commands():
        pytest.skip(f"`clbhealth {case.needs}` does not exist yet")
    start_ws = bases(case.base)
    rnd = random.Random(f"{SEED}-{case.name}")

    # The reference: the command run to its end on a copy of the start.
    ref_ws, ref_in = copy_of(start_ws, tmp_path / "ref-ws"), tmp_path / "ref-in"
    ref_in.mkdir()
    args = case.prepare(ref_ws, ref_in)
    old = case.state(ref_ws, ref_in)
    old_audit = audit_count(ref_ws)
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "clbhealth", *args], capture_output=True, text=True, timeout=300)
    duration = time.monotonic() - start
    if proc.returncode not in (0, 3) and "Traceback" in proc.stderr and case.needs:
        pytest.xfail(f"`clbhealth {case.needs}` itself fails on this workspace: {proc.stderr.strip().splitlines()[-1]}")
    assert proc.returncode in (0, 3), proc.stderr
    new = case.state(ref_ws, ref_in)
    assert new != old or case.output, "the command under test must change something"
    reference = ref_in / case.output.rstrip("/") if case.output else None

    points = [("delay", rnd.uniform(0.05, 0.95) * duration) for _ in range(case.kills)]
    points += [("in write", d) for d in case.in_write]
    points += [("after commit", 0.0)] if case.after_commit else []
    outcomes = []
    for n, (kind, delay) in enumerate(points):
        ws, folder = copy_of(start_ws, tmp_path / f"ws{n}"), tmp_path / f"in{n}"
        folder.mkdir()
        args = case.prepare(ws, folder)
        target = folder / case.output.rstrip("/") if case.output else None
        proc = launch(args)
        if kind == "delay":
            killed = kill_when(proc, lambda: True, delay)
        elif kind == "after commit" and target is not None and target.suffix:
            killed = kill_when(proc, lambda: not is_previous_export(target), delay)
        elif kind == "after commit":
            killed = kill_when(proc, lambda: audit_count(ws) > old_audit, delay)
        elif target is not None:
            killed = kill_when(proc, writes_output(target, proc), delay)
        else:
            killed = kill_when(proc, holds_lock(ws, proc), delay)
        assert_sound(ws)
        state = case.state(ws, folder)
        assert state in (old, new), f"{case.name}: a mix of old and new after a kill ({kind} {delay:.3f}s)"
        if case.audited and not case.output:
            assert audit_count(ws) == old_audit + (state == new and state != old)
        outcome = output_state(target, reference) if target is not None else ("new" if state == new else "old")
        outcomes.append((kind, round(delay, 3), "killed" if killed else "finished", outcome))
        FIGURES["runs killed"] += killed
        FIGURES["killed inside the write"] += killed and kind == "in write"
        FIGURES["old state after kill"] += killed and outcome == "old"
        FIGURES["new state after kill"] += killed and outcome == "new"
        FIGURES["some files whole, none partial"] += killed and outcome == "some"
        FIGURES["finished before the kill"] += not killed

    # Running the command again after the last kill gives the new state and tidies what it left.
    proc = subprocess.run([sys.executable, "-m", "clbhealth", *args], capture_output=True, text=True, timeout=300)
    assert proc.returncode in (0, 3), proc.stderr
    FIGURES["reruns"] += 1
    assert case.state(ws, folder) == new or case.output  # an export audits once more
    assert_sound(ws)
    if target is not None:
        assert output_state(target, reference) == "new"
        assert not list(folder.rglob(".*.tmp"))
    assert any(k == "killed" and s == "old" for _, _, k, s in outcomes), outcomes
    print(f"\n{case.name}: {duration:.2f}s per run; kills {outcomes}; totals {FIGURES}")


def test_a_killed_init_leaves_no_workspace_or_a_whole_one(tmp_path):
    rnd = random.Random(SEED)
    start = time.monotonic()
    subprocess.run([sys.executable, "-m", "clbhealth", "init", str(tmp_path / "ref")], check=True, capture_output=True)
    duration = time.monotonic() - start
    from clbhealth.workspace.folder import Workspace

    for n in range(5):
        root = tmp_path / f"ws{n}"
        proc = launch(["init", str(root), "--name", "CLB Test"])
        killed = kill_when(proc, lambda: True, rnd.uniform(0.1, 1.0) * duration)
        FIGURES["runs killed"] += killed
        FIGURES["finished before the kill"] += not killed
        whole = (root / "clbhealth.toml").exists()
        FIGURES["new state after kill" if whole else "old state after kill"] += killed
        if whole:
            assert_sound(root)  # the settings file comes last: with it, the workspace is whole
        else:
            with pytest.raises(Exception, match="No clbhealth workspace"):
                Workspace.open(root)
            ws = Workspace.create(root, "CLB Test", Workspace.open(tmp_path / "ref").config.school_year)
            assert_sound(ws.root)
            assert not list(root.glob(".clbhealth.sqlite.init-*"))


def test_init_finishes_what_a_killed_init_left_but_never_overwrites_data(tmp_path, base):
    from clbhealth.core.dates import SchoolYear
    from clbhealth.core.errors import ClbError
    from clbhealth.workspace.folder import Workspace

    root = Workspace.create(tmp_path / "ws", "CLB Test", SchoolYear(2026)).root
    (root / "clbhealth.toml").unlink()  # as if killed between the database and the settings file
    (root / ".clbhealth.sqlite.init-999999").write_bytes(b"half a database")
    assert_sound(Workspace.create(root, "CLB Test", SchoolYear(2026)).root)
    assert not list(root.glob(".clbhealth.sqlite.init-*"))
    data = copy_of(base, tmp_path / "data")
    (data / "clbhealth.toml").unlink()  # settings lost, pupils in the database: refuse
    with pytest.raises(ClbError, match="already holds a clbhealth workspace"):
        Workspace.create(data, "CLB Test", SchoolYear(2026))


# --- two commands at once ------------------------------------------------------------------------


def test_a_second_writer_waits_for_the_first(base, tmp_path):
    ws = copy_of(base, tmp_path / "ws")
    roster = write_roster(tmp_path / "r.csv", [i for i in base_ids() if i % 2 == 0])  # school 100 only
    from clbhealth.workspace.folder import Workspace

    workspace = Workspace.open(ws)
    with workspace.locked():
        proc = launch(["import", "roster", str(roster), "-w", str(ws)], env={"CLBHEALTH_LOCK_WAIT": "30"})
        time.sleep(1.5)
        assert proc.poll() is None  # it waits while another command holds the workspace
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr


def test_a_second_writer_that_cannot_wait_says_so_and_changes_nothing(base, tmp_path):
    ws = copy_of(base, tmp_path / "ws")
    roster = write_roster(tmp_path / "r.csv", [i for i in base_ids() if i % 2 == 0], changed=range(PUPILS))
    before = pupils_state(ws, tmp_path), audit_count(ws)
    from clbhealth.workspace.folder import Workspace

    with Workspace.open(ws).locked():
        proc = subprocess.run([sys.executable, "-m", "clbhealth", "import", "roster", str(roster), "-w", str(ws)],
                              capture_output=True, text=True, env={**os.environ, "CLBHEALTH_LOCK_WAIT": "0.3"},
                              timeout=60)
    assert proc.returncode == 1
    assert "is busy: clbhealth (pid" in proc.stderr and "Wait until it has finished" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert (pupils_state(ws, tmp_path), audit_count(ws)) == before
    assert_sound(ws)


def test_writers_racing_on_one_workspace_all_land_or_say_busy(base, tmp_path):
    """Real processes started together: every one that says it is done is in the result, no other."""
    ws = copy_of(base, tmp_path / "ws")
    school_100 = write_roster(tmp_path / "r100.csv", [i for i in base_ids() if i % 2 == 0], changed=range(PUPILS))
    school_200 = write_roster(tmp_path / "r200.csv", [i for i in base_ids() if i % 2 == 1], changed=range(PUPILS))
    schools = tmp_path / "schools.csv"
    schools.write_text(SCHOOLS + "500;Nieuwe School;basis\n", encoding="utf-8")
    jobs = [
        (["import", "roster", str(school_100), "-w", str(ws)], "30"),
        (["import", "roster", str(school_200), "-w", str(ws)], "30"),
        (["import", "schools", str(schools), "-w", str(ws)], "0"),  # does not wait: done or busy
    ]
    procs = [launch(args, {"CLBHEALTH_LOCK_WAIT": wait}) for args, wait in jobs]
    results = []
    for proc in procs:
        _, stderr = proc.communicate(timeout=120)
        results.append((proc.returncode, stderr.decode()))
    assert results[0][0] == 0 and results[1][0] == 0, results
    code, stderr = results[2]
    assert code == 0 or (code == 1 and "is busy" in stderr), results
    assert "Traceback" not in "".join(s for _, s in results)
    changed = query(ws, "SELECT count(*) FROM pupils WHERE active = 1 AND class_name LIKE '%B'")[0][0]
    assert changed == len(base_ids())  # both rosters landed whole
    assert bool(query(ws, "SELECT 1 FROM schools WHERE school_id = '500'")) == (code == 0)
    commands = [r[0] for r in query(ws, "SELECT command FROM audit")]
    assert commands.count("import roster") == 4 and commands.count("import schools") == 1 + (code == 0)
    assert_sound(ws)


def test_a_purge_between_check_and_write_of_a_history_import_is_caught(base, tmp_path, monkeypatch):
    """The history file is checked before the lock is taken; pupils purged meanwhile stop the import."""
    from clbhealth.core.errors import ClbError
    from clbhealth.imports.history import import_history
    from clbhealth.app.purge import purge_left
    from clbhealth.workspace.folder import Workspace

    ws = Workspace.open(copy_of(base, tmp_path / "ws"))
    left = [i for i in range(PUPILS) if i % 7 == 0][:3]
    path = tmp_path / "h.csv"
    path.write_text("rijksregisternummer;code;datum;status\n"
                    + "".join(f"{pupil_line(i).split(';')[2]};L1;15/10/2026;gedaan\n" for i in left), encoding="utf-8")
    original = Workspace.writing

    def purge_first(self, command):
        if command == "import history":
            purge_left(self, dt.date.today() + dt.timedelta(days=1))
        return original(self, command)

    monkeypatch.setattr(Workspace, "writing", purge_first)
    with pytest.raises(ClbError, match="removed from the workspace while it was being checked"):
        import_history(ws, path)
    assert query(ws.root, "SELECT count(*) FROM events") == [(0,)]


def test_readers_during_a_write_see_a_whole_state(base, tmp_path):
    """`due` while an import writes: it answers from the state before or after, without an error."""
    ws = copy_of(base, tmp_path / "ws")
    due = [sys.executable, "-m", "clbhealth", "due", "-w", str(ws), "--as-of", "2026-12-01", "--format", "csv"]

    def answer() -> int:
        proc = subprocess.run(due, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        return len(proc.stdout.splitlines())

    before = answer()
    roster = write_roster(tmp_path / "r.csv", base_ids()[::2])  # half the pupils leave
    writer = launch(["import", "roster", str(roster), "-w", str(ws)])
    answers = []
    while writer.poll() is None or not answers:
        answers.append(answer())
    writer.wait(timeout=120)
    assert writer.returncode == 0
    after = answer()
    assert after < before
    assert set(answers) <= {before, after}, (before, after, answers)
    assert_sound(ws)


# --- permissions ---------------------------------------------------------------------------------


def modes(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): stat.S_IMODE(p.lstat().st_mode) for p in [root, *root.rglob("*")]}


@pytest.mark.parametrize("umask", [0o000, 0o022])
def test_workspace_files_are_private_whatever_the_umask(umask, tmp_path, runner):
    """Library calls (as the CLI makes them) under a permissive umask still create owner-only files."""
    old = os.umask(umask)
    try:
        root = tmp_path / "ws"
        run(runner, "init", root, "--school-year", "2026-2027")
        (tmp_path / "schools.csv").write_text(SCHOOLS, encoding="utf-8")
        run(runner, "import", "schools", tmp_path / "schools.csv", "-w", root)
        run(runner, "import", "roster", write_roster(tmp_path / "r.csv", range(40)), "-w", root)
        for fmt in ("csv", "json", "xlsx"):
            run(runner, "due", "-w", root, "--as-of", "2026-12-01", "--format", fmt, "-o", root / "exports" / "new" / f"due.{fmt}")
        from clbhealth.workspace.folder import Workspace

        with Workspace.open(root).connect() as conn:  # while a connection is open: -wal and -shm exist
            conn.execute("SELECT count(*) FROM pupils").fetchone()
            found = modes(root)
    finally:
        os.umask(old)
    assert {"clbhealth.sqlite-wal", "clbhealth.sqlite-shm", ".clbhealth.lock", "exports/new/due.xlsx"} <= set(found)
    for name, mode in found.items():
        is_dir = (root / name).is_dir() if name != "." else True
        assert mode == (0o700 if is_dir else 0o600), (name, oct(mode))


def test_the_console_command_makes_private_files_under_umask_000(tmp_path):
    script = (f"umask 000; {sys.executable} -m clbhealth init {tmp_path / 'ws'} && "
              f"{sys.executable} -m clbhealth due -w {tmp_path / 'ws'} --format csv -o {tmp_path / 'out' / 'due.csv'}")
    subprocess.run(["sh", "-c", script], check=True, capture_output=True, timeout=60)
    for path in [tmp_path / "ws", *(tmp_path / "ws").rglob("*"), tmp_path / "out", tmp_path / "out" / "due.csv"]:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path


def test_the_doctor_names_files_others_may_read(base, tmp_path, runner):
    ws = copy_of(base, tmp_path / "ws")
    os.chmod(ws / "clbhealth.sqlite", 0o644)
    result = run(runner, "doctor", "-w", ws, code=1)
    assert "others may read the workspace" in result.output
    assert f"chmod 600 '{ws / 'clbhealth.sqlite'}'" in result.output


def test_figures(capsys):
    """Not a check: prints what the kill tests above did (pytest -s shows it)."""
    with capsys.disabled():
        print("\nrobustness figures:", FIGURES)
