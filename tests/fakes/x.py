"""X API v2: `POST /2/tweets`, media upload v2, duplicate-content 403, a user's recent posts,
and a post's lookup with `public_metrics` that grow with every read."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.base import FakeServer, Handler, Scripted, read_json

MAX_TEXT = 280
DUPLICATE = {
    "detail": "You are not allowed to create a Tweet with duplicate content.",
    "type": "about:blank",
    "title": "Forbidden",
    "status": 403,
}


def problem(status: int, title: str, detail: str) -> dict[str, Any]:
    return {"title": title, "type": "about:blank", "status": status, "detail": detail}


@dataclass
class Media:
    total: int
    media_type: str
    segments: dict[int, bytes] = field(default_factory=dict)
    state: str = "created"  # created → pending → in_progress → succeeded
    polls: int = 0


class FakeX(FakeServer):
    """Routes: `tweet`, `media_init`, `media_append`, `media_finalize`, `media_status`,
    `me`, `timeline`, `tweet_lookup`. Status polling answers both readings of the
    unconfirmed route: `GET /2/media/upload?command=STATUS&media_id=…` and
    `GET /2/media/upload/{id}`. A deleted post's lookup answers 200 with a
    resource-not-found error (X's form), or 404 with `deleted_status=404`."""

    def __init__(
        self,
        token: str,
        created_status: int = 201,
        check_after_secs: int = 0,
        deleted_status: int = 200,
    ) -> None:
        super().__init__()
        self.deleted_status = deleted_status
        self.reads: dict[str, int] = {}  # post id -> lookups of the live post so far
        self.lookups: dict[str, int] = {}  # post id -> every lookup, deleted or not
        self.tokens = {token}
        self.user_id = "2244994945"
        self.created_status = created_status  # 201 unconfirmed: test 200 too
        self.check_after_secs = check_after_secs
        self.posts: list[dict[str, Any]] = []
        self.media: dict[str, Media] = {}
        self._ids = itertools.count(1_800_000_000_000_000_000)
        r = self.app.router
        r.add_post("/2/tweets", self._tweet)
        r.add_post("/2/media/upload/initialize", self._init)
        r.add_post("/2/media/upload/{id}/append", self._append)
        r.add_post("/2/media/upload/{id}/finalize", self._finalize)
        r.add_get("/2/media/upload", self._status)
        r.add_get("/2/media/upload/{id}", self._status)
        r.add_get("/2/users/me", self._me)
        r.add_get("/2/users/{id}/tweets", self._timeline)
        r.add_get("/2/tweets/{id}", self._lookup)

    def add_post(self, text: str) -> str:
        """A post on the timeline as if published earlier; returns its id."""
        post_id = str(next(self._ids))
        self.posts.insert(0, {"id": post_id, "text": text, "edit_history_tweet_ids": [post_id]})
        return post_id

    def delete_post(self, post_id: str) -> None:
        self.posts = [p for p in self.posts if p["id"] != post_id]

    async def _lookup(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self.unauthorized()
        post_id = request.match_info["id"]
        self.lookups[post_id] = self.lookups.get(post_id, 0) + 1

        async def perform() -> web.StreamResponse:
            post = next((p for p in self.posts if p["id"] == post_id), None)
            if post is None:
                if self.deleted_status == 404:
                    body404 = problem(404, "Not Found Error", "Could not find tweet")
                    return web.json_response(body404, status=404, headers=self._limits())
                error = {
                    "value": post_id,
                    "detail": f"Could not find tweet with id: [{post_id}].",
                    "title": "Not Found Error",
                    "resource_type": "tweet",
                    "parameter": "id",
                    "resource_id": post_id,
                    "type": "https://api.twitter.com/2/problems/resource-not-found",
                }
                return web.json_response({"errors": [error]}, headers=self._limits())
            n = self.reads[post_id] = self.reads.get(post_id, 0) + 1
            data = {k: post[k] for k in ("id", "text", "edit_history_tweet_ids")}
            if "public_metrics" in request.query.get("tweet.fields", "").split(","):
                data["public_metrics"] = {
                    "retweet_count": n,
                    "reply_count": 1 + n,
                    "like_count": 5 * n,
                    "quote_count": 0,
                    "bookmark_count": n,
                    "impression_count": 50 * n,
                }
            return web.json_response({"data": data}, headers=self._limits())

        return await self.answer("tweet_lookup", perform)

    def _limits(self) -> dict[str, str]:
        return {
            "x-rate-limit-limit": "100",
            "x-rate-limit-remaining": "99",
            "x-rate-limit-reset": str(int(time.time()) + 900),
        }

    def _authorized(self, request: web.Request) -> bool:
        auth = request.headers.get("Authorization", "")
        return auth.startswith("Bearer ") and auth[7:] in self.tokens

    @staticmethod
    def unauthorized() -> web.Response:
        return web.json_response(problem(401, "Unauthorized", "Unauthorized"), status=401)

    async def _tweet(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self.unauthorized()

        async def perform() -> web.StreamResponse:
            body = await read_json(request)
            text = body.get("text") if isinstance(body, dict) else None
            if not isinstance(text, str) or not text or len(text) > MAX_TEXT:
                return web.json_response(problem(400, "Invalid Request", "text"), status=400)
            if any(post["text"] == text for post in self.posts):
                return web.json_response(DUPLICATE, status=403)
            media_ids = (body.get("media") or {}).get("media_ids", [])
            for media_id in media_ids:
                media = self.media.get(media_id)
                if media is None or media.state != "succeeded":
                    return web.json_response(
                        problem(400, "Invalid Request", "media not ready"), status=400
                    )
            post_id = str(next(self._ids))
            post: dict[str, Any] = {
                "id": post_id,
                "text": text,
                "edit_history_tweet_ids": [post_id],
            }
            if media_ids:
                post["attachments"] = {"media_keys": [f"7_{m}" for m in media_ids]}
            self.posts.insert(0, post)
            return web.json_response(
                {"data": {k: post[k] for k in ("id", "text", "edit_history_tweet_ids")}},
                status=self.created_status,
                headers=self._limits(),
            )

        return await self.answer("tweet", perform)

    async def _me(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self.unauthorized()
        user = {"id": self.user_id, "name": "Wave Stack", "username": "wavestack"}
        return await self.answer("me", respond({"data": user}))

    async def _timeline(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self.unauthorized()
        if request.match_info["id"] != self.user_id:
            return web.json_response(problem(404, "Not Found Error", "user"), status=404)
        limit = min(max(int(request.query.get("max_results", "10")), 5), 100)
        posts = self.posts[:limit]
        meta: dict[str, Any] = {"result_count": len(posts)}
        if posts:
            meta.update(newest_id=posts[0]["id"], oldest_id=posts[-1]["id"])
        body: dict[str, Any] = {"meta": meta}
        if posts:
            body["data"] = [
                {k: p[k] for k in ("id", "text", "edit_history_tweet_ids")} for p in posts
            ]
        return await self.answer("timeline", respond(body))

    async def _init(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self.unauthorized()

        async def perform() -> web.StreamResponse:
            body = await read_json(request)
            if not isinstance(body, dict) or not isinstance(body.get("total_bytes"), int):
                return web.json_response(problem(400, "Invalid Request", "total_bytes"), status=400)
            media_id = str(next(self._ids))
            self.media[media_id] = Media(body["total_bytes"], str(body.get("media_type")))
            return web.json_response(
                {
                    "data": {
                        "id": media_id,
                        "media_key": f"7_{media_id}",
                        "expires_after_secs": 86400,
                    }
                }
            )

        return await self.answer("media_init", perform)

    async def _append(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self.unauthorized()
        media = self.media.get(request.match_info["id"])
        if media is None:
            return web.json_response(problem(404, "Not Found Error", "media"), status=404)

        async def perform() -> web.StreamResponse:
            form = await request.post()
            index, blob = form.get("segment_index"), form.get("media")
            if (
                not isinstance(index, str)
                or not index.isdigit()
                or not isinstance(blob, web.FileField)
            ):
                return web.json_response(problem(400, "Invalid Request", "segment"), status=400)
            media.segments[int(index)] = blob.file.read()
            return web.json_response({"meta": {"segment_index": int(index)}})

        return await self.answer("media_append", perform)

    async def _finalize(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self.unauthorized()
        media_id = request.match_info["id"]
        media = self.media.get(media_id)
        if media is None:
            return web.json_response(problem(404, "Not Found Error", "media"), status=404)

        async def perform() -> web.StreamResponse:
            size = sum(len(s) for s in media.segments.values())
            if size != media.total:
                return web.json_response(
                    problem(400, "Invalid Request", "size mismatch"), status=400
                )
            media.state = "pending"
            return web.json_response({"data": self._media_view(media_id, media)})

        return await self.answer("media_finalize", perform)

    async def _status(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self.unauthorized()
        media_id = request.match_info.get("id") or request.query.get("media_id", "")
        media = self.media.get(media_id)
        if media is None:
            return web.json_response(problem(404, "Not Found Error", "media"), status=404)

        async def perform() -> web.StreamResponse:
            media.polls += 1
            media.state = "in_progress" if media.polls == 1 else "succeeded"
            return web.json_response({"data": self._media_view(media_id, media)})

        return await self.answer("media_status", perform)

    def _media_view(self, media_id: str, media: Media) -> dict[str, Any]:
        info: dict[str, Any] = {"state": media.state}
        if media.state != "succeeded":
            info["check_after_secs"] = self.check_after_secs
        return {
            "id": media_id,
            "media_key": f"7_{media_id}",
            "size": media.total,
            "processing_info": info,
        }

    @staticmethod
    def rate_limited(reset_in: int) -> Scripted:
        headers = {
            "x-rate-limit-limit": "100",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(int(time.time()) + reset_in),
        }
        return Scripted(429, {"errors": [{"code": 88, "message": "Rate limit exceeded"}]}, headers)

    @staticmethod
    def server_error() -> Scripted:
        return Scripted(503, problem(503, "Service Unavailable", "Service Unavailable"))

    @staticmethod
    def suspended() -> Scripted:
        return Scripted(
            403,
            problem(
                403,
                "Forbidden",
                "Your account is suspended and is not permitted to access this feature.",
            ),
        )


def respond(body: dict[str, Any]) -> Handler:
    async def handler() -> web.StreamResponse:
        return web.json_response(body)

    return handler
