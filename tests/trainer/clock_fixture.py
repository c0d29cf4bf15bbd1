"""Writes small clocks-like Parquet shards with real drawn clock faces, so trainer tests need no pipeline."""

import hashlib
import io
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image, ImageDraw

from formatting.clocks import CLOCK_QUESTIONS, clock_time_text

IMAGE = pa.struct([pa.field("bytes", pa.binary()), pa.field("path", pa.string())])


def draw_clock(hour: int, minute: int, width: int, height: int, rng: np.random.Generator) -> Image.Image:
    """A face with 12 ticks, a short thick hour hand and a long thin minute hand, at a random spot."""
    bg = tuple(int(v) for v in rng.integers(0, 120, 3))
    img = Image.new("RGB", (width, height), bg)
    d = ImageDraw.Draw(img)
    r = min(width, height) * float(rng.uniform(0.35, 0.48))
    cx = width / 2 + float(rng.uniform(-1, 1)) * (width / 2 - r)
    cy = height / 2 + float(rng.uniform(-1, 1)) * (height / 2 - r)
    d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(240, 240, 230), outline=(20, 20, 20), width=2)
    for k in range(12):
        a = math.radians(k * 30)
        d.line(
            [cx + 0.85 * r * math.sin(a), cy - 0.85 * r * math.cos(a), cx + r * math.sin(a), cy - r * math.cos(a)],
            fill=(0, 0, 0),
            width=2,
        )
    for angle, length, width_px in ((30 * (hour % 12) + 0.5 * minute, 0.5, 5), (6 * minute, 0.85, 2)):
        a = math.radians(angle)
        d.line(
            [cx, cy, cx + length * r * math.sin(a), cy - length * r * math.cos(a)], fill=(10, 10, 10), width=width_px
        )
    return img


def clock_rows(n: int, seed: int, sizes: tuple[int, int] = (48, 96)) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        hour, minute, second = int(rng.integers(24)), int(rng.integers(60)), int(rng.integers(60))
        w, h = (int(v) for v in rng.integers(sizes[0], sizes[1] + 1, 2))
        buf = io.BytesIO()
        draw_clock(hour, minute, w, h, rng).save(buf, format="PNG")
        data = buf.getvalue()
        text = clock_time_text(hour, minute)
        rows.append(
            {
                "example_id": f"clock-{seed}-{i}",
                "image": {"bytes": data, "path": f"clock-{seed}-{i}.png"},
                "image_sha256": hashlib.sha256(data).hexdigest(),
                "text": text,
                "question": CLOCK_QUESTIONS[int(rng.integers(len(CLOCK_QUESTIONS)))],
                "answer": text,
                "hour": hour,
                "minute": minute,
                "second": second,
                "watch_time": f"{hour:02d}:{minute:02d}:{second:02d}",
                "watchface_id": "fixture",
                "shows_seconds": False,
                "hour_visible": True,
                "minute_visible": True,
                "second_visible": False,
                "hour_angle": 30.0 * (hour % 12) + 0.5 * minute,
                "minute_angle": 6.0 * minute,
                "second_angle": 6.0 * second,
            }
        )
    return rows


def write_clock_shards(
    root: Path,
    splits: dict[str, int],
    shards: int = 2,
    rows_per_group: int = 4,
    seed: int = 0,
    sizes: tuple[int, int] = (48, 96),
) -> Path:
    """root/clocks/SPLIT/part-SSSSS-of-NNNNN.parquet with `splits[SPLIT]` rows in `shards` files."""
    for si, (split, n) in enumerate(splits.items()):
        rows = clock_rows(n, seed * 100 + si, sizes)
        folder = Path(root) / "clocks" / split
        folder.mkdir(parents=True, exist_ok=True)
        for k in range(shards):
            part = rows[k::shards]
            table = pa.Table.from_pylist(part)
            assert table.schema.field("image").type == IMAGE
            pq.write_table(
                table,
                folder / f"part-{k:05d}-of-{shards:05d}.parquet",
                compression="zstd",
                row_group_size=rows_per_group,
            )
    return Path(root)
