"""The dagster.yaml blocks of docs/deployment.md: the one `qloop` writes, and the PostgreSQL
one for production, loaded by Dagster itself (no server needed)."""

from __future__ import annotations

import re
from pathlib import Path

import dagster as dg
import yaml

from dagster_project.lib.progress import PROGRESS
from dagster_project.lib.settings import DAGSTER_YAML

DEPLOYMENT = Path(__file__).resolve().parents[1] / "docs" / "deployment.md"


def _yaml_blocks() -> list[dict]:
    text = DEPLOYMENT.read_text(encoding="utf-8")
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", text, re.S)]


def _block_with_storage(kind: str) -> dict:
    return next(b for b in _yaml_blocks() if kind in (b.get("storage") or {}))


def test_the_documented_sqlite_config_is_the_one_qloop_writes():
    assert _block_with_storage("sqlite") == yaml.safe_load(DAGSTER_YAML)


def test_the_documented_postgres_config_loads(tmp_path, monkeypatch):
    config = _block_with_storage("postgres")
    # Dagster creates its tables at the first start, which needs the server; told not to,
    # it builds the instance from the config alone.
    config["storage"]["postgres"]["should_autocreate_tables"] = False
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(config))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    for name, value in {"DAGSTER_PG_USERNAME": "dagster", "DAGSTER_PG_PASSWORD": "secret",
                        "DAGSTER_PG_HOST": "db.invalid", "DAGSTER_PG_DB": "dagster"}.items():
        monkeypatch.setenv(name, value)

    with dg.DagsterInstance.get() as instance:
        storages = (instance.run_storage, instance.event_log_storage, instance.schedule_storage)
        assert [type(s).__module__.split(".")[0] for s in storages] == ["dagster_postgres"] * 3
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 1
        assert instance.get_settings("python_logs")["managed_python_loggers"] == [PROGRESS.name]
        assert instance.get_settings("telemetry") == {"enabled": False}
