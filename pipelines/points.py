"""PixMo-Points: referring expressions with a click on every instance (or "not present"), from an app export.

Graph (the export-reading half is shared with pipelines/ama.py):
    points.jsonl ─ ReadLines ─ Reshuffle ─ Parse + check ─ GroupBy record_id (first line kept)
      ─ GroupBy image ─ read + decode the image once ─ one row per record, split by the image's sha256
      ─ WriteRowsAndRejects
Every line is a row or a dead letter (stages: input, parse, check, duplicate, image, validate).
"""

import argparse
import json
from collections import Counter
from typing import Any

import apache_beam as beam
import pyarrow as pa
from PIL import ImageDraw

from annotation import exports
from annotation.exports import PointsRecord
from annotation.points.records import points_problems
from pipelines.common import plots
from pipelines.common.export_source import (
    ExportImage,
    ReadExportRecords,
    RowsFromImages,
    add_export_arguments,
    check_export_arguments,
    export_configs,
    export_paths,
    image_source,
    jpeg,
    thumbnail,
)
from pipelines.common.image_source import REJECTS
from pipelines.common.shards import write_bytes_atomically
from pipelines.common.sink import write_subset_rows
from pipelines.common.staging import join
from pipelines.common.subset import PreviewItem, RunContext, Subset
from schemas import points as points_schema
from schemas.common import image_value, provenance

# ---------------------------------------------------------------------------------------------------------------
# Points
# ---------------------------------------------------------------------------------------------------------------


class PointsRow:
    """PointsRecord + its image -> a pixmo-points row (picklable, for the DoFn)."""

    def __init__(self, seed: int, code_version: str) -> None:
        self.seed = seed
        self.code_version = code_version

    def __call__(self, record: PointsRecord, image: ExportImage, example_id: str) -> dict[str, Any]:
        points = [{"x": float(p.x), "y": float(p.y)} for p in record.points]
        return points_schema.build_row(
            example_id=example_id,
            image=image_value(image.data, f"{example_id}.{image.extension}"),
            image_sha256=image.sha256,
            source=image_source(image),
            image_url=record.image_url or image.key,
            points=points,
            count=len(points),
            label=record.label.strip(),
            collection_method="pointing",
            explanation=record.explanation,
            not_present=record.not_present,
            record_id=record.record_id,
            annotator=record.annotator,
            created_at=record.created_at,
            width=image.width,
            height=image.height,
            provenance=provenance(
                pipeline="points",
                code_version=self.code_version,
                schema_version=points_schema.SCHEMA_VERSION,
                seed=self.seed,
                details={"image": image.key, "image_changes": image.changes},
            ),
        )


def draw_points(row: dict[str, Any]) -> bytes:
    """The image with every point numbered and the label (or 'not present') written on it."""
    image = thumbnail(row["image"]["bytes"])
    draw = ImageDraw.Draw(image)
    radius = max(4, round(min(image.size) / 80))
    for i, point in enumerate(row["points"], start=1):
        cx, cy = point["x"] / 100 * image.width, point["y"] / 100 * image.height
        draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill="#e6194b", outline="white", width=2)
        draw.text((cx + radius + 2, cy - radius), str(i), fill="white", stroke_width=2, stroke_fill="black")
    caption = row["label"] + (" (not present)" if row["not_present"] else f" x{row['count']}")
    draw.text((6, 6), caption, fill="white", stroke_width=2, stroke_fill="black")
    return jpeg(image)


class Points(Subset):
    name = "points"
    summary = "referring expressions with a click on every instance (or 'not present')"
    schema = points_schema
    default_num_examples = None  # the export decides
    requires_input = True  # an annotation export; there is no embedded default
    stats_columns = ("count", "label", "not_present", "image_sha256")

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_export_arguments(parser, exports.POINTS)

    def check_arguments(self, args: argparse.Namespace) -> list[str]:
        return check_export_arguments(args, exports.POINTS, self.name)

    def fingerprint(self, args: argparse.Namespace) -> dict[str, Any]:
        return {"input": export_paths(args.input, exports.POINTS)[0]}

    def build(self, pipeline: beam.Pipeline, ctx: RunContext) -> None:
        args = ctx.args
        records_path, export_dir = export_paths(args.input, exports.POINTS)
        fetch, decode = export_configs(args)
        source = pipeline | "ReadExport" >> ReadExportRecords(
            self.name, records_path, export_dir, PointsRecord, points_problems
        )
        rows = (
            source["records"]
            | "GroupByImage" >> beam.GroupByKey()
            | "Rows"
            >> beam.ParDo(
                RowsFromImages(
                    self.name,
                    records_path,
                    PointsRow(args.seed, ctx.code_version),
                    points_schema.validate,
                    args.splits,
                    args.seed,
                    fetch,
                    decode,
                )
            ).with_outputs(REJECTS, main="rows")
        )
        rejects = (source[REJECTS], rows[REJECTS]) | "AllRejects" >> beam.Flatten()
        _ = (rows.rows, rejects) | "Write" >> write_subset_rows(self, ctx)

    def plot_stats(self, table: pa.Table, out_dir: str) -> list[str]:
        counts = table.column("count").to_pylist()
        not_present = table.column("not_present").to_pylist()
        labels = table.column("label").to_pylist()
        per_image = Counter(Counter(table.column("image_sha256").to_pylist()).values())
        top = max(counts + [1])
        histogram = [counts.count(c) for c in range(top + 1)]
        absent = sum(not_present)
        files = {
            "count_histogram.png": plots.bar_png(
                [str(c) for c in range(top + 1)], histogram, "Points per expression (0 = not present)", "count"
            ),
            "not_present.png": plots.bar_png(
                ["present", "not present"],
                [len(not_present) - absent, absent],
                f"Not present: {absent / max(1, len(not_present)):.1%} of expressions",
                "",
            ),
            "expressions_per_image.png": plots.bar_png(
                [str(k) for k in sorted(per_image)],
                [per_image[k] for k in sorted(per_image)],
                "Referring expressions per image",
                "expressions",
            ),
            "label_lengths.png": plots.histogram_png(
                [len(label.split()) for label in labels], bins=20, title="Label length", xlabel="words"
            ),
        }
        for name, data in files.items():
            write_bytes_atomically(join(out_dir, name), data)
        summary = {
            "count": dict(enumerate(histogram)),
            "not_present": absent,
            "expressions_per_image": dict(sorted(per_image.items())),
            "labels": dict(Counter(labels).most_common(50)),
        }
        write_bytes_atomically(join(out_dir, "points_stats.json"), json.dumps(summary, indent=1).encode())
        return list(files)

    def preview_item(self, row: dict[str, Any]) -> PreviewItem:
        fields = {
            "image": row["image_url"],
            "size": f"{row['width']}x{row['height']}",
            "points": ", ".join(f"({p['x']:.1f}, {p['y']:.1f})" for p in row["points"]) or "none (not present)",
            "annotator": row["annotator"] or "-",
            "record": row["record_id"],
            "example": row["example_id"],
        }
        if row["explanation"]:
            fields["explanation"] = row["explanation"]
        title = f"{row['label']}: " + ("not present" if row["not_present"] else str(row["count"]))
        return PreviewItem(image=draw_points(row), image_mime="image/jpeg", title=title, fields=fields)

    def card_description(self, args: argparse.Namespace) -> str:
        return (
            "Referring expressions on real images with a click on every instance, made by people in the "
            "annotation app, as in PixMo-Points: an annotator writes an expression and points at each thing it "
            "matches, or marks it as not present. Points are percent of the image's width and height (0-100), "
            "the published layout (`points` as a list of `{x, y}`); `count` is the number of points; "
            "`collection_method` is `pointing`. Not-present expressions are kept with `count` 0, no points and "
            "`not_present` true (PixMo-Points has 359k of them: they teach the model to say 'none'). "
            "`explanation` holds the annotator's optional explanation of the points.\n\n"
            f"Input: the export's `{exports.POINTS}` (one record per image and expression). Every line becomes a "
            "row or a dead letter in `_rejected/` with its reason: unparsable lines, empty labels, points outside "
            "0-100, points on a not-present record, a record_id seen before (the first line is kept), images "
            "that are missing or cannot be decoded. `example_id` derives from the record id, so re-exports give "
            "the same ids.\n\n"
            f"Splits ({args.splits}) come from a stable hash of the image's sha256 with the seed, so every "
            "expression of one image is in the same split."
        )
