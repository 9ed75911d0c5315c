"""The workspace folder and the only package that speaks SQL: schema and numbered migrations
(migrations/NNNN_name.sql), the settings file, and one module per aggregate: pupils (bulk reads for
the due list), roster (pupils row by row), schools, history (events), staff (staff, absences,
closures), plan (the planner's tables), sessions (the plan as exports read it), audit, meta,
integrity (doctor's checks).

May import: readers, core. (To do: folder.py still loads the protocol, see tests/test_architecture.py.)
"""
