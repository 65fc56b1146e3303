"""Pairwise CycleGAN-EmoVC (Zhou, Sisman & Li 2020, "Transforming spectrum and prosody for
emotional voice conversion with non-parallel training data") on normalised WORLD features.

Features per frame (channels): ``D`` speaker-normalised mcep, ``n_scales`` CWT coefficients
of the utterance-standardised continuous log-F0 (Mexican hat, octave scales, 10 by default;
each scale divided by its training standard deviation) and the voicing flag (input only).
Two unconditional residual gated generators ``a -> b`` and ``b -> a`` are trained with least-
squares adversarial, cycle-consistency, identity and emotion-classification losses
(:mod:`emovc.training.cyclegan`).

F0 conversion (``f0_mode``):

- ``"cwt"``: the converted CWT scales are recombined into a standardised contour that is then
  scaled to the target emotion's log-F0 mean/std (log-Gaussian statistics, see below);
- ``"gaussian"``: the source contour shape is kept and only its log-F0 mean/std are moved
  (log-Gaussian normalised linear transform).

Target log-F0 statistics = the source utterance's, shifted by the average difference between
the two emotions over the training speakers (the speaker itself is unseen).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from emovc.config import PlainConfig
from emovc.errors import ConfigError, choice_error
from emovc.features.f0 import cwt_decompose, cwt_reconstruct
from emovc.features.world import WorldConfig
from emovc.models.conversion.converters import Converted, check_features, check_intensity
from emovc.models.conversion.features import FrameFeatures
from emovc.models.conversion.networks import GatedGenerator
from emovc.models.conversion.normalizer import EmotionNormalizer, UtteranceStats

F0_MODES = ("cwt", "gaussian")
PRESETS = {
    "compact": {"width": 96, "n_blocks": 4, "d_width": 96, "c_width": 64},
    "full": {"width": 512, "n_blocks": 6, "d_width": 256, "c_width": 128},
}


@dataclass
class CycleGANModelConfig(PlainConfig):
    """Sizes: ``n_mcep`` envelope dims, ``n_scales`` CWT scales (input adds a voicing flag)."""

    n_mcep: int = 36
    n_scales: int = 10
    width: int = 96
    n_blocks: int = 4
    n_down: int = 2
    d_width: int = 96
    c_width: int = 64

    @property
    def n_out(self) -> int:
        """Generated channels (mcep + CWT)."""
        return self.n_mcep + self.n_scales


def make_generator(cfg: CycleGANModelConfig) -> GatedGenerator:
    """One direction's generator ``(B, n_out + 1, T) -> (B, n_out, T)``."""
    return GatedGenerator(cfg.n_out + 1, cfg.n_out, cfg.width, cfg.n_blocks, cfg.n_down)


def standardize(lf0_n: np.ndarray, vuv: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Zero-mean unit-variance contour (voiced-frame statistics); returns ``(z, mean, std)``."""
    v = vuv if vuv.sum() > 1 else np.ones_like(vuv)
    m, s = float(lf0_n[v].mean()), float(max(lf0_n[v].std(), 1e-3))
    return (lf0_n - m) / s, m, s


def cwt_layout(x: np.ndarray, vuv: np.ndarray, n_scales: int = 10,
               cwt_std: np.ndarray | None = None) -> np.ndarray:
    """``[mcep_n (D); lf0_n; vuv] (D+2, T) -> [mcep_n; CWT (n_scales); vuv] (D+n_scales+1, T)``."""
    d = x.shape[0] - 2
    z, _, _ = standardize(x[d].astype(np.float64), vuv.astype(bool))
    c = cwt_decompose(z, n_scales).T
    if cwt_std is not None:
        c = c / cwt_std[:, None]
    return np.concatenate([x[:d], c.astype(np.float32), x[d + 1:]], 0)


def contour_from_cwt(c: np.ndarray, cwt_std: np.ndarray, vuv: np.ndarray) -> np.ndarray:
    """``(n_scales, T)`` scaled CWT -> standardised contour ``(T,)`` (voiced mean 0, std 1)."""
    z = cwt_reconstruct((c * cwt_std[:, None]).T.astype(np.float64))
    return standardize(z, vuv.astype(bool))[0]


class CycleGANFeatureConverter:
    """Loaded pairwise model: converts between its two emotions ``a <-> b``."""

    kind = "emotion-converter/cyclegan"

    def __init__(self, ckpt: dict, tempo: bool = True):
        extra = ckpt["extra"]
        self.world = WorldConfig.from_dict(extra["world"])
        self.emotions = list(extra["emotions"])
        self.normalizer = EmotionNormalizer.from_dict(extra["normalizer"])
        self.cwt_std = np.asarray(extra["cwt_std"], np.float64)
        self.f0_mode = extra.get("f0_mode", "cwt")
        if self.f0_mode not in F0_MODES:
            raise choice_error("F0 mode", self.f0_mode, F0_MODES)
        self.cfg = CycleGANModelConfig.from_dict(ckpt["config"])
        self.generators = {}
        for key, (a, b) in (("g_ab", self.emotions), ("g_ba", self.emotions[::-1])):
            g = make_generator(self.cfg)
            g.load_state_dict({k[len(key) + 1:]: v.float() for k, v in ckpt["state_dict"].items()
                               if k.startswith(key + ".")})
            self.generators[(a, b)] = g.eval()
        self.tempo = tempo
        self.info = extra.get("training", {})

    source_emotions = property(lambda self: list(self.emotions))
    target_emotions = property(lambda self: list(self.emotions))

    def fixed_source(self, target: str) -> str:
        """The only possible source for ``target`` (the other domain)."""
        return self.emotions[1] if target == self.emotions[0] else self.emotions[0]

    @torch.no_grad()
    def convert(self, feats: FrameFeatures, source: str, target: str,
                intensity: float = 1.0) -> Converted:
        """Convert ``source -> target`` (the pair of this model); ``intensity`` in [0, 1]."""
        a = check_intensity(intensity)
        check_features(feats, self.world, self.cfg.n_mcep)
        if (source, target) not in self.generators:
            raise ConfigError(f"this model converts {self.emotions[0]} <-> {self.emotions[1]}, "
                              f"not {source} -> {target}")
        norm = self.normalizer
        spk = norm.speaker_stats(UtteranceStats.of(feats.mcep, feats.lf0, feats.vuv), source)
        m, f = norm.normalize(feats.mcep, feats.lf0, spk)
        base = np.concatenate([m.T, f[None], feats.vuv[None].astype(np.float32)], 0)
        x = cwt_layout(base, feats.vuv, self.cfg.n_scales, self.cwt_std)
        y = self.generators[(source, target)](torch.from_numpy(x[None]))[0].numpy()
        # the change is applied on voiced frames only: silences keep the source's background
        # (they carry no emotion; GAN artefacts there only cost quality and MCD)
        y = x[: self.cfg.n_out] + a * (y - x[: self.cfg.n_out]) * feats.vuv[None]
        d = self.cfg.n_mcep
        mcep = y[:d].T * norm.mcep_std + spk.mcep_mean
        s, t = norm.index(source), norm.index(target)
        z_src, _, _ = standardize(feats.lf0.astype(np.float64), feats.vuv)
        z = contour_from_cwt(y[d:], self.cwt_std, feats.vuv) if self.f0_mode == "cwt" else z_src
        z = z_src + a * (z - z_src)
        u = UtteranceStats.of(feats.mcep, feats.lf0, feats.vuv)
        mean = u.lf0_mean + a * (norm.off_lf0[t] - norm.off_lf0[s])
        std = u.lf0_std * float(np.exp(a * (norm.off_lstd[t] - norm.off_lstd[s])))
        lf0 = z * std + mean
        log_tempo = norm.log_tempo[t] - norm.log_tempo[s] if self.tempo else 0.0
        return Converted(mcep, lf0, float(np.exp(a * log_tempo)))
