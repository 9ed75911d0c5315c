"""Kept for cli/plan.py, which another branch is changing: the frame writers now live in exports/frames.py."""

from clbhealth.exports.frames import PLAIN_TABLE_ROWS, plain_table, write_frame  # noqa: F401
