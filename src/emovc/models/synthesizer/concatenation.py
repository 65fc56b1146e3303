"""Waveform concatenation of selected units: runs of consecutive frames, cross-faded joins.

Used by the unit-selection cloner (:mod:`.unit_selection`): each run of consecutive selected
frames becomes one waveform segment of the unit inventory (the reference audio, plus the
mapped front-end for fallback units), joined to the next with a linear cross-fade.
"""

from __future__ import annotations

import numpy as np

from emovc.features.world import WorldConfig

__all__ = ["concatenate_segments", "runs"]


def runs(sel: np.ndarray) -> list[tuple[int, int]]:
    """Split a frame selection into runs of consecutive reference frames ``(first, length)``."""
    breaks = np.flatnonzero(np.diff(sel) != 1) + 1
    starts = np.concatenate([[0], breaks])
    ends = np.concatenate([breaks, [len(sel)]])
    return [(int(sel[a]), int(b - a)) for a, b in zip(starts, ends, strict=True)]


def concatenate_segments(ref_wav: np.ndarray, sel: np.ndarray, wcfg: WorldConfig,
                         crossfade_ms: float) -> np.ndarray:
    """Join the reference waveform segments behind a frame selection with linear cross-fades.

    Args:
        ref_wav: ``(n,)`` concatenated reference audio the frame indices point into.
        sel: ``(T,)`` selected reference frame per output frame (``frame_period`` hop).
        wcfg: frame grid (sample rate, frame period).
        crossfade_ms: overlap at each join; segments are extended by it into their context.

    Returns:
        ``(≈ T · hop,)`` float32 waveform.
    """
    hop = wcfg.hop_samples
    fade = max(1, int(wcfg.sample_rate * crossfade_ms / 1000))
    out = np.zeros(len(sel) * hop + fade, dtype=np.float64)
    ramp = np.linspace(0.0, 1.0, fade, endpoint=False)
    pos = 0
    padded = np.pad(ref_wav.astype(np.float64), (0, fade + hop))
    for first, length in runs(sel):
        a = first * hop - hop // 2  # WORLD frame t is centred on sample t·hop
        seg = padded[max(a, 0): max(a, 0) + length * hop + fade].copy()
        seg[:fade] *= ramp
        seg[-fade:] *= ramp[::-1]
        out[pos: pos + len(seg)] += seg
        pos += length * hop
    return out[: len(sel) * hop].astype(np.float32)
