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

Optional CWT log-energy (``energy_cwt``, off by default): the frame log-energy is c0 of the
coded envelope (with WORLD coding the mean natural-log power of the envelope over the
mel-warped frequency axis). It leaves the spectral channels (which keep c1...) and is
represented like log-F0: voiced-frame standardised, ``n_scales`` CWT scales, converted as extra
channels of the same generators; at conversion the scales are recombined (inverse CWT),
rescaled to the target emotion's c0 statistics and replace c0 on voiced frames, which the
difference-filter synthesis turns into a gain per frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from emovc.config import PlainConfig
from emovc.errors import ConfigError, choice_error
from emovc.features.f0 import cwt_decompose, cwt_reconstruct
from emovc.features.world import WorldConfig
from emovc.models.conversion.converters import (
    Converted,
    TempoFromNormalizer,
    check_features,
    check_intensity,
)
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
    """Sizes: ``n_mcep`` envelope dims (incl. c0), ``n_scales`` CWT scales per contour (input
    adds a voicing flag); ``energy_cwt`` moves c0 from the spectral channels to its own CWT."""

    n_mcep: int = 36
    n_scales: int = 10
    width: int = 96
    n_blocks: int = 4
    n_down: int = 2
    d_width: int = 96
    c_width: int = 64
    energy_cwt: bool = False

    @property
    def n_spec(self) -> int:
        """Spectral channels: the mcep, without c0 when ``energy_cwt``."""
        return self.n_mcep - int(self.energy_cwt)

    @property
    def n_cwt(self) -> int:
        """CWT channels: log-F0 scales, then (``energy_cwt``) log-energy scales."""
        return self.n_scales * (1 + int(self.energy_cwt))

    @property
    def n_out(self) -> int:
        """Generated channels (spectral + CWT)."""
        return self.n_spec + self.n_cwt


def make_generator(cfg: CycleGANModelConfig) -> GatedGenerator:
    """One direction's generator ``(B, n_out + 1, T) -> (B, n_out, T)``."""
    return GatedGenerator(cfg.n_out + 1, cfg.n_out, cfg.width, cfg.n_blocks, cfg.n_down)


# The bundled calm <-> angry generators put 5-18 std of change into about a tenth of the voiced
# frames (runs of ~100 ms at voicing onsets and offsets) and ~0.1 std into the rest: rendered,
# those runs were up to +100 dB, so after the output level was set the speech itself was
# 50-100 dB down on most real takes. Frames where the output departs from the input by more than
# GUARD_STD (in any channel: normalised mel-cepstrum, standardised log-F0 or log-energy) keep
# the input, and converted contours stay within the source's voiced range + CONTOUR_MARGIN std.
GUARD_STD = 2.0
CONTOUR_MARGIN = 0.5


def standardize(lf0_n: np.ndarray, vuv: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Zero-mean unit-variance contour (voiced-frame statistics); returns ``(z, mean, std)``."""
    v = vuv if vuv.sum() > 1 else np.ones_like(vuv)
    m, s = float(lf0_n[v].mean()), float(max(lf0_n[v].std(), 1e-3))
    return (lf0_n - m) / s, m, s


def contour_cwt(contour: np.ndarray, vuv: np.ndarray, n_scales: int = 10) -> np.ndarray:
    """``(T,)`` contour -> ``(n_scales, T)`` CWT of its voiced-frame standardised version."""
    z, _, _ = standardize(np.asarray(contour, np.float64), np.asarray(vuv, bool))
    return cwt_decompose(z, n_scales).T


def cwt_layout(x: np.ndarray, vuv: np.ndarray, n_scales: int = 10,
               cwt_std: np.ndarray | None = None, energy: bool = False) -> np.ndarray:
    """Network channel layout of normalised features.

    ``[mcep_n (D); lf0_n; vuv] (D+2, T) -> [mcep_n; CWT lf0 (n_scales); vuv]``, or with
    ``energy`` ``[mcep_n[1:] (D-1); CWT lf0; CWT c0 (n_scales); vuv]``; the CWT rows are divided
    by ``cwt_std`` (one entry per CWT row) when given.
    """
    d = x.shape[0] - 2
    contours = [x[d], x[0]] if energy else [x[d]]
    c = np.concatenate([contour_cwt(k, vuv, n_scales) for k in contours], 0)
    if cwt_std is not None:
        c = c / cwt_std[:, None]
    return np.concatenate([x[int(energy):d], c.astype(np.float32), x[d + 1:]], 0)


def contour_from_cwt(c: np.ndarray, cwt_std: np.ndarray, vuv: np.ndarray) -> np.ndarray:
    """``(n_scales, T)`` scaled CWT -> standardised contour ``(T,)`` (voiced mean 0, std 1)."""
    z = cwt_reconstruct((c * cwt_std[:, None]).T.astype(np.float64))
    return standardize(z, vuv.astype(bool))[0]


def rescale_contour(z: np.ndarray | None, src: np.ndarray, vuv: np.ndarray, a: float,
                    d_mean: float, d_logstd: float,
                    share: np.ndarray | float | None = None) -> np.ndarray:
    """Standardised converted contour ``z (T,)`` -> the units of the source contour ``src (T,)``.

    The result has the source's voiced mean + ``a·d_mean`` and voiced std · ``exp(a·d_logstd)``
    (``d_*``: the emotions' average offsets); its shape is ``z`` blended with the source's by
    ``share`` (per frame or one number; default ``a``), after ``z`` is bounded to the source's
    voiced range widened by ``CONTOUR_MARGIN`` std (``z=None``: the source's shape, i.e. a
    log-Gaussian linear transform).
    """
    v = np.asarray(vuv, bool)
    z_src, m, s = standardize(np.asarray(src, np.float64), v)
    if z is not None:
        zv = z_src[v] if v.any() else z_src
        z = np.clip(z, zv.min() - CONTOUR_MARGIN, zv.max() + CONTOUR_MARGIN)
        z_src = z_src + (a if share is None else share) * (z - z_src)
    return z_src * (s * float(np.exp(a * d_logstd))) + m + a * d_mean


def guard_weights(departure: np.ndarray, limit: float | None = None, spread: int = 2,
                  ramp: int = 5) -> np.ndarray:
    """``(T,)`` share of the conversion kept per frame: 0 where the generator's output departs
    from its input by more than ``limit`` std (default ``GUARD_STD``; ``departure (T,)``, the
    largest over the channels) and ``spread`` frames around, rising to 1 over ``ramp`` frames."""
    limit = GUARD_STD if limit is None else limit
    bad = np.convolve((departure > limit).astype(float), np.ones(2 * spread + 1), "same") > 0
    smooth = np.clip(np.convolve(bad.astype(float), np.ones(ramp) / ramp, "same"), 0, 1)
    return np.where(bad, 0.0, 1.0 - smooth)


class CycleGANFeatureConverter(TempoFromNormalizer):
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
        if len(self.cwt_std) != self.cfg.n_cwt:
            raise ConfigError(f"checkpoint has {len(self.cwt_std)} CWT scales' std, "
                              f"its config needs {self.cfg.n_cwt}")
        # per-emotion log-std offsets of voiced c0 (energy_cwt models; none = std kept)
        self.energy_off_lstd = np.asarray(extra.get("energy_off_lstd", [0.0] * len(self.emotions)),
                                          np.float64)
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
                intensity: float = 1.0, stats: UtteranceStats | None = None) -> Converted:
        """Convert ``source -> target`` (the pair of this model); ``intensity`` in [0, 1].

        ``stats``: the speaker's voiced-frame statistics to normalise with (a window of a long
        input gets the whole input's); ``None``: those of ``feats`` itself. The guard and the
        contours' rescaling keep using ``feats``' own."""
        a = check_intensity(intensity)
        check_features(feats, self.world, self.cfg.n_mcep)
        if (source, target) not in self.generators:
            raise ConfigError(f"this model converts {self.emotions[0]} <-> {self.emotions[1]}, "
                              f"not {source} -> {target}")
        norm, c = self.normalizer, self.cfg
        if stats is None:
            stats = UtteranceStats.of(feats.mcep, feats.lf0, feats.vuv)
        spk = norm.speaker_stats(stats, source)
        m, f = norm.normalize(feats.mcep, feats.lf0, spk)
        base = np.concatenate([m.T, f[None], feats.vuv[None].astype(np.float32)], 0)
        x = cwt_layout(base, feats.vuv, c.n_scales, self.cwt_std, c.energy_cwt)
        y = self.generators[(source, target)](torch.from_numpy(x[None]))[0].numpy()
        e, s, t = int(c.energy_cwt), norm.index(source), norm.index(target)
        d_spec = y[: c.n_spec] - x[: c.n_spec]
        z_f0 = self._contour(y[c.n_spec:], 0, feats.vuv) if self.f0_mode == "cwt" else None
        z_c0 = self._contour(y[c.n_spec:], 1, feats.vuv) if e else None
        departure = np.abs(d_spec).max(0)
        for z, src in ((z_f0, feats.lf0), (z_c0, feats.mcep[:, 0])):
            if z is not None:
                departure = np.maximum(departure, np.abs(z - standardize(
                    np.asarray(src, np.float64), feats.vuv.astype(bool))[0]))
        # the change is applied on voiced frames only: silences keep the source's background
        # (they carry no emotion; GAN artefacts there only cost quality and MCD)
        share = a * guard_weights(departure) * feats.vuv
        mcep = np.array(feats.mcep, np.float64)
        mcep[:, e:] = (x[: c.n_spec] + share * d_spec).T * norm.mcep_std[e:] + spk.mcep_mean[e:]
        lf0 = rescale_contour(z_f0, feats.lf0, feats.vuv, a, norm.off_lf0[t] - norm.off_lf0[s],
                              norm.off_lstd[t] - norm.off_lstd[s], share)
        if e:
            c0 = rescale_contour(z_c0, feats.mcep[:, 0], feats.vuv, a,
                                 norm.off_mcep[t, 0] - norm.off_mcep[s, 0],
                                 self.energy_off_lstd[t] - self.energy_off_lstd[s], share)
            mcep[:, 0] = np.where(feats.vuv, c0, feats.mcep[:, 0])
        return Converted(mcep, lf0, self.tempo_factor(source, target, a))

    def _contour(self, cwt: np.ndarray, i: int, vuv: np.ndarray) -> np.ndarray:
        """Standardised contour ``(T,)`` of CWT block ``i`` (0 = log-F0, 1 = log-energy)."""
        k = slice(i * self.cfg.n_scales, (i + 1) * self.cfg.n_scales)
        return contour_from_cwt(cwt[k], self.cwt_std[k], vuv)
