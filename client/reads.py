"""The read methods: one object by id, or a list as an async iterator over its pages."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TypeVar

from pydantic import BaseModel

from client.base import Base
from client.models import (
    Asset,
    AuditEvent,
    Clip,
    CommandOutcome,
    Connection,
    Post,
    Project,
    QueueItem,
    QueueItemDetail,
    Usage,
)
from client.paging import Pages
from schemas.commands import AssetKind, Platform

M = TypeVar("M", bound=BaseModel)
PAGE_SIZE = 50

Id = uuid.UUID | str


def _id(value: Id | None) -> str | None:
    return None if value is None else str(value)


class Reads(Base):
    async def _one(self, path: str, model: type[M]) -> M:
        return model.model_validate((await self._http.call("GET", path)).json())

    def items(
        self,
        *,
        status: str | None = None,
        platform: Platform | None = None,
        project_id: Id | None = None,
        connection_id: Id | None = None,
        schedule_from: datetime | None = None,
        schedule_to: datetime | None = None,
        overdue: bool | None = None,
        page_size: int = PAGE_SIZE,
    ) -> Pages[QueueItem]:
        """Queue items in ``schedule_at`` order."""
        params = {
            "status": status,
            "platform": platform,
            "project_id": _id(project_id),
            "connection_id": _id(connection_id),
            "schedule_from": schedule_from,
            "schedule_to": schedule_to,
            "overdue": overdue,
        }
        return Pages(self._http, "/v1/queue", QueueItem, params, page_size)

    async def item(self, item_id: Id) -> QueueItemDetail:
        """One item with its attempts and its post."""
        return await self._one(f"/v1/queue/{item_id}", QueueItemDetail)

    def posts(
        self,
        *,
        platform: Platform | None = None,
        queue_item_id: Id | None = None,
        page_size: int = PAGE_SIZE,
    ) -> Pages[Post]:
        params = {"platform": platform, "queue_item_id": _id(queue_item_id)}
        return Pages(self._http, "/v1/posts", Post, params, page_size)

    async def post(self, post_id: Id) -> Post:
        return await self._one(f"/v1/posts/{post_id}", Post)

    def assets(
        self,
        *,
        kind: AssetKind | None = None,
        status: str | None = None,
        project_id: Id | None = None,
        page_size: int = PAGE_SIZE,
    ) -> Pages[Asset]:
        params = {"kind": kind, "status": status, "project_id": _id(project_id)}
        return Pages(self._http, "/v1/assets", Asset, params, page_size)

    async def asset(self, asset_id: Id) -> Asset:
        return await self._one(f"/v1/assets/{asset_id}", Asset)

    def clips(
        self, *, status: str | None = None, project_id: Id | None = None, page_size: int = PAGE_SIZE
    ) -> Pages[Clip]:
        params = {"status": status, "project_id": _id(project_id)}
        return Pages(self._http, "/v1/clips", Clip, params, page_size)

    async def clip(self, clip_id: Id) -> Clip:
        return await self._one(f"/v1/clips/{clip_id}", Clip)

    def projects(self, *, page_size: int = PAGE_SIZE) -> Pages[Project]:
        return Pages(self._http, "/v1/projects", Project, {}, page_size)

    async def project(self, project_id: Id) -> Project:
        return await self._one(f"/v1/projects/{project_id}", Project)

    def connections(
        self,
        *,
        platform: Platform | None = None,
        status: str | None = None,
        page_size: int = PAGE_SIZE,
    ) -> Pages[Connection]:
        params = {"platform": platform, "status": status}
        return Pages(self._http, "/v1/connections", Connection, params, page_size)

    async def connection(self, connection_id: Id) -> Connection:
        return await self._one(f"/v1/connections/{connection_id}", Connection)

    def audit(
        self,
        *,
        aggregate_id: Id | None = None,
        type: str | None = None,
        since: datetime | None = None,
        page_size: int = PAGE_SIZE,
    ) -> Pages[AuditEvent]:
        """The organization's event history (scope ``audit:read``), in log order."""
        params = {"aggregate_id": _id(aggregate_id), "type": type, "since": since}
        return Pages(self._http, "/v1/audit", AuditEvent, params, page_size)

    async def command(self, command_id: Id) -> CommandOutcome:
        """A command's outcome now (404 until the read model has seen the command)."""
        return await self._one(f"/v1/commands/{command_id}", CommandOutcome)

    async def usage(self) -> Usage:
        return await self._one("/v1/usage", Usage)
