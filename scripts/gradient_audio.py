#!/usr/bin/env python3
"""gradient-audio: make speech or audio with a fal model and save it as a file.

Runnable from a checkout with nothing installed; the command itself is gradient_inference/commands/audio.py."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from gradient_inference.commands.audio import run  # noqa: E402

if __name__ == "__main__":
    run()
