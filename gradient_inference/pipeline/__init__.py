"""One call under every surface: the commands, gradient-mcp and the Python API build a Settings once
(settings.py) and call the functions here, which send the request, read the reply or stream, price it, apply the
budget and write the history row (call.py holds one call's state). Nothing here knows argparse."""
