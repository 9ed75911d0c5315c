"""Planner benchmark: a seeded instance (S, M or L) solved by CP-SAT against the by-hand greedy
baseline and lower bounds computed without the solver.

    python benchmarks/bench_plan.py --size L --time-limit 120 --workers 2

Prints: instance size, time to the first complete plan, the objective over time, the final
figures (visits, travel, unplanned) of the solver and of the greedy baseline, the gaps to the
lower bounds, each stage's CP-SAT bound, and peak memory. Run by hand; nothing here is a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from clbhealth.app.plan import build_problem, save_plan  # noqa: E402
from clbhealth.samples.instances import NL_NOTE, SIZES, build_instance  # noqa: E402
from clbhealth.scheduler.bounds import travel_bound, visits_bound  # noqa: E402
from clbhealth.scheduler.greedy import class_by_class_visits, greedy_plan  # noqa: E402
from clbhealth.scheduler.solve import SolveOptions, plan_metrics, solve  # noqa: E402

AS_OF = dt.date(2026, 9, 1)


def gap(value: float, bound: float) -> str:
    return f"{100 * (value - bound) / bound:.1f}%" if bound else "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="L")
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="Build the workspace here and keep it.")
    args = parser.parse_args()

    root = args.keep or Path(tempfile.mkdtemp(prefix=f"clbhealth-bench-{args.size}-")) / "ws"
    size = SIZES[args.size]
    print(f"machine: {os.cpu_count()} cores; size {size.name}: {size.sites} sites, {size.nurses} nurses, "
          f"{size.doctors} doctors" + (f" ({NL_NOTE})" if size.source == "nl" else " (real Flemish sites)"))
    started = time.monotonic()
    workspace = build_instance(args.size, root)
    print(f"instance built in {time.monotonic() - started:.1f} s at {root}")

    started = time.monotonic()
    problem, context = build_problem(workspace, as_of=AS_OF)
    built = time.monotonic() - started
    pupils = len({t.pupil_id for v in problem.visits for t in v.tasks})
    print(f"problem: {len(problem.visits)} visits for {pupils} pupils, {len(problem.half_days)} half-days, "
          f"{len(problem.persons)} staff (built in {built:.1f} s: due list, packing, travel)")

    lb_visits = visits_bound(problem.visits, context.capacity)
    lb_travel = travel_bound(problem, problem.visits, context.capacity)
    tasks = [t for v in problem.visits if not v.after for t in v.tasks]
    started = time.monotonic()
    greedy = greedy_plan(problem, class_by_class_visits(tasks, context.capacity, workspace.config.setup_minutes))
    greedy_seconds = time.monotonic() - started

    trace: list[tuple[float, str, float]] = []
    solve_start = time.monotonic()

    def progress(stage: str, objective, bound) -> None:
        if objective is not None:
            trace.append((time.monotonic() - solve_start, stage, objective))

    result = solve(problem, SolveOptions(seconds=args.time_limit, seed=args.seed, workers=args.workers),
                   progress=progress)
    metrics = plan_metrics(problem, result)
    terms = metrics["terms"]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print()
    print(f"time to the first complete plan: {result.first_complete_seconds:.1f} s (after building: "
          f"{built + result.first_complete_seconds:.1f} s)")
    print("objective over time (unplanned x weight + weeks x weight, whole plan):")
    for seconds, objective in result.history:
        print(f"  {seconds:7.1f} s  {objective:12,.0f}")
    print(f"solve time {result.seconds:.1f} s; peak memory {peak_mb:,.0f} MB")
    for stage in metrics["stages"]:
        if stage["objective"] is not None:
            print(f"  {stage['stage']}: {stage['status']}, objective {stage['objective']:,.0f}, bound "
                  f"{stage['bound']:,.0f} (gap {gap(stage['objective'], stage['bound']) if stage['bound'] else 'n/a'})")
    print()
    print(f"{'':24}{'CP-SAT':>12}{'greedy':>12}{'lower bound':>14}{'CP-SAT gap':>12}")
    print(f"{'visits':24}{terms['visits']:>12,}{len(greedy.days):>12,}{lb_visits:>14,}{gap(terms['visits'], lb_visits):>12}")
    print(f"{'travel km':24}{terms['travel']:>12,.0f}{greedy.travel_km(problem):>12,.0f}{lb_travel:>14,.0f}"
          f"{gap(terms['travel'], lb_travel):>12}")
    print(f"{'unplanned pupil-moments':24}{terms['unplanned']:>12,}{greedy.unplanned_pupil_moments():>12,}{0:>14}")
    print(f"{'balance spread (pts)':24}{terms['balance']:>12}")
    print(f"{'mean week of sessions':24}{metrics['mean_week']:>12}")
    print(f"greedy baseline computed in {greedy_seconds:.1f} s")
    if args.keep:
        save_plan(workspace, problem, context, result, SolveOptions(seconds=args.time_limit, seed=args.seed,
                                                                     workers=args.workers))
        print(f"plan stored in {root}")


if __name__ == "__main__":
    main()
