"""The sample CLB's fixed facts: its school year, seed, CLB number and the last day of its history."""

from __future__ import annotations

import datetime as dt

from clbhealth.core.dates import SchoolYear

SAMPLE_YEAR = SchoolYear(2026)
SAMPLE_SEED = 2026
SAMPLE_CLB = "114322"  # the CLB serving the Kempen sites in the excerpt
SAMPLE_HISTORY_UNTIL = dt.date(2026, 11, 27)
