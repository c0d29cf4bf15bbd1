"""Run hostile, LLM-written programs (Python scripts, pdflatex, dot, ...) in a contained child process.

Layers, each checked at first use (see `capabilities()`):
  * namespaces via util-linux `unshare`: no network (empty net namespace), private mount, IPC and UTS
    namespaces, and per job a fresh PID namespace, so that every process a program starts dies with it
    and /proc shows only the job's own processes;
  * an allow-listed root (`_sandbox_root.py`, entered with pivot_root): /usr, a minimal /etc, fonts, the
    TeX tree and the interpreter with its packages, read-only at neutral paths (/opt/python, /opt/venv),
    the run's own directory read-write at /job, an empty /tmp; no other host directory exists in there;
  * when running as root: a fresh unprivileged uid per run plus no_new_privs, so RLIMIT_NPROC bites and
    root-owned files stay unreadable (in a user namespace instead: every capability dropped);
  * a per-run pids + memory cgroup when /sys/fs/cgroup is writable;
  * rlimits (CPU, address space, file size, processes, open files), a wall-clock timeout that kills the
    job's whole PID namespace, a scrubbed environment, and stdout/stderr captured to files capped in size.
A missing layer makes the sandbox refuse to run (SandboxUnavailable, naming it) unless
PIXMO_SANDBOX_ALLOW_WEAK=1, which runs with what there is.

Programs run as jobs of warm sandbox servers (`_sandbox_server.py`, `_sandbox_worker.py`): `run_sandboxed`
borrows an exec server from a small per-process pool; `WarmPython` is one renderer's own server, which has
imported its libraries once and forks a fresh job per render, so LLM code never pays for a new interpreter.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from generators.docs import _cgroups, _sandbox_root
from generators.docs._sandbox_server import NAMESPACE_FLAGS, SandboxServer, ServerFailed

REPO_ROOT = Path(__file__).resolve().parents[2]
# Unprivileged uids come from a range no real account uses, one per run, so per-uid limits are per run.
_UID_RANGE = (1_500_000, 1_999_999)
_TAIL_BYTES = 16 * 1024
_POOL_IDLE_MAX = 4


class SandboxUnavailable(RuntimeError):
    """Raised when an isolation layer is missing and weak mode was not allowed."""


@dataclass(frozen=True)
class Limits:
    wall_s: float = 20.0
    cpu_s: int = 20
    memory_bytes: int = 2 << 30
    max_procs: int = 64
    file_bytes: int = 32 << 20  # largest file (stdout/stderr included) the program may write
    # RLIMIT_AS per process; None means memory_bytes. V8-based tools reserve hundreds of GB of address
    # space they never touch, so they need a large value here and rely on the memory cgroup instead.
    # A warm Python job adds the address space its parent had already mapped.
    address_space_bytes: int | None = None


@dataclass
class SandboxResult:
    ok: bool
    returncode: int | None  # exit code; -N when killed by signal N; None on timeout / setup failure
    reason: str  # "" when ok, else e.g. "timeout", "memory", "exception: ValueError: x"
    stdout: str  # tails, at most 16 KiB each
    stderr: str
    files: dict[str, int] = field(default_factory=dict)  # produced file (relative path) -> size
    outputs: dict[str, bytes] = field(default_factory=dict)  # the requested `collect` files that exist
    seconds: float = 0.0
    isolation: str = ""


@dataclass(frozen=True)
class Capabilities:
    namespaces: str  # "root" (unshare as root), "userns" (unshare --user), or "" (none)
    drop_uid: bool
    cgroups: bool
    root: bool = False  # the allow-listed root could be built and entered

    def describe(self) -> str:
        parts = [
            f"namespaces={self.namespaces or 'none'}",
            f"root={'allowlist' if self.isolated else 'host'}",
            f"uid_drop={self.drop_uid}",
            f"cgroups={self.cgroups}",
        ]
        return ",".join(parts)

    @property
    def isolated(self) -> bool:
        return bool(self.namespaces) and self.root

    def missing(self) -> list[str]:
        """The layers this machine lacks, in words."""
        gaps = []
        if not self.namespaces:
            gaps.append("namespaces (unshare failed: no user namespaces and not root)")
        elif not self.root:
            gaps.append("allow-listed root (mounting or pivot_root failed)")
        if self.namespaces == "root" and not self.drop_uid:
            gaps.append("uid drop")
        if not self.cgroups:
            gaps.append("cgroups (no writable pids+memory cgroup: per-run process and memory caps)")
        return gaps


@cache
def capabilities() -> Capabilities:
    """Probe once which isolation mechanisms work on this machine."""
    unshare = shutil.which("unshare")
    ns = ""
    if unshare:
        probes = [("root", [])] if os.geteuid() == 0 else []
        probes.append(("userns", ["--user", "--map-root-user"]))
        for name, extra in probes:
            cmd = [unshare, *extra, *NAMESPACE_FLAGS, "true"]
            if subprocess.run(cmd, capture_output=True, timeout=10).returncode == 0:
                ns = name
                break
    cg = _cgroups.create_run_cgroup(8, 64 << 20) if os.geteuid() == 0 else None
    if cg is not None:
        cg.destroy()
    root = False
    if ns:
        probe = SandboxServer(isolate=True, namespaces=ns, cgroups=False)
        try:
            probe.start()
            root = True
        except ServerFailed:
            pass
        finally:
            probe.close()
    return Capabilities(namespaces=ns, drop_uid=os.geteuid() == 0 and ns == "root", cgroups=cg is not None, root=root)


def _checked_capabilities() -> Capabilities:
    caps = capabilities()
    missing = caps.missing()
    if missing and os.environ.get("PIXMO_SANDBOX_ALLOW_WEAK") != "1":
        raise SandboxUnavailable(
            f"sandbox layer(s) missing on this machine: {'; '.join(missing)}. "
            "Set PIXMO_SANDBOX_ALLOW_WEAK=1 to run without them."
        )
    return caps


def _base_env(workdir: str, isolated: bool) -> dict[str, str]:
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": workdir,
        "TMPDIR": workdir,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": f"{workdir}/.mplconfig",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    if isolated:
        env.update(_sandbox_root.python_env())
    return env


def _tail(path: Path) -> tuple[str, int]:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return "", 0
    with open(path, "rb") as f:
        f.seek(max(0, size - _TAIL_BYTES))
        return f.read().decode("utf-8", "replace"), size


def read_regular_file(path: Path, max_bytes: int) -> bytes | None:
    """Read a file the sandbox wrote without following symlinks (it could point at /etc/shadow)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1 or st.st_size > max_bytes:
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read(max_bytes + 1)[:max_bytes]
    finally:
        os.close(fd)


def _list_files(workdir: Path, limit: int = 1000) -> dict[str, int]:
    """Regular files the run left, by relative path; tool caches in dot-dirs (.mplconfig, ...) are skipped."""
    files: dict[str, int] = {}
    for root, dirs, names in os.walk(workdir):  # os.walk does not follow symlinked dirs
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            st = (Path(root) / name).lstat()
            if stat.S_ISREG(st.st_mode):
                files[str((Path(root) / name).relative_to(workdir))] = st.st_size
            if len(files) >= limit:
                return files
    return files


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:300] if lines else ""


def _explain(
    status: dict,
    timed_out: bool,
    stdout_size: int,
    stderr: str,
    stderr_size: int,
    limits: Limits,
    oom_killed: bool,
    pids_limit_hit: bool,
) -> tuple[int | None, str]:
    """Map how the program ended to (returncode, reason); the flags come from the run's cgroup."""
    if timed_out:
        return None, "timeout"
    if "setup_error" in status:
        return None, f"sandbox setup failed: {status['setup_error']}"
    code = -status["signal"] if "signal" in status else status.get("exit")
    if code is None:
        return None, "sandbox exited without a status"
    last = _last_line(stderr)
    if (
        oom_killed
        or "MemoryError" in last
        or "bad_alloc" in stderr
        or (code != 0 and "Cannot allocate memory" in stderr)
    ):
        return code, "memory"
    if code == -signal.SIGXCPU or (code == -signal.SIGKILL and "cpu" in last.lower()):
        return code, "cpu time limit"
    if code == -signal.SIGXFSZ or max(stdout_size, stderr_size) >= limits.file_bytes or "File too large" in last:
        return code, "output too large"
    if code == 0:
        return 0, ""
    if pids_limit_hit:
        return code, f"process limit ({limits.max_procs}) hit; {last}".rstrip("; ")
    if code < 0:
        return code, f"killed by signal {-code} ({signal.Signals(-code).name})"
    if "Traceback (most recent call last)" in stderr:
        return code, f"exception: {last}"
    return code, f"exit code {code}: {last}" if last else f"exit code {code}"


def _run_job(
    server: SandboxServer,
    caps: Capabilities,
    argv: list[str] | None,
    files: Mapping[str, str | bytes],
    collect: Sequence[str],
    limits: Limits,
    env: Mapping[str, str],
    max_collect_bytes: int,
) -> SandboxResult:
    """One job on `server`: a private run directory holding `files`, then the result and `collect` files.
    `argv` None runs main.py in the server's warm interpreter through its harness."""
    start = time.monotonic()
    isolated = server.isolate
    run_dir = Path(tempfile.mkdtemp(prefix="run-", dir=server.runs_dir))
    workdir = run_dir / "work"
    workdir.mkdir(mode=0o700)
    uid = random.randint(*_UID_RANGE) if caps.drop_uid and isolated else None
    try:
        for name, content in files.items():
            target = workdir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content.encode() if isinstance(content, str) else content)
        if uid is not None:
            for root, dirs, names in os.walk(workdir):
                for n in [root, *(os.path.join(root, x) for x in dirs + names)]:
                    os.chown(n, uid, uid)
        inside_workdir = _sandbox_root.JOB_DIR if isolated else str(workdir)
        full_env = _base_env(inside_workdir, isolated)
        full_env.update({k: v.replace("{workdir}", inside_workdir) for k, v in env.items()})
        request = {
            "run_dir": f"{_sandbox_root.RUNS_DIR}/{run_dir.name}" if isolated else str(run_dir),
            "workdir": inside_workdir,
            "argv": argv,
            "env": full_env,
            "uid": uid,
            "wall_s": limits.wall_s,
            "limits": {
                "cpu_s": limits.cpu_s,
                "memory_bytes": limits.memory_bytes,
                "address_space_bytes": limits.address_space_bytes or limits.memory_bytes,
                "file_bytes": limits.file_bytes,
                "max_procs": limits.max_procs,
            },
        }
        try:
            reply = server.run(request)
        except ServerFailed as e:
            reply = {"status": {"setup_error": str(e)}, "timed_out": False}
        flags = bool(reply.get("oom_killed")), bool(reply.get("pids_limit_hit"))
        stdout, stdout_size = _tail(run_dir / "stdout")
        stderr, stderr_size = _tail(run_dir / "stderr")
        code, reason = _explain(reply["status"], reply["timed_out"], stdout_size, stderr, stderr_size, limits, *flags)
        outputs = {}
        for name in collect:
            data = read_regular_file(workdir / name, max_collect_bytes)
            if data is not None:
                outputs[name] = data
        return SandboxResult(
            ok=reason == "",
            returncode=code,
            reason=reason,
            stdout=stdout,
            stderr=stderr,
            files=_list_files(workdir),
            outputs=outputs,
            seconds=time.monotonic() - start,
            isolation=caps.describe(),
        )
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


# ---- exec servers for run_sandboxed: a small pool, one server per concurrent caller ----

_pool_lock = threading.Lock()
_pool: dict[tuple, list[SandboxServer]] = {}
_pool_pid = os.getpid()


def _borrow_exec_server(caps: Capabilities, expose_ro: tuple[str, ...]) -> tuple[tuple, SandboxServer]:
    global _pool_pid
    key = (caps, expose_ro)
    with _pool_lock:
        if _pool_pid != os.getpid():  # forked: the parent's servers are not ours to use
            _pool.clear()
            _pool_pid = os.getpid()
        idle = _pool.setdefault(key, [])
        if idle:
            return key, idle.pop()
    return key, SandboxServer(
        isolate=caps.isolated, namespaces=caps.namespaces, cgroups=caps.cgroups, expose_ro=expose_ro
    )


def _return_exec_server(key: tuple, server: SandboxServer) -> None:
    with _pool_lock:
        idle = _pool.setdefault(key, [])
        if len(idle) < _POOL_IDLE_MAX and _pool_pid == os.getpid():
            idle.append(server)
            return
    server.close()


def run_sandboxed(
    argv: Sequence[str],
    *,
    files: Mapping[str, str | bytes] | None = None,
    collect: Sequence[str] = (),
    limits: Limits = Limits(),
    env: Mapping[str, str] | None = None,
    expose_ro: Sequence[str] = (),
    hide: Sequence[str] = (),
    max_collect_bytes: int = 64 << 20,
) -> SandboxResult:
    """Run `argv` in a fresh private directory holding `files`; return what happened and the `collect` files.

    argv[0] may be a bare command name (looked up on the sandbox PATH). `env` adds to the scrubbed
    environment; `{workdir}` in its values is replaced by the run directory as the program sees it.
    `expose_ro` lists extra host paths to make readable inside (at the same path). `hide` is accepted for
    compatibility: nothing outside the allow-list is visible anyway.
    Never raises for anything the program does; raises SandboxUnavailable when isolation is missing.
    """
    del hide
    caps = _checked_capabilities()
    base_path = _base_env("/", caps.isolated)["PATH"]
    exe = argv[0] if os.path.isabs(argv[0]) else shutil.which(argv[0], path=base_path)
    if exe is None:
        return SandboxResult(False, None, f"command not found: {argv[0]}", "", "", isolation=caps.describe())
    key, server = _borrow_exec_server(caps, tuple(expose_ro))
    try:
        return _run_job(server, caps, [exe, *argv[1:]], files or {}, collect, limits, env or {}, max_collect_bytes)
    finally:
        _return_exec_server(key, server)


def sandbox_python() -> str:
    """The interpreter path a sandboxed program uses (with the pipeline's packages)."""
    return _sandbox_root.python_paths()["venv"] if capabilities().isolated else sys.executable


def run_python(code: str, *, harness: Path | None = None, **kwargs) -> SandboxResult:
    """Run Python source in the sandbox as main.py (through `harness`, a runner script, when given).

    A fresh interpreter per call; renderers that run Python for every image use WarmPython instead.
    The harness is copied into the run directory, so the repo itself stays hidden from the program.
    """
    files = dict(kwargs.pop("files", None) or {})
    files["main.py"] = code
    python = sandbox_python()
    argv = [python, "-I", "main.py"]
    if harness is not None:
        files["_harness.py"] = harness.read_bytes()
        argv = [python, "-I", "_harness.py", "main.py"]
    return run_sandboxed(argv, files=files, **kwargs)


class WarmPython:
    """One renderer's warm sandboxed Python: a server that imported the harness module (matplotlib,
    plotly, ...) once; every run() forks a fresh job that enters its own directory, uid, cgroup and
    limits, runs main.py through the harness, and dies. Start once per worker; close when done."""

    def __init__(self, harness: str) -> None:
        self.harness = harness  # a module name in renderers/harness
        self._server: SandboxServer | None = None
        self._caps: Capabilities | None = None
        self._lock = threading.Lock()

    def _current_server(self) -> tuple[Capabilities, SandboxServer]:
        caps = _checked_capabilities()
        with self._lock:
            if self._server is None or self._caps != caps:
                if self._server is not None:
                    self._server.close()
                self._server = SandboxServer(
                    isolate=caps.isolated, namespaces=caps.namespaces, cgroups=caps.cgroups, harness=self.harness
                )
                self._caps = caps
            return caps, self._server

    def start(self) -> None:
        """Start the server (imports, warm-up) now rather than in the first run; idempotent."""
        self._current_server()[1].start()

    def run(
        self,
        code: str,
        *,
        files: Mapping[str, str | bytes] | None = None,
        collect: Sequence[str] = (),
        limits: Limits = Limits(),
        max_collect_bytes: int = 64 << 20,
    ) -> SandboxResult:
        caps, server = self._current_server()
        try:
            server.start()
        except ServerFailed as e:
            return SandboxResult(False, None, f"sandbox setup failed: {e}", "", "", isolation=caps.describe())
        return _run_job(server, caps, None, {**(files or {}), "main.py": code}, collect, limits, {}, max_collect_bytes)

    def close(self) -> None:
        with self._lock:
            if self._server is not None:
                self._server.close()
                self._server = None
