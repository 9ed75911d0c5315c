"""The planner: who visits which school in which half-day, solved with OR-Tools CP-SAT.

Stages (each in its own module):
  calendar.py  school half-days, staff availability, absences, closures
  demand.py    due pupils -> class jobs -> visits (packing into half-day blocks)
  staffing.py  stage 1 (CP-SAT): teams and the person per role for each school
  timetable.py stage 2 (CP-SAT, per team): the half-day of every visit
  greedy.py    the by-hand baseline; bounds.py independent lower bounds
  check.py     every hard rule, checked on a stored plan without the solver
  solve.py     the orchestration, re-planning and the summary

May import: core, and (its own floor, without circles) protocols; calendar.py still takes the workspace
settings' Planning (to remove: the scheduler is pure).
"""
