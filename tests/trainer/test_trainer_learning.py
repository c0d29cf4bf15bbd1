"""The options that make the small CPU config learn to read clocks: global-view-only layout, the conv stem,
the auxiliary bag-of-words loss, and picking CPU threads."""

import dataclasses

import numpy as np
import pytest
import torch
from PIL import Image

from formatting.messages import Conversation
from trainer.config import ImageConfig, VisionConfig, preset
from trainer.model import VLM
from trainer.preprocess import ExampleBuilder, collate, preprocess_image
from trainer.tokenizer import IM_COL, IM_END, IM_PATCH, IM_START
from trainer.vit import ViT

IDS = {IM_START: 1, IM_END: 2, IM_PATCH: 3, IM_COL: 4}


@pytest.fixture(scope="module")
def tokenizer(tiny_tokenizer_dir):
    from transformers import AutoTokenizer

    from trainer.tokenizer import add_layout_tokens

    return add_layout_tokens(AutoTokenizer.from_pretrained(tiny_tokenizer_dir))


def test_global_view_only_layout():
    cfg = ImageConfig(base_size=112, patch_size=14, max_crops=0, overlap_margins=(2, 2))
    out = preprocess_image(Image.new("RGB", (200, 90), (10, 200, 30)), cfg, IDS)
    assert out.tiling == (0, 0)
    assert out.crops.shape == (1, 3, 112, 112) and out.patch_mask.shape == (1, 8, 8)
    assert (out.tokens == IDS[IM_START]).sum() == 1 and out.tokens[-1] == IDS[IM_END]
    assert sorted(out.pooled_idx[0].tolist()) == np.flatnonzero(out.tokens == IDS[IM_PATCH]).tolist()
    with pytest.raises(ValueError):
        ImageConfig(max_crops=-1).validate()


def test_conv_stem_keeps_one_token_per_patch():
    img = ImageConfig(base_size=56, patch_size=14, max_crops=0)
    vit = ViT(VisionConfig(width=16, depth=2, heads=2, feature_layers=(-1,), stem="conv", stem_channels=8), img)
    assert vit(torch.randn(2, 3, 56, 56)).shape == (2, 16, 16)
    assert vit.patch_embed(torch.randn(1, 3, 56, 56)).shape == (1, 16, 4, 4)
    with pytest.raises(ValueError):
        ViT(
            VisionConfig(width=16, depth=1, heads=2, stem="conv"), ImageConfig(base_size=60, patch_size=15, max_crops=0)
        )


def _batch(tok, cfg):
    builder = ExampleBuilder(tok, cfg.image, cfg.max_seq_len)
    rng = np.random.default_rng(0)
    convs = [[Conversation(["What time is it?", f"The time shown is {h}:0{h} PM"], "clocks")] for h in (3, 7)]
    images = [Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)) for _ in convs]
    return collate([builder.build(im, c, None) for im, c in zip(images, convs, strict=True)], tok.pad_token_id)


def test_bow_loss_trains_vision_and_is_off_in_eval(tokenizer):
    torch.manual_seed(0)
    cfg = dataclasses.replace(preset("tiny"), image_aux_weight=0.5)
    model = VLM(cfg, tokenizer)
    batch = _batch(tokenizer, cfg)
    model.train()
    out = model(batch)
    assert torch.isfinite(out["aux_loss"]) and out["aux_loss"] > 0
    torch.testing.assert_close(out["loss"], out["lm_loss"] + 0.5 * out["aux_loss"])
    # The auxiliary loss alone reaches the vision encoder (no decoder in between).
    model.zero_grad()
    out["aux_loss"].backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.vision.parameters())
    model.eval()
    out = model(batch)
    assert "aux_loss" not in out and torch.equal(out["loss"], out["lm_loss"])


def test_sequence_aux_loss_predicts_each_answer_position_from_the_image(tokenizer):
    torch.manual_seed(0)
    cfg = dataclasses.replace(preset("tiny"), image_aux_weight=1.0, aux_kind="sequence", aux_positions=8)
    model = VLM(cfg, tokenizer).train()
    batch = _batch(tokenizer, cfg)
    out = model(batch)
    assert torch.isfinite(out["aux_loss"]) and out["aux_loss"] > 0
    model.zero_grad()
    out["aux_loss"].backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.vision.parameters())
    assert model.aux_pos.weight.grad[-1].abs().sum() > 0  # answers longer than 8 tokens share the last slot
    # A zero image feature and zero position embeddings predict every token alike: ln(vocab).
    with torch.no_grad():
        model.aux_pos.weight.zero_()
    head = model.decoder.get_output_embeddings().weight
    feats = torch.zeros(batch["crops"].shape[0], 4, head.shape[1])
    assert abs(float(model.sequence_aux_loss(feats, batch).detach()) - np.log(head.shape[0])) < 1e-3
    assert "aux_loss" not in model.eval()(batch)
    with pytest.raises(ValueError, match="aux_kind"):
        VLM(dataclasses.replace(cfg, aux_kind="words"), tokenizer)


def test_bow_loss_of_a_blank_feature_is_log_vocab(tokenizer):
    torch.manual_seed(0)
    cfg = dataclasses.replace(preset("tiny"), image_aux_weight=1.0)
    model = VLM(cfg, tokenizer)
    batch = _batch(tokenizer, cfg)
    # A zero feature predicts every token alike: the soft-target cross entropy is ln(vocab).
    head = model.decoder.get_output_embeddings().weight
    uniform = np.log(head.shape[0])
    feats = torch.zeros(batch["crops"].shape[0], 4, head.shape[1])
    assert abs(float(model.bag_aux_loss(feats, batch).detach()) - uniform) < 1e-3


def test_training_with_bow_logs_aux_loss(tiny_tokenizer_dir, clock_shards, tmp_path):
    import json

    from trainer.train import main

    cfg = tmp_path / "bow.json"
    cfg.write_text(
        json.dumps(
            {
                "preset": "tiny",
                "model": {
                    "tokenizer": str(tiny_tokenizer_dir),
                    "image_aux_weight": 0.5,
                    "label_aux_weight": 0.5,
                    "image": {"max_crops": 0},
                },
                "train": {"batch_size": 4, "num_workers": 0, "log_every": 1, "shuffle_buffer": 4, "threads": 1},
            }
        )
    )
    out = tmp_path / "run"
    main(["--data", str(clock_shards), "--config", str(cfg), "--out", str(out), "--no-progress", "--steps", "2"])
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert all(r["aux_loss"] > 0 and r["loss"] > 0 for r in rows)
    # Clock rows carry their hour and minute, so the label loss starts near ln 12 + ln 60 = 6.6.
    assert all(5.0 < r["label_loss"] < 8.5 for r in rows)
    loaded = VLM.from_pretrained(out / "final")
    assert loaded.image_aux_norm is not None and loaded.label_head is not None and loaded.cfg.image.max_crops == 0


def test_label_loss_classifies_the_image_and_skips_rows_without_the_label(tokenizer):
    torch.manual_seed(0)
    cfg = dataclasses.replace(preset("tiny"), label_aux_weight=2.0)
    model = VLM(cfg, tokenizer).train()
    batch = _batch(tokenizer, cfg)
    batch["image_labels"] = torch.tensor([[3, 7], [-1, -1]])  # the second row's subset has no hour or minute
    out = model(batch)
    torch.testing.assert_close(out["loss"], out["lm_loss"] + 2.0 * out["label_loss"])
    model.zero_grad()
    out["label_loss"].backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.vision.parameters())
    # Only the labelled row counts: changing the other row's features leaves the loss as it is.
    d = model.decoder.config.hidden_size
    feats = torch.randn(batch["crops"].shape[0], 4, d)
    other = feats.clone()
    other[batch["crop_example"] == 1] += 5.0
    with torch.no_grad():
        torch.testing.assert_close(model.label_aux_loss(feats, batch), model.label_aux_loss(other, batch))
        model.label_head.bias.zero_()  # a constant feature then predicts every class alike: ln 12 + ln 60
        uniform = np.log(12) + np.log(60)
        assert abs(float(model.label_aux_loss(torch.zeros_like(feats), batch)) - uniform) < 1e-4
        batch["image_labels"] = torch.tensor([[-1, 5], [-1, -1]])  # a minute only: its block alone counts
        assert abs(float(model.label_aux_loss(torch.zeros_like(feats), batch)) - np.log(60)) < 1e-4
        batch["image_labels"] = torch.tensor([[-1, -1], [-1, -1]])  # no labelled rows: nothing to learn, no NaN
        assert float(model.label_aux_loss(feats, batch)) == 0.0
    assert "label_loss" not in model.eval()(batch)


def test_cnn_encoder_gives_the_patch_grid():
    from trainer.vit import build_vision

    img = ImageConfig(base_size=64, patch_size=16, max_crops=0)
    cnn = build_vision(VisionConfig(kind="cnn", width=24, depth=0, heads=2, feature_layers=(-1,)), img)
    assert cnn.out_dim == 24 and cnn(torch.randn(2, 3, 64, 64)).shape == (2, 16, 24)
    assert len(cnn.main) == 3  # stem (stride 2) + 3 residual stages = stride 16
    with pytest.raises(ValueError):
        build_vision(VisionConfig(kind="cnn", width=24), ImageConfig(base_size=56, patch_size=14, max_crops=0))


def test_cnn_tokens_carry_the_whole_image():
    """The global descriptor: a change in one corner reaches every token, so even a mean over the tokens
    keeps where things are."""
    from trainer.vit import build_vision

    torch.manual_seed(0)
    cnn = build_vision(VisionConfig(kind="cnn", width=16), ImageConfig(base_size=64, patch_size=16, max_crops=0))
    cnn.eval()
    x = torch.randn(1, 3, 64, 64)
    y = x.clone()
    y[..., :8, :8] += 3.0  # top-left corner only
    with torch.no_grad():
        changed = (cnn(x) - cnn(y)).abs().amax(-1)[0]
    assert bool((changed > 1e-4).all())  # all 16 tokens, not just the corner's


def test_cnn_batchnorm_uses_batch_stats_in_training_and_running_stats_in_eval():
    from trainer.vit import build_vision

    torch.manual_seed(0)
    cnn = build_vision(VisionConfig(kind="cnn", width=16), ImageConfig(base_size=32, patch_size=8, max_crops=0))
    x = torch.randn(4, 3, 32, 32) * 3 + 1
    before = cnn.stem[1].running_mean.clone()
    cnn.train()
    cnn(x)
    assert not torch.equal(cnn.stem[1].running_mean, before)  # training updates the running statistics
    alone_train = cnn(x[:1])
    cnn.eval()
    with torch.no_grad():
        # Eval: one example's features do not depend on the rest of its batch (no batch statistics).
        torch.testing.assert_close(cnn(x[:1]), cnn(x)[:1])
        assert not torch.allclose(cnn(x[:1]), alone_train)


def test_byte_tokenizer_round_trips_through_a_checkpoint(tmp_path):
    from trainer.tokenizer import LAYOUT_TOKENS, load_tokenizer

    tok = load_tokenizer("byte")
    assert len(tok) < 400 and all(len(tok.encode(t, add_special_tokens=False)) == 1 for t in LAYOUT_TOKENS)
    answer = " The time shown is 10:27 AM"
    assert len(tok.encode(answer, add_special_tokens=False)) == len(answer.encode())
    cfg = preset("tiny")
    cfg.tokenizer = "byte"
    model = VLM(cfg, tok).eval()
    assert model.decoder.get_input_embeddings().num_embeddings == len(tok)
    convs = [[Conversation(["What time is it?", answer], "clocks")]]
    builder = ExampleBuilder(tok, cfg.image, cfg.max_seq_len)
    batch = collate([builder.build(Image.new("RGB", (40, 30)), convs[0], None)], tok.pad_token_id)
    model.save_pretrained(tmp_path / "ckpt")
    loaded = VLM.from_pretrained(tmp_path / "ckpt").eval()
    assert loaded.tokenizer.encode(answer + "<im_col>", add_special_tokens=False) == tok.encode(
        answer + "<im_col>", add_special_tokens=False
    )
    torch.testing.assert_close(loaded(batch)["loss"], model(batch)["loss"], rtol=0, atol=0)


def test_small_and_smollm2_presets_pair_decoder_and_tokenizer():
    assert preset("small").tokenizer == "byte" and preset("small").decoder.kind == "config"
    assert preset("smollm2").tokenizer == "smollm2" and preset("smollm2").decoder.path == "smollm2"


def test_jpeg_is_decoded_at_the_smallest_scale_that_covers_the_view():
    import io

    from trainer.preprocess import decode_image

    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 255, (448, 448, 3), dtype=np.uint8))
    jpeg, png = io.BytesIO(), io.BytesIO()
    image.save(jpeg, format="JPEG")
    image.save(png, format="PNG")
    assert decode_image(jpeg.getvalue()).size == (448, 448)
    assert decode_image({"bytes": jpeg.getvalue()}, 100).size == (112, 112)  # 1/4 scale, still >= 100
    assert decode_image(jpeg.getvalue(), 128).size == (224, 224)  # 1/4 would be under 128
    assert decode_image(png.getvalue(), 100).size == (448, 448)  # not a JPEG: decoded as is
    from trainer.tokenizer import load_tokenizer

    tok, cfg = load_tokenizer("byte"), ImageConfig(base_size=64, patch_size=16, max_crops=0)
    assert ExampleBuilder(tok, cfg, 64).decode_side == 64
    assert ExampleBuilder(tok, dataclasses.replace(cfg, max_crops=4), 64).decode_side is None


def test_small_preset_builds_and_trains_a_step(tokenizer):
    cfg = preset("small")
    cfg.image.validate()
    model = VLM(cfg, tokenizer)
    assert not model.has_unused_params()
    out = model(_batch(tokenizer, cfg))
    out["loss"].backward()
    for part, params in model.param_groups().items():
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in params), part
