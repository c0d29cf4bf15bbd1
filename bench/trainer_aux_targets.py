"""How fast can the `small` preset's vision side learn the hour from each kind of image-only target?

Trains the configured CNN (optionally through a fresh connector) with one linear head on the mean of its
tokens, for a fixed number of steps on Clocks shards, and scores the held-out hour every `--every` steps. The
targets, all from the same rows, run one after another in this process so their numbers compare:

- `hour12`: the 12-way hour class (the baseline: a clean, direct label);
- `hour12+minute`: the 12-way hour and the 60-way minute, two softmaxes on one head, losses summed (both hands
  as clean labels);
- `hour-word`: the hour as one word out of `--buckets` hashed word classes (a 4096-way head, one target);
- `hour-minute-words`: the hour and minute words as a bag (soft targets, half each);
- `answer-words`: every word of the answer as a bag ("the time shown is 10 42 am": 7 targets, AM/PM not
  visible on a watch face);
- `word-slots`: each word of the answer by its place, every place its own softmax over the word classes and
  the losses summed (for a Clocks answer: four constant words, then hour, minute and AM/PM, each a full
  cross entropy of its own instead of a share of one bag).

Word heads are scored by their argmax over the 12 hour words.

    .venv/bin/python bench/trainer_aux_targets.py --data OUTPUT/clocks --steps 300 [--seed 0]
"""

import argparse
import io
import re
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trainer.config import load_config  # noqa: E402
from trainer.connector import Connector  # noqa: E402
from trainer.data import find_shards  # noqa: E402
from trainer.preprocess import preprocess_image  # noqa: E402
from trainer.tokenizer import IM_COL, IM_END, IM_PATCH, IM_START  # noqa: E402
from trainer.vit import build_vision  # noqa: E402

IDS = {IM_START: 1, IM_END: 2, IM_PATCH: 3, IM_COL: 4}
TARGETS = ("hour12", "hour12+minute", "hour-word", "hour-minute-words", "answer-words", "word-slots")
SLOTS = 8  # word places the word-slots head tells apart


def word_class(word: str, buckets: int) -> int:
    return zlib.crc32(word.encode()) % buckets


def load(data: str, split: str, image_cfg, limit: int) -> tuple[torch.Tensor, list[dict]]:
    pixels, rows = [], []
    for shard in find_shards(data, split):
        for row in pq.read_table(shard.path, columns=["image", "hour", "minute", "answer"]).to_pylist():
            pixels.append(preprocess_image(Image.open(io.BytesIO(row["image"]["bytes"])), image_cfg, IDS).crops[0])
            rows.append(row)
            if len(rows) >= limit:
                return torch.from_numpy(np.stack(pixels)), rows
    return torch.from_numpy(np.stack(pixels)), rows


def hour_word(hour: int) -> str:
    return str(hour % 12 or 12)


def target_bags(rows: list[dict], target: str, buckets: int) -> torch.Tensor:
    """(N, buckets) soft targets, each row summing to 1."""
    bags = torch.zeros(len(rows), buckets)
    for i, row in enumerate(rows):
        if target == "hour-word":
            words = [hour_word(row["hour"])]
        elif target == "hour-minute-words":
            words = [hour_word(row["hour"]), f"{row['minute']:02d}"]
        else:
            words = re.findall(r"\w+", row["answer"].lower())
        for w in set(words):
            bags[i, word_class(w, buckets)] = 1.0
    return bags / bags.sum(1, keepdim=True)


def slot_targets(rows: list[dict], buckets: int) -> torch.Tensor:
    """(N, SLOTS) word class of each place of the answer, -100 past its end."""
    out = torch.full((len(rows), SLOTS), -100, dtype=torch.long)
    for i, row in enumerate(rows):
        for k, w in enumerate(re.findall(r"\w+", row["answer"].lower())[:SLOTS]):
            out[i, k] = word_class(w, buckets)
    return out


def train_one(target: str, a, xtr, rows_tr, xva, yva, mc) -> list[float]:
    torch.manual_seed(a.seed)
    image = mc.image
    vision = build_vision(mc.vision, image)
    dim = vision.out_dim
    connector = None
    if a.features == "connector":
        connector = Connector(mc.connector, dim, 192, image.pooling, tokens=image.tokens_per_side**2)
        dim = 192
    classes = {"hour12": 12, "hour12+minute": 72}.get(target, a.buckets)
    slots = slot_targets(rows_tr, a.buckets) if target == "word-slots" else None
    hour_slot = 4  # scored at the hour's place: Clocks answers read "the time shown is H:MM AM"
    if slots is not None:
        classes = a.buckets * SLOTS
    head = torch.nn.Sequential(torch.nn.LayerNorm(dim), torch.nn.Linear(dim, classes))
    side = image.crop_patches

    def features(x: torch.Tensor) -> torch.Tensor:
        tokens = vision(x)
        if connector is not None:
            tokens = connector(tokens, torch.ones(len(x), side, side))
        return tokens.mean(1)

    ytr = torch.tensor([r["hour"] % 12 for r in rows_tr])
    mtr = torch.tensor([r["minute"] for r in rows_tr])
    bags = None if target in ("hour12", "hour12+minute", "word-slots") else target_bags(rows_tr, target, a.buckets)
    hour_classes = torch.tensor([word_class(hour_word(h), a.buckets) for h in range(12)])
    modules = [vision, head] + ([connector] if connector is not None else [])
    params = [p for m in modules for p in m.parameters()]
    opt = torch.optim.AdamW(params, lr=a.lr, betas=(0.9, 0.95), weight_decay=0.01)
    gen = torch.Generator().manual_seed(a.seed)
    accs = []
    for step in range(1, a.steps + 1):
        idx = torch.randint(len(xtr), (a.batch_size,), generator=gen)
        logits = head(features(xtr[idx]))
        if slots is not None:
            per_slot = logits.view(len(idx), SLOTS, a.buckets)
            loss = F.cross_entropy(per_slot.flatten(0, 1), slots[idx].flatten(), reduction="sum") / len(idx)
        elif target == "hour12+minute":
            loss = F.cross_entropy(logits[:, :12], ytr[idx]) + F.cross_entropy(logits[:, 12:], mtr[idx])
        elif bags is None:
            loss = F.cross_entropy(logits, ytr[idx])
        else:
            loss = -(bags[idx] * F.log_softmax(logits, -1)).sum(1).mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if step % a.every == 0:
            with torch.no_grad():
                logits = head(features(xva))
                if slots is not None:
                    logits = logits.view(len(xva), SLOTS, a.buckets)[:, hour_slot]
                if target == "hour12+minute":
                    logits = logits[:, :12]
                elif target != "hour12":
                    logits = logits[:, hour_classes]
                accs.append(float((logits.argmax(1) == yva).float().mean()))
            print(f"  {target} step {step}: held-out hour accuracy {accs[-1]:.3f}", flush=True)
    return accs


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="a Clocks output folder (train and validation splits)")
    p.add_argument("--config", default="small")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--every", type=int, default=50, help="score the held-out rows every N steps")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--buckets", type=int, default=4096, help="hashed word classes of the word heads")
    p.add_argument("--features", choices=("vision", "connector"), default="connector")
    p.add_argument("--targets", nargs="+", choices=TARGETS, default=list(TARGETS))
    p.add_argument("--train-rows", type=int, default=6000)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(1)
    mc, _ = load_config(a.config)
    mc.image.max_crops = 0
    xtr, rows_tr = load(a.data, "train", mc.image, a.train_rows)
    xva, rows_va = load(a.data, "validation", mc.image, 300)
    yva = torch.tensor([r["hour"] % 12 for r in rows_va])
    print(f"{len(rows_tr)} train rows, {len(rows_va)} held-out rows; chance 0.083; features: {a.features}")
    results = {}
    for target in a.targets:
        t0 = time.process_time()
        results[target] = train_one(target, a, xtr, rows_tr, xva, yva, mc)
        print(f"  {target}: {time.process_time() - t0:.0f} CPU-s", flush=True)
    steps = [a.every * (i + 1) for i in range(a.steps // a.every)]
    base = results.get("hour12")
    print(f"\nheld-out hour accuracy by step (batch {a.batch_size})")
    print(f"{'target':<20}" + "".join(f"{s:>8}" for s in steps) + ("   last vs hour12" if base else ""))
    for target, accs in results.items():
        ratio = f"   {accs[-1] / base[-1]:.2f}x" if base and base[-1] > 0 else ""
        print(f"{target:<20}" + "".join(f"{x:8.3f}" for x in accs) + ratio)


if __name__ == "__main__":
    main()
