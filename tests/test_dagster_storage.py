"""The home's Dagster storage: Dagster's SQLite layout with the quick event log
(dagster_project/defs/storage.py), written into dagster.yaml by prepare_home."""

import dagster as dg
import pytest

from dagster_project.defs.storage import QuickSqliteEventLogStorage
from dagster_project.lib.settings import DAGSTER_YAML, Settings, prepare_home

# Dagster's in-process execution (`materialize`) leaves an event-loop coroutine unawaited
# when it tears down a run's context; it is Dagster's, one per run, and harmless here.
pytestmark = pytest.mark.filterwarnings(
    "ignore:coroutine 'BaseEventLoop.shutdown_asyncgens' was never awaited:RuntimeWarning")


@dg.asset(check_specs=[dg.AssetCheckSpec("positive", asset="tiny")])
def tiny():
    yield dg.Output(1)
    yield dg.AssetCheckResult(check_name="positive", passed=True)


@pytest.fixture
def home(tmp_path, monkeypatch):
    settings = Settings(home=tmp_path / "home", inbox=tmp_path / "inbox")
    prepare_home(settings)
    monkeypatch.setenv("DAGSTER_HOME", str(settings.dagster_home))
    return settings


def _run_tiny(instance) -> str:
    result = dg.materialize([tiny], instance=instance)
    assert result.success
    return result.run_id


def test_runs_and_asset_events_survive_a_new_instance(home):
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.event_log_storage, QuickSqliteEventLogStorage)
        run_id = _run_tiny(instance)

    # a new process sees what the first wrote: the run, its events, the cross-run index
    with dg.DagsterInstance.get() as instance:
        assert instance.get_run_by_id(run_id).is_success
        assert instance.get_latest_materialization_event(dg.AssetKey("tiny")).run_id == run_id
        check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(dg.AssetKey("tiny"), "positive")])
        assert check[dg.AssetCheckKey(dg.AssetKey("tiny"), "positive")].run_id == run_id
        types = {e.dagster_event.event_type for e in instance.all_logs(run_id) if e.dagster_event}
        assert {dg.DagsterEventType.ASSET_MATERIALIZATION, dg.DagsterEventType.ASSET_CHECK_EVALUATION,
                dg.DagsterEventType.RUN_SUCCESS} <= types

    # Dagster's own layout, so a home made before keeps its history
    runs_dir = home.dagster_home / "history" / "runs"
    assert (runs_dir / f"{run_id}.db").exists() and (runs_dir / "index.db").exists()
    assert (home.dagster_home / "history" / "runs.db").exists()


def test_only_the_latest_runs_keep_an_open_engine(home):
    with dg.DagsterInstance.get() as instance:
        run_ids = [_run_tiny(instance) for _ in range(QuickSqliteEventLogStorage.OPEN_SHARDS + 2)]
        engines = instance.event_log_storage._engines
        assert len(engines) == QuickSqliteEventLogStorage.OPEN_SHARDS
        assert run_ids[0] not in engines and run_ids[-1] in engines
        # an evicted run's file is opened again when read
        assert instance.get_run_by_id(run_ids[0]).is_success
        assert any(e.dagster_event and e.dagster_event.event_type == dg.DagsterEventType.RUN_SUCCESS
                   for e in instance.all_logs(run_ids[0]))


def test_an_earlier_qualityloop_config_is_brought_up_to_date_an_edited_one_is_kept(tmp_path):
    settings = Settings(home=tmp_path / "home", inbox=tmp_path / "inbox")
    settings.dagster_home.mkdir(parents=True)
    yaml_path = settings.dagster_home / "dagster.yaml"
    yaml_path.write_text("# Written by QualityLoop: run storage lives here (SQLite), "
                         "telemetry is off.\ntelemetry:\n  enabled: false\n")
    prepare_home(settings)
    assert yaml_path.read_text() == DAGSTER_YAML

    edited = DAGSTER_YAML + "run_queue:\n  max_concurrent_runs: 1\n"
    yaml_path.write_text(edited)
    prepare_home(settings)
    assert yaml_path.read_text() == edited
