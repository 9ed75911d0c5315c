"""The planner: who visits which school in which half-day. Pure: a planning problem in, a plan
out; no settings object, no SQL. Imports only core/ and its own modules.

  model.py     the problem's data: people, sites, tasks (a pupil's part for one role), visits
  calendar.py  school half-days, availability, absences, closures (the `holidays` package)
  demand.py    due pupils -> each role's tasks -> visits (packing into half-day blocks)
  goals.py     every soft goal, declared once (name, unit, weight, what it measures)
  assign.py    stage 1 (min-cost flow): the person of every visit, no fixed teams
  timetable.py stage 2 (CP-SAT, one model per person): the half-day of every visit
  solve.py     the orchestration: substitutes, stages, repair
  metrics.py   the plan measured: goals, utilisation per role and person
  bounds.py    independent bounds: coverage (LP), visits, travel
  greedy.py    the by-hand baseline; check.py every hard rule on a stored plan

May import: core (and calendar.py the workspace settings' Planning type), and its own modules.
"""
