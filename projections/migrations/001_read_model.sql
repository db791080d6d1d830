-- The read model: derived from the events topic, rebuildable at any time.
-- Unqualified names: the migration runner sets search_path to the target schema,
-- so the same DDL builds the live schema and a rebuild beside it.
-- Every aggregate row carries `version` = the sequence of the last event applied to
-- it; the projector applies an event only if its sequence is greater (re-delivered
-- or re-emitted events are skipped).

CREATE TABLE organizations (
    org_id        text PRIMARY KEY,
    first_seen_at timestamptz NOT NULL
);

CREATE TABLE projects (
    id         uuid PRIMARY KEY,
    org_id     text NOT NULL,
    name       text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    version    integer NOT NULL
);
CREATE INDEX projects_org_idx ON projects (org_id, id);

CREATE TABLE assets (
    id           uuid PRIMARY KEY,
    org_id       text NOT NULL,
    project_id   uuid,
    path         text NOT NULL,
    kind         text NOT NULL,
    title        text NOT NULL DEFAULT '',
    container    text,
    duration_s   double precision,
    width        integer,
    height       integer,
    size_bytes   bigint,
    sha256       text,
    probe        jsonb NOT NULL DEFAULT '{}'::jsonb,
    lineage      jsonb,            -- set for assets made by a clip: source, range, mode, ffmpeg
    status       text NOT NULL DEFAULT 'registered',
    error        text,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    version      integer NOT NULL
);
CREATE INDEX assets_org_idx ON assets (org_id, id);
CREATE INDEX assets_project_idx ON assets (org_id, project_id);

CREATE TABLE queue_items (
    id           uuid PRIMARY KEY,
    org_id       text NOT NULL,
    project_id   uuid,
    asset_id     uuid,
    platform     text NOT NULL,
    title        text NOT NULL,
    description  text NOT NULL DEFAULT '',
    status       text NOT NULL,   -- scheduled|publishing|retrying|published|failed|cancelled
    schedule_at  timestamptz NOT NULL,
    timezone     text NOT NULL,
    target       jsonb NOT NULL DEFAULT '{}'::jsonb,
    attempts     integer NOT NULL DEFAULT 0,
    last_error   text,
    next_attempt_at timestamptz,
    post_id      uuid,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    version      integer NOT NULL
);
CREATE INDEX queue_items_org_idx ON queue_items (org_id, id);
CREATE INDEX queue_items_status_idx ON queue_items (org_id, status, id);
CREATE INDEX queue_items_project_idx ON queue_items (org_id, project_id, id);
CREATE INDEX queue_items_schedule_idx ON queue_items (schedule_at) WHERE status IN ('scheduled', 'retrying');

CREATE TABLE posts (
    id               uuid PRIMARY KEY,
    org_id           text NOT NULL,
    queue_item_id    uuid NOT NULL,
    platform         text NOT NULL,
    platform_post_id text NOT NULL,
    url              text,
    published_at     timestamptz NOT NULL,
    version          integer NOT NULL
);
CREATE INDEX posts_org_idx ON posts (org_id, id);

CREATE TABLE clips (
    id              uuid PRIMARY KEY,
    org_id          text NOT NULL,
    project_id      uuid,
    source_asset_id uuid,
    source_path     text,
    start_s         double precision NOT NULL,
    duration_s      double precision NOT NULL,
    format          text NOT NULL,
    mode            text NOT NULL,
    aspect          text NOT NULL,
    title           text NOT NULL DEFAULT '',
    status          text NOT NULL,   -- requested|running|succeeded|failed
    progress        double precision NOT NULL DEFAULT 0,
    output_asset_id uuid,
    actual_start_s  double precision,
    error           text,
    lineage         jsonb,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    version         integer NOT NULL
);
CREATE INDEX clips_org_idx ON clips (org_id, id);
CREATE INDEX clips_status_idx ON clips (org_id, status, id);

-- One row per command id: 'pending' once the command is on the commands topic,
-- then its one outcome. `fingerprint` lets the API refuse a reused idempotency key
-- with another body synchronously.
CREATE TABLE commands (
    command_id     uuid PRIMARY KEY,
    org_id         text NOT NULL,
    type           text NOT NULL,
    aggregate_type text NOT NULL,
    aggregate_id   uuid NOT NULL,
    fingerprint    text NOT NULL,
    outcome        text NOT NULL DEFAULT 'pending',  -- pending|applied|duplicate|rejected
    reason         text,
    status         integer,
    event_ids      uuid[] NOT NULL DEFAULT '{}',
    requested_at   timestamptz NOT NULL,
    decided_at     timestamptz
);
CREATE INDEX commands_org_idx ON commands (org_id, command_id);
CREATE INDEX commands_pending_idx ON commands (requested_at) WHERE outcome = 'pending';

-- Append-only index of every event, for audit and for checking a rebuild.
CREATE TABLE events (
    id             uuid PRIMARY KEY,
    org_id         text NOT NULL,
    type           text NOT NULL,
    version        integer NOT NULL,
    aggregate_type text NOT NULL,
    aggregate_id   uuid NOT NULL,
    sequence       integer NOT NULL,
    occurred_at    timestamptz NOT NULL,
    command_id     uuid NOT NULL,
    correlation_id uuid NOT NULL,
    causation_id   uuid NOT NULL,
    actor          jsonb NOT NULL,
    data           jsonb NOT NULL,
    position       bigserial NOT NULL   -- order of arrival in this read model, for cursors
);
CREATE INDEX events_org_position_idx ON events (org_id, position);
CREATE INDEX events_aggregate_idx ON events (org_id, aggregate_id, sequence);
CREATE INDEX events_type_idx ON events (org_id, type, position);

-- Where each projection stands, committed in the same transaction as its rows.
CREATE TABLE projection_offsets (
    projection  text NOT NULL,
    topic       text NOT NULL,
    partition   integer NOT NULL,
    next_offset bigint NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, topic, partition)
);
