"""Many prompts: batch lines, the local runner, and DigitalOcean Batch Inference."""
