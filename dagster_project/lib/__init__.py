"""Pure QualityLoop code: no Dagster imports here, so the CLI, tests and the board can use it."""
