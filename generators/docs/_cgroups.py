"""Per-run cgroups (pids + memory) for the sandbox, when this machine lets us create them.

A pids cgroup caps the process count of one run exactly, which RLIMIT_NPROC cannot (it counts per uid,
and not at all for root). A memory cgroup caps the whole run, not each process (RLIMIT_AS is per process,
so forked children could otherwise each take the full limit). Supports cgroup v1 (one hierarchy per
controller) and v2 (unified). Everything here is best-effort: None means "not available".

Stdlib only: the sandbox server (_sandbox_worker.py) uses it too, from inside the allow-listed root, where
it reaches the parent cgroups through inherited directory descriptors (`/proc/self/fd/N`) instead of /sys.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")


def own_cgroup_dirs() -> dict[str, Path]:
    """Controller name (pids, memory) -> the directory of this process's cgroup for it."""
    dirs: dict[str, Path] = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return dirs
    for line in lines:
        _, controllers, path = line.split(":", 2)
        rel = path.lstrip("/")
        if controllers == "":  # v2 unified entry
            if (ROOT / "cgroup.controllers").exists():
                dirs.setdefault("pids", ROOT / rel)
                dirs.setdefault("memory", ROOT / rel)
            continue
        for c in controllers.split(","):
            if c in ("pids", "memory") and (ROOT / c).is_dir():
                dirs[c] = ROOT / c / rel
    return dirs


@dataclass
class RunCgroup:
    dirs: list[Path]  # one per hierarchy (v1) or a single one (v2)
    memory_dir: Path | None
    pids_dir: Path | None = None

    def join(self, pid: int) -> None:
        """Move process `pid` (as this process's PID namespace numbers it) into the run's cgroup."""
        for d in self.dirs:
            (d / "cgroup.procs").write_text(str(pid))

    def set_limits(self, max_procs: int, memory_bytes: int) -> None:
        """Raises OSError when the process cap cannot be set; the memory cap is best-effort."""
        if self.pids_dir is not None:
            (self.pids_dir / "pids.max").write_text(str(max_procs))
        if self.memory_dir is not None:
            _write(self.memory_dir / "memory.max", str(memory_bytes)) or _write(
                self.memory_dir / "memory.limit_in_bytes", str(memory_bytes)
            )

    def oom_killed(self) -> bool:
        if self.memory_dir is None:
            return False
        for name in ("memory.events", "memory.oom_control"):
            try:
                for line in (self.memory_dir / name).read_text().splitlines():
                    key, _, value = line.partition(" ")
                    if key == "oom_kill" and int(value) > 0:
                        return True
            except (OSError, ValueError):
                continue
        return False

    def hit_pids_limit(self) -> bool:
        for d in self.dirs:
            try:
                for line in (d / "pids.events").read_text().splitlines():
                    key, _, value = line.partition(" ")
                    if key == "max" and int(value) > 0:
                        return True
            except (OSError, ValueError):
                continue
        return False

    def destroy(self) -> None:
        """Kill anything still inside, then remove the directories (retrying while the kernel reaps)."""
        for d in self.dirs:
            for _ in range(50):
                try:
                    pids = [int(p) for p in (d / "cgroup.procs").read_text().split()]
                except OSError:
                    break
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                try:
                    d.rmdir()
                    break
                except OSError:
                    time.sleep(0.02)


def _write(path: Path, value: str) -> bool:
    try:
        path.write_text(value)
        return True
    except OSError:
        return False


def create_run_cgroup(
    max_procs: int, memory_bytes: int, parents: dict[str, Path] | None = None, prefix: str = "pixmo-sandbox"
) -> RunCgroup | None:
    """Make a fresh cgroup `prefix`-<random> for one run with both limits set, under `parents`
    (controller -> directory; default: this process's own cgroups); None if that is not possible here."""
    own = own_cgroup_dirs() if parents is None else parents
    if "pids" not in own:
        return None
    name = f"{prefix}-{uuid.uuid4().hex[:12]}"
    made: list[Path] = []
    try:
        for controller in ("pids", "memory"):
            parent = own.get(controller)
            if parent is None:
                continue
            d = parent / name
            if d in made:  # v2: both controllers live in one directory
                continue
            d.mkdir()
            made.append(d)
        memory_dir = own["memory"] / name if "memory" in own else None
        cgroup = RunCgroup(made, memory_dir, own["pids"] / name)
        cgroup.set_limits(max_procs, memory_bytes)
        if memory_dir is not None and not (
            (memory_dir / "memory.max").exists() or (memory_dir / "memory.limit_in_bytes").exists()
        ):
            cgroup.memory_dir = None
    except OSError:
        RunCgroup(made, None).destroy()
        return None
    return cgroup


def remove_leftovers(prefix: str) -> None:
    """Remove the run cgroups named `prefix`-* (those of a sandbox server that was killed)."""
    for parent in set(own_cgroup_dirs().values()):
        for d in parent.glob(f"{prefix}-*"):
            RunCgroup([d], None).destroy()
