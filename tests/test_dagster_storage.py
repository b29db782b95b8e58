"""The home's Dagster instance: Dagster's own SQLite storage, written into dagster.yaml by
prepare_home; a home written by an earlier version is brought up to date and keeps its runs."""

import dagster as dg
import pytest

from dagster_project.lib.settings import DAGSTER_YAML, EARLIER_DAGSTER_YAMLS, Settings, prepare_home

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


def test_the_config_is_dagsters_own_sqlite_storage(home):
    text = (home.dagster_home / "dagster.yaml").read_text()
    assert "storage:\n  sqlite:\n    base_dir:\n      env: DAGSTER_HOME\n" in text
    assert "custom" not in text and "dagster_project" not in text
    with dg.DagsterInstance.get() as instance:
        assert type(instance.event_log_storage).__module__.startswith("dagster.")
        assert type(instance.run_storage).__name__ == "SqliteRunStorage"


def test_runs_and_asset_events_survive_a_new_instance(home):
    with dg.DagsterInstance.get() as instance:
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

    # Dagster's default layout, the one earlier versions of this config wrote too
    runs_dir = home.dagster_home / "history" / "runs"
    assert (runs_dir / f"{run_id}.db").exists() and (runs_dir / "index.db").exists()
    assert (home.dagster_home / "history" / "runs.db").exists()
    assert (home.dagster_home / "schedules" / "schedules.db").exists()


@pytest.mark.parametrize("earlier", EARLIER_DAGSTER_YAMLS)
def test_an_earlier_qualityloop_config_is_brought_up_to_date_an_edited_one_is_kept(tmp_path, earlier):
    settings = Settings(home=tmp_path / "home", inbox=tmp_path / "inbox")
    settings.dagster_home.mkdir(parents=True)
    yaml_path = settings.dagster_home / "dagster.yaml"
    yaml_path.write_text(earlier)
    prepare_home(settings)
    assert yaml_path.read_text() == DAGSTER_YAML

    edited = DAGSTER_YAML.replace("telemetry:\n  enabled: false\n", "")
    yaml_path.write_text(edited)
    prepare_home(settings)
    assert yaml_path.read_text() == edited


def test_a_home_of_the_earlier_custom_storage_keeps_its_runs(tmp_path, monkeypatch):
    """The earlier custom storage was Dagster's SQLite storage under DAGSTER_HOME with
    another event writer: the files a run of it left are Dagster's own layout. A home made
    with that config (here: by Dagster's plain SQLite storage at the same base_dir, which
    writes the same files) is rewritten to the current config and shows the same runs."""
    settings = Settings(home=tmp_path / "home", inbox=tmp_path / "inbox")
    settings.dagster_home.mkdir(parents=True)
    monkeypatch.setenv("DAGSTER_HOME", str(settings.dagster_home))
    (settings.dagster_home / "dagster.yaml").write_text(
        "storage:\n  sqlite:\n    base_dir:\n      env: DAGSTER_HOME\n")
    with dg.DagsterInstance.get() as instance:
        run_id = _run_tiny(instance)
    (settings.dagster_home / "dagster.yaml").write_text(EARLIER_DAGSTER_YAMLS[-1])

    prepare_home(settings)

    with dg.DagsterInstance.get() as instance:
        assert instance.get_run_by_id(run_id).is_success
        assert instance.get_latest_materialization_event(dg.AssetKey("tiny")).run_id == run_id
