#!/usr/bin/env python
"""Exercise every GPU code path on tiny models this script makes itself (nothing is downloaded).

    python scripts/gpu_check.py                # on a GPU machine: every check on CUDA, a table, exit 1 on a failure
    python scripts/gpu_check.py --self-test    # anywhere: the same checks on the CPU where they can run (CI runs it)
    python scripts/gpu_check.py --only asr,detector --timeout 300

Without a GPU (and without --self-test) it says so and exits 0.

  llm-vllm          the vllm backend on a tiny random-weight Llama (save_pretrained here): batched chat and
                    completion requests return text, seeded requests repeat exactly; tokens/s
  llm-runinference  Beam's vLLM handlers through RunInference (LLMModelHandler on Beam's DirectRunner)
  asr               faster-whisper on CUDA float16 with the embedded tiny.en, on espeak-ng speech: WER, real-time factor
  detector          the embedded YOLO on CUDA: the same counts as on the CPU on bus.jpg / zidane.jpg (4 and 2); img/s
  trainer           tiny config on real Clocks shards (beam_runner.py): bf16 autocast, a few steps, MFU, checkpoint
                    save and exact resume
  ddp               the trainer under torchrun with 2 processes (NCCL), when 2 GPUs exist

On the CPU (--self-test) the two LLM checks send the same requests to the same tiny model through the transformers
backend (vLLM needs CUDA), ddp is skipped (tests/trainer runs DDP on gloo) and the rest run as they do on a GPU.
Each check runs in a process of its own (its own CUDA context and time limit; servers it started end with it).
"""

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script from a checkout: the project's packages are beside scripts/
    sys.path.insert(0, str(REPO))

RESULT_MARK = "GPU_CHECK_RESULT "
EXPECTED_COUNTS = {"bus.jpg": ("person", 4), "zidane.jpg": ("person", 2)}
SPEECH = (
    "Two men in dark suits stand at a football stadium at night. The man on the left is bald, and he shouts with "
    "his mouth wide open."
)
WER_BOUND = 0.25  # tiny.en measured 0.0-0.1 on espeak-ng speech (tests/pipelines/test_cap.py)


@dataclass
class Row:
    check: str
    device: str
    status: str  # ok | FAIL | skip
    metric: str = ""
    detail: str = ""
    seconds: float = 0.0


class Skip(Exception):
    """The check cannot run here (not a failure): its reason goes in the table."""


# -- what the checks share --


def log(message: str) -> None:
    print(f"[gpu_check] {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def timed() -> Iterator[list[float]]:
    box = [0.0]
    start = time.perf_counter()
    try:
        yield box
    finally:
        box[0] = time.perf_counter() - start


def build_once(target: Path, build: Callable[[Path], None]) -> Path:
    """`target` made by `build(tmp)` and renamed into place, unless an earlier check made it."""
    if target.exists():
        return target
    tmp = Path(tempfile.mkdtemp(prefix=target.name + ".tmp-", dir=target.parent))
    build(tmp)
    os.replace(tmp, target)
    return target


def tiny_llm(workdir: Path) -> Path:
    """A 2-layer random-weight Llama with SmolLM2's tokenizer (and chat template), saved with save_pretrained.

    Special tokens get zero output weights, so greedy decoding never ends at once: every request generates text.
    """

    def build(out: Path) -> None:
        import torch
        from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

        from inference.llm.models import embedded_gguf_path

        gguf = embedded_gguf_path()
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        torch.manual_seed(0)
        config = LlamaConfig(
            vocab_size=len(tokenizer),
            hidden_size=256,
            intermediate_size=512,
            num_hidden_layers=2,
            num_attention_heads=4,  # head size 64: every vLLM attention backend has kernels for it
            num_key_value_heads=4,
            max_position_embeddings=2048,
            tie_word_embeddings=False,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
        model = LlamaForCausalLM(config)
        with torch.no_grad():
            model.lm_head.weight[sorted(set(tokenizer.all_special_ids))] = 0.0
        model.to(torch.bfloat16).save_pretrained(out)
        tokenizer.save_pretrained(out)

    return build_once(workdir / "tiny-llama", build)


def llm_requests(device: str) -> list:
    """Greedy chat requests (one batch) and seeded sampled prompts (a params group each); fewer on the CPU."""
    from inference.llm import ChatMessage, GenerationParams, LLMRequest

    n, tokens = (8, 24) if device == "cuda" else (3, 8)
    greedy = GenerationParams(max_new_tokens=tokens)
    chats = [
        LLMRequest(
            messages=(ChatMessage("user", f"Describe photo number {i} in one sentence."),),
            params=greedy,
            key=f"chat-{i}",
        )
        for i in range(n)
    ]
    prompts = [
        LLMRequest(
            prompt=f"Caption {i}: a red bus on a street,",
            params=GenerationParams(max_new_tokens=tokens, temperature=0.8, seed=100 + i),
            key=f"prompt-{i}",
        )
        for i in range(n)
    ]
    return chats + prompts


def llm_config(model_dir: Path, device: str):
    from inference.llm import LLMConfig

    if device == "cuda":
        # A slice of the GPU (a check may start two servers) and no CUDA graph capture (a faster start).
        server = (("gpu-memory-utilization", "0.3"), ("max-model-len", "1024"), ("enforce-eager", None))
        return LLMConfig(backend="vllm", model=str(model_dir), batch_size=16, vllm_server_kwargs=server)
    return LLMConfig(backend="transformers", model=str(model_dir), device="cpu", batch_size=8, cpu_threads=2)


def check_results(requests: list, results: list) -> list[str]:
    problems = []
    if [r.key for r in results] != [q.key for q in requests]:
        problems.append(f"results for {len(results)} of {len(requests)} requests, or out of order")
    problems += [f"{r.key}: {r.error}" for r in results if not r.ok]
    problems += [f"{r.key}: no tokens counted" for r in results if r.ok and r.completion_tokens < 1]
    return problems


def stop_vllm_server(backend: object) -> None:
    # Beam's server object has no public stop; the process group is ended after the check anyway.
    stop = getattr(getattr(backend, "_server", None), "_stop_processes", None)
    if stop is not None:
        stop()


# -- the checks (each returns (metric, detail) or raises; Skip for "cannot run here") --


def check_llm_vllm(device: str, workdir: Path) -> tuple[str, str]:
    from inference.llm import make_llm

    config = llm_config(tiny_llm(workdir), device)
    backend = make_llm(config)
    requests = llm_requests(device)
    with timed() as load:
        backend.load()
    try:
        backend.generate(requests[:2])  # warm-up
        with timed() as took:
            results = backend.generate(requests)
        again = backend.generate([r for r in requests if r.params.seed is not None])
    finally:
        stop_vllm_server(backend)
    problems = check_results(requests, results)
    seeded = {r.key: r.text for r in results if r.key.startswith("prompt-")}
    problems += [
        f"{r.key}: a seeded request gave another text the second time" for r in again if seeded.get(r.key) != r.text
    ]
    if problems:
        raise AssertionError("; ".join(problems[:5]))
    tokens = sum(r.completion_tokens for r in results)
    return (
        f"{tokens / took[0]:.0f} tokens/s",
        f"{config.backend}: {len(requests)} requests, {tokens} tokens in {took[0]:.2f}s; load {load[0]:.1f}s",
    )


def check_llm_runinference(device: str, workdir: Path) -> tuple[str, str]:
    import apache_beam as beam
    from apache_beam.ml.inference.base import RunInference

    from inference.llm import LLMModelHandler, LLMResult
    from pipelines.common.options import in_process_pipeline

    config = llm_config(tiny_llm(workdir), device)
    requests = llm_requests(device)
    out = workdir / "runinference"
    shutil.rmtree(out, ignore_errors=True)
    with timed() as took:
        with in_process_pipeline() as pipeline:  # Beam's FnApiRunner in this process, never Prism
            _ = (
                pipeline
                | "Requests" >> beam.Create(requests)
                | "Generate" >> RunInference(LLMModelHandler(config))
                | "ToJson" >> beam.Map(lambda r: json.dumps(asdict(r)))
                | "Write" >> beam.io.WriteToText(str(out / "results"), file_name_suffix=".jsonl")
            )
    results = [
        LLMResult(**json.loads(line)) for path in out.glob("results*.jsonl") for line in path.read_text().splitlines()
    ]
    results.sort(key=lambda r: [q.key for q in requests].index(r.key))
    problems = check_results(requests, results)
    if problems:
        raise AssertionError("; ".join(problems[:5]))
    tokens = sum(r.completion_tokens for r in results)
    handler = "Beam's vLLM handlers" if config.backend == "vllm" else "transformers"
    return f"{len(results)} results", f"{handler} in RunInference: {tokens} tokens, {took[0]:.1f}s with model load"


def check_asr(device: str, workdir: Path) -> tuple[str, str]:
    from annotation.cap.make_sample_manifest import speak
    from annotation.cap.wer import word_error_rate
    from inference.asr import ASRConfig, WhisperTranscriber, decode_audio_file

    wav = workdir / "speech.wav"
    speak(SPEECH, str(wav))
    samples = decode_audio_file(str(wav))
    seconds = len(samples) / 16_000
    compute = "float16" if device == "cuda" else "int8"
    config = ASRConfig(device=device, compute_type=compute, cpu_threads=2 if device == "cpu" else 0)
    transcriber = WhisperTranscriber(config).load()
    try:
        transcriber.transcribe(samples[: 16_000 * 2])  # warm-up
    except RuntimeError as error:
        if "libcublas.so.12" in str(error):  # CTranslate2 is built for CUDA 12; torch brings CUDA 13's cuBLAS
            raise RuntimeError(
                f"{error}: install nvidia-cublas-cu12 and put its lib folder on LD_LIBRARY_PATH (the GPU image does)"
            ) from error
        raise
    with timed() as took:
        transcript = transcriber.transcribe(samples)
    wer = word_error_rate(SPEECH, transcript.text)
    if wer > WER_BOUND or not transcript.words:
        raise AssertionError(f"WER {wer:.2f} (bound {WER_BOUND}), {len(transcript.words)} words: {transcript.text!r}")
    return f"RTF {took[0] / seconds:.3f}", f"tiny.en {compute}: {seconds:.1f}s of speech, WER {wer:.2f}"


def detector_counts(detector, photos: dict) -> dict[str, tuple[str, int]]:
    from annotation.count import count_objects

    found = detector.detect(list(photos.values()))
    counts = {}
    for (name, image), detections in zip(photos.items(), found, strict=True):
        result = count_objects(detections.boxes, detections.scores, detections.labels, image.width, image.height)
        counts[name] = (result.label, result.count)
    return counts


def check_detector(device: str, workdir: Path) -> tuple[str, str]:
    from PIL import Image

    from inference.detector import YoloDetector
    from media.samples import bundled_images_dir

    assets = bundled_images_dir()
    if assets is None:
        raise Skip("ultralytics' sample photos are not installed")
    photos = {name: Image.open(os.path.join(assets, name)).convert("RGB") for name in EXPECTED_COUNTS}
    on_device = YoloDetector("embedded", device="cuda:0" if device == "cuda" else "cpu", score_floor=0.2).load()
    counts = detector_counts(on_device, photos)
    cpu_counts = (
        counts
        if device == "cpu"
        else detector_counts(YoloDetector("embedded", device="cpu", score_floor=0.2).load(), photos)
    )
    if counts != cpu_counts or counts != EXPECTED_COUNTS:
        raise AssertionError(f"counts {counts}, on the CPU {cpu_counts}, expected {EXPECTED_COUNTS}")
    batch, rounds = (list(photos.values()) * 4, 3) if device == "cuda" else (list(photos.values()), 1)
    on_device.detect(batch)  # warm-up
    with timed() as took:
        for _ in range(rounds):
            on_device.detect(batch)
    return f"{rounds * len(batch) / took[0]:.1f} img/s", f"counts {dict((k, v[1]) for k, v in counts.items())} = CPU's"


def clocks_shards(workdir: Path) -> Path:
    """40 real Clocks rows, written by the real pipeline (the trainer reads what the pipelines write)."""

    def build(out: Path) -> None:
        command = [
            sys.executable, str(REPO / "beam_runner.py"), "clocks", "--output", str(out), "--num-examples", "40",
            "--splits", "train=32,validation=8", "--image-size", "224", "--workers", "2", "--no-progress",
        ]  # fmt: skip
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f"beam_runner.py clocks failed: {(done.stdout + done.stderr)[-800:]}")

    return build_once(workdir / "clocks-data", build) / "clocks"


def trainer_config(workdir: Path) -> Path:
    path = workdir / "tiny-train.json"
    train = {"batch_size": 4, "num_workers": 0, "log_every": 1, "shuffle_buffer": 4, "threads": 2}
    path.write_text(json.dumps({"preset": "tiny", "model": {"tokenizer": "byte"}, "train": train}))
    return path


def check_trainer(device: str, workdir: Path) -> tuple[str, str]:
    from safetensors.torch import load_file

    from trainer.train import main as train_main

    data, config = clocks_shards(workdir), trainer_config(workdir)
    straight, resumed = workdir / "train-straight", workdir / "train-resumed"
    for folder in (straight, resumed):
        shutil.rmtree(folder, ignore_errors=True)
    common = ["--data", str(data), "--config", str(config), "--steps", "6", "--save-every", "3", "--no-progress"]
    train_main([*common, "--out", str(straight), "--device", device])
    shutil.copytree(straight / "checkpoints" / "step_0000003", resumed / "checkpoints" / "step_0000003")
    train_main([*common, "--out", str(resumed), "--device", device])
    a, b = load_file(straight / "final" / "model.safetensors"), load_file(resumed / "final" / "model.safetensors")
    differ = [k for k in a if not (a[k] == b[k]).all()]
    metrics = [json.loads(line) for line in (straight / "metrics.jsonl").read_text().splitlines()]
    again = [json.loads(line) for line in (resumed / "metrics.jsonl").read_text().splitlines()]
    if differ or [m["loss"] for m in metrics[3:]] != [m["loss"] for m in again]:
        worst = max(((a[k].float() - b[k].float()).abs().max().item(), k) for k in differ) if differ else (0.0, "")
        raise AssertionError(
            f"resume is not exact: {len(differ)} tensors differ (largest {worst[0]:.3g} in {worst[1]}); losses "
            f"{[m['loss'] for m in metrics[3:]]} vs {[m['loss'] for m in again]}"
        )
    last = metrics[-1]
    if device == "cuda" and "mfu" not in last:
        raise AssertionError("no MFU logged on CUDA (an unknown GPU name in trainer.train.PEAK_FLOPS?)")
    mfu = f"MFU {last['mfu']:.2%}" if "mfu" in last else "MFU n/a on CPU"
    precision = "bf16 autocast" if device == "cuda" else "fp32"
    return mfu, f"{precision}, {last['tokens_per_s']:.0f} tokens/s, loss {last['loss']:.3f}; resume exact"


def check_ddp(device: str, workdir: Path) -> tuple[str, str]:
    import torch

    if device != "cuda":
        raise Skip("CPU: tests/trainer/test_trainer_train.py runs 2-process DDP on gloo")
    if torch.cuda.device_count() < 2:
        raise Skip(f"needs 2 GPUs, found {torch.cuda.device_count()}")
    data, config, out = clocks_shards(workdir), trainer_config(workdir), workdir / "train-ddp"
    shutil.rmtree(out, ignore_errors=True)
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(free_port()),
        "-m", "trainer.train", "--data", str(data), "--config", str(config), "--out", str(out), "--steps", "3",
        "--no-progress",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise AssertionError(f"torchrun failed: {(done.stdout + done.stderr)[-800:]}")
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    if [r["step"] for r in rows] != [1, 2, 3]:
        raise AssertionError(f"logged steps {[r['step'] for r in rows]}")
    return f"{rows[-1]['samples_per_s']:.0f} samples/s", "2 processes (NCCL), 3 steps in lockstep"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CHECKS: dict[str, Callable[[str, Path], tuple[str, str]]] = {
    "llm-vllm": check_llm_vllm,
    "llm-runinference": check_llm_runinference,
    "asr": check_asr,
    "detector": check_detector,
    "trainer": check_trainer,
    "ddp": check_ddp,
}


# -- running checks, each in its own process group --


def run_in_this_process(name: str, device: str, workdir: Path) -> Row:
    start = time.perf_counter()
    try:
        metric, detail = CHECKS[name](device, workdir)
        row = Row(name, device, "ok", metric, detail)
    except Skip as why:
        row = Row(name, device, "skip", detail=str(why))
    except Exception as error:  # the table reports it; the traceback went to stderr
        import traceback

        traceback.print_exc()
        row = Row(name, device, "FAIL", detail=f"{type(error).__name__}: {error}")
    row.seconds = round(time.perf_counter() - start, 1)
    return row


def run_isolated(name: str, device: str, workdir: Path, timeout_s: float) -> Row:
    command = [sys.executable, str(Path(__file__).resolve()), "--run-check", name, "--device", device]
    command += ["--workdir", str(workdir)]
    start = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        stdout, stderr = "", ""
        return Row(name, device, "FAIL", detail=f"timed out after {timeout_s:g}s", seconds=round(timeout_s, 1))
    finally:
        # The check's own children (a vLLM server, Beam's shared-model process, torchrun workers) end with it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    sys.stderr.write(stderr)
    marked = [line for line in stdout.splitlines() if line.startswith(RESULT_MARK)]
    if not marked:
        tail = (stderr.strip().splitlines() or ["no output"])[-1]
        seconds = round(time.perf_counter() - start, 1)
        return Row(
            name, device, "FAIL", detail=f"exited {process.returncode} without a result: {tail}", seconds=seconds
        )
    return Row(**json.loads(marked[-1][len(RESULT_MARK) :]))


def format_table(rows: list[Row]) -> str:
    headers = ("check", "device", "result", "metric", "seconds", "detail")
    cells = [(r.check, r.device, r.status, r.metric, f"{r.seconds:.1f}", r.detail) for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers[:-1])]
    lines = []
    for values in (headers, *cells):
        lines.append("  ".join(v.ljust(w) for v, w in zip(values[:-1], widths, strict=True)) + "  " + values[-1])
    lines.insert(1, "  ".join("-" * w for w in widths) + "  " + "-" * len(headers[-1]))
    return "\n".join(lines)


def gpu_count() -> int:
    try:
        import torch
    except ImportError:
        return 0
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--self-test", action="store_true", help="Run the checks on the CPU (what CI runs).")
    parser.add_argument("--only", default=",".join(CHECKS), help="Comma-separated checks (default: all).")
    parser.add_argument("--timeout", type=float, default=900.0, help="Seconds per check (default: 900).")
    parser.add_argument("--workdir", default=None, help="Where tiny models and data go (default: a temp folder).")
    parser.add_argument("--run-check", default=None, help=argparse.SUPPRESS)  # one check, in this process
    parser.add_argument("--device", default="cuda", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.run_check:
        row = run_in_this_process(args.run_check, args.device, Path(args.workdir))
        print(RESULT_MARK + json.dumps(asdict(row)), flush=True)
        return 0
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        parser.error(f"unknown checks {', '.join(unknown)}; known: {', '.join(CHECKS)}")
    gpus = gpu_count()
    if not gpus and not args.self_test:
        print("gpu_check: no GPU here (torch sees no CUDA device): nothing to check. --self-test runs the CPU checks.")
        return 0
    device = "cpu" if args.self_test else "cuda"
    print(f"gpu_check: {len(names)} checks on {device}" + (f" ({gpus} GPU(s))" if device == "cuda" else ""))
    with contextlib.ExitStack() as stack:
        if args.workdir:
            workdir = Path(args.workdir)
            workdir.mkdir(parents=True, exist_ok=True)
        else:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gpu-check-")))
        rows = []
        for name in names:
            log(f"{name} ...")
            rows.append(run_isolated(name, device, workdir, args.timeout))
            log(f"{name}: {rows[-1].status} {rows[-1].metric} {rows[-1].detail}")
    print(format_table(rows))
    failed = [r.check for r in rows if r.status == "FAIL"]
    print(
        f"gpu_check: {len(rows) - len(failed)} of {len(rows)} passed or skipped"
        + (f"; FAILED: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
