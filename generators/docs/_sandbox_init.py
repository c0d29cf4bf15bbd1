"""The first process of a sandbox server: build the allow-listed root, pivot into it, exec the worker.

Run by generators.docs._sandbox_server as `python -S _sandbox_init.py` under `unshare --net --mount --pid
--ipc --uts --fork`, so it is pid 1 of a fresh PID namespace in a private mount namespace. Its config
arrives on stdin (never on the command line, which /proc would show). It mounts an empty tmpfs, fills it
from the host's plan (read-only binds of /usr, the interpreter, fonts, the TeX tree, a few /etc files;
generated files; masks), pivots into it, detaches the old root, and execs the worker (`_sandbox_worker.py`,
written into the new root at a neutral path). Nothing of the host outside the plan stays reachable.
Stdlib only (it runs with -S), and never imported by the pipeline's own processes.
"""

import ctypes
import json
import os
import platform
import socket
import sys

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
MS_NOEXEC, MS_NOATIME, MS_NODIRATIME, MS_RELATIME = 8, 1024, 2048, 1 << 21
_ST_TO_MS = [
    (os.ST_NOSUID, MS_NOSUID),
    (os.ST_NODEV, MS_NODEV),
    (os.ST_NOEXEC, MS_NOEXEC),
    (os.ST_NOATIME, MS_NOATIME),
    (os.ST_NODIRATIME, MS_NODIRATIME),
    (os.ST_RELATIME, MS_RELATIME),
]
_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "arm64": 41}

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = [None if s is None else s.encode() for s in (source, target, fstype, data)]
    _check(_libc.mount(enc[0], enc[1], enc[2], flags, enc[3]), f"mount {target}")


def umount(target: str) -> None:
    _check(_libc.umount2(target.encode(), MNT_DETACH), f"umount {target}")


def pivot_root(new_root: str, put_old: str) -> None:
    number = _SYS_PIVOT_ROOT.get(platform.machine())
    if number is None:
        raise OSError(f"pivot_root: unknown syscall number on {platform.machine()}")
    _check(_libc.syscall(number, new_root.encode(), put_old.encode()), "pivot_root")


def _kept_flags(path: str) -> int:
    """The mount's own restrictions and atime mode: in a user namespace, a remount may not drop them."""
    current = os.statvfs(path).f_flag
    kept = 0
    for st_flag, ms_flag in _ST_TO_MS:
        if current & st_flag:
            kept |= ms_flag
    return kept


def bind(source: str, target: str, read_only: bool, devices: bool = False) -> None:
    """Bind `source` (a file or a directory tree) at `target`, creating the mount point."""
    if os.path.isdir(source):
        os.makedirs(target, mode=0o755, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
        if not os.path.exists(target):
            open(target, "a").close()
    mount(source, target, None, MS_BIND | MS_REC)
    flags = MS_REMOUNT | MS_BIND | MS_NOSUID | (0 if devices else MS_NODEV) | (MS_RDONLY if read_only else 0)
    mount(None, target, None, flags | _kept_flags(target))


def apply_plan(root: str, plan: list[list]) -> None:
    """Carry out the host's mount plan below `root` (every destination is a path inside the sandbox)."""
    for op, *args in plan:
        dst = root + args[-1]
        if op == "bind":
            source, read_only, devices, _ = args
            bind(source, dst, read_only, devices)
        elif op == "dir":
            os.makedirs(dst, mode=args[0], exist_ok=True)
            os.chmod(dst, args[0])
        elif op == "symlink":
            os.makedirs(os.path.dirname(dst), mode=0o755, exist_ok=True)
            os.symlink(args[0], dst)
        elif op == "file":
            content, mode, _ = args
            os.makedirs(os.path.dirname(dst), mode=0o755, exist_ok=True)
            with open(dst, "w") as f:
                f.write(content)
            os.chmod(dst, mode)
        elif op == "tmpfs":
            options, read_only, _ = args
            os.makedirs(dst, mode=0o755, exist_ok=True)
            mount("tmpfs", dst, "tmpfs", MS_NOSUID | MS_NODEV, options)
            if read_only:
                mount(None, dst, None, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | MS_RDONLY)
        else:
            raise ValueError(f"unknown mount plan step {op!r}")


def enter_root(cfg: dict) -> None:
    """Build the root at cfg["root"] (a host directory used as the mount point) and pivot into it."""
    root = cfg["root"]
    os.umask(0o022)  # mount points we create must be traversable by the unprivileged uid
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=755")
    apply_plan(root, cfg["plan"])
    mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    os.makedirs(root + "/.old-root", mode=0o700)
    pivot_root(root, root + "/.old-root")
    os.chdir("/")
    umount("/.old-root")
    os.rmdir("/.old-root")
    mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | MS_RDONLY)
    socket.sethostname("sandbox")


def main() -> None:
    cfg = json.loads(sys.stdin.read())
    # Cgroup parents stay reachable through directory fds only: /sys is not part of the new root.
    fds: dict[str, int] = {}
    parents = {}
    for controller, path in cfg["worker"]["cgroup_parents"].items():
        if path not in fds:
            fds[path] = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
            os.set_inheritable(fds[path], True)
        parents[controller] = f"/proc/self/fd/{fds[path]}"
    enter_root(cfg)
    worker_cfg = dict(cfg["worker"], cgroup_parents=parents)
    r, w = os.pipe()
    os.write(w, json.dumps(worker_cfg).encode())  # small: fits the pipe buffer before the reader exists
    os.close(w)
    os.dup2(r, 0)
    os.close(r)
    os.execve(cfg["exec"][0], cfg["exec"], cfg["env"])


if __name__ == "__main__":
    main()
