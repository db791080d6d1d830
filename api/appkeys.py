"""Typed keys of everything create_app puts on the application (and on a request)."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from api.auth.keystore import KeyStore
from api.auth.principal import Principal
from api.auth.verify import TokenVerifier
from api.backends.kafka import CommandProducer
from api.backends.postgres import Database
from api.commands.fingerprints import FingerprintLookup
from api.commands.recent import RecentCommands
from api.config import ApiSettings
from api.connections.keys import KeyTable
from api.metrics import Metrics
from api.ratelimit import Limiter
from clipper.paths import MediaRoot


@dataclass(frozen=True)
class OpenApiDocument:
    body: bytes


SETTINGS = web.AppKey("settings", ApiSettings)
KEYS = web.AppKey("keys", KeyStore)
VERIFIER = web.AppKey("verifier", TokenVerifier)
PRODUCER = web.AppKey("producer", CommandProducer)
DATABASE = web.AppKey("database", Database)
LIMITER = web.AppKey("limiter", Limiter)
RECENT = web.AppKey("recent", RecentCommands)
FINGERPRINTS = web.AppKey("fingerprints", FingerprintLookup)
METRICS = web.AppKey("metrics", Metrics)
OPENAPI = web.AppKey("openapi", OpenApiDocument)
MEDIA = web.AppKey("media", MediaRoot)
KEY_TABLE = web.AppKey("key_table", KeyTable)

PRINCIPAL = web.RequestKey("principal", Principal)
