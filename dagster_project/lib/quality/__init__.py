"""Data quality you can see: Great Expectations suites over small metric frames
computed in DuckDB, freshness per source, the per-run rejects CSV, and which sources' KPIs
are withheld from publication. Pure code: no Dagster imports (the asset and the asset
checks are in dagster_project/defs/quality/). See docs/quality.md.
"""
