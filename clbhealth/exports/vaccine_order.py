"""`clbhealth export vaccine-order`: per week and product, the doses planned and the doses in stock.

Planned = the doses of the current plan in that week whose pupil has consent on record, plus those
still expected (no form returned yet); refused and elsewhere are left out. In stock = per lot not
expired on the week's Monday, the doses received minus those given (lots without a dose count show
as 'onbekend').
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from clbhealth.core.errors import ClbError
from clbhealth.exports.plan import require_plan
from clbhealth.exports.workbook import Column, new_workbook, save_workbook, table_sheet
from clbhealth.protocols.consent import GIVEN, NO_FORM, consent_state
from clbhealth.workspace import vaccination as store
from clbhealth.workspace.folder import Workspace

COLUMNS = (
    Column("week", "Week (maandag)", 15),
    Column("product", "Product", 16),
    Column("codes", "Dosissen", 16),
    Column("consented", "Met toestemming", 15),
    Column("expected", "Nog geen formulier", 17),
    Column("planned", "Gepland totaal", 14),
    Column("stock", "In voorraad (per lot)", 30, 60),
    Column("stock_total", "Voorraad totaal", 14),
)


def order_rows(workspace: Workspace, date_from: dt.date | None, date_to: dt.date | None) -> list[dict]:
    protocol = workspace.protocol
    codes = [r.code for r in protocol.rules if r.is_vaccination]
    with workspace.connect() as conn:
        require_plan(conn)
        planned = store.planned_doses(conn, sorted(set(codes)), date_from and date_from.isoformat(),
                                      date_to and date_to.isoformat())
        records: dict[str, dict[int, list]] = {}
        for series in {protocol.series_of(c) for c in codes}:
            series_codes = [r.code for r in protocol.rules if (r.series or r.code) == series]
            pupils = {d["pupil_id"] for d in planned if protocol.series_of(d["moment"]) == series}
            records[series] = store.series_events(conn, pupils, series_codes)
        lots = store.load_lots(conn)
    tally: dict[tuple[str, str], dict] = {}
    for dose in planned:
        day = dt.date.fromisoformat(dose["date"])
        monday = (day - dt.timedelta(days=day.weekday())).isoformat()
        state = consent_state(records[protocol.series_of(dose["moment"])].get(dose["pupil_id"], []))
        if state not in (GIVEN, NO_FORM):  # refused or elsewhere: no dose to order
            continue
        for product in protocol.products_for(dose["moment"])[:1]:  # the first product serves the dose
            row = tally.setdefault((monday, product.name), {"codes": set(), "consented": 0, "expected": 0})
            row["codes"].add(dose["moment"])
            row["consented" if state == GIVEN else "expected"] += 1
    return [_row(monday, product, t, lots) for (monday, product), t in sorted(tally.items())]


def _row(monday: str, product: str, tally: dict, lots: dict) -> dict:
    stock, total, unknown = [], 0, False
    for (name, lot), info in lots.items():
        if name != product or info["expiry"] < monday:
            continue
        if info["doses"] is None:
            stock.append(f"{lot}: onbekend")
            unknown = True
        else:
            left = max(info["doses"] - info["used"], 0)
            stock.append(f"{lot}: {left}")
            total += left
    return {"week": monday, "product": product, "codes": ", ".join(sorted(tally["codes"])),
            "consented": tally["consented"], "expected": tally["expected"],
            "planned": tally["consented"] + tally["expected"], "stock": "; ".join(stock) or "geen lot",
            "stock_total": f"{total}+" if unknown else total}


def export_vaccine_order(workspace: Workspace, out: Path, date_from: dt.date | None = None,
                         date_to: dt.date | None = None, *, exported: dt.date | None = None) -> tuple[Path, int]:
    workspace.require_writable()  # refused before a file is written, never after
    rows = order_rows(workspace, date_from, date_to)
    if not rows:
        raise ClbError("No planned vaccinations in this period: nothing to order.",
                       hint="Check --from/--to, or run `clbhealth plan` first.")
    workbook = new_workbook()
    heading = ["Vaccinbestelling per week en product",
               "Gepland = met toestemming + nog geen formulier (geweigerd en elders niet meegeteld)."]
    table_sheet(workbook, "Bestelling", COLUMNS, rows, heading=heading, clb_name=workspace.config.clb_name,
                exported=exported or dt.date.today())
    save_workbook(workbook, Path(out))
    workspace.audit("export vaccine-order", [str(out)], {"rows": len(rows)})
    return Path(out), len(rows)
