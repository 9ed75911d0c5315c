"""The due rows of every code as one DataFrame with categorical text columns."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from clbhealth.protocols.due_base import (
    _NO_DAY,
    OUTPUT_COLUMNS,
    STATUSES,
    _History,
    _iso1,
    _Part,
    _Pupils,
    _Texts,
)
from clbhealth.protocols.model import Rule


def _categorical(codes: np.ndarray, labels: list | np.ndarray) -> pd.Categorical:
    """A categorical of the used labels only, in sorted order when the labels can be sorted."""
    labels = list(labels)
    used = np.flatnonzero(np.bincount(codes[codes >= 0], minlength=len(labels)))
    chosen = [labels[i] for i in used.tolist()]
    try:
        order = sorted(range(len(chosen)), key=chosen.__getitem__)
    except TypeError:
        order = list(range(len(chosen)))
    remap = np.full(len(labels) + 1, -1, dtype=np.int64)
    remap[used[order]] = np.arange(len(order))
    categories = pd.Index([chosen[i] for i in order])
    return pd.Categorical.from_codes(remap[codes], categories=categories)


def _pupil_column(column: pd.Series, pos: np.ndarray):
    """A pupil column at the rows' positions: categoricals stay categoricals."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return _categorical(column.cat.codes.to_numpy()[pos].astype(np.int64), column.cat.categories)
    return column.to_numpy(dtype=object)[pos]


def _assemble(pupils: pd.DataFrame, people: _Pupils, history: _History, parts: list[tuple[int, Rule, _Part]],
              codes: list[str], texts: _Texts) -> pd.DataFrame:
    if not parts:
        columns = OUTPUT_COLUMNS + ["kind", "series", "due_from_date", "absent_on", "excluded_staff"]
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    # Each part is in pupil order; a stable sort on the pupil merges them: pupil order, then protocol order.
    pos = np.concatenate([part.pos for _, _, part in parts])
    order = np.argsort(pos, kind="stable")
    pos = pos[order]

    def joined(values: Callable[[int, Rule, _Part], np.ndarray]) -> np.ndarray:
        return np.concatenate([values(rank, rule, part) for rank, rule, part in parts])[order]

    sizes = [len(part.pos) for _, _, part in parts]
    rank = np.repeat(np.array([r for r, _, _ in parts], dtype=np.int64), sizes)[order]
    kinds = ["contact", "vaccination"]
    kind = np.repeat(np.array([kinds.index(rule.kind) for _, rule, _ in parts], dtype=np.int64), sizes)[order]
    series_names = list(dict.fromkeys((rule.series or codes[r]) for r, rule, _ in parts))
    series = np.repeat(np.array([series_names.index(rule.series or codes[r]) for r, rule, _ in parts],
                                dtype=np.int64), sizes)[order]
    due_from = joined(lambda r, rule, part: part.due_from)
    due_days, due_code = np.unique(due_from.view(np.int64), return_inverse=True)
    due_text = ["" if d == _NO_DAY else _iso1(d) for d in due_days.tolist()]
    out = pd.DataFrame(
        {
            "pupil_id": pupils["pupil_id"].to_numpy()[pos],
            "last_name": _pupil_column(pupils["last_name"], pos),
            "first_name": _pupil_column(pupils["first_name"], pos),
            "school_id": _pupil_column(pupils["school_id"], pos),
            "class": _pupil_column(pupils["class_name"], pos),
            "grade": _pupil_column(pupils["grade"], pos),
            "moment": _categorical(rank, codes),
            "status": _categorical(joined(lambda r, rule, part: part.status).astype(np.int64), STATUSES),
            "reason": _categorical(joined(lambda r, rule, part: part.reason).astype(np.int64), texts.values),
            "due_from": _categorical(due_code.reshape(-1).astype(np.int64), due_text),
            "kind": _categorical(kind, kinds),
            "series": _categorical(series, series_names),
            "due_from_date": due_from,
            "absent_on": joined(lambda r, rule, part: part.absent_on),
            "excluded_staff": _categorical(history.excluded_code[pos], history.excluded_labels),
        }
    )
    return out
