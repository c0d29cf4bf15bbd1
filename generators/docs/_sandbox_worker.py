"""A warm sandbox server: imports its renderer's libraries once, then forks one fresh job per request.

Runs inside the allow-listed root (exec'd by _sandbox_init.py as /pixmo/worker.py) or, in weak mode, as a
plain child of the pipeline's worker. It never runs LLM code itself. Each job is forked before its request
arrives (between renders, off the critical path) and serves exactly one request:

  job init (pid 1 of a new PID namespace, with its own mount and IPC namespaces): mounts a fresh /proc,
      /tmp and /dev/shm, forks the program, reaps every process until the program ends, then kills and
      reaps whatever the program left, and only then reports how it ended.
  program: joins the job's fresh cgroup (made by the server), waits for the request, binds the run's
      directory at /job, detaches /runs, takes its rlimits, stdout/stderr files and unprivileged uid,
      closes every other descriptor, then execs argv or, for a Python renderer, runs the code in this
      already-warm interpreter (harness.run_job) and exits. It dies after one job.

The server sets the cgroup's limits from the request, enforces the wall-clock limit by killing the job
init (which takes the whole job tree with it), replies, and only then reaps the init and removes the cgroup.
Protocol: one JSON line per request and per reply on the control socket; EOF means shut down.
Stdlib only at import time (the exec server runs with -S); the Python servers add their preloads.
"""

import ctypes
import gc
import importlib
import json
import os
import resource
import select
import signal
import socket
import sys
import time
from pathlib import Path

import _cgroups  # next to this script, both inside the root (/pixmo) and in weak mode

CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWPID = 0x00020000, 0x02000000, 0x08000000, 0x20000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 8, 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_NO_NEW_PRIVS = 38
PR_CAPBSET_DROP = 24
_LINUX_CAPABILITY_VERSION_3 = 0x20080522

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source, target, fstype, flags, data=None) -> None:
    enc = [None if s is None else s.encode() for s in (source, target, fstype, data)]
    _check(_libc.mount(enc[0], enc[1], enc[2], flags, enc[3]), f"mount {target}")


def _drop_capabilities() -> None:
    """Without a uid change (user-namespace mode) the program would keep root's capabilities in there."""
    for cap in range(64):
        if _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() == 22:  # EINVAL: past last
            break
    header = (ctypes.c_uint32 * 2)(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()
    _check(_libc.capset(header, data), "capset")


class Job:
    """A job forked ahead of its request: its init (`pid`) waits in its namespaces, its program process
    (already in the job's own cgroup) waits for the request on `request_w`; both report on `status_r`."""

    def __init__(self, pid: int, request_w: int, status_r: int, cgroup) -> None:
        self.pid, self.request_w, self.status_r, self.cgroup = pid, request_w, status_r, cgroup


class Server:
    def __init__(self, cfg: dict, harness) -> None:
        self.cfg = cfg
        self.isolate = cfg["isolate"]
        self.harness = harness
        self.control = socket.socket(fileno=cfg["control_fd"])
        self.own_pid_ns = os.open("/proc/self/ns/pid", os.O_RDONLY) if self.isolate else -1
        self.cgroup_parents = {c: Path(p) for c, p in cfg["cgroup_parents"].items()} if cfg["cgroups"] else None

    # ---- in the job init (pid 1 of the job's namespaces) ----

    def job_init(self, job_cgroup, request_r: int, status_w: int) -> None:
        """Set up what does not depend on the request, fork the program, reap, report. Never returns."""
        try:
            if self.isolate:
                _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWIPC), "unshare")
                _mount(None, "/", None, MS_REC | MS_PRIVATE)
                _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
                _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=1777")
                _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=1777")
            else:
                os.setsid()  # weak mode: the job's process group is what a timeout kills
            child = os.fork()
        except BaseException as e:
            _report(status_w, {"setup_error": repr(e)})
            os._exit(1)
        if child == 0:
            try:
                if job_cgroup is not None:
                    job_cgroup.join(os.getpid())
                    if self.isolate:  # its cgroup becomes its root: /proc/self/cgroup names no host path
                        _check(_libc.unshare(CLONE_NEWCGROUP), "unshare(CLONE_NEWCGROUP)")
                self.run_program(request_r)
            except BaseException as e:
                try:
                    _report(status_w, {"setup_error": repr(e)})
                except OSError:  # already closed: the job's own stderr is fd 2 by now
                    os.write(2, f"sandbox: could not start the program: {e!r}\n".encode())
            finally:
                os._exit(127)
        os.close(request_r)
        # As pid 1 we also inherit orphans; reap them until our own child ends.
        while True:
            pid, status = os.wait()
            if pid == child:
                break
        report = {"signal": os.WTERMSIG(status)} if os.WIFSIGNALED(status) else {"exit": os.WEXITSTATUS(status)}
        if self.isolate:
            # Kill and reap everything the program left, so that the report means "the job is gone".
            while True:
                try:
                    os.kill(-1, signal.SIGKILL)  # from a PID namespace's init: every other process in it
                except ProcessLookupError:
                    pass
                try:
                    os.wait()
                except ChildProcessError:
                    break
            _report(status_w, dict(report, final=True))
        else:
            _report(status_w, report)
            os.killpg(0, signal.SIGKILL)  # stragglers of this job (and this process) go now
        os._exit(0)

    # ---- in the program process ----

    def run_program(self, request_r: int) -> None:
        """Wait for the request; enter the run's directory, limits and uid; then exec argv or run the code
        in this warm interpreter. Never returns."""
        with os.fdopen(request_r, "rb") as f:
            raw = f.read()
        if not raw:  # the server went away before giving us a job
            os._exit(0)
        req = json.loads(raw)
        run_dir = req["run_dir"]
        if self.isolate:
            _mount(f"{run_dir}/work", req["workdir"], None, MS_BIND)
            _mount(None, req["workdir"], None, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV)
        out = os.open(f"{run_dir}/stdout", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        err = os.open(f"{run_dir}/stderr", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        if self.isolate:
            _check(_libc.umount2(b"/runs", MNT_DETACH), "umount /runs")  # other runs' dirs: gone
        null = os.open("/dev/null", os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out, 1)
        os.dup2(err, 2)
        os.closerange(3, 65536)  # control socket, status pipe, cgroup fds: nothing of the server remains
        os.chdir(req["workdir"])
        lim = req["limits"]
        address_space = lim["address_space_bytes"]
        if not req["argv"]:  # the code runs in this image, so the warm parent's mappings come on top
            with open("/proc/self/statm") as f:
                address_space += int(f.read().split()[0]) * resource.getpagesize()
        resource.setrlimit(resource.RLIMIT_CPU, (lim["cpu_s"], lim["cpu_s"] + 1))
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
        resource.setrlimit(resource.RLIMIT_FSIZE, (lim["file_bytes"], lim["file_bytes"]))
        if req["uid"] is not None:
            # RLIMIT_NPROC counts every process of the uid, so it only means "this run" for our fresh uid;
            # without a uid drop the per-run pids cgroup is what caps processes.
            resource.setrlimit(resource.RLIMIT_NPROC, (lim["max_procs"], lim["max_procs"]))
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        # No setuid binary (su, mount, ...) can hand privileges back after the drop.
        _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")
        if req["uid"] is not None:
            os.setgroups([])
            os.setgid(req["uid"])
            os.setuid(req["uid"])
        elif self.isolate and os.getuid() == 0:
            _drop_capabilities()
        os.umask(0o022)
        if req["argv"]:
            try:
                os.execve(req["argv"][0], req["argv"], req["env"])
            except OSError as e:
                os.write(2, f"sandbox: could not start {req['argv'][0]}: {e}\n".encode())
                os._exit(127)
        os.environ.clear()
        os.environ.update(req["env"])
        sys.argv = ["main.py"]
        os._exit(self.harness.run_job())

    # ---- in the server ----

    def prefork(self) -> Job:
        """Fork the next job now, between requests, so that no fork (and no cgroup move) is on a render's
        critical path."""
        cgroup = None
        if self.cgroup_parents is not None:
            # The real limits come with the request.
            cgroup = _cgroups.create_run_cgroup(16, 256 << 20, self.cgroup_parents, self.cfg["cgroup_prefix"])
        request_r, request_w = os.pipe()
        status_r, status_w = os.pipe()
        if self.isolate:
            _check(_libc.unshare(CLONE_NEWPID), "unshare(CLONE_NEWPID)")  # our next child is its pid 1
        try:
            pid = os.fork()
        except BaseException:
            self._restore_pid_ns()
            raise
        if pid == 0:
            os.close(request_w)
            os.close(status_r)
            self.control.close()
            try:
                if self.cgroup_parents is not None and cgroup is None:
                    _report(status_w, {"setup_error": "could not create the run's cgroup"})
                else:
                    self.job_init(cgroup, request_r, status_w)
            finally:
                os._exit(1)  # a job process never returns into the server's code
        self._restore_pid_ns()
        os.close(request_r)
        os.close(status_w)
        return Job(pid, request_w, status_r, cgroup)

    def _restore_pid_ns(self) -> None:
        if self.isolate:  # later children are ours again, in our own PID namespace
            _check(_libc.setns(self.own_pid_ns, CLONE_NEWPID), "setns")

    def run_job(self, job: Job, req: dict) -> dict:
        deadline = time.monotonic() + req["wall_s"]
        reports = []
        try:
            if job.cgroup is not None:
                job.cgroup.set_limits(req["limits"]["max_procs"], req["limits"]["memory_bytes"])
            os.write(job.request_w, json.dumps(req).encode())
        except BrokenPipeError:
            pass  # the job died before its request; its status says why
        except OSError as e:
            reports.append({"setup_error": f"cgroup limits: {e!r}"})
        os.close(job.request_w)
        job.request_w = -1
        raw, timed_out = b"", False
        while not reports:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([job.status_r], [], [], left)[0]:
                timed_out = True
                break
            chunk = os.read(job.status_r, 4096)
            raw += chunk
            lines = [json.loads(line) for line in raw.splitlines() if line.strip().endswith(b"}")]
            if not chunk or any("setup_error" in r or r.get("final") for r in lines):
                reports = lines or [{}]
        if timed_out:
            self.kill(job)  # killing the job init ends its PID namespace, and every process of the job
        setup = [r for r in reports if "setup_error" in r]
        status = setup[0] if setup else (reports[-1] if reports else {})
        status = {k: v for k, v in status.items() if k != "final"}
        failed = job.cgroup is not None and status != {"exit": 0}  # only a failure needs the reason
        return {
            "status": status,
            "timed_out": timed_out,
            "oom_killed": failed and job.cgroup.oom_killed(),
            "pids_limit_hit": failed and job.cgroup.hit_pids_limit(),
        }

    def kill(self, job: Job) -> None:
        if not self.isolate:
            try:
                os.killpg(job.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            os.kill(job.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def finish(self, job: Job) -> None:
        """After the reply: reap the job's init and remove its cgroup (nothing of the job is left in it)."""
        self.kill(job)
        os.waitpid(job.pid, 0)
        os.close(job.status_r)
        if job.request_w >= 0:
            os.close(job.request_w)
        if job.cgroup is not None:
            job.cgroup.destroy()

    def serve(self) -> None:
        reader = self.control.makefile("rb")
        job = self.prefork()
        self.control.sendall(json.dumps({"ready": True}).encode() + b"\n")
        try:
            for line in reader:
                reply = self.run_job(job, json.loads(line))
                self.control.sendall(json.dumps(reply).encode() + b"\n")
                self.finish(job)
                job = self.prefork()
        finally:
            self.finish(job)


def _report(status_w: int, report: dict) -> None:
    os.write(status_w, json.dumps(report).encode() + b"\n")


def main() -> None:
    cfg = json.loads(sys.stdin.read())
    null = os.open("/dev/null", os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    harness = None
    if cfg["harness"]:
        sys.path.insert(0, cfg["harness_dir"])
        harness = importlib.import_module(cfg["harness"])
        harness.warm_up()  # imports and lazy tables, paid once here instead of in every job
    # Keep the collector away from everything loaded so far: a job's collections would otherwise walk
    # (and so copy-on-write) the whole inherited heap.
    gc.collect()
    gc.freeze()
    Server(cfg, harness).serve()


if __name__ == "__main__":
    main()
