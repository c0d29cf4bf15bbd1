"""The Molmo-style VLM: vision encoder -> connector -> image features added onto the layout tokens of an
HF causal LM, with bidirectional attention inside the image block and causal attention elsewhere.
"""

import json
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_model, save_model
from torch import nn

from trainer.config import DecoderConfig, ModelConfig
from trainer.connector import Connector
from trainer.image_labels import label_classes
from trainer.preprocess import IGNORE, scatter_indices
from trainer.tokenizer import add_layout_tokens, resolve_hf_source
from trainer.vit import build_vision

WEIGHTS = "model.safetensors"
CONFIG = "config.json"


def _hf_from_config(hf_config: dict):
    from transformers import AutoConfig, AutoModelForCausalLM

    fields = dict(hf_config)
    config = AutoConfig.for_model(fields.pop("model_type"), **fields)
    return AutoModelForCausalLM.from_config(config, attn_implementation="sdpa")


def build_decoder(cfg: DecoderConfig, vocab_size: int, load_weights: bool) -> nn.Module:
    """An HF causal LM, with room for the tokenizer's added tokens. Records its HF config in `cfg` so a
    checkpoint can rebuild it without the original weights."""
    from transformers import AutoModelForCausalLM

    if cfg.kind == "hf" and load_weights:
        source, kwargs = resolve_hf_source(cfg.path)
        model = AutoModelForCausalLM.from_pretrained(source, attn_implementation="sdpa", dtype=torch.float32, **kwargs)
    elif cfg.kind in ("hf", "config"):
        if cfg.hf_config is None:
            raise ValueError("decoder needs hf_config (or kind='hf' with a path)")
        model = _hf_from_config(dict(cfg.hf_config, vocab_size=max(vocab_size, cfg.hf_config.get("vocab_size", 0))))
    else:
        raise ValueError(f"unknown decoder kind {cfg.kind!r}")
    if model.get_input_embeddings().num_embeddings < vocab_size:
        model.resize_token_embeddings(vocab_size, mean_resizing=False)
    cfg.hf_config = model.config.to_dict()
    return model


def attention_mask_4d(valid: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
    """(B, L) bools -> (B, 1, L, L) bool mask, True = may attend. Text is causal; image tokens see the whole
    image block; nobody sees padding. Padding queries see themselves, so no row is fully masked (NaNs)."""
    length = valid.shape[1]
    eye = torch.eye(length, dtype=torch.bool, device=valid.device)
    causal = torch.ones(length, length, dtype=torch.bool, device=valid.device).tril()
    allowed = (causal[None] | (image[:, :, None] & image[:, None, :])) & valid[:, None, :]
    return (allowed | eye[None])[:, None]


class VLM(nn.Module):
    def __init__(self, cfg: ModelConfig, tokenizer, load_pretrained: bool = True):
        super().__init__()
        cfg.image.validate()
        self.cfg = cfg
        self.tokenizer = tokenizer
        self.vision = build_vision(cfg.vision, cfg.image, load_weights=load_pretrained)
        self.decoder = build_decoder(cfg.decoder, len(tokenizer), load_weights=load_pretrained)
        self.connector = Connector(
            cfg.connector,
            self.vision.out_dim,
            self.decoder.config.hidden_size,
            cfg.image.pooling,
            tokens=cfg.image.tokens_per_side**2,
        )
        embed_std = float(self.decoder.get_input_embeddings().weight.detach().std())
        if isinstance(self.connector.out_norm, nn.BatchNorm1d):
            # Start the image content at the scale of a token embedding: far larger and it drowns the layout
            # token's embedding, which is what lets attention find the image tokens at all.
            with torch.no_grad():
                scale = cfg.connector.output_scale
                self.connector.out_norm.weight.fill_(embed_std if scale is None else scale)
        # Only built when used, so checkpoints without the auxiliary loss keep their exact layout.
        hidden = self.decoder.config.hidden_size
        self.image_aux_norm = nn.LayerNorm(hidden) if cfg.image_aux_weight > 0 else None
        if cfg.aux_kind not in ("bag", "sequence"):
            raise ValueError(f"aux_kind must be 'bag' or 'sequence', not {cfg.aux_kind!r}")
        use_pos = cfg.image_aux_weight > 0 and cfg.aux_kind == "sequence"
        self.aux_pos = nn.Embedding(cfg.aux_positions, hidden) if use_pos else None
        if self.aux_pos is not None:  # token-embedding scale, or the position drowns the image feature
            nn.init.normal_(self.aux_pos.weight, std=embed_std)
        if cfg.aux_head not in ("tied", "own"):
            raise ValueError(f"aux_head must be 'tied' or 'own', not {cfg.aux_head!r}")
        own = cfg.image_aux_weight > 0 and cfg.aux_head == "own"
        vocab = self.decoder.get_output_embeddings().weight.shape[0]
        self.aux_head = nn.Linear(hidden, vocab, bias=False) if own else None
        use_labels = cfg.label_aux_weight > 0
        self.label_norm = nn.LayerNorm(hidden) if use_labels else None
        self.label_head = nn.Linear(hidden, sum(label_classes())) if use_labels else None

    def has_unused_params(self) -> bool:
        """HF vision towers carry heads we never call; a ViT may have blocks past its deepest feature layer.
        DDP must be told, or it waits forever for their gradients."""
        return self.cfg.vision.kind == "hf" or self.vision.used_depth < self.cfg.vision.depth

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        """Parameters by part, so the connector can get its own LR and warmup."""
        heads = (self.image_aux_norm, self.aux_pos, self.aux_head, self.label_norm, self.label_head)
        aux = [p for m in heads if m is not None for p in m.parameters()]
        connector = list(self.connector.parameters()) + aux
        return {
            "connector": connector,
            "vision": list(self.vision.parameters()),
            "decoder": list(self.decoder.parameters()),
        }

    def embed(self, batch: dict, return_features: bool = False):
        """Token embeddings with pooled image features added at their layout positions (and, if asked, the
        connector's (n_crops, T*T, d) features)."""
        ids = batch["input_ids"]
        embeds = self.decoder.get_input_embeddings()(ids)
        crops = batch["crops"]
        if crops.shape[0] == 0:
            return (embeds, None) if return_features else embeds
        b, length, d = embeds.shape
        crop_feats = self.connector(self.vision(crops), batch["patch_mask"])
        src, dst = batch.get("feat_src"), batch.get("feat_dst")
        if src is None:
            src, dst = scatter_indices(batch["pooled_idx"], batch["crop_example"], length)
        # Features of overlap regions are not in src: they are dropped.
        feats = crop_feats.reshape(-1, d).index_select(0, src).to(embeds.dtype)
        embeds = embeds.reshape(b * length, d).index_add(0, dst, feats).view(b, length, d)
        return (embeds, crop_feats) if return_features else embeds

    @staticmethod
    def image_means(crop_feats: torch.Tensor, batch: dict) -> torch.Tensor:
        """(n_crops, T, d) connector features -> (batch, d): the mean over each example's crops and tokens."""
        b = batch["input_ids"].shape[0]
        crop_example = batch["crop_example"]
        per_crop = crop_feats.float().mean(1)
        pooled = per_crop.new_zeros(b, per_crop.shape[1]).index_add(0, crop_example, per_crop)
        return pooled / torch.bincount(crop_example, minlength=b).clamp(min=1)[:, None]

    def aux_logits(self, h: torch.Tensor) -> torch.Tensor:
        head = self.aux_head if self.aux_head is not None else self.decoder.get_output_embeddings()
        return head(h)

    def bag_aux_loss(self, crop_feats: torch.Tensor, batch: dict) -> torch.Tensor:
        """Auxiliary loss: each example's mean image feature predicts the bag of its answer tokens."""
        b = batch["input_ids"].shape[0]
        pooled = self.image_means(crop_feats, batch)
        logits = self.aux_logits(self.image_aux_norm(pooled).to(crop_feats.dtype))
        targets = batch["targets"]
        answer = (targets != IGNORE).float()
        bag = logits.new_zeros(b, logits.shape[1], dtype=torch.float32).scatter_add_(1, targets.clamp(min=0), answer)
        has = bag.sum(1)
        bag = bag / has.clamp(min=1)[:, None]
        per_example = -(bag * F.log_softmax(logits.float(), -1)).sum(1)
        return per_example.sum() / (has > 0).sum().clamp(min=1)

    def sequence_aux_loss(self, crop_feats: torch.Tensor, batch: dict) -> torch.Tensor:
        """Auxiliary loss: each answer token predicted from its example's mean image feature plus an embedding
        of its rank k among the example's answer tokens (no text context): a direct, position-aware gradient
        into the vision side."""
        pooled = self.image_means(crop_feats, batch)
        answer = batch["targets"] != IGNORE
        rank = (answer.cumsum(1) - 1).clamp(0, self.cfg.aux_positions - 1)
        rows, cols = answer.nonzero(as_tuple=True)
        h = self.image_aux_norm(pooled[rows] + self.aux_pos(rank[rows, cols]))
        logits = self.aux_logits(h.to(crop_feats.dtype))
        return F.cross_entropy(logits.float(), batch["targets"][rows, cols])

    def label_aux_loss(self, crop_feats: torch.Tensor, batch: dict) -> torch.Tensor:
        """Auxiliary loss: each example's mean image feature classifies its image labels (one softmax block
        per label, examples without that label left out), summed over labels."""
        logits = self.label_head(self.label_norm(self.image_means(crop_feats, batch))).float()
        labels = batch["image_labels"]
        loss, start = logits.new_zeros(()), 0
        for j, classes in enumerate(label_classes()):
            block, target = logits[:, start : start + classes], labels[:, j]
            start += classes
            has = target >= 0
            per_row = F.cross_entropy(block, target.clamp(min=0), reduction="none") * has
            loss = loss + per_row.sum() / has.sum().clamp(min=1)
        return loss

    def hidden_states(self, batch: dict, embeds: torch.Tensor | None = None) -> torch.Tensor:
        if embeds is None:
            embeds = self.embed(batch)
        mask = attention_mask_4d(batch["attention_mask"], batch["image_mask"])
        pos = torch.arange(embeds.shape[1], device=embeds.device)[None].expand(embeds.shape[0], -1)
        out = self.decoder.base_model(inputs_embeds=embeds, attention_mask=mask, position_ids=pos)
        return out.last_hidden_state

    def forward(self, batch: dict) -> dict:
        """Mean cross entropy over answer tokens; the LM head runs only on those positions. In training mode
        with `image_aux_weight > 0` or `label_aux_weight > 0`, `loss` also holds the weighted auxiliary losses
        (`lm_loss` is the LM part; `aux_loss`, `label_loss` the others, unweighted)."""
        use_aux = self.training and self.image_aux_norm is not None
        embeds, crop_feats = self.embed(batch, return_features=True)
        hidden = self.hidden_states(batch, embeds)
        pos = batch.get("loss_pos")
        if pos is None:
            pos = (batch["targets"].reshape(-1) != IGNORE).nonzero().squeeze(1)
        targets = batch["targets"].reshape(-1).index_select(0, pos)
        logits = self.decoder.get_output_embeddings()(hidden.reshape(-1, hidden.shape[-1]).index_select(0, pos))
        n = pos.numel()  # known on the host: no device sync
        loss = F.cross_entropy(logits.float(), targets, reduction="sum") / max(n, 1)
        out = {"loss": loss, "lm_loss": loss, "n_tokens": n}
        if use_aux and crop_feats is not None:
            aux = self.sequence_aux_loss if self.aux_pos is not None else self.bag_aux_loss
            out["aux_loss"] = aux(crop_feats, batch)
            out["loss"] = loss + self.cfg.image_aux_weight * out["aux_loss"]
        # Batches collated outside ShardDataset may carry no labels: then there is nothing to add.
        if self.training and self.label_head is not None and crop_feats is not None and "image_labels" in batch:
            out["label_loss"] = self.label_aux_loss(crop_feats, batch)
            out["loss"] = out["loss"] + self.cfg.label_aux_weight * out["label_loss"]
        return out

    @torch.no_grad()
    def generate(self, batch: dict, max_new_tokens: int = 32) -> list[list[int]]:
        """Greedy decoding for right-padded prompts. No KV cache: answers here are short, and it keeps
        the image-block mask logic in one place."""
        ids, valid = batch["input_ids"], batch["attention_mask"]
        b, length = ids.shape
        pad = self.tokenizer.pad_token_id
        eos = self.tokenizer.eos_token_id
        grow = lambda t, v: torch.cat([t, torch.full((b, max_new_tokens), v, dtype=t.dtype, device=t.device)], 1)  # noqa: E731
        step_batch = dict(
            batch,
            input_ids=grow(ids, pad),
            attention_mask=grow(valid, False),
            image_mask=grow(batch["image_mask"], False),
        )
        for key in ("feat_src", "feat_dst", "loss_pos"):  # they index the old length
            step_batch.pop(key, None)
        lengths = valid.sum(1)
        done = torch.zeros(b, dtype=torch.bool, device=ids.device)
        out: list[list[int]] = [[] for _ in range(b)]
        image_embeds = self.embed(step_batch)  # the image part never changes; embed it once
        embed_tokens = self.decoder.get_input_embeddings()
        rows = torch.arange(b, device=ids.device)
        for _ in range(max_new_tokens):
            cur = int(lengths.max())
            sub = {k: step_batch[k][:, :cur] for k in ("attention_mask", "image_mask")}
            hidden = self.hidden_states(sub, image_embeds[:, :cur])
            logits = self.decoder.get_output_embeddings()(hidden[rows, lengths - 1])
            nxt = logits.argmax(-1)
            for i in range(b):
                if not done[i]:
                    out[i].append(int(nxt[i]))
            active = ~done
            pos = lengths[active]
            step_batch["input_ids"][rows[active], pos] = nxt[active]
            step_batch["attention_mask"][rows[active], pos] = True
            image_embeds = image_embeds.clone()
            image_embeds[rows[active], pos] = embed_tokens(nxt[active]).to(image_embeds.dtype)
            lengths = lengths + active.long()
            done = done | (nxt == eos)
            if bool(done.all()):
                break
        return [[t for t in seq if t != eos] for seq in out]

    def save_pretrained(self, path: str | Path) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        (path / CONFIG).write_text(json.dumps(self.cfg.to_dict(), indent=2))
        save_model(self, str(path / WEIGHTS))  # handles the LM's tied embeddings
        self.tokenizer.save_pretrained(path)

    @classmethod
    def from_pretrained(cls, path: str | Path, device: str | torch.device = "cpu") -> "VLM":
        """Rebuild from config.json (no original weights needed) and load our saved weights."""
        from transformers import AutoTokenizer

        path = Path(path)
        cfg = ModelConfig.from_dict(json.loads((path / CONFIG).read_text()))
        tokenizer = add_layout_tokens(AutoTokenizer.from_pretrained(path))
        model = cls(cfg, tokenizer, load_pretrained=False)
        load_model(model, str(path / WEIGHTS), device=str(device))
        return model.to(device)


def build_model(cfg: ModelConfig, tokenizer=None) -> VLM:
    """A fresh model: pretrained parts (HF decoder / vision tower) loaded, the rest initialised."""
    from trainer.tokenizer import load_tokenizer

    return VLM(cfg, tokenizer if tokenizer is not None else load_tokenizer(cfg.tokenizer))
