"""The tools: two commands through the ordinary command routes, three org-scoped reads."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from api.appkeys import DATABASE
from api.commands.service import creation_pending
from api.mcp import arguments as a
from api.mcp.caller import Caller, ToolFailure
from api.reads.clips import get_clip
from api.reads.posts import COLUMNS as POST_COLUMNS
from api.reads.posts import Post
from api.reads.publishing import get_item_detail
from schemas.commands import EnqueueItem
from schemas.commands import RequestClip as RequestClipCommand

Run = Callable[[Caller, Any], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    scope: str
    arguments: type[a.Arguments]
    run: Run


def derived_key(tool: str, caller: Caller, args: a.Arguments) -> str:
    """A retried call (same caller, same arguments) is the same command."""
    canonical = json.dumps(
        {"sub": caller.principal.sub, "args": args.command_body()}, sort_keys=True
    )
    return f"mcp:{tool}:{hashlib.sha256(canonical.encode()).hexdigest()[:40]}"


async def _submit(caller: Caller, tool: str, path: str, args: a.Arguments) -> dict[str, Any]:
    key = getattr(args, "idempotency_key", None) or derived_key(tool, caller, args)
    accepted = await caller.command(path, args.command_body(), key)
    return {**accepted, "idempotency_key": key}


async def queue_post(caller: Caller, args: a.QueuePost) -> dict[str, Any]:
    return await _submit(caller, "queue_post", "/v1/queue", args)


async def request_clip(caller: Caller, args: a.RequestClip) -> dict[str, Any]:
    return await _submit(caller, "request_clip", "/v1/clips", args)


def _not_found(what: str, ident: uuid.UUID) -> ToolFailure:
    return ToolFailure(
        {
            "title": "Not found",
            "status": 404,
            "detail": f"no such {what} {ident} in this organization",
        }
    )


async def _pending(caller: Caller, ident: uuid.UUID, command_type: str) -> bool:
    return await creation_pending(caller.app, caller.principal.org_id, ident, command_type)


async def item_status(caller: Caller, args: a.ItemStatus) -> dict[str, Any]:
    db = caller.app[DATABASE]
    item = await get_item_detail(db, caller.principal.org_id, args.item_id)
    if item is not None:
        return item.model_dump(mode="json")
    if await _pending(caller, args.item_id, EnqueueItem.TYPE):
        return {"id": str(args.item_id), "status": "pending", "detail": "accepted, not applied yet"}
    raise _not_found("queue item", args.item_id)


async def clip_status(caller: Caller, args: a.ClipStatus) -> dict[str, Any]:
    clip = await get_clip(caller.app[DATABASE], caller.principal.org_id, args.clip_id)
    if clip is not None:
        return clip.model_dump(mode="json")
    if await _pending(caller, args.clip_id, RequestClipCommand.TYPE):
        return {"id": str(args.clip_id), "status": "pending", "detail": "accepted, not applied yet"}
    raise _not_found("clip", args.clip_id)


async def recent_posts(caller: Caller, args: a.RecentPosts) -> dict[str, Any]:
    # Newest first: the API's list pages by id, which says nothing about recency.
    sql = f"SELECT {POST_COLUMNS} FROM posts WHERE org_id = $1"
    params: list[Any] = [caller.principal.org_id]
    if args.platform is not None:
        params.append(args.platform)
        sql += f" AND platform = ${len(params)}"
    params.append(args.limit)
    sql += f" ORDER BY published_at DESC, id LIMIT ${len(params)}"
    rows = await caller.app[DATABASE].fetch(sql, *params)
    return {"posts": [Post.model_validate(dict(r)).model_dump(mode="json") for r in rows]}


TOOLS: dict[str, Tool] = {
    t.name: t
    for t in (
        Tool(
            "queue_post",
            "Queue content for publishing on a platform at a time (POST /v1/queue). "
            "Answers the item id and the command id; follow it with get_item_status.",
            "queue:write",
            a.QueuePost,
            queue_post,
        ),
        Tool(
            "request_clip",
            "Cut a clip out of a registered video asset (POST /v1/clips). Answers the "
            "clip id; follow it with get_clip_status.",
            "clips:write",
            a.RequestClip,
            request_clip,
        ),
        Tool(
            "get_item_status",
            "A queue item's status, attempts and post.",
            "read",
            a.ItemStatus,
            item_status,
        ),
        Tool(
            "get_clip_status",
            "A clip's status, progress and output asset.",
            "read",
            a.ClipStatus,
            clip_status,
        ),
        Tool(
            "list_recent_posts",
            "The organization's most recently published posts, newest first.",
            "read",
            a.RecentPosts,
            recent_posts,
        ),
    )
}
