-- Moving an organization to another node (ActivityPub `Move`).
--
-- `also_known_as`: the actor ids an organization of this node had before
-- it was imported here (JSON array); its actor document lists them, and a
-- follower's node checks that list before following it here.
-- `moved_to`: the actor id an organization moved to (a local one after
-- `allmende org move`, a remote one after its `Move` arrived).
ALTER TABLE organizations ADD COLUMN also_known_as TEXT;
ALTER TABLE organizations ADD COLUMN moved_to TEXT;

-- The followers an imported organization had at its old home: their
-- follows are accepted at once, whatever the organization's approval
-- setting, because they had been admitted there. A row goes once it was
-- used.
CREATE TABLE expected_followers (
    organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    actor_id         TEXT NOT NULL,
    PRIMARY KEY (organization_id, actor_id)
);
