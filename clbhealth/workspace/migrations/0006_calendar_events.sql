-- What each staff calendar last said of every event (issue 14): a changed session keeps its UID and
-- gets a higher SEQUENCE, and a session that is gone is sent once more as STATUS:CANCELLED, so calendar
-- programs update or remove the event instead of keeping a stale copy or duplicating it.
CREATE TABLE calendar_events (
    uid TEXT PRIMARY KEY,
    staff_id TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    stamp TEXT NOT NULL,
    dtstart TEXT NOT NULL,
    dtend TEXT NOT NULL,
    summary TEXT NOT NULL,
    cancelled INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX calendar_events_by_staff ON calendar_events(staff_id);
