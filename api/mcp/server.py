"""The MCP server proper (the SDK's low-level Server): tools listed and called per caller.

The low-level Server rather than the SDK's decorator-based MCPServer: the tools are
an explicit table with their scopes, their input schemas come from pydantic models,
and MCPServer's constructor configures the process's root logging (a Rich handler),
which the API's own structured logging must keep.
"""

from __future__ import annotations

import json
from typing import Any

import structlog
from mcp.server import Server, ServerRequestContext
from mcp_types import (
    CallToolRequestParams,
    CallToolResult,
    ListToolsResult,
    PaginatedRequestParams,
    TextContent,
    ToolAnnotations,
)
from mcp_types import Tool as McpTool
from pydantic import ValidationError

from api.backends.errors import Unavailable
from api.mcp.caller import SCOPE_KEY, Caller, ToolFailure, refused
from api.mcp.tools import TOOLS, Tool

log = structlog.get_logger(__name__)
SERVER_NAME = "wavestack"


def _caller(ctx: ServerRequestContext[Any]) -> Caller:
    # Put there by the /mcp route after it verified the token (api/mcp/route.py).
    caller = ctx.request.scope.get(SCOPE_KEY) if ctx.request is not None else None
    if not isinstance(caller, Caller):
        raise RuntimeError("an MCP request reached the server without a verified caller")
    return caller


def _describe(tool: Tool) -> McpTool:
    return McpTool(
        name=tool.name,
        description=f"{tool.description} (scope {tool.scope})",
        input_schema=tool.arguments.model_json_schema(),
        annotations=ToolAnnotations(
            read_only_hint=tool.scope == "read", idempotent_hint=True, open_world_hint=False
        ),
    )


def _result(doc: dict[str, Any], *, error: bool = False) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(text=json.dumps(doc, default=str))],
        structured_content=doc,
        is_error=error,
    )


async def list_tools(
    ctx: ServerRequestContext[Any], params: PaginatedRequestParams | None
) -> ListToolsResult:
    """Only the tools the caller's token may call."""
    who = _caller(ctx).principal
    return ListToolsResult(tools=[_describe(t) for t in TOOLS.values() if who.has(t.scope)])


async def call_tool(
    ctx: ServerRequestContext[Any], params: CallToolRequestParams
) -> CallToolResult:
    caller = _caller(ctx)
    tool = TOOLS.get(params.name)
    try:
        if tool is None:
            raise refused(f"no tool named {params.name!r}")
        if not caller.principal.has(tool.scope):
            raise refused(f"this token lacks the scope {tool.scope!r}", status=403)
        try:
            args = tool.arguments.model_validate(params.arguments or {})
        except ValidationError as exc:
            errors = [
                {"loc": ["arguments", *e["loc"]], "msg": e["msg"]}
                for e in exc.errors(include_url=False, include_input=False)
            ]
            raise ToolFailure(
                {"title": "Invalid arguments", "status": 422, "errors": errors}
            ) from exc
        return _result(await tool.run(caller, args))
    except ToolFailure as exc:
        return _result(exc.problem, error=True)
    except Unavailable as exc:
        log.warning(
            "mcp tool unavailable",
            tool=params.name,
            reason=exc.detail,
            org_id=caller.principal.org_id,
        )
        return _result(
            {"title": "Service unavailable", "status": 503, "detail": str(exc)}, error=True
        )


def build_server() -> Server[Any]:
    return Server(SERVER_NAME, on_list_tools=list_tools, on_call_tool=call_tool)
