#!/usr/bin/env python3
"""gradient-compare: run your prompts on several models; one report of speed, cost and quality.

Runnable from a checkout with nothing installed; the command itself is gradient_inference/commands/compare.py."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from gradient_inference.commands.compare import run  # noqa: E402

if __name__ == "__main__":
    run()
