"""A fake DigitalOcean Model Catalog on 127.0.0.2, a host apart from the inference API on 127.0.0.1.

Shapes come from DigitalOcean's OpenAPI (digitalocean/openapi, specification/resources/gen-ai/):
- GET /v2/gen-ai/models/catalog (genai_list_model_catalog.yml): query `page` and `limit` only; the answer is
  apiListModelCatalogOutput {data: [apiModelCatalogEntry], meta: apiMeta {page, pages, total}}, no `links`:
  there is a next page while meta.page < meta.pages.
- apiModelCatalogEntry: id (catalog UUID), model_id (the inference id), name, creator, provider, type,
  context_window (int64 as a string), pricing (apiModelPricing: *_price_per_million numbers, price_per_image,
  price_per_audio, ...; zero fields may be left out).
- GET /v2/gen-ai/models/catalog/{id} (genai_get_model_catalog_card.yml): {data: apiModelCatalogCard}, which adds
  pricing_detail.variants[] (apiModelPricingVariant: label, currency, mode MODEL_BILLING_MODE_INTERACTIVE |
  MODEL_BILLING_MODE_BATCH, tier, prices).
- Both need `Authorization: Bearer <token>` (bearer_auth, genai:read); any other token gets 401.
Every request is recorded (method, path, headers) so tests can show which credential reached this host.
"""

from __future__ import annotations

import math
from typing import Any

from fake_gradient import FakeGradient

DO_TOKEN = "dop_v1_" + "c0ffee" * 10 + "abcd"  # a DigitalOcean personal access token's shape
LIST_PATH = "/v2/gen-ai/models/catalog"

ENTRIES: list[dict[str, Any]] = [
    {
        "id": "506a3371-88d0-4047-9212-e2079497ac68",
        "model_id": "openai-gpt-oss-120b",
        "name": "gpt-oss-120b",
        "creator": "OpenAI",
        "provider": "MODEL_PROVIDER_DIGITALOCEAN",
        "type": "text-to-text",
        "context_window": "131072",
        "pricing": {"input_price_per_million": 0.2, "output_price_per_million": 0.8},
    },
    {
        "id": "18bc9b8f-73c5-11f0-b074-4e013e2ddde4",
        "model_id": "anthropic-claude-sonnet-4",
        "name": "Claude Sonnet 4",
        "creator": "Anthropic",
        "provider": "MODEL_PROVIDER_ANTHROPIC",
        "type": "text-to-text",
        "pricing": {
            "input_price_per_million": 3,
            "output_price_per_million": 15,
            "cache_read_input_price_per_million": 0.3,
            "cache_write_5m_input_price_per_million": 3.75,
            "cache_write_1h_input_price_per_million": 6,
        },
    },
    {
        "id": "7f1e0c52-1111-4c1a-9d0a-3b1d2c3e4f50",
        "model_id": "llama3.3-70b-instruct",
        "name": "Llama 3.3 Instruct-70B",
        "creator": "Meta",
        "provider": "MODEL_PROVIDER_DIGITALOCEAN",
        "type": "text-to-text",
        "pricing": {"input_price_per_million": 0.6, "output_price_per_million": 0.6},
    },
    {
        "id": "0a9b8c7d-2222-4e5f-8a6b-7c8d9e0f1a2b",
        "model_id": "openai-gpt-image-1",
        "name": "GPT-image-1",
        "creator": "OpenAI",
        "provider": "MODEL_PROVIDER_OPENAI",
        "type": "text-to-image",
        "pricing": {"text_input_price_per_million": 5, "image_output_price_per_million": 40},
    },
    {
        "id": "1b2c3d4e-3333-4f5a-9b6c-7d8e9f0a1b2c",
        "model_id": "fal-ai/flux/schnell",
        "name": "FLUX.1 schnell",
        "creator": "Black Forest Labs",
        "provider": "MODEL_PROVIDER_DIGITALOCEAN",
        "type": "text-to-image",
        "pricing": {"price_per_image": 0.003},
    },
    {
        "id": "2c3d4e5f-4444-4a5b-8c6d-7e8f9a0b1c2d",
        "model_id": "fal-ai/stable-audio-25/text-to-audio",
        "name": "Stable Audio 2.5",
        "creator": "Stability AI",
        "provider": "MODEL_PROVIDER_DIGITALOCEAN",
        "type": "text-to-audio",
        "pricing": {"price_per_audio": 0.2},
    },
]
BATCH = {  # the BATCH variant's prices per catalog id
    "18bc9b8f-73c5-11f0-b074-4e013e2ddde4": {"input_price_per_million": 1.5, "output_price_per_million": 7.5},
    "506a3371-88d0-4047-9212-e2079497ac68": {"input_price_per_million": 0.1, "output_price_per_million": 0.4},
}


def card(entry: dict[str, Any]) -> dict[str, Any]:
    variants = [
        {
            "label": "Standard",
            "currency": "USD",
            "mode": "MODEL_BILLING_MODE_INTERACTIVE",
            "tier": "MODEL_PRICING_TIER_STANDARD",
            "prices": entry["pricing"],
        }
    ]
    if entry["id"] in BATCH:
        variants.append(
            {
                "label": "Batch",
                "currency": "USD",
                "mode": "MODEL_BILLING_MODE_BATCH",
                "tier": "MODEL_PRICING_TIER_STANDARD",
                "prices": BATCH[entry["id"]],
            }
        )
    return {**entry, "description": entry["name"], "pricing_detail": {"variants": variants}}


def start(page_size: int = 2) -> FakeGradient:
    """The catalog host; it lists `page_size` entries per page whatever `limit` asks, so paging is exercised."""
    from urllib.parse import parse_qs, urlsplit

    host = FakeGradient(host="127.0.0.2").start()
    host.page_size = page_size

    def listing(h, req, _m) -> None:
        query = parse_qs(urlsplit(req["path"]).query)
        page = int(query.get("page", ["1"])[0])
        size = host.page_size
        pages = max(1, math.ceil(len(ENTRIES) / size))
        data = ENTRIES[(page - 1) * size : page * size]
        h.send_json(200, {"data": data, "meta": {"page": page, "pages": pages, "total": len(ENTRIES)}})

    def get_card(h, _req, match) -> None:
        found = [e for e in ENTRIES if e["id"] == match.group(1)]
        if not found:
            return h.send_json(404, {"id": "not_found", "message": "no such model"})
        h.send_json(200, {"data": card(found[0])})

    host.add_route("GET", LIST_PATH, listing, model_field=None, key=DO_TOKEN)
    host.add_route("GET", LIST_PATH + r"/([^/]+)", get_card, model_field=None, key=DO_TOKEN)
    return host
