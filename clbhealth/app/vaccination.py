"""Vaccination use cases the CLI shows: the lots on record."""

from __future__ import annotations

import datetime as dt

from clbhealth.workspace import vaccination as store
from clbhealth.workspace.folder import Workspace


def lot_rows(workspace: Workspace, today: dt.date) -> list[dict]:
    """One row per lot: product, lot, expiry, doses received, given, left, expired."""
    with workspace.connect() as conn:
        lots = store.load_lots(conn)
    rows = []
    for (product, lot), info in lots.items():
        received = info["doses"]
        rows.append({
            "product": product, "lot": lot, "expiry": info["expiry"],
            "received": "" if received is None else received, "given": info["used"],
            "left": "" if received is None else received - info["used"],
            "expired": "yes" if info["expiry"] < today.isoformat() else "no",
        })
    return rows
