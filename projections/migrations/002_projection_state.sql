-- One row per projection: its epoch. Every batch locks this row first, so batches of
-- one projection never interleave, and an operator action that moves positions under
-- a running projector (replay, rebuild's swap) bumps the epoch: the projector sees
-- the change at its next batch, drops what it fetched and re-reads its positions.
CREATE TABLE projection_state (
    projection text PRIMARY KEY,
    epoch      bigint NOT NULL DEFAULT 0
);
