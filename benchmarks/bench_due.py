"""Benchmark: the due list for a whole region (default 1.2 million fictional pupils).

    python benchmarks/bench_due.py [--pupils N] [--keep DIR] [--profile]

Builds a workspace in a temporary folder (or in DIR with --keep; an existing benchmark workspace
of the same size there is reused), bulk-loads `population_frame(N)` and `history_frame` straight
into SQLite, then times separately:
  (a) reading pupils and events for the due list (workspace.pupils.load_due_inputs, in one
      transaction, as app.due_list.due_list does),
  (a') reading them as plain frames (workspace.pupils.load_pupils / load_events, as the planner does),
  (b) compute_due with the default statuses (due, needs_consent),
  (c) compute_due with every status,
  (b') writing (b) as CSV (exports.frames.write_frame),
  (d) the whole CLI `clbhealth due --format csv -o FILE` as a subprocess,
  (e) the same with --all.
Targets (issue): due list for 1.2M pupils in < 10 s and < 2 GB. No assertions: figures only.
The machine's load average is printed: other work on the machine skews every figure.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import os
import platform
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import header, measured, print_profile, remove, row, run_cli, which_peak  # noqa: E402

from clbhealth.core.dates import SchoolYear  # noqa: E402
from clbhealth.protocols.due import OPEN_STATUSES, STATUSES, compute_due  # noqa: E402
from clbhealth.samples.region import history_frame, population_frame  # noqa: E402
from clbhealth.exports.frames import write_frame  # noqa: E402
from clbhealth.protocols.due import OUTPUT_COLUMNS  # noqa: E402
from clbhealth.workspace.pupils import load_due_inputs, load_events, load_pupils  # noqa: E402
from clbhealth.workspace.folder import DB_NAME, Workspace, now_text  # noqa: E402

YEAR = SchoolYear(2026)
AS_OF = dt.date(2026, 12, 1)
TARGET_SECONDS, TARGET_MB = 10, 2048


def bulk_load(db_path: Path, pupils, events) -> tuple[int, int, int]:
    """Insert schools, pupils and events in one transaction with executemany."""
    stamp = now_text()
    conn = sqlite3.connect(str(db_path), isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous = OFF")  # a benchmark database; the CLI sets its own pragmas
        conn.execute("PRAGMA cache_size = -262144")  # 256 MB page cache for the index builds
        conn.execute("BEGIN IMMEDIATE")
        grades = pupils["grade"].fillna("")
        secondary = grades.str.startswith("S").groupby(pupils["school_id"]).any()
        conn.executemany(
            "INSERT INTO schools (school_id, name, level, updated_at) VALUES (?, ?, ?, ?)",
            ((sid, f"Benchmarkschool {sid}", "secundair" if sec else "basis", stamp)
             for sid, sec in secondary.items()),
        )
        columns = ("pupil_id", "school_id", "pupil_number", "last_name", "first_name", "birth_date", "sex",
                   "class_name", "grade", "education")
        ids = pupils["pupil_id"].tolist()
        data = [
            ids,
            pupils["school_id"].tolist(),
            [f"{i:07d}" for i in ids],
            pupils["last_name"].tolist(),
            pupils["first_name"].tolist(),
            pupils["birth_date"].tolist(),
            pupils["sex"].tolist(),
            pupils["class_name"].tolist(),
            pupils["grade"].tolist(),
            pupils["education"].tolist(),
        ]
        marks = ", ".join("?" * (len(columns) + 2))
        conn.executemany(
            f"INSERT INTO pupils ({', '.join(columns)}, first_imported, updated_at) VALUES ({marks})",
            ((*values, stamp, stamp) for values in zip(*data)),
        )
        conn.executemany(
            "INSERT INTO events (pupil_id, code, date, status, staff_id, source, imported_at) "
            "VALUES (?, ?, ?, ?, ?, 'benchmark', ?)",
            ((*values, stamp) for values in zip(
                events["pupil_id"].tolist(), events["code"].tolist(), events["date"].tolist(),
                events["status"].tolist(), events["staff_id"].tolist())),
        )
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        n_schools = conn.execute("SELECT count(*) FROM schools").fetchone()[0]
    finally:
        conn.close()
    return n_schools, len(pupils), len(events)


def start(m) -> str:
    """Peak RSS in-process includes what the process already held: say how much that was."""
    return f"RSS at start {m.start_mb:,.0f} MB {which_peak(m.peak_exact)}".rstrip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pupils", type=int, default=1_200_000, help="number of pupils (default 1,200,000)")
    parser.add_argument("--keep", type=Path, help="build the workspace in DIR and keep it (reused next time)")
    parser.add_argument("--profile", action="store_true", help="also print cProfile tables for (a)-(c)")
    args = parser.parse_args()

    if args.keep:
        root = args.keep.expanduser().resolve()
        cleanup = None
    else:
        cleanup = Path(tempfile.mkdtemp(prefix="clbhealth-bench-due-"))
        root = cleanup / "workspace"
    print(f"clbhealth due benchmark: {args.pupils:,} pupils, school year {YEAR}, as of {AS_OF}")
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}")
    print(f"workspace: {root}")
    try:
        return run(root, args)
    finally:
        if cleanup is not None:
            remove(cleanup)


def reusable(root: Path, n_pupils: int) -> bool:
    """A workspace this benchmark built before in `root`, with `n_pupils` pupils."""
    db_path = root / DB_NAME
    if not db_path.exists():
        return False
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        count = conn.execute("SELECT count(*) FROM pupils").fetchone()[0]
        ours = conn.execute("SELECT count(*) FROM events WHERE source = 'benchmark'").fetchone()[0] > 0
    except sqlite3.Error:
        return False
    finally:
        conn.close()
    return count == n_pupils and ours


def run(root: Path, args) -> int:
    t0 = time.perf_counter()
    if args.keep and reusable(root, args.pupils):
        workspace = Workspace.open(root)
        print(f"setup: reusing the benchmark workspace in {root}")
    else:
        workspace = Workspace.create(root, "Bench", YEAR)
        pupils_frame = population_frame(args.pupils, YEAR)
        events_frame = history_frame(pupils_frame, YEAR)
        t1 = time.perf_counter()
        n_schools, n_pupils, n_events = bulk_load(workspace.db_path, pupils_frame, events_frame)
        t2 = time.perf_counter()
        size_mb = (workspace.db_path.stat().st_size) / 2**20
        del pupils_frame, events_frame
        print(f"setup: generated in {t1 - t0:.1f} s; loaded {n_schools:,} schools, {n_pupils:,} pupils, "
              f"{n_events:,} events in {t2 - t1:.1f} s ({DB_NAME}: {size_mb:,.0f} MB)")
    print(f"load average before the runs: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print()
    print(header())

    profile = cProfile.Profile() if args.profile else None
    protocol = workspace.protocol
    with workspace.connect() as conn, measured(profile) as read:
        conn.execute("BEGIN")
        pupils, events = load_due_inputs(conn, codes=protocol.all_codes())
        conn.execute("COMMIT")
    print(row("(a) read for the due list (load_due_inputs)", len(pupils) + len(events), read.seconds, read.peak_mb,
              f"{len(pupils):,} pupils + {len(events):,} events; {start(read)}"))

    with workspace.connect() as conn, measured() as plain:
        plain_rows = len(load_pupils(conn)) + len(load_events(conn))
    print(row("(a') read plain frames (load_pupils/_events)", plain_rows, plain.seconds, plain.peak_mb, start(plain)))

    with measured(profile) as open_:
        due_open = compute_due(pupils, events, protocol, YEAR, AS_OF, statuses=OPEN_STATUSES)
    print(row("(b) compute_due, due + needs_consent", len(due_open), open_.seconds, open_.peak_mb,
              start(open_)))
    counts_open = due_open["status"].value_counts().to_dict()

    csv_file = root / "due-bench-inprocess.csv"
    with measured(profile) as write:
        write_frame(due_open[OUTPUT_COLUMNS], "csv", csv_file)
    print(row("(b') write (b) as CSV (write_frame)", len(due_open), write.seconds, write.peak_mb, start(write)))
    csv_file.unlink(missing_ok=True)
    del due_open

    with measured(profile) as all_:
        due_all = compute_due(pupils, events, protocol, YEAR, AS_OF, statuses=STATUSES)
    print(row("(c) compute_due, all statuses", len(due_all), all_.seconds, all_.peak_mb,
              start(all_)))
    counts_all = due_all["status"].value_counts().to_dict()
    del due_all, pupils, events

    results = {}
    for label, extra in (("(d) CLI clbhealth due --format csv -o FILE", []),
                         ("(e) CLI clbhealth due --all --format csv -o FILE", ["--all"])):
        out_file = root / "due-bench.csv"
        cli = run_cli(["due", "-w", str(root), "--as-of", AS_OF.isoformat(), "--format", "csv", "-o", str(out_file),
                       *extra])
        if cli.returncode not in (0, 3):
            print(row(label, "FAILED", cli.seconds, cli.peak_mb, f"exit {cli.returncode}"))
            print(cli.stderr.strip())
            return 1
        with open(out_file, encoding="utf-8-sig") as handle:
            cli_rows = sum(1 for _ in handle) - 1
        size = out_file.stat().st_size / 2**20
        print(row(label, cli_rows, cli.seconds, cli.peak_mb, f"subprocess, {size:,.0f} MB CSV"))
        results[label] = cli

    cli = results["(d) CLI clbhealth due --format csv -o FILE"]
    print()
    print("statuses (b): " + ", ".join(f"{k} {v:,}" for k, v in sorted(counts_open.items()) if v))
    print("statuses (c): " + ", ".join(f"{k} {v:,}" for k, v in sorted(counts_all.items()) if v))
    print(f"in-process (a)+(b)+(b'): {read.seconds + open_.seconds + write.seconds:.2f} s")
    print(f"load average after the runs: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"targets: < {TARGET_SECONDS} s and < {TARGET_MB / 1024:.0f} GB for the due list; CLI (d) took "
          f"{cli.seconds:.2f} s, peak {cli.peak_mb:,.0f} MB "
          f"({'within' if cli.seconds < TARGET_SECONDS and cli.peak_mb < TARGET_MB else 'NOT within'} target)")
    if cli.stderr.strip():
        print("CLI stderr: " + cli.stderr.strip().splitlines()[-1])
    if profile is not None:
        print_profile(profile, "(a)+(b)+(b')+(c) in-process")
    return 0


if __name__ == "__main__":
    sys.exit(main())
