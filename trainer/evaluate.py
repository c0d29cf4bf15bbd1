"""Molmo-style scoring per subset, answer-token loss, and the vision ablations (loss with blanked images and
with each row's text paired with another row's image).

Every number for a subset comes from the same rows: the first `n` rows of its held-out split, in shard order.
Scorers take the generated text, the conversation's metadata and the row, and return {metric: value}; a
scorer that does not apply to a row (a long docs answer, a row without boxes) leaves its keys out.
"""

import re
from collections import defaultdict
from collections.abc import Callable

import numpy as np
import torch

from formatting.subsets import RowContext, format_row
from trainer.data import Source, blank_image, iter_rows
from trainer.model import VLM
from trainer.preprocess import IGNORE, ExampleBuilder, collate, decode_image

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


def points_in_boxes(pred: str, row: dict) -> dict:
    """Predicted points (percent of width/height) that fall inside a true box (pixels), each box taken by at
    most one point: precision over the predicted points, recall over the boxes. Rows without boxes: {}."""
    boxes = list(row.get("boxes") or [])
    if not boxes or not row.get("width") or not row.get("height"):
        return {}
    free = list(boxes)
    hits = 0
    points = parse_points(pred)
    for x, y in points:
        px, py = x / 100 * row["width"], y / 100 * row["height"]
        inside = [b for b in free if b["x0"] <= px <= b["x1"] and b["y0"] <= py <= b["y1"]]
        if inside:
            free.remove(inside[0])
            hits += 1
    return {"box_precision": hits / len(points) if points else 0.0, "box_recall": hits / len(boxes)}


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


SHORT_ANSWER_WORDS = 5  # exact match and ANLS only judge short answers (DocVQA style); longer ones: loss only


def qa_scores(pred: str, meta: dict, row: dict | None = None) -> dict:
    answer = str(meta.get("answer", ""))
    if not answer.strip() or len(answer.split()) > SHORT_ANSWER_WORDS:
        return {}
    return {"exact_match": float(pred.strip().lower() == answer.strip().lower()), "anls": anls(pred, answer)}


def _count_scores(pred: str, meta: dict, row: dict) -> dict:
    return {**count_scores(pred, meta), **(points_in_boxes(pred, row) or pointing_scores(pred, meta))}


def _points_scores(pred: str, meta: dict, row: dict) -> dict:
    return points_in_boxes(pred, row) or pointing_scores(pred, meta)


SCORERS: dict[str, Callable[[str, dict, dict], dict]] = {
    "clocks": lambda pred, meta, row: clock_scores(pred, meta),
    "count": _count_scores,
    "points": _points_scores,
    "docs": qa_scores,
    "ama": qa_scores,
}
# Captions and CapQA have no scorer: their answers are long free text, judged by answer loss and the gaps.

# Columns scorers read besides the formatter's (count's detector boxes, in pixels of the stored image).
EXTRA_COLUMNS: dict[str, tuple[str, ...]] = {"count": ("boxes", "width", "height")}

# Answers with points are long in bytes; the rest are short.
MAX_NEW_TOKENS: dict[str, int] = {"count": 256, "points": 256}
DEFAULT_MAX_NEW_TOKENS = 48

# Chance level of a subset's headline metric, for the report's target.
CHANCE = {"clocks": ("hour_correct", 1 / 12)}

# Nats in one answer that no image-blind model can avoid (the "label prior"), where it is known: a clock's
# hour (12 on the dial), minute (60) and AM/PM (2, not visible on an analog face) are uniform.
LABEL_NATS: dict[str, Callable[[dict], float]] = {"clocks": lambda meta: float(np.log(12) + np.log(60) + np.log(2))}


def _mean_dicts(rows: list[dict]) -> dict:
    keys = sorted({k for r in rows for k in r})
    return {k: float(np.mean([r[k] for r in rows if k in r])) for k in keys}


def held_out_rows(source: Source, n: int | None) -> list[tuple[dict, RowContext]]:
    """The first `n` rows of the source (all when None), in shard order, with the columns scorers need."""
    rows = []
    for row, ctx in iter_rows(source, extra_columns=EXTRA_COLUMNS.get(source.subset, ())):
        if n is not None and len(rows) >= n:
            break
        rows.append((row, ctx))
    return rows


def _examples(builder: ExampleBuilder, rows: list, images: list) -> list[dict]:
    """Model inputs for `rows` with the given images; the text of row k is drawn from seed k, so every image
    variant is scored on exactly the same tokens."""
    out = []
    for k, ((row, ctx), image) in enumerate(zip(rows, images, strict=True)):
        rng = np.random.default_rng([k])
        convs = format_row(row, rng, ctx)
        out.append({**builder.build(image, convs, rng), "metadata": [c.metadata for c in convs]})
    return out


@torch.no_grad()
def answer_loss(model: VLM, examples: list[dict], pad_id: int, batch_size: int, device) -> float:
    """Answer-token loss over exactly these examples (token weighted)."""
    model.eval()
    total, tokens = 0.0, 0
    for i in range(0, len(examples), batch_size):
        batch = {k: v.to(device) for k, v in collate(examples[i : i + batch_size], pad_id).items()}
        out = model(batch)
        total += float(out["loss"]) * int(out["n_tokens"])
        tokens += int(out["n_tokens"])
    return total / max(tokens, 1)


@torch.no_grad()
def generation_scores(
    model: VLM, subset: str, rows: list, images: list, builder: ExampleBuilder, batch_size: int, device
) -> tuple[dict, list[dict]]:
    """Greedy answers to the first question of each row, scored with the subset's scorer."""
    scorer = SCORERS[subset]
    model.eval()
    scores, samples = [], []
    for i in range(0, len(rows), batch_size):
        chunk = []
        for k in range(i, min(i + batch_size, len(rows))):
            (row, ctx), image = rows[k], images[k]
            conv = format_row(row, np.random.default_rng([k]), ctx)[0]
            conv.messages = conv.messages[:2]
            chunk.append((builder.build(image, [conv], None, for_inference=True), conv, row))
        batch = {k: v.to(device) for k, v in collate([c[0] for c in chunk], builder.pad).items()}
        max_new = MAX_NEW_TOKENS.get(subset, DEFAULT_MAX_NEW_TOKENS)
        for (_, conv, row), ids in zip(chunk, model.generate(batch, max_new), strict=True):
            pred = model.tokenizer.decode(ids, skip_special_tokens=True).strip()
            s = scorer(pred, conv.metadata, row)
            scores.append(s)
            samples.append({"prompt": conv.messages[0], "target": conv.messages[1], "prediction": pred, **s})
    metrics = _mean_dicts(scores)
    metrics["n_scored"] = sum(1 for s in scores if s)
    return metrics, samples


def evaluate(
    model: VLM,
    sources: list[Source],
    batch_size: int = 8,
    max_examples: int | None = None,
    generate: bool = True,
    device: str | torch.device = "cpu",
) -> tuple[dict, dict]:
    """Per subset, on its first `max_examples` rows (all when None): answer loss with the real images, with
    blanked images and with shuffled images (row k gets the image of row k + n/2), the number of sequences cut
    at max_seq_len, and generation scores. Returns (metrics, samples)."""
    builder = ExampleBuilder(model.tokenizer, model.cfg.image, model.cfg.max_seq_len)
    metrics: dict = defaultdict(dict)
    samples: dict = {}
    for src in sources:
        rows = held_out_rows(src, max_examples)
        if not rows:
            continue
        images = [decode_image(row["image"], builder.decode_side) for row, _ in rows]
        n = len(rows)
        shuffled = [images[(k + n // 2) % n] for k in range(n)]
        m = metrics[src.subset]
        m["n"] = n
        real = _examples(builder, rows, images)
        m["truncated"] = sum(bool(e["truncated"]) for e in real)
        if src.subset in LABEL_NATS:
            nats = sum(LABEL_NATS[src.subset](meta) for e in real for meta in e["metadata"])
            m["label_prior_loss"] = nats / max(1, sum(int((e["targets"] != IGNORE).sum()) for e in real))
        m["loss"] = answer_loss(model, real, builder.pad, batch_size, device)
        blank = _examples(builder, rows, [blank_image(im) for im in images])
        m["loss_blank_images"] = answer_loss(model, blank, builder.pad, batch_size, device)
        if n > 1:
            other = _examples(builder, rows, shuffled)
            m["loss_shuffled_images"] = answer_loss(model, other, builder.pad, batch_size, device)
        if generate and src.subset in SCORERS:
            scores, samples[src.subset] = generation_scores(
                model, src.subset, rows, images, builder, batch_size, device
            )
            m.update(scores)
    return dict(metrics), samples
