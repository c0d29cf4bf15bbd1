"""Each containment of the sandbox, proven by running hostile code and checking the worker carries on."""

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from generators.docs.sandbox import REPO_ROOT, Limits, capabilities, run_python, run_sandboxed

FAST = Limits(wall_s=3, cpu_s=3)

pytestmark = pytest.mark.skipif(
    not capabilities().namespaces and os.environ.get("PIXMO_SANDBOX_ALLOW_WEAK") != "1",
    reason="no namespace isolation on this machine",
)


def test_runs_python_and_collects_outputs():
    res = run_python("open('out.txt', 'w').write('hello')\nprint('done')", collect=["out.txt"], limits=FAST)
    assert res.ok, res.reason
    assert res.returncode == 0
    assert res.outputs == {"out.txt": b"hello"}
    assert "done" in res.stdout
    assert "out.txt" in res.files
    assert res.seconds > 0


def test_exception_reason_is_last_traceback_line():
    res = run_python("def f():\n    raise ValueError('bad value 42')\nf()", limits=FAST)
    assert not res.ok
    assert res.returncode == 1
    assert res.reason == "exception: ValueError: bad value 42"


def test_infinite_loop_times_out():
    res = run_python("while True:\n    pass", limits=Limits(wall_s=1.5, cpu_s=30))
    assert not res.ok
    assert res.reason == "timeout"
    assert run_python("print(1)", limits=FAST).ok  # and the worker goes on


def test_cpu_time_limit():
    res = run_python("while True:\n    pass", limits=Limits(wall_s=10, cpu_s=1))
    assert not res.ok
    assert res.reason == "cpu time limit"


def test_huge_allocation_hits_memory_limit():
    res = run_python("x = bytearray(50 * 10**9)", limits=FAST)
    assert not res.ok
    assert res.reason == "memory"


def test_gradual_allocation_hits_memory_limit():
    code = "chunks = []\nwhile True:\n    chunks.append(bytearray(100 * 2**20))"
    res = run_python(code, limits=Limits(wall_s=5, cpu_s=5, memory_bytes=512 << 20))
    assert not res.ok
    assert res.reason == "memory"


@pytest.mark.parametrize("host", ["127.0.0.1", "1.1.1.1", "pypi.org"])
def test_no_network(host):
    code = f"import socket\ns = socket.create_connection(({host!r}, 443), timeout=2)\nprint('CONNECTED')\n"
    res = run_python(code, limits=FAST)
    assert not res.ok
    assert "CONNECTED" not in res.stdout
    assert res.reason.startswith("exception: ")


def test_cannot_read_secret_files(tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    secret = home / ".ssh" / "id_rsa"
    secret.write_text("TOPSECRET")
    secret.chmod(0o600)
    monkeypatch.setenv("HOME", str(home))  # the child must not inherit this HOME either
    paths = [str(secret), str(home / ".ssh"), "~/.ssh/id_rsa", "/root/.ssh", "/root/.bashrc", "/etc/shadow"]
    code = (
        "import os\n"
        f"for p in {paths!r}:\n"
        "    p = os.path.expanduser(p)\n"
        "    try:\n"
        "        data = open(p).read() if os.path.isfile(p) else str(os.listdir(p))\n"
        "        print('READ', p, data[:40])\n"
        "    except OSError as e:\n"
        "        print('DENIED', p, type(e).__name__)\n"
    )
    res = run_python(code, limits=FAST)
    assert res.ok, res.reason
    assert "TOPSECRET" not in res.stdout
    assert "READ" not in res.stdout, res.stdout
    assert res.stdout.count("DENIED") == len(paths)


def test_environment_is_scrubbed(monkeypatch):
    monkeypatch.setenv("PIXMO_TEST_SECRET", "hunter2")
    res = run_python("import os\nprint(sorted(os.environ.items()))", limits=FAST)
    assert res.ok, res.reason
    assert "hunter2" not in res.stdout
    assert "PIXMO_TEST_SECRET" not in res.stdout


def test_repo_is_hidden():
    repo = Path(__file__).resolve().parents[3]
    res = run_python(f"import os\nprint(os.path.exists({str(repo / 'generators')!r}))", limits=FAST)
    assert res.ok, res.reason
    assert res.stdout.strip() == "False"


def test_cannot_write_outside_its_directory(tmp_path):
    targets = [
        str(tmp_path / "escape.txt"),
        "/tmp/pixmo-sandbox-escape.txt",
        "/etc/pixmo-escape.txt",
        str(Path(__file__).parent / "escape.txt"),
    ]
    code = (
        f"for p in {targets!r}:\n"
        "    try:\n"
        "        open(p, 'w').write('x')\n"
        "        print('WROTE', p)\n"
        "    except OSError as e:\n"
        "        print('DENIED', p, type(e).__name__)\n"
    )
    res = run_python(code, limits=FAST)
    assert res.ok, res.reason
    for p in targets:
        assert not os.path.exists(p), p


def test_symlinked_output_is_not_followed():
    res = run_python("import os\nos.symlink('/etc/passwd', 'output.png')", collect=["output.png"], limits=FAST)
    assert res.ok, res.reason
    assert res.outputs == {}


def test_fork_bomb_is_contained():
    code = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    res = run_python(code, limits=Limits(wall_s=2, cpu_s=2, max_procs=32))
    assert not res.ok
    # The machine is fine: we can still start processes, and the bomb left nothing behind.
    assert subprocess.run(["true"]).returncode == 0
    assert run_python("print('alive')", limits=FAST).stdout.strip() == "alive"


def test_process_count_is_capped():
    code = (
        "import os, time\n"
        "n = 0\n"
        "for _ in range(200):\n"
        "    try:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(30)\n"
        "            os._exit(0)\n"
        "        n += 1\n"
        "    except OSError:\n"
        "        break\n"
        "print(n)\n"
    )
    res = run_python(code, limits=Limits(wall_s=5, cpu_s=5, max_procs=16))
    assert res.ok, res.reason
    assert int(res.stdout.strip()) < 16


def test_printing_gigabytes_is_capped():
    res = run_python(
        "import sys\nline = 'x' * 1_000_000 + '\\n'\nwhile True:\n    sys.stdout.write(line)",
        limits=Limits(wall_s=5, cpu_s=5, file_bytes=8 << 20),
    )
    assert not res.ok
    assert res.reason == "output too large"
    assert len(res.stdout) <= 16 * 1024


def test_large_file_is_capped():
    res = run_python("open('big.bin', 'wb').write(b'x' * (64 << 20))", limits=Limits(wall_s=3, file_bytes=4 << 20))
    assert not res.ok
    assert res.files.get("big.bin", 0) <= 4 << 20


def test_runs_commands():
    res = run_sandboxed(["sh", "-c", "echo hi > a.txt; cat a.txt"], collect=["a.txt"], limits=FAST)
    assert res.ok, res.reason
    assert res.outputs["a.txt"] == b"hi\n"
    assert run_sandboxed(["no-such-command-xyz"], limits=FAST).reason == "command not found: no-such-command-xyz"


def test_failing_command_reports_exit_code():
    res = run_sandboxed(["sh", "-c", "echo broken >&2; exit 3"], limits=FAST)
    assert not res.ok
    assert res.returncode == 3
    assert res.reason == "exit code 3: broken"


def test_refuses_without_namespaces_unless_weak_mode_allowed(monkeypatch):
    from generators.docs import sandbox
    from generators.docs.renderers import get_renderer
    from generators.docs.renderers.examples import GOOD

    monkeypatch.setattr(sandbox, "capabilities", lambda: sandbox.Capabilities("", False, False))
    monkeypatch.delenv("PIXMO_SANDBOX_ALLOW_WEAK", raising=False)
    with pytest.raises(sandbox.SandboxUnavailable):
        run_python("print(1)", limits=FAST)
    res = get_renderer("graphviz").render(GOOD["graphviz"])
    assert not res.ok and "SandboxUnavailable" in res.error
    # Weak mode: no namespaces, but limits, timeout and the scrubbed environment still apply.
    monkeypatch.setenv("PIXMO_SANDBOX_ALLOW_WEAK", "1")
    monkeypatch.setenv("PIXMO_TEST_SECRET", "hunter2")
    res = run_python("import os\nprint(os.environ.get('PIXMO_TEST_SECRET'))", limits=FAST)
    assert res.ok and res.stdout.strip() == "None"
    assert run_python("while True:\n    pass", limits=Limits(wall_s=1, cpu_s=5)).reason == "timeout"


# ---- the allow-listed root ----

isolated_only = pytest.mark.skipif(not capabilities().isolated, reason="no allow-listed root on this machine")


@pytest.fixture
def outside_dirs():
    """A new top-level directory and one under /var, each holding a secret: outside the allow-list."""
    made = []
    for parent in ("/", "/var"):
        d = Path(parent) / f"pixmo-allowlist-probe-{uuid.uuid4().hex[:8]}"
        try:
            d.mkdir()
        except OSError:
            pytest.skip(f"cannot create a directory in {parent} here")
        (d / "secret.txt").write_text("TOPSECRET")
        made.append(d)
    yield made
    for d in made:
        shutil.rmtree(d, ignore_errors=True)


@isolated_only
def test_directories_outside_the_allow_list_are_invisible(outside_dirs):
    paths = [str(d) for d in outside_dirs] + [str(d / "secret.txt") for d in outside_dirs]
    code = f"import os\nfor p in {paths!r}:\n    print(p, os.path.exists(p))\n"
    res = run_python(code, limits=FAST)
    assert res.ok, res.reason
    assert res.stdout.split() == [w for p in paths for w in (p, "False")]
    res = run_sandboxed(["sh", "-c", f"cat {paths[2]} {paths[3]}; ls /"], limits=FAST)
    assert "TOPSECRET" not in res.stdout
    assert outside_dirs[0].name not in res.stdout


@isolated_only
def test_root_holds_only_the_allow_list():
    res = run_sandboxed(["sh", "-c", "ls -a /; echo --; ls -a /var /opt"], limits=FAST)
    assert res.ok, res.reason
    top, rest = res.stdout.split("--")
    assert set(top.split()) - {".", ".."} <= {
        *"bin dev etc job lib lib32 lib64 libx32 opt pixmo proc runs sbin tmp usr var".split()
    }
    assert set(rest.split()) - {".", "..", "/var:", "/opt:"} <= {"cache", "lib", "python", "venv"}
    for hidden in ("/root", "/home", "/work", "/mnt", "/srv", "/data", str(REPO_ROOT)):
        assert not any(line == hidden.lstrip("/") for line in top.split()), hidden


@isolated_only
def test_proc_shows_only_the_jobs_own_processes():
    code = (
        "import os\n"
        "pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())\n"
        "print(pids, os.getpid())\n"
        "for p in pids:\n"
        "    print(open(f'/proc/{p}/cmdline').read().replace(chr(0), ' '))\n"
    )
    res = run_python(code, limits=FAST)
    assert res.ok, res.reason
    first, *cmdlines = res.stdout.strip().splitlines()
    assert first == "[1, 2] 2"  # the job's init and the program itself, nothing of the host
    assert "main.py" in cmdlines[1]
    for forbidden in ("pytest", str(REPO_ROOT), os.path.realpath(sys.prefix)):
        assert forbidden not in res.stdout


@isolated_only
def test_paths_inside_do_not_name_the_checkout():
    code = (
        "import os, sys, json\n"
        "import numpy\n"
        "print(json.dumps([sys.executable, sys.prefix, sys.path, numpy.__file__, os.getcwd(), dict(os.environ)]))\n"
        "print(open('/proc/self/cmdline').read(), open('/proc/1/cmdline').read())\n"
        "print(open('/proc/self/environ').read())\n"
        "numpy.zeros(3).reshape(7)\n"
    )
    res = run_python(code, limits=FAST)
    assert res.reason.startswith("exception: ValueError"), res.reason
    assert "/opt/venv/" in res.stdout and '"/job"' in res.stdout
    text = res.stdout + res.stderr
    for forbidden in (str(REPO_ROOT), os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix)):
        assert forbidden not in text, forbidden
    assert 'File "/job/main.py", line 6' in res.stderr


@isolated_only
def test_refusal_names_the_missing_layer(monkeypatch):
    from generators.docs import sandbox

    monkeypatch.delenv("PIXMO_SANDBOX_ALLOW_WEAK", raising=False)
    monkeypatch.setattr(sandbox, "capabilities", lambda: sandbox.Capabilities("root", True, False, True))
    with pytest.raises(sandbox.SandboxUnavailable, match="cgroups"):
        run_python("print(1)", limits=FAST)
    monkeypatch.setattr(sandbox, "capabilities", lambda: sandbox.Capabilities("root", True, True, False))
    with pytest.raises(sandbox.SandboxUnavailable, match="allow-listed root"):
        run_sandboxed(["true"], limits=FAST)
    with pytest.raises(sandbox.SandboxUnavailable, match="allow-listed root"):
        sandbox.WarmPython("matplotlib_harness").run("print(1)", limits=FAST)
    monkeypatch.setattr(sandbox, "capabilities", lambda: sandbox.Capabilities("", False, True))
    with pytest.raises(sandbox.SandboxUnavailable, match="namespaces"):
        run_python("print(1)", limits=FAST)
    # Told to run weaker, it runs with what there is: here namespaces and root, without cgroups.
    monkeypatch.setenv("PIXMO_SANDBOX_ALLOW_WEAK", "1")
    real = capabilities()
    monkeypatch.setattr(
        sandbox, "capabilities", lambda: sandbox.Capabilities(real.namespaces, real.drop_uid, False, real.root)
    )
    res = run_python("import os\nprint(os.path.exists('/work'), os.getuid() != 0)", limits=FAST)
    assert res.ok and res.stdout.split() == ["False", "True"]
    assert "cgroups=False" in res.isolation
