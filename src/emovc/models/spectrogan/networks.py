"""SpectroGAN networks: a ResNet image-to-image generator and a PatchGAN discriminator.

Both work on normalised log-magnitude spectrograms laid out as images ``(B, 1, F, T)``
(frequency rows × time columns, values in ``[-1, 1]``) and are fully convolutional, so they
accept any ``F``/``T`` (the generator pads to a multiple of 4 internally and crops back).

Architecture (Zhu et al. 2017 CycleGAN "resnet_Xblocks", as used by the published SpectroGAN):

- generator: 7×7 conv c0 → 3×3/2 conv c1 → 3×3/2 conv c2 → ``n_res_blocks`` residual blocks
  → two 3×3/2 transposed convs (c1, c0) → 7×7 conv → tanh; instance norm + ReLU throughout;
- discriminator: 70×70-style PatchGAN, 4×4 convs (stride 2, 2, 2, 1, 1), instance norm,
  LeakyReLU 0.2, one real/fake score per patch (trained with least squares).

Optional improvements over the published system (both off in the "faithful" preset):

- ``residual``: the generator predicts a bounded correction, ``y = x + scale * tanh(h)``, with
  the last conv zero-initialised so an untrained generator is the identity — the speaker and
  the words are kept unless the adversarial loss asks for a change;
- ``freq_coord``: a constant frequency-position channel, so a convolution knows which band it
  looks at (spectral changes for emotion are frequency dependent).

Many-to-many (StarGAN-style, beyond the published system): with ``n_domains > 0`` the residual
blocks use *conditional* instance norm (a per-target-emotion scale and shift, zero-initialised,
as in StarGAN-VC2), so one generator converts to every emotion; the discriminator then has one
PatchGAN output map per emotion (``DiscriminatorConfig.n_domains``) and scores an image as a
real take *of that emotion*.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from emovc.config import PlainConfig
from emovc.errors import ConfigError


@dataclass(frozen=True)
class GeneratorConfig(PlainConfig):
    """Generator hyper-parameters.

    Attributes:
        channels: encoder widths ``(c0, c1, c2)``; the transformer runs at ``c2``.
        n_res_blocks: residual blocks in the transformer (3, 6 or 9 in the paper).
        residual: predict ``x + residual_scale * tanh(h)`` instead of ``tanh(h)``.
        residual_scale: largest change per bin in normalised units (the range is ``[-1, 1]``).
        freq_coord: append a frequency-position input channel.
        n_domains: target emotions of a many-to-many generator (0 = one-way generator).
    """

    channels: tuple[int, int, int] = (64, 128, 256)
    n_res_blocks: int = 6
    residual: bool = False
    residual_scale: float = 1.0
    freq_coord: bool = False
    n_domains: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))
        if (len(self.channels) != 3 or min(self.channels) < 1 or self.n_res_blocks < 0
                or self.n_domains < 0):
            raise ConfigError(f"generator needs 3 positive channel widths and n_res_blocks >= 0, "
                              f"got channels={self.channels}, n_res_blocks={self.n_res_blocks}")


@dataclass(frozen=True)
class DiscriminatorConfig(PlainConfig):
    """PatchGAN hyper-parameters.

    Attributes:
        base_channels: first-layer width (doubles per layer, at most 8×).
        n_layers: stride-2 layers (3 = 70×70 receptive field).
        freq_coord: append a frequency-position input channel.
        norm: ``"instance"`` (published) or ``"none"``. Instance norm removes each patch's
            per-channel mean, i.e. the band levels and spectral tilt that separate calm from
            angry speech; without it the discriminator can use them.
        n_domains: output maps, one per emotion (1 = a plain real/fake PatchGAN).
    """

    base_channels: int = 64
    n_layers: int = 3
    freq_coord: bool = False
    norm: str = "instance"
    n_domains: int = 1

    def __post_init__(self) -> None:
        if self.norm not in ("instance", "none"):
            raise ConfigError(f"discriminator norm must be 'instance' or 'none', got {self.norm!r}")
        if self.n_domains < 1:
            raise ConfigError(f"discriminator needs n_domains >= 1, got {self.n_domains}")


def _norm(ch: int) -> nn.Module:
    return nn.InstanceNorm2d(ch, affine=False, track_running_stats=False)


class ResBlock(nn.Module):
    """Two reflect-padded 3×3 convs with instance norm and an identity skip."""

    def __init__(self, ch: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(ch, ch, 3), _norm(ch), nn.ReLU(inplace=True),
            nn.ReflectionPad2d(1), nn.Conv2d(ch, ch, 3), _norm(ch),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class CondResBlock(nn.Module):
    """:class:`ResBlock` whose two instance norms get a scale and shift per target domain.

    A zero embedding is an unconditional block (scale 1, shift 0).
    """

    def __init__(self, ch: int, n_domains: int) -> None:
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(ch, ch, 3), nn.Conv2d(ch, ch, 3)
        self.film = nn.Embedding(n_domains, 4 * ch)
        nn.init.zeros_(self.film.weight)  # the generator re-initialises it (see there)

    def forward(self, x: torch.Tensor, domain: torch.Tensor) -> torch.Tensor:
        """``x (B, C, H, W)``, ``domain (B,)`` int64 target indices."""
        g1, b1, g2, b2 = (v[:, :, None, None] for v in self.film(domain).chunk(4, dim=1))
        h = F.instance_norm(self.conv1(F.pad(x, (1, 1, 1, 1), mode="reflect")))
        h = F.relu(h * (1.0 + g1) + b1)
        h = F.instance_norm(self.conv2(F.pad(h, (1, 1, 1, 1), mode="reflect")))
        return x + h * (1.0 + g2) + b2


class Generator(nn.Module):
    """ResNet encoder–transformer–decoder mapping ``(B, 1, F, T) -> (B, 1, F, T)`` in [-1, 1]."""

    def __init__(self, cfg: GeneratorConfig = GeneratorConfig()) -> None:
        super().__init__()
        self.cfg = cfg
        c0, c1, c2 = cfg.channels
        cin = 2 if cfg.freq_coord else 1
        self.encoder = nn.Sequential(
            nn.ReflectionPad2d(3), nn.Conv2d(cin, c0, 7), _norm(c0), nn.ReLU(inplace=True),
            nn.Conv2d(c0, c1, 3, stride=2, padding=1), _norm(c1), nn.ReLU(inplace=True),
            nn.Conv2d(c1, c2, 3, stride=2, padding=1), _norm(c2), nn.ReLU(inplace=True),
        )
        if cfg.n_domains:
            self.transformer = nn.ModuleList(
                [CondResBlock(c2, cfg.n_domains) for _ in range(cfg.n_res_blocks)])
        else:
            self.transformer = nn.Sequential(*[ResBlock(c2) for _ in range(cfg.n_res_blocks)])
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(c2, c1, 3, stride=2, padding=1, output_padding=1), _norm(c1),
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(c1, c0, 3, stride=2, padding=1, output_padding=1), _norm(c0),
            nn.ReLU(inplace=True),
            nn.ReflectionPad2d(3), nn.Conv2d(c0, 1, 7),
        )
        if cfg.residual:  # start from the identity mapping
            nn.init.zeros_(self.decoder[-1].bias)
            if cfg.n_domains:
                # near the identity only: with an all-zero last layer (and zero per-emotion
                # norms) no gradient reaches the emotion condition, and the unconditional
                # path's gradients cancel over the random (source, target) pairs, so a
                # zero-initialised many-to-many generator stayed at the identity, the same for
                # every target (0.02 dB change after 200 iterations)
                nn.init.normal_(self.decoder[-1].weight, std=2e-3)
                for block in self.transformer:
                    nn.init.normal_(block.film.weight, std=0.05)
            else:
                nn.init.zeros_(self.decoder[-1].weight)
        if cfg.n_domains:  # per-emotion frequency response, added before the output tanh
            self.eq = nn.Embedding(cfg.n_domains, EQ_KNOTS)
            nn.init.zeros_(self.eq.weight)

    @property
    def min_frames(self) -> int:
        """Fewest time frames ``T`` the generator takes: the residual blocks' reflect padding
        needs 2 columns after the 4x downsampling, i.e. ``T`` padded to 8 (``T >= 5``)."""
        return 5 if self.cfg.n_res_blocks else 1

    def forward(self, x: torch.Tensor, freq_pos: torch.Tensor | None = None,
                domain: torch.Tensor | None = None) -> torch.Tensor:
        """Map ``(B, 1, F, T)`` normalised log-magnitudes to the other domain, same shape.

        ``freq_pos``: ``(B, F)`` position of each row in the full image, in [-1, 1] (for
        frequency crops); default: the input spans the whole image. ``domain``: ``(B,)``
        target-emotion indices, required by (and only used by) a many-to-many generator.
        """
        if x.ndim != 4 or x.shape[1] != 1:
            raise ConfigError(f"generator input must be (B, 1, F, T), got {tuple(x.shape)}")
        if self.cfg.n_domains and (domain is None or domain.shape != (x.shape[0],)):
            raise ConfigError("a many-to-many generator needs one target index per image")
        f, t = x.shape[-2:]
        h = add_freq_channel(x, freq_pos) if self.cfg.freq_coord else x
        pf, pt = (-f) % 4, (-t) % 4
        h = F.pad(h, (0, pt, 0, pf), mode="replicate") if pf or pt else h
        h = self.encoder(h)
        if self.cfg.n_domains:
            for block in self.transformer:
                h = block(h, domain)
        else:
            h = self.transformer(h)
        h = self.decoder(h)[..., :f, :t]
        if self.cfg.n_domains:
            h = h + self.equalizer(domain, freq_pos, x)
        if self.cfg.residual:
            return x + self.cfg.residual_scale * torch.tanh(h)
        return torch.tanh(h)

    def equalizer(self, domain: torch.Tensor, freq_pos: torch.Tensor | None, x: torch.Tensor
                  ) -> torch.Tensor:
        """Learned frequency response of each target emotion at the rows of ``x``
        (``(B, 1, F, 1)``): a direct path from the condition to the output, which the
        per-emotion norms alone only reached through the near-zero last layer."""
        b, _, f, _ = x.shape
        if freq_pos is None:
            freq_pos = torch.linspace(-1.0, 1.0, f, dtype=x.dtype, device=x.device).expand(b, f)
        return _equalizer(self.eq(domain), freq_pos.to(x.dtype))


EQ_KNOTS = 64  # control points of the per-emotion frequency response over the image height


def _equalizer(weights: torch.Tensor, freq_pos: torch.Tensor) -> torch.Tensor:
    """``(B, K)`` knot values, ``(B, F)`` row positions in [-1, 1] -> ``(B, 1, F, 1)`` linear
    interpolation of the knots at the rows."""
    k = weights.shape[1]
    u = (freq_pos.clamp(-1.0, 1.0) + 1.0) * 0.5 * (k - 1)
    lo = u.floor().long().clamp(max=k - 2)
    w = u - lo
    vals = weights.gather(1, lo) * (1.0 - w) + weights.gather(1, lo + 1) * w
    return vals[:, None, :, None]


def add_freq_channel(x: torch.Tensor, freq_pos: torch.Tensor | None = None) -> torch.Tensor:
    """Append the row position (``(B, F)`` in [-1, 1]; default full span) as a channel."""
    b, _, f, t = x.shape
    if freq_pos is None:
        freq_pos = torch.linspace(-1.0, 1.0, f, dtype=x.dtype, device=x.device).expand(b, f)
    return torch.cat([x, freq_pos.to(x.dtype).view(b, 1, f, 1).expand(b, 1, f, t)], dim=1)


class PatchDiscriminator(nn.Module):
    """PatchGAN: ``(B, 1, F, T) -> (B, 1, F', T')`` unbounded real/fake scores per patch."""

    def __init__(self, cfg: DiscriminatorConfig = DiscriminatorConfig()) -> None:
        super().__init__()
        self.cfg = cfg
        ch = cfg.base_channels
        cin = 2 if cfg.freq_coord else 1
        layers: list[nn.Module] = [nn.Conv2d(cin, ch, 4, stride=2, padding=1),
                                   nn.LeakyReLU(0.2, inplace=True)]
        for i in range(1, cfg.n_layers + 1):
            prev, ch = ch, cfg.base_channels * min(2 ** i, 8)
            stride = 2 if i < cfg.n_layers else 1
            norm = _norm(ch) if cfg.norm == "instance" else nn.Identity()
            layers += [nn.Conv2d(prev, ch, 4, stride=stride, padding=1), norm,
                       nn.LeakyReLU(0.2, inplace=True)]
        layers.append(nn.Conv2d(ch, cfg.n_domains, 4, stride=1, padding=1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, freq_pos: torch.Tensor | None = None,
                domain: torch.Tensor | None = None) -> torch.Tensor:
        """``(B, 1, F', T')`` patch scores for a batch of spectrogram images (``freq_pos`` as in
        the generator); with ``n_domains > 1`` the map of emotion ``domain (B,)`` is returned."""
        out = self.net(add_freq_channel(x, freq_pos) if self.cfg.freq_coord else x)
        if self.cfg.n_domains == 1:
            return out
        if domain is None:
            raise ConfigError("a per-emotion discriminator needs the emotion of each image")
        return out[torch.arange(out.shape[0], device=out.device), domain][:, None]


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
