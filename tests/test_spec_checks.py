"""The spec checks themselves: each catches the mistakes it exists for (so a passing body means something)."""

from __future__ import annotations

import pytest
from spec_checks import check_chat_request, check_image_request, check_responses_request

CHAT_OK = {"model": "m", "messages": [{"role": "user", "content": "x"}]}
RESPONSES_OK = {"model": "m", "input": "x"}
IMAGE_OK = {"model": "m", "prompt": "x", "n": 1}


def test_minimal_bodies_pass():
    assert check_chat_request(CHAT_OK) == []
    assert check_responses_request(RESPONSES_OK) == []
    assert check_image_request(IMAGE_OK) == []


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"max_completion_tokens": 100}, "max_completion_tokens: 100 is below the minimum 256"),
        ({"max_tokens": -1}, "max_tokens: -1 is below"),
        ({"messages": []}, "messages: shorter than 1"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "messages[0].role"),
        ({"messages": [{"role": "user", "content": [{"type": "text"}]}]}, "messages[0].content: expected string"),
        (
            {"messages": [{"role": "assistant", "tool_calls": [{"id": "c", "function": {"name": "f"}}]}]},
            "type: required",
        ),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop: must be"),
        ({"top_p": 1.5}, "top_p: 1.5 is above the maximum 1"),
        ({"temperature": True}, "temperature: expected number"),
        ({"seed": 1.5}, "seed: expected integer"),
        ({"reasoning_effort": "max"}, "reasoning_effort: 'max' is not one of"),
        ({"tool_choice": "any"}, "tool_choice: 'any'"),
        ({"tool_choice": {"type": "function", "name": "f"}}, "tool_choice.function.name"),
        ({"tools": [{"type": "function", "name": "f"}]}, "tools[0].function: expected object"),
        ({"response_format": {"type": "json_schema", "json_schema": {"schema": {}}}}, "json_schema.name: required"),
        ({"store": True}, "store: not in the spec"),
    ],
)
def test_chat_check_catches(change, problem):
    problems = check_chat_request({**CHAT_OK, **change})
    assert any(problem in p for p in problems), problems


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"input": []}, "input: at least 1 item"),
        ({"input": [{"role": "user"}]}, "input[0].content: required"),
        ({"input": [{"type": "function_call_output", "call_id": "c"}]}, "input[0].output: required"),
        ({"input": [{"type": "function_call", "call_id": "c", "name": "f", "arguments": {}}]}, "arguments: expected"),
        ({"max_output_tokens": 0}, "max_output_tokens: 0 is below the minimum 1"),
        ({"tools": [{"type": "function", "function": {"name": "f"}}]}, "tools[0].function: not in the spec"),
        ({"text": {"format": {"type": "json_object"}}}, "text.format: expected type json_schema"),
        ({"reasoning": {"effort": "max"}}, "reasoning.effort"),
        ({"seed": 1}, "seed: not in the spec"),
    ],
)
def test_responses_check_catches(change, problem):
    problems = check_responses_request({**RESPONSES_OK, **change})
    assert any(problem in p for p in problems), problems


@pytest.mark.parametrize(
    "body, problem",
    [
        ({"model": "m", "prompt": "x"}, "n: required"),
        ({**IMAGE_OK, "n": 11}, "n: 11 is above the maximum 10"),
        ({**IMAGE_OK, "size": "1024x1024"}, "size: '1024x1024' is not one of"),
        ({**IMAGE_OK, "prompt": ""}, "prompt: shorter than 1"),
        ({**IMAGE_OK, "stream": True}, "partial_images: must be above 0"),
        ({**IMAGE_OK, "user": "u" * 257}, "user: longer than 256"),
    ],
)
def test_image_check_catches(body, problem):
    problems = check_image_request(body)
    assert any(problem in p for p in problems), problems


SERVER_TOOLS_OK = [
    {"type": "knowledge_base_retrieval", "knowledge_base_id": "kb-1"},
    {
        "type": "mcp",
        "server_label": "digitalocean",
        "server_url": "https://accounts.mcp.digitalocean.com/mcp",
        "authorization": "Bearer dop_v1_x",
        "allowed_tools": ["account-get-information"],
    },
    {"type": "mcp", "server_label": "open", "server_url": "https://mcp.example.com"},
    {"type": "web_search", "max_uses": 3, "max_results": 5},
    {"type": "web_search"},
    {"type": "web_fetch", "max_uses": 5},
]


@pytest.mark.parametrize("check, ok", [(check_chat_request, CHAT_OK), (check_responses_request, RESPONSES_OK)])
def test_documented_server_side_tools_pass_on_both_apis(check, ok):
    assert check({**ok, "tools": SERVER_TOOLS_OK}) == []


@pytest.mark.parametrize(
    "tool, problem",
    [
        ({"type": "code_interpreter"}, "type"),
        ({"type": "web_search_preview"}, "type"),
        ({"type": "web_search", "search_context_size": "high"}, "search_context_size: not in the spec"),
        ({"type": "web_search", "max_uses": 6}, "max_uses: 6 is above the maximum 5"),
        ({"type": "web_search", "max_results": 0}, "max_results: 0 is below the minimum 1"),
        ({"type": "web_fetch", "max_results": 3}, "max_results: not in the spec"),
        ({"type": "web_fetch", "max_uses": "2"}, "max_uses: expected integer"),
        ({"type": "knowledge_base_retrieval"}, "knowledge_base_id: required"),
        ({"type": "mcp", "server_label": "a"}, "server_url: required"),
        ({"type": "mcp", "server_label": "a b", "server_url": "https://x"}, "server_label: expected 1-64"),
        ({"type": "mcp", "server_label": "a", "server_url": "https://x", "allowed_tools": [1]}, "allowed_tools"),
        ({"type": "mcp", "server_label": "a", "server_url": "https://x", "authorization": "tok"}, "authorization"),
        (
            {"type": "mcp", "server_label": "a", "server_url": "https://x", "require_approval": "never"},
            "require_approval",
        ),
    ],
)
@pytest.mark.parametrize("check, ok", [(check_chat_request, CHAT_OK), (check_responses_request, RESPONSES_OK)])
def test_anything_else_in_server_side_tools_is_refused(check, ok, tool, problem):
    problems = check({**ok, "tools": [tool]})
    assert any(problem in p for p in problems), problems
