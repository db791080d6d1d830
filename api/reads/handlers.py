"""GET handlers: parse the query, run the org-scoped read, answer JSON (or 404)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web
from pydantic import BaseModel

from api.appkeys import DATABASE, RECENT
from api.auth.guard import GuardedHandler
from api.auth.principal import Principal
from api.backends.postgres import Database
from api.connections import reads as connections
from api.problems import not_found
from api.reads import asof, assets, audit, clips, commands, posts, projects, publishing, queue
from api.reads.commands import CommandStatus
from api.reads.paging import Q, parse_query
from api.responses import json_model, path_id

AS_OF = frozenset({asof.PARAM})  # read by asof.read_model, not by the list's query model


async def get_command(request: web.Request, who: Principal) -> web.StreamResponse:
    command_id = path_id(request, "command", "command_id")
    found = await commands.get_command(request.app[DATABASE], who.org_id, command_id)
    if found is None:
        # Accepted here a moment ago but not yet seen by the projector: still pending.
        recent = request.app[RECENT].get(command_id)
        if recent is None or recent.org_id != who.org_id:
            raise not_found("command")
        found = CommandStatus(
            command_id=recent.command_id,
            type=recent.type,
            aggregate_type=recent.aggregate_type,
            aggregate_id=recent.aggregate_id,
            outcome="pending",
            reason=None,
            status=None,
            event_ids=[],
            requested_at=recent.accepted_at,
            decided_at=None,
        )
    return json_model(found)


def lister(
    query_model: type[Q], fetch: Callable[[Database, str, Q], Awaitable[BaseModel]]
) -> GuardedHandler:
    """GET /v1/<things>: the query string parsed into ``query_model``, one page back."""

    async def handle(request: web.Request, who: Principal) -> web.StreamResponse:
        query = parse_query(request, query_model, skip=AS_OF)
        return json_model(await fetch(await asof.read_model(request), who.org_id, query))

    asof.SUPPORTED.add(handle)
    return handle


def getter(
    what: str, fetch: Callable[[Database, str, uuid.UUID], Awaitable[BaseModel | None]]
) -> GuardedHandler:
    """GET /v1/<things>/{id}: the organization's own, or 404 naming ``what``."""

    async def handle(request: web.Request, who: Principal) -> web.StreamResponse:
        item_id = path_id(request, what)
        found = await fetch(await asof.read_model(request), who.org_id, item_id)
        if found is None:
            raise not_found(what)
        return json_model(found)

    asof.SUPPORTED.add(handle)
    return handle


list_queue = lister(queue.QueueQuery, queue.list_items)
get_queue_item = getter("queue item", publishing.get_item_detail)
list_posts = lister(posts.PostQuery, posts.list_posts)
get_post = getter("post", posts.get_post)
list_clips = lister(clips.ClipQuery, clips.list_clips)
get_clip = getter("clip", clips.get_clip)
list_assets = lister(assets.AssetQuery, assets.list_assets)
get_asset = getter("asset", assets.get_asset)
list_projects = lister(projects.ProjectQuery, projects.list_projects)
get_project = getter("project", projects.get_project)
list_audit = lister(audit.AuditQuery, audit.list_events)
list_connections = lister(connections.ConnectionQuery, connections.list_connections)
get_connection = getter("connection", connections.get_connection)
