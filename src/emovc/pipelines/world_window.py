"""One window of a WORLD-feature emotion conversion, audio in, audio out (16 kHz, 5 ms frames).

Used by :class:`emovc.pipelines.conversion.EmotionConverter` for the many-to-many and pairwise
CycleGAN-EmoVC models; the settings are its attributes of the same names.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emovc.audio.processing import keep_unvoiced_source
from emovc.models.conversion.converters import (
    scale_envelope_change,
    scale_f0_level,
    smooth_envelope_change,
)
from emovc.models.conversion.features import (
    CONVERSION_DIO_SPEED,
    analyze_for_conversion,
    synthesis_config,
)
from emovc.models.conversion.render import render, render_on_source
from emovc.pipelines.world_stats import WholeInput


@dataclass(frozen=True)
class WindowSettings:
    """Inference settings of one conversion (validated by the caller).

    Attributes:
        intensity: 0 = unchanged ... 1 = full conversion.
        pitch_level: share (0..1) of the conversion's change of mean F0 that is kept.
        envelope_gain: factor on the (smoothed) envelope change.
        smoothing_ms: moving-average window of the envelope change in ms (0 = off).
        renderer: ``"world"`` or ``"source"`` (:mod:`emovc.models.conversion.render`).
        keep_unvoiced: put the input's own samples in its unvoiced stretches.
        jitter, shimmer_db: per-cycle perturbations the source renderer adds to voiced speech
            (:func:`emovc.features.voice_quality.added_perturbation`); ignored by ``"world"``.
    """

    intensity: float = 1.0
    pitch_level: float = 1.0
    envelope_gain: float = 1.0
    smoothing_ms: float = 0.0
    renderer: str = "world"
    keep_unvoiced: bool = True
    jitter: float = 0.0
    shimmer_db: float = 0.0


def convert_window(backend, x: np.ndarray, src: str, tgt: str, s: WindowSettings,
                   whole: WholeInput | None = None) -> np.ndarray:
    """Convert ``(n,)`` float32 audio at ``backend.world.sample_rate`` Hz from ``src`` to
    ``tgt`` with a WORLD-feature ``backend``; returns float32 ``(round(n * tempo),)`` at the
    input's level (the emotion's level change is the caller's).

    ``whole``: ``x`` is a window of a long input, analysed at that input's gain and
    normalised with its speaker statistics (:func:`~emovc.pipelines.world_stats.
    whole_input_stats`); ``None``: with ``x``'s own."""
    cfg = backend.world
    n_fft = synthesis_config(cfg).fft_size
    # D4C keeps running on the WORLD pool while the generator runs; render() waits for it.
    # The source renderer keeps the input's excitation and needs no aperiodicity.
    on_source = s.renderer == "source"
    feats, world, gain = analyze_for_conversion(
        x, cfg, ap_stride=0 if on_source else 3, with_cap=False, defer_ap=True,
        dio_speed=CONVERSION_DIO_SPEED, ap_fft_size=n_fft,
        gain=None if whole is None else whole.gain)
    if whole is None:
        out = backend.convert(feats, src, tgt, s.intensity)
    else:
        out = backend.convert(feats, src, tgt, s.intensity, stats=whole.utterance)
    lf0 = scale_f0_level(out.lf0, feats.lf0, feats.vuv, s.pitch_level)
    width = int(round(s.smoothing_ms / cfg.frame_period))
    mcep = smooth_envelope_change(out.mcep, feats.mcep, feats.vuv, width)
    mcep = scale_envelope_change(mcep, feats.mcep, s.envelope_gain)
    if on_source:
        y = render_on_source(x, feats, mcep, lf0, cfg, tempo=out.tempo, jitter=s.jitter,
                             shimmer_db=s.shimmer_db)
    else:
        y = render(feats, mcep, lf0, cfg, world=world, tempo=out.tempo,
                   synthesis_fft=n_fft) / gain
    n = int(round(x.shape[0] * out.tempo))
    y = y[:n] if y.shape[0] >= n else np.pad(y, (0, n - y.shape[0]))
    if s.keep_unvoiced:
        y = keep_unvoiced_source(y, x, feats.vuv, cfg.hop_samples, out.tempo)
    return y.astype(np.float32)
