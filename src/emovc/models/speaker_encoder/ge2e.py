"""GE2E speaker encoder (Wan et al., 2018, "Generalized End-to-End Loss for Speaker Verification").

Network: 40-channel mel frames → 3-layer LSTM (256) → linear (256) → ReLU → L2 norm, applied
to 1.6 s partial utterances (160 frames of 10 ms); an utterance embedding is the normalised
mean of its partial embeddings. Parameter names match the checkpoint bundled in the
``resemblyzer`` wheel (``lstm.*``, ``linear.*``, ``similarity_weight``, ``similarity_bias``),
so those weights load into this module exactly.

The mel front-end reproduces resemblyzer's: librosa power mel spectrogram (not log),
25 ms Hann window, 10 ms hop, 40 bands, 16 kHz.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn


@dataclass(frozen=True)
class GE2EConfig:
    """Architecture and feature settings of the speaker encoder.

    Attributes:
        sample_rate: input audio rate in Hz.
        n_mels: mel channels (40).
        window_ms: analysis window in ms (25).
        hop_ms: frame hop in ms (10).
        hidden: LSTM width.
        layers: LSTM layers.
        embedding: embedding size.
        partial_frames: frames per partial utterance (160 = 1.6 s).
    """

    sample_rate: int = 16000
    n_mels: int = 40
    window_ms: float = 25.0
    hop_ms: float = 10.0
    hidden: int = 256
    layers: int = 3
    embedding: int = 256
    partial_frames: int = 160

    def to_dict(self) -> dict:
        return asdict(self)


def mel_frames(wav: np.ndarray, cfg: GE2EConfig = GE2EConfig()) -> np.ndarray:
    """Power mel spectrogram ``(frames, n_mels)`` float32 of a ``(n,)`` waveform at 16 kHz."""
    import librosa

    mel = librosa.feature.melspectrogram(
        y=np.asarray(wav, dtype=np.float32), sr=cfg.sample_rate,
        n_fft=int(cfg.sample_rate * cfg.window_ms / 1000),
        hop_length=int(cfg.sample_rate * cfg.hop_ms / 1000), n_mels=cfg.n_mels)
    return mel.astype(np.float32).T


class GE2E(nn.Module):
    """LSTM speaker encoder with GE2E similarity scale ``w`` and offset ``b``."""

    def __init__(self, cfg: GE2EConfig = GE2EConfig()) -> None:
        super().__init__()
        self.cfg = cfg
        self.lstm = nn.LSTM(cfg.n_mels, cfg.hidden, cfg.layers, batch_first=True)
        self.linear = nn.Linear(cfg.hidden, cfg.embedding)
        self.relu = nn.ReLU()
        self.similarity_weight = nn.Parameter(torch.tensor([10.0]))
        self.similarity_bias = nn.Parameter(torch.tensor([-5.0]))

    def forward(self, mels: torch.Tensor) -> torch.Tensor:
        """Embed partial utterances.

        Args:
            mels: ``(batch, frames, n_mels)`` power mel frames, or a ``PackedSequence`` of
                segments of different lengths (each embedded from its own last frame).

        Returns:
            ``(batch, embedding)`` L2-normalised, non-negative embeddings.
        """
        _, (hidden, _) = self.lstm(mels)
        raw = self.relu(self.linear(hidden[-1]))
        return raw / (torch.norm(raw, dim=1, keepdim=True) + 1e-8)


def ge2e_loss(embeds: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """GE2E softmax loss.

    Args:
        embeds: ``(speakers, utterances, D)`` L2-normalised embeddings, ``utterances >= 2``.
        w: similarity scale (kept positive by the caller/clamp), shape ``(1,)``.
        b: similarity offset, shape ``(1,)``.

    Returns:
        Scalar mean cross-entropy of each utterance against all speaker centroids, the own
        centroid computed without the utterance itself (exclusive centroid, as in the paper).
    """
    n_spk, n_utt, _ = embeds.shape
    centroids = nn.functional.normalize(embeds.mean(1), dim=-1)  # (S, D)
    excl = (embeds.sum(1, keepdim=True) - embeds) / (n_utt - 1)  # (S, U, D)
    excl = nn.functional.normalize(excl, dim=-1)
    sim = torch.einsum("sud,kd->suk", embeds, centroids)  # (S, U, S)
    own = (embeds * excl).sum(-1)  # (S, U)
    eye = torch.eye(n_spk, dtype=torch.bool, device=embeds.device)[:, None, :]
    sim = torch.where(eye.expand_as(sim), own[..., None].expand_as(sim), sim)
    logits = sim * torch.clamp(w, min=1e-6) + b
    target = torch.arange(n_spk, device=embeds.device).repeat_interleave(n_utt)
    return nn.functional.cross_entropy(logits.reshape(n_spk * n_utt, n_spk), target)


def partial_slices(n_samples: int, cfg: GE2EConfig = GE2EConfig(), rate: float = 1.3,
                   min_coverage: float = 0.75) -> list[slice]:
    """Mel-frame slices of the 1.6 s partial utterances covering ``n_samples`` (resemblyzer's rule).

    Partials start every ``1/rate`` s; the last one is kept if at least ``min_coverage`` of it
    lies inside the audio (or if it is the only one). The caller zero-pads the audio to reach
    the last slice's end.
    """
    hop = int(cfg.sample_rate * cfg.hop_ms / 1000)
    n_frames = int(np.ceil((n_samples + 1) / hop))
    step = max(1, int(np.round(cfg.sample_rate / rate / hop)))
    steps = max(1, n_frames - cfg.partial_frames + step + 1)
    slices = [slice(i, i + cfg.partial_frames) for i in range(0, steps, step)]
    last = slices[-1]
    coverage = (n_samples - last.start * hop) / (cfg.partial_frames * hop)
    if coverage < min_coverage and len(slices) > 1:
        slices = slices[:-1]
    return slices


def embed_utterance(model: GE2E, wav: np.ndarray) -> np.ndarray:
    """Utterance embedding ``(D,)`` float32: normalised mean over 1.6 s partials of ``wav``."""
    cfg = model.cfg
    slices = partial_slices(len(wav), cfg)
    hop = int(cfg.sample_rate * cfg.hop_ms / 1000)
    need = slices[-1].stop * hop
    if need >= len(wav):
        wav = np.pad(wav, (0, need - len(wav)))
    mel = mel_frames(wav, cfg)
    batch = torch.from_numpy(np.stack([mel[s] for s in slices]))
    with torch.no_grad():
        partials = model(batch).cpu().numpy()
    mean = partials.mean(0)
    return (mean / (np.linalg.norm(mean) + 1e-12)).astype(np.float32)
