"""Prosody stage of the many-to-many SpectroGAN: the target emotion's average F0, tempo and level.

A magnitude-spectrogram generator cannot move the pitch or the timing of speech in a way a
short CPU run learns (harmonics sit 1-5 bins apart at 31 Hz bin spacing; see
docs/spectrogan.md), and a spectral change alone does not make speech sound angry or sad to a
recogniser. So before the generator runs, the many-to-many model applies the average prosody
change from the source to the target emotion measured on its training speakers:

- log-F0 mean and spread: speaker-centred per-emotion offsets (as in the WORLD-feature models'
  :class:`~emovc.models.conversion.normalizer.EmotionNormalizer`), applied by WORLD
  resynthesis with the source's own envelope and aperiodicity; or, with an ``f0_model`` (a
  WORLD-feature many-to-many converter, e.g. ``m2m-ravdess``), that model's converted log-F0
  contour, which also changes the contour's shape, not only its mean and spread; and
  optionally part of that model's change of the low-order cepstra (``envelope_coefs``,
  ``envelope_strength``: frame by frame energy and coarse spectral tilt, on voiced frames),
  which the average spectrum below cannot give: it is one change for the whole utterance;
- global tempo: the per-emotion log duration offset, applied by stretching WORLD's synthesis
  frame grid;
- level (vocal effort): the per-emotion active-level offset in dB, which
  :class:`emovc.pipelines.conversion.EmotionConverter` applies to the output;
- average spectrum (when fitted with the clips' spectra): speaker-centred per-emotion offsets
  of the loudness-normalised STFT log-magnitude over speech frames (e.g. calm -> angry on
  RAVDESS: -6 dB below 500 Hz, +4 dB at 2-4 kHz), which
  :class:`emovc.pipelines.spectrogan.SpectroGANConverter` adds on speech frames
  (:meth:`ProsodyShift.spectral_shift`): to the generator's input for models trained with
  ``input_shift`` (the ``m2m`` preset), else to its output. A target-conditioned generator
  cannot learn it alone: its change may not depend on the source emotion, and the identity loss
  asks it to leave a real take of the target emotion unchanged.

All of it is scaled by the conversion intensity. The statistics are stored as plain data in
the checkpoint (``EmotionNormalizer.to_dict``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from emovc.errors import ConfigError
from emovc.features.f0 import voiced_span_seconds
from emovc.features.world import WorldConfig
from emovc.models.conversion.converters import StarGANFeatureConverter, scale_f0_level
from emovc.models.conversion.features import (
    CONVERSION_DIO_SPEED,
    analyze_for_conversion,
    synthesis_config,
)
from emovc.models.conversion.normalizer import (
    EmotionNormalizer,
    UtteranceStats,
    fit_level_offsets,
    fit_normalizer,
    speaker_centred_offsets,
)
from emovc.models.conversion.render import render


def fit_prosody(rows: Sequence[tuple], emotions: list[str], frame_period_ms: float,
                ) -> EmotionNormalizer:
    """Per-emotion prosody offsets from training utterances.

    Args:
        rows: ``(speaker, emotion, f0 (T,) in Hz with 0 = unvoiced, active level dBFS)`` per
            utterance (the level of the recording before any normalisation), optionally
            followed by the utterance's average speech spectrum ``(n_bins,)`` (natural-log
            STFT magnitude of the loudness-normalised clip,
            :func:`~emovc.models.spectrogan.representation.active_mean`). Utterances with
            fewer than 2 voiced frames are left out of the F0 and tempo statistics.
        emotions: label set (rows of the offset tables).
        frame_period_ms: frame period of the F0 tracks.

    Returns:
        An :class:`EmotionNormalizer` whose log-F0, spread, tempo and level offsets are fitted;
        its envelope offsets ``off_mcep`` hold the spectrum offsets ``(E, n_bins)`` when every
        row has a spectrum, else ``(E, 1)`` zeros (no spectral shift).
    """
    items = []
    for spk, emo, f0, *_ in rows:
        f0 = np.asarray(f0)
        if (f0 > 0).sum() < 2:
            continue
        lf0 = np.log(f0[f0 > 0])
        st = UtteranceStats(np.zeros(1), float(lf0.mean()), float(max(lf0.std(), 1e-3)))
        items.append((spk, emo, st, voiced_span_seconds(f0 > 0, frame_period_ms)))
    if not items:
        raise ConfigError("no training utterance has 2 or more voiced frames")
    norm = fit_normalizer(items, list(emotions), [np.zeros((1, 1))] * len(items))
    speakers, labels = [r[0] for r in rows], [r[1] for r in rows]
    if all(len(r) > 4 for r in rows):  # the spectrum offsets are applied as they are: no scale
        spectra = np.stack([np.asarray(r[4], np.float64) for r in rows])
        norm.off_mcep = speaker_centred_offsets(speakers, labels, spectra, list(emotions))
        norm.mcep_std = np.ones(spectra.shape[1])
    norm.off_level = fit_level_offsets(list(zip(speakers, labels, [r[3] for r in rows],
                                                strict=True)), list(emotions))
    return norm


class ProsodyShift:
    """Apply the average prosody change between two emotions to a waveform.

    Args:
        normalizer: fitted offsets (:func:`fit_prosody`).
        world: WORLD settings of the analysis/resynthesis (16 kHz, 5 ms frames by default).
        f0_model: optional frame-level converter
            (:class:`~emovc.models.conversion.converters.StarGANFeatureConverter`) whose
            converted log-F0 replaces the mean/spread shift; its WORLD settings must match
            ``world`` in rate and frame period and it must know every emotion of
            ``normalizer``.
        envelope_coefs: how many low-order mel-cepstral coefficients (c0, c1, ...) the F0
            model's envelope change is applied to (0 = the source envelope is kept; needs
            ``f0_model``).
        envelope_strength: fraction of that change applied (1 = the F0 model's converted
            coefficients; scaled by the intensity too, as the F0 model scales it).

    Raises:
        ConfigError: an ``f0_model`` that does not fit (names the mismatch), or
            ``envelope_coefs`` without one or beyond its envelope's size, or a negative
            ``envelope_strength``.
    """

    def __init__(self, normalizer: EmotionNormalizer, world: WorldConfig = WorldConfig(),
                 f0_model: StarGANFeatureConverter | None = None, envelope_coefs: int = 0,
                 envelope_strength: float = 1.0):
        self.normalizer = normalizer
        self.world = world
        self.f0_model = f0_model
        self.envelope_coefs = int(envelope_coefs)
        self.envelope_strength = float(envelope_strength)
        if f0_model is not None:
            _check_f0_model(f0_model, normalizer, world)
        _check_envelope(self.envelope_coefs, self.envelope_strength, f0_model)

    def tempo(self, source: str, target: str, intensity: float = 1.0) -> float:
        """Duration factor (> 1 = slower) from ``source`` to ``target`` at ``intensity``."""
        n = self.normalizer
        d = n.log_tempo[n.index(target)] - n.log_tempo[n.index(source)]
        return float(np.exp(float(intensity) * d))

    @property
    def spectrum_bins(self) -> int:
        """STFT bins of the average-spectrum offsets (0 when fitted without spectra)."""
        d = self.normalizer.off_mcep.shape[1]
        return d if d > 1 else 0

    def spectral_shift(self, source: str, target: str, intensity: float = 1.0,
                       ) -> np.ndarray | None:
        """``(n_bins,)`` natural-log magnitude offset from ``source`` to ``target`` speech at
        ``intensity`` (``None`` when the stage was fitted without spectra)."""
        n = self.normalizer
        if not self.spectrum_bins:
            return None
        return float(intensity) * (n.off_mcep[n.index(target)] - n.off_mcep[n.index(source)])

    def apply(self, wav: np.ndarray, source: str, target: str, intensity: float = 1.0,
              pitch_level: float = 1.0) -> np.ndarray:
        """Move the log-F0 of ``wav`` (``(n,)`` float at 16 kHz) to the target emotion (the F0
        model's contour, or the mean/spread shift without one), apply the F0 model's low-order
        envelope change (``envelope_coefs`` at ``envelope_strength``) and change the tempo.
        ``pitch_level`` (0..1) is the share of the change of mean log-F0 that is kept
        (:func:`~emovc.models.conversion.converters.scale_f0_level`).

        Returns:
            ``(round(n * tempo),)`` float32 audio at the input's level.

        Raises:
            AudioError: too short or no voiced frame.
        """
        a = float(intensity)
        cfg = self.world if self.f0_model is None else self.f0_model.world  # the model's analysis
        n_fft = synthesis_config(cfg).fft_size
        feats, world, gain = analyze_for_conversion(
            wav, cfg, ap_stride=3, with_cap=False, with_mcep=self.f0_model is not None,
            defer_ap=True, ap_fft_size=n_fft, dio_speed=CONVERSION_DIO_SPEED)
        mcep = feats.mcep
        if self.f0_model is not None:  # learned contour (and coarse envelope, if asked)
            conv = self.f0_model.convert(feats, source, target, a)
            lf0, k = conv.lf0, self.envelope_coefs
            if k:
                mcep = feats.mcep.copy()
                mcep[:, :k] += self.envelope_strength * (conv.mcep[:, :k] - feats.mcep[:, :k])
        else:
            lf0 = self._shifted_lf0(feats, source, target, a)
        lf0 = scale_f0_level(lf0, feats.lf0, feats.vuv, pitch_level)
        tempo = self.tempo(source, target, a)
        y = render(feats, mcep, lf0, cfg, world=world, tempo=tempo, synthesis_fft=n_fft) / gain
        m = int(round(len(wav) * tempo))
        y = y[:m] if y.shape[0] >= m else np.pad(y, (0, m - y.shape[0]))
        return y.astype(np.float32)

    def _shifted_lf0(self, feats, source: str, target: str, a: float) -> np.ndarray:
        """``(T,)`` log-F0 with the per-emotion mean/spread change at intensity ``a``."""
        n = self.normalizer
        s, t = n.index(source), n.index(target)
        u = UtteranceStats.of(feats.mcep, feats.lf0, feats.vuv)
        mean = u.lf0_mean + a * float(n.off_lf0[t] - n.off_lf0[s])
        std = u.lf0_std * float(np.exp(a * (n.off_lstd[t] - n.off_lstd[s])))
        return (feats.lf0.astype(np.float64) - u.lf0_mean) / u.lf0_std * std + mean


def _check_f0_model(model, normalizer: EmotionNormalizer, world: WorldConfig) -> None:
    """Refuse an F0 model whose frames or emotions differ from the prosody stage's."""
    mw = model.world
    if (mw.sample_rate, mw.frame_period) != (world.sample_rate, world.frame_period):
        raise ConfigError(f"F0 model works at {mw.sample_rate} Hz / {mw.frame_period} ms frames, "
                          f"the prosody stage at {world.sample_rate} Hz / "
                          f"{world.frame_period} ms: model/feature mismatch")
    missing = [e for e in normalizer.emotions if e not in model.emotions]
    if missing:
        raise ConfigError(f"F0 model does not know the emotion(s) {', '.join(missing)} of this "
                          f"model (it knows {', '.join(model.emotions)})")


def _check_envelope(k: int, strength: float, model: StarGANFeatureConverter | None) -> None:
    """Refuse an envelope change the F0 model cannot give."""
    if k < 0 or not strength >= 0:
        raise ConfigError(f"envelope_coefs and envelope_strength must be >= 0, got {k} and "
                          f"{strength}")
    if k and model is None:
        raise ConfigError("envelope_coefs needs an F0 model (inference f0_model)")
    if k and k > model.world.mcep_dim:
        raise ConfigError(f"envelope_coefs {k} exceeds the F0 model's {model.world.mcep_dim} "
                          "envelope coefficients")
