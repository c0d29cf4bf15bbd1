"""Cap throughput: ASR real-time factor through the Beam pipeline vs bare faster-whisper on the same audio, and
LLM captions/s batched vs one at a time.

ASR: espeak-ng speaks the sample descriptions (varied voices and speeds, so no two recordings are the same) into
wav files. The bare run hands each file to faster-whisper's `transcribe` (its own decoding) with the pipeline's
settings; the pipeline run is the Cap pipeline's ASR path as a Beam job on one local worker: read the bytes,
decode with ffmpeg, check, RunInference(ASRModelHandler). Both use the same model, device and thread count,
one after another in this one process tree. The pipeline's ASR step time comes from RunInference's own metrics;
the overhead is (decode + check + ASR step) against the bare run. Real-time factor = processing s / audio s.

LLM: the caption requests the pipeline sends (the sample transcripts), on the embedded SmolLM2, batched
(--llm-batch-size) vs one request at a time. Not a test: nothing here asserts a time.

    .venv/bin/python bench/asr.py [--recordings 6] [--threads 1] [--captions 8] [--caption-tokens 96]
"""

import argparse
import logging
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import apache_beam as beam  # noqa: E402
from apache_beam.metrics.metric import Metrics, MetricsFilter  # noqa: E402
from apache_beam.ml.inference.base import RunInference  # noqa: E402

from annotation.cap.captions import CaptionSettings, caption_request  # noqa: E402
from annotation.cap.make_sample_manifest import speak  # noqa: E402
from annotation.cap.samples import DESCRIPTIONS  # noqa: E402
from inference.asr import (  # noqa: E402
    SAMPLE_RATE,
    ASRConfig,
    ASRModelHandler,
    AudioRequest,
    WhisperTranscriber,
    check_audio,
    decode_audio,
)
from inference.llm.config import LLMConfig  # noqa: E402
from inference.llm.transformers_backend import TransformersBackend  # noqa: E402
from pipelines.common.options import new_pipeline, pipeline_options  # noqa: E402

VOICES = [("en-us", 130), ("en-gb", 140), ("en-us", 150)]


def make_recordings(folder: str, count: int) -> list[str]:
    texts = [t for ts in DESCRIPTIONS.values() for t in ts]
    paths = []
    for i in range(count):
        voice, speed = VOICES[(i // len(texts)) % len(VOICES)]
        path = os.path.join(folder, f"rec{i:03d}.wav")
        speak(texts[i % len(texts)], path, voice, speed + 5 * (i // (len(texts) * len(VOICES))))
        paths.append(path)
    return paths


def bare(paths: list[str], config: ASRConfig) -> tuple[float, float, int]:
    """(model load s, transcription s, words) with faster-whisper alone, the pipeline's decoding settings."""
    start = time.perf_counter()
    transcriber = WhisperTranscriber(config).load()
    loaded = time.perf_counter()
    words = 0
    for path in paths:
        segments, _ = transcriber.model.transcribe(
            path, language=config.language, beam_size=config.beam_size, temperature=0.0, word_timestamps=True,
            condition_on_previous_text=False, vad_filter=False,
        )  # fmt: skip
        words += sum(len(s.words or []) for s in segments)
    return loaded - start, time.perf_counter() - loaded, words


class DecodeForASR(beam.DoFn):
    """The pipeline's per-recording work before ASR (LoadRecord without the image): read, ffmpeg, checks."""

    def __init__(self) -> None:
        self.seconds = Metrics.distribution("bench", "decode_micro_secs")

    def process(self, path: str):
        start = time.perf_counter()
        with open(path, "rb") as handle:
            samples = decode_audio(handle.read())
        check_audio(samples)
        self.seconds.update(int((time.perf_counter() - start) * 1e6))
        yield AudioRequest(path, samples, path)


def pipeline(paths: list[str], config: ASRConfig) -> tuple[float, float, float, int]:
    """(job s, decode s, ASR step s, words) for the ASR path as a Beam job on one local worker."""
    options, runner = pipeline_options([], 1)
    graph = new_pipeline(options, runner)
    words = Metrics.counter("bench", "words")

    def count_words(result):
        words.inc(len(result.transcript.words) if result.transcript else 0)
        return result.error

    _ = (
        graph
        | beam.Create(paths)
        | beam.Reshuffle()
        | beam.ParDo(DecodeForASR())
        | RunInference(ASRModelHandler(config))
        | beam.Map(count_words)
    )
    start = time.perf_counter()
    result = graph.run()
    result.wait_until_finish()
    job_s = time.perf_counter() - start
    bench = result.metrics().query(MetricsFilter().with_namespace("bench"))
    asr = result.metrics().query(MetricsFilter().with_namespace("ASR"))
    decode_s = sum(m.committed.sum for m in bench["distributions"]) / 1e6
    latency = [m.committed for m in asr["distributions"] if m.key.metric.name == "inference_batch_latency_micro_secs"]
    step_s = latency[0].sum / 1e6 if latency else float("nan")
    return job_s, decode_s, step_s, sum(m.committed for m in bench["counters"])


def llm_rates(captions: int, tokens: int, batch_size: int, threads: int) -> list[tuple[str, int, float, int]]:
    texts = [t for ts in DESCRIPTIONS.values() for t in ts]
    settings = CaptionSettings(max_new_tokens=tokens)
    requests = [caption_request(str(i), [texts[i % len(texts)]], settings, seed=i) for i in range(captions)]
    backend = TransformersBackend(LLMConfig(batch_size=batch_size, cpu_threads=threads))
    backend.load()
    backend.generate(requests[:1])  # warm-up
    rows = []
    for name, size in ((f"LLM captions, batch {batch_size}", batch_size), ("LLM captions, one at a time", 1)):
        start = time.perf_counter()
        done = 0
        for i in range(0, len(requests), size):
            done += sum(r.completion_tokens for r in backend.generate(requests[i : i + size]))
        rows.append((name, len(requests), time.perf_counter() - start, done))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recordings", type=int, default=6)
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for ASR and LLM (default: 1)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--asr-batch-size", type=int, default=4)
    parser.add_argument("--captions", type=int, default=8)
    parser.add_argument("--caption-tokens", type=int, default=96)
    parser.add_argument("--llm-batch-size", type=int, default=8)
    args = parser.parse_args()
    logging.getLogger("apache_beam").setLevel(logging.ERROR)  # the local runner relays worker chatter as warnings
    config = ASRConfig(device=args.device, cpu_threads=args.threads, batch_size=args.asr_batch_size)

    with tempfile.TemporaryDirectory() as folder:
        paths = make_recordings(folder, args.recordings)
        audio_s = 0.0
        for path in paths:
            with open(path, "rb") as handle:
                audio_s += decode_audio(handle.read()).size / SAMPLE_RATE
        load_s, bare_s, bare_words = bare(paths, config)
        job_s, decode_s, step_s, words = pipeline(paths, config)

    print(f"\nCap ASR: embedded tiny.en on {args.device}, {config.resolved_compute_type()}, {args.threads} thread(s), "
          f"{len(paths)} espeak-ng recordings, {audio_s:.0f} s of audio, {os.cpu_count()} CPUs")  # fmt: skip
    print(f"{'run':<44} {'seconds':>8} {'RTF':>7} {'vs bare':>8}  note")
    table = [
        ("bare faster-whisper (decode + ASR)", bare_s, f"{bare_words} words; model load {load_s:.1f}s apart"),
        ("pipeline: ASR step (RunInference)", step_s, "handler run_inference time, from Beam metrics"),
        ("pipeline: decode + checks + ASR step", decode_s + step_s, f"ffmpeg + checks {decode_s:.2f}s; {words} words"),
        ("pipeline: whole Beam job", job_s, "incl. worker start and model load"),
    ]
    for name, secs, note in table:
        print(f"{name:<44} {secs:>8.2f} {secs / audio_s:>7.3f} {secs / bare_s:>7.2f}x  {note}")
    overhead = (decode_s + step_s) / bare_s - 1
    print(
        f"\npipeline overhead on the same audio (decode + checks + ASR step vs bare): {overhead:+.1%} (target <= 15%)"
    )

    rows = llm_rates(args.captions, args.caption_tokens, args.llm_batch_size, args.threads)
    print(
        f"\nCap LLM: embedded SmolLM2-135M, {args.captions} caption requests, <= {args.caption_tokens} new tokens each"
    )
    print(f"{'run':<44} {'seconds':>8} {'caps/s':>7} {'tok/s':>7} {'vs one':>7}")
    one = rows[1][1] / rows[1][2]
    for name, count, secs, tokens in rows:
        print(f"{name:<44} {secs:>8.2f} {count / secs:>7.3f} {tokens / secs:>7.1f} {count / secs / one:>6.2f}x")


if __name__ == "__main__":
    main()
