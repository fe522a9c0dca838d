"""Media jobs: fal models through async-invoke, and what a downloaded file really is."""
