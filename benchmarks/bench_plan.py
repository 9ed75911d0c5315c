"""Planner benchmark: one instance solved by the planner, against the by-hand greedy baseline and
bounds computed without the solver (the plan's coverage LP, a visits bound, a km LP of our own).

    python benchmarks/bench_plan.py --size L --time-limit 120
    python benchmarks/bench_plan.py --size CLB      # the real CLB 114975 (Kempen), see real_clb.py

Prints one table per instance, measured in one run. Run by hand; nothing here is a test.
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

from benchmarks.lp_bounds import km_lower_bound, km_lower_bound_by_month, km_of_best_assignment  # noqa: E402
from clbhealth.app.plan import build_problem  # noqa: E402
from clbhealth.scheduler.bounds import coverage_bound, visits_bound  # noqa: E402
from clbhealth.scheduler.greedy import class_by_class_visits, greedy_plan  # noqa: E402
from clbhealth.scheduler.metrics import plan_metrics, utilisation  # noqa: E402
from clbhealth.scheduler.solve import SolveOptions, earliest_days, solve  # noqa: E402

AS_OF = dt.date(2026, 9, 1)


def build(size: str, root: Path):
    if size == "CLB":
        from benchmarks.real_clb import build_real_clb

        return build_real_clb(root)
    from clbhealth.samples.instances import SIZES, build_instance

    print(f"size {size}: {SIZES[size].sites} sites, {SIZES[size].nurses} nurses, {SIZES[size].doctors} doctors")
    return build_instance(size, root)


def covered(visits, placed: set[str]) -> int:
    """Pupil-moments whose every part is in a placed visit."""
    parts: dict[tuple[int, str], list[bool]] = {}
    for visit in visits:
        for task in visit.tasks:
            for moment in task.moments:
                parts.setdefault((task.pupil_id, moment), []).append(visit.visit_id in placed)
    return sum(all(flags) for flags in parts.values())


def greedy_utilisation(problem, greedy) -> dict[str, float]:
    booked: dict[str, int] = {}
    for staff in greedy.staff.values():
        for person in staff.values():
            role = problem.person(person).role
            booked[role] = booked.get(role, 0) + 1
    total: dict[str, int] = {}
    for person in problem.persons:
        total[person.role] = total.get(person.role, 0) + len(problem.available.get(person.staff_id, ()))
    return {r: 100 * booked.get(r, 0) / t for r, t in total.items() if t}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=["S", "M", "L", "CLB"], default="L")
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="Build the workspace here and keep it.")
    parser.add_argument("--reuse", type=Path, help="Plan a workspace built before with --keep (same size).")
    parser.add_argument("--weight", action="append", default=[], metavar="GOAL=N",
                        help="Override a soft goal's weight for this run (e.g. balance=0).")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix=f"clbhealth-bench-{args.size}-")) / "ws"
    started = time.monotonic()
    if args.reuse:
        from clbhealth.workspace.folder import Workspace

        workspace = Workspace.open(args.reuse)
        print(f"machine: {os.cpu_count()} cores; instance reused from {args.reuse}")
    else:
        workspace = build(args.size, root)
        print(f"machine: {os.cpu_count()} cores; instance built in {time.monotonic() - started:.1f} s at {root}")

    started = time.monotonic()
    problem, context = build_problem(workspace, as_of=AS_OF)
    built = time.monotonic() - started
    pupils = len({t.pupil_id for v in problem.visits for t in v.tasks})
    print(f"problem: {len(problem.visits)} visits for {pupils} pupils, {len(problem.half_days)} half-days, "
          f"{len(problem.persons)} staff, built in {built:.1f} s")
    for item in args.weight:
        name, value = item.split("=")
        problem.weights[name] = int(value)
    bound = coverage_bound(problem, problem.visits, earliest_days(problem, {}), context.setup)

    solve_start = time.monotonic()
    result = solve(problem, SolveOptions(seconds=args.time_limit, seed=args.seed, workers=args.workers))
    solve_seconds = time.monotonic() - solve_start
    metrics = plan_metrics(problem, result)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    tasks = [t for v in problem.visits if not v.after for t in v.tasks]
    started = time.monotonic()
    greedy_visits = class_by_class_visits(tasks, context.capacity, workspace.config.setup_minutes)
    greedy = greedy_plan(problem, greedy_visits)
    greedy_seconds = time.monotonic() - started

    placed = [v for v in problem.visits if v.visit_id in result.placements]
    g_placed = [v for v in greedy_visits if v.visit_id in greedy.days]
    lb_visits = visits_bound(placed, context.capacity)
    lb_km = km_lower_bound(problem, placed, context.capacity)
    lb_km_month = km_lower_bound_by_month(problem, placed, context.capacity)
    km_assigned = km_of_best_assignment(problem, placed)
    # The plan's km in the model both bounds assume (every session one round trip from the base);
    # a shared half-day drives less than that, so this is the plan's km or more.
    # Two visits of one person at one school in one half-day are one session, one round trip.
    trips = {(p, pl.half, result.visits[v].school_id) for v, pl in result.placements.items() for p in pl.staff.values()}
    round_trips = sum(problem.km[(p, school)] for p, _, school in trips)
    sessions = len({(result.visits[v].school_id, pl.half, tuple(sorted(pl.staff.values())))
                    for v, pl in result.placements.items()})
    plan_cov = covered(problem.visits, set(result.placements))
    greedy_cov = covered(greedy_visits, set(greedy.days))
    use = utilisation(problem, result)["per_role"]
    g_use = greedy_utilisation(problem, greedy)
    at_most = bound["at_most"]

    def row(name: str, plan: str, base: str, target: str = "") -> None:
        print(f"| {name} | {plan} | {base} | {target} |")

    print()
    print(f"| {args.size}: {len(problem.visits)} visits, {bound['pupil_moments']:,} due pupil-moments | planner | greedy | target |")
    print("|---|---|---|---|")
    row("coverage vs capacity bound", f"{plan_cov:,} / {at_most:,} = {100 * plan_cov / max(at_most, 1):.1f}%",
        f"{greedy_cov:,} = {100 * greedy_cov / max(at_most, 1):.1f}%", ">= 99%")
    row("coverage of due work", f"{100 * plan_cov / max(bound['pupil_moments'], 1):.1f}%",
        f"{100 * greedy_cov / max(bound['pupil_moments'], 1):.1f}%", "")
    for role, r in use.items():
        row(f"{role} half-days booked", f"{r['load_pct']}%", f"{g_use.get(role, 0):.1f}%",
            ">= 90% where work is unplanned")
    row("visits vs lower bound", f"{sessions:,} / {lb_visits:,} = {sessions / max(lb_visits, 1):.3f}",
        f"{len(g_placed):,}", "<= 1.05")
    row("km vs LP bound (benchmarks/)", f"{round_trips:,.0f} / {lb_km:,.0f} = {round_trips / max(lb_km, 1):.3f}",
        f"{greedy.travel_km(problem):,.0f}", "<= 1.15")
    row("km vs LP bound with the calendar", f"{round_trips:,.0f} / {lb_km_month:,.0f} = "
        f"{round_trips / max(lb_km_month, 1):.3f}", "", "<= 1.15")
    for role in sorted({p.role for p in problem.persons}):
        mine = sum(problem.km[(p, school)] for p, _, school in trips if problem.person(p).role == role)
        bound_of_role = km_lower_bound_by_month(problem, placed, context.capacity, role)
        if mine and bound_of_role == bound_of_role:  # not NaN
            row(f"{role} km vs its calendar LP", f"{mine:,.0f} / {bound_of_role:,.0f} = "
                f"{mine / max(bound_of_role, 1):.3f}", "", "(diagnostic)")
    row("km vs the best assignment of these visits", f"{round_trips:,.0f} / {km_assigned:,.0f} = "
        f"{round_trips / max(km_assigned, 1):.3f}", "", "(diagnostic)")
    row("km driven (shared half-days: one tour)", f"{metrics['terms']['travel']:,.0f}", "", "")
    row("first complete plan", f"{built + result.first_complete_seconds:.1f} s (build {built:.1f} s)",
        f"{greedy_seconds:.1f} s", "<= 30 s")
    row("total time", f"{built + solve_seconds:.1f} s", f"{greedy_seconds:.1f} s", "<= 120 s")
    row("peak memory", f"{peak_mb:,.0f} MB", "", "<= 4 GB")
    if bound["short"]:
        print("binding role-months of the bound: " + ", ".join(f"{s['role']} {s['month']}" for s in bound["short"][:12]))
    reasons: dict[str, int] = {}
    for visit_id, reason in result.unplanned.items():
        key = reason.split(" (")[0]
        reasons[key] = reasons.get(key, 0) + result.visits[visit_id].pupil_moments
    for reason, count in sorted(reasons.items(), key=lambda kv: -kv[1])[:8]:
        print(f"  unplanned {count}: {reason}")


if __name__ == "__main__":
    main()
