"""Developer tools beside the product: the synthetic inbox generator (`qloop generate`
imports it lazily), the pipeline benchmark and the board benchmark. Nothing in
dagster_project/ or dashboards/ imports this package at module level."""
