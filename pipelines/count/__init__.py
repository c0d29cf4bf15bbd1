"""PixMo-Count: a detector's most frequent class in real images, its count, and a point on every object.

On the record-flow skeleton (pipelines/common/record_flow.py):
    list images (folders, globs, URL lists) ─ input shards ─ ReadImages (fetch, decode, hash)
      ─ Detect (RunInference, YOLO) ─ count (threshold, merge, most frequent class, points, QA)
      ─ whole run: duplicates (best copy kept), balanced held-out splits, people's verdicts ─ output shards
      ─ verification_tasks.jsonl (the held-out rows for people to check)
Every image is a row or a dead letter (stages: input, duplicate, download, decode, detect, count, dedup, validate),
and every line of the --verified file is applied or a dead letter (stage verification).
"""

import argparse
import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import apache_beam as beam
import numpy as np

from annotation.count.drawing import draw_labels
from media.samples import bundled_images_dir
from pipelines.common import plots
from pipelines.common.input_plan import InputRef, Listing
from pipelines.common.listing import list_image_inputs
from pipelines.common.record_flow import ModelRound, Reader, Record, RecordSubset, write_report_extra
from pipelines.common.rejects import Rejected, rejected
from pipelines.common.report import RunReport
from pipelines.common.shards import write_bytes_atomically
from pipelines.common.stage import Stage
from pipelines.common.staging import join
from pipelines.common.subset import PreviewItem
from pipelines.common.version import code_version
from pipelines.count.options import CountOptions, add_count_arguments, parse_count_options, parse_count_range
from pipelines.count.steps import (
    CountDecisions,
    Detect,
    ReadImages,
    assign_held_out,
    build_count_row,
    held_out_quotas,
    light_fields,
)
from schemas import count as count_schema

__all__ = ["Count", "assign_held_out", "bundled_images_dir", "held_out_quotas", "parse_count_range"]

VERIFICATION_TASKS = "verification_tasks.jsonl"


def verification_task(split: str, row: dict[str, Any]) -> dict[str, Any]:
    """What a person needs to check one held-out row (the annotation tool reads these)."""
    verification = json.loads(row["provenance"]["details"]).get("verification") or {}
    keys = ("example_id", "image_url", "image_sha256", "label", "count", "points", "boxes", "question", "answer")
    return {
        **{k: row[k] for k in keys},
        "split": split,
        "verified": row["verified"],
        "verdict": verification.get("verdict"),
    }


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
    def __init__(self, staging_dir: str) -> None:
        self.staging_dir = staging_dir

    def process(self, tasks: list[dict[str, Any]]) -> Iterator[int]:
        ordered = sorted(tasks, key=lambda t: (t["split"], t["example_id"]))
        data = "".join(json.dumps(t, sort_keys=True) + "\n" for t in ordered).encode()
        write_bytes_atomically(join(self.staging_dir, VERIFICATION_TASKS), data)
        write_report_extra(self.staging_dir, "verification", verification_summary(ordered))
        yield len(ordered)


class Count(RecordSubset):
    name = "count"
    summary = "how-many questions from a detector's most frequent class, a point per object"
    schema = count_schema
    default_num_examples = None  # the input decides
    # Held-out splits as in PixMo-Count: 540 rows each, balanced over counts 2-10; train takes the rest.
    default_splits = "validation=540,test=540"
    stats_columns = ("count", "label", "detector_class", "scores", "width", "height")
    input_shard_size = 64
    has_decisions = True

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_count_arguments(parser)

    def parse(self, args: argparse.Namespace, dry_run: bool = False) -> tuple[CountOptions | None, list[str]]:
        return parse_count_options(args, code_version())

    def fingerprint(self, options: CountOptions) -> dict[str, Any]:
        return {
            "inputs": list(options.inputs),
            "detector": options.detector_id,
            "count": vars(options.count),
            # Threads follow --workers and change speed only: a rerun with other --workers resumes this run.
            "detector_config": {k: v for k, v in vars(options.detector).items() if k != "cpu_threads"},
            "decode": vars(options.decode),
            "verified": options.verified_sha256,  # the verdicts' content: new verdicts make a new dataset
        }

    def models(self, options: CountOptions) -> list[str]:
        return [options.detector_id]

    # -- the record flow --

    def list_inputs(self, options: CountOptions) -> Listing:
        return list_image_inputs(self.name, options.inputs, options.url_column)

    def duplicate_rejected(self, first: InputRef, other: InputRef) -> Rejected:
        return rejected(self.name, other.where, "duplicate", f"listed again; used once (first at {first.where})")

    def reader(self, options: CountOptions) -> Reader:
        return ReadImages(self.name, options)

    def rounds(self, options: CountOptions) -> list[ModelRound]:
        return [Detect(self.name, options)]

    def build_row(self, record: Record, options: CountOptions) -> dict[str, Any] | Rejected:
        return build_count_row(Stage(self.name), record, options)

    def split_of(self, row: dict[str, Any], record: Record, options: CountOptions) -> str:
        return "train"  # held-out rows are chosen over the whole run (CountDecisions)

    def light_fields(self, row: dict[str, Any]) -> dict[str, Any]:
        return light_fields(row)

    def decisions(self, light: beam.PCollection, options: CountOptions):
        return light | "CountDecisions" >> CountDecisions(self.name, options)

    def apply_update(self, row: dict[str, Any], split: str, update: Any) -> dict[str, Any]:
        from annotation.count.verification import apply_verdict

        return apply_verdict(row, update)

    def extra_outputs(self, final_rows: beam.PCollection, options: CountOptions, staging_dir: str) -> None:
        _ = (
            final_rows
            | "HeldOutRows" >> beam.Filter(lambda kv: kv[0] != "train")
            | "ToTasks" >> beam.Map(lambda kv: verification_task(*kv))
            | "AllTasks" >> beam.combiners.ToList()
            | "WriteTasks" >> beam.ParDo(WriteVerificationTasks(staging_dir))
        )

    # -- reports --

    def plot_stats(self, report: RunReport, out_dir: str) -> list[str]:
        table = report.table
        counts = table.column("count").to_pylist()
        top = max(counts + [10])
        histogram = np.bincount(np.asarray(counts, dtype=np.int64), minlength=top + 1).tolist()
        labels = Counter(table.column("label").to_pylist())
        scores = [s for row in table.column("scores").to_pylist() for s in row]
        files = {
            "count_histogram.svg": plots.bar_svg(
                [str(c) for c in range(top + 1)], histogram, "Images per count (all splits)", "count"
            ),
            "labels.svg": plots.bar_svg(
                [label for label, _ in labels.most_common(40)],
                [n for _, n in labels.most_common(40)],
                f"Counted class: {len(labels)} distinct",
                "label",
                horizontal=True,
            ),
            "scores.svg": plots.histogram_svg(
                scores, bins=[i / 20 for i in range(21)], title="Detector score of counted objects",
                xlabel="score",
            ),
        }  # fmt: skip
        for name, data in files.items():
            write_bytes_atomically(join(out_dir, name), data)
        histogram_json = {"count": dict(enumerate(histogram)), "labels": dict(labels.most_common())}
        write_bytes_atomically(join(out_dir, "count_histogram.json"), json.dumps(histogram_json, indent=1).encode())
        verification = report.extras.get("verification", {})
        write_bytes_atomically(
            join(out_dir, "verification.json"), json.dumps(verification, indent=1, sort_keys=True).encode()
        )
        return list(files)

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

    def card_description(self, options: CountOptions, report: RunReport) -> str:
        count, detector = options.count, options.detector
        got = report.split_rows()
        held = ", ".join(f"{k} {got.get(k, 0)} (of {v} asked)" for k, v in options.eval_sizes.items()) or "none"
        return (
            "Real images labelled by an object detector with how many of its most frequent class they show, "
            "and a point at the centre of every such object (in percent of width/height, 0-100, as Molmo "
            "reads them), following PixMo-Count (which used Detic on web images). "
            f"Detector: `{options.detector_id}` at {detector.imgsz} px. "
            f"Detections scoring at least {count.min_score:g} are objects; boxes of the same meaning that overlap "
            f"more than IoU {count.merge_iou:g} are merged (the embedded detector's Normal and Fall classes both mean "
            "person). The class with the most objects is counted; images with a tie, or with an object of that "
            f"class scoring within {count.ambiguity_margin:g} below the threshold, are rejected rather than guessed, "
            f"and so are counts above {count.max_count} (`--too-many {count.too_many}`). Images with no object "
            f"are {'kept as 0 people' if count.zero == 'keep' else 'rejected'}. Boxes are rounded to 0.01 px and "
            "scores to 1e-4 before any threshold, so the same inputs always give the same rows.\n\n"
            "Each row has the image, `count`, `label` (plural, as asked), `points`, the detector's `boxes` and "
            "`scores`, and QA in Molmo's styles: `question`/`answer` point then count (`Counting the <points ...>"
            "people</points> shows a total of 4.`; none: `There are none.`) and `question_count_only`/"
            "`answer_count_only` (the number).\n\n"
            f"Splits: held-out {held}, each balanced over counts {options.eval_counts_text}: its size is spread "
            "evenly over those count values, and within a count value the rows with the smallest sha256(seed, "
            "example_id) are taken (validation first, then test), never more than half of that count's rows, so "
            "train keeps the rest. The choice is stable: it depends only on the seed and the example ids. Held-out "
            "rows start with `verified` = false and are listed in `verification_tasks.jsonl` for people to check "
            "against `preview.html`, where points and boxes are drawn.\n\n"
            f"{verification_text(options, report)}\n\n"
            "Duplicates were dropped among the rows: exact copies (sha256) and near copies (perceptual hash within "
            f"{options.near_duplicate_bits} bits); the best copy is kept (the most pixels, a still image over an "
            "animated one, then the smallest path/URL), the others are in `_rejected/` as duplicates of it. Images "
            f"longer than {options.decode.max_aspect_ratio:g}:1 are rejected as strips."
        )


def verification_text(options: CountOptions, report: RunReport) -> str:
    """The card's paragraph on people's verdicts: where they came from and how many held-out rows are verified."""
    if options.verified_path:
        text = (
            f"People's verdicts were applied from `{options.verified_path.rsplit('/', 1)[-1]}` (sha256 "
            f"{(options.verified_sha256 or '')[:16]}...): `correct` set `verified` = true; `fixed` also replaced "
            "`count` and `points` with the person's and rewrote the answers from them (`boxes`/`scores` empty: they "
            "were the detector's). The detector's numbers and the verdict are in the row's "
            "`provenance.details.verification`; verdicts that could not be applied are in `_rejected/` (stage "
            "verification). "
        )
    else:
        text = "No people's verdicts were applied in this run (`--verified EXPORT` applies them). "
    summary = report.extras.get("verification", {})
    per_split = "; ".join(
        f"{split}: {c['verified']} of {c['rows']} ({c['correct']} confirmed, {c['fixed']} fixed)"
        for split, c in summary.items()
    )
    verified = sum(c["verified"] for c in summary.values())
    rows = sum(c["rows"] for c in summary.values())
    return text + f"Verified held-out rows: {verified} of {rows}" + (f" ({per_split})." if per_split else ".")
