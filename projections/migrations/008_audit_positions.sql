-- The audit index records where on the log each event was read (the first copy of
-- its id), and pages by what a rebuilt model holds too: occurred_at, then sequence,
-- then id. `position` (arrival in this schema) differs after a rebuild, so cursors
-- built from it broke at every swap; the two indexes that served them go.
-- Rows projected before this migration keep NULL positions until the next rebuild.
ALTER TABLE events
    ADD COLUMN log_topic     text,
    ADD COLUMN log_partition integer,
    ADD COLUMN log_offset    bigint;

DROP INDEX IF EXISTS events_org_position_idx;
DROP INDEX IF EXISTS events_type_idx;
CREATE INDEX events_org_time_idx ON events (org_id, occurred_at, sequence, id);
CREATE INDEX events_type_time_idx ON events (org_id, type, occurred_at, sequence, id);
