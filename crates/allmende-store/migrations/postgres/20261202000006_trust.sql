-- A network public bodies can trust (issue 10).

-- Sign-in limits as counters that one statement reads and raises, so that
-- parallel attempts cannot all pass a check made before any of them is
-- counted. A key is "email:<address>" or "client:<ip>".
DROP TABLE login_failures;
CREATE TABLE login_attempts (
    key           TEXT PRIMARY KEY,
    window_start  TIMESTAMPTZ NOT NULL,
    failures      BIGINT NOT NULL
);

-- Who becomes a follower without approval (FollowerApproval): a row only
-- for organizations that changed the default ("trusted").
CREATE TABLE follower_approval (
    organization_id  TEXT PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
    approval         TEXT NOT NULL
);

-- The operators' federation policy: domains blocked, allowed (in
-- allow-list mode only these federate) and trusted (their organizations
-- become followers without approval). An entry with a port names exactly
-- that host and port; without, the host and its subdomains.
CREATE TABLE domain_policy (
    domain      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    note        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (domain, kind)
);

-- Every change of the policy, by whom, never deleted by the node.
CREATE TABLE policy_audit (
    id          TEXT PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    domain      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    note        TEXT NOT NULL
);
CREATE INDEX policy_audit_at ON policy_audit(at);

-- Whether an organization is who it says: its official website links to
-- its actor (rel="me") and the actor names the website. Re-checked
-- periodically and after every profile change.
CREATE TABLE identity_checks (
    organization_id  TEXT PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
    website          TEXT,          -- the website checked; NULL: none given
    verified_at      TIMESTAMPTZ,            -- verified since; NULL: not verified
    checked_at       TIMESTAMPTZ NOT NULL,
    problem          TEXT           -- why not, for the profile page
);

-- A remote actor's Ed25519 key (FEP-521a Multikey), for RFC 9421
-- signatures made with it.
ALTER TABLE remote_actors ADD COLUMN ed25519_key_id TEXT;
ALTER TABLE remote_actors ADD COLUMN ed25519_key TEXT;
CREATE UNIQUE INDEX remote_actors_ed25519_key_id ON remote_actors(ed25519_key_id);

-- Optional second factor (TOTP, RFC 6238): the secret once confirmed, one
-- waiting for confirmation, and the last time step used (a code works
-- once).
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_pending TEXT;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;

-- A password checked, a code still to come: a short-lived, one-use token
-- (its SHA-256 digest) that stands for the user between the two steps.
CREATE TABLE login_challenges (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at  TIMESTAMPTZ NOT NULL
);
