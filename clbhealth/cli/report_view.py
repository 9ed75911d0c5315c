"""`clbhealth report --format table`: the progress report on the terminal."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table


def print_report(report: dict, console: Console) -> None:
    """The report's totals, tables and warnings."""

    def pct(value):
        return "–" if value is None else f"{value:.0f}%"

    t = report["totals"]
    console.print(f"[bold]{report['clb']}[/] – school year {report['school_year']}, as of {report['as_of']}: "
                  f"{t['done']} done, {t['due']} due ({t['planned']} planned), {t['missed']} missed, "
                  f"coverage {pct(t['coverage'])}; {report['sessions_in_plan']} session(s) in the plan.")
    table = Table(title="Per school and moment", title_justify="left")
    for col in ("school", "moment", "due", "planned", "done", "missed", "refused", "coverage"):
        table.add_column(col, justify="left" if col in ("school", "moment") else "right")
    last = None
    for row in report["school_moments"]:
        school = f"{row['school_id']} {row['school']}" if row["school_id"] != last else ""
        last = row["school_id"]
        table.add_row(school, row["moment"], *(str(row[k]) for k in ("due", "planned", "done", "missed", "refused")),
                      pct(row["coverage"]))
    console.print(table)
    table = Table(title="Vaccination coverage per dose", title_justify="left")
    for col in ("dose", "pupils", "done", "due", "needs consent", "refused", "missed", "coverage"):
        table.add_column(col, justify="left" if col == "dose" else "right")
    for row in report["vaccinations"]:
        table.add_row(row["moment"], *(str(row[k]) for k in ("pupils", "done", "due", "needs_consent", "refused",
                                                               "missed")), pct(row["coverage"]))
    console.print(table)
    table = Table(title="Load per person", title_justify="left")
    for col in ("staff", "role", "sessions", "half-days", "pupil-moments", "hours", "km", "travel h", "share of role"):
        table.add_column(col, justify="left" if col in ("staff", "role") else "right")
    for p in report["load"]:
        table.add_row(f"{p['staff_id']} {p['name']}", p["role"], str(p["sessions"]), str(p["half_days"]),
                      str(p["pupil_moments"]), f"{p['minutes'] / 60:.1f}", f"{p['km']:.0f}",
                      f"{p['travel_minutes'] / 60:.1f}", pct(p["share_of_role"]))
    console.print(table)
    table = Table(title="Progress against the plan (cumulative pupil-moments)", title_justify="left")
    for col in ("month", "planned", "done"):
        table.add_column(col, justify="left" if col == "month" else "right")
    by_month: dict[str, dict] = {}
    for week in report["progress"]:
        by_month[week["week"][:7]] = week  # the last week starting in the month
    for month, week in by_month.items():
        table.add_row(month, str(week["planned"]), "" if week["done"] is None else str(week["done"]))
    console.print(table)
    for warning in report["warnings"]:
        console.print(f"[yellow]![/] {warning}")
