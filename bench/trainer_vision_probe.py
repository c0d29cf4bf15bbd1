"""Can the trainer's vision encoder alone learn to read the hour? ViT (as configured) -> mean of patch
features -> linear 12-way hour classifier, trained for a fixed time on clocks shards, scored on the held-out
split. It separates "the ViT cannot learn this in the budget" from "the VLM plumbing hides the signal".

    .venv/bin/python bench/trainer_vision_probe.py --data OUTPUT/clocks --config small --seconds 120
"""

import argparse
import dataclasses
import io
import sys
import time
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


def load(data: str, split: str, cfg, limit: int) -> tuple[torch.Tensor, torch.Tensor]:
    xs, ys = [], []
    for shard in find_shards(data, split):
        for row in pq.read_table(shard.path, columns=["image", "hour"]).to_pylist():
            img = Image.open(io.BytesIO(row["image"]["bytes"]))
            xs.append(preprocess_image(img, cfg, IDS).crops[0])
            ys.append(row["hour"] % 12)
            if len(xs) >= limit:
                break
    return torch.from_numpy(np.stack(xs)), torch.tensor(ys)


class _Through(torch.nn.Module):
    """Encoder tokens (N, P*P, C) through a connector (every patch real image)."""

    def __init__(self, connector: torch.nn.Module, side: int):
        super().__init__()
        self.connector, self.side = connector, side

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.connector(tokens, torch.ones(tokens.shape[0], self.side, self.side))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    p.add_argument("--config", default="small")
    p.add_argument("--seconds", type=float, default=120)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--train-rows", type=int, default=6000)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--flatten", action="store_true", help="linear head on all ViT tokens, not their mean")
    p.add_argument("--cnn", action="store_true", help="a plain CNN instead of the configured ViT, for reference")
    p.add_argument(
        "--connector",
        choices=("attention", "linear"),
        help="put a freshly initialised connector of this kind (the config's, 192 wide) between encoder and head",
    )
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    mc, _ = load_config(a.config)
    image = mc.image
    image.max_crops = 0
    xtr, ytr = load(a.data, "train", image, a.train_rows)
    xva, yva = load(a.data, "validation", image, 300)
    if a.cnn:
        # Reference point: a plain 4-layer CNN that keeps the spatial layout (flatten, no pooling).
        def block(i, o):
            return [torch.nn.Conv2d(i, o, 3, stride=2, padding=1), torch.nn.GroupNorm(1, o), torch.nn.GELU()]

        side = image.base_size // 16
        net = torch.nn.Sequential(
            *block(3, 32),
            *block(32, 64),
            *block(64, 96),
            *block(96, 96),
            torch.nn.Flatten(1),
            torch.nn.Unflatten(1, (1, 96 * side * side)),
        )
        vit, dim = net, 96 * side * side
    elif a.flatten:
        # Keep the ViT's token layout (as the decoder sees it) instead of averaging the tokens.
        base = build_vision(mc.vision, image)
        vit = torch.nn.Sequential(base, torch.nn.Flatten(1), torch.nn.Unflatten(1, (1, -1)))
        dim = base.out_dim * image.crop_patches**2
    else:
        vit = build_vision(mc.vision, image)
        dim = vit.out_dim
    if a.connector:
        # Does the encoder still learn through the connector? (From scratch, Molmo's attention connector
        # blocks it; the linear one does not: trainer/README.md.)
        cfg = dataclasses.replace(mc.connector, kind=a.connector, output_norm="none")
        connector = Connector(cfg, dim, 192, image.pooling)
        side = image.crop_patches
        vit = torch.nn.Sequential(vit, _Through(connector, side))
        dim = 192
    head = torch.nn.Sequential(torch.nn.LayerNorm(dim), torch.nn.Linear(dim, 12))
    params = list(vit.parameters()) + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=a.lr, betas=(0.9, 0.95), weight_decay=0.01)
    t0, step = time.time(), 0
    gen = torch.Generator().manual_seed(0)
    while time.time() - t0 < a.seconds:
        idx = torch.randint(len(xtr), (a.batch_size,), generator=gen)
        loss = F.cross_entropy(head(vit(xtr[idx]).mean(1)), ytr[idx])
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        if step % 50 == 0:
            with torch.no_grad():
                acc = (head(vit(xva).mean(1)).argmax(1) == yva).float().mean()
            print(
                f"step {step} ({time.time() - t0:.0f}s, {step * a.batch_size} samples): train loss "
                f"{loss.item():.3f}, held-out hour acc {acc:.3f} (chance 0.083)",
                flush=True,
            )


if __name__ == "__main__":
    main()
