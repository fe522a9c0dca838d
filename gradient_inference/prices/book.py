"""A batch's prices: one cost object per line from cached or bundled prices (batch rates from the catalog where
it has them), each model matched once. Used by gradient-batch run and by the download of remote results."""

from __future__ import annotations

from gradient_inference.cli import base as cli


class CostBook:
    """Per-call cost objects from cached or bundled prices, each model matched once."""

    def __init__(self, cache_dir: str | None) -> None:
        from gradient_inference.prices import table as prices

        self.prices, self.table, self.rows = prices, prices.offline_prices(cache_dir), {}
        self.cache_dir, self.batch_rows = cache_dir, {}

    def row(self, model: str):
        if model not in self.rows:
            rows = self.table["models"] if self.table else []
            self.rows[model] = self.prices.match_price(model, rows)
        return self.rows[model]

    def cost(self, model: str, usage: dict) -> dict | None:
        """{usd, source, price_model} (prices.cost_object), or None when the model has no known price."""
        return self.prices.cost_object(usage, self.row(model), self.table["source"]) if model and self.table else None

    def batch_cost(self, model: str, usage: dict) -> tuple[dict | None, str]:
        """(cost, basis): at the catalog card's BATCH rates when known ("batch"), else serverless."""
        if model not in self.batch_rows:
            from gradient_inference.prices import catalog

            self.batch_rows[model] = catalog.batch_row(self.row(model), self.cache_dir)
        if self.batch_rows[model] is None:
            return self.cost(model, usage), "serverless"
        return self.prices.cost_object(usage, self.batch_rows[model], self.table["source"]), "batch"

    def require_prices(self, models: set[str], why: str = "--max-cost") -> None:
        unknown = sorted(m for m in models if self.cost(m, {"input_tokens": 1, "output_tokens": 1}) is None)
        if unknown:
            raise cli.CliError(
                f"{why} needs a known price, and there is none for {', '.join(unknown)} "
                "(refresh prices with gradient-pricing)",
                kind="unknown_price",
                exit_code=cli.EXIT_USAGE,
            )
