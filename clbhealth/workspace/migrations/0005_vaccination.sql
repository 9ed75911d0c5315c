-- Vaccination as a CLB runs it (issue 11): consent forms, lots, what was given, Vaccinnet registration
-- Every returned consent form is kept, and a later form for the same pupil and series replaces the earlier
-- one (replaced_by), and only the current form's events stay in `events` (source 'consent form N').
CREATE TABLE consent_forms (
    form_id INTEGER PRIMARY KEY,
    pupil_id INTEGER NOT NULL REFERENCES pupils(pupil_id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    series TEXT NOT NULL,
    choice TEXT NOT NULL CHECK (choice IN ('clb', 'refused', 'own_doctor', 'already')),
    signed_on TEXT NOT NULL,
    signed_by TEXT NOT NULL CHECK (signed_by IN ('parent', 'pupil')),
    done_on TEXT,
    file TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    replaced_by INTEGER REFERENCES consent_forms(form_id)
);
CREATE INDEX consent_forms_by_pupil ON consent_forms(pupil_id, series);
CREATE TABLE lots (
    product TEXT NOT NULL,
    lot TEXT NOT NULL,
    expiry TEXT NOT NULL,
    doses INTEGER,
    imported_at TEXT NOT NULL,
    PRIMARY KEY (product, lot)
);
-- One row per dose given in a CLB session (import results): product, lot, vaccinator, and when it went
-- to Vaccinnet. A pupil not vaccinated in the session has why_not instead.
CREATE TABLE doses (
    session_id TEXT NOT NULL,
    pupil_id INTEGER NOT NULL REFERENCES pupils(pupil_id) ON DELETE CASCADE,
    moment TEXT NOT NULL,
    date TEXT NOT NULL,
    given INTEGER NOT NULL CHECK (given IN (0, 1)),
    product TEXT,
    lot TEXT,
    vaccinator TEXT,
    why_not TEXT,
    registered_at TEXT,
    imported_at TEXT NOT NULL,
    PRIMARY KEY (session_id, pupil_id, moment)
);
CREATE INDEX doses_by_date ON doses(date);
ALTER TABLE staff ADD COLUMN riziv TEXT;
