"""Run hostile, LLM-written programs (Python scripts, pdflatex, dot, ...) in a contained child process.

Layers, each checked at first use (see `capabilities()`):
  * namespaces via util-linux `unshare`: no network (empty net namespace), a private mount namespace in
    which /root, /home, /tmp, /work, ... and the repo are covered by empty tmpfs (only the interpreter,
    its venv and the run's own directory are bound back), and a PID namespace so that every process the
    program starts dies with it;
  * when running as root: a fresh unprivileged uid per run plus no_new_privs, so RLIMIT_NPROC bites and
    root-owned files stay unreadable;
  * a per-run pids + memory cgroup when /sys/fs/cgroup is writable;
  * rlimits (CPU, address space, file size, processes, open files), a wall-clock timeout that kills the
    whole process group, a scrubbed environment, and stdout/stderr captured to files capped in size.
Without namespaces the sandbox refuses to run (SandboxUnavailable) unless PIXMO_SANDBOX_ALLOW_WEAK=1.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from generators.docs import _cgroups

REPO_ROOT = Path(__file__).resolve().parents[2]
_INIT_SCRIPT = Path(__file__).with_name("_sandbox_init.py")
_NAMESPACE_FLAGS = ["--net", "--mount", "--pid", "--ipc", "--uts", "--fork", "--kill-child", "--mount-proc"]
# Directories that may hold secrets, other users' data or our own outputs; covered inside the sandbox.
_HIDDEN_DIRS = [
    "/root",
    "/home",
    "/tmp",
    "/var/tmp",
    "/dev/shm",
    "/run",
    "/mnt",
    "/media",
    "/srv",
    "/opt",
    "/work",
    "/data",
    "/var/log",
    "/var/backups",
    "/var/mail",
    "/var/spool",
]
# Unprivileged uids come from a range no real account uses, one per run, so per-uid limits are per run.
_UID_RANGE = (1_500_000, 1_999_999)
_TAIL_BYTES = 16 * 1024


class SandboxUnavailable(RuntimeError):
    """Raised when no namespace isolation is possible and weak mode was not allowed."""


@dataclass(frozen=True)
class Limits:
    wall_s: float = 20.0
    cpu_s: int = 20
    memory_bytes: int = 2 << 30
    max_procs: int = 64
    file_bytes: int = 32 << 20  # largest file (stdout/stderr included) the program may write
    # RLIMIT_AS per process; None means memory_bytes. V8-based tools reserve hundreds of GB of address
    # space they never touch, so they need a large value here and rely on the memory cgroup instead.
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

    def describe(self) -> str:
        parts = [
            f"namespaces={self.namespaces or 'none'}",
            f"uid_drop={self.drop_uid}",
            f"cgroups={self.cgroups}",
        ]
        return ",".join(parts)


@cache
def capabilities() -> Capabilities:
    """Probe once which isolation mechanisms work on this machine."""
    unshare = shutil.which("unshare")
    ns = ""
    if unshare:
        probes = [("root", [])] if os.geteuid() == 0 else []
        probes.append(("userns", ["--user", "--map-root-user"]))
        for name, extra in probes:
            cmd = [unshare, *extra, *_NAMESPACE_FLAGS, "true"]
            if subprocess.run(cmd, capture_output=True, timeout=10).returncode == 0:
                ns = name
                break
    cg = _cgroups.create_run_cgroup(8, 64 << 20) if os.geteuid() == 0 else None
    if cg is not None:
        cg.destroy()
    return Capabilities(namespaces=ns, drop_uid=os.geteuid() == 0 and ns == "root", cgroups=cg is not None)


def _sandbox_base() -> Path:
    base = Path(os.environ.get("PIXMO_SANDBOX_DIR", Path(tempfile.gettempdir()) / "pixmo-sandbox"))
    base.mkdir(mode=0o711, parents=True, exist_ok=True)
    return base


def _interpreter_paths() -> list[str]:
    """What the sandboxed Python needs to read: the venv and the base installation behind it."""
    paths = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    paths.add(os.path.dirname(os.path.realpath(sys.executable)))
    return sorted(paths)


def _env_hidden_dirs() -> list[str]:
    """Extra directories to cover, from PIXMO_SANDBOX_HIDE (colon-separated), e.g. pipeline output dirs."""
    return [os.path.realpath(p) for p in os.environ.get("PIXMO_SANDBOX_HIDE", "").split(":") if p]


def _base_env(workdir: Path) -> dict[str, str]:
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(workdir),
        "TMPDIR": str(workdir),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(workdir / ".mplconfig"),
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def _tail(path: Path) -> tuple[str, int]:
    size = path.stat().st_size
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
    cgroup: _cgroups.RunCgroup | None,
) -> tuple[int | None, str]:
    """Map how the program ended to (returncode, reason)."""
    if timed_out:
        return None, "timeout"
    if "setup_error" in status:
        return None, f"sandbox setup failed: {status['setup_error']}"
    code = -status["signal"] if "signal" in status else status.get("exit")
    if code is None:
        return None, "sandbox exited without a status"
    last = _last_line(stderr)
    if (
        (cgroup and cgroup.oom_killed())
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
    if cgroup and cgroup.hit_pids_limit():
        return code, f"process limit ({limits.max_procs}) hit; {last}".rstrip("; ")
    if code < 0:
        return code, f"killed by signal {-code} ({signal.Signals(-code).name})"
    if "Traceback (most recent call last)" in stderr:
        return code, f"exception: {last}"
    return code, f"exit code {code}: {last}" if last else f"exit code {code}"


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
    environment; `{workdir}` in its values is replaced by the run directory. `expose_ro` lists extra paths
    to keep readable inside hidden directories; `hide` (and PIXMO_SANDBOX_HIDE) add directories to cover.
    Never raises for anything the program does; raises SandboxUnavailable when isolation is missing.
    """
    caps = capabilities()
    if not caps.namespaces and os.environ.get("PIXMO_SANDBOX_ALLOW_WEAK") != "1":
        raise SandboxUnavailable(
            "no namespace isolation here (unshare failed); set PIXMO_SANDBOX_ALLOW_WEAK=1 to run with rlimits only"
        )
    start = time.monotonic()
    run_dir = Path(tempfile.mkdtemp(prefix="run-", dir=_sandbox_base()))
    workdir = run_dir / "work"
    workdir.mkdir(mode=0o700)
    uid = random.randint(*_UID_RANGE) if caps.drop_uid else None
    cgroup = _cgroups.create_run_cgroup(limits.max_procs, limits.memory_bytes) if caps.cgroups else None
    status_r, status_w = os.pipe()
    try:
        for name, content in (files or {}).items():
            target = workdir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content.encode() if isinstance(content, str) else content)
        if uid is not None:
            for root, dirs, names in os.walk(workdir):
                for n in [root, *(os.path.join(root, x) for x in dirs + names)]:
                    os.chown(n, uid, uid)
        full_env = _base_env(workdir)
        full_env.update({k: v.replace("{workdir}", str(workdir)) for k, v in (env or {}).items()})
        exe = argv[0] if os.path.isabs(argv[0]) else shutil.which(argv[0], path=full_env["PATH"])
        if exe is None:
            return SandboxResult(False, None, f"command not found: {argv[0]}", "", "", isolation=caps.describe())
        config = {
            "argv": [exe, *argv[1:]],
            "env": full_env,
            "workdir": str(workdir),
            "uid": uid,
            "status_fd": status_w,
            "mounts": bool(caps.namespaces),
            "hide": sorted({*_HIDDEN_DIRS, str(REPO_ROOT), *_env_hidden_dirs(), *hide}),
            "expose_ro": [*_interpreter_paths(), *expose_ro],
            "cgroup_procs": cgroup.procs_files if cgroup else [],
            "limits": {
                "cpu_s": limits.cpu_s,
                "memory_bytes": limits.address_space_bytes or limits.memory_bytes,
                "file_bytes": limits.file_bytes,
                "max_procs": limits.max_procs,
            },
        }
        prefix = []
        if caps.namespaces:
            userns = ["--user", "--map-root-user"] if caps.namespaces == "userns" else []
            prefix = [shutil.which("unshare"), *userns, *_NAMESPACE_FLAGS, "--"]
        cmd = [*prefix, sys.executable, "-S", str(_INIT_SCRIPT), json.dumps(config)]
        with open(run_dir / "stdout", "wb") as out, open(run_dir / "stderr", "wb") as err:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                pass_fds=(status_w,),
                start_new_session=True,
                env={"PATH": full_env["PATH"]},
            )
        os.close(status_w)
        status_w = -1
        timed_out = False
        try:
            proc.wait(timeout=limits.wall_s)
        except subprocess.TimeoutExpired:
            timed_out = True
        # Kill the process group in any case: stragglers must not outlive the run.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        os.set_blocking(status_r, False)
        try:
            raw = os.read(status_r, 4096)
        except BlockingIOError:
            raw = b""
        status = json.loads(raw) if raw else {}
        stdout, stdout_size = _tail(run_dir / "stdout")
        stderr, stderr_size = _tail(run_dir / "stderr")
        code, reason = _explain(status, timed_out, stdout_size, stderr, stderr_size, limits, cgroup)
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
        os.close(status_r)
        if status_w >= 0:
            os.close(status_w)
        if cgroup is not None:
            cgroup.destroy()
        shutil.rmtree(run_dir, ignore_errors=True)


def run_python(code: str, *, harness: Path | None = None, **kwargs) -> SandboxResult:
    """Run Python source in the sandbox as main.py (through `harness`, a runner script, when given).

    The harness is copied into the run directory, so the repo itself stays hidden from the program.
    """
    files = dict(kwargs.pop("files", None) or {})
    files["main.py"] = code
    argv = [sys.executable, "-I", "main.py"]
    if harness is not None:
        files["_harness.py"] = harness.read_bytes()
        argv = [sys.executable, "-I", "_harness.py", "main.py"]
    return run_sandboxed(argv, files=files, **kwargs)
