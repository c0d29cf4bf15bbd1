"""Vision encoders: a plain ViT trained from scratch, an HF SigLIP/CLIP vision tower, or (trainer/cnn.py) a
small from-scratch ResNet.

Both return the hidden states the config asks for, concatenated on the feature axis: (N, P*P, k * width).
"""

import torch
import torch.nn.functional as F
from torch import nn

from trainer.cnn import CNN
from trainer.config import ImageConfig, VisionConfig


class Block(nn.Module):
    def __init__(self, width: int, heads: int, mlp_ratio: float):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.norm2 = nn.LayerNorm(width)
        hidden = int(width * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(width, hidden), nn.GELU(), nn.Linear(hidden, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, t, c = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(n, t, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        attn = F.scaled_dot_product_attention(q, k, v)  # all patches see each other
        x = x + self.proj(attn.transpose(1, 2).reshape(n, t, c))
        return x + self.mlp(self.norm2(x))


class ConvStem(nn.Module):
    """Pixels -> (N, width, P, P) patch tokens: two 3x3 convs at half resolution (stride 2, then 1), then a
    (patch/2 x patch/2, stride patch/2) projection, so each token still covers exactly one patch."""

    def __init__(self, width: int, patch_size: int, channels: int):
        super().__init__()
        if patch_size % 2:
            raise ValueError("the conv stem needs an even patch_size")
        c = channels
        self.net = nn.Sequential(
            nn.Conv2d(3, c, 3, stride=2, padding=1),
            nn.GroupNorm(1, c),
            nn.GELU(),
            nn.Conv2d(c, 2 * c, 3, stride=1, padding=1),
            nn.GroupNorm(1, 2 * c),
            nn.GELU(),
            nn.Conv2d(2 * c, width, patch_size // 2, stride=patch_size // 2),
        )

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.net(pixels)


class ViT(nn.Module):
    """Pre-norm ViT without a CLS token: every output position is a patch."""

    def __init__(self, cfg: VisionConfig, image: ImageConfig):
        super().__init__()
        self.cfg = cfg
        if cfg.stem == "conv":
            self.patch_embed = ConvStem(cfg.width, image.patch_size, cfg.stem_channels)
        elif cfg.stem == "patch":
            self.patch_embed = nn.Conv2d(3, cfg.width, image.patch_size, stride=image.patch_size)
        else:
            raise ValueError(f"unknown ViT stem {cfg.stem!r}")
        self.pos_embed = nn.Parameter(torch.randn(1, image.crop_patches**2, cfg.width) * 0.02)
        self.blocks = nn.ModuleList(Block(cfg.width, cfg.heads, cfg.mlp_ratio) for _ in range(cfg.depth))

    @property
    def out_dim(self) -> int:
        return self.cfg.width * len(self.cfg.feature_layers)

    @property
    def used_depth(self) -> int:
        """Blocks up to the deepest requested layer; later ones would not affect the output."""
        return max(i % (self.cfg.depth + 1) for i in self.cfg.feature_layers)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(pixels).flatten(2).transpose(1, 2) + self.pos_embed
        hidden = [x]
        for block in self.blocks[: self.used_depth]:
            x = block(x)
            hidden.append(x)
        return torch.cat([hidden[i] for i in self.cfg.feature_layers], dim=-1)


class HFVision(nn.Module):
    """An HF vision tower (SigLIP, CLIP, ...). Built from its config; weights come from `hf_path` when the
    model is first created, or from our checkpoint when it is loaded back."""

    def __init__(self, cfg: VisionConfig, image: ImageConfig, load_weights: bool):
        super().__init__()
        from transformers import AutoConfig, AutoModel

        self.cfg = cfg
        if load_weights:
            model = AutoModel.from_pretrained(cfg.hf_path)
            if hasattr(model, "text_model"):
                # A full CLIP/SigLIP checkpoint: keep the vision tower as its own *VisionModel.
                vision = AutoModel.from_config(model.config.vision_config)
                vision.vision_model.load_state_dict(model.vision_model.state_dict())
                model = vision
        else:
            hf_cfg = dict(cfg.hf_config)
            model = AutoModel.from_config(AutoConfig.for_model(hf_cfg.pop("model_type"), **hf_cfg))
        self.model = model
        vcfg = self.model.config
        cfg.hf_config = vcfg.to_dict()
        if vcfg.image_size != image.base_size or vcfg.patch_size != image.patch_size:
            raise ValueError(
                f"the vision model takes {vcfg.image_size}px / patch {vcfg.patch_size}; set "
                f"image.base_size and image.patch_size to match"
            )
        self.width = vcfg.hidden_size

    @property
    def out_dim(self) -> int:
        return self.width * len(self.cfg.feature_layers)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        out = self.model(pixel_values=pixels, output_hidden_states=True)
        feats = [out.hidden_states[i] for i in self.cfg.feature_layers]
        n_patches = (pixels.shape[-1] // self.model.config.patch_size) ** 2
        # CLIP puts a CLS token first; drop anything that is not a patch.
        return torch.cat([f[:, -n_patches:] for f in feats], dim=-1)


def build_vision(cfg: VisionConfig, image: ImageConfig, load_weights: bool = True) -> nn.Module:
    if cfg.kind == "vit":
        return ViT(cfg, image)
    if cfg.kind == "cnn":
        return CNN(cfg, image)
    if cfg.kind == "hf":
        return HFVision(cfg, image, load_weights=load_weights and cfg.hf_path is not None)
    raise ValueError(f"unknown vision kind {cfg.kind!r}")
