-- Integrations (integration.*): a Discord application or a Twitch EventSub binding of
-- an organization. Never a secret here: the Twitch secret lives sealed in the vault
-- schema, which rebuilds never touch; the Discord public key is public.
CREATE TABLE integrations (
    id                   uuid PRIMARY KEY,
    org_id               text NOT NULL,
    platform             text NOT NULL,      -- discord | twitch
    name                 text NOT NULL,
    scopes               jsonb NOT NULL,     -- what the integration's bot may do
    application_id       text,               -- discord
    public_key           text,               -- discord, hex Ed25519
    broadcaster_user_id  text,               -- twitch
    recording_project_id uuid,               -- twitch: `!clip` cuts the project's latest...
    recording_asset_id   uuid,               -- ...or this asset
    status               text NOT NULL,      -- active | revoked | deleted
    revoked_reason       text,
    created_at           timestamptz NOT NULL,
    deleted_at           timestamptz,
    updated_at           timestamptz NOT NULL,
    version              integer NOT NULL
);
CREATE INDEX integrations_org_idx ON integrations (org_id, id);
