"""PixMo-Points: referring expressions with a click on every instance (or "not present"), from an app export.

On the record-flow skeleton, with the export reading shared with pipelines/ama.py (pipelines/common/export_source):
    points.jsonl ─ parse + check, first line of each record_id ─ input shards grouped by image
      ─ read + decode each image once ─ one row per record, split by the image's sha256 ─ output shards
Every line is a row or a dead letter (stages: input, parse, check, duplicate, image, validate).
"""

import json
from collections import Counter
from typing import Any

from PIL import ImageDraw

from annotation import exports
from annotation.exports import PointsRecord
from annotation.points.records import points_problems
from pipelines.common import plots
from pipelines.common.export_source import (
    ExportOptions,
    ExportSubset,
    image_source,
)
from pipelines.common.preview import jpeg, thumbnail
from pipelines.common.report import RunReport
from pipelines.common.shards import write_bytes_atomically
from pipelines.common.staging import join
from pipelines.common.subset import PreviewItem
from schemas import points as points_schema
from schemas.common import image_value, provenance


def points_row(record: PointsRecord, image: Any, example_id: str, options: ExportOptions) -> dict[str, Any]:
    """PointsRecord + its image -> a pixmo-points row."""
    points = [{"x": float(p.x), "y": float(p.y)} for p in record.points]
    return points_schema.build_row(
        example_id=example_id,
        image=image_value(image.data, f"{example_id}.{image.extension}"),
        image_sha256=image.sha256,
        source=image_source(image.key),
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
            code_version=options.code_version,
            schema_version=points_schema.SCHEMA_VERSION,
            seed=options.seed,
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


class Points(ExportSubset):
    name = "points"
    summary = "referring expressions with a click on every instance (or 'not present')"
    schema = points_schema
    stats_columns = ("count", "label", "not_present", "image_sha256")
    records_file = exports.POINTS
    record_cls = PointsRecord

    def problems(self, record: PointsRecord) -> list[str]:
        return points_problems(record)

    def make_row(self, record: PointsRecord, image: Any, example_id: str, options: ExportOptions) -> dict[str, Any]:
        return points_row(record, image, example_id, options)

    def plot_stats(self, report: RunReport, out_dir: str) -> list[str]:
        table = report.table
        counts = table.column("count").to_pylist()
        not_present = table.column("not_present").to_pylist()
        labels = table.column("label").to_pylist()
        per_image = Counter(Counter(table.column("image_sha256").to_pylist()).values())
        top = max(counts + [1])
        histogram = [counts.count(c) for c in range(top + 1)]
        absent = sum(not_present)
        files = {
            "count_histogram.svg": plots.bar_svg(
                [str(c) for c in range(top + 1)], histogram, "Points per expression (0 = not present)", "count"
            ),
            "not_present.svg": plots.bar_svg(
                ["present", "not present"],
                [len(not_present) - absent, absent],
                f"Not present: {absent / max(1, len(not_present)):.1%} of expressions",
                "",
            ),
            "expressions_per_image.svg": plots.bar_svg(
                [str(k) for k in sorted(per_image)],
                [per_image[k] for k in sorted(per_image)],
                "Referring expressions per image",
                "expressions",
            ),
            "label_lengths.svg": plots.histogram_svg(
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

    def card_description(self, options: ExportOptions, report: RunReport) -> str:
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
            f"Splits ({options.splits}) come from a stable hash of the image's sha256 with the seed, so every "
            "expression of one image is in the same split."
        )
