"""`qloop`: the command line over the same Dagster job the UI runs."""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

from .cli_changes import add_change_commands
from .cli_hotspots import add_hotspot_commands
from .cli_loop import add_loop_commands
from .lib.settings import HOME_ENV, INBOX_ENV, Settings, prepare_home

# Dagster's console log goes to the run's log file (below), from INFO up: the terminal
# shows the summary, or one line saying which step failed and why.
RUN_LOG = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


def configure(args: argparse.Namespace) -> Settings:
    """CLI flags win over the environment; both end up in the environment Dagster reads."""
    if getattr(args, "home", None):
        os.environ[HOME_ENV] = str(Path(args.home).resolve())
    if getattr(args, "inbox", None):
        os.environ[INBOX_ENV] = str(Path(args.inbox).resolve())
    settings = Settings.from_env()
    prepare_home(settings)
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    # dbt and dagster live beside this interpreter; a venv that is not activated is not on
    # PATH, and dagster-dbt's dev-mode manifest preparation looks for `dbt` there.
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    return settings


def _backfill_config(args: argparse.Namespace) -> dict:
    """Run config of a backfill (`qloop backfill`): the date range raw_landing lands again."""
    if getattr(args, "backfill_from", None) is None:
        return {}
    from datetime import date

    from .lib.ingest import Backfill

    Backfill(date.fromisoformat(args.backfill_from), date.fromisoformat(args.backfill_to))  # checks
    return {"ops": {"raw_landing": {"config": {"backfill_from": args.backfill_from,
                                               "backfill_to": args.backfill_to}}}}


def cmd_run(args: argparse.Namespace) -> int:
    settings = configure(args)
    command = "qloop backfill" if getattr(args, "backfill_from", None) else "qloop run"
    if not settings.inbox.is_dir():
        print(f"{command}: inbox {settings.inbox} is not a folder", file=sys.stderr)
        return 2
    try:
        run_config = {**RUN_LOG, **_backfill_config(args)}
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
            return _run_job(args, settings, command, run_config)
    finally:
        PROGRESS.removeHandler(terminal)


def _run_job(args: argparse.Namespace, settings: Settings, command: str, run_config: dict) -> int:
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
            tags={FULL_REFRESH_TAG: "true"} if getattr(args, "full_refresh", False) else None)
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


def cmd_ui(args: argparse.Namespace) -> int:
    """The Dagster UI (webserver + daemon) over the same home folder as `qloop run`."""
    configure(args)
    command = ["dagster", "dev", "-m", "dagster_project.definitions",
               "-h", args.host, "-p", str(args.port)]
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


def cmd_board(args: argparse.Namespace) -> int:
    """The quality board behind a production WSGI server (waitress), over this home."""
    settings = configure(args)
    import waitress

    from dashboards.app import create_app
    from dashboards.security import proxy_count

    app = create_app(settings)
    # The app's objects live as long as the server: keep them out of the garbage collector's
    # scans, whose pauses were the board's p95 tail (docs/performance.md, "Board").
    gc.collect()
    gc.freeze()
    dagster_ui = None
    if args.with_dagster_ui:
        # In its own process group, so stopping the board stops dagster dev and its children.
        # Its own host, not the board's: the Dagster UI has no login of its own.
        dagster_ui = subprocess.Popen(
            [sys.executable, "-m", "dagster_project.cli", "ui", "--home", str(settings.home),
             "--host", args.dagster_ui_host, "--port", str(args.with_dagster_ui)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        print(f"Dagster UI on http://{args.dagster_ui_host}:{args.with_dagster_ui}/",
              flush=True)
    print(f"QualityLoop board on http://{args.host}:{args.port}/ (home {settings.home}); "
          "Ctrl-C stops it", flush=True)
    # SIGTERM (e.g. a service manager) stops the board like Ctrl-C, so the finally runs.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        # waitress drops X-Forwarded-* headers by default; with proxies configured they
        # go through to ProxyFix (dashboards.security), which trusts that many of them.
        waitress.serve(app.server, host=args.host, port=args.port, threads=args.threads,
                       ident="qualityloop",
                       clear_untrusted_proxy_headers=proxy_count(dict(os.environ)) == 0)
    except KeyboardInterrupt:
        pass
    finally:
        if dagster_ui is not None:
            _stop_group(dagster_ui)
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from .lib import sample_data

    # Only what was given: the generator's own defaults are those of the committed sample.
    argv = ["--out", args.out]
    for flag in ("days", "scale", "seed", "start"):
        if getattr(args, flag) is not None:
            argv += [f"--{flag}", str(getattr(args, flag))]
    if args.no_faults:
        argv.append("--no-faults")
    if args.no_hotspots:
        argv.append("--no-hotspots")
    return sample_data.main(argv) or 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qloop", description="QualityLoop service-quality KPI warehouse")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="load the inbox, build the KPIs, write the group snapshot")
    run.add_argument("--inbox", help=f"extract folder (env {INBOX_ENV}; default data/sample)")
    run.add_argument("--home", help=f"warehouse, exports and run storage (env {HOME_ENV}; default .qloop)")
    run.add_argument("--full-refresh", action="store_true",
                     help="rebuild the incremental models from every delivery (they otherwise "
                          "re-do only what was landed since the last run)")
    run.set_defaults(func=cmd_run)

    backfill = sub.add_parser("backfill", help="land the inbox files of a date range again and "
                                                "run the job (their KPIs are computed again)")
    backfill.add_argument("--from", dest="backfill_from", required=True, metavar="YYYY-MM-DD")
    backfill.add_argument("--to", dest="backfill_to", required=True, metavar="YYYY-MM-DD")
    backfill.add_argument("--inbox", help=f"extract folder (env {INBOX_ENV}; default data/sample)")
    backfill.add_argument("--home", help=f"env {HOME_ENV}; default .qloop")
    backfill.set_defaults(func=cmd_run)

    ui = sub.add_parser("ui", help="serve the Dagster UI (asset graph, runs) over this home")
    ui.add_argument("--home", help=f"env {HOME_ENV}; default .qloop")
    ui.add_argument("--inbox", help=f"env {INBOX_ENV}; default data/sample")
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(func=cmd_ui)

    board = sub.add_parser("board", help="serve the quality board (Dash, behind waitress)")
    board.add_argument("--home", help=f"env {HOME_ENV}; default .qloop")
    board.add_argument("--host", default="127.0.0.1")
    board.add_argument("--port", type=int, default=8050)
    board.add_argument("--threads", type=int, default=8)
    board.add_argument("--with-dagster-ui", type=int, metavar="PORT",
                       help="also serve the Dagster UI on this port (make demo)")
    board.add_argument("--dagster-ui-host", default="127.0.0.1",
                       help="address of that Dagster UI (default 127.0.0.1: it has no login; "
                            "see docs/deployment.md before exposing it)")
    board.set_defaults(func=cmd_board)

    gen = sub.add_parser("generate", help="write deterministic synthetic extracts into a folder")
    gen.add_argument("--out", required=True)
    gen.add_argument("--days", type=int, help="business days (default 48)")
    gen.add_argument("--scale", type=float, help="1.0 = province scale (default: the sample's)")
    gen.add_argument("--seed", type=int, help="random seed (default 20261122)")
    gen.add_argument("--start", help="first business date, YYYY-MM-DD (default 2026-09-22)")
    gen.add_argument("--no-faults", action="store_true", help="no planted section-5 faults")
    gen.add_argument("--no-hotspots", action="store_true", help="no planted contact spikes")
    gen.set_defaults(func=cmd_generate)

    add_loop_commands(sub)
    add_change_commands(sub)
    add_hotspot_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


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
    args = build_parser().parse_args()
    try:
        code = args.func(args)
    except KeyboardInterrupt:
        print("qloop: interrupted", file=sys.stderr)
        code = 130
    except Exception as err:  # noqa: BLE001 - whatever it is, no traceback on the console
        code = report_unexpected(err)
    sys.exit(code)


if __name__ == "__main__":
    console()
