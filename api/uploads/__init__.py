"""tus 1.0 resumable uploads into the caller's media space (docs/api.md#uploads)."""
