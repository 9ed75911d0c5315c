"""Schools never learn vaccination status (issue 11, item 7): a vaccination session is classes and times,
never a list filtered by consent or by who still needs a dose; no INSZ, consent, objection or dose detail."""

from __future__ import annotations

import datetime as dt

from clbhealth.app.weekly import run_weekly
from clbhealth.exports import export_school_workbooks
from tests.exports.test_attendance import add_lots, give_consent
from tests.planfixture import all_cells, build_plan_workspace, plant_canaries

EXPORTED = dt.date(2026, 10, 5)


def test_vaccination_session_shows_classes_and_times_only(tmp_path):
    world = build_plan_workspace(tmp_path)
    canaries = plant_canaries(world)
    give_consent(world, tmp_path, {"Willems": "clb", "Goossens": "geweigerd"}, code="HPV1")
    add_lots(world, tmp_path, "product;lot;vervaldatum\nGardasil 9;KANARIELOT;30/06/2027\n")
    paths = export_school_workbooks(world.workspace, tmp_path / "schools", exported=EXPORTED)
    secondary = next(p for p in paths if p.name.startswith("200-"))
    cells = all_cells(secondary)
    text = "\n".join(cells).lower()
    assert " gegeven" not in text and "gegeven\n" not in text
    for word in ("willems", "goossens", "toestemming", "geweigerd", "elders", "kanarielot",
                 "gardasil", *[c.lower() for c in canaries]):
        assert word not in text, word
    assert "1A" in cells and "1B" in cells and "09:15" in cells  # the classes and when they come
    weekly = run_weekly(world.workspace, tmp_path / "weekly", dt.date(2026, 10, 9))
    for path in weekly.files:
        if "200" in path.name and "D01" not in path.name:
            body = "\n".join(all_cells(path)).lower()
            assert "willems" not in body and "goossens" not in body, path.name


def test_combined_session_lists_the_contact_pupils_not_the_dose_list(tmp_path):
    world = build_plan_workspace(tmp_path)
    give_consent(world, tmp_path, {"Peeters": "clb", "Maes": "geweigerd"})
    primary = export_school_workbooks(world.workspace, tmp_path / "schools", ["100"], exported=EXPORTED)[0]
    cells = all_cells(primary)
    assert {"Peeters", "Maes", "Wouters"} <= set(cells)  # the whole L1 class, whatever the consent
    assert not any("toestemming" in c.lower() or "geweigerd" in c.lower() for c in cells)
