"""Every subset's Dataflow job graph, built and validated by Beam's DataflowRunner in a dry run from the CLI, fully
offline: any attempt to reach a non-local host fails the test at once (no two-minute retry loops). The GPU resource
hints must sit on the model steps only (LLM, ASR, detector), so decode, render and write steps never hold a GPU."""

import socket

import pytest

import beam_runner

pytest.importorskip("apache_beam.runners.dataflow")

L4 = "type:nvidia-l4;count:1;install-nvidia-driver:latest"
A100 = "type:nvidia-tesla-a100;count:1;install-nvidia-driver:latest"
BUCKET = "gs://my-bucket"
DATAFLOW = [
    "--output", f"{BUCKET}/pixmo", "--runner", "DataflowRunner", "--dry_run=True", "--no_auth",
    "--project", "my-project", "--region", "us-central1",
    "--temp_location", f"{BUCKET}/tmp", "--staging_location", f"{BUCKET}/staging",
]  # fmt: skip
LLM_ON_GPU = ["--llm-backend", "vllm", "--llm-model", "Qwen/Qwen2.5-7B-Instruct", "--llm-accelerator", A100]
# The lead's skeleton makes these dry runs offline (no listing or reading gs:// inputs while checking arguments).


class NetworkUsed(RuntimeError):
    """Not an OSError, so no client library retries it: the dry run fails on its first attempt."""


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    real_getaddrinfo = socket.getaddrinfo

    def local_only(host, *args, **kwargs):
        if host not in ("localhost", "127.0.0.1", "::1", None):
            raise NetworkUsed(f"the dry run tried to reach {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", local_only)


def dry_run(capsys, subset: str, *args: str) -> dict[str, str]:
    """Runs the CLI; returns the hinted steps it printed: {step: hints}."""
    code = beam_runner.main([subset, *args, *DATAFLOW])
    captured = capsys.readouterr()
    assert code == 0, captured.err[-3000:]
    assert f"{subset}: dry run - the DataflowRunner job graph was built and validated" in captured.out
    lines = [line.split("resource hints: ", 1)[1] for line in captured.out.splitlines() if "resource hints: " in line]
    assert lines, captured.out
    if lines == ["none (every step runs on the job's workers)"]:
        return {}
    return dict(line.split(": ", 1) for line in lines)


def test_clocks(capsys):
    assert dry_run(capsys, "clocks", "--num-examples", "826000", "--machine_type", "n2-standard-8") == {}


def test_docs_llm_on_the_make_and_write_step_only(capsys):
    """The LLM runs inside the shard writer; the hint goes on that step, not on listing and spreading the tasks."""
    hints = dry_run(capsys, "docs", "--num-examples", "5000", *LLM_ON_GPU, "--llm-min-ram", "32GB")
    assert hints == {"Docs/MakeAndWrite": f"accelerator={A100}, min_ram=32GB"}


def test_docs_with_a_remote_llm_holds_no_gpu(capsys):
    assert dry_run(capsys, "docs", "--llm-backend", "openai", "--llm-url", "http://llm.internal:8000/v1") == {}


def test_cap_asr_and_llm_steps_each_get_their_own_gpu(capsys):
    hints = dry_run(
        capsys, "cap", "--input", f"{BUCKET}/export/cap_manifest.jsonl",
        "--asr-device", "cuda", "--asr-accelerator", L4, *LLM_ON_GPU,
    )  # fmt: skip
    assert hints == {"Records/Transcribe": f"accelerator={L4}", "Records/Caption": f"accelerator={A100}"}


def test_capqa_both_llm_rounds(capsys):
    hints = dry_run(capsys, "capqa", "--input", f"{BUCKET}/pixmo/cap", *LLM_ON_GPU)
    assert hints == {"Records/Ask": f"accelerator={A100}", "Records/Answer": f"accelerator={A100}"}


def test_count_detector_step_only(capsys):
    hints = dry_run(
        capsys, "count", "--input", f"{BUCKET}/images/", "--device", "cuda",
        "--detector-accelerator", L4, "--detector-min-ram", "16GiB", "--machine_type", "n2-standard-8",
    )  # fmt: skip
    assert hints == {"Records/Detect": f"accelerator={L4}, min_ram=16GiB"}


@pytest.mark.parametrize("subset", ["points", "ama"])
def test_annotation_exports_have_no_model_step(capsys, subset):
    assert dry_run(capsys, subset, "--input", f"{BUCKET}/export") == {}


def test_model_steps_without_flags_hold_no_gpu(capsys):
    assert dry_run(capsys, "count", "--input", f"{BUCKET}/images/") == {}


def test_a_dry_run_without_a_valid_temp_location_fails_at_once(capsys):
    """Beam would look up a default bucket over the network and retry for two minutes."""
    argv = ["docs", *DATAFLOW]
    argv[argv.index("--temp_location") + 1] = "gs://b/tmp"  # bucket names need 3+ characters
    argv[argv.index("--staging_location") + 1] = "/local/staging"
    assert beam_runner.main(argv) == 2
    assert "a Dataflow dry run needs a valid --temp_location" in capsys.readouterr().err


def test_malformed_accelerators_are_usage_errors(capsys):
    for spec, why in (
        ("nvidia-l4", "names no GPU type"),
        ("type:nvidia-l4", "needs count:N"),
        ("type:nvidia-l4;count:1", "install-nvidia-driver"),
    ):
        with pytest.raises(SystemExit) as exit_info:
            beam_runner.main(["count", "--detector-accelerator", spec, *DATAFLOW])
        assert exit_info.value.code == 2
        assert why in capsys.readouterr().err
