"""The commands, one module each: argument parsing, the requests, the rendering."""
