"""Conversion features: WORLD analysis into the frame features the converters model.

Per frame (WORLD grid, ``frame_period`` ms) a converter sees

- ``mcep``: ``(T, D)`` coded spectral envelope (``pyworld.code_spectral_envelope``, c0 first);
- ``lf0``: ``(T,)`` continuous natural-log F0 (interpolated through unvoiced frames);
- ``vuv``: ``(T,)`` voicing flags (kept from the source at conversion time);
- ``cap``: ``(T, k)`` coded (band) aperiodicity, for validation audio only; at conversion the
  source's full aperiodicity is reused.

Audio is loudness-normalised before analysis so that c0 is comparable across recordings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyworld

from emovc.audio import normalize_loudness
from emovc.features.f0 import continuous_log_f0
from emovc.features.world import (
    WorldConfig,
    WorldFeatures,
    encode_aperiodicity,
    encode_envelope,
    f0_parallel,
    world_pool,
)

ANALYSIS_DBFS = -23.0


@dataclass
class FrameFeatures:
    """Converter input features of one utterance (see module docstring for shapes)."""

    mcep: np.ndarray
    lf0: np.ndarray
    vuv: np.ndarray
    cap: np.ndarray

    @property
    def n_frames(self) -> int:
        """Number of frames ``T``."""
        return int(self.lf0.shape[0])


def analyze_world(x: np.ndarray, cfg: WorldConfig, ap_stride: int = 2) -> WorldFeatures:
    """WORLD analysis with the aperiodicity estimated on every ``ap_stride``-th frame.

    Same as :func:`emovc.features.world.analyze` except that D4C (the most expensive step,
    ~1/3 of analysis + synthesis time) runs on a ``ap_stride`` times coarser grid and is
    linearly interpolated back: aperiodicity varies slowly, and this keeps conversion above
    20x real time on 2 cores.
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    f0, t = f0_parallel(x, cfg)
    fs = cfg.sample_rate
    k = max(1, int(ap_stride))
    # CheapTrick (two frame halves) and D4C only need F0: pyworld releases the GIL, so they
    # share the two threads of the WORLD pool
    h = f0.shape[0] // 2
    c = np.ascontiguousarray
    jobs = [world_pool().submit(pyworld.cheaptrick, x, c(f0[a:b]), c(t[a:b]), fs,
                                fft_size=cfg.fft_size) for a, b in ((0, h), (h, f0.shape[0]))]
    ap_c = pyworld.d4c(x, c(f0[::k]), c(t[::k]), fs, fft_size=cfg.fft_size)
    sp = np.concatenate([j.result() for j in jobs])
    if k > 1:
        pos = np.minimum(np.arange(f0.shape[0]) / k, ap_c.shape[0] - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, ap_c.shape[0] - 1)
        w = (pos - lo)[:, None]
        ap = ap_c[lo] * (1.0 - w) + ap_c[hi] * w
    else:
        ap = ap_c
    return WorldFeatures(f0=f0, sp=sp, ap=ap)


def analyze_for_conversion(wav: np.ndarray, cfg: WorldConfig, ap_stride: int = 2,
                           with_cap: bool = True, with_mcep: bool = True,
                           ) -> tuple[FrameFeatures, WorldFeatures, float]:
    """Loudness-normalise and analyse one waveform.

    Args:
        wav: ``(n,)`` float32 audio at ``cfg.sample_rate`` Hz.
        cfg: WORLD settings (``mcep_dim`` coefficients incl. c0).
        ap_stride: aperiodicity frame stride (see :func:`analyze_world`).
        with_cap: also code the aperiodicity (``cap``; ``(T, 0)`` when false — conversion
            reuses the full aperiodicity and skips it).
        with_mcep: also code the envelope (``mcep``; ``(T, 0)`` when false — a prosody-only
            conversion keeps the full envelope and skips it).

    Returns:
        ``(frame_features, world_features, gain)`` where ``gain`` is the linear factor that was
        applied to ``wav`` before analysis (divide the synthesis by it to restore the level).

    Raises:
        AudioError: too short, not finite, or no voiced frame.
    """
    x = np.asarray(wav, dtype=np.float32)
    y = normalize_loudness(x, cfg.sample_rate, target_dbfs=ANALYSIS_DBFS)
    gain = float(np.sqrt((y.astype(np.float64) ** 2).mean() + 1e-20)
                 / np.sqrt((x.astype(np.float64) ** 2).mean() + 1e-20))
    world = analyze_world(y, cfg, ap_stride)
    lf0, vuv = continuous_log_f0(world.f0)
    mcep = encode_envelope(world.sp, cfg) if with_mcep else np.zeros((lf0.shape[0], 0))
    cap = encode_aperiodicity(world.ap, cfg) if with_cap else np.zeros((lf0.shape[0], 0))
    feats = FrameFeatures(mcep=mcep.astype(np.float32), lf0=lf0.astype(np.float32),
                          vuv=vuv, cap=cap.astype(np.float32))
    return feats, world, gain
