"""A Count row drawn for a person to check: each box and its point (numbered left to right) and the count."""

import io
from typing import Any

from PIL import Image, ImageDraw


def draw_labels(row: dict[str, Any], max_side: int = 640) -> bytes:
    """JPEG bytes of the row's image at most `max_side` px, with its boxes, numbered points and count drawn on."""
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
