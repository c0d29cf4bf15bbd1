"""PixMo-Clocks: procedurally rendered watch faces at random times, labelled with the time.

Graph: ShardTasks -> Spread -> MakeAndWrite (generate, validate the shard, write shard + dead letters + stats).
Consecutive indices share a watch face (see generators/clocks), so each shard renders a face once and reuses it;
shard cuts fall on face boundaries.
"""

import argparse
import hashlib
import io
import json
import math
from collections import Counter, defaultdict
from typing import Any

import apache_beam as beam
import numpy as np
from PIL import Image, ImageDraw

from formatting.clocks import CLOCK_QUESTIONS, CLOCKS_STYLE
from generators.clocks import BODY_NAMES, GENERATOR_VERSION, ClockConfig, ClockGenerator
from pipelines.common import plots
from pipelines.common.generated import ExampleMaker, GenerateShards, WriteGeneratedShard
from pipelines.common.report import RunReport
from pipelines.common.shards import ShardTask, plan_shards, write_bytes_atomically
from pipelines.common.splits import SplitSpec
from pipelines.common.staging import join
from pipelines.common.subset import PreviewItem, RunContext, Subset
from schemas import clocks as clocks_schema
from schemas.common import image_value, provenance, sha256_hex

# The largest split is cut into at least this many shards so small runs still use every local core. A
# constant, not the worker count: the shard layout must not depend on the machine (reruns resume by shard).
MIN_SHARDS = 8
FEATURE_VALUES_PLOTTED = 3


def example_id(seed: int, index: int) -> str:
    return f"clocks-s{seed}-{index:09d}"


def pick_question(seed: int, index: int) -> str:
    """A question template chosen by (seed, index) alone, independent of the image randomness."""
    digest = hashlib.sha256(f"clocks-question:{seed}:{index}".encode()).digest()
    return CLOCK_QUESTIONS[int.from_bytes(digest[:4], "big") % len(CLOCK_QUESTIONS)]


class ClockMaker(ExampleMaker):
    """Index -> a validated-ready Clocks row. The generator (and its face cache) lives per worker."""

    def __init__(self, config: ClockConfig, seed: int, code_version: str) -> None:
        self.config = config
        self.seed = seed
        self.code_version = code_version
        self.generator: ClockGenerator | None = None

    def setup(self) -> None:
        self.generator = ClockGenerator(self.config)

    def make(self, index: int, split: str) -> dict[str, Any]:
        assert self.generator is not None, "setup() was not called"
        sample = self.generator.generate(self.seed, index)
        eid = example_id(self.seed, index)
        extension = "jpg" if sample.image_format == "jpeg" else "png"
        return clocks_schema.build_row(
            example_id=eid,
            image=image_value(sample.image_bytes, f"{eid}.{extension}"),
            image_sha256=sha256_hex(sample.image_bytes),
            source=f"generator:clocks/{GENERATOR_VERSION}",
            watchface_id=sample.watchface_id,
            watchface_name=sample.watchface_name,
            hour=sample.hour,
            minute=sample.minute,
            second=sample.second,
            shows_seconds=sample.shows_seconds,
            hour_visible=sample.hour_visible,
            minute_visible=sample.minute_visible,
            second_visible=sample.second_visible,
            hour_angle=sample.hour_angle,
            minute_angle=sample.minute_angle,
            second_angle=sample.second_angle,
            body_id=sample.body_id,
            body_name=sample.body_name,
            face_features=json.dumps(sample.features, sort_keys=True),
            width=sample.width,
            height=sample.height,
            question=pick_question(self.seed, index),
            provenance=provenance(
                pipeline="clocks",
                code_version=self.code_version,
                schema_version=clocks_schema.SCHEMA_VERSION,
                seed=self.seed,
                generator_version=GENERATOR_VERSION,
                details={
                    "index": index,
                    "face_index": sample.face_index,
                    "config": _config_dict(self.config),
                },
            ),
        )


def image_beside_label_dial(row: dict[str, Any]) -> bytes:
    """The sample with a plain dial drawn from its label next to it, so a person can compare the two."""
    image = Image.open(io.BytesIO(row["image"]["bytes"])).convert("RGB")
    size = image.height
    dial = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(dial)
    centre, radius = size / 2, size * 0.42
    draw.ellipse([centre - radius, centre - radius, centre + radius, centre + radius], outline="black", width=3)
    for tick in range(12):
        angle = math.radians(tick * 30)
        inner = radius * (0.85 if tick % 3 else 0.75)
        draw.line(
            [centre + inner * math.sin(angle), centre - inner * math.cos(angle),
             centre + radius * math.sin(angle), centre - radius * math.cos(angle)],
            fill="black", width=2,
        )  # fmt: skip
    hands = [("hour", 0.5, 7, "#1f3a93"), ("minute", 0.78, 4, "#1f3a93"), ("second", 0.88, 2, "#c0392b")]
    for name, length, width, colour in hands:
        if not row[f"{name}_visible"]:
            continue
        angle = math.radians(row[f"{name}_angle"])
        tip = (centre + length * radius * math.sin(angle), centre - length * radius * math.cos(angle))
        draw.line([(centre, centre), tip], fill=colour, width=width)
    draw.text((6, 6), f"label {row['watch_time']}", fill="black")
    both = Image.new("RGB", (image.width + size, size), "white")
    both.paste(image, (0, 0))
    both.paste(dial, (image.width, 0))
    buffer = io.BytesIO()
    both.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def _config_dict(config: ClockConfig) -> dict[str, Any]:
    return {k: getattr(config, k) for k in config.__dataclass_fields__}


def config_from_args(args: argparse.Namespace) -> ClockConfig:
    return ClockConfig(
        image_size=args.image_size,
        image_format=args.image_format,
        jpeg_quality=args.jpeg_quality,
        samples_per_face=args.samples_per_face,
    )


class Clocks(Subset):
    name = "clocks"
    summary = "procedural watch and clock faces at random times, labelled with the time"
    schema = clocks_schema
    default_num_examples = 500
    # Held-out splits big enough to score a small model on (PixMo's own val/test are small fractions).
    default_splits = "train=0.9,validation=0.05,test=0.05"
    stats_columns = (
        "hour",
        "minute",
        "second",
        "body_name",
        "face_features",
        "shows_seconds",
        "watchface_id",
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        defaults = ClockConfig()
        parser.add_argument(
            "--image-size",
            type=int,
            default=defaults.image_size,
            help="Square image side in px (default: %(default)s).",
        )
        parser.add_argument(
            "--image-format",
            choices=("jpeg", "png"),
            default=defaults.image_format,
            help="Image encoding (default: %(default)s).",
        )
        parser.add_argument(
            "--jpeg-quality", type=int, default=defaults.jpeg_quality, help="JPEG quality 1-95 (default: %(default)s)."
        )
        parser.add_argument(
            "--samples-per-face",
            type=int,
            default=defaults.samples_per_face,
            help="Consecutive examples that share one watch face (its layers are rendered once and reused) "
            "(default: %(default)s).",
        )

    def check_arguments(self, args: argparse.Namespace) -> list[str]:
        return config_from_args(args).validate()

    def fingerprint(self, args: argparse.Namespace) -> dict[str, Any]:
        return {"generator_version": GENERATOR_VERSION, "config": _config_dict(config_from_args(args))}

    def generator_version(self) -> str:
        return GENERATOR_VERSION

    def shard_tasks(self, args: argparse.Namespace) -> list[ShardTask]:
        """The run's shards: index ranges per split, cut on face boundaries."""
        ranges = SplitSpec.parse(args.splits).ranges(args.num_examples)
        align = config_from_args(args).samples_per_face
        return plan_shards(ranges, args.rows_per_shard, args.num_shards, min_shards=MIN_SHARDS, align=align)

    def build(self, pipeline: beam.Pipeline, ctx: RunContext) -> None:
        args = ctx.args
        tasks = self.shard_tasks(args)
        config = config_from_args(args)
        maker = ClockMaker(config, args.seed, ctx.code_version)
        writer = WriteGeneratedShard(
            self.name,
            maker,
            clocks_schema.SCHEMA,
            clocks_schema.validate,
            ctx.staging.dir,
            validate_shard=clocks_schema.validate_table,
        )
        pipeline | "Clocks" >> GenerateShards(tasks, writer)

    def plot_stats(self, report: RunReport, out_dir: str) -> list[str]:
        table = report.table
        hours = np.asarray(table.column("hour").to_pylist())
        minutes = np.asarray(table.column("minute").to_pylist())
        grid = np.zeros((24, 12))
        np.add.at(grid, (hours, minutes // 5), 1)
        files = {
            "time_of_day.svg": plots.heatmap_svg(
                grid,
                "Examples per hour and 5-minute bucket (uniform is good)",
                "minute bucket (x5)",
                "hour (0-23)",
            ),
            "hours.svg": plots.bar_svg(
                [str(h) for h in range(24)], np.bincount(hours, minlength=24).tolist(), "Hour of day", "hour"
            ),
            "minutes.svg": plots.bar_svg(
                [str(m) for m in range(60)], np.bincount(minutes, minlength=60).tolist(), "Minute", "minute"
            ),
        }
        bodies = Counter(table.column("body_name").to_pylist())
        files["bodies.svg"] = plots.bar_svg(
            list(bodies),
            list(bodies.values()),
            f"Watch bodies: {len(bodies)} of {len(BODY_NAMES)} used, "
            f"{len(set(table.column('watchface_id').to_pylist()))} distinct faces",
            "body",
            horizontal=True,
        )
        features: defaultdict[str, Counter[str]] = defaultdict(Counter)
        for text, rows in Counter(table.column("face_features").to_pylist()).items():  # each distinct text once
            for key, value in json.loads(text).items():
                features[key][str(value)] += rows
        # One axes with the top values of every feature: a grid of 24 small charts took 3/4 of the report time.
        labels, counts = [], []
        for name in sorted(features):
            for value, count in features[name].most_common(FEATURE_VALUES_PLOTTED):
                labels.append(f"{name}: {value}")
                counts.append(count)
        files["face_features.svg"] = plots.bar_svg(
            labels,
            counts,
            f"Watch face features (top {FEATURE_VALUES_PLOTTED} values of each of {len(features)})",
            "feature: value",
            horizontal=True,
        )
        for name, data in files.items():
            write_bytes_atomically(join(out_dir, name), data)
        return list(files)

    def preview_item(self, row: dict[str, Any]) -> PreviewItem:
        hands = [n for n in ("hour", "minute", "second") if row[f"{n}_visible"]]
        return PreviewItem(
            image=image_beside_label_dial(row),
            image_mime="image/jpeg",
            title=row["text"],
            fields={
                "24 h time": row["watch_time"],
                "face": row["watchface_name"],
                "body": row["body_name"],
                "hands shown": ", ".join(hands),
                "angles h/m/s": f"{row['hour_angle']:.1f} / {row['minute_angle']:.1f} / {row['second_angle']:.1f}",
                "example": row["example_id"],
            },
            qa=[(row["question"], row["answer"])],
        )

    def card_description(self, args: argparse.Namespace, report: RunReport) -> str:
        return (
            "Analog watch and clock faces rendered procedurally (pixmo-pipeline's open generator; PixMo's own "
            f"was never released), {len(BODY_NAMES)} watch bodies and a combinatorial space of dials, numerals, "
            "ticks, hands and decorations, with photo-like effects (backgrounds, lighting, hand shadows, glass, "
            "blur, noise, perspective). Times are uniform over 24 h at one-second resolution; the hands show the "
            "time exactly (the hour hand moves with the minutes, the minute hand with the seconds).\n\n"
            f"Each row has the time as Molmo's `{CLOCKS_STYLE}` answer text (`text`, 12 h with AM/PM - note that "
            "AM/PM is not visible on an analog face), the 24 h time (`watch_time`, `hour`, `minute`, `second`), "
            "the hand angles in degrees clockwise from 12, which hands are visible, and the watch face id/name. "
            f"Images are {args.image_size}x{args.image_size} {args.image_format.upper()}."
        )
