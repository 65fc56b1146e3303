"""A compact log-mel CNN for utterance-level emotion classification.

Four conv blocks (3×3 conv, batch norm, ReLU, 2×2 max-pool) turn a ``(n_mels, T)`` log-mel
spectrogram into a sequence of frame embeddings; attentive statistics pooling (weighted mean
and standard deviation over time) makes one utterance vector, which a linear layer maps to
class logits. About 0.1 M parameters: trains in minutes on a CPU.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from emovc.config import PlainConfig


@dataclass(frozen=True)
class CnnConfig(PlainConfig):
    """Architecture of :class:`EmotionCNN`.

    Attributes:
        n_mels: input mel bands.
        channels: output channels of the conv blocks (each block halves time and frequency).
        attention_dim: hidden size of the attention scorer.
        dropout: dropout before the classifier.
        n_classes: number of emotions.
    """

    ignore_unknown = True  # older checkpoints carry retired keys

    n_mels: int = 64
    channels: tuple[int, ...] = (8, 16, 32, 32)
    attention_dim: int = 64
    dropout: float = 0.3
    n_classes: int = 8


def _block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
                         nn.BatchNorm2d(c_out), nn.ReLU(inplace=True), nn.MaxPool2d(2))


class AttentiveStatsPool(nn.Module):
    """Attention-weighted mean and std over time: ``(B, D, T) -> (B, 2D)``."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.score = nn.Sequential(nn.Conv1d(dim, hidden, 1), nn.Tanh(), nn.Conv1d(hidden, 1, 1))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Pool ``x (B, D, T)``; ``mask (B, T)`` is True on valid frames."""
        s = self.score(x)  # (B, 1, T)
        if mask is not None:
            s = s.masked_fill(~mask[:, None, :], float("-inf"))
        w = torch.softmax(s, dim=-1)
        mean = (w * x).sum(-1)
        var = (w * x * x).sum(-1) - mean * mean
        return torch.cat([mean, var.clamp_min(1e-6).sqrt()], dim=1)


class EmotionCNN(nn.Module):
    """Log-mel CNN classifier.

    Input ``(B, n_mels, T)`` normalised log-mels (any T ≥ 16), output logits ``(B, C)``.
    """

    def __init__(self, cfg: CnnConfig = CnnConfig()):
        super().__init__()
        self.cfg = cfg
        chans = (1, *cfg.channels)
        pairs = zip(chans[:-1], chans[1:], strict=True)
        self.convs = nn.Sequential(*[_block(a, b) for a, b in pairs])
        self.n_pool = len(cfg.channels)
        dim = cfg.channels[-1] * (cfg.n_mels >> self.n_pool)
        self.proj = nn.Sequential(nn.Conv1d(dim, 128, 1), nn.BatchNorm1d(128), nn.ReLU())
        self.pool = AttentiveStatsPool(128, cfg.attention_dim)
        self.head = nn.Sequential(nn.Dropout(cfg.dropout), nn.Linear(256, cfg.n_classes))

    def forward(self, mel: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Logits ``(B, C)`` for ``mel (B, n_mels, T)``; ``lengths (B,)`` valid frames."""
        h = self.convs(mel.unsqueeze(1))  # (B, C, F', T')
        b, c, f, t = h.shape
        h = self.proj(h.reshape(b, c * f, t))
        mask = None
        if lengths is not None:
            valid = torch.clamp(lengths >> self.n_pool, min=1)
            mask = torch.arange(t, device=mel.device)[None, :] < valid[:, None]
        return self.head(self.pool(h, mask))
