"""`make bench-board`: every board callback and page load, timed through the real server on a
province-scale quarter.

    python -m tools.bench_board [--days 90] [--scale 1.0] [--cache DIR] [--rebuild]
                               [--republish] [--repeat 30] [--browser-repeat 3] [--build-only]

1. **Build once, cache.** The cache folder (default `$XDG_CACHE_HOME/qloop-bench/
   board-<days>d-x<scale>`) holds one home: `qloop generate` writes the inbox, `qloop run`
   builds the warehouse and publishes board.duckdb, `qloop demo-story` adds users and issues
   in several states, then the inbox is deleted. `home-ready.json`, written last, marks a
   finished home (days, scale, seed, build times); without it (or with `--rebuild`) the
   home is built again. `--republish` publishes board.duckdb again from the cached
   warehouse with this checkout's publish.py (seconds): what a change there does is measured
   without a rebuild.
2. **Serve for real.** `qloop board` (waitress) on a free port, in its own process group.
3. **Exercise.** Chromium (Playwright) logs in, opens every page and works every control
   (overview pickers, the KPI region / period / hotline views, issue filters and the issue
   grid's column choice and CSV export, the ranking month, the change register's and
   post-evaluation's filters, the hotspot page's day, source, series and heatmap) while
   every `/_dash-update-component` request is recorded, and measures each page load as the
   browser sees it, to its grids and charts drawn (`--browser-repeat` visits).
4. **Replay.** Each recorded callback request is sent `--repeat` times over plain HTTP
   (keep-alive, the browser's session cookie), one at a time; each page load is replayed
   as the chain of requests a browser makes (shell, `_dash-layout`, `_dash-dependencies`,
   then its callbacks in the order they fired). The callbacks fired are compared with the
   app's list (`/_dash-dependencies`); those that write to the issue store (issue and
   change actions, a change's registration, a hotspot's promotion) are never fired.
5. Prints a table (p50 / p95 / max per callback and per page) and writes
   `<cache>/board-bench-results.json`.

A benchmark, not a test: nothing here asserts a time. See docs/performance.md ("Board").
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Iterator

from tools.bench import MB, SEED, _load as load_average, run_measured
from dagster_project.lib.publish import board_path, publish_board_copy
from dagster_project.lib.remediation.demo import DEMO_PASSWORD, DEMO_QM
from dagster_project.lib.settings import PROJECT_ROOT, Settings

QLOOP = str(Path(sys.executable).with_name("qloop"))  # the venv's CLI, next to this python
MARKER = "home-ready.json"
RESULTS = "board-bench-results.json"
TARGET_MS = 100.0
GENERATE_GB_PER_DAY = 0.125  # the generator's peak RSS per day at scale 1.0, measured
CALLBACK_PATH = "/_dash-update-component"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
# Callbacks whose input is a button that writes to the issue store (an issue action, a
# change's test / launch / cancel, registering a change, promoting a hotspot): never fired,
# so the benchmark leaves the store as the demo story left it. Every other callback reads.
EXCLUDED_INPUTS = ("action-", "change-action-", "hotspot-promote")
EXCLUDED_WHY = ("they write to the issue store (an issue's or a change's state, events and "
                "version, a new change, a promoted hotspot's issue); not fired, so runs stay "
                "comparable and the cached home unchanged")
# Request headers the replay must not copy: the connection's own, and the cookie it sets.
SKIP_HEADERS = {"host", "cookie", "content-length", "connection", "accept-encoding",
                "origin", "referer"}


# ------------------------------------------------------------------------------ the home

def default_cache(days: int, scale: float) -> Path:
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "qloop-bench" / f"board-{days}d-x{scale:g}"


def _cli_env() -> dict[str, str]:
    """This environment without QLOOP_* (the flags name the home), and no telemetry."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QLOOP_")}
    env.update(DO_NOT_TRACK="1", DAGSTER_DISABLE_TELEMETRY="1")
    return env


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


class Progress(threading.Thread):
    """Prints, every `every` seconds, how long a build step has run and the last line of its
    log: a 90-day pipeline run takes many minutes and should not look hung."""

    def __init__(self, name: str, logs: list[Path], every: float = 60.0):
        super().__init__(daemon=True)
        self.name_, self.logs, self.every = name, logs, every
        self._done = threading.Event()
        self.started = time.time()

    def run(self) -> None:
        while not self._done.wait(self.every):
            print(f"bench-board:   {self.name_} running {time.time() - self.started:,.0f} s; "
                  f"load {load_average()}; {self._last_line()}", flush=True)

    def _last_line(self) -> str:
        candidates = []
        for log in self.logs:
            candidates += [log] if log.is_file() else sorted(log.glob("*.log")) if log.is_dir() else []
        if not candidates:
            return ""
        newest = max(candidates, key=lambda p: p.stat().st_mtime)
        with open(newest, "rb") as f:
            f.seek(max(0, newest.stat().st_size - 2000))
            tail = f.read().decode("utf-8", "replace").strip().splitlines()
        return f"last log line: {tail[-1][:110]}" if tail else ""

    def stop(self) -> None:
        self._done.set()
        self.join()


def _build_step(name: str, cmd: list[str], log: Path, timeout: float,
                watch: list[Path] | None = None) -> dict:
    """One measured build command (wall time, peak RSS of its process tree); exits on failure."""
    print(f"bench-board: {name}: {' '.join(cmd)}", flush=True)
    progress = Progress(name, [log, *(watch or [])])
    progress.start()
    try:
        m = run_measured(cmd, log, env=_cli_env(), cwd=PROJECT_ROOT, timeout=timeout)
    finally:
        progress.stop()
    m.pop("sampler")
    step = {"seconds": round(m["seconds"], 1), "peak_rss_mb": m["peak_rss"] // MB,
            "returncode": m["returncode"], "log": str(log)}
    if m["returncode"]:
        why = f"killed after {timeout:.0f} s (--build-timeout)" if m["timed_out"] else \
            f"exit {m['returncode']}" + (" (killed: out of memory?)" if m["returncode"] < 0 else "")
        sys.exit(f"bench-board: {name} failed ({why}); see {log}")
    print(f"bench-board: {name} done in {step['seconds']:,.1f} s, peak RSS "
          f"{step['peak_rss_mb']:,} MB", flush=True)
    return step


def catalog_codes(home: Path) -> list[str]:
    """The KPI codes of the published catalog: one detail page each."""
    import duckdb

    con = duckdb.connect(str(board_path(home)), read_only=True)
    try:
        return [r[0] for r in con.execute("select kpi_code from dim_kpi order by 1").fetchall()]
    finally:
        con.close()


def board_tables(home: Path) -> list[tuple[str, int]]:
    """(table, rows) of the published board copy, biggest first."""
    import duckdb

    con = duckdb.connect(str(board_path(home)), read_only=True)
    try:
        names = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'main'"
        ).fetchall()]
        counts = [(n, con.execute(f'select count(*) from "{n}"').fetchone()[0]) for n in names]
    finally:
        con.close()
    return sorted(counts, key=lambda c: -c[1])


def data_start(days: int, today: date) -> date:
    """The generator's default first day, unless its window would reach today: the issue
    workflow runs on the real clock and refuses dates in the future (`qloop demo-story`
    claims fixes ten days before the data ends), so the quarter then ends yesterday."""
    from tools.sample_data import DEFAULT_START

    yesterday = today - timedelta(days=1)
    if DEFAULT_START + timedelta(days=days - 1) <= yesterday:
        return DEFAULT_START
    return yesterday - timedelta(days=days - 1)


def _deviations(start: date, days: int) -> list[str]:
    default = data_start(days, date.max)
    if start == default:
        return []
    return [f"generated with --start {start} instead of the generator's default {default}: "
            f"the default {days}-day window would end after today ({date.today()}), and the "
            "issue workflow (demo story) refuses dates in the future"]


def _memory_note(days: int, scale: float) -> str | None:
    """A warning when the generator (it holds every extract in memory until it writes them:
    11 GB peak for 90 days at scale 1.0 here, 3.7 GB for 30) may not fit in what is free."""
    need = GENERATE_GB_PER_DAY * days * scale
    with open("/proc/meminfo") as f:
        free = next(int(line.split()[1]) for line in f if line.startswith("MemAvailable:")) / MB
    if need <= free:
        return None
    return (f"the generator may need ~{need:.0f} GB and {free:.0f} GB are available; it has no "
            "chunked mode the bench could use without changing the data (each --start chunk "
            "would repeat the reference and monthly files and draw other numbers)")


def ensure_inbox(cache: Path, wanted: dict, timeout: float) -> dict:
    """The generated inbox, kept (with its own marker) until the home is finished: a failed
    pipeline run is retried without generating again."""
    inbox, marker = cache / "inbox", cache / "inbox-ready.json"
    if marker.exists() and inbox.is_dir() and json.loads(marker.read_text())["wanted"] == wanted:
        print(f"bench-board: generate: reusing {inbox}", flush=True)
        return json.loads(marker.read_text())
    marker.unlink(missing_ok=True)
    shutil.rmtree(inbox, ignore_errors=True)
    note = _memory_note(wanted["days"], wanted["scale"])
    if note:
        print(f"bench-board: WARNING {note}", flush=True)
    step = _build_step("generate", [
        QLOOP, "generate", "--out", str(inbox), "--days", str(wanted["days"]),
        "--scale", f"{wanted['scale']:g}", "--seed", str(wanted["seed"]),
        "--start", wanted["start"]], cache / "generate.log", timeout)
    generated = {"wanted": wanted, "step": step, "files": sum(1 for _ in inbox.glob("*.csv")),
                 "bytes": _folder_bytes(inbox)}
    marker.write_text(json.dumps(generated, indent=1))
    return generated


def ensure_home(cache: Path, days: int, scale: float, rebuild: bool, timeout: float) -> dict:
    """The cached home, built first when it is missing, unfinished or of other days/scale."""
    home, inbox, marker = cache / "home", cache / "inbox", cache / MARKER
    wanted = {"days": days, "scale": scale, "seed": SEED}
    if marker.exists() and not rebuild and board_path(home).exists():
        built = json.loads(marker.read_text())
        if all(built.get(k) == v for k, v in wanted.items()):
            return {**built, "reused": True}
    # the marker goes first and comes back last: an interrupted build is never "finished"
    marker.unlink(missing_ok=True)
    shutil.rmtree(home, ignore_errors=True)
    if rebuild:
        (cache / "inbox-ready.json").unlink(missing_ok=True)
    cache.mkdir(parents=True, exist_ok=True)
    print(f"bench-board: building the home in {cache} ({days} days x scale {scale:g}; "
          f"{os.cpu_count()} CPUs, load {load_average()})", flush=True)
    start = data_start(days, date.today())
    deviations = _deviations(start, days)
    for note in deviations:
        print(f"bench-board: NOTE {note}", flush=True)
    generated = ensure_inbox(cache, {**wanted, "start": start.isoformat()}, timeout)
    steps = {"generate": generated["step"]}
    steps["pipeline"] = _build_step("pipeline", [
        QLOOP, "run", "--inbox", str(inbox), "--home", str(home)], cache / "pipeline.log",
        timeout, watch=[home / "runs"])
    steps["demo_story"] = _build_step("demo-story", [QLOOP, "demo-story", "--home", str(home)],
                                      cache / "demo-story.log", timeout)
    # only the home is kept: the board reads board.duckdb and issues.sqlite
    (cache / "inbox-ready.json").unlink()
    shutil.rmtree(inbox)
    built = {**wanted, "start": start.isoformat(), "built_at": time.strftime("%Y-%m-%d %H:%M:%S"),
             # the steps' sum: a generation reused after a failed pipeline run still counts
             "build_seconds": round(sum(step["seconds"] for step in steps.values()), 1),
             "steps": steps,
             "inbox_files": generated["files"], "inbox_bytes": generated["bytes"],
             "board_bytes": board_path(home).stat().st_size,
             "tables": board_tables(home), "deviations": deviations}
    marker.write_text(json.dumps(built, indent=1))
    return {**built, "reused": False}


def republish(cache: Path, built: dict) -> dict:
    """The board copy published again from the cached warehouse by this checkout's
    publish.py: seconds, where a rebuild takes many minutes, so a change there is measured."""
    home = cache / "home"
    settings = Settings(home=home, inbox=cache / "inbox")
    started = time.time()
    publish_board_copy(settings.warehouse, board_path(home))
    built = {**built, "republished": {"at": time.strftime("%Y-%m-%d %H:%M:%S"),
                                      "seconds": round(time.time() - started, 1)},
             "board_bytes": board_path(home).stat().st_size, "tables": board_tables(home)}
    (cache / MARKER).write_text(json.dumps({k: v for k, v in built.items() if k != "reused"},
                                           indent=1))
    return built


def describe_home(built: dict) -> str:
    steps = built["steps"]
    lines = [
        f"home: {built['days']} days x scale {built['scale']:g} from {built.get('start', '?')} (seed "
        f"{built['seed']}), built "
        f"{built['built_at']} in {built['build_seconds'] / 60:,.1f} min"
        + (" (reused from the cache)" if built.get("reused") else "")
        + ": " + ", ".join(f"{name} {s['seconds']:,.0f} s / peak {s['peak_rss_mb'] / 1024:,.1f} GB"
                           for name, s in steps.items()),
        f"inbox (deleted): {built['inbox_files']} files, {built['inbox_bytes'] / 1e9:,.2f} GB; "
        f"board.duckdb {built['board_bytes'] / MB:,.0f} MB; biggest tables: "
        + ", ".join(f"{name} {rows:,}" for name, rows in built["tables"][:6]),
    ]
    if built.get("republished"):
        lines.append(f"board.duckdb republished from the cached warehouse {built['republished']['at']} "
                     f"({built['republished']['seconds']} s, --republish)")
    lines += [f"DEVIATION: {d}" for d in built.get("deviations", [])]
    return "\n".join(lines)


# ---------------------------------------------------------------------------- the server

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(home: Path, log: Path) -> Iterator[str]:
    """`qloop board` on a free port in its own process group; the group is stopped after."""
    port = _free_port()
    env = _cli_env()
    env["QLOOP_BOARD_SECRET"] = os.urandom(16).hex()  # a throw-away key: no secret.key written
    with open(log, "wb") as out:
        process = subprocess.Popen([QLOOP, "board", "--home", str(home), "--port", str(port)],
                                   stdout=out, stderr=subprocess.STDOUT, env=env,
                                   cwd=PROJECT_ROOT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process, log)
        yield url
    finally:
        _stop_group(process)


def _wait_healthy(url: str, process: subprocess.Popen, log: Path, within: float = 90) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=1)
            return
        except OSError:
            if process.poll() is not None:
                sys.exit(f"bench-board: the board exited ({process.returncode}); see {log}")
            time.sleep(0.3)
    sys.exit(f"bench-board: the board did not answer /healthz within {within:.0f} s; see {log}")


def _stop_group(process: subprocess.Popen) -> None:
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=wait)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


# --------------------------------------------------------------------- the browser pass

@dataclass
class Recorded:
    """One request the browser made while a step ran."""
    step: str
    method: str
    path: str
    headers: dict[str, str]
    body: str | None
    output: str | None = None  # a callback's output spec, as in /_dash-dependencies
    status: int | None = None
    browser_ms: float | None = None  # the browser's own timing: request start to response end
    sent_at: float | None = None  # monotonic seconds, as this process saw the events
    finished_at: float | None = None


@dataclass
class Recorder:
    """Listens to a Playwright page: records requests to the server under the current step
    label and keeps count of those in flight (to know when the page has settled)."""
    base_url: str
    step: str = "login"
    requests: list[Recorded] = field(default_factory=list)
    silent: list[str] = field(default_factory=list)  # actions that fired no callback
    in_flight: int = 0
    last_activity: float = 0.0
    _by_request: dict = field(default_factory=dict)

    def attach(self, page) -> None:
        page.on("request", self._on_request)
        page.on("requestfinished", self._on_finished)
        page.on("requestfailed", self._on_failed)

    def _ours(self, request) -> bool:
        return request.url.startswith(self.base_url)

    def _on_request(self, request) -> None:
        if not self._ours(request):
            return
        self.in_flight += 1
        self.last_activity = time.monotonic()
        path = request.url[len(self.base_url):]
        body = request.post_data if request.method == "POST" else None
        output = json.loads(body).get("output") if path.startswith(CALLBACK_PATH) and body else None
        record = Recorded(self.step, request.method, path, dict(request.headers), body, output,
                          sent_at=self.last_activity)
        self.requests.append(record)
        self._by_request[id(request)] = (request, record)

    def _on_finished(self, request) -> None:
        if not self._ours(request):
            return
        self._done(request)
        _, record = self._by_request.pop(id(request), (None, None))
        if record is not None:
            record.finished_at = self.last_activity
            response = request.response()
            record.status = response.status if response else None
            timing = request.timing
            if timing.get("responseEnd", -1) >= 0:
                record.browser_ms = round(timing["responseEnd"], 1)

    def _on_failed(self, request) -> None:
        if self._ours(request):
            self._done(request)
            self._by_request.pop(id(request), None)

    def _done(self, request) -> None:
        self.in_flight = max(0, self.in_flight - 1)
        self.last_activity = time.monotonic()

    def settle(self, page, quiet: float = 0.4, timeout: float = 60.0) -> float:
        """Wait until no request has been in flight for `quiet` seconds and every grid and
        chart of the page is drawn; returns the monotonic time the page was done: its last
        request, or the moment it was seen drawn after it, whichever is later."""
        deadline = time.monotonic() + timeout
        drawn_at = None
        while time.monotonic() < deadline:
            page.wait_for_timeout(50)  # lets Playwright dispatch the events
            if drawn_at is not None and drawn_at < self.last_activity:
                drawn_at = None  # more requests since: the page was not done
            if drawn_at is None and self.in_flight == 0 and page.evaluate(DRAWN):
                drawn_at = time.monotonic()
            if (drawn_at is not None and self.in_flight == 0
                    and time.monotonic() - self.last_activity >= quiet):
                return max(self.last_activity, drawn_at)
        raise TimeoutError(f"step {self.step!r} did not settle within {timeout:.0f} s")


# A page is drawn when no Dash loading spinner shows, every grid has its rows (or its
# no-rows overlay) and every chart its SVG.
DRAWN = """() => !document.querySelector('[data-dash-is-loading="true"]')
  && Array.from(document.querySelectorAll('.qloop-grid')).every(
       g => g.querySelector('.ag-row, .ag-overlay-no-rows-center'))
  && Array.from(document.querySelectorAll('.dash-graph')).every(g => g.querySelector('.main-svg'))"""


# The options of the open Dash 4 dropdown (radio items are listboxes of options too).
OPEN_OPTIONS = ".dash-dropdown-options [role=option]"


def choose(page, dropdown_id: str, value: str) -> None:
    """Pick a value in a Dash 4 dropdown (a button opening a listbox of radio options)."""
    page.click(f"#{dropdown_id}")
    page.click(f"{OPEN_OPTIONS}:has(input[value='{value}'])")


def option_values(page, dropdown_id: str) -> list[str]:
    """The values a Dash 4 dropdown offers (opens it and closes it again)."""
    page.click(f"#{dropdown_id}")
    page.wait_for_selector(f"{OPEN_OPTIONS} input")
    values = page.eval_on_selector_all(f"{OPEN_OPTIONS} input", "els => els.map(e => e.value)")
    page.keyboard.press("Escape")
    return values


def pick_other(page, recorder: Recorder, dropdown_id: str, step: str,
               prefer: tuple[str, ...] = ()) -> str | None:
    """Choose a value other than the current one (a preferred one when offered)."""
    values = option_values(page, dropdown_id)
    current = page.eval_on_selector(f"#{dropdown_id}", "e => e.innerText") or ""
    candidates = [v for v in prefer if v in values] + values
    choice = next((v for v in candidates if not current.strip().startswith(v)), None)
    if choice is None:
        recorder.silent.append(step)
        print(f"bench-board: WARNING: {step!r}: {dropdown_id} offers no other value", flush=True)
    else:
        act(page, recorder, step, lambda: choose(page, dropdown_id, choice))
    return choice


def act(page, recorder: Recorder, step: str, action) -> None:
    """Run a browser action under a step label and wait until its callbacks are done; an
    action that fired no callback is noted (a control the script failed to work)."""
    recorder.step = step
    before = len(recorder.requests)
    action()
    recorder.settle(page)
    if not any(r.output for r in recorder.requests[before:]):
        recorder.silent.append(step)
        print(f"bench-board: WARNING: {step!r} fired no callback", flush=True)


def visit(page, recorder: Recorder, base_url: str, path: str, step: str | None = None) -> float:
    """Open a page; the ms from navigation to the last request of its callbacks."""
    page.goto("about:blank")  # leaving a heavy page can take seconds: not this page's load
    recorder.step = step or f"page {path}"
    started = time.monotonic()
    page.goto(base_url + path, wait_until="load")
    page.wait_for_selector("#_pages_content > *", timeout=60_000)
    end = recorder.settle(page)
    return (end - started) * 1000


def exercise(base_url: str, kpi_codes: list[str], browser_repeat: int
             ) -> tuple[Recorder, dict[str, list[float]], dict[str, str]]:
    """Chromium through every page and control. Returns the recorder (requests, actions that
    fired nothing), the browser page-load times (ms) per page, and the session cookie header
    for the replay."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            page.set_default_timeout(60_000)
            recorder = Recorder(base_url)
            recorder.attach(page)
            login(page, base_url)
            pages = page_paths(page, recorder, base_url, kpi_codes)
            loads = {path: [visit(page, recorder, base_url, path)] for path in pages}
            work_controls(page, recorder, base_url)
            # repeat visits (cached assets, warm server): what a user sees on the next load
            for _ in range(browser_repeat):
                for path in pages:
                    loads[path].append(visit(page, recorder, base_url, path,
                                             step=f"browser-repeat {path}"))
            cookies = "; ".join(f"{c['name']}={c['value']}" for c in context.cookies())
        finally:
            browser.close()
    return recorder, loads, {"Cookie": cookies}


def login(page, base_url: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("input[name=username]", DEMO_QM)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def page_paths(page, recorder: Recorder, base_url: str, kpi_codes: list[str]) -> list[str]:
    """Every page: overview, every KPI, issues (and a filtered link), one issue (the first
    of the list), the department picker and a department's closure list, ranking, the
    change register and one change (the first), post-evaluation, hotspots, health."""
    visit(page, recorder, base_url, "/issues", step="find an issue")
    first = page.get_attribute("#issues-table .ag-center-cols-container .ag-row", "row-id")
    visit(page, recorder, base_url, "/changes", step="find a change")
    change = page.eval_on_selector_all(
        "#changes-content a[href^='/changes/']",
        "links => links.map(a => a.getAttribute('href'))")
    return (["/", *(f"/kpi/{code}" for code in kpi_codes), "/issues",
             "/issues?state=open&severity=P2", f"/issues/{first}", "/department",
             "/department/FIELD", "/ranking", "/changes", *change[:1], "/post-evaluation",
             "/hotspots", "/health"])


def heatmap_cell(page) -> tuple[float, float] | None:
    """Where the hotspot heatmap has a cell that holds a value. Plotly answers a click with
    clickData only over a point it can hover, and an empty cell (a region without that
    category) has none: the plot is scanned on a grid, from the middle out, for the first
    hover label."""
    box = page.locator("#hotspot-heatmap .nsewdrag").first.bounding_box()
    steps = (0.5, 0.3, 0.7, 0.1, 0.9, 0.2, 0.8, 0.4, 0.6)
    for fy in steps:
        for fx in steps:
            x, y = box["x"] + box["width"] * fx, box["y"] + box["height"] * fy
            page.mouse.move(x, y)
            page.wait_for_timeout(60)  # plotly throttles hover
            if page.locator("#hotspot-heatmap .hoverlayer .hovertext").count():
                return x, y
    return None


def click_at(page, x: float, y: float) -> None:
    page.mouse.move(x, y)
    page.wait_for_timeout(60)
    page.mouse.down()
    page.mouse.up()


def work_controls(page, recorder: Recorder, base_url: str) -> None:
    """Every interactive control at least once (the callbacks behind them fire)."""
    # overview: period type (its period list, then the content), a period, a region
    visit(page, recorder, base_url, "/", step="controls /")
    for period_type in ("week", "month", "day"):
        act(page, recorder, f"overview period type {period_type}",
            lambda: page.click(f"#overview-period-type input[value='{period_type}']"))
    pick_other(page, recorder, "overview-period", "overview period")
    pick_other(page, recorder, "overview-region", "overview region", prefer=("NJ",))

    # KPI pages: region and period type re-render the content and its drill-down; K02 has
    # the hotline's agent / team / site / management views
    for code, region in (("K01", "NJ"), ("K12", "SZ"), ("K15", "WX"), ("K02", "NJ")):
        visit(page, recorder, base_url, f"/kpi/{code}", step=f"controls /kpi/{code}")
        pick_other(page, recorder, "kpi-region", f"kpi {code} region", prefer=(region,))
        if code != "K15":  # a month KPI: its day option is disabled
            act(page, recorder, f"kpi {code} period month",
                lambda: page.click("#kpi-period-type input[value='month']"))
    visit(page, recorder, base_url, "/kpi/K02", step="controls /kpi/K02 hotline")
    for tab in ("team", "site", "management"):
        act(page, recorder, f"kpi K02 tab {tab}", lambda: page.click(f"#hotline-tab-{tab}"))
        if tab != "management":
            pick_other(page, recorder, f"hotline-{tab}", f"kpi K02 pick {tab}")
    act(page, recorder, "kpi K02 tab agent", lambda: page.click("#hotline-tab-agent"))
    pick_other(page, recorder, "hotline-agent", "kpi K02 pick agent")

    # issue list: each filter, then the overdue box
    visit(page, recorder, base_url, "/issues", step="controls /issues")
    for name, prefer in (("state", ("open",)), ("severity", ("P2",)),
                         ("department", ("FIELD",)), ("region", ("JS",))):
        pick_other(page, recorder, f"issues-filter-{name}", f"issues filter {name}", prefer)
    act(page, recorder, "issues filter overdue",
        lambda: page.click("#issues-filter-overdue input[type=checkbox]"))
    pick_other(page, recorder, "issues-filter-kpi", "issues filter kpi", ("K02",))
    # the grid's own controls: a column hidden, the filtered rows exported (in the browser)
    act(page, recorder, "issues grid columns",
        lambda: page.click("#issues-table .grid-columns summary") or page.click(
            "#issues-table .grid-column-list input[value='responsible']"))
    act(page, recorder, "issues grid export", lambda: page.click("#issues-table .grid-export"))

    # the change register: each filter; post-evaluation: department and verdict
    visit(page, recorder, base_url, "/changes", step="controls /changes")
    for name in ("state", "department"):
        pick_other(page, recorder, f"changes-filter-{name}", f"changes filter {name}")
    visit(page, recorder, base_url, "/post-evaluation", step="controls /post-evaluation")
    for name in ("department", "verdict"):
        pick_other(page, recorder, f"post-evaluation-{name}", f"post-evaluation {name}")

    # hotspots: a cell of the heatmap (its series); the complaints behind a hotspot, paged
    # (a top mover's series, until one fills a second page); the day, the source; a series
    # by source, region and period
    visit(page, recorder, base_url, "/hotspots", step="controls /hotspots")
    cell = heatmap_cell(page)
    if cell:
        act(page, recorder, "hotspots heatmap cell", lambda: click_at(page, *cell))
    else:
        recorder.silent.append("hotspots heatmap cell")
        print("bench-board: WARNING: the hotspot heatmap has no cell with a value", flush=True)
    next_page = "#hotspot-complaints-next:not([disabled])"
    movers = page.eval_on_selector_all(".hotspot-series-link",
                                       "links => links.map(a => a.getAttribute('href'))")
    for href in movers[:10]:
        visit(page, recorder, base_url, href, step="controls /hotspots series")
        if page.locator(next_page).count():
            act(page, recorder, "hotspots complaints next", lambda: page.click(next_page))
            break
    else:
        recorder.silent.append("hotspots complaints next")
        print("bench-board: WARNING: no top mover with a second page of complaints", flush=True)
    visit(page, recorder, base_url, "/hotspots", step="controls /hotspots")
    pick_other(page, recorder, "hotspot-day", "hotspots day")
    act(page, recorder, "hotspots source", lambda: page.click(
        "#hotspot-source input:not(:checked)"))
    pick_other(page, recorder, "hotspot-series-source", "hotspots series source")
    pick_other(page, recorder, "hotspot-series-region", "hotspots series region")
    act(page, recorder, "hotspots period", lambda: page.click(
        "#hotspot-period input:not(:checked)"))

    # ranking: another month
    visit(page, recorder, base_url, "/ranking", step="controls /ranking")
    pick_other(page, recorder, "ranking-month", "ranking month")


# ---------------------------------------------------------------------------- the replay

class Client:
    """Plain HTTP over one keep-alive connection, as a browser tab would use."""

    def __init__(self, base_url: str, cookie_headers: dict[str, str]):
        parsed = urllib.parse.urlsplit(base_url)
        self.host, self.port = parsed.hostname, parsed.port
        self.cookies = cookie_headers
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)

    def send(self, record: Recorded) -> tuple[float, int, int]:
        """(ms from sending to the last byte of the answer, status, body bytes)."""
        headers = {k: v for k, v in record.headers.items() if k.lower() not in SKIP_HEADERS}
        headers.update(self.cookies)
        body = record.body.encode() if record.body is not None else None
        started = time.perf_counter()
        try:
            self.conn.request(record.method, record.path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except (http.client.HTTPException, OSError):
            self.conn.close()  # the server closed an idle connection: reconnect once
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
            started = time.perf_counter()
            self.conn.request(record.method, record.path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        return (time.perf_counter() - started) * 1000, response.status, len(data)

    def close(self) -> None:
        self.conn.close()


def is_excluded(output: str, dependencies: list[dict]) -> bool:
    spec = next((d for d in dependencies if d["output"] == output), None)
    return bool(spec) and any(isinstance(i["id"], str) and i["id"].startswith(EXCLUDED_INPUTS)
                              for i in spec["inputs"])


def page_chains(requests: list[Recorded]) -> dict[str, list[Recorded]]:
    """Per page: the server requests of its first visit (shell, layout, dependencies, the
    callbacks in the order they fired); static assets (browser-cached) left out."""
    chains: dict[str, list[Recorded]] = {}
    for r in requests:
        if not r.step.startswith("page "):
            continue
        static = r.path.startswith(("/_dash-component-suites", "/assets", "/_favicon"))
        if static or (r.path.startswith(CALLBACK_PATH) and r.output is None):
            continue
        chains.setdefault(r.step[len("page "):], []).append(r)
    return chains


def interaction_requests(requests: list[Recorded]) -> list[Recorded]:
    """The callbacks fired by controls (not by a page's first load), one per distinct body."""
    seen, found = set(), []
    for r in requests:
        if r.output is None or r.step.startswith(("page ", "browser-repeat", "find ", "login")):
            continue
        key = (r.output, r.body)
        if key not in seen:
            seen.add(key)
            found.append(r)
    return found


def _label(record: Recorded) -> str:
    if record.output:
        return "callback " + record.output
    return record.method + " " + record.path.split("?")[0]


def replay(client: Client, requests: list[Recorded], chains: dict[str, list[Recorded]],
           repeat: int) -> tuple[list[dict], dict[str, list[float]]]:
    """Every interaction callback `repeat` times; every page chain `repeat` times (each of
    its requests timed too). Returns per-request samples and per-page chain totals."""
    samples: list[dict] = []
    totals: dict[str, list[float]] = {path: [] for path in chains}
    for round_ in range(repeat):
        for path, chain in chains.items():
            total = 0.0
            for record in chain:
                ms, status, size = client.send(record)
                total += ms
                samples.append({"kind": "page", "case": path, "label": _label(record),
                                "output": record.output, "ms": ms, "status": status,
                                "bytes": size, "round": round_})
            totals[path].append(total)
        for record in requests:
            ms, status, size = client.send(record)
            samples.append({"kind": "control", "case": record.step, "label": _label(record),
                            "output": record.output, "ms": ms, "status": status,
                            "bytes": size, "round": round_})
        if (round_ + 1) % 10 == 0:
            print(f"bench-board:   replay round {round_ + 1}/{repeat} done", flush=True)
    return samples, totals


def dependencies(base_url: str, cookie_headers: dict[str, str]) -> list[dict]:
    request = urllib.request.Request(f"{base_url}/_dash-dependencies", headers=cookie_headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


# ------------------------------------------------------------------------------ reporting

def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (no interpolation: a value that was actually measured)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n q / 100)
    return ordered[int(rank) - 1]


def stats(values: list[float]) -> dict:
    return {"count": len(values), "p50": round(percentile(values, 50), 1),
            "p95": round(percentile(values, 95), 1), "max": round(max(values), 1),
            "mean": round(statistics.fmean(values), 1)}


def callback_rows(samples: list[dict]) -> list[dict]:
    """One row per callback (output spec), every case pooled; its slowest case named."""
    by_output: dict[str, list[dict]] = {}
    for s in samples:
        if s["output"]:
            by_output.setdefault(s["output"], []).append(s)
    rows = []
    for output, found in by_output.items():
        by_case: dict[str, list[float]] = {}
        for s in found:
            by_case.setdefault(s["case"], []).append(s["ms"])
        slowest = max(by_case, key=lambda c: percentile(by_case[c], 95))
        statuses = sorted({s["status"] for s in found})
        rows.append({"output": output, "cases": len(by_case), **stats([s["ms"] for s in found]),
                     "slowest_case": slowest, "slowest_case_p95": round(percentile(by_case[slowest], 95), 1),
                     "statuses": statuses,
                     "per_case": {c: stats(v) for c, v in by_case.items()}})
    return sorted(rows, key=lambda r: -r["p95"])


def page_rows(totals: dict[str, list[float]], chains: dict[str, list[Recorded]],
              samples: list[dict], loads: dict[str, list[float]]) -> list[dict]:
    rows = []
    for path, values in totals.items():
        own = [s for s in samples if s["kind"] == "page" and s["case"] == path]
        by_label: dict[str, list[float]] = {}
        for s in own:
            by_label.setdefault(s["label"], []).append(s["ms"])
        slowest = max(by_label, key=lambda k: percentile(by_label[k], 95))
        browser = loads.get(path, [])
        rows.append({"page": path, "requests": len(chains[path]), **stats(values),
                     "slowest_request": slowest,
                     "slowest_request_p95": round(percentile(by_label[slowest], 95), 1),
                     "browser_first_ms": round(browser[0], 0) if browser else None,
                     "browser_repeat_ms": [round(v, 0) for v in browser[1:]]})
    return rows


def _short(output: str, width: int = 58) -> str:
    """A callback's outputs without Dash's '..' multi-output framing and @hash suffixes."""
    parts = [p.split("@")[0] for p in output.strip(".").split("...")]
    text = " + ".join(parts)
    return text if len(text) <= width else text[:width - 1] + "…"


def render(result: dict) -> str:
    cb, pages = result["callbacks"], result["pages"]
    lines = [f"{'callback (outputs)':<58} {'cases':>5} {'n':>5} {'p50':>7} {'p95':>7} "
             f"{'max':>7}  p95<100  slowest case (p95)"]
    for r in cb:
        ok = "yes" if r["p95"] < TARGET_MS else "NO"
        lines.append(f"{_short(r['output']):<58} {r['cases']:>5} {r['count']:>5} {r['p50']:>7.1f} "
                     f"{r['p95']:>7.1f} {r['max']:>7.1f}  {ok:<7}  {r['slowest_case'][:40]} "
                     f"({r['slowest_case_p95']:.0f})")
    lines += ["", f"{'page load (server chain: shell, layout, deps, callbacks)':<58} {'reqs':>5} "
              f"{'n':>5} {'p50':>7} {'p95':>7} {'max':>7}  browser first / repeat p50 (ms)"]
    for r in pages:
        repeat = f"{statistics.median(r['browser_repeat_ms']):,.0f}" if r["browser_repeat_ms"] else "-"
        lines.append(f"{r['page']:<58} {r['requests']:>5} {r['count']:>5} {r['p50']:>7.1f} "
                     f"{r['p95']:>7.1f} {r['max']:>7.1f}  {r['browser_first_ms'] or 0:,.0f} / {repeat}")
    overall = result["overall"]
    lines += [
        "",
        f"overall callback p95 = {overall['p95']:.1f} ms (p50 {overall['p50']:.1f}, max "
        f"{overall['max']:.1f}, {overall['count']:,} requests); slowest callback p95 = "
        f"{cb[0]['p95']:.1f} ms ({_short(cb[0]['output'], 80)}); callbacks with p95 >= "
        f"{TARGET_MS:.0f} ms: {sum(r['p95'] >= TARGET_MS for r in cb)} of {len(cb)}",
        f"coverage: {len(result['coverage']['fired'])} of {result['coverage']['server_callbacks']} "
        f"server callbacks fired; excluded: {len(result['coverage']['excluded'])}; never fired: "
        + (", ".join(_short(o, 60) for o in result["coverage"]["never_fired"]) or "none"),
    ]
    if result["coverage"]["excluded"]:
        lines.append("excluded, the callbacks of " + ", ".join(
            "+".join(e["inputs"]) for e in result["coverage"]["excluded"]) + f" ({EXCLUDED_WHY})")
    if result["silent_actions"]:
        lines.append("ACTIONS THAT FIRED NO CALLBACK: " + ", ".join(result["silent_actions"]))
    if result["errors"]:
        lines.append("NON-200 ANSWERS: " + "; ".join(result["errors"][:10]))
    lines.append(describe_home(result["home"]))
    lines.append(f"replay: {result['repeat']} rounds, one request at a time over one keep-alive "
                 f"connection; load average before -> after {result['load_before']} -> "
                 f"{result['load_after']}; {os.cpu_count()} CPUs")
    return "\n".join(lines)


def coverage(deps: list[dict], requests: list[Recorded]) -> dict:
    """The app's server callbacks against those the browser pass fired."""
    server = [d for d in deps if not d.get("clientside_function")]
    fired = sorted({r.output for r in requests if r.output})
    unfired = [d for d in server if d["output"] not in fired]
    excluded = [{"output": d["output"], "inputs": [f"{i['id']}.{i['property']}" for i in d["inputs"]]}
                for d in unfired if is_excluded(d["output"], deps)]
    never = sorted(d["output"] for d in unfired if not is_excluded(d["output"], deps))
    return {"server_callbacks": len(server), "clientside": len(deps) - len(server),
            "fired": fired, "excluded": excluded, "excluded_why": EXCLUDED_WHY,
            "never_fired": never}


# ------------------------------------------------------------------------------ the run

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.bench_board", description=__doc__.split("\n\n")[0])
    ap.add_argument("--days", type=int, default=90, help="business days of data (default 90)")
    ap.add_argument("--scale", type=float, default=1.0, help="1.0 = province scale (default)")
    ap.add_argument("--cache", type=Path,
                    help="the home's cache folder (default $XDG_CACHE_HOME/qloop-bench/board-<days>d-x<scale>)")
    ap.add_argument("--rebuild", action="store_true", help="build the home again even if cached")
    ap.add_argument("--republish", action="store_true",
                    help="publish board.duckdb again from the cached warehouse first (after a "
                         "change to publish.py; seconds, not a rebuild)")
    ap.add_argument("--build-only", action="store_true", help="build (or check) the cache, measure nothing")
    ap.add_argument("--build-timeout", type=float, default=5400,
                    help="kill a build step after this many seconds (default 5400)")
    ap.add_argument("--repeat", type=int, default=30, help="replays of each request (default 30)")
    ap.add_argument("--browser-repeat", type=int, default=3,
                    help="extra browser visits of each page, timed (default 3)")
    args = ap.parse_args(argv)

    cache = (args.cache or default_cache(args.days, args.scale)).resolve()
    built = ensure_home(cache, args.days, args.scale, args.rebuild, args.build_timeout)
    if args.republish and built["reused"]:
        built = republish(cache, built)
    print(describe_home(built), flush=True)
    if args.build_only:
        return 0

    home = cache / "home"
    load_before = load_average()
    with serving(home, cache / "board.log") as url:
        print(f"bench-board: board on {url}; chromium through every page and control", flush=True)
        started = time.time()
        recorder, loads, cookies = exercise(url, catalog_codes(home), args.browser_repeat)
        requests = recorder.requests
        print(f"bench-board: browser pass {time.time() - started:,.0f} s, {len(requests)} requests "
              f"recorded; replaying {args.repeat}x", flush=True)
        deps = dependencies(url, cookies)
        chains = page_chains(requests)
        controls = [r for r in interaction_requests(requests)
                    if not is_excluded(r.output, deps)]
        client = Client(url, cookies)
        try:
            samples, totals = replay(client, controls, chains, args.repeat)
        finally:
            client.close()
    callback_samples = [s["ms"] for s in samples if s["output"]]
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S"), "days": args.days, "scale": args.scale,
        "repeat": args.repeat, "browser_repeat": args.browser_repeat, "cpus": os.cpu_count(),
        "load_before": load_before, "load_after": load_average(), "home": built,
        "target_ms": TARGET_MS, "overall": stats(callback_samples),
        "callbacks": callback_rows(samples), "pages": page_rows(totals, chains, samples, loads),
        "coverage": coverage(deps, requests), "silent_actions": recorder.silent,
        "errors": sorted({f"{s['label'][:60]} -> {s['status']}" for s in samples
                          if s["status"] not in (200, 204)}),
        "recorded": [vars(r) for r in requests], "samples": samples,
    }
    text = render(result)
    print()
    print(text)
    result["table"] = text
    out = cache / RESULTS
    out.write_text(json.dumps(result, indent=1, default=str, ensure_ascii=False))
    print(f"\nresults: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
