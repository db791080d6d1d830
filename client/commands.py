"""The command methods: each answers the 202's ids; wait_for_outcome says what happened."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from client.base import Base, body_of, new_key
from client.models import Accepted
from schemas.commands import (
    AssetKind,
    CancelItem,
    ClipAspect,
    ClipFormat,
    ClipMode,
    CreateProject,
    EnqueueItem,
    Platform,
    RegisterAsset,
    RequestClip,
    RescheduleItem,
)
from schemas.publishing import RetryItem


class Commands(Base):
    async def enqueue(
        self,
        platform: Platform,
        title: str,
        *,
        description: str | None = None,
        schedule_at: datetime | None = None,
        timezone: str | None = None,
        connection_id: uuid.UUID | str | None = None,
        project_id: uuid.UUID | str | None = None,
        asset_id: uuid.UUID | str | None = None,
        target: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Accepted:
        """Queues an item; ``schedule_at`` must carry an offset (omitted: now)."""
        body = body_of(
            EnqueueItem,
            platform=platform,
            title=title,
            description=description,
            schedule_at=schedule_at,
            timezone=timezone,
            connection_id=connection_id,
            project_id=project_id,
            asset_id=asset_id,
            target=target,
        )
        return await self._post("/v1/queue", body, new_key(idempotency_key))

    async def cancel(
        self,
        item_id: uuid.UUID | str,
        *,
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> Accepted:
        body = body_of(CancelItem, reason=reason)
        return await self._post(f"/v1/queue/{item_id}/cancel", body, new_key(idempotency_key))

    async def reschedule(
        self,
        item_id: uuid.UUID | str,
        schedule_at: datetime,
        *,
        idempotency_key: str | None = None,
    ) -> Accepted:
        body = body_of(RescheduleItem, schedule_at=schedule_at)
        return await self._post(f"/v1/queue/{item_id}/reschedule", body, new_key(idempotency_key))

    async def retry(
        self,
        item_id: uuid.UUID | str,
        *,
        schedule_at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> Accepted:
        """Publishes a failed or unconfirmed item again (a new attempt series)."""
        body = body_of(RetryItem, schedule_at=schedule_at)
        return await self._post(f"/v1/queue/{item_id}/retry", body, new_key(idempotency_key))

    async def request_clip(
        self,
        *,
        start: float,
        asset_id: uuid.UUID | str | None = None,
        path: str | None = None,
        duration: float | None = None,
        end: float | None = None,
        format: ClipFormat | None = None,
        mode: ClipMode | None = None,
        aspect: ClipAspect | None = None,
        title: str | None = None,
        project_id: uuid.UUID | str | None = None,
        idempotency_key: str | None = None,
    ) -> Accepted:
        """Cuts ``[start, start + duration)`` (or up to ``end``) out of an asset or a
        file of the organization's media space."""
        source = {"asset_id": asset_id} if asset_id is not None else {"path": path}
        body = body_of(
            RequestClip,
            source=source,
            start=start,
            duration=duration,
            end=end,
            format=format,
            mode=mode,
            aspect=aspect,
            title=title,
            project_id=project_id,
        )
        return await self._post("/v1/clips", body, new_key(idempotency_key))

    async def create_project(self, name: str, *, idempotency_key: str | None = None) -> Accepted:
        body = body_of(CreateProject, name=name)
        return await self._post("/v1/projects", body, new_key(idempotency_key))

    async def register_asset(
        self,
        path: str,
        *,
        kind: AssetKind | None = None,
        title: str | None = None,
        project_id: uuid.UUID | str | None = None,
        idempotency_key: str | None = None,
    ) -> Accepted:
        """Registers a file already in the organization's media space (see upload())."""
        body = body_of(RegisterAsset, path=path, kind=kind, title=title, project_id=project_id)
        return await self._post("/v1/assets", body, new_key(idempotency_key))

    async def create_connection(
        self,
        platform: Platform,
        name: str,
        credentials: dict[str, str],
        *,
        idempotency_key: str | None = None,
    ) -> Accepted:
        """A publishing account; ``credentials`` are write-only (never read back)."""
        body = {"platform": platform, "name": name, "credentials": credentials}
        return await self._post("/v1/connections", body, new_key(idempotency_key))

    async def delete_connection(
        self, connection_id: uuid.UUID | str, *, idempotency_key: str | None = None
    ) -> Accepted:
        """Deletes the connection and destroys its credentials for good."""
        return await self._post(
            f"/v1/connections/{connection_id}", None, new_key(idempotency_key), method="DELETE"
        )
