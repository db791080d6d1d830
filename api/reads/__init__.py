"""Read endpoints: plain SQL per read model, always filtered by the token's org_id."""
