"""Molmo's connector: 2x2 attention pooling of ViT patches, then an MLP into the LM's width; or (kind
"linear") the 2x2 mean and one linear map, for from-scratch models on a CPU budget."""

import torch
import torch.nn.functional as F
from torch import nn

from trainer.config import ConnectorConfig


class Connector(nn.Module):
    def __init__(self, cfg: ConnectorConfig, in_dim: int, out_dim: int, pooling: int, tokens: int = 1):
        """`tokens`: pooled tokens per crop, for the per-position norm ("batch_token")."""
        super().__init__()
        self.pooling = pooling
        self.heads = cfg.heads
        if in_dim % cfg.heads:
            raise ValueError(f"vision feature dim {in_dim} is not divisible by {cfg.heads} connector heads")
        # Learned offsets for patches that are all padding / partly padding, so the model can tell
        # padding from black image content.
        self.pad_embed = nn.Parameter(torch.zeros(2, in_dim))
        if cfg.kind not in ("attention", "linear"):
            raise ValueError(f"connector kind must be 'attention' or 'linear', not {cfg.kind!r}")
        self.proj = nn.Linear(in_dim, out_dim) if cfg.kind == "linear" else None
        if cfg.kind == "attention":
            self.q = nn.Linear(in_dim, in_dim)
            self.k = nn.Linear(in_dim, in_dim)
            self.v = nn.Linear(in_dim, in_dim)
            self.o = nn.Linear(in_dim, in_dim)
            hidden = int(out_dim * cfg.mlp_ratio)
            # SwiGLU MLP as in Molmo's image projector.
            self.w_gate = nn.Linear(in_dim, hidden, bias=False)
            self.w_up = nn.Linear(in_dim, hidden, bias=False)
            self.w_down = nn.Linear(hidden, out_dim, bias=False)
        norms = {
            "none": None,
            "rms": lambda: nn.RMSNorm(out_dim),
            "batch": lambda: nn.BatchNorm1d(out_dim),
            "batch_token": lambda: nn.BatchNorm1d(tokens * out_dim),
        }
        self.per_token = cfg.output_norm == "batch_token"
        if cfg.output_norm not in norms:
            raise ValueError(f"connector output_norm must be one of {sorted(norms)}, not {cfg.output_norm!r}")
        self.out_norm = norms[cfg.output_norm]() if norms[cfg.output_norm] else None

    def forward(self, feats: torch.Tensor, patch_mask: torch.Tensor) -> torch.Tensor:
        """feats (N, P*P, C) and patch_mask (N, P, P) -> pooled tokens (N, (P/k)^2, out_dim), row-major."""
        n, t, c = feats.shape
        side, k = patch_mask.shape[-1], self.pooling
        mask = patch_mask.reshape(n, t, 1).to(feats.dtype)
        feats = feats + self.pad_embed[0] * (mask == 0) + self.pad_embed[1] * ((mask > 0) & (mask < 1))
        # (N, P, P, C) -> windows (N * T * T, k*k, C)
        win = feats.view(n, side // k, k, side // k, k, c).permute(0, 1, 3, 2, 4, 5).reshape(-1, k * k, c)
        if self.proj is not None:
            out = self.proj(win.mean(dim=1))
            return self._normed(out.view(n, (side // k) ** 2, -1))
        query = win.mean(dim=1, keepdim=True)  # Molmo: the window's mean asks, its patches answer
        h, d = self.heads, c // self.heads
        q = self.q(query).view(-1, 1, h, d).transpose(1, 2)
        key = self.k(win).view(-1, k * k, h, d).transpose(1, 2)
        val = self.v(win).view(-1, k * k, h, d).transpose(1, 2)
        pooled = F.scaled_dot_product_attention(q, key, val).transpose(1, 2).reshape(-1, c)
        pooled = self.o(pooled)
        out = self.w_down(F.silu(self.w_gate(pooled)) * self.w_up(pooled))
        return self._normed(out.view(n, (side // k) ** 2, -1))

    def _normed(self, out: torch.Tensor) -> torch.Tensor:
        if self.per_token:  # each (token position, channel) centred and scaled over the batch's crops
            return self.out_norm(out.reshape(out.shape[0], -1)).view_as(out)
        if isinstance(self.out_norm, nn.BatchNorm1d):
            return self.out_norm(out.reshape(-1, out.shape[-1])).view_as(out)
        return out if self.out_norm is None else self.out_norm(out)
