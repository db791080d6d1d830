"""The streams processes: the decider, media, publisher, webhooks and integrations."""
