"""Molmo-style scoring per subset, answer-token loss, and the vision ablation (loss with blanked images).

Scorers take the generated text and the conversation's metadata and return {metric: 0/1 or float}.
"""

import re
from collections import defaultdict
from collections.abc import Callable

import numpy as np
import torch

from formatting.subsets import format_row
from trainer.data import ShardDataset, Source, iter_rows
from trainer.model import VLM
from trainer.preprocess import ExampleBuilder, collate, decode_image

NUMBER_WORDS = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
        "seventeen eighteen nineteen twenty".split()
    )
}


def parse_clock(text: str) -> tuple[int | None, int | None, str | None]:
    """(hour 0-23 or 1-12, minute, "AM"/"PM"/None) from text like `The time shown is 3:02 PM`."""
    m = re.search(r"(\d{1,2})\s*:\s*(\d{1,2})(?:\s*:\s*\d{1,2})?\s*([AaPp]\.?[Mm]\.?)?", text)
    if not m:
        return None, None, None
    meridiem = m.group(3).replace(".", "").upper() if m.group(3) else None
    return int(m.group(1)), int(m.group(2)), meridiem


def clock_scores(pred: str, meta: dict, tolerance: int = 3) -> dict:
    """An analog face does not show AM/PM, so the hour counts modulo 12 (chance 1/12); `hour_24_correct`
    also needs the right AM/PM. Minutes are close within `tolerance`, wrapping around the hour."""
    hour, minute, meridiem = parse_clock(pred)
    if hour is None:
        return {
            "hour_correct": 0.0,
            "hour_24_correct": 0.0,
            "minute_correct": 0.0,
            "minute_close": 0.0,
            "all_close": 0.0,
            "parsed": 0.0,
        }
    true_h, true_m = meta["hour"], meta["minute"]
    pred_24 = hour % 12 + (12 if meridiem == "PM" else 0) if meridiem else hour
    hour_ok = hour % 12 == true_h % 12
    gap = abs(minute - true_m) % 60
    close = min(gap, 60 - gap) <= tolerance
    return {
        "hour_correct": float(hour_ok),
        "hour_24_correct": float(pred_24 == true_h),
        "minute_correct": float(minute == true_m),
        "minute_close": float(close),
        "all_close": float(hour_ok and close),
        "parsed": 1.0,
    }


def parse_count(text: str) -> int | None:
    """Molmo-style count parsing: `a total of N`, `There are none`, else the last number (digits or words)."""
    m = re.search(r"total of (\d+)", text)
    if m:
        return int(m.group(1))
    if re.search(r"\bthere are none\b|\bnone\b", text.lower()):
        return 0
    tokens = re.findall(r"\d+|[a-zA-Z]+", text)
    for tok in reversed(tokens):
        if tok.isdigit():
            return int(tok)
        if tok.lower() in NUMBER_WORDS:
            return NUMBER_WORDS[tok.lower()]
    return None


def count_scores(pred: str, meta: dict) -> dict:
    n = parse_count(pred)
    return {
        "count_correct": float(n == meta["count"]),
        "count_close": float(n is not None and abs(n - meta["count"]) <= 1),
    }


def parse_points(text: str) -> list[tuple[float, float]]:
    """All x/y pairs of `<point x=".." y="..">` and `<points x1=".." y1=".." ...>` tags."""
    points = []
    for tag in re.findall(r"<points?\s[^>]*>", text):
        xs = dict(re.findall(r'\bx(\d*)="([\d.]+)"', tag))
        ys = dict(re.findall(r'\by(\d*)="([\d.]+)"', tag))
        points += [(float(xs[k]), float(ys[k])) for k in xs if k in ys]
    return points


def pointing_scores(pred: str, meta: dict, radius: float = 5.0) -> dict:
    """Precision / recall / F1 of predicted points matched greedily to true points within `radius` percent."""
    pred_pts, true_pts = parse_points(pred), list(meta.get("points") or [])
    if not true_pts and not pred_pts:
        return {"point_precision": 1.0, "point_recall": 1.0, "point_f1": 1.0}
    unmatched = list(true_pts)
    hits = 0
    for px, py in pred_pts:
        if not unmatched:
            break
        d = [np.hypot(px - tx, py - ty) for tx, ty in unmatched]
        j = int(np.argmin(d))
        if d[j] <= radius:
            hits += 1
            unmatched.pop(j)
    p = hits / len(pred_pts) if pred_pts else 0.0
    r = hits / len(true_pts) if true_pts else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"point_precision": p, "point_recall": r, "point_f1": f1}


def anls(pred: str, answer: str, threshold: float = 0.5) -> float:
    """Average normalised Levenshtein similarity for one answer (DocVQA's metric)."""
    a, b = pred.strip().lower(), answer.strip().lower()
    if not a and not b:
        return 1.0
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    sim = 1 - prev[-1] / max(len(a), len(b))
    return sim if sim >= threshold else 0.0


def qa_scores(pred: str, meta: dict) -> dict:
    return {
        "exact_match": float(pred.strip().lower() == meta["answer"].strip().lower()),
        "anls": anls(pred, meta["answer"]),
    }


SCORERS: dict[str, Callable[[str, dict], dict]] = {
    "clocks": clock_scores,
    "count": lambda pred, meta: {**count_scores(pred, meta), **pointing_scores(pred, meta)},
    "points": lambda pred, meta: {**count_scores(pred, meta), **pointing_scores(pred, meta)},
    "docs": qa_scores,
    "ama": qa_scores,
}

# Chance level of the headline metric, for the report.
CHANCE = {"clocks": ("hour_correct", 1 / 12)}


def _mean_dicts(rows: list[dict]) -> dict:
    keys = sorted({k for r in rows for k in r})
    return {k: float(np.mean([r[k] for r in rows if k in r])) for k in keys}


@torch.no_grad()
def eval_loss(
    model: VLM,
    source: Source,
    builder: ExampleBuilder,
    batch_size: int,
    max_examples: int,
    blank_images: bool = False,
    device: str | torch.device = "cpu",
) -> float:
    """Answer-token loss over the first `max_examples` rows (token weighted)."""
    ds = ShardDataset([source], builder, batch_size, infinite=False, shuffle=False, blank_images=blank_images)
    total, tokens, seen = 0.0, 0, 0
    model.eval()
    for batch in ds:
        batch = {k: v.to(device) if torch.is_tensor(v) else v for k, v in batch.items()}
        out = model(batch)
        n = int(out["n_tokens"])
        total += float(out["loss"]) * n
        tokens += n
        seen += batch["input_ids"].shape[0]
        if seen >= max_examples:
            break
    return total / max(tokens, 1)


@torch.no_grad()
def eval_generation(
    model: VLM,
    source: Source,
    builder: ExampleBuilder,
    batch_size: int,
    max_examples: int,
    max_new_tokens: int = 48,
    device: str | torch.device = "cpu",
) -> tuple[dict, list[dict]]:
    """Greedy answers to the first question of each row, scored with the subset's scorer."""
    scorer = SCORERS.get(source.subset)
    model.eval()
    scores, samples, pending = [], [], []

    def flush():
        batch = collate([p[0] for p in pending], builder.pad)
        batch = {k: v.to(device) for k, v in batch.items()}
        for (_, meta, prompt, answer), ids in zip(pending, model.generate(batch, max_new_tokens), strict=True):
            pred = model.tokenizer.decode(ids, skip_special_tokens=True).strip()
            s = scorer(pred, meta) if scorer else {}
            scores.append(s)
            samples.append({"prompt": prompt, "target": answer, "prediction": pred, **s})
        pending.clear()

    for k, (row, ctx) in enumerate(iter_rows(source)):
        if k >= max_examples:
            break
        conv = format_row(row, np.random.default_rng([k]), ctx)[0]
        conv.messages = conv.messages[:2]
        ex = builder.build(decode_image(row["image"], builder.decode_side), [conv], None, for_inference=True)
        pending.append((ex, conv.metadata, conv.messages[0], conv.messages[1]))
        if len(pending) == batch_size:
            flush()
    if pending:
        flush()
    return _mean_dicts(scores), samples


def evaluate(
    model: VLM,
    sources: list[Source],
    batch_size: int = 8,
    max_examples: int = 200,
    generate: bool = True,
    device: str | torch.device = "cpu",
) -> tuple[dict, dict]:
    """Per subset: loss, loss with blanked images, and generation scores. Returns (metrics, samples)."""
    builder = ExampleBuilder(model.tokenizer, model.cfg.image, model.cfg.max_seq_len)
    metrics: dict = defaultdict(dict)
    samples: dict = {}
    for src in sources:
        m = metrics[src.subset]
        m["loss"] = eval_loss(model, src, builder, batch_size, max_examples, device=device)
        m["loss_blank_images"] = eval_loss(
            model, src, builder, batch_size, max_examples, blank_images=True, device=device
        )
        if generate and src.subset in SCORERS:
            scores, samples[src.subset] = eval_generation(model, src, builder, batch_size, max_examples, device=device)
            m.update(scores)
        m["n"] = min(max_examples, src.num_rows)
    return dict(metrics), samples
