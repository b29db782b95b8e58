"""`qloop`: the command line over the same Dagster job the UI runs, and over the closed
loop's services. A click application: `qloop [--home DIR] COMMAND ...`, the groups'
commands in cli_loop.py, cli_changes.py and cli_hotspots.py, the pipeline's here."""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import click

from . import cli_changes, cli_hotspots, cli_loop
from .cli_common import DAY, INBOX_HELP, configure, home_option, root_home_option
from .lib.settings import (
    TARGET_OVERRIDES_ENV, Settings, target_overrides_set, target_overrides_sets,
)

# Dagster's console log goes to the run's log file (below), from INFO up: the terminal
# shows the summary, or one line saying which step failed and why.
RUN_LOG = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
PACKAGE = "qualityloop"
USAGE_ERROR = 2


@click.group(no_args_is_help=False, context_settings={"help_option_names": ["-h", "--help"]})
@root_home_option
@click.version_option(package_name=PACKAGE, prog_name="qloop")
def qloop() -> None:
    """QualityLoop service-quality KPI warehouse.

    --home (or QLOOP_HOME) may stand before the command or after it.

    Shell completion (bash): eval "$(_QLOOP_COMPLETE=bash_source qloop)".
    """


def _backfill_config(backfill: tuple[date, date] | None) -> dict:
    """Run config of a backfill (`qloop backfill`): the date range raw_landing lands again."""
    if backfill is None:
        return {}
    from .lib.ingest import Backfill

    Backfill(*backfill)  # checks
    first, last = (day.isoformat() for day in backfill)
    return {"ops": {"raw_landing": {"config": {"backfill_from": first, "backfill_to": last}}}}


def _run(inbox: str | None, full_refresh: bool = False,
         backfill: tuple[date, date] | None = None) -> int:
    settings = configure(inbox)
    command = "qloop backfill" if backfill else "qloop run"
    if not settings.inbox.is_dir():
        print(f"{command}: inbox {settings.inbox} is not a folder", file=sys.stderr)
        return 2
    if target_overrides_set() not in target_overrides_sets():
        print(f"{command}: no set of per-scope targets named '{target_overrides_set()}' "
              f"({TARGET_OVERRIDES_ENV}; the project has: "
              f"{', '.join(target_overrides_sets())})", file=sys.stderr)
        return 2
    try:
        run_config = {**RUN_LOG, **_backfill_config(backfill)}
    except ValueError as err:
        print(f"{command}: {err} (dates as YYYY-MM-DD, --from <= --to)", file=sys.stderr)
        return 2
    from .lib.progress import PROGRESS
    from .lib.run_lock import one_run_at_a_time

    # Progress on the terminal as the run goes (stderr, bound now: while the job executes,
    # stdout and stderr are its log file); the summary on stdout at the end.
    terminal = logging.StreamHandler(sys.stderr)
    terminal.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    PROGRESS.addHandler(terminal)
    try:
        # One run at a time on a home: held until the summary has read the warehouse.
        with one_run_at_a_time(settings.home, PROGRESS.info):
            return _run_job(full_refresh, settings, command, run_config)
    finally:
        PROGRESS.removeHandler(terminal)


@qloop.command("run")
@click.option("--inbox", metavar="DIR", help=INBOX_HELP)
@click.option("--full-refresh", is_flag=True,
              help="rebuild the incremental models from every delivery (they otherwise "
                   "re-do only what was landed since the last run)")
@home_option
def cmd_run(inbox: str | None, full_refresh: bool) -> int:
    """Load the inbox, build the KPIs, write the group snapshot."""
    return _run(inbox, full_refresh)


@qloop.command("backfill")
@click.option("--from", "backfill_from", required=True, type=DAY)
@click.option("--to", "backfill_to", required=True, type=DAY)
@click.option("--inbox", metavar="DIR", help=INBOX_HELP)
@home_option
def cmd_backfill(backfill_from: date, backfill_to: date, inbox: str | None) -> int:
    """Land the inbox files of a date range again and run the job (their KPIs are
    computed again)."""
    return _run(inbox, backfill=(backfill_from, backfill_to))


def _run_job(full_refresh: bool, settings: Settings, command: str, run_config: dict) -> int:
    import dagster as dg

    from .definitions import PIPELINE_JOB, defs
    from .defs.transform.dbt import FULL_REFRESH_TAG
    from .lib.ingest import FileResult
    from .lib.summary import render_summary
    from .lib.warehouse import connect

    # dagster-dbt echoes every dbt event to stdout, and Dagster logs to stderr (a failed
    # step with its stack trace): both go to the run's log file; the terminal gets only the
    # summary, or the one line that says which step failed.
    log_path = settings.runs / f".run-{os.getpid()}.log"
    with dg.DagsterInstance.get() as instance, open(log_path, "w", encoding="utf-8") as log, \
            contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        result = defs.resolve_job_def(PIPELINE_JOB).execute_in_process(
            instance=instance, run_config=run_config, raise_on_error=False,
            tags={FULL_REFRESH_TAG: "true"} if full_refresh else None)
    log_path = log_path.replace(settings.runs / f"{result.run_id}.log")
    if not result.success:
        from .lib.alerts import raise_alert

        failure = _step_failure(result)
        raise_alert(settings, "run_failure", f"qloop run {result.run_id[:8]} failed",
                    f"{failure}; log {log_path}", result.run_id)
        print(f"{command}: the run did not complete: {failure}; the board keeps showing the "
              f"last complete run. Log: {log_path}", file=sys.stderr)
        return 1
    report = settings.runs / f"{result.run_id}.ingest.json"
    results = [FileResult(**r) for r in json.loads(report.read_text())] if report.exists() else []
    with connect(settings.warehouse, read_only=True) as con:
        print(render_summary(con, results, settings, report if report.exists() else None,
                             settings.runs / f"{result.run_id}.remediation.json",
                             run_id=result.run_id))
    print(f"  run log    {log_path}")
    return 0


def _step_failure(result) -> str:
    """Which step failed and why, in one line: the error's first line, or for dbt the first
    error dbt reported (its first line only says the process exited with 1)."""
    failed = [e for e in result.all_events if e.is_step_failure]
    if not failed:
        return "no step failed (the run was stopped)"
    event = failed[0]
    error = event.step_failure_data.error
    lines = [line.strip() for line in (error.message if error else "").splitlines() if line.strip()]
    reason = lines[0] if lines else "no message"
    if "Errors parsed from dbt logs:" in lines:
        reported = lines[lines.index("Errors parsed from dbt logs:") + 1:]
        reason = f"dbt: {reported[0]}" if reported else reason
    others = f" (and {len(failed) - 1} other step(s))" if len(failed) > 1 else ""
    return f"step {event.step_key} failed{others}: {reason[:300]}"


@qloop.command("ui")
@click.option("--inbox", metavar="DIR", help=INBOX_HELP)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=3000, show_default=True)
@home_option
def cmd_ui(inbox: str | None, host: str, port: int) -> int:
    """Serve the Dagster UI (asset graph, runs) over this home (webserver + daemon)."""
    configure(inbox)
    command = ["dagster", "dev", "-m", "dagster_project.definitions",
               "-h", host, "-p", str(port)]
    # dagster dev stops on SIGTERM by giving it SIGINT's handler. Started with SIGINT
    # ignored (by `nohup`, or in the background of a script), it would inherit the ignore
    # and could then only be killed, leaving its webserver, daemon and code servers
    # behind. SIGINT's default is restored for it (a disposition survives exec).
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.execvp(str(Path(sys.executable).with_name("dagster")), command)
    return 0  # not reached


def _stop_group(process: subprocess.Popen) -> None:
    """Stop a process group; dagster dev may ignore SIGTERM, so SIGKILL after 5 s."""
    for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=wait)
            return
        except (ProcessLookupError, subprocess.TimeoutExpired):
            continue


@qloop.command("board")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8050, show_default=True)
@click.option("--threads", type=int, default=8, show_default=True)
@click.option("--with-dagster-ui", type=int, metavar="PORT",
              help="also serve the Dagster UI on this port (make demo)")
@click.option("--dagster-ui-host", default="127.0.0.1",
              help="address of that Dagster UI (default 127.0.0.1: it has no login; "
                   "see docs/deployment.md before exposing it)")
@home_option
def cmd_board(host: str, port: int, threads: int, with_dagster_ui: int | None,
              dagster_ui_host: str) -> int:
    """Serve the quality board (Dash, behind waitress)."""
    settings = configure()
    import waitress

    from dashboards.app import create_app
    from dashboards.security import proxy_count

    app = create_app(settings)
    # The app's objects live as long as the server: keep them out of the garbage collector's
    # scans, whose pauses were the board's p95 tail (docs/performance.md, "Board").
    gc.collect()
    gc.freeze()
    dagster_ui = None
    if with_dagster_ui:
        # In its own process group, so stopping the board stops dagster dev and its children.
        # Its own host, not the board's: the Dagster UI has no login of its own.
        dagster_ui = subprocess.Popen(
            [sys.executable, "-m", "dagster_project.cli", "ui", "--home", str(settings.home),
             "--host", dagster_ui_host, "--port", str(with_dagster_ui)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        print(f"Dagster UI on http://{dagster_ui_host}:{with_dagster_ui}/",
              flush=True)
    print(f"QualityLoop board on http://{host}:{port}/ (home {settings.home}); "
          "Ctrl-C stops it", flush=True)
    # SIGTERM (e.g. a service manager) stops the board like Ctrl-C, so the finally runs.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        # waitress drops X-Forwarded-* headers by default; with proxies configured they
        # go through to ProxyFix (dashboards.security), which trusts that many of them.
        waitress.serve(app.server, host=host, port=port, threads=threads,
                       ident="qualityloop",
                       clear_untrusted_proxy_headers=proxy_count(dict(os.environ)) == 0)
    except KeyboardInterrupt:
        pass
    finally:
        if dagster_ui is not None:
            _stop_group(dagster_ui)
    return 0


@qloop.command("generate")
@click.option("--out", required=True, metavar="DIR")
@click.option("--days", type=int, help="business days (default 48)")
@click.option("--scale", type=float, help="1.0 = province scale (default: the sample's)")
@click.option("--seed", type=int, help="random seed (default 20261122)")
@click.option("--start", type=DAY, help="first business date (default 2026-09-22)")
@click.option("--no-faults", is_flag=True, help="no planted section-5 faults")
@click.option("--no-hotspots", is_flag=True, help="no planted contact spikes")
def cmd_generate(out: str, days: int | None, scale: float | None, seed: int | None,
                 start: date | None, no_faults: bool, no_hotspots: bool) -> int:
    """Write deterministic synthetic extracts into a folder."""
    # The generator is a developer tool beside the product (tools/), imported only here.
    from tools import sample_data

    # Only what was given: the generator's own defaults are those of the committed sample.
    argv = ["--out", out]
    for flag, value in (("days", days), ("scale", scale), ("seed", seed), ("start", start)):
        if value is not None:
            argv += [f"--{flag}", str(value)]
    if no_faults:
        argv.append("--no-faults")
    if no_hotspots:
        argv.append("--no-hotspots")
    return sample_data.main(argv) or 0


for _module in (cli_loop, cli_changes, cli_hotspots):
    for _command in _module.COMMANDS:
        qloop.add_command(_command)


def _usage_error(err: click.UsageError) -> int:
    """click's message in one line, named by the command it is about, as the commands'
    own messages are (`qloop hotspots: ...`); exit 2."""
    ctx = err.ctx
    words = ctx.command_path.split()[:2] if ctx is not None else ["qloop"]
    hint = ("" if isinstance(err, click.BadParameter) or ctx is None
            else f" (see '{ctx.command_path} --help')")
    message = " ".join(err.format_message().split())
    print(f"{' '.join(words)}: {message}{hint}", file=sys.stderr)
    return USAGE_ERROR


def main(argv: list[str] | None = None) -> int:
    """The command line `argv` (default: this process's), its exit code. Bad input is one
    line on stderr and exit 2; a refusal one line and exit 1."""
    try:
        return qloop.main(args=argv, prog_name="qloop", standalone_mode=False) or 0
    except click.UsageError as err:
        return _usage_error(err)
    except click.ClickException as err:
        print(f"qloop: {err.format_message()}", file=sys.stderr)
        return err.exit_code
    except click.Abort as err:
        # click turns Ctrl-C (and the end of input at a prompt) into Abort.
        if isinstance(err.__cause__, KeyboardInterrupt):
            raise KeyboardInterrupt from err
        if err.__cause__ is not None:
            raise err.__cause__ from None
        raise


def report_unexpected(err: BaseException) -> int:
    """The last guard of every command: one line on stderr, the traceback in a file."""
    import tempfile
    import traceback

    try:
        folder = Settings.from_env().runs
        folder.mkdir(parents=True, exist_ok=True)
    except Exception:  # noqa: BLE001 - no home to write to: the temp folder will do
        folder = Path(tempfile.gettempdir())
    log = folder / f"qloop-error-{os.getpid()}.log"
    log.write_text("".join(traceback.format_exception(err)), encoding="utf-8")
    message = (str(err).strip().splitlines() or [""])[0][:300]
    print(f"qloop: failed: {type(err).__name__}: {message} (details: {log})", file=sys.stderr)
    return 1


def console() -> None:
    """The `qloop` command."""
    try:
        code = main()
    except KeyboardInterrupt:
        print("qloop: interrupted", file=sys.stderr)
        code = 130
    except Exception as err:  # noqa: BLE001 - whatever it is, no traceback on the console
        code = report_unexpected(err)
    sys.exit(code)


if __name__ == "__main__":
    console()
