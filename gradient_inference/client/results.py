"""What the Python API's methods return: read-only views over the same dicts the commands print with --json, so
`reply.to_dict()` is exactly what `gradient-chat --json` prints."""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class Record:
    """A dict's keys as attributes (`model.id`, `usage.input_tokens`); a missing key is AttributeError."""

    __slots__ = ("_data",)

    def __init__(self, data: dict[str, Any]) -> None:
        object.__setattr__(self, "_data", data)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._data[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __getitem__(self, name: str) -> Any:
        return self._data[name]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Record) and other._data == self._data

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._data!r})"

    def to_dict(self) -> dict[str, Any]:
        import copy

        return copy.deepcopy(self._data)


class Model(Record):
    """One entry of GET /models: .id, .owned_by, .created (and prices when asked)."""


class Usage(Record):
    """Token counts: .input_tokens, .output_tokens, .cached_tokens, .reasoning_tokens (None when not reported)."""

    def __getattr__(self, name: str) -> Any:
        if name in ("input_tokens", "output_tokens", "cached_tokens", "reasoning_tokens"):
            return self._data.get(name)
        return super().__getattr__(name)


class Cost(Record):
    """An estimate in USD: .usd, .source (where the prices came from), .price_model."""


class ToolCall(Record):
    """A function call the model asks for: .id, .name, .arguments (a dict when the model sent valid JSON)."""


def cost_of(found: dict | None) -> Cost | None:
    return Cost(found) if found else None


class ChatReply(Record):
    """A chat reply: .text, .model, .id, .finish_reason, .usage, .cost, .tool_calls, .parsed, .conversation_id, and
    every other key of gradient-chat --json (.requested_model, .route, .citations, .server_tools, .reasoning...)."""

    @property
    def text(self) -> str:
        return self._data.get("content") or ""

    @property
    def usage(self) -> Usage:
        return Usage(self._data.get("usage") or {})

    @property
    def cost(self) -> Cost | None:
        return cost_of(self._data.get("cost"))

    @property
    def tool_calls(self) -> list[ToolCall]:
        return [ToolCall(call) for call in self._data.get("tool_calls") or []]

    @property
    def parsed(self) -> Any:
        return self._data.get("parsed")


class Embeddings(Record):
    """.vectors (a list of float lists, in input order), .model, .usage ({prompt_tokens, total_tokens}), .cost."""

    @property
    def usage(self) -> Usage:
        return Usage(self._data["usage"])

    @property
    def cost(self) -> Cost | None:
        return cost_of(self._data.get("cost"))


class Image(Record):
    """One generated image: .data (bytes), .format (png, jpeg or webp), .revised_prompt; .save(path)."""

    def save(self, path: str | os.PathLike, force: bool = False) -> str:
        """Write the image atomically; an existing file is never replaced unless force. The path written."""
        import logging

        from gradient_inference.files import output as files

        target = os.fspath(path)
        files.check_output_arg(target)
        files.check_targets([target], force)
        files.write_all([target], [self._data["data"]], force, logging.getLogger("gradient_inference").info)
        return target


class Images(list):
    """The images of one call (a list of Image), with the call's .model, .usage and .cost."""

    def __init__(self, images: list[Image], model: str, usage: dict | None, cost: dict | None) -> None:
        super().__init__(images)
        self.model, self.usage, self.cost = model, Usage(usage or {}), cost_of(cost)


def images_of(made: dict[str, Any]) -> Images:
    found = [Image({"data": i["bytes"], "format": i["format"], "revised_prompt": i["revised_prompt"]})
             for i in made["images"]]  # fmt: skip
    return Images(found, made["model"], made["usage"], made["cost"])
