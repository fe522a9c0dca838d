"""Spend: budgets and the gradient-usage report over the history store."""
