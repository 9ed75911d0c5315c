-- 2 -> 3: a session does each role's part of a moment. session_pupils.roles: the roles a pupil's row
-- is for (older plans: every role of the session). sessions.parts: the session's parts as JSON
-- [{moment, role}]. sessions.announced_on: the as-of day of the plan that gave the session its
-- half-day (a kept session keeps it), against which plan check measures the notice period.
-- (No semicolon inside a comment: the scripts are split on them.)
ALTER TABLE session_pupils ADD COLUMN roles TEXT;
ALTER TABLE sessions ADD COLUMN parts TEXT;
ALTER TABLE sessions ADD COLUMN announced_on TEXT;
