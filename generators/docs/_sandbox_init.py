"""The first process inside a sandbox: set up mounts and cgroups as root, then drop privileges and exec.

Run by generators.docs.sandbox as `python -S _sandbox_init.py <config json>`, usually under
`unshare --net --mount --pid --fork`, so it is pid 1 of a fresh PID namespace: when it exits, the kernel
kills every process the sandboxed program left behind. Stdlib only (it runs with -S, before the
interpreter's site-packages could be hidden), and never imported by the worker.
"""

import ctypes
import json
import os
import resource
import sys

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 32, 4096, 16384, 1 << 18
PR_SET_NO_NEW_PRIVS = 38

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = [None if s is None else s.encode() for s in (source, target, fstype, data)]
    if _libc.mount(enc[0], enc[1], enc[2], flags, enc[3]) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {target}: {os.strerror(err)}")


def _under(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def setup_mounts(cfg: dict) -> None:
    """Cover `hide` dirs with empty tmpfs, then bind back `expose_ro` (read-only) and the workdir (rw)."""
    hide = [d for d in cfg["hide"] if os.path.isdir(d) and not os.path.islink(d)]
    hide = [d for d in hide if not any(_under(d, other) and d != other for other in hide)]  # outermost only
    binds = [(p, True) for p in cfg["expose_ro"] if os.path.exists(p)] + [(cfg["workdir"], False)]
    # Open what we re-expose before hiding it; the fd still reaches the original mount afterwards.
    fds = [(p, ro, os.open(p, os.O_PATH)) for p, ro in binds if any(_under(p, d) for d in hide)]
    os.umask(0o022)  # mount points we create must be traversable by the unprivileged uid
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    for d in hide:
        _mount("tmpfs", d, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
    for path, ro, fd in fds:
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            os.makedirs(path, mode=0o755, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
            open(path, "a").close()
        _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
        if ro:
            _mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
        os.close(fd)


def join_cgroups(cfg: dict) -> None:
    for procs_file in cfg["cgroup_procs"]:
        with open(procs_file, "w") as f:
            f.write(str(os.getpid()))


def exec_program(cfg: dict) -> None:
    """In the forked child: limits, privilege drop, then exec. Never returns."""
    os.close(cfg["status_fd"])
    os.chdir(cfg["workdir"])
    lim = cfg["limits"]
    resource.setrlimit(resource.RLIMIT_CPU, (lim["cpu_s"], lim["cpu_s"] + 1))
    resource.setrlimit(resource.RLIMIT_AS, (lim["memory_bytes"], lim["memory_bytes"]))
    resource.setrlimit(resource.RLIMIT_FSIZE, (lim["file_bytes"], lim["file_bytes"]))
    if cfg["uid"] is not None:
        # RLIMIT_NPROC counts every process of the uid, so it only means "this run" for our fresh uid;
        # without a uid drop the per-run pids cgroup is what caps processes.
        resource.setrlimit(resource.RLIMIT_NPROC, (lim["max_procs"], lim["max_procs"]))
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # No setuid binary (su, mount, ...) can hand privileges back after the drop.
    if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(NO_NEW_PRIVS) failed")
    if cfg["uid"] is not None:
        os.setgroups([])
        os.setgid(cfg["uid"])
        os.setuid(cfg["uid"])
    os.umask(0o022)
    os.execve(cfg["argv"][0], cfg["argv"], cfg["env"])


def main() -> None:
    cfg = json.loads(sys.argv[1])
    status_fd = cfg["status_fd"]
    try:
        if cfg["mounts"]:
            setup_mounts(cfg)
        join_cgroups(cfg)
    except Exception as e:
        os.write(status_fd, json.dumps({"setup_error": repr(e)}).encode())
        os._exit(1)
    child = os.fork()
    if child == 0:
        try:
            exec_program(cfg)
        except BaseException as e:
            os.write(2, f"sandbox: could not start {cfg['argv'][0]}: {e!r}\n".encode())
        os._exit(127)
    # As pid 1 we also inherit orphans; reap them until our own child ends.
    while True:
        pid, status = os.wait()
        if pid == child:
            break
    if os.WIFSIGNALED(status):
        report = {"signal": os.WTERMSIG(status)}
    else:
        report = {"exit": os.WEXITSTATUS(status)}
    os.write(status_fd, json.dumps(report).encode())
    os._exit(0)


if __name__ == "__main__":
    main()
