"""The conversion engine of :class:`~emovc.pipelines.conversion.EmotionConverter`: arguments
validated and the work planned (:meth:`WindowedConversion._plan`), long inputs converted in
overlapping windows normalised with the whole input's statistics, and the last stage (burst
limit, edge pauses, level) streamed in blocks (:mod:`emovc.audio.finishing`)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from emovc.audio.bandwidth import warn_if_band_limited
from emovc.audio.chunking import iter_tempo_windows
from emovc.audio.finishing import Spool, StreamFinisher
from emovc.audio.io import resample
from emovc.audio.noise import warn_if_noisy
from emovc.audio.processing import PEAK_LIMIT, as_mono, check_sample_rate, soft_limit
from emovc.audio.psola import time_stretch
from emovc.errors import ConfigError
from emovc.features.voice_quality import added_perturbation
from emovc.models.conversion.converters import check_intensity
from emovc.models.conversion.render import RENDERERS
from emovc.pipelines.conversion_checks import (
    BAND_LIMITED_INPUT,
    NOISY_INPUT,
    check_different,
    check_flag,
    check_input,
)
from emovc.pipelines.conversion_settings import ConversionSettings, check_spectrogan_settings
from emovc.pipelines.world_stats import WholeInput, whole_input_stats
from emovc.pipelines.world_window import WindowSettings, convert_window

SEAM_FADE_S = 0.03  # cross-fade joining two windows of a long input, at its quietest point


class WindowedConversion:
    """Mixin of :class:`~emovc.pipelines.conversion.EmotionConverter` that converts audio;
    the class using it sets ``backend``, ``settings``, ``window_s``, ``overlap_s`` and
    ``keep_unvoiced``, has a ``sample_rate`` and provides the
    :class:`~emovc.pipelines.conversion_source.SourceEmotions` methods."""

    def _convert_array(self, wav, sr, target, source, intensity, keep_level, pitch_level,
                       envelope_gain, renderer, voice_quality, name: str,
                       ) -> tuple[np.ndarray, str | None]:
        """:meth:`convert_with_source`, which :meth:`convert` is too: both call this directly,
        so the noisy-input warning names their caller's line."""
        x, rate = self._at_model_rate(wav, sr, name)
        blocks, finish, used = self._plan(x, rate, target, source, intensity, keep_level,
                                          pitch_level, envelope_gain, renderer, voice_quality,
                                          checked=x is not wav, name=name, stacklevel=3,
                                          recorded=sr)
        y = np.concatenate(list(self._finished(blocks, finish, rate, Spool())))
        if rate != sr:
            y = soft_limit(resample(y, rate, sr), ceiling=PEAK_LIMIT)  # resampling can ring
        return y, used

    def _at_model_rate(self, wav, sr, name: str = "audio") -> tuple[np.ndarray, int]:
        """``(wav, sr)`` as a WORLD-feature model converts it: audio at another rate than
        :attr:`sample_rate` is checked (:func:`check_input`, in the caller's terms) and
        resampled to mono float32 at that rate; audio at that rate, and any audio for a
        SpectroGAN (which resamples itself), is returned as it was."""
        if not hasattr(self.backend, "world"):
            return wav, sr
        rate = check_sample_rate(sr)
        if rate == self.sample_rate:
            return wav, rate
        x = as_mono(wav, name)
        check_input(x, rate, name)
        return resample(x, rate, self.sample_rate), self.sample_rate

    def _plan(self, wav, sr: int, target: str, source: str | None, intensity: float,
              keep_level: bool, pitch_level, envelope_gain, renderer, voice_quality,
              checked: bool = False, name: str = "audio", stacklevel: int = 1,
              recorded: int | None = None,
              ) -> tuple[Iterator[np.ndarray], tuple[np.ndarray, float] | None, str | None]:
        """Validate a conversion (arguments as :meth:`convert`) and set it up: returns the
        lazily converted, joined windows (float32 blocks, at the input's level),
        ``(x, change_db)`` for :class:`~emovc.audio.finishing.StreamFinisher` (``None``: the
        blocks are the output as they are) and the source emotion used (as
        :meth:`convert_with_source`). ``checked``: the audio already passed
        :func:`check_input`. A noisy input (an estimated SNR below
        :data:`~emovc.audio.noise.LOW_SNR_DB`) is converted with one
        :class:`~emovc.errors.EmovcWarning` line (:data:`NOISY_INPUT`) calling it ``name``,
        whether it is a file's or samples, and so is a band-limited one, e.g. telephone
        speech (:data:`BAND_LIMITED_INPUT`; ``recorded``: the rate the audio was recorded at
        when ``wav`` was resampled, e.g. a file's own, so that 11.025 or 12 kHz audio, whose
        band reaches past the measured test's 5 kHz, counts too); ``stacklevel``: the frame
        the warning names (1: the caller of this)."""
        a = check_intensity(intensity)
        keep_level = check_flag(keep_level, "keep_level")
        check_different(source, target)
        st = self.settings.with_overrides(pitch_level=pitch_level, envelope_gain=envelope_gain,
                                          renderer=renderer, voice_quality=voice_quality)
        p = st.pitch_level
        x = as_mono(wav, name)  # (n,), (n, 1), (1, n) or channels-last (n, c) mixed down
        if not checked:
            check_input(x, sr, name)
        warn_if_noisy(x, sr, name, NOISY_INPUT, stacklevel=stacklevel + 1)
        warn_if_band_limited(x, sr, name, BAND_LIMITED_INPUT, rate=recorded,
                             stacklevel=stacklevel + 1)
        if not hasattr(self.backend, "world"):  # SpectroGAN: resamples itself
            check_spectrogan_settings(st)
            if not self.uses_source:  # pairwise: the direction follows from the target
                return self._windowed(x, sr, lambda w: self.backend.convert(
                    w, sr, target, source=source, intensity=a, pitch_level=p),
                    fallback=lambda w: w), None, self._named_source(target, source)
            src, tgt = self.resolve_emotions(x, sr, target, source)
            pros = self.backend.prosody
            tempo = pros.tempo(src, tgt, a) if pros is not None else 1.0
            blocks = self._windowed(x, sr, lambda w: self.backend.convert(
                w, sr, tgt, source=src, intensity=a, pitch_level=p),
                fallback=lambda w: time_stretch(w, tempo, sr))
        else:
            if sr != self.sample_rate:  # convert() resamples; convert_file() loads at it
                raise ConfigError(f"audio at {sr} Hz but the model works at {self.sample_rate} "
                                  "Hz")
            if voice_quality and st.renderer == "world":  # asked for, and would be ignored
                raise ConfigError("voice quality applies to the source renderer (renderer "
                                  "'source'); WORLD's synthesis does not add it")
            if st.voice_quality and st.renderer == "source" and not st.voice_quality_stats:
                raise ConfigError(
                    "voice quality needs the emotions' jitter and shimmer statistics "
                    "(meta.json 'voice_quality_stats' beside the model), which this model has "
                    "not (a training run does not write them; m2m-ravdess has them); leave "
                    "voice_quality at 0 (command line: --voice-quality)")
            src, tgt = self.resolve_emotions(x, sr, target, source)
            tempo = self.backend.tempo_factor(src, tgt, a)  # windows without speech: kept
            whole = self._whole_input(x, sr)  # None for one window: its own statistics
            blocks = self._windowed(
                x, sr, lambda w: self._convert_window(w, src, tgt, a, st, whole),
                fallback=lambda w: time_stretch(w, tempo, sr))
        # the features are loudness-normalised, so the utterance level is set explicitly
        change = 0.0 if keep_level else a * self.backend.normalizer.level_change_db(src, tgt)
        return blocks, (x, change), src

    @staticmethod
    def _finished(blocks: Iterator[np.ndarray], finish: tuple[np.ndarray, float] | None,
                  sr: int, spool: Spool) -> Iterator[np.ndarray]:
        """The output of a :meth:`_plan`: no frame far louder than the input's loudest
        (converters can put a burst at a voicing onset), the input's edge pauses (the tempo
        change is the speech's, not the silences'), then the level change
        (:class:`~emovc.audio.finishing.StreamFinisher`)."""
        if finish is None:
            yield from blocks
            return
        x, change = finish
        finisher = StreamFinisher(x, sr, change, spool)
        for block in blocks:
            finisher.append(block)
        yield from finisher.blocks()

    @property
    def renderers(self) -> tuple[str, ...]:
        """Renderers this model can use (none for a SpectroGAN, which renders by Griffin-Lim)."""
        return RENDERERS if hasattr(self.backend, "world") else ()

    def _whole_input(self, x: np.ndarray, sr: int) -> WholeInput | None:
        """Statistics every window of ``x`` is normalised with when ``x`` spans more than one
        window (:func:`~emovc.pipelines.world_stats.whole_input_stats`: one speaker's long
        recording gets one consistent conversion); ``None`` for one window."""
        size = int(self.window_s * sr)
        return whole_input_stats(x, self.backend.world, size) if x.shape[0] > size else None

    def _convert_window(self, x: np.ndarray, src: str, tgt: str, a: float,
                        st: ConversionSettings, whole: WholeInput | None = None) -> np.ndarray:
        """One window of a WORLD-feature model at intensity ``a`` with settings ``st``, at the
        input's level, ``round(n * tempo)`` samples long; ``whole``: the long input's
        statistics (:meth:`_whole_input`)."""
        jitter, shimmer = added_perturbation(st.voice_quality_stats, src, tgt,
                                             a * st.voice_quality)
        return convert_window(self.backend, x, src, tgt, WindowSettings(
            intensity=a, pitch_level=st.pitch_level, envelope_gain=st.envelope_gain,
            smoothing_ms=st.envelope_smoothing_ms, renderer=st.renderer,
            keep_unvoiced=self.keep_unvoiced, jitter=jitter, shimmer_db=shimmer), whole)

    def _windowed(self, x: np.ndarray, sr: int, convert, fallback=None) -> Iterator[np.ndarray]:
        """``convert`` on ``x`` in ``window_s`` windows overlapping by ``overlap_s``, with
        ``fallback`` for windows it cannot analyse; the joined output in blocks, lazily
        (:func:`emovc.audio.chunking.iter_tempo_windows`)."""
        return iter_tempo_windows(x, convert, int(self.window_s * sr), int(self.overlap_s * sr),
                                  fallback, fade=int(SEAM_FADE_S * sr))
