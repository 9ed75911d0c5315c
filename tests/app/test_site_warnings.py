"""The plan's warnings about school sites name at most ten and how many more."""

from __future__ import annotations

from clbhealth.app.plan import site_warnings
from tests.scheduler.test_reassign import _visit


def test_site_warnings_name_ten_schools_and_how_many_more():
    ids = [f"{n:05d}" for n in range(1, 31)]
    visits = [_visit(f"v{s}", s) for s in ids]
    warnings = site_warnings(visits, ids, [{"school_id": s, "listed": 0} for s in ids])
    assert len(warnings) == 2
    assert all("00010 and 20 more" in w and "00011" not in w for w in warnings)
