-- 2 -> 3: a session does each role's part of a moment: which roles a pupil's row is for, and the
-- session's parts ([{moment, role}]) as JSON. Rows of older plans: every role of the session.
ALTER TABLE session_pupils ADD COLUMN roles TEXT;
ALTER TABLE sessions ADD COLUMN parts TEXT;
