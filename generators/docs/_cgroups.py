"""Per-run cgroups (pids + memory) for the sandbox, when this machine lets us create them.

A pids cgroup caps the process count of one run exactly, which RLIMIT_NPROC cannot (it counts per uid,
and not at all for root). A memory cgroup caps the whole run, not each process (RLIMIT_AS is per process,
so forked children could otherwise each take the full limit). Supports cgroup v1 (one hierarchy per
controller) and v2 (unified). Everything here is best-effort: None means "not available".
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")


def _own_cgroup_dirs() -> dict[str, Path]:
    """Controller name -> the directory of this process's cgroup for it."""
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


def parent_dirs() -> list[Path]:
    """The directories run cgroups are made in (one per hierarchy), in a fixed order."""
    own = _own_cgroup_dirs()
    return sorted({own[c] for c in ("pids", "memory") if c in own})


@dataclass
class RunCgroup:
    dirs: list[Path]  # one per hierarchy (v1) or a single one (v2)
    memory_dir: Path | None
    name: str = ""  # the same directory name under every parent

    @property
    def procs_files(self) -> list[str]:
        return [str(d / "cgroup.procs") for d in self.dirs]

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


def create_run_cgroup(max_procs: int, memory_bytes: int) -> RunCgroup | None:
    """Make a fresh cgroup for one run with both limits set; None if that is not possible here."""
    own = _own_cgroup_dirs()
    if "pids" not in own:
        return None
    name = f"pixmo-sandbox-{uuid.uuid4().hex[:12]}"
    made: list[Path] = []
    memory_dir = None
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
        pids_dir = own["pids"] / name
        if not _write(pids_dir / "pids.max", str(max_procs)):
            raise OSError("pids.max not writable")
        if "memory" in own:
            mem_dir = own["memory"] / name
            if _write(mem_dir / "memory.max", str(memory_bytes)) or _write(
                mem_dir / "memory.limit_in_bytes", str(memory_bytes)
            ):
                memory_dir = mem_dir
    except OSError:
        RunCgroup(made, None).destroy()
        return None
    return RunCgroup(made, memory_dir, name)
