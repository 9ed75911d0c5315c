"""CP-SAT plumbing shared by the stages: reproducible parameters and progress reporting."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable

from ortools.sat.python import cp_model


@dataclass(frozen=True)
class Snapshot:
    """Where the planner is, for people: the step in words, the sessions of the best plan so far and
    how far the models being solved are above their bound (0.02 = 2 %)."""

    step: str
    sessions: int | None = None
    above_bound: float | None = None


Progress = Callable[[Snapshot], None]


# CP-SAT's deterministic time runs about three times slower than the clock on these models on
# the 2-core reference machine: a budget of S seconds is S x DTIME_PER_SECOND units of work.
DTIME_PER_SECOND = 0.3


_RUNNING: set[cp_model.CpSolver] = set()
_RUNNING_LOCK = threading.Lock()
_STOPPING = threading.Event()


def solve_model(solver: cp_model.CpSolver, model: cp_model.CpModel, callback=None) -> int:
    """Solve, registered so that `stop_all` (Ctrl-C) can end the search at once; after a stop,
    no new search starts."""
    with _RUNNING_LOCK:
        if _STOPPING.is_set():
            return cp_model.UNKNOWN
        _RUNNING.add(solver)
    try:
        return solver.Solve(model, callback)
    finally:
        with _RUNNING_LOCK:
            _RUNNING.discard(solver)


def stop_all() -> None:
    """Stop every running search and start no new one (an interrupted plan saves nothing)."""
    with _RUNNING_LOCK:
        _STOPPING.set()
        for solver in list(_RUNNING):
            solver.stop_search()


def allow_solving() -> None:
    """Searches may run again (a new plan in the same process, e.g. the tests)."""
    _STOPPING.clear()


def parameters(seconds: float, seed: int, workers: int = 1, presolve: bool = True,
               wall_factor: float = 4.0) -> cp_model.CpSolver:
    """A solver whose result depends only on the model, the seed and the work budget.

    The budget is CP-SAT's deterministic time (converted from seconds with DTIME_PER_SECOND),
    single-threaded or with interleaved workers, so the same inputs and seed give the same plan
    whatever the machine's load; a wall-clock cap (`wall_factor` times the budget) guards against runaway
    runs (only a badly overloaded machine reaches it, and then the plan may differ).
    """
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.random_seed = seed
    p.num_workers = max(1, workers)
    p.max_deterministic_time = max(0.02, seconds * DTIME_PER_SECOND)
    p.max_time_in_seconds = max(1.0, seconds * wall_factor)
    if workers > 1:
        p.interleave_search = True
    if not presolve:
        # Large, plain assignment models: CP-SAT's presolve costs more here than it brings.
        p.cp_model_presolve = False
    p.log_search_progress = False
    # Ctrl-C is Python's: the planner stops every search itself and saves nothing.
    p.catch_sigint_signal = False
    return solver


INFORMATIVE_GAP = 1.0  # a share above the bound beyond this is not shown


class GapTracker:
    """Adds up the objectives and bounds of models solved side by side (one per person) and reports
    the step, the sessions and the share above the bound after each improvement."""

    def __init__(self, progress: Progress | None, step: str, sessions: int | None) -> None:
        self.progress, self.step, self.sessions = progress, step, sessions
        self.best: dict[str, tuple[float, float]] = {}
        self.lock = threading.Lock()

    def update(self, key: str, objective: float, bound: float) -> None:
        if self.progress is None:
            return
        with self.lock:
            self.best[key] = (objective, bound)
            total = sum(o for o, _ in self.best.values())
            floor = sum(max(0.0, b) for _, b in self.best.values())
            # Early, CP-SAT's bounds are weak (a plan "855% above" says nothing): the share is
            # told once it is within INFORMATIVE_GAP, else the line gives steps and sessions only.
            above = (total - floor) / floor if floor > 0 else None
            if above is not None and above > INFORMATIVE_GAP:
                above = None
            self.progress(Snapshot(self.step, self.sessions, above))


class Reporter(cp_model.CpSolverSolutionCallback):
    """Passes each improving solution's objective and the current bound to a tracker."""

    def __init__(self, key: str, tracker: GapTracker | None) -> None:
        super().__init__()
        self.key = key
        self.tracker = tracker
        self.solutions = 0

    def on_solution_callback(self) -> None:
        self.solutions += 1
        if self.tracker is not None:
            self.tracker.update(self.key, self.ObjectiveValue(), self.BestObjectiveBound())


@dataclass
class StageResult:
    """What one CP-SAT solve gave."""

    stage: str
    status: str
    objective: float
    bound: float
    seconds: float
    terms: dict[str, float] = field(default_factory=dict)


def status_name(code: int) -> str:
    return {
        cp_model.OPTIMAL: "optimal", cp_model.FEASIBLE: "feasible", cp_model.INFEASIBLE: "infeasible",
        cp_model.MODEL_INVALID: "invalid", cp_model.UNKNOWN: "unknown",
    }.get(code, str(code))
