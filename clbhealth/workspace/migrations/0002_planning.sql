CREATE TABLE staff (
    staff_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    base_lat REAL,
    base_lon REAL,
    availability TEXT NOT NULL,
    schools TEXT NOT NULL DEFAULT '',
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    updated_at TEXT NOT NULL
);
CREATE TABLE absences (
    absence_id INTEGER PRIMARY KEY,
    staff_id TEXT NOT NULL REFERENCES staff(staff_id) ON DELETE CASCADE,
    date_from TEXT NOT NULL,
    date_to TEXT NOT NULL,
    part TEXT CHECK (part IN ('am', 'pm')),
    imported_at TEXT NOT NULL,
    UNIQUE (staff_id, date_from, date_to, part)
);
CREATE TABLE closures (
    closure_id INTEGER PRIMARY KEY,
    school_id TEXT NOT NULL REFERENCES schools(school_id) ON DELETE CASCADE,
    date_from TEXT NOT NULL,
    date_to TEXT NOT NULL,
    part TEXT CHECK (part IN ('am', 'pm')),
    reason TEXT NOT NULL DEFAULT '',
    imported_at TEXT NOT NULL,
    UNIQUE (school_id, date_from, date_to, part)
);
CREATE TABLE plans (
    plan_id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    date_from TEXT NOT NULL,
    date_to TEXT NOT NULL,
    seed INTEGER NOT NULL,
    time_limit REAL NOT NULL,
    workers INTEGER NOT NULL,
    keep_until TEXT,
    summary TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE sessions (
    session_id TEXT PRIMARY KEY,
    plan_id INTEGER NOT NULL REFERENCES plans(plan_id),
    date TEXT NOT NULL,
    part TEXT NOT NULL CHECK (part IN ('am', 'pm')),
    start TEXT NOT NULL,
    end TEXT NOT NULL,
    school_id TEXT NOT NULL REFERENCES schools(school_id),
    minutes INTEGER NOT NULL,
    moments TEXT NOT NULL,
    classes TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'regular' CHECK (kind IN ('regular', 'catch_up')),
    created_at TEXT NOT NULL
);
CREATE INDEX sessions_by_date ON sessions(date, part);
CREATE INDEX sessions_by_school ON sessions(school_id, date);
CREATE TABLE session_staff (
    session_id TEXT NOT NULL REFERENCES sessions(session_id) ON DELETE CASCADE,
    staff_id TEXT NOT NULL REFERENCES staff(staff_id),
    role TEXT NOT NULL,
    travel_km REAL NOT NULL DEFAULT 0,
    travel_minutes INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (session_id, staff_id)
);
CREATE INDEX session_staff_by_staff ON session_staff(staff_id);
CREATE TABLE session_pupils (
    session_id TEXT NOT NULL REFERENCES sessions(session_id) ON DELETE CASCADE,
    pupil_id INTEGER NOT NULL REFERENCES pupils(pupil_id) ON DELETE CASCADE,
    moment TEXT NOT NULL,
    minutes INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    start TEXT NOT NULL,
    outcome TEXT CHECK (outcome IN ('seen', 'absent', 'refused', 'objected')),
    PRIMARY KEY (session_id, pupil_id, moment)
);
CREATE INDEX session_pupils_by_pupil ON session_pupils(pupil_id, moment);
CREATE TABLE unplanned (
    plan_id INTEGER NOT NULL REFERENCES plans(plan_id) ON DELETE CASCADE,
    pupil_id INTEGER NOT NULL REFERENCES pupils(pupil_id) ON DELETE CASCADE,
    moment TEXT NOT NULL,
    school_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (plan_id, pupil_id, moment)
);
