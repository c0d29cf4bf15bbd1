"""A small from-scratch ResNet whose last feature map is the patch grid: the vision encoder for CPU budgets.

Why not a ViT: trained from scratch on the ~10-50k samples a CPU sees in 15 minutes, a ViT (and a plain
GroupNorm CNN) stays at chance on the Clocks watch faces, while this residual BatchNorm CNN learns to read the
hour (bench/trainer_vision_probe.py; the table in trainer/README.md).
"""

import torch
from torch import nn

from trainer.config import ImageConfig, VisionConfig


def _conv_bn(c_in: int, c_out: int, kernel: int, stride: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, bias=False), nn.BatchNorm2d(c_out)]


class CNN(nn.Module):
    """Stem (3x3 conv, stride 2) then log2(patch_size) - 1 residual stages, each halving the resolution
    (two 3x3 convs with BatchNorm, plus a strided 1x1 shortcut), then a 1x1 projection to `width` channels, a
    learned position embedding and a global descriptor of the whole map: one output token per patch. Channels
    double per stage from 32, capped at `width`. `depth`, `heads` and `feature_layers` are unused (one
    output, the last stage)."""

    def __init__(self, cfg: VisionConfig, image: ImageConfig):
        super().__init__()
        stages = image.patch_size.bit_length() - 1
        if stages < 1 or 1 << stages != image.patch_size:
            raise ValueError("the CNN encoder needs a power-of-two patch_size >= 2 (e.g. 16 with base_size 128)")
        self.cfg = cfg
        chans = [min(cfg.width, 32 * 2**i) for i in range(stages)]
        self.stem = nn.Sequential(*_conv_bn(3, chans[0], 3, 2), nn.ReLU())
        self.main = nn.ModuleList()
        self.shortcut = nn.ModuleList()
        for c_in, c_out in zip(chans, chans[1:], strict=False):
            self.main.append(nn.Sequential(*_conv_bn(c_in, c_out, 3, 2), nn.ReLU(), *_conv_bn(c_out, c_out, 3, 1)))
            self.shortcut.append(nn.Sequential(*_conv_bn(c_in, c_out, 1, 2)))
        self.proj = nn.Conv2d(chans[-1], cfg.width, 1)
        # A global descriptor (one linear map of the whole feature map) added to every patch feature: the
        # global mixing a ViT's attention gives, without its slow start. The LM's attention starts out as
        # roughly a mean over the image tokens, and a mean of local features has lost where things are
        # (measured with bench/trainer_vision_probe.py: a linear hour head on the mean of this CNN's tokens
        # stays at chance; on all tokens, or with this descriptor, it learns).
        self.global_proj = nn.Linear(cfg.width * image.crop_patches**2, cfg.width)
        self.pos_embed = nn.Parameter(torch.randn(1, image.crop_patches**2, cfg.width) * 0.02)
        self.used_depth = cfg.depth  # no unused blocks

    @property
    def out_dim(self) -> int:
        return self.cfg.width

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        x = self.stem(pixels)
        for main, shortcut in zip(self.main, self.shortcut, strict=True):
            x = torch.relu(main(x) + shortcut(x))
        tokens = self.proj(x).flatten(2).transpose(1, 2)
        return tokens + self.global_proj(tokens.flatten(1))[:, None, :] + self.pos_embed
