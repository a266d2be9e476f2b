-- Associations and networks as groups (issue 13, FEP-1b12).

-- Which group carries which item, by the item's ActivityPub id (for a
-- local item its URL here): on the author's node, the groups it was
-- published to; on a group's node, what its members posted; on a
-- follower's node, what a group announced. `item_kind`/`item_id` name the
-- row here (a local item or the copy of a remote one).
CREATE TABLE group_items (
    group_id    TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    object_id   TEXT NOT NULL,
    item_kind   TEXT NOT NULL,
    item_id     TEXT NOT NULL,
    author_id   TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    added_at    TEXT NOT NULL,
    PRIMARY KEY (group_id, object_id)
);
CREATE INDEX group_items_object ON group_items(object_id);
CREATE INDEX group_items_listed ON group_items(group_id, added_at);

-- The activities a local group has announced, so that it announces none
-- twice (two networks that follow each other).
CREATE TABLE group_announced (
    group_id      TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    activity_id   TEXT NOT NULL,
    announced_at  TEXT NOT NULL,
    PRIMARY KEY (group_id, activity_id)
);

-- Members a local group's admins blocked: they can neither join nor post.
CREATE TABLE group_blocks (
    group_id         TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    blocked_at       TEXT NOT NULL,
    PRIMARY KEY (group_id, organization_id)
);

-- Every moderation action of a local group, by whom, never deleted by the
-- node (only with the group).
CREATE TABLE group_moderation (
    id         TEXT PRIMARY KEY,
    group_id   TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    at         TEXT NOT NULL,
    moderator  TEXT NOT NULL,
    action     TEXT NOT NULL,
    subject    TEXT NOT NULL
);
CREATE INDEX group_moderation_at ON group_moderation(group_id, at);
