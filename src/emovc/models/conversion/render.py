"""Turn converted frame features back into audio with WORLD.

The converted envelope is applied as a *difference filter*: ``sp_out = sp_src * decode(mcep_conv)
/ decode(mcep_src)``, which keeps the spectral fine structure the coded envelope cannot represent
(better quality and speaker similarity than decoding ``mcep_conv`` alone). Aperiodicity and
voicing come from the source. A global tempo change resamples all frame tracks in time.
"""

from __future__ import annotations

import numpy as np

from emovc.features.world import (
    WorldConfig,
    WorldFeatures,
    decode_aperiodicity,
    decode_envelope,
    synthesize_parallel,
)
from emovc.models.conversion.features import DeferredWorld, FrameFeatures


def resample_frames(a: np.ndarray, n_out: int, nearest: bool = False) -> np.ndarray:
    """Resample a ``(T, ...)`` frame track to ``n_out`` frames (linear or nearest)."""
    t = a.shape[0]
    if n_out == t:
        return a
    pos = np.linspace(0.0, t - 1.0, n_out)
    if nearest:
        return a[np.rint(pos).astype(np.int64)]
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, t - 1)
    w = (pos - lo).reshape((-1,) + (1,) * (a.ndim - 1))
    out = a[hi] - a[lo]
    out *= w
    out += a[lo]
    return out


def render(src: FrameFeatures, mcep: np.ndarray, lf0: np.ndarray, cfg: WorldConfig,
           world: WorldFeatures | DeferredWorld | None = None, tempo: float = 1.0,
           ) -> np.ndarray:
    """Synthesise converted features.

    Args:
        src: source frame features (``T`` frames).
        mcep: ``(T, D)`` converted coded envelope.
        lf0: ``(T,)`` converted continuous log-F0 (voicing taken from ``src.vuv``).
        cfg: WORLD settings of the features.
        world: source WORLD parameters (full envelope/aperiodicity; a
            :class:`DeferredWorld` is waited for only after the envelope is decoded); if
            ``None`` the envelope is decoded from ``mcep`` and the aperiodicity from
            ``src.cap``.
        tempo: duration factor (> 1 = slower, longer output).

    Returns:
        ``(n,)`` float32 waveform at ``cfg.sample_rate`` Hz.
    """
    if world is not None:
        # coding is linear in the log spectrum: decode(a) / decode(b) == decode(a - b), and an
        # unchanged envelope (prosody-only conversion) needs no decoding: decode(0) == 1
        diff = np.asarray(mcep, np.float64) - src.mcep
        sp = world.sp * decode_envelope(diff, cfg) if diff.any() else world.sp
        ap = world.ap
    else:
        sp = decode_envelope(mcep, cfg)
        ap = decode_aperiodicity(src.cap.astype(np.float64), cfg)
    n_out = max(int(round(src.n_frames * float(tempo))), 2)
    vuv, lf0 = src.vuv, np.asarray(lf0, np.float64)
    if n_out != src.n_frames:
        sp, ap = resample_frames(sp, n_out), resample_frames(ap, n_out)
        vuv = resample_frames(vuv, n_out, nearest=True)
        lf0 = resample_frames(lf0, n_out)
    f0 = np.where(vuv, np.exp(lf0), 0.0)
    return synthesize_parallel(f0, np.maximum(sp, 1e-16), np.clip(ap, 0.0, 1.0), cfg)
