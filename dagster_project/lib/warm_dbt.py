"""A warm dbt: one process imports dbt once, and each dbt invocation is a fork of it.

Every `dbt` process spends ~2-3 s importing dbt-core, its adapter and their dependencies
before it reads a file, and a pipeline run starts two (the main build and the one after
detection). Here, a server process started with the run (`WarmDbt`) imports them once,
then waits. dagster-dbt still starts a process per invocation and reads its stdout, as
with the real dbt: that process is `qloop-dbt` (this module's `launch`), which hands
its arguments, environment, working folder and its stdin/stdout/stderr to the server
over a Unix socket. The server forks; the child runs dbt's own command-line entry point
on those file descriptors, so dagster-dbt reads dbt's JSON events from the child as it
would from a dbt process. `qloop-dbt` forwards SIGINT and SIGTERM (dagster-dbt stops dbt
with SIGINT) to the child and exits with its exit code.

Without a server (the variable SOCKET_ENV unset, or nobody listening), `qloop-dbt` is
the real dbt: it execs it. Each invocation is a fresh fork of a process that has only
imported modules, so no dbt state passes from one invocation to the next.

Only the standard library is imported at module level: `qloop-dbt` must start fast.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

SOCKET_ENV = "QLOOP_DBT_SERVER"
# What a dbt build imports: the CLI at start-up, the rest on its first use in a build
# (found by comparing sys.modules before and after a build).
WARM_MODULES = (
    "dbt.cli.main", "dbt.adapters.duckdb", "dbt.adapters.duckdb.impl", "dbt.adapters.sql.impl",
    "dbt.task.build", "dbt.compilation", "dbt.parser.sql", "dbt_common.clients.agate_helper",
    "sqlparse", "multiprocessing.dummy", "babel.dates",
)
HEADER = 8  # bytes of the request's length, sent with the three file descriptors


def real_dbt() -> str:
    """The dbt beside this interpreter (a venv that is not activated is not on PATH)."""
    return str(Path(sys.executable).with_name("dbt"))


# ------------------------------------------------------------------ the launcher (qloop-dbt)

def _become_real_dbt(args: list[str]) -> NoReturn:
    dbt = real_dbt()
    os.execv(dbt, [dbt, *args])


def launch() -> int:
    """`qloop-dbt ARGS`: dbt ARGS, run by the warm server when there is one."""
    args = sys.argv[1:]
    path = os.environ.get(SOCKET_ENV)
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(path or "")
    except OSError:  # no server: the real dbt, in this process
        conn.close()
        _become_real_dbt(args)
    request = json.dumps({"argv": args, "cwd": os.getcwd(), "env": dict(os.environ)}).encode()
    socket.send_fds(conn, [len(request).to_bytes(HEADER, "big")], [0, 1, 2])
    conn.sendall(request)
    answers = conn.makefile("rb")
    pid_line = answers.readline()
    if not pid_line:  # the server ended before it forked: nothing ran, so run dbt here
        _become_real_dbt(args)
    child = int(pid_line)

    def forward(signum, _frame):
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signum)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    status = answers.readline()
    if not status:
        print(f"qloop-dbt: the dbt process {child} ended without an exit status", file=sys.stderr)
        return 1
    return int(status)


# ------------------------------------------------------------------ the server

def _recv_exactly(conn: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = conn.recv(min(left, 1 << 16))
        if not chunk:
            raise ConnectionError("the launcher closed the connection")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _end_with_launcher(conn: socket.socket) -> None:
    """The launcher never writes after its request: the connection ends when it does. A dbt
    whose launcher was killed would otherwise hold the warehouse's lock until it finished."""
    with contextlib.suppress(OSError):
        conn.recv(1)
    os.kill(os.getpid(), signal.SIGKILL)


def _run_child(conn: socket.socket) -> None:
    """In the forked child: become the launcher's dbt process, run dbt, report, exit."""
    code = 1
    try:
        header, fds, _flags, _addr = socket.recv_fds(conn, HEADER, 3)
        request = json.loads(_recv_exactly(conn, int.from_bytes(header, "big")))
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        signal.signal(signal.SIGINT, signal.default_int_handler)  # dbt stops on SIGINT
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        conn.sendall(f"{os.getpid()}\n".encode())
        threading.Thread(target=_end_with_launcher, args=(conn,), daemon=True).start()
        from dbt.cli.main import cli

        sys.argv = ["dbt", *request["argv"]]
        try:
            cli()  # click's standalone mode ends with SystemExit
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except BaseException:  # noqa: BLE001 - reported on the launcher's stderr, exit 1
        import traceback

        traceback.print_exc()
    finally:
        # The exit handlers (multiprocessing's semaphores, logging), not the interpreter's
        # teardown: freeing a dbt manifest's objects one by one takes ~1 s.
        with contextlib.suppress(BaseException):
            import atexit

            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
        with contextlib.suppress(OSError):
            conn.sendall(f"{code}\n".encode())
        os._exit(code)


def serve(socket_path: str) -> None:
    """Listen first (a launcher that connects meanwhile waits), import dbt, then fork a
    child per connection until stdin closes (the run that started the server ended)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C stops the dbt child
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path)
    listener.listen(8)
    print("listening", flush=True)  # start() waits for this line
    import gc
    import importlib

    for module in WARM_MODULES:
        importlib.import_module(module)
    gc.collect()
    gc.freeze()  # the children's collections skip the imported modules' objects
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    with selectors.DefaultSelector() as selector:
        selector.register(listener, selectors.EVENT_READ)
        selector.register(sys.stdin, selectors.EVENT_READ)
        while True:
            for key, _ in selector.select():
                if key.fileobj is not listener:  # stdin: closed (or written to) by the run
                    # The run's stop() removes the folder too; a killed run cannot.
                    shutil.rmtree(Path(socket_path).parent, ignore_errors=True)
                    return
                conn, _addr = listener.accept()
                child = os.fork()
                if child == 0:
                    listener.close()
                    _run_child(conn)
                conn.close()
                print(f"dbt invocation in process {child}", file=sys.stderr, flush=True)


class WarmDbt:
    """The server for one run: start() before the dbt steps, stop() after them."""

    def __init__(self) -> None:
        self.folder: Path | None = None
        self.process: subprocess.Popen | None = None

    def start(self) -> bool:
        """Start the server; False when it could not (its log says why)."""
        # A folder only this user can enter: whoever reaches the socket runs dbt as us.
        self.folder = Path(tempfile.mkdtemp(prefix="qloop-dbt-"))
        socket_path = str(self.folder / "socket")
        # Its own session: a run killed with its process group (a service manager's stop)
        # takes the server's stdin with it, and the server then removes this folder; in the
        # run's group it would die beside the run and leave the folder behind. Each dbt
        # child still dies with its launcher (`_end_with_launcher`).
        with open(self.folder / "server.log", "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", __name__, socket_path], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=log, start_new_session=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        # Once it listens, a launcher that connects waits for it to finish importing; one
        # that came before would find no socket and run a cold dbt. (An empty line: the
        # server could not start, and every invocation runs a cold dbt.)
        if not self.process.stdout.readline():
            return False
        os.environ[SOCKET_ENV] = socket_path
        return True

    def log(self) -> str:
        """What the server wrote: one line per dbt invocation, or why it failed."""
        path = self.folder / "server.log" if self.folder else None
        return path.read_text(encoding="utf-8", errors="replace") if path and path.exists() else ""

    def stop(self) -> None:
        os.environ.pop(SOCKET_ENV, None)
        if self.process is not None:
            self.process.stdin.close()
            self.process.stdout.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


@contextlib.contextmanager
def serving(on_failure: Callable[[str], None] | None = None) -> Iterator[None]:
    """A server for the block, unless one already serves this process: `qloop run` starts
    one before its Dagster imports, so dbt's imports overlap them; the run's dbt resource
    then uses it. `on_failure` gets the server's log when it could not start."""
    if os.environ.get(SOCKET_ENV):
        yield
        return
    server = WarmDbt()
    try:
        if not server.start() and on_failure:
            on_failure(server.log())
        yield
    finally:
        server.stop()


if __name__ == "__main__":
    serve(sys.argv[1])
