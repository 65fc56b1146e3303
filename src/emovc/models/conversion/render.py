"""Turn converted frame features back into audio: WORLD synthesis, or the input's own samples.

``render`` (renderer ``"world"``) synthesises with WORLD. The converted envelope is applied as
a *difference filter*: ``sp_out = sp_src * decode(mcep_conv) / decode(mcep_src)``, which keeps
the spectral fine structure the coded envelope cannot represent (better quality and speaker
similarity than decoding ``mcep_conv`` alone). Aperiodicity and voicing come from the source.
A global tempo change stretches WORLD's synthesis frame grid.

``render_on_source`` (renderer ``"source"``) never resynthesises: the envelope change is a
time-varying filter on the input's STFT, and the F0 contour and tempo are applied by TD-PSOLA
(:mod:`emovc.audio.psola`), so the input's excitation, phase and noise stay its own
(docs/conversion-experiments.md, "The source renderer, shipped").
"""

from __future__ import annotations

from dataclasses import replace

import librosa
import numpy as np

from emovc.audio.psola import pitch_marks, psola
from emovc.errors import choice_error
from emovc.features.world import (
    WorldConfig,
    WorldFeatures,
    decode_aperiodicity,
    decode_envelope,
)
from emovc.features.world_parallel import synthesize_parallel
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


RENDERERS = ("world", "source")


def check_renderer(name: str) -> str:
    """``name`` if it is one of :data:`RENDERERS`, else a one-line ``ConfigError``."""
    if name not in RENDERERS:
        raise choice_error("renderer", name, RENDERERS)
    return name


def filter_envelope(x: np.ndarray, change: np.ndarray, cfg: WorldConfig) -> np.ndarray:
    """``x`` filtered by a coded-envelope *change* frame by frame.

    Args:
        x: ``(n,)`` waveform at ``cfg.sample_rate`` Hz.
        change: ``(T, D)`` converted minus source coded envelope on ``x``'s WORLD frames
            (``cfg.frame_period`` apart, frame ``k`` centred on ``k * hop``).
        cfg: WORLD settings of the features (the STFT uses ``cfg.fft_size``, Hann window).

    Returns:
        float64 ``(n,)``: the STFT of ``x`` times the change's amplitude response, inverted.
    """
    hop = cfg.hop_samples
    power = decode_envelope(np.asarray(change, np.float64), cfg)  # (T, fft_size // 2 + 1)
    spec = librosa.stft(np.asarray(x, np.float64), n_fft=cfg.fft_size, hop_length=hop,
                        window="hann")
    gain = np.ones(spec.shape)
    t = min(spec.shape[1], power.shape[0])
    gain[:, :t] = np.sqrt(power[:t]).T
    return librosa.istft(spec * gain, hop_length=hop, window="hann", length=x.shape[0])


def render_on_source(x: np.ndarray, src: FrameFeatures, mcep: np.ndarray, lf0: np.ndarray,
                     cfg: WorldConfig, tempo: float = 1.0, jitter: float = 0.0,
                     shimmer_db: float = 0.0) -> np.ndarray:
    """Converted features rendered on the input's own samples (renderer ``"source"``).

    Args:
        x: ``(n,)`` the analysed waveform at ``cfg.sample_rate`` Hz (any level: the output
            keeps it).
        src: its frame features (``T`` frames).
        mcep: ``(T, D)`` converted coded envelope (the change to ``src.mcep`` is applied).
        lf0: ``(T,)`` converted continuous log-F0; voicing is ``src.vuv``'s.
        cfg: WORLD settings of the features.
        tempo: duration factor (> 1 = slower, longer output).
        jitter, shimmer_db: random per-cycle period and gain perturbations added to voiced
            speech (:func:`emovc.audio.psola.psola`; seeded by the input's length, so the
            same input and settings give the same output).

    Returns:
        float32 ``(round(n * tempo),)`` waveform at ``cfg.sample_rate`` Hz.
    """
    change = np.asarray(mcep, np.float64) - src.mcep
    y = filter_envelope(x, change, cfg) if change.any() else np.asarray(x, np.float64)
    f0 = np.asarray(src.lf0, np.float64)
    shift = np.asarray(lf0, np.float64) - f0
    if not shift.any() and tempo == 1.0 and not (jitter or shimmer_db):  # nothing for PSOLA
        return y.astype(np.float32)
    hop = cfg.hop_samples
    marks = pitch_marks(y, np.where(src.vuv, np.exp(f0), 0.0), hop, cfg.sample_rate)
    return psola(y, marks, np.exp(shift), hop, tempo, jitter=jitter, shimmer_db=shimmer_db,
                 seed=x.shape[0])
