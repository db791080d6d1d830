"""The route table: path, scope and models of every endpoint, in one place.

Both the router and the OpenAPI document are built from it, so they cannot drift.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, cast

from aiohttp import web
from pydantic import BaseModel

from api import openapi, ops
from api.auth.guard import GuardedHandler, Handler, requires
from api.commands import handlers as commands
from api.commands import media, retry
from api.connections import handlers as connections
from api.connections import reads as connection_reads
from api.connections.bodies import ConnectionBody
from api.integrations import discord, downloads, twitch
from api.integrations import handlers as integrations
from api.integrations.bodies import IntegrationBodyModel
from api.integrations.reads import Integration, IntegrationQuery
from api.reads import assets, audit, clips, content, posts, projects, publishing, queue
from api.reads import handlers as reads
from api.reads.commands import CommandStatus
from api.reads.paging import Page
from api.uploads import handlers as uploads
from api.uploads.protocol import tus_endpoint
from api.uploads.usage import Usage, get_usage
from api.webhooks import handlers as webhooks
from api.webhooks import reads as webhook_reads
from api.webhooks.bodies import ReplayBody, WebhookBody
from schemas import commands as c
from schemas import publishing as p

READ = "read"
WEBHOOKS_WRITE = "webhooks:write"


@dataclass(frozen=True)
class Route:
    method: Literal["GET", "POST", "PATCH", "HEAD", "DELETE", "OPTIONS"]
    path: str
    handler: Callable[..., Awaitable[web.StreamResponse]]
    summary: str
    scope: str | None = None
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    idempotency: Literal["required", "optional"] | None = None
    # A command whose body may be left out (cancel: a reason is optional).
    body_optional: bool = False
    media: str = "application/json"
    # Answers beyond the ones every route of its kind has, for the OpenAPI document.
    answers: tuple[tuple[str, str], ...] = ()
    # Wraps the guarded handler (the tus routes: Tus-Resumable on every answer, 401s too).
    wrap: Callable[[Handler], Handler] | None = None


def _command(
    path: str,
    handler: GuardedHandler,
    scope: str,
    body: type[BaseModel],
    summary: str,
    key: Literal["required", "optional"] = "required",
    answers: tuple[tuple[str, str], ...] = (),
    *,
    body_optional: bool = False,
) -> Route:
    return Route(
        "POST",
        path,
        handler,
        summary,
        scope,
        body=body,
        idempotency=key,
        body_optional=body_optional,
        answers=answers,
    )


INVALID_TRANSITION = ("409", "Invalid transition")
NO_SECRET_KEY = ("503", "A dependency is unreachable, or WAVESTACK_SECRET_KEY is not configured")
OFFSET_STREAM = "application/offset+octet-stream"
UPLOAD_CREATION = (
    ("201", "Created: Location names the upload"),
    ("400", "Upload-Length missing, 0 or deferred, or a body sent with the creation"),
    ("409", "The organization's media space cannot take uploads"),
    ("412", "Tus-Resumable missing or not 1.0.0"),
    ("413", "Upload-Length over the upload size limit"),
    ("422", "Invalid Upload-Metadata"),
    ("507", "The organization's storage quota would be exceeded"),
)
UPLOAD_PATCH = (
    ("204", "Appended: Upload-Offset is the new offset (Asset-Id once complete)"),
    ("400", "The body ended before its Content-Length (what arrived is kept)"),
    ("409", "Upload-Offset is not the upload's offset, or the media space cannot take uploads"),
    ("410", "The upload expired"),
    ("413", "The chunk is too large, or goes past Upload-Length"),
    ("415", "Not application/offset+octet-stream, or not a media file"),
    ("422", "The file's sha256 differs from its metadata"),
    ("423", "Another PATCH of this upload is in progress"),
    ("460", "Upload-Checksum mismatch: the chunk was discarded"),
    ("412", "Tus-Resumable missing or not 1.0.0"),
    ("507", "The chunk could not be stored (disk full or failing): resume later"),
)
TUS_ONLY = ("412", "Tus-Resumable missing or not 1.0.0")
UNUSABLE_SPACE = ("409", "The organization's media space cannot take uploads")


ROUTES: list[Route] = [
    _command(
        "/v1/queue",
        commands.enqueue_item,
        "queue:write",
        c.EnqueueItem,
        "Queue content for publishing",
    ),
    _command(
        "/v1/queue/{id}/cancel",
        commands.cancel_item,
        "queue:write",
        c.CancelItem,
        "Cancel a queue item (only before publishing)",
        "optional",
        (INVALID_TRANSITION,),
        body_optional=commands.CANCEL_BODY_OPTIONAL,
    ),
    _command(
        "/v1/queue/{id}/reschedule",
        commands.reschedule_item,
        "queue:write",
        c.RescheduleItem,
        "Move a queue item to another time",
        "optional",
        (INVALID_TRANSITION,),
    ),
    _command(
        "/v1/queue/{id}/retry",
        retry.retry_item,
        "queue:write",
        p.RetryItem,
        "Publish a failed or unconfirmed item again (a new attempt series)",
        "optional",
        (INVALID_TRANSITION,),
        body_optional=True,
    ),
    _command(
        "/v1/queue/{id}/mark-published",
        retry.mark_published,
        "queue:write",
        p.MarkPublished,
        "Record that an unconfirmed item's post exists on the platform (found by a person)",
        "optional",
        (INVALID_TRANSITION,),
    ),
    _command(
        "/v1/connections",
        connections.create_connection,
        "connections:write",
        ConnectionBody,
        "Connect a publishing account (credentials are write-only)",
        answers=(NO_SECRET_KEY,),
    ),
    Route(
        "GET",
        "/v1/connections",
        reads.list_connections,
        "List the organization's connections (never their credentials)",
        READ,
        query=connection_reads.ConnectionQuery,
        response=Page[connection_reads.Connection],
    ),
    Route(
        "GET",
        "/v1/connections/{id}",
        reads.get_connection,
        "One connection (never its credentials)",
        READ,
        response=connection_reads.Connection,
    ),
    Route(
        "DELETE",
        "/v1/connections/{id}",
        connections.delete_connection,
        "Delete a connection; its credentials are destroyed for good",
        "connections:write",
        idempotency="optional",
        answers=(("202", "Accepted: DeleteConnection is on the log"),),
    ),
    Route(
        "DELETE",
        "/v1/assets/{id}",
        media.delete_asset,
        "Delete an asset: its file is removed from the organization's space",
        "assets:write",
        idempotency="optional",
        answers=(
            ("202", "Accepted: DeleteAsset is on the log"),
            ("409", "The asset is being probed"),
        ),
    ),
    _command(
        "/v1/clips",
        media.request_clip,
        "clips:write",
        c.RequestClip,
        "Cut a clip out of a video",
        answers=(
            ("404", "The source asset is unknown, or another organization's"),
            ("409", "The source asset is not registered (yet)"),
        ),
    ),
    _command(
        "/v1/projects",
        commands.create_project,
        "projects:write",
        c.CreateProject,
        "Create a project",
    ),
    _command(
        "/v1/assets",
        media.register_asset,
        "assets:write",
        c.RegisterAsset,
        "Register a media file under the media root",
    ),
    Route(
        "GET",
        "/v1/commands/{command_id}",
        reads.get_command,
        "A command's outcome",
        READ,
        response=CommandStatus,
    ),
    Route(
        "GET",
        "/v1/queue",
        reads.list_queue,
        "List queue items",
        READ,
        query=queue.QueueQuery,
        response=Page[queue.QueueItem],
    ),
    Route(
        "GET",
        "/v1/queue/{id}",
        reads.get_queue_item,
        "One queue item, with its attempts and its post",
        READ,
        response=publishing.QueueItemDetail,
    ),
    Route(
        "GET",
        "/v1/posts",
        reads.list_posts,
        "List published posts",
        READ,
        query=posts.PostQuery,
        response=Page[posts.Post],
    ),
    Route("GET", "/v1/posts/{id}", reads.get_post, "One post", READ, response=posts.Post),
    Route(
        "GET",
        "/v1/clips",
        reads.list_clips,
        "List clips",
        READ,
        query=clips.ClipQuery,
        response=Page[clips.Clip],
    ),
    Route("GET", "/v1/clips/{id}", reads.get_clip, "One clip", READ, response=clips.Clip),
    Route(
        "GET",
        "/v1/assets",
        reads.list_assets,
        "List assets",
        READ,
        query=assets.AssetQuery,
        response=Page[assets.Asset],
    ),
    Route("GET", "/v1/assets/{id}", reads.get_asset, "One asset", READ, response=assets.Asset),
    Route(
        "GET",
        "/v1/assets/{id}/content",
        content.asset_content,
        "The asset's file (HTTP Range supported)",
        READ,
        media="application/octet-stream",
        answers=(
            ("206", "Partial content: the requested byte range"),
            ("304", "Not modified (If-None-Match / If-Modified-Since)"),
            ("409", "The asset is not registered"),
            ("416", "Range not satisfiable"),
        ),
    ),
    Route(
        "GET",
        "/v1/assets/{id}/thumbnail",
        content.asset_thumbnail,
        "The asset's thumbnail picture (made with each clip and each registered video)",
        READ,
        media="image/jpeg",
        answers=(
            ("304", "Not modified (If-None-Match / If-Modified-Since)"),
            ("409", "The asset is not registered"),
        ),
    ),
    Route(
        "GET",
        "/v1/projects",
        reads.list_projects,
        "List projects",
        READ,
        query=projects.ProjectQuery,
        response=Page[projects.Project],
    ),
    Route(
        "GET",
        "/v1/projects/{id}",
        reads.get_project,
        "One project",
        READ,
        response=projects.Project,
    ),
    Route(
        "GET",
        "/v1/audit",
        reads.list_audit,
        "The organization's event history",
        "audit:read",
        query=audit.AuditQuery,
        response=Page[audit.AuditEvent],
    ),
    Route(
        "OPTIONS",
        "/v1/uploads",
        uploads.options,
        "tus: versions, extensions and limits of this server",
        wrap=tus_endpoint,
        answers=(("204", "Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm"),),
    ),
    Route(
        "POST",
        "/v1/uploads",
        uploads.create,
        "tus creation: a resumable upload into the organization's media space",
        "assets:write",
        wrap=tus_endpoint,
        answers=UPLOAD_CREATION,
    ),
    Route(
        "HEAD",
        "/v1/uploads/{id}",
        uploads.head,
        "tus: the offset to resume from (and the asset, once complete)",
        "assets:write",
        wrap=tus_endpoint,
        answers=(("410", "The upload expired"), TUS_ONLY, UNUSABLE_SPACE),
    ),
    Route(
        "PATCH",
        "/v1/uploads/{id}",
        uploads.patch,
        "tus: append a chunk (application/offset+octet-stream) at Upload-Offset",
        "assets:write",
        media=OFFSET_STREAM,
        wrap=tus_endpoint,
        answers=UPLOAD_PATCH,
    ),
    Route(
        "DELETE",
        "/v1/uploads/{id}",
        uploads.terminate,
        "tus termination: abandon the upload and remove its bytes",
        "assets:write",
        wrap=tus_endpoint,
        answers=(("204", "Removed"), ("410", "The upload expired"), TUS_ONLY, UNUSABLE_SPACE),
    ),
    _command(
        "/v1/integrations",
        integrations.create_integration,
        "integrations:write",
        IntegrationBodyModel,
        "Bind a Discord application or a Twitch EventSub subscription (secret write-only)",
        answers=(
            ("404", "The Twitch recording's project or asset is unknown"),
            NO_SECRET_KEY,
        ),
    ),
    Route(
        "GET",
        "/v1/integrations",
        integrations.list_all,
        "List the organization's integrations (never a secret)",
        READ,
        query=IntegrationQuery,
        response=Page[Integration],
    ),
    Route(
        "GET",
        "/v1/integrations/{id}",
        integrations.get_one,
        "One integration (never its secret)",
        READ,
        response=Integration,
    ),
    Route(
        "DELETE",
        "/v1/integrations/{id}",
        integrations.delete_integration,
        "Delete an integration; a Twitch secret is destroyed for good",
        "integrations:write",
        idempotency="optional",
        answers=(("202", "Accepted: DeleteIntegration is on the log"),),
    ),
    Route(
        "POST",
        "/integrations/discord/{id}/interactions",
        discord.interactions,
        "Discord interactions endpoint (Ed25519-signed by Discord, no bearer token)",
        answers=(
            ("200", "PONG, a deferred response (type 5) or a message (type 4)"),
            ("400", "Not an interaction this endpoint handles"),
            ("401", "Missing, invalid or stale X-Signature-Ed25519"),
            ("404", "No such active Discord integration"),
        ),
    ),
    Route(
        "POST",
        "/integrations/twitch/{id}/eventsub",
        twitch.eventsub,
        "Twitch EventSub webhook callback (HMAC-signed by Twitch, no bearer token)",
        answers=(
            ("200", "The verification challenge, as text/plain"),
            ("204", "Handled (or a message id already taken, or ignored chat)"),
            ("400", "Malformed message"),
            ("403", "Missing or invalid signature, or older than 10 minutes"),
            ("404", "No such Twitch integration"),
            ("410", "The subscription was revoked"),
        ),
    ),
    Route(
        "GET",
        "/integrations/downloads/{id}/{token}",
        downloads.download,
        "A finished clip, by the link a Discord follow-up told (no bearer token)",
        media="application/octet-stream",
        answers=(
            ("206", "Partial content: the requested byte range"),
            ("404", "Unknown or expired link"),
            ("503", "PostgreSQL is unreachable"),
        ),
    ),
    _command(
        "/v1/webhooks",
        webhooks.create_webhook,
        WEBHOOKS_WRITE,
        WebhookBody,
        "Subscribe a URL to event types; the answer holds its whsec_ secret, shown once",
        answers=(("201", "Created: its id and secret (shown once)"), NO_SECRET_KEY),
    ),
    Route(
        "GET",
        "/v1/webhooks",
        webhooks.list_webhooks,
        "List the organization's webhook subscriptions (never their secrets)",
        READ,
        query=webhook_reads.WebhookQuery,
        response=Page[webhook_reads.Webhook],
    ),
    Route(
        "GET",
        "/v1/webhooks/{id}",
        webhooks.get_webhook,
        "One webhook subscription (never its secret)",
        READ,
        response=webhook_reads.Webhook,
    ),
    Route(
        "DELETE",
        "/v1/webhooks/{id}",
        webhooks.delete_webhook,
        "Delete a subscription; its secrets are destroyed for good",
        WEBHOOKS_WRITE,
        idempotency="optional",
        answers=(("202", "Accepted: DeleteWebhook is on the log"),),
    ),
    Route(
        "POST",
        "/v1/webhooks/{id}/rotate-secret",
        webhooks.rotate_secret,
        "A new secret (shown once); the previous one keeps signing for 24 h",
        WEBHOOKS_WRITE,
        idempotency="optional",
        answers=(("202", "Accepted: the new secret, shown once"), NO_SECRET_KEY),
    ),
    _command(
        "/v1/webhooks/{id}/replay",
        webhooks.replay,
        WEBHOOKS_WRITE,
        ReplayBody,
        "Re-deliver the subscription's matching events since a time",
        "optional",
    ),
    Route(
        "GET",
        "/v1/webhooks/{id}/deliveries",
        webhooks.list_deliveries,
        "The subscription's deliveries: status, attempts, response codes, next try",
        READ,
        query=webhook_reads.DeliveryQuery,
        response=Page[webhook_reads.Delivery],
    ),
    Route("GET", "/v1/usage", get_usage, "The organization's storage use", READ, response=Usage),
    Route("GET", "/.well-known/jwks.json", ops.jwks, "Public keys of the local signing keys"),
    Route("GET", "/healthz", ops.healthz, "Liveness: the process is up"),
    Route(
        "GET",
        "/readyz",
        ops.readyz,
        "Readiness: Kafka and PostgreSQL answer",
        answers=(("503", "Kafka or PostgreSQL is unreachable"),),
    ),
    Route("GET", "/metrics", ops.metrics, "Prometheus metrics", media="text/plain"),
    Route("GET", "/openapi.json", openapi.serve, "This API's OpenAPI 3.1 document"),
]


def add_routes(app: web.Application, routes: list[Route]) -> None:
    for route in routes:
        if route.scope is None:
            handler = cast(Handler, route.handler)
        else:
            handler = requires(route.scope)(cast(GuardedHandler, route.handler))
        if route.wrap is not None:
            handler = route.wrap(handler)
        if route.method == "GET":
            app.router.add_get(route.path, handler)  # HEAD too: players probe with it
        else:
            app.router.add_route(route.method, route.path, handler)
