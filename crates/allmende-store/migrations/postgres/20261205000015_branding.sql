-- An organization's logo (PNG, re-encoded by the node from the upload) and
-- the colour of its pages' header. Only for organizations of this node.
CREATE TABLE organization_branding (
    organization_id  TEXT PRIMARY KEY NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    logo_png         BYTEA,
    color            TEXT,
    updated_at       TIMESTAMPTZ NOT NULL
);
