-- 3 -> 4: schools as the official list has them. A row of `schools` is a site (vestigingsplaats):
-- school_id is the site id (the schoolnummer for intern_vplnummer 1, `schoolnummer-N` otherwise),
-- school_number the institution, site_number its intern_vplnummer, main_site 1 for the main site.
-- special = buitengewoon onderwijs, listed = 0 once a newer official list no longer has the site.
ALTER TABLE schools ADD COLUMN school_number TEXT;
ALTER TABLE schools ADD COLUMN site_number INTEGER;
ALTER TABLE schools ADD COLUMN main_site INTEGER NOT NULL DEFAULT 1;
ALTER TABLE schools ADD COLUMN special INTEGER NOT NULL DEFAULT 0;
ALTER TABLE schools ADD COLUMN phone TEXT;
ALTER TABLE schools ADD COLUMN email TEXT;
ALTER TABLE schools ADD COLUMN clb TEXT;
ALTER TABLE schools ADD COLUMN listed INTEGER NOT NULL DEFAULT 1;
UPDATE schools SET special = 1 WHERE level = 'buitengewoon';
UPDATE schools SET school_number = school_id;
CREATE INDEX schools_by_number ON schools(school_number);
