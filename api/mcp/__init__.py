"""The MCP server at /mcp: WaveStack's tools for AI assistants, behind the API's JWT."""
