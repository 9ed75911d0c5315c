"""Helpers shared by the benchmark scripts: timing, peak memory, running the CLI as a subprocess."""

from __future__ import annotations

import cProfile
import gc
import io
import os
import pstats
import re
import resource
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

TIME_BIN = "/usr/bin/time"


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    """Reset this process's peak RSS (Linux >= 4.0: write 5 to clear_refs). False if not possible."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def rss_mb() -> float:
    kb = _status_kb("VmRSS")
    return (kb or 0) / 1024


@dataclass
class Measure:
    seconds: float = 0.0
    peak_mb: float = 0.0  # peak RSS of the process during the step
    start_mb: float = 0.0  # RSS when the step started
    peak_exact: bool = True  # False: peak is the process's lifetime high-water mark


@contextmanager
def measured(profile: cProfile.Profile | None = None) -> Iterator[Measure]:
    """Time a block and record the process's peak RSS during it."""
    gc.collect()
    m = Measure(start_mb=rss_mb())
    m.peak_exact = _reset_peak()
    start = time.perf_counter()
    if profile is not None:
        profile.enable()
    try:
        yield m
    finally:
        if profile is not None:
            profile.disable()
        m.seconds = time.perf_counter() - start
        hwm = _status_kb("VmHWM") if m.peak_exact else None
        m.peak_mb = (hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024


@dataclass
class Run:
    returncode: int
    seconds: float
    peak_mb: float
    stdout: str
    stderr: str


def run_cli(args: list[str], env: dict | None = None) -> Run:
    """Run `python -m clbhealth ARGS` and measure wall time and peak RSS of the child."""
    command = [sys.executable, "-m", "clbhealth", *args]
    use_time = os.path.exists(TIME_BIN) and os.access(TIME_BIN, os.X_OK)
    if use_time:
        command = [TIME_BIN, "-v", *command]
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    stderr = proc.stderr
    peak_kb = None
    if use_time:
        match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
        if match:
            peak_kb = int(match.group(1))
        stderr = stderr[: stderr.rfind("\tCommand being timed:")] if "\tCommand being timed:" in stderr else stderr
    if peak_kb is None:
        # The largest child this process has waited for: exact when it is the biggest one so far.
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return Run(proc.returncode, seconds, peak_kb / 1024, proc.stdout, stderr)


def print_profile(profile: cProfile.Profile, title: str, limit: int = 25) -> None:
    stream = io.StringIO()
    stats = pstats.Stats(profile, stream=stream)
    stats.strip_dirs().sort_stats("cumulative").print_stats(limit)
    print(f"\n--- profile: {title} (top {limit} by cumulative time) ---")
    print(stream.getvalue().strip())
    stream = io.StringIO()
    stats = pstats.Stats(profile, stream=stream)
    stats.strip_dirs().sort_stats("tottime").print_stats(limit)
    print(f"\n--- profile: {title} (top {limit} by own time) ---")
    print(stream.getvalue().strip())


def row(label: str, rows: int | str, seconds: float, peak_mb: float, note: str = "") -> str:
    rows_text = f"{rows:,}" if isinstance(rows, int) else rows
    return f"  {label:<44} {rows_text:>12} {seconds:9.2f} s {peak_mb:9.0f} MB  {note}".rstrip()


def header() -> str:
    return f"  {'step':<44} {'rows':>12} {'time':>11} {'peak RSS':>12}"


def which_peak(exact: bool) -> str:
    return "" if exact else "(process lifetime peak)"


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
