#!/usr/bin/env python3
"""gradient-batch: many prompts at once, sent from here or through DigitalOcean Batch Inference.

Runnable from a checkout with nothing installed; the command itself is gradient_inference/commands/batch.py."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from gradient_inference.commands.batch import run  # noqa: E402

if __name__ == "__main__":
    run()
