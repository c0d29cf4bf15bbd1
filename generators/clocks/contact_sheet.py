"""A grid of samples with their labels, for looking at what the generator makes.

python -m generators.clocks.contact_sheet --seed 0 --out /tmp/clocks_contact_sheet.png
"""

import argparse
import io

from PIL import Image, ImageDraw

from .config import ClockConfig
from .generator import ClockGenerator


def contact_sheet(seed: int, indices: list[int], columns: int, config: ClockConfig, tile: int = 224) -> Image.Image:
    generator = ClockGenerator(config)
    rows = (len(indices) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * tile, rows * (tile + 14)), "white")
    draw = ImageDraw.Draw(sheet)
    for k, index in enumerate(indices):
        sample = generator.generate(seed, index)
        image = Image.open(io.BytesIO(sample.image_bytes)).convert("RGB").resize((tile, tile))
        x, y = (k % columns) * tile, (k // columns) * (tile + 14)
        sheet.paste(image, (x, y))
        seconds = f":{sample.second:02d}" if sample.shows_seconds else ""
        draw.text(
            (x + 3, y + tile),
            f"{sample.hour:02d}:{sample.minute:02d}{seconds} b{sample.body_id}",
            fill="black",
        )
    return sheet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--count", type=int, default=36)
    parser.add_argument("--columns", type=int, default=6)
    parser.add_argument("--stride", type=int, default=16, help="index step; 16 shows one sample per face by default")
    parser.add_argument("--out", default="/tmp/clocks_contact_sheet.png")
    args = parser.parse_args()
    indices = [k * args.stride for k in range(args.count)]
    contact_sheet(args.seed, indices, args.columns, ClockConfig()).save(args.out)
    print(args.out)


if __name__ == "__main__":
    main()
