"""Where does a clocks model's answer loss go? Per answer-token role (format words, hour digits, minute
digits, AM/PM, EOS) on held-out rows, with real and with blanked images, plus teacher-forced accuracy of the
hour and minute digits.

    .venv/bin/python bench/trainer_clock_diag.py RUN/final --data OUTPUT/clocks --split validation --n 200

The format words are learned in a few dozen steps and then say nothing about vision; the hour digits are
where the image must help (AM/PM is not visible on an analog face: its loss stays near ln 2).
"""

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trainer.data import ShardDataset, build_sources  # noqa: E402
from trainer.model import VLM  # noqa: E402
from trainer.preprocess import IGNORE, ExampleBuilder  # noqa: E402


def roles(tokens: list[str]) -> list[str]:
    """Role of each answer token of `The time shown is H:MM XM<eos>`."""
    out = ["format"] * len(tokens)
    if ":" not in tokens:
        return out
    colon = tokens.index(":")
    start = colon
    while start > 0 and tokens[start - 1].strip().isdigit():
        start -= 1
    for i in range(start, colon):
        out[i] = "hour"
    for i in range(colon + 1, min(colon + 3, len(tokens))):
        out[i] = "minute"
    if colon + 3 < len(tokens):
        out[colon + 3] = "meridiem"
    out[-1] = "eos"
    return out


@torch.no_grad()
def role_losses(model: VLM, data: list[str], split: str, n: int, blank: bool, batch_size: int = 16) -> dict:
    builder = ExampleBuilder(model.tokenizer, model.cfg.image, model.cfg.max_seq_len)
    ds = ShardDataset(
        build_sources(data, split), builder, batch_size, infinite=False, shuffle=False, blank_images=blank
    )
    sums, counts, hits = defaultdict(float), defaultdict(int), defaultdict(int)
    seen = 0
    model.eval()
    for batch in ds:
        hidden = model.hidden_states(batch)
        for i in range(batch["input_ids"].shape[0]):
            pos = (batch["targets"][i] != IGNORE).nonzero().squeeze(1)
            tgt = batch["targets"][i, pos]
            logits = model.decoder.get_output_embeddings()(hidden[i, pos]).float()
            losses = F.cross_entropy(logits, tgt, reduction="none")
            pred = logits.argmax(-1)
            toks = [model.tokenizer.decode([int(t)]) for t in tgt]
            for role, loss, ok in zip(roles(toks), losses.tolist(), (pred == tgt).tolist(), strict=True):
                sums[role] += loss
                counts[role] += 1
                hits[role] += int(ok)
        seen += batch["input_ids"].shape[0]
        if seen >= n:
            break
    return {r: {"loss": sums[r] / counts[r], "acc": hits[r] / counts[r], "n": counts[r]} for r in sorted(sums)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model")
    p.add_argument("--data", nargs="+", required=True)
    p.add_argument("--split", default="validation")
    p.add_argument("--n", type=int, default=200)
    a = p.parse_args()
    model = VLM.from_pretrained(a.model)
    real = role_losses(model, a.data, a.split, a.n, blank=False)
    blank = role_losses(model, a.data, a.split, a.n, blank=True)
    print(f"{'role':10s} {'n':>5s} {'loss img':>9s} {'loss blank':>10s} {'acc img':>8s} {'acc blank':>9s}")
    for r in real:
        print(
            f"{r:10s} {real[r]['n']:5d} {real[r]['loss']:9.3f} {blank[r]['loss']:10.3f} {real[r]['acc']:8.3f} "
            f"{blank[r]['acc']:9.3f}"
        )


if __name__ == "__main__":
    main()
