"""The Python API: Client and AsyncClient (client/sync.py, client/aio.py), whose methods call the same pipeline
functions as the commands and gradient-mcp, and return the objects of client/results.py."""
