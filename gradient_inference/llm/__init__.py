"""The text APIs: Chat Completions, Responses, Anthropic Messages, DigitalOcean agents; tools, images in."""
