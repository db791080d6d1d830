"""GET handlers: parse the query, run the org-scoped read, answer JSON (or 404)."""

from __future__ import annotations

from aiohttp import web

from api.appkeys import DATABASE, RECENT
from api.auth.principal import Principal
from api.problems import not_found
from api.reads import assets, audit, clips, commands, posts, projects, queue
from api.reads.commands import CommandStatus
from api.reads.paging import parse_query
from api.responses import json_model, path_id


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


async def list_queue(request: web.Request, who: Principal) -> web.StreamResponse:
    query = parse_query(request, queue.QueueQuery)
    return json_model(await queue.list_items(request.app[DATABASE], who.org_id, query))


async def get_queue_item(request: web.Request, who: Principal) -> web.StreamResponse:
    item = await queue.get_item(request.app[DATABASE], who.org_id, path_id(request, "queue item"))
    if item is None:
        raise not_found("queue item")
    return json_model(item)


async def list_posts(request: web.Request, who: Principal) -> web.StreamResponse:
    query = parse_query(request, posts.PostQuery)
    return json_model(await posts.list_posts(request.app[DATABASE], who.org_id, query))


async def get_post(request: web.Request, who: Principal) -> web.StreamResponse:
    post = await posts.get_post(request.app[DATABASE], who.org_id, path_id(request, "post"))
    if post is None:
        raise not_found("post")
    return json_model(post)


async def list_clips(request: web.Request, who: Principal) -> web.StreamResponse:
    query = parse_query(request, clips.ClipQuery)
    return json_model(await clips.list_clips(request.app[DATABASE], who.org_id, query))


async def get_clip(request: web.Request, who: Principal) -> web.StreamResponse:
    clip = await clips.get_clip(request.app[DATABASE], who.org_id, path_id(request, "clip"))
    if clip is None:
        raise not_found("clip")
    return json_model(clip)


async def list_assets(request: web.Request, who: Principal) -> web.StreamResponse:
    query = parse_query(request, assets.AssetQuery)
    return json_model(await assets.list_assets(request.app[DATABASE], who.org_id, query))


async def get_asset(request: web.Request, who: Principal) -> web.StreamResponse:
    asset = await assets.get_asset(request.app[DATABASE], who.org_id, path_id(request, "asset"))
    if asset is None:
        raise not_found("asset")
    return json_model(asset)


async def list_projects(request: web.Request, who: Principal) -> web.StreamResponse:
    query = parse_query(request, projects.ProjectQuery)
    return json_model(await projects.list_projects(request.app[DATABASE], who.org_id, query))


async def get_project(request: web.Request, who: Principal) -> web.StreamResponse:
    project_id = path_id(request, "project")
    project = await projects.get_project(request.app[DATABASE], who.org_id, project_id)
    if project is None:
        raise not_found("project")
    return json_model(project)


async def list_audit(request: web.Request, who: Principal) -> web.StreamResponse:
    query = parse_query(request, audit.AuditQuery)
    return json_model(await audit.list_events(request.app[DATABASE], who.org_id, query))
