"""Runs of one home: one at a time (the warehouse admits one writer), and each says what it
is doing as it goes.

Real `qloop run` processes on a small generated inbox: one alone on its home, and two
started 2 s apart on another home.
"""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.defs.automation import inbox_arrivals
from dagster_project.defs.resources import QualityLoopPaths
from dagster_project.lib.progress import PROGRESS
from dagster_project.lib.quality.suites import load_suites
from dagster_project.lib.run_lock import lock_path
from dagster_project.lib.settings import Settings, prepare_home

from .qloop_cli import QLOOP, clean_env, kpi_values, qloop

# Dagster's in-process execution (`materialize`) leaves an event-loop coroutine unawaited
# when it tears down a run's context; it is Dagster's, one per run, and harmless here.
pytestmark = pytest.mark.filterwarnings(
    "ignore:coroutine 'BaseEventLoop.shutdown_asyncgens' was never awaited:RuntimeWarning")

PROGRESS_LINE = re.compile(r"^\d\d:\d\d:\d\d (.*)$")
WAITING = "waiting for the run in progress on this home (pid {pid}, since "


def _start_run(inbox: Path, home: Path) -> subprocess.Popen:
    return subprocess.Popen([QLOOP, "run", "--inbox", str(inbox), "--home", str(home)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=clean_env())


def _wait_for(condition, what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"no {what} within {seconds:.0f} s"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, small_inbox):
    root = tmp_path_factory.mktemp("runs-of-a-home")
    inbox = small_inbox
    alone = qloop("run", "--inbox", str(inbox), "--home", str(root / "alone"))

    home = root / "two"
    first = _start_run(inbox, home)
    # the first holds the home's lock (it takes it before it starts Dagster), then 2 s
    _wait_for(lambda: f"pid {first.pid}," in (lock_path(home).read_text()
                                               if lock_path(home).exists() else ""),
              "lock taken by the first run")
    time.sleep(2)
    second = _start_run(inbox, home)
    outputs = [process.communicate(timeout=900) for process in (first, second)]
    return {"alone": (root / "alone", alone), "home": home, "first": first, "second": second,
            "outputs": outputs, "files": len(list(inbox.iterdir()))}


def test_a_run_says_what_it_is_doing_as_it_goes(runs):
    _, alone = runs["alone"]
    assert alone.returncode == 0, alone.stdout + alone.stderr
    lines = [m.group(1) for m in map(PROGRESS_LINE.match, alone.stderr.splitlines()) if m]
    milestones = ["files landed", "dbt nodes ", "quality suites: running",
                  f"quality suites: {len(load_suites())} run", "detection:", "exports: group snapshot",
                  "dbt nodes after detection", "board published"]
    positions = [next((i for i, line in enumerate(lines) if line.startswith(m)), None)
                 for m in [*milestones, "exports: ranking"]]
    assert None not in positions, (milestones, lines)
    *chain, ranking = positions
    assert chain == sorted(chain), lines
    # the ranking's files need the assessment, the board's copy does not need the files
    assert ranking > positions[milestones.index("dbt nodes after detection")], lines
    # counts up to the whole, and the final summary as before, on stdout
    landed = [line for line in lines if line.startswith("files landed")]
    assert landed[-1] == f"files landed {runs['files']} of {runs['files']}" and len(landed) > 1
    built = [line for line in lines if re.fullmatch(r"dbt nodes \d+ of \d+", line)]
    assert len(built) > 1 and built[-1].split()[2] == built[-1].split()[4]
    assert alone.stdout.splitlines()[0].startswith("Files: ")
    assert not any(PROGRESS_LINE.match(line) for line in alone.stdout.splitlines())


def test_two_runs_of_one_home_both_end_cleanly_one_after_the_other(runs):
    first, second = runs["first"], runs["second"]
    (out1, err1), (out2, err2) = runs["outputs"]
    assert first.returncode == 0, out1 + err1
    assert second.returncode == 0, out2 + err2
    assert WAITING.format(pid=first.pid) in err2, err2
    assert "waiting" not in err1
    assert "Could not set lock" not in out1 + err1 + out2 + err2
    loaded = int(re.match(r"Files: (\d+) loaded, 0 replaced, 0 unchanged", out1).group(1))
    assert out2.startswith(f"Files: 0 loaded, 0 replaced, {loaded} unchanged")


def test_two_runs_give_what_one_run_gives(runs):
    alone_home, _ = runs["alone"]
    values = kpi_values(runs["home"])
    assert values and values == kpi_values(alone_home)


def test_the_instance_runs_one_run_at_a_time_and_keeps_the_progress(tmp_path, monkeypatch):
    settings = Settings(home=tmp_path / "home", inbox=tmp_path / "inbox")
    prepare_home(settings)
    monkeypatch.setenv("DAGSTER_HOME", str(settings.dagster_home))
    with dg.DagsterInstance.get() as instance:
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 1
        assert instance.get_settings("python_logs")["managed_python_loggers"] == [PROGRESS.name]


HOLDER = """
import sys
from pathlib import Path
from dagster_project.lib.run_lock import one_run_at_a_time
with one_run_at_a_time(Path(sys.argv[1]), print):
    print("held", flush=True)
    sys.stdin.readline()
"""


class _Told(logging.Handler):
    def __init__(self):
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@dg.asset
def warehouse_writer(paths: QualityLoopPaths) -> None:
    PROGRESS.info(f"writing {paths.settings.warehouse}")


def test_a_dagster_run_waits_for_the_home_a_sensor_evaluation_does_not(tmp_path, monkeypatch):
    """The runs the daemon or the UI launch pass through the paths resource: a run of a
    home held by another process waits for it, then goes on; the inbox sensor's evaluation
    is no run and does not wait."""
    home, inbox = tmp_path / "home", tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "cc_call_20261101.csv").write_text("a\n")
    paths = QualityLoopPaths(home=str(home), inbox=str(inbox))
    handler = _Told()
    told = handler.messages
    PROGRESS.addHandler(handler)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(home)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[1])
    try:
        assert holder.stdout.readline().strip() == "held"
        with dg.build_sensor_context(resources={"paths": paths}) as context:
            assert isinstance(inbox_arrivals(context), dg.RunRequest)

        results = []
        run = threading.Thread(target=lambda: results.append(dg.materialize(
            [warehouse_writer], resources={"paths": paths}, instance=dg.DagsterInstance.ephemeral())))
        run.start()
        _wait_for(lambda: any(m.startswith("waiting for the run in progress") for m in told),
                  "wait")
        assert told[0].startswith(WAITING.format(pid=holder.pid))
        assert not results  # still waiting
        holder.stdin.write("done\n")
        holder.stdin.flush()
        run.join(timeout=120)
        assert results and results[0].success
        assert told[-1] == f"writing {home / 'warehouse.duckdb'}"
    finally:
        PROGRESS.removeHandler(handler)
        if holder.poll() is None:
            holder.kill()
        holder.wait()
