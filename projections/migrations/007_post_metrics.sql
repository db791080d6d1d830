-- Reading back (docs/publishing.md, "Reading back"): a post's latest figures and when
-- the publisher read them, from queue.PostMetricsRecorded. NULL figures: not read
-- yet, or the platform has no such figure (Discord and webhooks have none at all).
ALTER TABLE post_rows
    ADD COLUMN views           bigint,
    ADD COLUMN likes           bigint,
    ADD COLUMN comments        bigint,
    ADD COLUMN shares          bigint,
    ADD COLUMN metrics_read_at timestamptz,
    ADD COLUMN metrics_round   integer NOT NULL DEFAULT 0,
    -- When the platform said the post does not exist any more (then no more reads).
    ADD COLUMN gone_at         timestamptz;

DROP VIEW posts;
CREATE VIEW posts AS
    SELECT p.id, p.org_id, p.queue_item_id, q.platform, p.platform_post_id, p.url,
           p.published_at, p.version, p.attempt, p.views, p.likes, p.comments, p.shares,
           p.metrics_read_at, p.metrics_round, p.gone_at
    FROM post_rows p JOIN queue_items q ON q.id = p.queue_item_id AND q.org_id = p.org_id;
