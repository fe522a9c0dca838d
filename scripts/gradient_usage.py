#!/usr/bin/env python3
"""gradient-usage: what recorded calls cost, and the budget.

Runnable from a checkout with nothing installed; the command itself is gradient_inference/commands/usage.py."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from gradient_inference.commands.usage import run  # noqa: E402

if __name__ == "__main__":
    run()
