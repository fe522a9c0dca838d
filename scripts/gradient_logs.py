#!/usr/bin/env python3
"""gradient-logs: the local history of calls.

Runnable from a checkout with nothing installed; the command itself is gradient_inference/commands/logs.py."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from gradient_inference.commands.logs import run  # noqa: E402

if __name__ == "__main__":
    run()
