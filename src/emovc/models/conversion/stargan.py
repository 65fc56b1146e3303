"""Many-to-many emotion converter (StarGAN-VC/VC2 style) on normalised WORLD features.

One generator for all emotions, conditioned on the *target* emotion only (source-agnostic),
through FiLM modulation of every gated layer by a learned emotion embedding. Training adds a
conditional projection discriminator and an auxiliary emotion classifier
(:mod:`emovc.training.stargan`).

Features (channels, see :mod:`emovc.training.datamodule`): ``D`` normalised mcep, 1 normalised
log-F0, 1 voicing flag; the generator predicts the first ``D + 1`` channels.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from emovc.config import PlainConfig
from emovc.models.conversion.networks import GatedGenerator

PRESETS = {
    "compact": {"width": 128, "n_blocks": 6, "emb_dim": 32, "d_width": 128, "c_width": 96},
    "full": {"width": 512, "n_blocks": 9, "emb_dim": 64, "d_width": 256, "c_width": 256},
}


@dataclass
class StarGANModelConfig(PlainConfig):
    """Network sizes. ``n_feat`` = input channels (``D + 2``), ``n_emotions`` = label count."""

    n_feat: int = 38
    n_emotions: int = 8
    width: int = 128
    n_blocks: int = 6
    n_down: int = 2
    emb_dim: int = 32
    d_width: int = 128
    c_width: int = 96

    @property
    def n_out(self) -> int:
        """Predicted channels (mcep + log-F0)."""
        return self.n_feat - 1


class StarGANGenerator(nn.Module):
    """Target-conditioned residual generator ``(B, D+2, T), (B,) -> (B, D+1, T)``.

    When the source emotion is given, the input is first moved by the difference of the two
    emotions' average normalised features (``emo_mean``, measured on the training speakers:
    the "per-emotion mean shift" baseline of spectrum and log-F0); the network then predicts the
    remaining, frame-dependent change. At initialisation (zero output layer) the generator is
    exactly that baseline (applied to voiced frames).
    """

    def __init__(self, cfg: StarGANModelConfig):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.n_emotions, cfg.emb_dim)
        self.net = GatedGenerator(cfg.n_feat, cfg.n_out, cfg.width, cfg.n_blocks, cfg.n_down,
                                  n_cond=cfg.emb_dim)
        self.register_buffer("emo_mean", torch.zeros(cfg.n_emotions, cfg.n_out))

    def shift(self, x: torch.Tensor, source: torch.Tensor | None, target: torch.Tensor,
              ) -> torch.Tensor:
        """``x`` with its first ``D + 1`` channels moved from the source to the target mean.

        Only voiced frames move (the means are voiced-frame means; the last input channel is the
        voicing flag): silences keep the source's background.
        """
        if source is None:
            return x
        delta = (self.emo_mean[target] - self.emo_mean[source]).unsqueeze(-1)
        n = self.cfg.n_out
        return torch.cat([x[:, :n] + delta * x[:, -1:], x[:, n:]], dim=1)

    def forward(self, x: torch.Tensor, target: torch.Tensor,
                source: torch.Tensor | None = None) -> torch.Tensor:
        """Convert normalised features ``x`` (emotions ``source``, optional) to ``target``.

        The network's change is applied on voiced frames only (silences and unvoiced
        consonants keep the source's envelope: they carry little emotion but weigh in MCD).
        """
        xs = self.shift(x, source, target)
        base, voiced = xs[:, : self.cfg.n_out], x[:, -1:]
        return base + (self.net(xs, self.embed(target)) - base) * voiced

    def convert(self, x: torch.Tensor, target: torch.Tensor, intensity: float = 1.0,
                source: torch.Tensor | None = None) -> torch.Tensor:
        """Like :meth:`forward` with the change scaled by ``intensity`` in [0, 1].

        ``intensity = 0`` returns the input features unchanged and the effect grows linearly
        (hence monotonically) with ``intensity`` in normalised feature space.
        """
        y = self.forward(x, target, source)
        base = x[:, : self.cfg.n_out]
        return base + float(intensity) * (y - base)
