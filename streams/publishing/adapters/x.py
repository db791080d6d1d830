"""X: `POST /2/tweets`, with the item's asset uploaded first through media upload v2.

A duplicate-content 403 means the post probably exists already: it is reported as
`UNKNOWN_OUTCOME` so the publisher reconciles, never retried. `reconcile` reads the
user's recent posts and matches the exact text we send (X rewrites links to t.co, so
a text with URLs may not match: then the duplicate 403 on the next attempt says so
again). Media upload steps publish nothing, so their failures are at worst `TRANSIENT`.
Status polling uses `GET /2/media/upload?command=STATUS&media_id=…` (unconfirmed).

Reading back: `GET /2/tweets/{id}?tweet.fields=public_metrics`. X limits each
endpoint on its own, so reads keep their own bucket per token (`read:` + digest):
a read's 429 holds back reads until `x-rate-limit-reset`, never a post. A deleted
post is answered 200 with a `resource-not-found` error and no `data` (X's documented
form), or 404 (accepted too): both mean gone.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

import aiohttp

from streams.publishing.adapters.base import (
    Adapter,
    Answer,
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
    dig,
    epoch_reset,
    header,
    json_body,
    read_chunk,
    send,
    short,
)
from streams.publishing.metrics_answers import X_GONE, x_public_metrics

DEFAULT_BASE_URL = "https://api.x.com"
MAX_TEXT = 280
MEDIA_SEGMENT = 4 * 1024 * 1024
RECENT_POSTS = 20  # how far back reconcile looks
MAX_STATUS_POLLS = 30
DUPLICATE = "duplicate content"


def post_text(request: PublishRequest) -> str:
    if isinstance(request.target.get("text"), str):
        return str(request.target["text"])[:MAX_TEXT]
    text = f"{request.title}\n\n{request.description}" if request.description else request.title
    return text[:MAX_TEXT]


def problem_detail(answer: Answer) -> str:
    body = json_body(answer)
    if not isinstance(body, dict):
        return ""
    if isinstance(body.get("detail"), str):
        return short(body["detail"])
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return short(errors[0].get("message", ""))
    return ""


def poll_wait(value: object) -> float:
    """X's `check_after_secs`, bounded: 1 s when missing or unusable, 30 s at most."""
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 1.0
    return min(max(seconds, 0.0), 30.0) if seconds == seconds else 1.0


def token_bucket(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:16]  # never the token itself


def media_category(media: MediaFile) -> str:
    kind = media.content_type.split("/")[0]
    return {"video": "tweet_video", "image": "tweet_image"}.get(kind, "tweet_video")


class XAdapter(Adapter):
    platform = "x"
    reads_metrics = True

    def __init__(
        self,
        session: aiohttp.ClientSession,
        clock: Callable[[], datetime],
        base_url: str = DEFAULT_BASE_URL,
        segment_size: int = MEDIA_SEGMENT,
    ) -> None:
        self._session = session
        self._clock = clock
        self._base = base_url.rstrip("/")
        self._segment = segment_size
        self._limits = RateLimitMemory()

    async def publish(self, request: PublishRequest, checkpoint: Checkpoint) -> PublishResult:
        token = request.credentials.get("access_token", "")
        if not token:
            return Failed(
                ErrorClass.PERMANENT,
                None,
                "the connection has no access token",
                connection_broken=True,
            )
        auth = {"Authorization": f"Bearer {token}"}
        bucket = hashlib.sha256(token.encode()).hexdigest()[:16]  # never the token itself
        now = self._clock()
        blocked = self._limits.blocked_until(bucket, now)
        if blocked is not None:
            return Failed(
                ErrorClass.RATE_LIMITED, None, "X's rate limit window is used up", retry_at=blocked
            )
        body: dict[str, Any] = {"text": post_text(request)}
        if request.media is not None:
            media_id = await self._upload(request.media, auth)
            if isinstance(media_id, Failed):
                return media_id
            body["media"] = {"media_ids": [media_id]}
        try:
            answer = await send(
                self._session, "POST", f"{self._base}/2/tweets", json=body, headers=auth
            )
        except TransportFailure as exc:
            return exc.as_failed()
        self._limits.note(
            bucket,
            header(answer.headers, "x-rate-limit-remaining"),
            epoch_reset(answer.headers, "x-rate-limit-reset", now),
        )
        if answer.status in (200, 201):
            data = dig(json_body(answer), "data")
            if isinstance(data, dict) and isinstance(data.get("id"), str):
                return Published(data["id"], f"https://x.com/i/status/{data['id']}")
            return Failed(ErrorClass.UNKNOWN_OUTCOME, answer.status, "X's answer had no post id")
        return self.classify(answer, now)

    async def metrics(self, post: PostRef, credentials: Mapping[str, str]) -> MetricsResult:
        token = credentials.get("access_token", "")
        if not token:
            return Failed(
                ErrorClass.PERMANENT,
                None,
                "the connection has no access token",
                connection_broken=True,
            )
        bucket = "read:" + token_bucket(token)
        now = self._clock()
        blocked = self._limits.blocked_until(bucket, now)
        if blocked is not None:
            return Failed(
                ErrorClass.RATE_LIMITED,
                None,
                "X's rate limit window for reading posts is used up",
                retry_at=blocked,
            )
        url = f"{self._base}/2/tweets/{quote(post.post_id, safe='')}"
        try:
            answer = await send(
                self._session,
                "GET",
                url,
                params={"tweet.fields": "public_metrics"},
                headers={"Authorization": f"Bearer {token}"},
            )
        except TransportFailure as exc:
            return exc.as_failed(sent_means_unknown=False)  # a read changes nothing
        self._limits.note(
            bucket,
            header(answer.headers, "x-rate-limit-remaining"),
            epoch_reset(answer.headers, "x-rate-limit-reset", now),
        )
        if answer.status == 200:
            return x_public_metrics(json_body(answer))
        if answer.status == 404:
            return NotAvailable(X_GONE, gone=True)
        if answer.status == 403 and DUPLICATE not in problem_detail(answer).lower():
            detail = problem_detail(answer)
            return Failed(ErrorClass.PERMANENT, 403, f"X does not let this account read: {detail}")
        return self.classify(answer, now)

    async def reconcile(self, request: PublishRequest) -> ReconcileResult:
        auth = {"Authorization": f"Bearer {request.credentials.get('access_token', '')}"}
        me = await self._get(f"{self._base}/2/users/me", auth, {})
        if isinstance(me, Failed):
            return me
        user = me.get("data")
        if not isinstance(user, dict) or not isinstance(user.get("id"), str):
            return Failed(ErrorClass.TRANSIENT, 200, "X's user lookup had no id")
        recent = await self._get(
            f"{self._base}/2/users/{user['id']}/tweets", auth, {"max_results": str(RECENT_POSTS)}
        )
        if isinstance(recent, Failed):
            return recent
        text = post_text(request)
        posts = recent.get("data")
        for post in posts if isinstance(posts, list) else []:
            if (
                isinstance(post, dict)
                and post.get("text") == text
                and isinstance(post.get("id"), str)
            ):
                return Published(post["id"], f"https://x.com/i/status/{post['id']}")
        return NotPublished()

    async def _get(
        self, url: str, auth: Mapping[str, str], params: Mapping[str, str]
    ) -> dict[str, Any] | Failed:
        try:
            answer = await send(self._session, "GET", url, headers=auth, params=params)
        except TransportFailure as exc:
            return exc.as_failed(sent_means_unknown=False)  # a read changes nothing
        body = json_body(answer)
        if answer.status == 200 and isinstance(body, dict):
            return body
        return self.classify(answer, self._clock())

    async def _upload(self, media: MediaFile, auth: Mapping[str, str]) -> str | Failed:
        init = {
            "media_type": media.content_type,
            "total_bytes": media.size,
            "media_category": media_category(media),
        }
        started = await self._media_call("initialize", auth, json=init)
        if isinstance(started, Failed):
            return started
        media_id = dig(started, "data", "id")
        if not isinstance(media_id, str):
            return Failed(ErrorClass.TRANSIENT, None, "X's media upload gave no media id")
        for index, offset in enumerate(range(0, media.size, self._segment)):
            chunk = await asyncio.to_thread(read_chunk, media.path, offset, self._segment)
            form = aiohttp.FormData()
            form.add_field("segment_index", str(index))
            form.add_field("media", chunk, filename="blob", content_type="application/octet-stream")
            appended = await self._media_call(f"{media_id}/append", auth, data=form)
            if isinstance(appended, Failed):
                return appended
        finished = await self._media_call(f"{media_id}/finalize", auth)
        if isinstance(finished, Failed):
            return finished
        return await self._processed(media_id, finished, auth)

    async def _processed(
        self, media_id: str, answer: dict[str, Any], auth: Mapping[str, str]
    ) -> str | Failed:
        for _ in range(MAX_STATUS_POLLS):
            info = dig(answer, "data", "processing_info")
            state = info.get("state") if isinstance(info, dict) else "succeeded"
            if state == "succeeded":
                return media_id
            if state == "failed":
                return Failed(ErrorClass.PERMANENT, None, "X could not process the media")
            wait = info.get("check_after_secs") if isinstance(info, dict) else None
            await asyncio.sleep(poll_wait(wait))
            polled = await self._get(
                f"{self._base}/2/media/upload", auth, {"command": "STATUS", "media_id": media_id}
            )
            if isinstance(polled, Failed):
                return polled
            answer = polled
        return Failed(ErrorClass.TRANSIENT, None, "X is still processing the media")

    async def _media_call(
        self, step: str, auth: Mapping[str, str], **kwargs: Any
    ) -> dict[str, Any] | Failed:
        url = f"{self._base}/2/media/upload/{step}"
        try:
            answer = await send(self._session, "POST", url, headers=auth, **kwargs)
        except TransportFailure as exc:
            return exc.as_failed(sent_means_unknown=False)  # media alone is not a post
        if 200 <= answer.status < 300:
            body = json_body(answer)
            return body if isinstance(body, dict) else {}
        failed = self.classify(answer, self._clock())
        if failed.error_class is ErrorClass.UNKNOWN_OUTCOME:  # no duplicate post from media
            return Failed(ErrorClass.PERMANENT, failed.status, failed.summary)
        return failed

    def classify(self, answer: Answer, now: datetime) -> Failed:
        status, detail = answer.status, problem_detail(answer)
        if status == 429:
            return Failed(
                ErrorClass.RATE_LIMITED,
                status,
                "X rate limit",
                retry_at=epoch_reset(answer.headers, "x-rate-limit-reset", now),
            )
        if status >= 500:
            return Failed(ErrorClass.TRANSIENT, status, f"X failed ({status})")
        if status == 403 and DUPLICATE in detail.lower():
            return Failed(
                ErrorClass.UNKNOWN_OUTCOME,
                status,
                "X says this text was already posted: look it up",
            )
        if status == 401:
            return Failed(
                ErrorClass.PERMANENT,
                status,
                "X refused the access token (expired or revoked): reconnect the account",
                connection_broken=True,
            )
        if status == 403:
            return Failed(
                ErrorClass.PERMANENT,
                status,
                f"X does not let this account post: {detail}",
                connection_broken=True,
            )
        return Failed(ErrorClass.PERMANENT, status, f"X refused the post ({status}): {detail}")
