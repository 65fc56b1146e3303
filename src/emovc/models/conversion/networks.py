"""Compact 1-D gated CNNs for WORLD-feature emotion conversion.

Features are channels and time is the convolution axis (CycleGAN-VC/StarGAN-VC use the same
"1-D over time" view for their generators; we also use it for the discriminators, which keeps
the models a few hundred thousand parameters and fast on CPU).

Shapes: every network takes ``x`` of shape ``(B, C, T)`` (``T`` frames of 5 ms).
Generators are residual: they predict a change that is added to their input features, so an
untrained or weak generator stays close to the identity (keeps speaker identity and MCD low).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class GatedConv(nn.Module):
    """Conv1d -> (instance) norm -> gated linear unit, optional FiLM conditioning.

    Args:
        c_in: input channels.
        c_out: output channels.
        kernel: kernel size (odd; 'same' padding).
        stride: 1, or 2 to halve the time resolution.
        n_cond: size of the conditioning vector (0 = unconditional).
    """

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, n_cond: int = 0):
        super().__init__()
        self.conv = nn.Conv1d(c_in, 2 * c_out, kernel, stride, padding=kernel // 2)
        self.norm = nn.InstanceNorm1d(2 * c_out, affine=n_cond == 0)
        self.film = nn.Linear(n_cond, 4 * c_out) if n_cond else None

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        h = self.norm(self.conv(x))
        if self.film is not None and cond is not None:
            scale, shift = self.film(cond).unsqueeze(-1).chunk(2, dim=1)
            h = h * (1.0 + scale) + shift
        a, b = h.chunk(2, dim=1)
        return a * torch.sigmoid(b)


class ResidualGatedBlock(nn.Module):
    """``x + W(GatedConv(x))`` at constant width."""

    def __init__(self, width: int, kernel: int, n_cond: int = 0):
        super().__init__()
        self.gated = GatedConv(width, width, kernel, n_cond=n_cond)
        self.proj = nn.Conv1d(width, width, 1)

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        return x + self.proj(self.gated(x, cond))


class GatedGenerator(nn.Module):
    """Residual encoder / gated-residual body / decoder over time (2x down, body, 2x up) ** n.

    Args:
        c_in: input feature channels.
        c_out: predicted channels (a change added to the first ``c_out`` input channels).
        width: channels of the residual body.
        n_blocks: residual gated blocks in the body.
        n_down: number of stride-2 stages (time must be a multiple of ``2 ** n_down``;
            :meth:`forward` pads internally).
        n_cond: conditioning size (0 = unconditional CycleGAN generator).
        kernel: body kernel size.
    """

    def __init__(self, c_in: int, c_out: int, width: int = 128, n_blocks: int = 6,
                 n_down: int = 2, n_cond: int = 0, kernel: int = 5):
        super().__init__()
        self.c_out, self.n_down = c_out, n_down
        self.inp = GatedConv(c_in, width // 2, 15, n_cond=n_cond)
        self.down = nn.ModuleList(
            GatedConv(width // 2 if i == 0 else width, width, 5, stride=2, n_cond=n_cond)
            for i in range(n_down))
        self.body = nn.ModuleList(
            ResidualGatedBlock(width, kernel, n_cond) for _ in range(n_blocks))
        # decoder tapers to width // 2 at full time resolution (most frames, least channels)
        ups = [width] * n_down + [width // 2] if n_down else [width]
        self.up = nn.ModuleList(
            GatedConv(ups[i], ups[i + 1], 5, n_cond=n_cond) for i in range(n_down))
        self.out = nn.Conv1d(ups[-1], c_out, 15, padding=7)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """``(B, c_in, T) -> (B, c_out, T)``: converted features (input + predicted change)."""
        t = x.shape[-1]
        mult = 2 ** self.n_down
        pad = (-t) % mult
        h = F.pad(x, (0, pad), mode="replicate") if pad else x
        h = self.inp(h, cond)
        for layer in self.down:
            h = layer(h, cond)
        for block in self.body:
            h = block(h, cond)
        for layer in self.up:
            h = layer(F.interpolate(h, scale_factor=2.0, mode="nearest"), cond)
        delta = self.out(h)[..., :t]
        return x[:, : self.c_out] + delta


class ConvEncoder(nn.Module):
    """Stack of stride-2 gated convs, ``(B, C, T) -> (B, width, T / 2**n_layers)``."""

    def __init__(self, c_in: int, width: int, n_layers: int):
        super().__init__()
        chans = [c_in] + [width] * n_layers
        self.layers = nn.ModuleList(
            GatedConv(chans[i], chans[i + 1], 5 if i else 3, stride=2) for i in range(n_layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x


class ProjectionDiscriminator(nn.Module):
    """Patch discriminator over time with a class projection (Miyato & Koyama 2018).

    ``score(x, c) = psi(h) + <embed(c), h>`` per time patch, averaged over patches. With
    ``n_classes = 1`` it is an ordinary unconditional patch discriminator.
    """

    def __init__(self, c_in: int, n_classes: int = 1, width: int = 128, n_layers: int = 3):
        super().__init__()
        self.encoder = ConvEncoder(c_in, width, n_layers)
        self.psi = nn.Conv1d(width, 1, 1)
        self.embed = nn.Embedding(n_classes, width) if n_classes > 1 else None

    def forward(self, x: torch.Tensor, label: torch.Tensor | None = None) -> torch.Tensor:
        """``(B, C, T), (B,) -> (B,)`` realness scores (least-squares GAN targets 1 / 0)."""
        h = self.encoder(x)
        score = self.psi(h).squeeze(1)
        if self.embed is not None and label is not None:
            score = score + (self.embed(label).unsqueeze(-1) * h).sum(1)
        return score.mean(-1)


class EmotionClassifier(nn.Module):
    """Emotion classifier on feature segments, ``(B, C, T) -> (B, n_classes)`` logits."""

    def __init__(self, c_in: int, n_classes: int, width: int = 96, n_layers: int = 3):
        super().__init__()
        self.encoder = ConvEncoder(c_in, width, n_layers)
        self.head = nn.Linear(2 * width, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.encoder(x)
        return self.head(torch.cat([h.mean(-1), h.amax(-1)], dim=1))
