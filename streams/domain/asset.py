"""The asset: probing → registered | failed; a clip's output is registered in one step."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from schemas.agent_commands import FailAssetRegistration, RecordAssetProbe, RegisterClipOutput
from schemas.base import Command, Event
from schemas.commands import AssetKind, DeleteAsset, RegisterAsset
from schemas.events import (
    AssetDeleted,
    AssetRegistered,
    AssetRegistrationFailed,
    AssetRegistrationRequested,
)
from streams.domain.common import CONFLICT, NOT_FOUND, Decision, applied, duplicate, rejected

AssetStatus = Literal["probing", "registered", "failed", "deleted"]


class AssetState(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    status: AssetStatus
    path: str
    kind: AssetKind
    title: str
    project_id: uuid.UUID | None = None
    thumbnail_path: str | None = None


def decide(command: Command, state: AssetState | None, now: datetime) -> Decision:
    match command:
        case RegisterAsset():
            return _register(command, state)
        case RecordAssetProbe():
            return _record_probe(command, state)
        case FailAssetRegistration():
            return _fail(command, state)
        case RegisterClipOutput():
            return _register_output(command, state)
        case DeleteAsset():
            return _delete(command, state)
    raise TypeError(f"not an asset command: {command.TYPE}")


def evolve(state: AssetState | None, event: Event) -> AssetState:
    match event:
        case AssetRegistrationRequested():
            return AssetState(
                status="probing",
                path=event.path,
                kind=event.kind,
                title=event.title,
                project_id=event.project_id,
            )
        case AssetRegistered():
            # Also the first event of a clip's output asset, which has no probing step.
            return AssetState(
                status="registered",
                path=event.path,
                kind=event.kind,
                title=event.title,
                project_id=event.project_id,
                thumbnail_path=event.thumbnail_path,
            )
        case AssetRegistrationFailed() if state is not None:
            return state.model_copy(update={"status": "failed"})
        case AssetDeleted() if state is not None:
            return state.model_copy(update={"status": "deleted"})
    raise ValueError(f"{event.TYPE} cannot apply to asset state {state!r}")


def _register(command: RegisterAsset, state: AssetState | None) -> Decision:
    if state is not None:
        return rejected(CONFLICT, "an asset with this id already exists")
    return applied(
        AssetRegistrationRequested(
            path=command.path, kind=command.kind, title=command.title, project_id=command.project_id
        )
    )


def _record_probe(command: RecordAssetProbe, state: AssetState | None) -> Decision:
    if state is None:
        return rejected(NOT_FOUND, "asset not found")
    if state.status == "registered":
        return duplicate("the asset is already registered")
    if state.status in ("failed", "deleted"):
        return rejected(CONFLICT, f"the asset is {state.status} already")
    return applied(
        AssetRegistered(
            path=state.path,
            kind=state.kind,
            title=state.title,
            project_id=state.project_id,
            media=command.media,
            thumbnail_path=command.thumbnail_path,
        )
    )


def _fail(command: FailAssetRegistration, state: AssetState | None) -> Decision:
    if state is None:
        return rejected(NOT_FOUND, "asset not found")
    if state.status == "failed":
        return duplicate("the asset's registration already failed")
    if state.status in ("registered", "deleted"):
        return rejected(CONFLICT, f"the asset is {state.status} already")
    return applied(AssetRegistrationFailed(code=command.code, reason=command.reason))


def _delete(command: DeleteAsset, state: AssetState | None) -> Decision:
    if state is None:
        return rejected(NOT_FOUND, "asset not found")
    if state.status == "deleted":
        return duplicate("the asset is already deleted")
    if state.status == "probing":
        # Its probe is on its way and would register a file that is gone.
        return rejected(CONFLICT, "the asset is being probed; delete it once it is registered")
    deleted = AssetDeleted(
        path=state.path, thumbnail_path=state.thumbnail_path, keep_file=command.keep_file
    )
    return applied(deleted)


def _register_output(command: RegisterClipOutput, state: AssetState | None) -> Decision:
    if state is not None:
        # The output asset id derives from the clip id: a re-run clip lands here.
        return duplicate("the clip's output is already registered")
    return applied(
        AssetRegistered(
            path=command.path,
            kind=command.kind,
            title=command.title,
            project_id=command.project_id,
            media=command.media,
            thumbnail_path=command.thumbnail_path,
            lineage=command.lineage,
            source_clip_id=command.clip_id,
        )
    )
