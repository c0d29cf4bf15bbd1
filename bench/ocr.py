"""OCR throughput: one engine reused for every image (what the app and Beam workers do) vs a new engine per image.

Both run in this process on the same rendered images (text lines drawn with DejaVu Sans), one after the other,
so the ratio compares like with like. Not a test: nothing here asserts a time.

    .venv/bin/python bench/ocr.py [--images 20] [--threads 1] [--size 900x300]
"""

import argparse
import io
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from PIL import Image, ImageDraw, ImageFont  # noqa: E402

from inference.ocr import OCRConfig, OCREngine  # noqa: E402

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
WORDS = "open daily coffee bakery exit platform ticket price total station north gate hours menu".split()


def render(index: int, width: int, height: int) -> tuple[bytes, str]:
    rng = random.Random(index)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 32)
    lines = [" ".join(rng.choice(WORDS) for _ in range(3)).upper() for _ in range(max(1, height // 100))]
    for row, text in enumerate(lines):
        draw.text((20, 20 + row * 90), text, font=font, fill="black")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue(), "\n".join(lines)


def run(images: list[tuple[bytes, str]], config: OCRConfig, reuse: bool) -> tuple[float, int]:
    started, exact = time.perf_counter(), 0
    engine = OCREngine(config)
    for data, truth in images:
        if not reuse:
            engine = OCREngine(config)
        exact += engine.read(data).text == truth
    return time.perf_counter() - started, exact


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime threads (default: 1)")
    parser.add_argument("--size", default="900x300", help="image size WxH (default: 900x300)")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    images = [render(i, width, height) for i in range(args.images)]
    config = OCRConfig(threads=args.threads)
    OCREngine(config).read(images[0][0])  # warm the OS file cache and imports for both
    reused = run(images, config, reuse=True)
    fresh = run(images, config, reuse=False)
    print(f"{'mode':<22}{'images/s':>10}{'exact':>8}{'ratio':>8}")
    for name, (seconds, exact) in (("one engine (baseline)", reused), ("engine per image", fresh)):
        print(f"{name:<22}{len(images) / seconds:>10.2f}{exact:>5}/{len(images):<2}{reused[0] / seconds:>8.2f}")


if __name__ == "__main__":
    main()
