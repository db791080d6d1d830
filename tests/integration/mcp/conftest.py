"""The MCP tests run against the whole stack (tests/integration/client/stack.py)."""

from tests.integration.client.stack import sdk_stack

__all__ = ["sdk_stack"]
