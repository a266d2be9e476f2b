-- Re-use that can be verified (issue 15). An adoption is an organization's
-- declaration that it uses a solution, published by its own actor; one
-- per organization and solution. The solution is named by its ActivityPub
-- id, so declarations of solutions on other nodes are kept even where the
-- solution itself is not. Remote declarations keep their id at home
-- (ap_id); home_organization_id is set when the solution is one of this
-- node's, whose organization then tells its followers (Add/Remove).
CREATE TABLE adoptions (
    id                    TEXT PRIMARY KEY NOT NULL,
    organization_id       TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    solution_ap_id        TEXT NOT NULL,
    ap_id                 TEXT UNIQUE,
    home_organization_id  TEXT REFERENCES organizations(id) ON DELETE SET NULL,
    content               TEXT NOT NULL,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL,
    UNIQUE (organization_id, solution_ap_id)
);
CREATE INDEX adoptions_solution ON adoptions(solution_ap_id);

-- Remote declarations withdrawn: a Create that arrives after its Delete
-- (out of order) stays withdrawn.
CREATE TABLE withdrawn_adoptions (
    ap_id         TEXT PRIMARY KEY NOT NULL,
    withdrawn_at  TIMESTAMPTZ NOT NULL
);

-- Variants name their original inside the solution's content.
CREATE INDEX solutions_variant_of ON solutions (((content::jsonb) ->> 'variant_of'));
