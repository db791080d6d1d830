-- Publishing as its events describe it (queue.Publish*, queue.Item*, connection.*).
-- Added columns go at the end of their tables (see 003): a schema migrated step by
-- step and one built from scratch have the same column order and checksum.

-- The queue item's lifecycle now also has 'unconfirmed' (outcome unknown, an operator
-- decides); `status` follows streams/domain/queue.py exactly.
ALTER TABLE queue_items ADD COLUMN connection_id uuid;
-- The client's own text of schedule_at (schedule_at itself is the UTC instant).
ALTER TABLE queue_items ADD COLUMN schedule_local text;
-- Why the item is where it is, for people: a failure's or an unconfirmed item's
-- reason, a system reschedule's (quota), a cancellation's. NULL once it moves on.
ALTER TABLE queue_items ADD COLUMN reason text;
-- The last failed attempt's error class (last_error holds its summary).
ALTER TABLE queue_items ADD COLUMN error_class text;
-- Set by a failure that asks the user to fix or reconnect the connection.
ALTER TABLE queue_items ADD COLUMN connection_broken boolean NOT NULL DEFAULT false;
-- When the scheduler may start the next attempt: next_attempt_at, else schedule_at,
-- while the item is scheduled or retrying; NULL otherwise. Overdue = due_at < now - 60 s.
ALTER TABLE queue_items ADD COLUMN due_at timestamptz;
CREATE INDEX queue_items_org_schedule_idx ON queue_items (org_id, schedule_at, id);
CREATE INDEX queue_items_due_idx ON queue_items (org_id, due_at) WHERE due_at IS NOT NULL;
CREATE INDEX queue_items_connection_idx ON queue_items (org_id, connection_id)
    WHERE connection_id IS NOT NULL;

-- One row per attempt. Keyed by a surrogate derived from item and attempt number
-- (the projector's tables have one key column); (org_id, item_id, attempt) is unique
-- and is what readers look attempts up by.
CREATE TABLE publish_attempts (
    id                    uuid PRIMARY KEY,   -- derived_id(item_id, 'publish-attempt:<n>')
    org_id                text NOT NULL,
    item_id               uuid NOT NULL,
    attempt               integer NOT NULL,
    attempt_id            text NOT NULL,      -- what the platform saw (webhook-id, marker)
    adapter               text NOT NULL,
    fingerprint           text NOT NULL,
    outcome               text NOT NULL,      -- publishing|published|failed|unconfirmed
    started_at            timestamptz NOT NULL,
    finished_at           timestamptz,
    error_class           text,
    platform_status       integer,
    summary               text,
    next_attempt_at       timestamptz,
    -- The earlier attempt id this attempt had to reconcile first, and what was found.
    reconcile_attempt_id  text,
    reconciled_attempt_id text,
    reconcile_finding     text,               -- published|not-published|resend-safe|cannot-know
    reconcile_detail      text,
    platform_post_id      text,
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL,
    version               integer NOT NULL
);
CREATE UNIQUE INDEX publish_attempts_item_idx ON publish_attempts (org_id, item_id, attempt);

-- The seed schema's posts table needed the platform, which ItemPublished does not
-- carry (it is the item's). Nothing ever wrote it, so it is replaced: post_rows
-- holds what the event says, and `posts` is a view that takes the platform from the
-- item, with the columns the old table had (plus attempt).
DROP TABLE posts;
CREATE TABLE post_rows (
    id               uuid PRIMARY KEY,        -- derived_id(item_id, 'post')
    org_id           text NOT NULL,
    queue_item_id    uuid NOT NULL,
    attempt          integer NOT NULL,
    platform_post_id text NOT NULL,
    url              text,
    published_at     timestamptz NOT NULL,
    version          integer NOT NULL
);
CREATE INDEX post_rows_org_idx ON post_rows (org_id, id);
CREATE INDEX post_rows_item_idx ON post_rows (org_id, queue_item_id);
CREATE INDEX post_rows_published_idx ON post_rows (org_id, published_at, id);
CREATE VIEW posts AS
    SELECT p.id, p.org_id, p.queue_item_id, q.platform, p.platform_post_id, p.url,
           p.published_at, p.version, p.attempt
    FROM post_rows p JOIN queue_items q ON q.id = p.queue_item_id AND q.org_id = p.org_id;

-- Publishing accounts, as their events describe them. Never the sealed credentials
-- (those live in the vault's key table, which no read-model code reads).
CREATE TABLE connections (
    id         uuid PRIMARY KEY,
    org_id     text NOT NULL,
    platform   text NOT NULL,
    name       text NOT NULL,
    status     text NOT NULL,   -- active|deleted
    created_at timestamptz NOT NULL,
    deleted_at timestamptz,
    updated_at timestamptz NOT NULL,
    version    integer NOT NULL
);
CREATE INDEX connections_org_idx ON connections (org_id, id);
CREATE INDEX connections_status_idx ON connections (org_id, status, id);
