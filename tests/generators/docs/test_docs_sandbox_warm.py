"""The warm sandboxed Python (WarmPython): every job is a fresh, contained fork; the server outlives them all.

One server (the matplotlib harness) serves the whole module, as one renderer does in a worker.
"""

import os
import sys
import time
from pathlib import Path

import pytest

from generators.docs.renderers.examples import GOOD
from generators.docs.sandbox import REPO_ROOT, Limits, WarmPython, capabilities

FAST = Limits(wall_s=5, cpu_s=5)

pytestmark = pytest.mark.skipif(not capabilities().isolated, reason="no allow-listed root on this machine")


@pytest.fixture(scope="module")
def warm():
    sandbox = WarmPython("matplotlib_harness")
    sandbox.start()
    yield sandbox
    sandbox.close()


def server_pid(sandbox: WarmPython) -> int:
    return sandbox._server._proc.pid


def host_processes_with(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if marker in Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(entry))
            except OSError:
                continue
    return found


def test_renders_a_chart(warm):
    res = warm.run(GOOD["matplotlib"], collect=["output.png"], limits=FAST)
    assert res.ok, res.reason
    assert res.outputs["output.png"].startswith(b"\x89PNG")
    assert "root=allowlist" in res.isolation


def test_no_state_passes_between_jobs(warm):
    first = (
        "import matplotlib, os, matplotlib_harness\n"
        "matplotlib.rcParams['lines.linewidth'] = 42\n"
        "matplotlib_harness.LEAK = 'x'\n"
        "os.environ['LEAK'] = '1'\n"
        "open('/tmp/leak', 'w').write('x')\n"
        "open('left-behind.txt', 'w').write('x')\n"
        "print(os.getuid())\n"
    )
    res = warm.run(first, limits=FAST)
    assert res.ok, res.reason
    second = (
        "import matplotlib, os, matplotlib_harness\n"
        "print(matplotlib.rcParams['lines.linewidth'], hasattr(matplotlib_harness, 'LEAK'), os.environ.get('LEAK'),\n"
        "      os.path.exists('/tmp/leak'), os.listdir('.'), os.listdir('/runs'), os.getuid())\n"
    )
    res2 = warm.run(second, limits=FAST)
    assert res2.ok, res2.reason
    *state, uid = res2.stdout.split()
    assert state == ["1.5", "False", "None", "False", "['main.py']", "[]"]
    if capabilities().drop_uid:
        assert uid != res.stdout.strip() and int(uid) != 0  # a fresh unprivileged uid per job


def test_job_holds_no_descriptor_of_the_server(warm):
    res = warm.run("import os\nprint(sorted(os.listdir('/proc/self/fd')))", limits=FAST)
    assert res.ok, res.reason
    assert res.stdout.strip() == "['0', '1', '2', '3']"  # 3 is the directory being listed


def test_proc_shows_only_the_job(warm):
    code = (
        "import os\n"
        "pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())\n"
        "print(pids, os.getpid())\n"
        "print(*[open(f'/proc/{p}/cmdline').read().replace(chr(0), ' ') for p in pids], sep='|')\n"
    )
    res = warm.run(code, limits=FAST)
    assert res.ok, res.reason
    assert res.stdout.splitlines()[0] == "[1, 2] 2"
    for forbidden in ("pytest", str(REPO_ROOT), os.path.realpath(sys.prefix)):
        assert forbidden not in res.stdout


def test_failure_names_exception_and_line_without_host_paths(warm):
    code = "import matplotlib.pyplot as plt\n\nxs = [1, 2]\nplt.plot(xs, [1, 2, 3])\n"
    res = warm.run(code, limits=FAST)
    assert not res.ok
    assert res.reason.startswith("exception: ValueError: x and y must have same first dimension")
    assert res.reason.endswith("(line 4: plt.plot(xs, [1, 2, 3]))")
    assert 'File "main.py", line 4' in res.stderr
    for forbidden in (str(REPO_ROOT), os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix)):
        assert forbidden not in res.stderr


def test_timeout_kills_the_whole_job_tree_and_the_server_survives(warm):
    pid = server_pid(warm)
    code = (
        "import os, subprocess, time\n"
        "subprocess.Popen(['sleep', '987.125'])\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    os.execvp('sleep', ['sleep', '987.250'])\n"
        "time.sleep(60)\n"
    )
    res = warm.run(code, limits=Limits(wall_s=1.5, cpu_s=5))
    assert res.reason == "timeout"
    for _ in range(50):  # the kernel tears the PID namespace down as the job's init dies
        if not host_processes_with("987.125") and not host_processes_with("987.250"):
            break
        time.sleep(0.1)
    assert host_processes_with("987.125") == [] and host_processes_with("987.250") == []
    assert server_pid(warm) == pid
    assert warm.run("print('alive')", limits=FAST).stdout.strip() == "alive"


def test_limits_apply_to_every_job(warm):
    assert warm.run("while True:\n    pass", limits=Limits(wall_s=10, cpu_s=1)).reason == "cpu time limit"
    assert warm.run("x = bytearray(50 * 10**9)", limits=FAST).reason == "memory"
    grow = "chunks = []\nwhile True:\n    chunks.append(bytearray(100 * 2**20))"
    assert warm.run(grow, limits=Limits(wall_s=10, cpu_s=10, memory_bytes=512 << 20)).reason == "memory"
    bomb = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    assert not warm.run(bomb, limits=Limits(wall_s=2, cpu_s=2, max_procs=32)).ok
    assert warm.run("print('alive')", limits=FAST).stdout.strip() == "alive"


def test_no_network_and_no_secrets(warm, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    code = (
        "import socket, os\n"
        "try:\n"
        "    socket.create_connection(('127.0.0.1', 22), timeout=2)\n"
        "    print('CONNECTED')\n"
        "except OSError as e:\n"
        "    print('no network')\n"
        f"print([os.path.exists(p) for p in [{str(secret)!r}, '/root', '/home', '/work', {str(REPO_ROOT)!r}]])\n"
    )
    res = warm.run(code, limits=FAST)
    assert res.ok, res.reason
    assert res.stdout.split("\n")[:2] == ["no network", "[False, False, False, False, False]"]


def test_server_that_dies_is_replaced(warm):
    old = server_pid(warm)
    os.kill(old, 9)
    warm._server._proc.wait()
    assert warm.run("print('again')", limits=FAST).stdout.strip() == "again"
    assert server_pid(warm) != old


def test_unseeded_random_numbers_follow_the_code(warm):
    code = "import random\nimport numpy as np\nprint(random.random(), np.random.rand())\n"
    first, again = (warm.run(code, limits=FAST).stdout for _ in range(2))
    other = warm.run(code + "# another program\n", limits=FAST).stdout
    assert first == again  # the same program draws the same chart on every run
    assert other != first  # and jobs do not all share one stream


def test_weak_mode_still_runs_with_limits_and_timeout(monkeypatch):
    from generators.docs import sandbox

    monkeypatch.setattr(sandbox, "capabilities", lambda: sandbox.Capabilities("", False, False))
    monkeypatch.delenv("PIXMO_SANDBOX_ALLOW_WEAK", raising=False)
    weak = WarmPython("matplotlib_harness")
    with pytest.raises(sandbox.SandboxUnavailable, match="namespaces"):
        weak.run("print(1)", limits=FAST)
    monkeypatch.setenv("PIXMO_SANDBOX_ALLOW_WEAK", "1")
    monkeypatch.setenv("PIXMO_TEST_SECRET", "hunter2")
    try:
        res = weak.run(
            GOOD["matplotlib"] + "import os\nprint(os.environ.get('PIXMO_TEST_SECRET'))\n",
            collect=["output.png"],
            limits=FAST,
        )
        assert res.ok, res.reason
        assert res.stdout.strip() == "None" and res.outputs["output.png"].startswith(b"\x89PNG")
        assert "namespaces=none" in res.isolation
        assert weak.run("while True:\n    pass", limits=Limits(wall_s=1, cpu_s=5)).reason == "timeout"
        assert weak.run("print('alive')", limits=FAST).stdout.strip() == "alive"
    finally:
        weak.close()
