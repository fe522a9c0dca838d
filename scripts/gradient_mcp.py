#!/usr/bin/env python3
"""gradient-mcp: the commands as MCP tools over stdio (needs the [mcp] extra).

Runnable from a checkout with nothing installed; the command itself is gradient_inference/commands/mcp.py."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from gradient_inference.commands.mcp import run  # noqa: E402

if __name__ == "__main__":
    run()
