"""scripts/gpu_check.py: its CPU self-test (every check that can run on a CPU, as on a GPU machine but on the CPU),
the no-GPU answer, and that a failing or hung check fails the run."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "gpu_check.py"


def load_script():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def table_rows(stdout: str) -> dict[str, list[str]]:
    """check -> [device, result, ...] from the printed table."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("check ")) + 2
    rows = {}
    for line in lines[start:]:
        if line.startswith("gpu_check:"):
            break
        check, device, status, *rest = line.split()
        rows[check] = [device, status, *rest]
    return rows


@pytest.fixture(scope="module")
def self_test(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("gpu-check")
    command = [sys.executable, str(SCRIPT), "--self-test", "--workdir", str(workdir)]
    return subprocess.run(command, capture_output=True, text=True, timeout=3600)


def test_self_test_runs_every_check_that_a_cpu_can(self_test):
    assert self_test.returncode == 0, self_test.stdout + self_test.stderr[-4000:]
    rows = table_rows(self_test.stdout)
    assert {check: row[:2] for check, row in rows.items()} == {
        "llm-vllm": ["cpu", "ok"],
        "llm-runinference": ["cpu", "ok"],
        "asr": ["cpu", "ok"],
        "detector": ["cpu", "ok"],
        "trainer": ["cpu", "ok"],
        "ddp": ["cpu", "skip"],
    }
    out = self_test.stdout
    assert "transformers in RunInference" in out and "WER" in out and "RTF" in out
    assert "counts {'bus.jpg': 4, 'zidane.jpg': 2} = CPU's" in out
    assert "resume exact" in out
    assert "6 of 6 passed or skipped" in out


@pytest.mark.skipif(load_script().gpu_count() > 0, reason="a GPU is here: the script would run every check")
def test_without_a_gpu_it_says_so_and_exits_0():
    done = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "no GPU here" in done.stdout


def test_a_hung_check_fails_the_run(tmp_path, capsys):
    code = load_script().main(["--self-test", "--only", "asr", "--timeout", "0.5", "--workdir", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1
    assert table_rows(out)["asr"][:2] == ["cpu", "FAIL"] and "timed out after 0.5s" in out
    assert "FAILED: asr" in out


def test_a_failing_check_is_a_row_with_its_reason(tmp_path, monkeypatch):
    module = load_script()

    def broken(device, workdir):
        raise AssertionError("counts {'bus.jpg': 3}")

    monkeypatch.setitem(module.CHECKS, "detector", broken)
    row = module.run_in_this_process("detector", "cpu", tmp_path)
    assert (row.status, row.detail) == ("FAIL", "AssertionError: counts {'bus.jpg': 3}")
    assert "FAIL" in module.format_table([row])


def test_unknown_checks_are_refused():
    with pytest.raises(SystemExit):
        load_script().main(["--only", "nope"])
