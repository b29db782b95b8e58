"""The closed loop: issue store, workflow, detection, closure lists (no Dagster here)."""
