"""YouTube's resumable upload: session start, chunked PUT (308 + Range), status query, quota;
and `videos.list?part=statistics`, whose counts grow with every read."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.base import FakeServer, Scripted, read_json

QUANTUM = 256 * 1024
CHUNK_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")
STATUS_RANGE = re.compile(r"^bytes \*/(\d+)$")


def google_error(
    code: int, reason: str, message: str, domain: str = "youtube.quota"
) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "errors": [{"message": message, "domain": domain, "reason": reason}],
        }
    }


@dataclass
class Session:
    total: int
    content_type: str
    resource: dict[str, Any]
    data: bytearray = field(default_factory=bytearray)
    video_id: str | None = None
    reads: int = 0  # statistics lookups so far: every one sees higher counts


def statistics(session: Session) -> dict[str, str]:
    # Strings, as YouTube sends them; favoriteCount is deprecated and always "0".
    n = session.reads
    return {
        "viewCount": str(100 + 37 * n),
        "likeCount": str(10 + 3 * n),
        "favoriteCount": "0",
        "commentCount": str(2 + n),
    }


class FakeYouTube(FakeServer):
    """Routes: `start` (POST), `chunk` (PUT with bytes), `status` (PUT `bytes */TOTAL`),
    `videos_list` (GET `videos?part=statistics&id=…`; a deleted video is simply not
    listed, as YouTube does; `missing_status=404` answers 404 instead)."""

    def __init__(
        self, token: str, daily_quota: int = 100, done_status: int = 200, missing_status: int = 200
    ) -> None:
        super().__init__()
        self.missing_status = missing_status
        self.units_used = 0  # videos.list costs 1 unit a call
        self.tokens = {token}
        self.quota_left = daily_quota
        self.done_status = done_status  # the docs say 200 or 201: test both readings
        self.sessions: dict[str, Session] = {}
        self.videos: dict[str, Session] = {}
        self.app.router.add_post("/upload/youtube/v3/videos", self._start)
        self.app.router.add_put("/upload/youtube/v3/videos", self._put)
        self.app.router.add_get("/youtube/v3/videos", self._list)

    def add_video(self, title: str = "Uploaded") -> str:
        """A video on the channel as if uploaded earlier; returns its id."""
        session = Session(1, "video/mp4", {"snippet": {"title": title}})
        session.video_id = secrets.token_urlsafe(8)[:11]
        self.videos[session.video_id] = session
        return session.video_id

    def delete_video(self, video_id: str) -> None:
        self.videos.pop(video_id, None)

    async def _list(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self.unauthorized()

        async def perform() -> web.StreamResponse:
            if "statistics" not in request.query.get("part", "").split(","):
                body400 = google_error(400, "invalidPart", "part", "global")
                return web.json_response(body400, status=400)
            self.units_used += 1
            ids = [i for i in request.query.get("id", "").split(",") if i]
            found = [self.videos[i] for i in ids if i in self.videos]
            if not found and self.missing_status == 404:
                body = google_error(
                    404, "videoNotFound", "The video was not found.", "youtube.video"
                )
                return web.json_response(body, status=404)
            items = []
            for video in found:
                video.reads += 1
                items.append(
                    {"kind": "youtube#video", "id": video.video_id, "statistics": statistics(video)}
                )
            page = {"totalResults": len(items), "resultsPerPage": len(items)}
            return web.json_response(
                {"kind": "youtube#videoListResponse", "items": items, "pageInfo": page}
            )

        return await self.answer("videos_list", perform)

    def _authorized(self, request: web.Request) -> bool:
        auth = request.headers.get("Authorization", "")
        return auth.startswith("Bearer ") and auth[7:] in self.tokens

    @staticmethod
    def unauthorized() -> web.Response:
        body = google_error(401, "authError", "Invalid Credentials", domain="global")
        return web.json_response(body, status=401)

    async def _start(self, request: web.Request) -> web.StreamResponse:
        async def perform() -> web.StreamResponse:
            if not self._authorized(request):
                return self.unauthorized()
            if request.query.get("uploadType") != "resumable":
                return web.json_response(
                    google_error(400, "invalid", "uploadType", "global"), status=400
                )
            length = request.headers.get("X-Upload-Content-Length", "")
            kind = request.headers.get("X-Upload-Content-Type", "")
            resource = await read_json(request)
            if not length.isdigit() or not (
                kind.startswith("video/") or kind == "application/octet-stream"
            ):
                return web.json_response(
                    google_error(400, "invalid", "upload headers", "global"), status=400
                )
            if not isinstance(resource, dict) or not resource.get("snippet", {}).get("title"):
                return web.json_response(
                    google_error(400, "invalidTitle", "no title", "youtube.video"), status=400
                )
            if self.quota_left <= 0:
                return web.json_response(self.quota_exceeded().body, status=403)
            self.quota_left -= 1
            upload_id = secrets.token_urlsafe(24)
            self.sessions[upload_id] = Session(int(length), kind, resource)
            location = (
                f"{self.base_url}/upload/youtube/v3/videos"
                f"?uploadType=resumable&part=snippet,status&upload_id={upload_id}"
            )
            return web.Response(status=200, headers={"Location": location})

        return await self.answer("start", perform)

    async def _put(self, request: web.Request) -> web.StreamResponse:
        session = self.sessions.get(request.query.get("upload_id", ""))
        if session is None:
            return web.json_response(
                google_error(404, "notFound", "upload session", "global"), status=404
            )
        if not self._authorized(request):
            return self.unauthorized()
        content_range = request.headers.get("Content-Range", "")
        if STATUS_RANGE.match(content_range):
            return await self.answer("status", lambda: self._progress(session))
        return await self.answer("chunk", lambda: self._chunk(request, session, content_range))

    async def _progress(self, session: Session) -> web.StreamResponse:
        if session.video_id is not None:
            return self._done(session)
        headers = {"Range": f"bytes=0-{len(session.data) - 1}"} if session.data else {}
        return web.Response(status=308, headers=headers)

    def _done(self, session: Session) -> web.Response:
        video = {
            "kind": "youtube#video",
            "id": session.video_id,
            "snippet": session.resource.get("snippet", {}),
            "status": {"uploadStatus": "uploaded", **session.resource.get("status", {})},
        }
        return web.json_response(video, status=self.done_status)

    async def _chunk(
        self, request: web.Request, session: Session, content_range: str
    ) -> web.StreamResponse:
        if session.video_id is not None:
            return self._done(session)
        data = await request.read()
        match = CHUNK_RANGE.match(content_range)
        if content_range == "" and len(data) == session.total:
            first, last = 0, session.total - 1  # a single PUT of the whole file
        elif match and int(match[3]) == session.total:
            first, last = int(match[1]), int(match[2])
        else:
            return web.json_response(
                google_error(400, "badContent", "Content-Range", "global"), status=400
            )
        final = last + 1 == session.total
        if last - first + 1 != len(data) or first > len(session.data):
            return web.json_response(
                google_error(400, "badContent", "Content-Range", "global"), status=400
            )
        if not final and len(data) % QUANTUM:
            return web.json_response(
                google_error(400, "badContent", "chunk size", "global"), status=400
            )
        # Overlap with bytes already held is ignored, as GCS-style uploads do.
        session.data[first:] = data
        if final:
            session.video_id = secrets.token_urlsafe(8)[:11]
            self.videos[session.video_id] = session
            return self._done(session)
        return web.Response(status=308, headers={"Range": f"bytes=0-{len(session.data) - 1}"})

    @staticmethod
    def quota_exceeded() -> Scripted:
        return Scripted(
            403,
            google_error(
                403,
                "quotaExceeded",
                "The request cannot be completed because you have exceeded your quota.",
            ),
        )

    @staticmethod
    def upload_limit_exceeded() -> Scripted:
        return Scripted(
            400,
            google_error(
                400,
                "uploadLimitExceeded",
                "The user has exceeded the number of videos they may upload.",
                "youtube.video",
            ),
        )

    @staticmethod
    def rate_limited(retry_after: int) -> Scripted:
        body = google_error(403, "rateLimitExceeded", "Rate limit exceeded", "youtube.quota")
        return Scripted(403, body, {"Retry-After": str(retry_after)})

    @staticmethod
    def too_many_requests(retry_after: int) -> Scripted:
        body = google_error(429, "rateLimitExceeded", "Too many requests", "global")
        return Scripted(429, body, {"Retry-After": str(retry_after)})

    @staticmethod
    def server_error() -> Scripted:
        return Scripted(503, google_error(503, "backendError", "Backend Error", "global"))

    @staticmethod
    def no_channel() -> Scripted:
        body = google_error(
            401, "youtubeSignupRequired", "The user has no YouTube channel.", "youtube.header"
        )
        return Scripted(401, body)
