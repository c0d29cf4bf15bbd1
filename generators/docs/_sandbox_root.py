"""The sandbox's filesystem, as an allow-list: what a renderer needs, at paths that do not name the host.

`root_plan()` lists the steps _sandbox_init.py carries out in an empty tmpfs before pivoting into it:
read-only binds of /usr (with the merged-/usr links), a minimal /etc, fonts and the TeX tree, the Python
interpreter at /opt/python and its packages in a venv at /opt/venv; generated files (passwd, hosts, the
venv's pyvenv.cfg, the worker and harness scripts under /pixmo); and empty mount points for what each job
mounts for itself (/proc, /tmp, /dev/shm, /job). Any other host directory does not exist in there.
"""

from __future__ import annotations

import os
import site
import sys
from functools import cache
from pathlib import Path

JOB_DIR = "/job"  # the run's own directory, inside
RUNS_DIR = "/runs"  # where the server sees every run directory; each job detaches it
PIXMO_DIR = "/pixmo"  # the worker and harness scripts
HARNESS_DIR = f"{PIXMO_DIR}/harness"
PYTHON_HOME = "/opt/python"
VENV_DIR = "/opt/venv"

_HERE = Path(__file__).resolve().parent
_HARNESS_SOURCES = _HERE / "renderers" / "harness"

# System trees a renderer reads (Python, TeX, Graphviz, poppler, fonts); those missing here are skipped.
_SYSTEM_TREES = ["/usr", "/var/lib/texmf", "/var/cache/fontconfig"]
_ETC_ENTRIES = [
    "alternatives",
    "fonts",
    "texmf",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "nsswitch.conf",
    "mime.types",
    "papersize",
    "libpaper.d",
]
_DEVICES = ["null", "zero", "full", "random", "urandom"]
_PASSWD = "root:x:0:0:root:/job:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
_GROUP = "root:x:0:\nnogroup:x:65534:\n"


def _python_layout() -> tuple[str, str, list[str]]:
    """(base installation, interpreter name, site-packages dirs) of the Python running the pipeline."""
    base = os.path.realpath(sys.base_prefix)
    exe = os.path.basename(os.path.realpath(sys.executable))
    venv = os.path.realpath(sys.prefix) != base
    packages = [os.path.realpath(p) for p in site.getsitepackages()] if venv else []
    return base, exe, packages


def _python_home_inside(base: str) -> str:
    """Where the base installation appears inside: as is when it is part of /usr, else at /opt/python."""
    return base if base == "/usr" or base.startswith("/usr/") else PYTHON_HOME


@cache
def python_paths() -> dict[str, str]:
    """Interpreter paths inside the sandbox, and the environment they need."""
    base, exe, packages = _python_layout()
    home = _python_home_inside(base)
    env = {"LD_LIBRARY_PATH": f"{home}/lib"} if home == PYTHON_HOME else {}  # RUNPATH names the host path
    return {
        "base": f"{home}/bin/{exe}",  # stdlib only (the exec server)
        "venv": f"{VENV_DIR}/bin/python" if packages else f"{home}/bin/{exe}",
        **env,
    }


def python_env() -> dict[str, str]:
    return {k: v for k, v in python_paths().items() if k == "LD_LIBRARY_PATH"}


def _masks(site_dir: str, inside: str) -> list[list]:
    """Editable installs point back at the checkout; inside they would only name its path, so blank them."""
    steps = []
    for name in sorted(os.listdir(site_dir)):
        path = os.path.join(site_dir, name)
        if name.startswith("__editable__") and os.path.isfile(path):
            steps.append(["bind", "/dev/null", True, True, f"{inside}/{name}"])
        elif name.endswith(".dist-info") and os.path.exists(os.path.join(path, "direct_url.json")):
            url = Path(path, "direct_url.json").read_text(errors="replace")
            if '"file:' in url:
                steps.append(["tmpfs", "size=4k,mode=755", True, f"{inside}/{name}"])
    return steps


def _python_steps() -> list[list]:
    base, exe, packages = _python_layout()
    home = _python_home_inside(base)
    steps: list[list] = []
    if home == PYTHON_HOME:
        steps.append(["bind", base, True, False, PYTHON_HOME])
    if packages:
        version = f"python{sys.version_info.major}.{sys.version_info.minor}"
        steps += [
            ["dir", 0o755, f"{VENV_DIR}/bin"],
            ["symlink", f"{home}/bin/{exe}", f"{VENV_DIR}/bin/python"],
            ["symlink", "python", f"{VENV_DIR}/bin/python3"],
            ["file", f"home = {home}/bin\ninclude-system-site-packages = false\n", 0o644, f"{VENV_DIR}/pyvenv.cfg"],
        ]
        for i, source in enumerate(packages):
            inside = f"{VENV_DIR}/lib/{version}/site-packages" if i == 0 else f"{VENV_DIR}/site-packages-{i}"
            steps.append(["bind", source, True, False, inside])
            steps += _masks(source, inside)
    return steps


def _script_steps() -> list[list]:
    """The worker and harness scripts, copied (not bound) so that nothing inside names their source."""
    steps = [
        ["file", (_HERE / "_sandbox_worker.py").read_text(), 0o644, f"{PIXMO_DIR}/worker.py"],
        ["file", (_HERE / "_cgroups.py").read_text(), 0o644, f"{PIXMO_DIR}/_cgroups.py"],
    ]
    for path in sorted(_HARNESS_SOURCES.glob("*.py")):
        steps.append(["file", path.read_text(), 0o644, f"{HARNESS_DIR}/{path.name}"])
    return steps


def root_plan(runs_dir: str, expose_ro: tuple[str, ...] = ()) -> list[list]:
    """Steps for _sandbox_init.apply_plan; `runs_dir` (host) is bound read-write at /runs for the server."""
    steps: list[list] = []
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        host = f"/{name}"
        if os.path.islink(host):
            steps.append(["symlink", os.readlink(host), host])
        elif os.path.isdir(host):
            steps.append(["bind", host, True, False, host])
    for tree in _SYSTEM_TREES:
        if os.path.isdir(tree):
            steps.append(["bind", tree, True, False, tree])
    steps.append(["dir", 0o755, "/etc"])
    for name in _ETC_ENTRIES:
        if os.path.exists(f"/etc/{name}"):
            steps.append(["bind", f"/etc/{name}", True, False, f"/etc/{name}"])
    steps += [
        ["file", _PASSWD, 0o644, "/etc/passwd"],
        ["file", _GROUP, 0o644, "/etc/group"],
        ["file", "127.0.0.1 localhost\n::1 localhost\n", 0o644, "/etc/hosts"],
        ["file", "sandbox\n", 0o644, "/etc/hostname"],
        ["dir", 0o755, "/dev"],
    ]
    steps += [["bind", f"/dev/{d}", False, True, f"/dev/{d}"] for d in _DEVICES]
    steps += [
        ["symlink", "/proc/self/fd", "/dev/fd"],
        ["symlink", "/proc/self/fd/0", "/dev/stdin"],
        ["symlink", "/proc/self/fd/1", "/dev/stdout"],
        ["symlink", "/proc/self/fd/2", "/dev/stderr"],
        ["dir", 0o1777, "/dev/shm"],
        ["dir", 0o555, "/proc"],
        ["tmpfs", "size=64m,mode=1777", False, "/tmp"],  # the server's own; each job mounts a fresh one
        ["dir", 0o755, JOB_DIR],
        ["bind", runs_dir, False, False, RUNS_DIR],
    ]
    steps += _python_steps()
    steps += _script_steps()
    for path in expose_ro:
        real = os.path.realpath(path)
        if os.path.exists(real):
            steps.append(["bind", real, True, False, real])
    return steps
