"""Talking to the inference API: configuration, the retrying session, errors, bodies, streams, downloads."""
