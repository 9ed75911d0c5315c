"""Who is due for which contact moment and vaccination dose, and why: vectorised over all pupils.

`compute_due` is pure: it takes the pupils and their history as DataFrames and returns one row
per (pupil, moment) that matters this school year, with a status and a one-sentence reason.
Every rule works on whole NumPy columns; there is no Python loop over pupils.

Positions: a graded pupil's position relative to a target grade is `grade index - target
index` (0 = in the grade now, 2 = two years past it). A pupil without a grade (home education,
OKAN, special education without year grades) and every pupil for K1 (planned by birth year) is
placed by age instead: `Y - birth year - cohort age`, 0 meaning "in the cohort this year".

Speed (1.2 million pupils): text columns are turned into integer codes once (categoricals pass
straight through), the history is reduced with `np.minimum.at`/`np.maximum.at` instead of sorts
and group-bys, and a reason is written once per distinct combination of the values it quotes
(most reasons repeat, e.g. "grade L1"), then mapped onto the rows. Repeated text columns of the
result are categoricals.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pandas as pd

from clbhealth.core.dates import SchoolYear
from clbhealth.protocols.due_base import (  # noqa: F401 (the public names of the due computation)
    _STATUS,
    BY_AGE_EDUCATION,
    EVENT_STATUSES,
    OPEN_STATUSES,
    OUTPUT_COLUMNS,
    STATUSES,
    DueSettings,
    _Part,
    _Texts,
)
from clbhealth.protocols.due_frame import (
    _assemble,
)
from clbhealth.protocols.due_inputs import (
    _history_arrays,
    _pupil_arrays,
    _vaccination_view,
)
from clbhealth.protocols.due_rules import (
    _contact,
    _follow_up_dose,
    _targeted_dose,
)
from clbhealth.protocols.model import Protocol, Rule


def compute_due(
    pupils: pd.DataFrame,
    events: pd.DataFrame,
    protocol: Protocol,
    year: SchoolYear,
    as_of: dt.date,
    settings: DueSettings | None = None,
    *,
    statuses: tuple[str, ...] | None = OPEN_STATUSES,
    moments: tuple[str, ...] | None = None,
    levels: Mapping[str, str | None] | None = None,
) -> pd.DataFrame:
    """Due list for `year` as of `as_of`.

    `pupils` needs pupil_id, last_name, first_name, school_id, class_name, grade, education,
    birth_date; `events` needs pupil_id, code, date, status, staff_id (text columns may be
    categoricals, dates may be datetime64). Rows come out in pupil order, then protocol order.
    Extra columns beyond OUTPUT_COLUMNS: kind, series, due_from_date, absent_on, excluded_staff
    (for the planner). Repeated text columns are categoricals. `levels` (school id -> kleuter,
    lager, basis, secundair) limits a graded pupil's moments of this year to the grades its school
    teaches (a pupil written S3 at a lager school is not due for S3 there; the import warned).
    """
    settings = settings or DueSettings()
    protocol.check_year(year)
    statuses = tuple(statuses or OPEN_STATUSES)
    codes = [c for c in protocol.codes(year) if moments is None or c in moments]
    people = _pupil_arrays(pupils, year, as_of, levels)
    by_age_for_doses = _vaccination_view(people, protocol)
    history = _history_arrays(pupils, events, protocol, as_of, people.n)
    wanted = np.array(sorted({_STATUS[s] for s in statuses if s in _STATUS}), dtype=np.int8)
    texts = _Texts()

    parts: list[tuple[int, Rule, _Part]] = []
    for rank, code in enumerate(codes):
        current = protocol.rule(code, year)
        assert current is not None
        if current.follows:
            part = _follow_up_dose(code, current, protocol, by_age_for_doses, history, year, wanted, texts, settings)
        elif current.is_vaccination:
            part = _targeted_dose(code, protocol, by_age_for_doses, history, year, wanted, texts)
        else:
            part = _contact(code, protocol, people, history, year, settings, wanted, texts)
        if part is not None and len(part.pos):
            parts.append((rank, current, part))
    return _assemble(pupils, people, history, parts, codes, texts)


