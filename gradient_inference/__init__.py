"""gradient-inference: DigitalOcean serverless inference from the command line (the map: README's Layout)."""

from gradient_inference import boot  # noqa: F401  (first: where Python keeps no bytecode beside us, the cache does)
