CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE schools (
    school_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    street TEXT,
    postcode TEXT,
    municipality TEXT,
    lat REAL,
    lon REAL,
    level TEXT,
    updated_at TEXT NOT NULL
);
CREATE TABLE pupils (
    pupil_id INTEGER PRIMARY KEY,
    insz TEXT UNIQUE,
    school_id TEXT NOT NULL REFERENCES schools(school_id),
    pupil_number TEXT,
    last_name TEXT NOT NULL,
    first_name TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    sex TEXT NOT NULL CHECK (sex IN ('M', 'V', 'X')),
    class_name TEXT,
    grade TEXT,
    education TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    left_on TEXT,
    first_imported TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX pupils_by_school ON pupils(school_id, pupil_number);
CREATE INDEX pupils_by_name ON pupils(school_id, last_name, first_name, birth_date);
CREATE TABLE events (
    event_id INTEGER PRIMARY KEY,
    pupil_id INTEGER NOT NULL REFERENCES pupils(pupil_id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    date TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN
        ('done', 'done_external', 'absent', 'objected', 'consent_given', 'consent_refused')),
    staff_id TEXT NOT NULL DEFAULT '',
    source TEXT,
    imported_at TEXT NOT NULL,
    UNIQUE (pupil_id, code, date, status, staff_id)
);
CREATE INDEX events_by_pupil ON events(pupil_id);
CREATE TABLE audit (
    audit_id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    user TEXT NOT NULL,
    command TEXT NOT NULL,
    files TEXT NOT NULL DEFAULT '',
    counts TEXT NOT NULL DEFAULT '{}'
);
