-- Outbound webhooks as their events describe them (webhook.*). Never a secret: the
-- secrets are derived from the subscription's data key in the vault's key table.

CREATE TABLE webhooks (
    id                         uuid PRIMARY KEY,
    org_id                     text NOT NULL,
    url                        text NOT NULL,
    event_types                jsonb NOT NULL,
    description                text NOT NULL,
    status                     text NOT NULL,   -- active|disabled|deleted
    disabled_reason            text,
    -- The last rotation, and until when the secrets before it still sign deliveries.
    secret_rotated_at          timestamptz,
    previous_secret_expires_at timestamptz,
    created_at                 timestamptz NOT NULL,
    deleted_at                 timestamptz,
    updated_at                 timestamptz NOT NULL,
    version                    integer NOT NULL
);
CREATE INDEX webhooks_org_idx ON webhooks (org_id, id);

-- One row per delivery (a subscription, an event, and the replay that re-delivered it,
-- if any): derived_id(subscription, 'delivery:<event>:<replay or live>').
CREATE TABLE webhook_deliveries (
    id               uuid PRIMARY KEY,
    org_id           text NOT NULL,
    subscription_id  uuid NOT NULL,
    event_id         uuid NOT NULL,
    event_type       text NOT NULL,
    replay_id        uuid,
    status           text NOT NULL,   -- delivered|retrying|dead|disabled|dropped
    attempts         integer NOT NULL,
    response_status  integer,         -- the last attempt's HTTP status (NULL: no answer)
    response_codes   jsonb NOT NULL,  -- every attempt's status, in order (null: no answer)
    summary          text NOT NULL,
    next_attempt_at  timestamptz,
    first_attempt_at timestamptz NOT NULL,
    last_attempt_at  timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    version          integer NOT NULL
);
CREATE INDEX webhook_deliveries_sub_idx ON webhook_deliveries (org_id, subscription_id, id);
CREATE INDEX webhook_deliveries_status_idx
    ON webhook_deliveries (org_id, subscription_id, status, id);
