"""Outbound webhooks: the delivery process (own consumer group), its due table and lanes."""
