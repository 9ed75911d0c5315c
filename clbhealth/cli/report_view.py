"""`clbhealth report --format table`: the progress report on the terminal."""

from __future__ import annotations

from rich.console import Console

from clbhealth.cli.common import add_cells, new_table, styled


def print_report(report: dict, console: Console) -> None:
    """The report's totals, tables and warnings."""

    def pct(value):
        return "–" if value is None else f"{value:.0f}%"

    t = report["totals"]
    console.print(styled((str(report["clb"]), "bold"),
                         f" – school year {report['school_year']}, as of {report['as_of']}: "
                         f"{t['done']} done, {t['due']} due ({t['planned']} planned), {t['missed']} missed, "
                         f"coverage {pct(t['coverage'])} (done / expected this school year); "
                         f"{report['sessions_in_plan']} session(s) in the plan."))
    console.print("Coverage = done / expected this school year, expected = done + due + refused (pupil-moments); "
                  "a dose's coverage = given / all pupils the dose counts for this school year.")
    numbers = ("due", "planned", "done", "missed", "refused", "coverage (done / expected)")
    table = new_table("Per school and moment", ("school", "moment", *numbers), right=numbers)
    last = None
    for row in report["school_moments"]:
        school = f"{row['school_id']} {row['school']}" if row["school_id"] != last else ""
        last = row["school_id"]
        add_cells(table, school, row["moment"], *(row[k] for k in ("due", "planned", "done", "missed", "refused")),
                  pct(row["coverage"]))
    console.print(table)
    numbers = ("pupils", "done", "due", "needs consent", "refused", "missed", "coverage (done / pupils)")
    table = new_table("Vaccination coverage per dose", ("dose", *numbers), right=numbers)
    for row in report["vaccinations"]:
        add_cells(table, row["moment"], *(row[k] for k in ("pupils", "done", "due", "needs_consent", "refused",
                                                           "missed")), pct(row["coverage"]))
    console.print(table)
    numbers = ("sessions", "half-days", "pupil-moments", "hours", "km", "travel h", "share of role")
    table = new_table("Load per person", ("staff", "role", *numbers), right=numbers)
    for p in report["load"]:
        add_cells(table, f"{p['staff_id']} {p['name']}", p["role"], p["sessions"], p["half_days"],
                  p["pupil_moments"], f"{p['minutes'] / 60:.1f}", f"{p['km']:.0f}",
                  f"{p['travel_minutes'] / 60:.1f}", pct(p["share_of_role"]))
    console.print(table)
    table = new_table("Progress against the plan (cumulative pupil-moments)", ("month", "planned", "done"),
                      right=("planned", "done"))
    by_month: dict[str, dict] = {}
    for week in report["progress"]:
        by_month[week["week"][:7]] = week  # the last week starting in the month
    for month, week in by_month.items():
        add_cells(table, month, week["planned"], week["done"])
    console.print(table)
    for warning in report["warnings"]:
        console.print(styled(("!", "yellow"), " ", warning))
