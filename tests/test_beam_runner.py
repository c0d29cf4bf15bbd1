"""The CLI: listing, help, refusing unbuilt subsets and bad arguments before any work starts."""

import subprocess
import sys

import pytest

import beam_runner
from pipelines.registry import SUBSETS, SubsetInfo, load

ROOT = beam_runner.__file__.rsplit("/", 1)[0]


def run_cli(*args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "beam_runner.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def test_list_names_every_subset_once():
    result = run_cli("--list")
    assert result.returncode == 0
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert names == ["cap", "ama", "points", "capqa", "docs", "clocks", "count", "all"]
    assert "ready" in result.stdout
    assert ("not built yet" in result.stdout) == (not all(info.built for info in SUBSETS.values()))


def test_unbuilt_subsets_say_so_with_exit_code_2(monkeypatch, capsys):
    # Every PixMo subset is built now; the path stays for subsets added to the registry before their pipeline.
    monkeypatch.setitem(beam_runner.SUBSETS, "future", SubsetInfo("future", "a subset not built yet", None))
    assert beam_runner.main(["future"]) == 2
    assert "not built yet" in capsys.readouterr().err


def test_unknown_subset_is_a_usage_error(capsys):
    assert beam_runner.main(["clock"]) == 2
    assert "unknown subset 'clock'" in capsys.readouterr().err


def test_subset_help_shows_common_subset_and_beam_options():
    result = run_cli("clocks", "--help")
    assert result.returncode == 0
    for flag in (
        "--output",
        "--num-examples",
        "--seed",
        "--splits",
        "--num-shards",
        "--image-format",
        "--runner",
    ):
        assert flag in result.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["--splits", "train=0.5"], "add up to 1"),
        (["--num-examples", "0"], "--num-examples must be at least 1"),
        (["--image-size", "8"], "image_size"),
        (["--jpeg-quality", "0"], "quality"),
        (["--frobnicate", "3"], "unknown option(s) --frobnicate"),
    ],
)
def test_bad_arguments_fail_before_any_work(tmp_path, capsys, args, message):
    assert beam_runner.main(["clocks", "--output", str(tmp_path), *args]) == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # nothing was started


def test_without_option_drops_flag_and_value():
    argv = ["--num-examples", "5", "--seed", "1", "--num-examples=7"]
    assert beam_runner._without_option(argv, "--num-examples") == ["--seed", "1"]
    assert beam_runner._has_option(argv, "--num-examples")


def test_all_rejects_unknown_skips(capsys):
    assert beam_runner.main(["all", "--skip", "clocks,clock"]) == 2
    assert "--skip names unknown subsets: clock" in capsys.readouterr().err


def test_all_runs_every_built_subset_in_order_with_its_own_options(monkeypatch, capsys):
    # The runs are recorded here: each subset's real run is tested in tests/pipelines, and the next test runs
    # `all` for real.
    ran: list[tuple[str, list[str]]] = []
    monkeypatch.setattr(beam_runner, "_run_one", lambda name, argv: ran.append((name, argv)) or 0)
    argv = ["all", "--skip", "docs", "--output", "OUT", "--num-examples", "2", "--seed", "3"]
    assert beam_runner.main(argv) == 0
    out = capsys.readouterr().out
    built = [name for name, info in SUBSETS.items() if info.built and name != "docs"]
    needs_input = [name for name in built if load(name).requires_input]
    names = [name for name, _ in ran]
    assert names == [name for name in built if name not in needs_input]
    assert names.index("cap") < names.index("capqa")  # CapQA reads Cap's output
    assert "docs: skipped (--skip)" in out
    for name in needs_input:
        assert f"{name}: skipped - needs --input" in out
    for name, args in ran:
        if load(name).default_num_examples is None:
            assert f"{name}: --num-examples ignored" in out and args == ["--output", "OUT", "--seed", "3"]
        else:
            assert args == ["--output", "OUT", "--num-examples", "2", "--seed", "3"]


def test_all_builds_each_subset_it_runs(tmp_path):
    # The model-driven subsets on embedded defaults run in their own tests (Cap, CapQA and Docs take minutes
    # each); here `all` runs Clocks and Count for real, one after the other, into one output folder.
    result = run_cli(
        "all", "--skip", "docs,cap,capqa", "--output", str(tmp_path), "--num-examples", "2", "--workers", "1",
        "--no-progress", "--preview-rows", "2", timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clocks", "count"]
    for name in ("clocks", "count"):
        assert (tmp_path / name / "manifest.json").exists()
    if not all(info.built for info in SUBSETS.values()):
        assert "not built yet" in result.stdout


def test_a_subset_without_models_never_imports_torch():
    # torch costs ~3.5 s of start-up; only the subsets with model rounds (RunInference) need it.
    code = (
        "import sys, beam_runner, pipelines.common.run; from pipelines.registry import load; "
        "[load(name) for name in ('clocks', 'points', 'ama')]; print('torch' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "False", done.stderr
