-- Reference data (issue 14): the public services with their names, and
-- Länder, districts and municipalities with AGS, name and population.
-- Loaded from the files shipped with Allmende at start-up (when empty) and
-- from official publications by `allmende data import`.
CREATE TABLE ref_services (
    key         TEXT PRIMARY KEY NOT NULL,   -- leika:<14 digits> or ozg:<id>
    name        TEXT NOT NULL,
    themenfeld  TEXT,
    source      TEXT NOT NULL
);

CREATE TABLE ref_places (
    ags         TEXT PRIMARY KEY NOT NULL,   -- 2 (Land), 5 (Kreis) or 8 digits
    name        TEXT NOT NULL,
    level       TEXT NOT NULL,
    land        TEXT NOT NULL,
    population  BIGINT,
    source      TEXT NOT NULL
);
CREATE INDEX ref_places_name ON ref_places(name);
