import numpy as np
import pytest
from PIL import Image

from formatting.messages import Conversation
from trainer.config import ImageConfig
from trainer.preprocess import IGNORE, ExampleBuilder, collate, preprocess_image, resize_and_pad, select_tiling
from trainer.tokenizer import IM_COL, IM_END, IM_PATCH, IM_START

IDS = {IM_START: 1, IM_END: 2, IM_PATCH: 3, IM_COL: 4}


def test_select_tiling_follows_aspect_ratio():
    assert select_tiling(100, 100, 100, 6) == (1, 1)
    assert select_tiling(100, 300, 100, 6) == (1, 3)
    assert select_tiling(300, 100, 100, 6) == (3, 1)
    assert select_tiling(200, 200, 100, 6) == (2, 2)
    # Too big for any grid: the grid that downscales least.
    assert select_tiling(1000, 1000, 100, 4) == (2, 2)
    # Degenerate sizes fall back on a valid grid.
    r, c = select_tiling(0, 0, 100, 4)
    assert r * c <= 4


def test_resize_and_pad_keeps_aspect():
    pixels, mask = resize_and_pad(Image.new("RGB", (200, 100), (255, 255, 255)), 56, 56)
    assert pixels.shape == (56, 56, 3) and mask.shape == (56, 56)
    assert mask.sum() == 56 * 28 and mask[28, :].all() and not mask[0, :].any()


@pytest.mark.parametrize(
    "size,margins,max_crops",
    [((120, 60), (2, 2), 6), ((57, 300), (2, 2), 4), ((80, 80), (0, 0), 1), ((250, 250), (2, 4), 9)],
)
def test_high_res_tokens_tile_the_image_once(size, margins, max_crops):
    cfg = ImageConfig(base_size=112, patch_size=14, max_crops=max_crops, overlap_margins=margins)
    out = preprocess_image(Image.new("RGB", size, (10, 200, 30)), cfg, IDS)
    rows, cols = out.tiling
    assert rows * cols <= max_crops
    n = 1 + rows * cols
    assert out.crops.shape == (n, 3, 112, 112)
    assert out.patch_mask.shape == (n, 8, 8)
    assert out.pooled_idx.shape == (n, 16)
    kept = out.pooled_idx[out.pooled_idx >= 0]
    # Every patch token gets exactly one feature; no feature lands on a non-patch token.
    patch_positions = np.flatnonzero(out.tokens == IDS[IM_PATCH])
    assert sorted(kept.tolist()) == patch_positions.tolist()
    assert (out.pooled_idx[0] >= 0).all()  # the global view keeps everything
    # Layout: two blocks, each <im_start> ... <im_end>, rows closed by <im_col>.
    assert out.tokens[0] == IDS[IM_START] and out.tokens[-1] == IDS[IM_END]
    assert (out.tokens == IDS[IM_START]).sum() == 2
    g = out.tokens[: 1 + 4 * 5 + 1]
    assert g[-1] == IDS[IM_END] and (g == IDS[IM_COL]).sum() == 4


def test_pooled_order_is_row_major_over_the_image():
    cfg = ImageConfig(base_size=56, patch_size=14, max_crops=2, overlap_margins=(0, 0))
    out = preprocess_image(Image.new("RGB", (112, 56)), cfg, IDS)
    assert out.tiling == (1, 2)
    left, right = out.pooled_idx[1].reshape(2, 2), out.pooled_idx[2].reshape(2, 2)
    # First row of the high-res grid: left crop's two tokens, then the right crop's.
    assert left[0, 1] < right[0, 0] < right[0, 1] < left[1, 0]


# Molmo's own layout (base 336, patch 14, margins 4+4 = 112 px, pooling 2, up to 12 crops). One block of
# <im_start>, 12 rows of 12 patches each closed by <im_col>, <im_end> is 158 tokens.
MOLMO = ImageConfig(base_size=336, patch_size=14, max_crops=12, overlap_margins=(4, 4))


@pytest.mark.parametrize(
    "size,tiling,tokens",
    [
        # A side under the 112 px of margins: Molmo always picks 1x1 (before: 1x2, 412 tokens)...
        ((500, 100), (1, 1), 316),
        ((100, 500), (1, 1), 316),  # before: 2x1, 420 tokens
        ((111, 900), (1, 1), 316),  # before: 4x1, 628 tokens
        ((60, 60), (1, 1), 316),
        # ...a side of exactly 112 px has an infinite scale, so the other side decides: 3 crops for 488 px.
        ((600, 112), (1, 3), 158 + 1 + 12 * (10 + 8 + 10 + 1) + 1),
        ((113, 113), (1, 1), 316),
        ((1000, 700), (3, 4), 158 + 1 + (10 + 8 + 10) * (10 + 8 + 8 + 10 + 1) + 1),
    ],
)
def test_tiling_matches_molmo_for_small_and_thin_images(size, tiling, tokens):
    out = preprocess_image(Image.new("RGB", size, (90, 10, 200)), MOLMO, IDS)
    assert out.tiling == tiling
    assert len(out.tokens) == tokens and out.crops.shape[0] == 1 + tiling[0] * tiling[1]


def test_resize_scale_is_float32_like_molmo():
    # 336 / 333 in float64 puts the width at 335.99.. -> 335 px; Molmo's float32 gives the whole 336.
    pixels, mask = resize_and_pad(Image.new("RGB", (333, 100), (255, 255, 255)), 336, 336)
    assert mask.sum(axis=1).max() == 336 and mask.sum(axis=0).max() == 100
    assert select_tiling(-12, 388, 224, 12) == (1, 1)  # a negative side: 1x1, whatever the other side


def test_patch_mask_marks_padding():
    cfg = ImageConfig(base_size=84, patch_size=14, max_crops=1, overlap_margins=(0, 0))
    out = preprocess_image(Image.new("RGB", (84, 40)), cfg, IDS)  # letterboxed: rows 22-62 are image
    glob = out.patch_mask[0]
    assert glob[0].max() == 0  # all padding
    assert ((glob > 0) & (glob < 1)).any()  # partial padding at the image border
    assert (glob == 1).any()


def test_example_targets_only_on_answers(tiny_tokenizer_dir):
    from transformers import AutoTokenizer

    from trainer.tokenizer import add_layout_tokens

    tok = add_layout_tokens(AutoTokenizer.from_pretrained(tiny_tokenizer_dir))
    cfg = ImageConfig(base_size=56, patch_size=14, max_crops=2, overlap_margins=(0, 0))
    builder = ExampleBuilder(tok, cfg, max_seq_len=512)
    conv = Conversation(["What time is it?", "The time shown is 3:02 PM", "Sure?", "Yes"], "clocks")
    ex = builder.build(Image.new("RGB", (60, 40)), [conv], np.random.default_rng(0))
    ids, targets = ex["input_ids"], ex["targets"]
    assert ids[0] == tok.bos_token_id
    answer_text = tok.decode(targets[targets != IGNORE])
    assert answer_text.replace(tok.eos_token, "|") == " The time shown is 3:02 PM| Yes|"
    assert ex["image_mask"].sum() == sum(1 for t in ids if t in set(builder.ids.values()))
    # Targets are next tokens.
    t = np.flatnonzero(targets != IGNORE)
    assert (targets[t] == ids[t + 1]).all()

    inference = builder.build(Image.new("RGB", (60, 40)), [conv], None, for_inference=True)
    assert tok.decode(inference["input_ids"]).endswith("User: Sure? Assistant:")

    batch = collate([ex, inference], tok.pad_token_id)
    assert batch["input_ids"].shape[0] == 2 and batch["crops"].shape[0] == len(ex["crops"]) * 2
    assert batch["crop_example"].tolist() == [0] * len(ex["crops"]) + [1] * len(ex["crops"])
    assert batch["attention_mask"][1].sum() == len(inference["input_ids"])

    short = ExampleBuilder(tok, cfg, max_seq_len=40).build(Image.new("RGB", (60, 40)), [conv], None)
    assert len(short["input_ids"]) == 40 and short["truncated"] and not ex["truncated"]
    assert int(collate([short, ex], tok.pad_token_id)["truncated"]) == 1  # counted for the metrics
