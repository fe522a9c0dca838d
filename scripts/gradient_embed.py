#!/usr/bin/env python3
"""gradient-embed: make embeddings for many texts.

Runnable from a checkout with nothing installed; the command itself is gradient_inference/commands/embed.py."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from gradient_inference.commands.embed import run  # noqa: E402

if __name__ == "__main__":
    run()
