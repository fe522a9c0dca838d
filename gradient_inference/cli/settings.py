"""The flags a command parsed, as the pipeline's Settings (loaded after parsing, so --help never pays for it)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Callable

    from gradient_inference.pipeline.settings import Settings


def settings(args: argparse.Namespace, prog: str, warn: Callable[[str], None]) -> Settings:
    """The pipeline's Settings from the parsed flags and the environment; a bad value is a usage error (exit 2).
    The surface (the history's command column) is the command's name: gradient-chat records as chat."""
    from gradient_inference.pipeline import settings as pipeline_settings

    return pipeline_settings.build(
        base_url=getattr(args, "base_url", None),
        timeout=getattr(args, "timeout", None),
        max_retries=getattr(args, "max_retries", None),
        dry_run=getattr(args, "dry_run", False),
        history=False if getattr(args, "no_history", False) else None,
        budget=getattr(args, "budget", None),
        cache_dir=getattr(args, "cache_dir", None),
        surface=prog.removeprefix("gradient-"),
        warn=warn,
    )
