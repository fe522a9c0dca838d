#!/usr/bin/env python3
"""gradient-chat: send a prompt to a Gradient model (Chat Completions, Responses, Messages, or an agent).

Runnable from a checkout with nothing installed; the command itself is gradient_inference/commands/chat.py."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from gradient_inference.commands.chat import run  # noqa: E402

if __name__ == "__main__":
    run()
