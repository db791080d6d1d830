"""Inbound bots: integrations (POST/GET/DELETE /v1/integrations) and the platform-signed
endpoints of Discord interactions and Twitch EventSub (DESIGN §13)."""
