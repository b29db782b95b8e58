"""`make bench`: province-scale benchmark of the whole pipeline against a plain DuckDB floor.

    python -m tools.bench [--days 7] [--scale 1.0] [--workdir DIR] [--keep] [--reuse-data]

1. generates `--days` + 1 of synthetic extracts at `--scale` (1.0 = province) into
   WORKDIR/inbox, the last day's daily files held back in WORKDIR/held (timed, but not a
   pipeline phase);
2. runs the real CLI, `qloop run --inbox ... --home <fresh home>`, as a subprocess, sampling
   the RSS of its whole process tree (dbt runs in a child process) every 0.1 s;
3. splits the wall time into phases from the run's own records: Dagster step stats, the
   per-file ingest report and dbt's run_results.json;
4. runs the floor, `../shared/bench/floor.py` (the same snapshot from one plain DuckDB
   job, sharing no code with the warehouse), in a fresh process, and compares its snapshot
   with the pipeline's;
5. adds the held-back day and runs the pipeline again on the same home: the daily
   incremental run; then once more with nothing new, and reports the daily run's own cost,
   (incremental - nothing new) / (full - nothing new);
6. runs the pipeline once more on an inbox of reference files only: the fixed cost that
   does not depend on data volume (`--no-baseline` skips it);
7. prints a table, writes WORKDIR/bench-results.json, removes the big files unless --keep.

A benchmark, not a test: nothing here asserts a time. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

from dagster_project.lib.extracts import match_file_name
from dagster_project.lib.ingest import LANDING_WORKERS
from dagster_project.lib.settings import PROJECT_ROOT

FLOOR = PROJECT_ROOT.parent / "shared" / "bench" / "floor.py"
BIN = Path(sys.executable).parent  # the venv's bin: qloop lives next to this python
SEED = 20261122
MB = 1024 * 1024


# ----------------------------------------------------------------------------- measuring

def _tree_rss(root: int) -> int:
    """Bytes of RSS of `root` and all its descendants (shared pages are counted per process)."""
    parent = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    # the command name may contain spaces and parentheses: split after the last ')'
                    parent[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        kids = [p for p, pp in parent.items() if pp == pid and p not in tree]
        tree.update(kids)
        frontier.extend(kids)
    total = 0
    for pid in tree:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            continue  # exited between the two reads
    return total


class TreeSampler(threading.Thread):
    """Samples (epoch seconds, tree RSS bytes) of a process tree until stopped."""

    def __init__(self, pid: int, interval: float = 0.1):
        super().__init__(daemon=True)
        self.pid, self.interval, self.samples = pid, interval, []
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.samples.append((time.time(), _tree_rss(self.pid)))
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()

    def peak(self, start: float = 0.0, end: float = float("inf")) -> int:
        return max((rss for t, rss in self.samples if start <= t <= end), default=0)


def run_measured(cmd: list[str], log: Path, env: dict | None = None, cwd: Path = PROJECT_ROOT,
                 timeout: float | None = None) -> dict:
    """Run a command to completion: wall time (epoch start/end), exit code, tree RSS samples.

    On timeout the command's whole process group (its own session) is killed: a runaway
    query must not keep a benchmark, or the shared machine, busy for hours."""
    with open(log, "wb") as out:
        start = time.time()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                start_new_session=True)
        sampler = TreeSampler(proc.pid)
        sampler.start()
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            code = proc.wait()
        end = time.time()
        sampler.stop()
    return {"start": start, "end": end, "seconds": end - start, "returncode": code,
            "timed_out": timeout is not None and end - start >= timeout,
            "peak_rss": sampler.peak(), "sampler": sampler}


def _load() -> str:
    """The 1/5/15-minute load averages: the machine is shared, so every number carries one."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# ------------------------------------------------------------------------------ the data

def hold_back_last_day(inbox: Path, held: Path) -> list[str]:
    """Moves the daily files of the inbox's last business date to `held`: the day an
    incremental run adds on top of the loaded ones."""
    daily = [(f.business_date, p) for p in inbox.iterdir()
             if (f := match_file_name(p.name)) is not None and f.entity.kind == "daily"]
    last = max(day for day, _ in daily)
    held.mkdir(parents=True, exist_ok=True)
    moved = []
    for day, path in daily:
        if day == last:
            shutil.move(path, held / path.name)
            moved.append(path.name)
    return sorted(moved)


def prepare_data(inbox: Path, days: int, scale: float, reuse: bool, workdir: Path) -> dict:
    """`days` of data in the inbox, plus one more day's daily files in WORKDIR/held (for the
    incremental run)."""
    marker = workdir / "generate.json"
    wanted = {"days": days, "scale": scale, "seed": SEED, "held_back_day": True}
    if reuse and marker.exists() and inbox.is_dir():
        summary = json.loads(marker.read_text())
        if all(summary.get(k) == v for k, v in wanted.items()):
            summary["reused"] = True
            return summary
    # A subprocess, so the generator's arrays do not stay in this process's memory.
    cmd = [sys.executable, "-m", "tools.sample_data", "--out", str(inbox),
           "--days", str(days + 1), "--scale", str(scale), "--seed", str(SEED), "--json"]
    m = run_measured(cmd, workdir / "generate.log")
    if m["returncode"]:
        sys.exit(f"bench: data generation failed, see {workdir / 'generate.log'}")
    summary = json.loads((workdir / "generate.log").read_text())
    summary.pop("faults", None)
    shutil.rmtree(workdir / "held", ignore_errors=True)
    held = hold_back_last_day(inbox, workdir / "held")
    held_bytes = sum((workdir / "held" / name).stat().st_size for name in held)
    summary.update(files=summary["files"] - len(held), bytes=summary["bytes"] - held_bytes,
                   held_files=len(held), held_bytes=held_bytes)
    summary.update(wanted, wall_seconds=round(m["seconds"], 2), peak_rss=m["peak_rss"], reused=False)
    marker.write_text(json.dumps(summary, indent=1, ensure_ascii=False))
    return summary


# -------------------------------------------------------------------------- the pipeline

def run_pipeline(inbox: Path, home: Path, log: Path, project: Path, timeout: float,
                 fresh: bool = True) -> dict:
    """`qloop run` (the CLI module of `project`, normally this checkout) on a fresh home
    (or, not fresh, on the home as the last run left it: an incremental run)."""
    if fresh:
        shutil.rmtree(home, ignore_errors=True)
    env = dict(os.environ, DO_NOT_TRACK="1", DAGSTER_DISABLE_TELEMETRY="1")
    # the installed entry point for this checkout; the same CLI module for another one
    cli = [str(BIN / "qloop")] if project == PROJECT_ROOT else [sys.executable, "-m", "dagster_project.cli"]
    cmd = cli + ["run", "--inbox", str(inbox), "--home", str(home)]
    load_before = _load()
    m = run_measured(cmd, log, env, cwd=project, timeout=timeout)
    m["load_before"], m["load_after"] = load_before, _load()
    if m["returncode"]:
        # say where it was: the last line dbt printed, if it got that far
        dbt_log = sorted((home / "runs").glob("*.log"), key=lambda p: p.stat().st_mtime)
        last = dbt_log[-1].read_text(errors="replace").strip().splitlines()[-1:] if dbt_log else []
        what = f"killed after {m['seconds']:.0f} s (--timeout)" if m["timed_out"] else f"failed (exit {m['returncode']})"
        sys.exit(f"bench: `qloop run` {what}; last dbt line: {' '.join(last) or '-'}; see {log}")
    return m


def _step_windows(home: Path) -> tuple[str, dict[str, tuple[float, float]]]:
    """The latest run's id and its steps' (start, end) epoch times, from its Dagster instance."""
    os.environ["DAGSTER_HOME"] = str(home / "dagster")
    import dagster as dg  # only now: importing Dagster takes seconds and memory

    with dg.DagsterInstance.get() as instance:
        run = instance.get_runs(limit=1)[0]
        stats = instance.get_run_step_stats(run.run_id)
    return run.run_id, {s.step_key: (s.start_time, s.end_time) for s in stats}


def _busy_seconds(results: list[dict]) -> float:
    """Wall seconds during which at least one of these dbt nodes ran (compile to end of
    execute). dbt runs several nodes at once (the profile's threads), so summing their
    times would count the overlap twice; the categories of one build may still overlap
    each other."""
    spans = sorted((datetime.fromisoformat(t[0]["started_at"].replace("Z", "+00:00")),
                    datetime.fromisoformat(t[-1]["completed_at"].replace("Z", "+00:00")))
                   for t in (r["timing"] for r in results) if t)
    busy, end = 0.0, None
    for start, stop in spans:
        if end is None or start > end:
            busy += (stop - start).total_seconds()
            end = stop
        elif stop > end:
            busy += (stop - end).total_seconds()
            end = stop
    return busy


def _dbt_category(node: dict) -> str:
    path = node.get("original_file_path", "")
    if node["unique_id"].startswith("test."):
        return "data tests"
    if path.startswith(("models/staging/", "models/intermediate/entities/")):
        return "validate + dedup (staging, int_ entities)"
    if path.startswith(("models/intermediate/kpi/", "models/marts/kpi/")):
        return "KPI models (int_kpi_records, marts/kpi)"
    if path.startswith("models/marts/quality/"):
        return "quality marts (rejects, reconciliation)"
    return "seeds and other nodes"


def _landing_wall(files: list[dict]) -> float:
    """Files land side by side (ingest.LANDING_WORKERS): their decode and land seconds are
    busy seconds summed over the workers; the landing's wall time is from the first file's
    start to the last one's end (reports written before the start and end times were kept:
    the sum)."""
    timed = [f for f in files if f.get("started_at") is not None]
    if not timed:
        return sum(f["seconds_decode"] + f["seconds_land"] for f in files)
    return max(f["ended_at"] for f in timed) - min(f["started_at"] for f in timed)


def pipeline_phases(home: Path, m: dict, only_new_files: bool = False) -> dict:
    """Phase rows (name, rows, seconds, peak RSS, depth) of one measured pipeline run
    (only_new_files: count the rows of the files this run landed, not of those unchanged)."""
    run_id, steps = _step_windows(home)
    runs = home / "runs"
    files = json.loads((runs / f"{run_id}.ingest.json").read_text())
    if only_new_files:
        files = [f for f in files if f["outcome"] in ("loaded", "replaced")]
    rows_read = sum(f["rows_read"] for f in files)
    rows_landed = sum(f["rows_landed"] for f in files)
    decode = sum(f["seconds_decode"] for f in files)
    land = sum(f["seconds_land"] for f in files)
    landing_wall = _landing_wall(files)

    # dbt.py keeps run_results.json per step as <run>.<step>.run_results.json
    dbt_results = runs / f"{run_id}.qualityloop_dbt_models.run_results.json"
    if not dbt_results.exists():
        dbt_results = runs / f"{run_id}.dbt_run_results.json"
    dbt = json.loads(dbt_results.read_text())
    manifest_path = home / "dbt-target" / "manifest.json"
    nodes = json.loads(manifest_path.read_text())["nodes"] if manifest_path.exists() else {}
    by_cat: dict[str, list] = {}
    for r in dbt["results"]:
        node = nodes.get(r["unique_id"], {"unique_id": r["unique_id"]})
        by_cat.setdefault(_dbt_category(node), []).append(r)
    node_seconds = _busy_seconds(dbt["results"])

    sampler = m["sampler"]
    ingest, transform, export = (steps.get(k, (m["start"], m["start"])) for k in
                                 ("raw_landing", "qualityloop_dbt_models", "kpi_snapshot_export"))
    chk = next((home / "exports").glob("*.chk"), None)
    export_rows = int(chk.read_text().split(",")[1]) if chk else 0
    first = min(s for s, _ in steps.values())
    last = max(e for _, e in steps.values())
    step_sum = sum(e - s for s, e in steps.values())

    def row(name, seconds, rows=None, window=None, depth=0):
        return {"phase": name, "rows": rows, "seconds": round(seconds, 3), "depth": depth,
                "peak_rss": sampler.peak(*window) if window else None}

    dbt_step = transform[1] - transform[0]
    out = [
        row("start-up (interpreter, Dagster + dbt manifest import, run launch)", first - m["start"],
            window=(m["start"], first)),
        row("ingest: step raw_landing", ingest[1] - ingest[0], rows_read, ingest),
        row(f"landing of the files (wall time, {LANDING_WORKERS} at a time)", landing_wall, rows_read, depth=1),
        row("transcode (read, sha256, strict decode; worker-seconds)", decode,
            rows_read, depth=2),
        row("load (split, insert in DuckDB; worker-seconds)", land,
            rows_landed, depth=2),
        row("other (schema, file registry, report)", ingest[1] - ingest[0] - landing_wall, depth=1),
        row("dbt: step qualityloop_dbt_models (`dbt build`)", dbt_step, rows_landed, transform),
    ]
    for cat in ("validate + dedup (staging, int_ entities)", "KPI models (int_kpi_records, marts/kpi)",
                "quality marts (rejects, reconciliation)", "seeds and other nodes", "data tests"):
        results = by_cat.get(cat, [])
        out.append(row(f"{cat} [{len(results)} nodes]", _busy_seconds(results),
                       rows_landed if cat.startswith("validate") else None, depth=1))
    out += [
        row("fixed: dbt start-up, manifest/parse, Dagster event handling", dbt_step - dbt["elapsed_time"], depth=1),
        row("fixed: between nodes (compile, per-model commit, threads)", dbt["elapsed_time"] - node_seconds, depth=1),
        row("export: step kpi_snapshot_export", export[1] - export[0], export_rows, export),
    ]
    # Data quality (docs/quality.md): the suites' step and the asset checks' step.
    suites_step, checks_step = (steps.get(k) for k in ("quality_suites", "quality_checks"))
    quality_json = runs / f"{run_id}.quality.json"
    quality_seconds = 0.0
    if suites_step:
        q = json.loads(quality_json.read_text())["seconds"] if quality_json.exists() else {}
        quality_seconds += suites_step[1] - suites_step[0]
        out += [
            row("quality: step quality_suites (GX suites, freshness, Data Docs, rejects CSV)",
                suites_step[1] - suites_step[0], window=suites_step),
            row("GX import + ephemeral context", q.get("gx_import_and_context", 0.0), depth=1),
            row("metric frames in DuckDB (SQL)", q.get("metrics_sql", 0.0), depth=1),
            row("GX validation of the small frames", q.get("suites", 0.0) - q.get("metrics_sql", 0.0), depth=1),
            row("Data Docs", q.get("data_docs", 0.0), depth=1),
        ]
    if checks_step:
        quality_seconds += checks_step[1] - checks_step[0]
        out.append(row("quality: step quality_checks (asset check results)",
                       checks_step[1] - checks_step[0], window=checks_step))
    # Every other step (detection, the ranking, the board copy, ...): one row each.
    shown = {"raw_landing", "qualityloop_dbt_models", "kpi_snapshot_export", "quality_suites",
             "quality_checks"}
    for name, (start, end) in sorted(steps.items(), key=lambda item: item[1][0]):
        if name not in shown:
            out.append(row(f"step {name}", end - start, window=(start, end)))
    out += [
        row("Dagster between steps", (last - first) - step_sum),
        row("wind-down (CLI summary, exit)", m["end"] - last, window=(last, m["end"])),
    ]
    return {"run_id": run_id, "rows_read": rows_read, "rows_landed": rows_landed,
            "dbt_nodes": len(dbt["results"]), "phases": out, "quality_seconds": round(quality_seconds, 3)}


# ----------------------------------------------------------------------------- the floor

def run_floor(inbox: Path, workdir: Path) -> dict:
    """The shared floor (`../shared/bench/floor.py`, beside the project) in a fresh process
    of this interpreter, timed as a whole; its own phases from its --json."""
    if not FLOOR.exists():
        sys.exit(f"bench: no floor at {FLOOR} (the project must sit beside shared/)")
    out, timings = workdir / "floor", workdir / "floor.json"
    shutil.rmtree(out, ignore_errors=True)
    load_before = _load()
    m = run_measured([sys.executable, str(FLOOR), "--inbox", str(inbox), "--export", str(out),
                      "--json", str(timings)], workdir / "floor.log")
    if m["returncode"]:
        sys.exit(f"bench: the floor failed, see {workdir / 'floor.log'}")
    report = json.loads(timings.read_text())
    snapshot, = out.glob("kpi_snapshot_*.csv")
    return {"seconds": m["seconds"], "peak_rss": m["peak_rss"], "load_before": load_before,
            "load_after": _load(), "phases": report["timings"], "snapshot": str(snapshot)}


def compare_snapshots(pipeline_csv: Path, floor_csv: Path) -> dict:
    """How many snapshot rows the floor reproduces (same key, numerator, denominator, status)."""
    import duckdb

    con = duckdb.connect()
    read = "read_csv('{}', all_varchar = true)"
    p, f = read.format(pipeline_csv), read.format(floor_csv)
    key = "period_type, period_start, kpi_code, region_code, numerator, denominator, status"
    same = con.execute(f"select count(*) from (select {key} from {p} intersect all select {key} from {f})").fetchone()[0]
    total_p = con.execute(f"select count(*) from {p}").fetchone()[0]
    total_f = con.execute(f"select count(*) from {f}").fetchone()[0]
    return {"pipeline_rows": total_p, "floor_rows": total_f, "identical_rows": same}


# ------------------------------------------------------------------------------ reporting

def _fmt_rows(n):
    return "" if n is None else f"{n / 1e6:.2f}M" if n >= 1e5 else f"{n:,}"


def render(result: dict) -> str:
    lines = [f"{'phase':<70} {'rows':>8} {'seconds':>8} {'rows/s':>9} {'peak RSS':>9}"]

    def line(name, rows, seconds, peak, depth=0):
        rate = f"{rows / seconds / 1e3:,.0f}k" if rows and seconds > 0.05 else ""
        mem = f"{peak / MB:,.0f} MB" if peak else ""
        lines.append(f"{'  ' * depth + name:<70} {_fmt_rows(rows):>8} {seconds:>8.1f} {rate:>9} {mem:>9}")

    pipe = result["pipeline"]
    for p in pipe["phases"]:
        line(p["phase"], p["rows"], p["seconds"], p["peak_rss"], p["depth"])
    lines.append("-" * 108)
    line("PIPELINE TOTAL (wall of `qloop run`)", pipe["rows_read"], pipe["seconds"], pipe["peak_rss"])
    fl = result["floor"]
    line("FLOOR (../shared/bench/floor.py, one fresh process)", pipe["rows_read"],
         fl["seconds"], fl["peak_rss"])
    for phase, seconds in fl["phases"].items():
        if phase != "total":
            line(phase, None, seconds, None, 1)
    inc = result.get("incremental")
    if inc:
        line(f"INCREMENTAL (+1 day on the loaded {result['days']}, same home)", inc["rows_read"],
             inc["seconds"], inc["peak_rss"])
        for p in inc["phases"]:
            if p["depth"] == 0 and p["seconds"] >= 0.05:
                line(p["phase"], p["rows"], p["seconds"], None, 1)
    idle = result.get("nothing_new")
    if idle:
        line("NOTHING NEW (the same inbox again, same home)", None, idle["seconds"],
             idle["peak_rss"])
    base = result.get("baseline")
    if base:
        line("FIXED COST (same run, reference files only)", None, base["seconds"], base["peak_rss"])
        nodes = 0.0
        for p in base["phases"]:
            if p["phase"].startswith(("start-up", "dbt:", "fixed:")):
                line(p["phase"], None, p["seconds"], None, 1)
            elif p["depth"] and "nodes]" in p["phase"]:
                nodes += p["seconds"]
        line(f"dbt nodes on near-empty tables [{base['dbt_nodes']} nodes]", None, nodes, None, 1)
    gen = result["generate"]
    cmp_ = result["comparison"]
    lines += [
        "",
        f"data quality (suites + checks) = {pipe.get('quality_seconds', 0):.1f} s = "
        f"{100 * pipe.get('quality_seconds', 0) / pipe['seconds']:.0f} % of the pipeline (aim: < 25 %)",
        *([f"incremental run (+1 day) = {inc['seconds']:.1f} s = "
           f"{100 * inc['seconds'] / pipe['seconds']:.0f} % of the full run"]
          if inc else []),
        *([f"daily run's own cost = (incremental - nothing new) / (full - nothing new) = "
           f"({inc['seconds']:.1f} - {idle['seconds']:.1f}) / ({pipe['seconds']:.1f} - "
           f"{idle['seconds']:.1f}) = "
           f"{100 * (inc['seconds'] - idle['seconds']) / (pipe['seconds'] - idle['seconds']):.1f} %"]
          if inc and idle else []),
        f"pipeline / floor = {pipe['seconds'] / fl['seconds']:.1f}x   "
        f"(floor snapshot: {cmp_['identical_rows']} of the pipeline's {cmp_['pipeline_rows']} rows identical; "
        f"floor wrote {cmp_['floor_rows']})",
        f"data: {result['days']} days x scale {result['scale']}: {gen['files']} files, "
        f"{gen['bytes'] / 1e6:,.0f} MB, {_fmt_rows(pipe['rows_read'])} records; "
        + ("reused" if gen.get("reused") else f"generated in {gen['wall_seconds']:.1f} s"),
        f"load average (1/5/15 min) before -> after: pipeline {pipe['load_before']} -> {pipe['load_after']}; "
        f"floor {fl['load_before']} -> {fl['load_after']}; {os.cpu_count()} CPUs",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    ap = argparse.ArgumentParser(prog="make bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--days", type=int, default=7, help="business days of data (default 7; 30 = the month)")
    ap.add_argument("--scale", type=float, default=1.0, help="1.0 = province scale (~0.9M records/day)")
    ap.add_argument("--workdir", type=Path, help="default: $TMPDIR/qloop-bench-<days>d-x<scale>")
    ap.add_argument("--keep", action="store_true", help="keep the inbox, homes and floor output")
    ap.add_argument("--reuse-data", action="store_true",
                    help="reuse WORKDIR/inbox when it was generated with the same days/scale (and keep it)")
    ap.add_argument("--no-baseline", action="store_true", help="skip the reference-files-only run")
    ap.add_argument("--timeout", type=float, default=1800, help="kill a pipeline run after this many seconds")
    ap.add_argument("--project", type=Path, default=PROJECT_ROOT,
                    help="run the pipeline of another checkout (e.g. a scratch copy with a change to try)")
    args = ap.parse_args(argv)

    workdir = (args.workdir or Path(tempfile.gettempdir()) / f"qloop-bench-{args.days}d-x{args.scale:g}").resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    inbox, home = workdir / "inbox", workdir / "home"
    print(f"bench: {args.days} days x scale {args.scale:g} in {workdir}", flush=True)

    gen = prepare_data(inbox, args.days, args.scale, args.reuse_data, workdir)
    print(f"bench: data ready ({gen['files']} files, {gen['bytes'] / 1e6:,.0f} MB); running the pipeline",
          flush=True)
    project = args.project.resolve()
    pipe = run_pipeline(inbox, home, workdir / "pipeline.log", project, args.timeout)
    print(f"bench: pipeline {pipe['seconds']:.1f} s; running the floor", flush=True)
    floor = run_floor(inbox, workdir)
    pipe.update(pipeline_phases(home, pipe))
    pipe["rss_samples"] = [(round(t - pipe["start"], 2), rss // MB) for t, rss in pipe.pop("sampler").samples]
    snapshot = next((home / "exports").glob("kpi_snapshot_*.csv"))
    result = {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "days": args.days, "scale": args.scale,
              "project": str(project),
              "cpus": os.cpu_count(), "generate": gen, "pipeline": pipe, "floor": floor,
              "comparison": compare_snapshots(snapshot, Path(floor["snapshot"]))}

    # One more day on top of the loaded ones, on the same home: the daily incremental run.
    print("bench: incremental run (one more day on the same home)", flush=True)
    held = workdir / "held"
    added = sorted(held.iterdir())
    for path in added:
        shutil.copy2(path, inbox / path.name)
    inc = run_pipeline(inbox, home, workdir / "pipeline-incremental.log", project, args.timeout,
                       fresh=False)
    inc.update(pipeline_phases(home, inc, only_new_files=True))
    inc.pop("sampler")
    result["incremental"] = inc
    # Once more with nothing new: what a run costs whatever it is given (the stack's start,
    # dbt's invocations, the checks and exports over what is there).
    print("bench: run with nothing new (the same inbox again)", flush=True)
    idle = run_pipeline(inbox, home, workdir / "pipeline-nothing-new.log", project,
                        args.timeout, fresh=False)
    idle.pop("sampler")
    result["nothing_new"] = {"seconds": idle["seconds"], "peak_rss": idle["peak_rss"]}
    for path in added:
        (inbox / path.name).unlink()

    if not args.no_baseline:
        # The volume-independent cost: the same job over the reference files alone.
        print("bench: fixed-cost run (reference files only)", flush=True)
        ref_inbox, ref_home = workdir / "inbox-ref-only", workdir / "home-ref-only"
        shutil.rmtree(ref_inbox, ignore_errors=True)
        ref_inbox.mkdir()
        for f in inbox.glob("ref_*.csv"):
            shutil.copy(f, ref_inbox)
        base = run_pipeline(ref_inbox, ref_home, workdir / "pipeline-ref-only.log", project, args.timeout)
        base.update(pipeline_phases(ref_home, base))
        base.pop("sampler")
        result["baseline"] = base
        shutil.rmtree(ref_inbox, ignore_errors=True)

    text = render(result)
    print()
    print(text)
    result["table"] = text
    out = workdir / "bench-results.json"
    out.write_text(json.dumps(result, indent=1, default=str))
    if not args.keep:
        for path in (home, workdir / "home-ref-only") + (() if args.reuse_data else (inbox, workdir / "held")):
            shutil.rmtree(path, ignore_errors=True)
    print(f"\nresults: {out}" + ("" if args.keep else " (big files removed; --keep keeps them)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
