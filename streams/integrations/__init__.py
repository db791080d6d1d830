"""The integrations consumer: Discord follow-up messages once an interaction's outcome is known."""
