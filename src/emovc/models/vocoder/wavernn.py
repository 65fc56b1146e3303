"""Mel-conditioned WaveRNN vocoder (Kalchbrenner et al., 2018; the SV2TTS vocoder's design).

log-mel ``(T, M)`` → 1-D convolution → linear upsampling to the sample rate →
GRU over ``[previous sample, conditioning]`` → two dense layers → softmax over ``2**bits``
μ-law classes. Training is teacher-forced on random segments; synthesis is sample by sample
(real time on a GPU with the full model, slow on CPU — use the tiny config or WORLD there).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812


@dataclass(frozen=True)
class WaveRNNConfig:
    """Architecture of the vocoder.

    Attributes:
        n_mels: conditioning mel channels (must match the synthesizer).
        hop_length: audio samples per mel frame.
        bits: μ-law resolution; ``2**bits`` output classes.
        cond_dim: conditioning channels after the mel convolution.
        rnn_dim: GRU width.
        fc_dim: hidden dense width.
    """

    n_mels: int = 80
    hop_length: int = 200
    bits: int = 9
    cond_dim: int = 128
    rnn_dim: int = 512
    fc_dim: int = 512

    @classmethod
    def tiny(cls, **kw) -> WaveRNNConfig:
        """Small config for tests and smoke runs."""
        base = dict(n_mels=20, hop_length=40, bits=8, cond_dim=16, rnn_dim=48, fc_dim=48)
        return cls(**{**base, **kw})

    def to_dict(self) -> dict:
        return asdict(self)


def mulaw_encode(x: torch.Tensor, bits: int) -> torch.Tensor:
    """Waveform in [-1, 1] → μ-law class ids in ``[0, 2**bits)`` (long)."""
    mu = 2 ** bits - 1
    y = torch.sign(x) * torch.log1p(mu * x.abs().clamp(max=1.0)) / math.log1p(mu)
    return ((y + 1) / 2 * mu + 0.5).long().clamp(0, mu)


def mulaw_decode(ids: torch.Tensor, bits: int) -> torch.Tensor:
    """μ-law class ids → waveform in [-1, 1] (float)."""
    mu = 2 ** bits - 1
    y = ids.float() / mu * 2 - 1
    return torch.sign(y) * ((1 + mu) ** y.abs() - 1) / mu


class WaveRNN(nn.Module):
    """Single-GRU WaveRNN with μ-law softmax output."""

    def __init__(self, cfg: WaveRNNConfig = WaveRNNConfig()) -> None:
        super().__init__()
        self.cfg = cfg
        self.cond = nn.Conv1d(cfg.n_mels, cfg.cond_dim, 5, padding=2)
        self.rnn = nn.GRU(1 + cfg.cond_dim, cfg.rnn_dim, batch_first=True)
        self.fc1 = nn.Linear(cfg.rnn_dim + cfg.cond_dim, cfg.fc_dim)
        self.fc2 = nn.Linear(cfg.fc_dim, 2 ** cfg.bits)

    def condition(self, mels: torch.Tensor) -> torch.Tensor:
        """``(B, T, M)`` mels → ``(B, T · hop, cond_dim)`` per-sample conditioning."""
        c = F.relu(self.cond(mels.transpose(1, 2)))
        c = F.interpolate(c, scale_factor=self.cfg.hop_length, mode="linear", align_corners=False)
        return c.transpose(1, 2)

    def forward(self, mels: torch.Tensor, prev: torch.Tensor) -> torch.Tensor:
        """Teacher-forced logits.

        Args:
            mels: ``(B, T, M)`` log-mels.
            prev: ``(B, T · hop)`` previous samples in [-1, 1] (the target shifted right by one).

        Returns:
            ``(B, T · hop, 2**bits)`` logits.
        """
        c = self.condition(mels)
        h, _ = self.rnn(torch.cat([prev[..., None], c], -1))
        return self.fc2(F.relu(self.fc1(torch.cat([h, c], -1))))

    @torch.no_grad()
    def generate(self, mel: torch.Tensor, temperature: float = 1.0,
                 seed: int | None = 0, progress: bool = False) -> torch.Tensor:
        """Sample a waveform ``(T · hop,)`` in [-1, 1] from one log-mel ``(T, M)`` on the
        model's device; the waveform is on that device too. ``seed`` seeds a generator of
        that device (the same seed samples differently on a CPU and a GPU). ``progress``: a
        tqdm bar of the samples on stderr when it is a terminal (a full-size model makes
        about 0.1 s of audio per second on one CPU core); the samples are the same either
        way."""
        c = self.condition(mel[None])[0]
        dev = c.device
        gen = torch.Generator(device=dev).manual_seed(seed) if seed is not None else None
        cell = nn.GRUCell(1 + self.cfg.cond_dim, self.cfg.rnn_dim, device=dev, dtype=c.dtype)
        cell.load_state_dict({"weight_ih": self.rnn.weight_ih_l0,
                              "weight_hh": self.rnn.weight_hh_l0,
                              "bias_ih": self.rnn.bias_ih_l0, "bias_hh": self.rnn.bias_hh_l0})
        h = c.new_zeros(1, self.cfg.rnn_dim)
        x = c.new_zeros(1, 1)
        out = c.new_empty(c.shape[0])
        with _sample_bar(c.shape[0], progress) as bar:  # closed on Ctrl-C too
            for t in range(c.shape[0]):
                if t % _BAR_STEP == 0 and t:
                    bar.update(_BAR_STEP)
                ct = c[t: t + 1]
                h = cell(torch.cat([x, ct], -1), h)
                logits = self.fc2(F.relu(self.fc1(torch.cat([h, ct], -1))))
                probs = F.softmax(logits / max(temperature, 1e-3), -1)
                idx = torch.multinomial(probs, 1, generator=gen)
                x = mulaw_decode(idx, self.cfg.bits).view(1, 1)
                out[t] = x[0, 0]
        return out


_BAR_STEP = 1000  # samples between the bar's updates (an update per sample costs more than it)


def _sample_bar(total: int, show: bool):
    """A tqdm bar over ``total`` samples (``disable=None``: only on a terminal), or a
    disabled one."""
    from tqdm import tqdm

    return tqdm(total=total, desc="vocoder", unit="sample", unit_scale=True,
                disable=None if show else True, leave=False)
