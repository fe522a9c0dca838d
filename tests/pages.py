"""Pricing pages in every layout the DigitalOcean docs have used, and plausibly broken ones.

Layouts (see the scraper test fixture and page notes gathered for the project):
- TABS: provider tabs, each a radio <input>, a <label for=...> and a div.tab-content holding a
  table whose price cell reads "$0.10 per 1M input tokens<br>$0.70 per 1M output tokens".
- HEADINGS: a heading per provider followed by a table with separate Input / Output columns
  holding "$0.10", a cached-input column, and per-image / per-second rows for fal models.
"""

from __future__ import annotations

NAV = (
    "<nav class='sidebar'><ul>" + "".join(f"<li><a href='/p/{i}'>Page {i}</a></li>" for i in range(400)) + "</ul></nav>"
)


def _tab(provider: str, rows: list[tuple[str, str]]) -> str:
    slug = provider.lower().replace(" ", "")
    body = "".join(
        f"<tr><td><a href='#'>{name}</a></td><td>{price}</td><td>Same as serverless inference</td></tr>"
        for name, price in rows
    )
    return (
        f"<input type='radio' name='foundation-model-pricing' id='fmp-{slug}'>"
        f"<label for='fmp-{slug}'>{provider}</label>"
        f"<div class='tab-content'><table><thead><tr><th>Model</th><th>Serverless Inference and ADK</th>"
        f"<th>Agent Usage</th></tr></thead><tbody>{body}</tbody></table></div>"
    )


TABS = (
    "<html><head><title>Pricing</title><script>var x = '<table>$9</table>';</script></head><body>"
    + NAV
    + "<main><h1>Gradient AI Platform Pricing</h1><h2 id='foundation-model-usage'>Foundation Model Usage</h2><div>"
    + _tab(
        "OpenAI",
        [
            ("gpt-oss-120b", "$0.10 per 1M input tokens<br>$0.70 per 1M output tokens"),
            ("gpt-oss-20b", "$0.05 per 1M input tokens<br>$0.45 per 1M output tokens"),
        ],
    )
    + _tab("Meta", [("Llama 3.3 Instruct-70B", "$0.65 per 1M tokens")])
    + _tab(
        "Anthropic",
        [
            ("Claude Sonnet 4", "$3.00 per 1M input tokens / $15.00 per 1M output tokens"),
            ("Claude Opus 4 (deprecated)", "Contact sales"),
        ],
    )
    + "</div></main><footer>$5 credit for new users</footer></body></html>"
)

HEADINGS = (
    "<html><body>" + NAV + "<article><h1>Inference Pricing</h1>"
    "<h2>Serverless inference</h2><p>Prices in USD.</p>"
    "<h3>OpenAI</h3><table><tr><th>Model</th><th>Input (per 1M tokens)</th><th>Output (per 1M tokens)</th>"
    "<th>Cached input (per 1M tokens)</th></tr>"
    "<tr><td>gpt-oss-120b</td><td>$0.10</td><td>$0.70</td><td>-</td></tr>"
    "<tr><td>GPT-5 mini</td><td>$0.25</td><td>$2.00</td><td>$0.025</td></tr></table>"
    "<h3>DeepSeek</h3><table><tr><th>Model name</th><th>Input</th><th>Output</th></tr>"
    "<tr><td colspan='3'>Reasoning models</td></tr>"
    "<tr><td>DeepSeek R1 Distill Llama 70B</td><td>$0.99</td><td>$0.99</td></tr></table>"
    "<h3>fal</h3><table><tr><th>Model</th><th>Price</th></tr>"
    "<tr><td>Flux Schnell</td><td>$0.003 per image</td></tr>"
    "<tr><td>Stable Audio 2.5</td><td>$0.0002 per second</td></tr></table>"
    "<h3>Legacy (per 1K tokens)</h3><table><tr><th>Model</th><th>Rate</th></tr>"
    "<tr><td>Old Model</td><td>$0.002 per 1K tokens</td></tr></table>"
    "</article></body></html>"
)

NO_TABLE = "<html><body>" + NAV + "<main><h1>Pricing</h1><p>Prices moved to the new page.</p></main></body></html>"
TABLE_WITHOUT_MONEY = (
    "<html><body><h2>Regions</h2><table><tr><th>Model</th><th>Region</th></tr>"
    "<tr><td>gpt-oss-120b</td><td>tor1</td></tr></table></body></html>"
)
TRUNCATED = TABS[: TABS.index("Llama 3.3")]  # connection cut: half a page, still has the OpenAI tab
GARBAGE = "\x00\xff<<<>>> not html at all $$$"

# The docs also serve each page as markdown (same URL with index.html.md): pipe tables under provider
# headings, model names as links, and bare per-token prices in input, output, cached-input order.
MARKDOWN = """---
title: Inference Pricing
---
# Inference Pricing

## DeepSeek

| Model | Billing unit | Price | Price | Price |
|---|---|---|---|---|
| [DeepSeek V3.2](/products/inference/models/#deepseek) | Input/output tokens | $0.50 per 1M tokens | $1.60 per 1M tokens | $0.10 per 1M tokens |

## Meta

| Model | Input | Output |
|:--|--:|--:|
| **Llama 3.3 Instruct-70B** | $0.65 | $0.65 |
"""

# Price columns that do not say which is which: read as input, output, cached input.
BARE_COLUMNS = (
    "<h3>Kimi</h3><table><tr><th>Model</th><th>Tokens</th><th>Rate A</th><th>Rate B</th></tr>"
    "<tr><td>Kimi K2.6</td><td>per 1M</td><td>$0.95 per 1M tokens</td><td>$4.00 per 1M tokens</td></tr>"
    "</table>"
)

# A live source counts only with at least 10 models priced per token, so the live-fetch tests serve these:
# the layouts above with more providers' tables (12 models each).
TABS_FULL = TABS.replace(
    "</div></main>",
    _tab(
        "Mistral",
        [(f"Mistral Model {i}", f"$0.{i}0 per 1M input tokens<br>$0.{i}5 per 1M output tokens") for i in range(1, 5)],
    )
    + _tab("Alibaba", [(f"Qwen Model {i}", f"$0.{i}0 per 1M tokens") for i in range(1, 5)])
    + "</div></main>",
)
HEADINGS_FULL = HEADINGS.replace(
    "</article>",
    "<h3>Mistral</h3><table><tr><th>Model</th><th>Input</th><th>Output</th></tr>"
    + "".join(f"<tr><td>Mistral Model {i}</td><td>$0.{i}0</td><td>$0.{i}5</td></tr>" for i in range(1, 9))
    + "</table></article>",
)
MARKDOWN_FULL = (
    MARKDOWN
    + "\n## Mistral\n\n| Model | Input | Output |\n|---|---|---|\n"
    + "".join(f"| Mistral Model {i} | $0.{i}0 | $0.{i}5 |\n" for i in range(1, 11))
)
