"""YouTube: resumable upload of the item's video (Data API v3 `videos.insert`).

The session URI goes to `checkpoint` (the log) before any byte is sent, and every
publish with a stored session starts with the `bytes */TOTAL` status query, so a crash
or a retry resumes that session and never opens a second one (which would upload the
video twice). Safe by construction, hence done freely: the session start (no bytes
yet) and the status query. A failed non-final chunk is `TRANSIENT` (no video can exist
yet); a failed final chunk is `UNKNOWN_OUTCOME`, resolved by `reconcile`'s status query.

Reading back: `videos.list?part=statistics&id=…` (1 quota unit of the project's
daily 10,000; uploads cost far more). A `quotaExceeded` answer, to a read or an
upload, stops this token's reads until the reset (midnight Pacific) without sending;
uploads are never held back by reads. An empty `items` list (how YouTube answers
for a deleted video) or a 404 means the video is gone.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Mapping
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from yarl import URL

from streams.publishing.adapters.base import (
    Adapter,
    Answer,
    CannotKnow,
    Checkpoint,
    ErrorClass,
    Failed,
    MediaFile,
    MetricsResult,
    NotAvailable,
    NotPublished,
    PostRef,
    Published,
    PublishRequest,
    PublishResult,
    ReconcileResult,
)
from streams.publishing.adapters.http import (
    RateLimitMemory,
    TransportFailure,
    header,
    json_body,
    read_chunk,
    retry_after,
    send,
    short,
)
from streams.publishing.metrics_answers import YOUTUBE_GONE, youtube_statistics

DEFAULT_BASE_URL = "https://www.googleapis.com"
UPLOAD_PATH = "/upload/youtube/v3/videos"
VIDEOS_PATH = "/youtube/v3/videos"
DAILY_QUOTA_SUMMARY = "the YouTube API quota is used up until midnight Pacific"
QUANTUM = 256 * 1024  # chunks are multiples of this, except the last
DEFAULT_CHUNK = 32 * QUANTUM  # 8 MiB
PACIFIC = ZoneInfo("America/Los_Angeles")  # the daily quota resets at midnight here
MAX_STALLED_CHUNKS = 3


def quota_reset(now: datetime) -> datetime:
    local = now.astimezone(PACIFIC)
    return datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=PACIFIC)


def video_resource(request: PublishRequest) -> dict[str, Any]:
    snippet: dict[str, Any] = {
        "title": request.title[:100],
        "description": request.description[:5000],
    }
    if isinstance(request.target.get("tags"), list):
        snippet["tags"] = [str(tag) for tag in request.target["tags"]]
    if "category_id" in request.target:
        snippet["categoryId"] = str(request.target["category_id"])
    privacy = request.target.get("privacy", "private")
    return {"snippet": snippet, "status": {"privacyStatus": privacy}}


def reasons(answer: Answer) -> list[str]:
    body = json_body(answer)
    error = body.get("error") if isinstance(body, dict) else None
    errors = error.get("errors") if isinstance(error, dict) else None
    if not isinstance(errors, list):
        return []
    return [str(e.get("reason", "")) for e in errors if isinstance(e, dict)]


def error_message(answer: Answer) -> str:
    body = json_body(answer)
    error = body.get("error") if isinstance(body, dict) else None
    return short(error.get("message", "")) if isinstance(error, dict) else ""


def published(answer: Answer) -> PublishResult:
    video = json_body(answer)
    if isinstance(video, dict) and isinstance(video.get("id"), str):
        return Published(video["id"], f"https://www.youtube.com/watch?v={video['id']}")
    return Failed(ErrorClass.UNKNOWN_OUTCOME, answer.status, "YouTube's answer had no video id")


def token_bucket(token: str) -> str:
    """The key of a token's quota memory: a digest, never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def received_until(answer: Answer) -> int:
    """The next byte to send after a 308: `Range: bytes=0-N` means N+1; none means 0."""
    value = header(answer.headers, "Range") or ""
    _, _, last = value.partition("-")
    return int(last) + 1 if last.isdigit() else 0


class YouTubeAdapter(Adapter):
    platform = "youtube"
    reads_metrics = True

    def __init__(
        self,
        session: aiohttp.ClientSession,
        clock: Callable[[], datetime],
        base_url: str = DEFAULT_BASE_URL,
        chunk_size: int = DEFAULT_CHUNK,
    ) -> None:
        if chunk_size <= 0 or chunk_size % QUANTUM:
            raise ValueError("chunk_size must be a positive multiple of 256 KiB")
        self._session = session
        self._clock = clock
        self._base = URL(base_url.rstrip("/"))
        self._chunk = chunk_size
        # Tokens whose daily quota YouTube said is spent, until its reset: reads skip them.
        self._quota = RateLimitMemory()

    async def publish(self, request: PublishRequest, checkpoint: Checkpoint) -> PublishResult:
        result = await self._publish(request, checkpoint)
        self._note_quota(request.credentials.get("access_token", ""), result)
        return result

    async def metrics(self, post: PostRef, credentials: Mapping[str, str]) -> MetricsResult:
        token = credentials.get("access_token", "")
        if not token:
            return Failed(
                ErrorClass.PERMANENT,
                None,
                "the connection has no access token",
                connection_broken=True,
            )
        now = self._clock()
        blocked = self._quota.blocked_until(token_bucket(token), now)
        if blocked is not None:
            return Failed(ErrorClass.QUOTA, None, DAILY_QUOTA_SUMMARY, retry_at=blocked)
        try:
            answer = await send(
                self._session,
                "GET",
                str(self._base) + VIDEOS_PATH,
                params={"part": "statistics", "id": post.post_id},
                headers={"Authorization": f"Bearer {token}"},
            )
        except TransportFailure as exc:
            return exc.as_failed(sent_means_unknown=False)  # a read changes nothing
        if answer.status == 200:
            return youtube_statistics(answer)
        if answer.status == 404:
            return NotAvailable(YOUTUBE_GONE, gone=True)
        failed = self.classify(answer, now)
        self._note_quota(token, failed)
        return failed

    def _note_quota(self, token: str, result: object) -> None:
        # Only the project's daily quota: a channel's upload cap does not stop reads.
        if (
            token
            and isinstance(result, Failed)
            and result.error_class is ErrorClass.QUOTA
            and result.summary == DAILY_QUOTA_SUMMARY
        ):
            self._quota.note(token_bucket(token), "0", result.retry_at)

    async def _publish(self, request: PublishRequest, checkpoint: Checkpoint) -> PublishResult:
        media = request.media
        if media is None:
            return Failed(ErrorClass.PERMANENT, None, "a YouTube item needs a video asset")
        if media.size <= 0:
            return Failed(ErrorClass.PERMANENT, None, "the video file is empty")
        token = request.credentials.get("access_token", "")
        if not token:
            return Failed(
                ErrorClass.PERMANENT,
                None,
                "the connection has no access token",
                connection_broken=True,
            )
        session_uri = self._stored(request.session, media)
        if session_uri is None:
            started = await self._start(request, media, token)
            if isinstance(started, Failed):
                return started
            session_uri = started
            await checkpoint({"session_uri": session_uri, "total": media.size})
            offset = 0
        else:
            status = await self._status(session_uri, media.size, token)
            if not isinstance(status, int):
                return status
            offset = status
        return await self._upload(session_uri, media, token, offset)

    async def reconcile(self, request: PublishRequest) -> ReconcileResult:
        if request.media is None:
            return NotPublished()
        session_uri = self._stored(request.session, request.media)
        if session_uri is None:
            # The session is checkpointed before any byte is sent: none, no video.
            return NotPublished()
        status = await self._status(
            session_uri, request.media.size, request.credentials.get("access_token", "")
        )
        if isinstance(status, int):
            return NotPublished()  # incomplete: the next publish resumes the session
        if isinstance(status, Failed) and status.status in (404, 410):
            return CannotKnow("the upload session expired: check the channel before retrying")
        return status

    def _stored(self, session: Mapping[str, Any] | None, media: MediaFile) -> str | None:
        if not session:
            return None
        uri = session.get("session_uri")
        if not isinstance(uri, str) or session.get("total") != media.size or not self._ours(uri):
            return None
        return uri

    def _ours(self, uri: str) -> bool:
        # The bearer token only ever goes to the configured API origin.
        return URL(uri).origin() == self._base.origin()

    async def _start(self, request: PublishRequest, media: MediaFile, token: str) -> str | Failed:
        url = str(self._base) + UPLOAD_PATH
        headers = {
            "Authorization": f"Bearer {token}",
            "X-Upload-Content-Length": str(media.size),
            "X-Upload-Content-Type": media.content_type,
        }
        params = {"uploadType": "resumable", "part": "snippet,status"}
        try:
            answer = await send(
                self._session,
                "POST",
                url,
                params=params,
                json=video_resource(request),
                headers=headers,
            )
        except TransportFailure as exc:
            return exc.as_failed(sent_means_unknown=False)  # no bytes sent: no video
        location = header(answer.headers, "Location")
        if answer.status == 200 and location and self._ours(location):
            return location
        if answer.status == 200:
            return Failed(ErrorClass.TRANSIENT, 200, "YouTube gave no usable upload session")
        return self.classify(answer, self._clock())

    async def _status(self, uri: str, total: int, token: str) -> int | PublishResult:
        headers = {"Authorization": f"Bearer {token}", "Content-Range": f"bytes */{total}"}
        try:
            answer = await send(self._session, "PUT", uri, data=b"", headers=headers)
        except TransportFailure as exc:
            return exc.as_failed(sent_means_unknown=False)  # a query changes nothing
        if answer.status == 308:
            return received_until(answer)
        if answer.status in (200, 201):
            return published(answer)
        if answer.status in (404, 410):
            return Failed(ErrorClass.UNKNOWN_OUTCOME, answer.status, "the upload session expired")
        return self.classify(answer, self._clock())

    async def _upload(self, uri: str, media: MediaFile, token: str, offset: int) -> PublishResult:
        stalled = 0
        if offset >= media.size:  # every byte held, yet not complete: YouTube's to finish
            return Failed(ErrorClass.TRANSIENT, 308, "YouTube holds the video but has not finished")
        while True:
            size = min(self._chunk, media.size - offset)
            chunk = await asyncio.to_thread(read_chunk, media.path, offset, size)
            if len(chunk) != size:
                return Failed(ErrorClass.PERMANENT, None, "the video file changed size")
            last = offset + size == media.size
            headers = {
                "Authorization": f"Bearer {token}",
                "Content-Type": media.content_type,
                "Content-Range": f"bytes {offset}-{offset + size - 1}/{media.size}",
            }
            try:
                answer = await send(self._session, "PUT", uri, data=chunk, headers=headers)
            except TransportFailure as exc:
                return exc.as_failed(sent_means_unknown=last)
            if answer.status in (200, 201):
                return published(answer)
            if answer.status != 308:
                if answer.status in (404, 410):
                    return Failed(
                        ErrorClass.UNKNOWN_OUTCOME, answer.status, "the upload session expired"
                    )
                return self.classify(answer, self._clock())
            resumed = received_until(answer)
            stalled = stalled + 1 if resumed <= offset else 0
            if stalled >= MAX_STALLED_CHUNKS or resumed >= media.size:
                return Failed(ErrorClass.TRANSIENT, 308, "YouTube is not taking the upload's bytes")
            offset = resumed

    def classify(self, answer: Answer, now: datetime) -> Failed:
        status, why = answer.status, reasons(answer)
        message = error_message(answer)
        if "quotaExceeded" in why:
            return Failed(
                ErrorClass.QUOTA,
                status,
                DAILY_QUOTA_SUMMARY,
                retry_at=quota_reset(now),
            )
        if "uploadLimitExceeded" in why:
            # A rolling 24-hour cap per channel: in 24 hours it has surely reset.
            return Failed(
                ErrorClass.QUOTA,
                status,
                "the channel reached its daily upload limit",
                retry_at=now + timedelta(hours=24),
            )
        if status == 429 or {"rateLimitExceeded", "userRateLimitExceeded"} & set(why):
            return Failed(
                ErrorClass.RATE_LIMITED,
                status,
                "YouTube rate limit",
                retry_at=retry_after(answer.headers, now),
            )
        if status >= 500:
            return Failed(ErrorClass.TRANSIENT, status, f"YouTube failed ({status})")
        if "youtubeSignupRequired" in why:
            return Failed(
                ErrorClass.PERMANENT,
                status,
                "the Google account has no YouTube channel (deleted?): "
                "reconnect with an account that has one",
                connection_broken=True,
            )
        if status == 401:
            return Failed(
                ErrorClass.PERMANENT,
                status,
                "YouTube refused the access token (expired or revoked): reconnect the account",
                connection_broken=True,
            )
        return Failed(
            ErrorClass.PERMANENT, status, f"YouTube refused the upload ({status}): {message}"
        )
