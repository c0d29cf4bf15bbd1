"""Images -> crops and layout tokens; conversations -> token ids with answer-only targets.

The image layout follows Molmo's overlap-and-resize: a low-res global view of the whole image, then
high-res crops on a grid picked for the aspect ratio. Neighbouring crops overlap by the margins, and the
pooled tokens in the overlaps are dropped, so the high-res tokens tile the image exactly once.
"""

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

from formatting.messages import Conversation, render
from trainer.config import ImageConfig
from trainer.tokenizer import IM_COL, IM_END, IM_PATCH, IM_START, layout_ids

IGNORE = -100


def select_tiling(h: float, w: float, tile: int, max_crops: int) -> tuple[int, int]:
    """(rows, cols) of `tile`-sized crops that fit an h x w image best, with rows * cols <= max_crops.

    Molmo's rule, in float32 as Molmo computes it: prefer the grid that needs the least upscaling; if every
    grid needs downscaling, the one that downscales least; ties go to fewer crops. The caller passes the image
    size minus the overlap margins, so a side shorter than the margins arrives negative and, as in Molmo,
    gives the 1x1 grid (every scale is negative, the least negative is 1x1); a side exactly as long as the
    margins arrives as 0, its scale is infinite, and the other side decides.
    """
    grids = sorted(
        ((r, c) for r in range(1, max_crops + 1) for c in range(1, max_crops + 1) if r * c <= max_crops),
        key=lambda g: (g[0] * g[1], g[0]),
    )
    sizes = np.array(grids, np.float32) * np.float32(tile)
    with np.errstate(divide="ignore", invalid="ignore"):
        scales = np.min(sizes / np.array([h, w], np.float32), axis=1)
    scales = np.where(np.isnan(scales), np.inf, scales)  # 0 / 0: an empty image fits any grid
    if np.all(scales < 1):
        return grids[int(np.argmax(scales))]
    return grids[int(np.argmin(np.where(scales < 1, np.inf, scales)))]


def resize_and_pad(image: Image.Image, out_h: int, out_w: int) -> tuple[np.ndarray, np.ndarray]:
    """Fit the image into out_h x out_w keeping its aspect ratio, centred on black padding.

    The scale is computed in float32 as Molmo does (float64 puts 333 px at 335.99.. of 336 and loses a
    column). Returns float32 pixels in [0, 1] (H, W, 3) and a bool mask of which pixels are image.
    """
    height, width = np.float32(image.height), np.float32(image.width)
    scale = min(np.float32(out_h) / height, np.float32(out_w) / width)
    h, w = max(1, int(height * scale)), max(1, int(width * scale))
    resized = np.asarray(image.resize((w, h), Image.BILINEAR), dtype=np.float32) / 255.0
    top, left = (out_h - h) // 2, (out_w - w) // 2
    pixels = np.zeros((out_h, out_w, 3), np.float32)
    pixels[top : top + h, left : left + w] = resized
    mask = np.zeros((out_h, out_w), bool)
    mask[top : top + h, left : left + w] = True
    return pixels, mask


def _patch_fraction(mask: np.ndarray, patch: int) -> np.ndarray:
    """Per-patch share of real image pixels: 1 = image, 0 = padding, between = partial padding."""
    ph, pw = mask.shape[0] // patch, mask.shape[1] // patch
    return mask.reshape(ph, patch, pw, patch).mean(axis=(1, 3)).astype(np.float32)


@dataclass
class ImageInputs:
    crops: np.ndarray  # (n_crops, 3, S, S) normalised pixels; crop 0 is the global view
    patch_mask: np.ndarray  # (n_crops, P, P) share of each patch that is image
    tokens: np.ndarray  # layout token ids: global view block, then the high-res block
    pooled_idx: np.ndarray  # (n_crops, T*T) position in `tokens` of each pooled feature, -1 = dropped
    tiling: tuple[int, int]


def _kept_range(index: int, count: int, cfg: ImageConfig) -> tuple[int, int]:
    """Pooled rows (or cols) of crop `index` of `count` that are not in an overlap with a neighbour."""
    left, right = (m // cfg.pooling for m in cfg.overlap_margins)
    start = 0 if index == 0 else left
    stop = cfg.tokens_per_side if index == count - 1 else cfg.tokens_per_side - right
    return start, stop


def _grid_tokens(rows: int, cols: int, ids: dict[str, int], col_tokens: bool) -> tuple[list[int], np.ndarray]:
    """`<im_start>`, rows of patch tokens each closed by `<im_col>`, `<im_end>`; plus each patch's position."""
    tokens = [ids[IM_START]]
    positions = np.zeros((rows, cols), np.int64)
    for r in range(rows):
        for c in range(cols):
            positions[r, c] = len(tokens)
            tokens.append(ids[IM_PATCH])
        if col_tokens:
            tokens.append(ids[IM_COL])
    tokens.append(ids[IM_END])
    return tokens, positions


def preprocess_image(image: Image.Image, cfg: ImageConfig, ids: dict[str, int]) -> ImageInputs:
    """Crops, patch masks, layout tokens and the feature-to-token map of one image."""
    cfg.validate()
    image = image.convert("RGB")
    s, patch, t = cfg.base_size, cfg.patch_size, cfg.tokens_per_side
    left, right = cfg.overlap_margins
    margin_px = (left + right) * patch
    window_px = (cfg.crop_patches - left - right) * patch

    glob, glob_mask = resize_and_pad(image, s, s)
    if cfg.max_crops == 0:
        # Global view only: the cheapest layout, for small images and small (CPU) models.
        g_tokens, g_pos = _grid_tokens(t, t, ids, cfg.use_col_tokens)
        mean, std = np.array(cfg.mean, np.float32), np.array(cfg.std, np.float32)
        pixels = (glob[None] - mean) / std
        return ImageInputs(
            crops=np.ascontiguousarray(pixels.transpose(0, 3, 1, 2)),
            patch_mask=_patch_fraction(glob_mask, patch)[None],
            tokens=np.array(g_tokens, np.int64),
            pooled_idx=g_pos.reshape(1, -1),
            tiling=(0, 0),
        )

    # Tiling as if the image had no margins and the crops were only their windows.
    rows, cols = select_tiling(image.height - margin_px, image.width - margin_px, window_px, cfg.max_crops)
    big, big_mask = resize_and_pad(image, rows * window_px + margin_px, cols * window_px + margin_px)

    crops, masks = [glob], [glob_mask]
    for r in range(rows):
        for c in range(cols):
            y0, x0 = r * window_px, c * window_px
            crops.append(big[y0 : y0 + s, x0 : x0 + s])
            masks.append(big_mask[y0 : y0 + s, x0 : x0 + s])

    # Global view: every pooled token is kept, in a t x t grid.
    g_tokens, g_pos = _grid_tokens(t, t, ids, cfg.use_col_tokens)
    pooled_idx = [g_pos.reshape(-1)]

    # High-res view: the kept pooled tokens of all crops form one (H x W) grid over the whole image.
    row_ranges = [_kept_range(r, rows, cfg) for r in range(rows)]
    col_ranges = [_kept_range(c, cols, cfg) for c in range(cols)]
    grid_h = sum(b - a for a, b in row_ranges)
    grid_w = sum(b - a for a, b in col_ranges)
    h_tokens, h_pos = _grid_tokens(grid_h, grid_w, ids, cfg.use_col_tokens)
    h_pos = h_pos + len(g_tokens)
    gy = 0
    for ra, rb in row_ranges:
        gx = 0
        for ca, cb in col_ranges:
            idx = np.full((t, t), -1, np.int64)
            idx[ra:rb, ca:cb] = h_pos[gy : gy + rb - ra, gx : gx + cb - ca]
            pooled_idx.append(idx.reshape(-1))
            gx += cb - ca
        gy += rb - ra

    mean, std = np.array(cfg.mean, np.float32), np.array(cfg.std, np.float32)
    pixels = (np.stack(crops) - mean) / std
    return ImageInputs(
        crops=np.ascontiguousarray(pixels.transpose(0, 3, 1, 2)),
        patch_mask=np.stack([_patch_fraction(m, patch) for m in masks]),
        tokens=np.array(g_tokens + h_tokens, np.int64),
        pooled_idx=np.stack(pooled_idx),
        tiling=(rows, cols),
    )


def decode_image(value: dict | bytes | Image.Image, min_side: int | None = None) -> Image.Image:
    """An `image` column value (HF layout {"bytes", "path"}) -> PIL image.

    With `min_side`, a JPEG is decoded at the smallest of its 1/1, 1/2, 1/4, 1/8 DCT scales whose sides are all
    still >= `min_side` (PIL's draft mode): a 448 px clock decodes for a 128 px view ~4x faster, and the result
    is the same downscale the resize would do anyway.
    """
    if isinstance(value, Image.Image):
        return value
    data = value["bytes"] if isinstance(value, dict) else value
    if not data:
        raise ValueError("image has no bytes")
    image = Image.open(io.BytesIO(data))
    if min_side is not None and image.format == "JPEG":
        image.draft("RGB", (min_side, min_side))
    return image


class ExampleBuilder:
    """Turns (image, conversations) into model inputs: `[bos] image-tokens text...` with targets only on
    assistant turns (and the EOS that ends each of them)."""

    def __init__(self, tokenizer, image_cfg: ImageConfig, max_seq_len: int):
        self.tok = tokenizer
        self.cfg = image_cfg
        self.max_seq_len = max_seq_len
        self.ids = layout_ids(tokenizer)
        self.eos = tokenizer.eos_token_id
        self.bos = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else self.eos
        self.pad = tokenizer.pad_token_id

    @property
    def decode_side(self) -> int | None:
        """The smallest image side the layout needs at full detail (for `decode_image`): the global view's
        size when there are no high-res crops; None (decode fully) when crops may need every pixel."""
        return self.cfg.base_size if self.cfg.max_crops == 0 else None

    def text_tokens(
        self, convs: list[Conversation], rng: np.random.Generator | None, for_inference: bool = False
    ) -> tuple[list[int], list[bool]]:
        ids: list[int] = []
        loss: list[bool] = []
        for ci, conv in enumerate(convs):
            for mi, text in enumerate(render(conv, rng, for_inference=for_inference, first=ci == 0)):
                msg = self.tok.encode(text, add_special_tokens=False)
                is_answer = mi % 2 == 1
                if is_answer:
                    msg.append(self.eos)
                ids += msg
                loss += [is_answer] * len(msg)
        return ids, loss

    def build(
        self,
        image: Image.Image,
        convs: list[Conversation],
        rng: np.random.Generator | None,
        for_inference: bool = False,
    ) -> dict:
        img = preprocess_image(image, self.cfg, self.ids)
        text, text_loss = self.text_tokens(convs, rng, for_inference)
        ids = [self.bos] + img.tokens.tolist() + text
        loss = [False] * (1 + len(img.tokens)) + text_loss
        truncated = len(ids) > self.max_seq_len
        if truncated:
            if 1 + len(img.tokens) >= self.max_seq_len:
                raise ValueError(f"image takes {len(img.tokens)} tokens, more than max_seq_len {self.max_seq_len}")
            ids, loss = ids[: self.max_seq_len], loss[: self.max_seq_len]
        ids_arr = np.array(ids, np.int64)
        # Target at t is token t+1, counted only where token t+1 is part of an answer.
        targets = np.full(len(ids), IGNORE, np.int64)
        nxt = np.array(loss[1:], bool)
        targets[:-1][nxt] = ids_arr[1:][nxt]
        image_mask = np.zeros(len(ids), bool)
        image_mask[1 : 1 + len(img.tokens)] = True
        pooled = np.where(img.pooled_idx >= 0, img.pooled_idx + 1, -1)  # +1 for the bos
        return {
            "input_ids": ids_arr,
            "targets": targets,
            "image_mask": image_mask,
            "crops": img.crops,
            "patch_mask": img.patch_mask,
            "pooled_idx": pooled,
            "truncated": truncated,  # cut at max_seq_len: counted in the metrics and the report
        }


def scatter_indices(pooled_idx, crop_example, length: int):
    """Flat indices: pooled feature `src` (into all crops' T*T features) is added to token `dst` (into
    B * length positions). Works on numpy arrays and torch tensors."""
    keep = pooled_idx >= 0
    flat_keep = keep.reshape(-1)
    src = np.flatnonzero(flat_keep) if isinstance(flat_keep, np.ndarray) else flat_keep.nonzero().squeeze(1)
    dst = (crop_example[:, None] * length + pooled_idx)[keep]
    return src, dst


def collate(examples: list[dict], pad_id: int) -> dict:
    """Right-pad texts; stack every example's crops into one flat crop batch with its example index, so
    no compute is spent on padding crops."""
    import torch

    n, length = len(examples), max(len(e["input_ids"]) for e in examples)
    input_ids = np.full((n, length), pad_id, np.int64)
    targets = np.full((n, length), IGNORE, np.int64)
    attn = np.zeros((n, length), bool)
    image_mask = np.zeros((n, length), bool)
    for i, e in enumerate(examples):
        k = len(e["input_ids"])
        input_ids[i, :k], targets[i, :k], attn[i, :k], image_mask[i, :k] = (
            e["input_ids"],
            e["targets"],
            True,
            e["image_mask"],
        )
    crop_example = np.concatenate([np.full(len(e["crops"]), i, np.int64) for i, e in enumerate(examples)])
    pooled_idx = np.concatenate([e["pooled_idx"] for e in examples])
    feat_src, feat_dst = scatter_indices(pooled_idx, crop_example, length)
    loss_pos = np.flatnonzero(targets != IGNORE)
    out = {
        "input_ids": input_ids,
        "targets": targets,
        "attention_mask": attn,
        "image_mask": image_mask,
        "crops": np.concatenate([e["crops"] for e in examples]),
        "patch_mask": np.concatenate([e["patch_mask"] for e in examples]),
        "pooled_idx": pooled_idx,
        "crop_example": crop_example,
        # Index lists computed here on the host, so the model's step needs no data-dependent shapes
        # (boolean indexing on a GPU waits for the device to report the count).
        "feat_src": feat_src,
        "feat_dst": feat_dst,
        "loss_pos": loss_pos,
        "truncated": np.array(sum(bool(e.get("truncated")) for e in examples), np.int64),
    }
    return {k: torch.from_numpy(v) for k, v in out.items()}
