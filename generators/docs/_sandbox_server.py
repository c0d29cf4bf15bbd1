"""The pipeline's handle on one warm sandbox server process (see _sandbox_worker.py for the inside).

A server is started once and then runs one job per request, serially; it never runs LLM code itself, so
reusing it passes nothing from one job to the next (each job is a fresh fork that dies after the job).
Isolated servers live in their own namespaces and allow-listed root (via _sandbox_init.py); weak servers
are plain child processes. If a server stops answering, it is killed and the next job starts a new one.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import uuid
import weakref
from collections.abc import Sequence
from pathlib import Path

from generators.docs import _cgroups, _sandbox_root

_HERE = Path(__file__).resolve().parent
_INIT_SCRIPT = _HERE / "_sandbox_init.py"
_WORKER_SCRIPT = _HERE / "_sandbox_worker.py"
_HARNESS_SOURCES = _HERE / "renderers" / "harness"
NAMESPACE_FLAGS = ["--net", "--mount", "--pid", "--ipc", "--uts", "--fork", "--kill-child"]
START_TIMEOUT_S = 180.0  # a first matplotlib import builds its font list
REPLY_GRACE_S = 30.0  # the server enforces wall_s itself; this only catches a wedged server
STOP_TIMEOUT_S = 5.0

_live: weakref.WeakSet[SandboxServer] = weakref.WeakSet()


class ServerFailed(RuntimeError):
    """The server died or stopped answering; it has been killed."""


def sandbox_base() -> Path:
    base = Path(os.environ.get("PIXMO_SANDBOX_DIR", Path(tempfile.gettempdir()) / "pixmo-sandbox"))
    base.mkdir(mode=0o711, parents=True, exist_ok=True)
    return base


def runs_dir() -> Path:
    """Run directories, shared by all servers (each job only ever sees its own), plus the servers' caches
    (matplotlib's font list in .mplconfig), which no job can see."""
    path = sandbox_base() / "runs"
    path.mkdir(mode=0o711, exist_ok=True)
    return path


def server_env(isolate: bool) -> dict[str, str]:
    """The server's environment; /proc/<pid>/environ of every job shows it, so it names nothing."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "HOME": "/tmp",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": f"{_sandbox_root.RUNS_DIR}/.mplconfig" if isolate else str(runs_dir() / ".mplconfig"),
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",  # jobs inherit the server's hash seed: the same one on every start
    }
    if isolate:
        env.update(_sandbox_root.python_env())
    return env


class SandboxServer:
    """One server process. `harness` names a module in renderers/harness (a warm Python server), or None
    for a server that execs commands. Thread-safe: jobs from several threads take turns."""

    def __init__(
        self,
        *,
        isolate: bool,
        namespaces: str,
        cgroups: bool,
        harness: str | None = None,
        expose_ro: Sequence[str] = (),
    ) -> None:
        self.isolate = isolate
        self.namespaces = namespaces
        self.cgroups = cgroups  # the server gives every job its own pids + memory cgroup
        self.cgroup_prefix = f"pixmo-sandbox-{uuid.uuid4().hex[:8]}"
        self.harness = harness
        self.expose_ro = tuple(expose_ro)
        self.dir: Path | None = None
        self._proc: subprocess.Popen | None = None
        self._sock: socket.socket | None = None
        self._reader = None
        self._lock = threading.Lock()
        self._owner = os.getpid()
        _live.add(self)

    @property
    def runs_dir(self) -> Path:
        """Where run directories go: the server sees this directory at /runs (isolated) or as is (weak)."""
        return runs_dir()

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None and self._owner == os.getpid()

    def start(self) -> None:
        with self._lock:
            self._start_locked()

    def _start_locked(self) -> None:
        if self.alive():
            return
        self._kill_locked()
        self._owner = os.getpid()
        self.dir = Path(tempfile.mkdtemp(prefix="srv-", dir=sandbox_base()))
        ours, theirs = socket.socketpair()
        worker_cfg = {
            "isolate": self.isolate,
            "control_fd": theirs.fileno(),
            "harness": self.harness,
            "harness_dir": _sandbox_root.HARNESS_DIR if self.isolate else str(_HARNESS_SOURCES),
            "cgroups": self.cgroups,
            "cgroup_prefix": self.cgroup_prefix,
            "cgroup_parents": {c: str(d) for c, d in _cgroups.own_cgroup_dirs().items()} if self.cgroups else {},
        }
        env = server_env(self.isolate)
        python = _sandbox_root.python_paths()
        if self.isolate:
            (self.dir / "root").mkdir()
            # -s rather than -I: the environment is ours entirely, and it sets PYTHONHASHSEED.
            interpreter = [python["venv"], "-s"] if self.harness else [python["base"], "-S", "-s"]
            cfg = {
                "root": str(self.dir / "root"),
                "plan": _sandbox_root.root_plan(str(self.runs_dir), self.expose_ro),
                "worker": worker_cfg,
                "exec": [*interpreter, f"{_sandbox_root.PIXMO_DIR}/worker.py"],
                "env": env,
            }
            userns = ["--user", "--map-root-user"] if self.namespaces == "userns" else []
            real_python = os.path.realpath(sys.executable)
            cmd = [shutil.which("unshare"), *userns, *NAMESPACE_FLAGS, "--", real_python, "-S", str(_INIT_SCRIPT)]
            payload = cfg
        else:
            cmd = [sys.executable, "-s", str(_WORKER_SCRIPT)]
            payload = worker_cfg
        with open(self.dir / "server.log", "wb") as log:
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=log,
                pass_fds=(theirs.fileno(),),
                start_new_session=True,
                env=env,
            )
        theirs.close()
        self._sock = ours
        self._reader = ours.makefile("rb")
        try:
            self._proc.stdin.write(json.dumps(payload).encode())
            self._proc.stdin.close()
            reply = self._receive(START_TIMEOUT_S)
        except (OSError, ServerFailed) as e:
            log_tail = self._log_tail()
            self._kill_locked()
            raise ServerFailed(f"sandbox server did not start: {e}; {log_tail}") from e
        if not reply.get("ready"):
            self._kill_locked()
            raise ServerFailed(f"sandbox server did not start: {reply}")

    def _log_tail(self) -> str:
        try:
            text = (self.dir / "server.log").read_text(errors="replace")
        except (OSError, TypeError):
            return ""
        lines = [ln for ln in text.strip().splitlines() if ln.strip()]
        return lines[-1][:300] if lines else ""

    def _receive(self, timeout_s: float) -> dict:
        self._sock.settimeout(timeout_s)
        try:
            line = self._reader.readline()
        except (TimeoutError, OSError) as e:
            raise ServerFailed(f"no answer within {timeout_s:.0f} s") from e
        if not line:
            raise ServerFailed("the server exited")
        return json.loads(line)

    def run(self, request: dict) -> dict:
        """Send one job, wait for its end: {"status": {...}, "timed_out": bool}. Raises ServerFailed."""
        with self._lock:
            self._start_locked()
            try:
                self._sock.sendall(json.dumps(request).encode() + b"\n")
                return self._receive(request["wall_s"] + REPLY_GRACE_S)
            except (OSError, ServerFailed) as e:
                tail = self._log_tail()
                self._kill_locked()
                raise ServerFailed(f"sandbox server failed: {e}; {tail}".rstrip("; ")) from e

    def _kill_locked(self) -> None:
        if self._owner != os.getpid():  # inherited through fork: the parent's server, not ours to stop
            self._proc = self._sock = self._reader = None
            return
        if self._sock is not None:
            self._sock.close()  # EOF: a healthy server tidies up its waiting job and exits
        if self._proc is not None:
            try:
                self._proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(self._proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._proc.wait()
            if self.cgroups:
                _cgroups.remove_leftovers(self.cgroup_prefix)
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
        self._proc = self._sock = self._reader = None
        self.dir = None

    def close(self) -> None:
        with self._lock:
            self._kill_locked()


def close_all() -> None:
    for server in list(_live):
        server.close()


atexit.register(close_all)
