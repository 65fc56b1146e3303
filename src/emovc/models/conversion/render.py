"""Turn converted frame features back into audio with WORLD.

The converted envelope is applied as a *difference filter*: ``sp_out = sp_src * decode(mcep_conv)
/ decode(mcep_src)``, which keeps the spectral fine structure the coded envelope cannot represent
(better quality and speaker similarity than decoding ``mcep_conv`` alone). Aperiodicity and
voicing come from the source. A global tempo change stretches WORLD's synthesis frame grid.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from emovc.features.world import (
    WorldConfig,
    WorldFeatures,
    decode_aperiodicity,
    decode_envelope,
    synthesize_parallel,
)
from emovc.models.conversion.features import DeferredWorld, FrameFeatures, synthesis_config


def render(src: FrameFeatures, mcep: np.ndarray, lf0: np.ndarray, cfg: WorldConfig,
           world: WorldFeatures | DeferredWorld | None = None, tempo: float = 1.0,
           synthesis_fft: int | None = None) -> np.ndarray:
    """Synthesise converted features.

    Args:
        src: source frame features (``T`` frames).
        mcep: ``(T, D)`` converted coded envelope.
        lf0: ``(T,)`` converted continuous log-F0 (voicing taken from ``src.vuv``).
        cfg: WORLD settings of the features.
        world: source WORLD parameters (full envelope at ``cfg.fft_size``, aperiodicity at
            ``synthesis_fft``; a :class:`DeferredWorld` is waited for only after the envelope
            is decoded); if ``None`` the envelope is decoded from ``mcep`` and the aperiodicity
            from ``src.cap``.
        tempo: duration factor (> 1 = slower, longer output): WORLD synthesis runs on a frame
            period ``tempo`` times longer, interpolating the frame tracks linearly in time.
        synthesis_fft: FFT size of the synthesis (``None`` = ``cfg.fft_size``; conversion
            passes :func:`~emovc.models.conversion.features.synthesis_config`'s smaller size);
            must divide ``cfg.fft_size``.

    Returns:
        ``(≈ (T - 1) * hop * tempo,)`` float32 waveform at ``cfg.sample_rate`` Hz.
    """
    scfg = synthesis_config(cfg, synthesis_fft or cfg.fft_size)
    if world is not None:
        # coding is linear in the log spectrum: decode(a) / decode(b) == decode(a - b), and an
        # unchanged envelope (prosody-only conversion) needs no decoding: decode(0) == 1.
        # The analysis envelope on every r-th bin is the same envelope at the synthesis size.
        sp = world.sp[:, :: cfg.fft_size // scfg.fft_size]
        diff = np.asarray(mcep, np.float64) - src.mcep
        sp = sp * decode_envelope(diff, scfg) if diff.any() else sp
        ap = world.ap
    else:
        sp = decode_envelope(mcep, scfg)
        ap = decode_aperiodicity(src.cap.astype(np.float64), scfg)
    f0 = np.where(src.vuv, np.exp(np.asarray(lf0, np.float64)), 0.0)
    scfg = replace(scfg, frame_period=scfg.frame_period * float(tempo))
    return synthesize_parallel(f0, np.maximum(sp, 1e-16), np.clip(ap, 0.0, 1.0), scfg)
