"""Cap's options: the command-line flags, and the frozen dataclass they are parsed into once per run."""

import argparse
import os
import shutil
import tempfile
from dataclasses import dataclass, replace

from annotation.cap import CaptionSettings
from annotation.cap.make_sample_manifest import make_sample_manifest
from annotation.exports import CAP_MANIFEST
from inference.asr import ASRConfig, AudioChecks, add_asr_arguments, asr_config_from_args, resolve_model
from inference.llm import LLMConfig, add_llm_arguments, llm_config_from_args
from media import DecodeConfig, FetchConfig
from media.samples import bundled_images_dir
from pipelines.common.media_loader import add_image_limit_arguments
from pipelines.common.options import threads_per_worker, worker_llm
from pipelines.common.record_flow import CommonOptions
from pipelines.common.resources import add_accelerator_arguments, hints_for
from pipelines.common.splits import SplitSpec

SAMPLE_ENV = "PIXMO_CAP_SAMPLE_DIR"
EMBEDDED_LLM_TOKENS = 160


def sample_dir() -> str:
    """Where the default input (the espeak-ng sample manifest) is made once and reused."""
    root = os.environ.get(SAMPLE_ENV) or os.path.join(os.path.expanduser("~"), ".cache", "pixmo-pipeline")
    return os.path.join(root, "cap-sample-v1")


def ensure_sample_manifest() -> str:
    """The sample manifest's path, made on first use (in a temporary folder, then renamed: runs may race)."""
    target = sample_dir()
    path = os.path.join(target, CAP_MANIFEST)
    if not os.path.isfile(path):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        staging = tempfile.mkdtemp(prefix="cap-sample.tmp-", dir=os.path.dirname(target))
        make_sample_manifest(staging)
        try:
            os.rename(staging, target)
        except OSError:  # another run made it first
            shutil.rmtree(staging, ignore_errors=True)
    return path


@dataclass(frozen=True)
class CapOptions(CommonOptions):
    inputs: tuple[str, ...]
    sample: bool  # no --input: the espeak-ng sample manifest (made on first use)
    fetch: FetchConfig
    decode: DecodeConfig
    checks: AudioChecks
    settings: CaptionSettings
    asr: ASRConfig
    asr_id: str
    llm: LLMConfig
    llm_id: str
    llm_backend: str
    asr_hints: dict[str, str]  # Beam resource hints of the Transcribe and Caption steps
    llm_hints: dict[str, str]


def parse_cap_options(args: argparse.Namespace, code_version: str) -> tuple[CapOptions | None, list[str]]:
    problems = []
    if args.num_examples is not None:
        problems.append("--num-examples does not apply to cap: the manifest decides how many examples there are")
    try:
        if SplitSpec.parse(args.splits).exact:
            problems.append("--splits: cap assigns rows by a stable hash, so give fractions (train=0.98,...)")
    except ValueError:
        pass  # reported by the common checks
    for spec in args.input or []:
        if "://" not in spec and not os.path.isfile(spec):
            problems.append(f"--input {spec!r}: no such manifest file")
        if not spec.lower().endswith((".jsonl", ".csv", ".tsv", ".parquet")):
            problems.append(f"--input {spec!r}: a manifest is .jsonl, .csv, .tsv or .parquet")
    if not args.input and not os.path.isfile(os.path.join(sample_dir(), CAP_MANIFEST)):
        if shutil.which("espeak-ng") is None or bundled_images_dir() is None:
            problems.append(
                "no --input, and the default sample manifest needs espeak-ng and ultralytics' sample photos "
                "to be made: install them, or pass --input MANIFEST"
            )
    checks = AudioChecks(
        min_seconds=args.min_audio_seconds, max_seconds=args.max_audio_seconds, silence_dbfs=args.silence_dbfs
    )
    embedded_llm = args.llm_backend == "transformers" and args.llm_model is None
    settings = CaptionSettings(
        max_new_tokens=args.caption_tokens or (EMBEDDED_LLM_TOKENS if embedded_llm else CaptionSettings.max_new_tokens),
        temperature=args.caption_temperature,
        min_words=args.caption_min_words,
        min_coverage=args.caption_min_coverage,
        max_novel=args.caption_max_novel,
    )
    asr, llm = asr_config_from_args(args), llm_config_from_args(args)
    problems += checks.validate() + settings.validate() + asr.validate() + llm.validate()
    fetch, decode = FetchConfig(max_bytes=args.max_image_bytes), DecodeConfig(max_pixels=args.max_image_pixels)
    problems += fetch.validate() + decode.validate()
    if problems:
        return None, problems
    asr = replace(asr, cpu_threads=threads_per_worker(asr.cpu_threads, args.workers))
    llm, llm_id = worker_llm(args)
    options = CapOptions(
        splits=args.splits,
        seed=args.seed,
        code_version=code_version,
        inputs=tuple(args.input) if args.input else (os.path.join(sample_dir(), CAP_MANIFEST),),
        sample=not args.input,
        fetch=fetch,
        decode=decode,
        checks=checks,
        settings=settings,
        asr=asr,
        asr_id=resolve_model(args.asr_model)[1],
        llm=llm,
        llm_id=llm_id,
        llm_backend=args.llm_backend,
        asr_hints=hints_for(args, "asr"),
        llm_hints=hints_for(args, "llm"),
    )
    return options, []


def add_cap_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--input",
        action="append",
        metavar="MANIFEST",
        help="A Cap manifest: .jsonl of annotation.exports.CapRecord (the annotation app's "
        "EXPORT/cap_manifest.jsonl), or .csv/.tsv/.parquet with columns image, audio (required), record_id, "
        "image_url, reference_texts, annotators (lists as JSON or '|'-separated). Local or gs://; paths inside "
        "are relative to the manifest's folder. Repeat for more. Default: a sample manifest spoken with espeak-ng "
        f"over ultralytics' bundled photos, made once under ~/.cache/pixmo-pipeline (${SAMPLE_ENV}).",
    )
    parser.add_argument(
        "--min-audio-seconds",
        type=float,
        default=AudioChecks.min_seconds,
        help="Shorter recordings are rejected (default: %(default)s).",
    )
    parser.add_argument(
        "--max-audio-seconds",
        type=float,
        default=AudioChecks.max_seconds,
        help="Longer recordings are rejected (default: %(default)s).",
    )
    parser.add_argument(
        "--silence-dbfs",
        type=float,
        default=AudioChecks.silence_dbfs,
        help="Recordings whose loudest sample is below this level are rejected as silent (default: %(default)s).",
    )
    parser.add_argument(
        "--caption-tokens",
        type=int,
        default=None,
        help="LLM token budget per caption; a caption cut off loses its unfinished sentence (default: "
        f"{CaptionSettings.max_new_tokens}, enough for PixMo's ~200-word captions; {EMBEDDED_LLM_TOKENS} for the "
        "embedded 135M model, which loops beyond that and has its loops cut anyway).",
    )
    parser.add_argument(
        "--caption-temperature",
        type=float,
        default=CaptionSettings.temperature,
        help="0 = greedy, the same transcript always gives the same caption (default: %(default)s).",
    )
    parser.add_argument(
        "--caption-min-words",
        type=int,
        default=CaptionSettings.min_words,
        help="Shorter captions are rejected (default: %(default)s).",
    )
    parser.add_argument(
        "--caption-max-novel",
        type=float,
        default=CaptionSettings.max_novel,
        help="Captions whose content words were more than this share never said are rejected as invented "
        "(default: %(default)s).",
    )
    parser.add_argument(
        "--caption-min-coverage",
        type=float,
        default=CaptionSettings.min_coverage,
        help="Captions keeping less than this share of the transcript's content words are rejected "
        "(default: %(default)s).",
    )
    add_image_limit_arguments(parser)
    add_asr_arguments(parser)
    add_llm_arguments(parser)
    add_accelerator_arguments(parser, "asr")
    add_accelerator_arguments(parser, "llm")
