"""gradient-mcp: the commands as MCP tools (tools.py: schemas and calls; server.py: the SDK over stdio)."""
