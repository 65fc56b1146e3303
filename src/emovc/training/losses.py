"""GAN losses shared by the conversion trainers (least-squares GAN, Mao et al. 2017)."""

from __future__ import annotations

import torch
from torch.nn import functional as F


def lsgan_d_loss(real_score: torch.Tensor, fake_score: torch.Tensor) -> torch.Tensor:
    """Discriminator loss ``E[(D(real) - 1)^2] + E[D(fake)^2]`` (scores ``(B,)``)."""
    return 0.5 * ((real_score - 1.0) ** 2).mean() + 0.5 * (fake_score ** 2).mean()


def lsgan_g_loss(fake_score: torch.Tensor) -> torch.Tensor:
    """Generator loss ``E[(D(G(x)) - 1)^2]``."""
    return ((fake_score - 1.0) ** 2).mean()


def masked_l1(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference of two ``(B, C, T)`` tensors."""
    return F.l1_loss(a, b)


def classification_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross entropy of ``(B, K)`` logits against ``(B,)`` class indices."""
    return F.cross_entropy(logits, labels)


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Top-1 accuracy (scalar tensor)."""
    return (logits.argmax(-1) == labels).float().mean()
