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


def global_variance_loss(fake: torch.Tensor, real: torch.Tensor, mask: torch.Tensor,
                         ) -> torch.Tensor:
    """Mean ``|std_t(fake) - std_t(real)|`` per sample and channel over the frames of ``mask``.

    ``fake``/``real`` are ``(B, C, T)`` (``real`` time-aligned with ``fake``), ``mask`` is
    ``(B, 1, T)`` with 1 on the frames to use (voiced in both). Matches the *spread* of each
    trajectory (its global variance, Toda et al. 2007) without asking for the same frames.
    """
    w = mask / mask.sum(-1, keepdim=True).clamp_min(2.0)

    def std(a: torch.Tensor) -> torch.Tensor:
        mu = (a * w).sum(-1, keepdim=True)
        return (((a - mu) ** 2 * w).sum(-1) + 1e-6).sqrt()

    return (std(fake) - std(real)).abs().mean()


def classification_loss(logits: torch.Tensor, labels: torch.Tensor,
                        mask: torch.Tensor | None = None) -> torch.Tensor:
    """Cross entropy of ``(B, K)`` logits against ``(B,)`` class indices; with a ``(B,)`` bool
    ``mask``, the mean over the selected rows only (0 when none is)."""
    if mask is None:
        return F.cross_entropy(logits, labels)
    ce = F.cross_entropy(logits, labels, reduction="none")
    m = mask.to(ce.dtype)
    return (ce * m).sum() / m.sum().clamp(min=1.0)


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Top-1 accuracy (scalar tensor)."""
    return (logits.argmax(-1) == labels).float().mean()
