-- Assets and clips as their events describe them (asset.*, clip.*).
-- Added columns go at the end of their tables, so a schema migrated step by step
-- and one built from scratch (a rebuild) have the same column order and checksum.

-- A failed registration's machine-readable reason (`error` holds the text for people).
ALTER TABLE assets ADD COLUMN error_code text;
-- A registered asset's preview image, relative to the media root (clip outputs have one).
ALTER TABLE assets ADD COLUMN thumbnail_path text;
-- The clip that produced this asset; NULL for files registered by a client.
ALTER TABLE assets ADD COLUMN source_clip_id uuid;
CREATE INDEX assets_status_idx ON assets (org_id, status, id);
CREATE INDEX assets_source_clip_idx ON assets (source_clip_id) WHERE source_clip_id IS NOT NULL;

-- The clipping agent's latest attempt (0: not started yet); progress belongs to it.
ALTER TABLE clips ADD COLUMN attempt integer NOT NULL DEFAULT 0;
-- Fast mode starts at the keyframe before start_s: actual_start_s - start_s.
ALTER TABLE clips ADD COLUMN start_offset_s double precision;
ALTER TABLE clips ADD COLUMN error_code text;
CREATE INDEX clips_project_idx ON clips (org_id, project_id, id);
