"""gradient-inference: DigitalOcean serverless inference from the command line and from Python (the map: README's
Layout). The Python API loads on first use (`from gradient_inference import Client`): the commands never pay for it."""

from gradient_inference import boot  # noqa: F401  (first: where Python keeps no bytecode beside us, the cache does)


def __getattr__(name: str):  # Client, AsyncClient and the error classes (errors.py), loaded when first asked for
    import importlib

    home = {"Client": "client.sync", "AsyncClient": "client.aio"}.get(name, "errors")
    return getattr(importlib.import_module(f"gradient_inference.{home}"), name)
