"""Emotion conversion of audio: ``EmotionConverter.from_pretrained(...).convert(...)``.

Loads any emotion-converter checkpoint: the WORLD-feature models (``.../stargan`` many-to-many,
``.../cyclegan`` pairwise CycleGAN-EmoVC) run here; ``.../spectrogan`` checkpoints are handed to
:class:`emovc.pipelines.spectrogan.SpectroGANConverter`.

Pipeline of the WORLD models (16 kHz, 5 ms frames; :meth:`EmotionConverter.convert` resamples
arrays at other rates to 16 kHz and its output back)::

    wav -> loudness-normalised WORLD analysis -> per-utterance normalisation (emotion-corrected)
        -> generator (intensity-scaled change) -> denormalise
        -> renderer "world": difference-filter WORLD synthesis; "source": envelope-change
           filter on the input's STFT + TD-PSOLA for F0 and tempo
        -> unvoiced stretches (which the models leave unchanged) from the input's own samples
        -> global tempo (of the speech: leading/trailing pauses keep their length)
        -> input level + the target emotion's level change (vocal effort)

Long inputs are converted in overlapping windows (``window_s``) and cross-faded, and the last
stage (burst limit, edge pauses, level) runs on blocks (:mod:`emovc.audio.finishing`);
:meth:`EmotionConverter.convert_file` streams the result to the file, so memory stays flat in
the input length (the input itself is the only thing held whole).

The class is the public face; its source-emotion side is
:class:`~emovc.pipelines.conversion_source.SourceEmotions`, its conversion engine (planning,
windows, streamed last stage) :class:`~emovc.pipelines.conversion_engine.WindowedConversion`,
its argument checks :mod:`emovc.pipelines.conversion_checks`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from emovc.audio import load_audio
from emovc.audio.clipping import warn_if_clipped
from emovc.audio.finishing import Spool
from emovc.audio.io import audio_info, audio_writer
from emovc.data.emotions import check_model_emotion
from emovc.errors import ConfigError, output_exists
from emovc.fileio import refuse_input_overwrite
from emovc.models.checkpoint import load_checkpoint
from emovc.pipelines.conversion_checks import (  # noqa: F401 - public: check_input, constants
    BAND_LIMITED_INPUT,
    DIGEST_CHARS,
    KIND_PREFIX,
    NOISY_INPUT,
    check_flag,
    check_input,
    file_path,
    intensity_text,
    keeping_torch_rng,
    load_backend,
    model_identity,
    unfinished_note,
)
from emovc.pipelines.conversion_engine import SEAM_FADE_S, WindowedConversion  # noqa: F401
from emovc.pipelines.conversion_settings import ConversionSettings, Setting
from emovc.pipelines.conversion_source import SourceEmotions
from emovc.pretrained.registry import inference_defaults, resolve

DEFAULT_MODEL = "m2m-ravdess"
# Bumped whenever the pipeline changes the audio a given checkpoint produces at the same
# settings (a model's default settings are its meta.json's, not the pipeline's); stores of
# converted audio (``emovc augment``'s folders, benchmark caches) record it with the
# checkpoint's hash. 2: the WORLD models' unvoiced stretches keep the input's samples.
# 3: the pairwise CycleGAN's guard against runs of extreme generator output; long inputs in
# equal windows joined at their quietest point; bursts limited to 6 dB above the input's
# loudest frame; the soft limiter only when a peak passes its ceiling. 4: an unnamed source
# emotion is chosen by source_choice (expected level error, prior on neutral/calm), not as the
# recogniser's top label (output with a given source unchanged). Kept at 4 by the streamed
# last stage (same samples) and the source of inputs over 20 s recognised on 20 s windows
# (no input up to 20 s changes; the stores hold short clips), and by the windows of a long
# input normalised with the whole input's statistics (pipelines/world_stats.py; idem).
PIPELINE_VERSION = 4


class EmotionConverter(SourceEmotions, WindowedConversion):
    """Convert the emotion of speech while keeping speaker and words.

    Make one with :meth:`from_pretrained` (a bundled model name or a checkpoint path, with
    the model's inference settings); it is reusable and thread-safe, and every call is
    deterministic. Audio is mono float ``(n,)`` in [-1, 1] at any sample rate.

    >>> from emovc import EmotionConverter, load_audio
    >>> conv = EmotionConverter.from_pretrained()       # m2m-ravdess   # doctest: +SKIP
    >>> wav = load_audio("in.wav", sr=16000)                            # doctest: +SKIP
    >>> out = conv.convert(wav, 16000, "angry", source="calm")          # doctest: +SKIP
    >>> out, used = conv.convert_with_source(wav, 16000, "happy")       # doctest: +SKIP
    >>> used                                     # detected by the recogniser  # doctest: +SKIP
    'calm'
    >>> conv.convert_file("in.wav", "out.wav", "sad")                   # doctest: +SKIP
    (PosixPath('out.wav'), 'calm')
    >>> conv.target_emotions                                            # doctest: +SKIP
    ['neutral', 'calm', 'happy', 'sad', 'angry', 'fearful', 'disgust', 'surprised']

    The inference settings live in :attr:`settings`, one frozen
    :class:`~emovc.pipelines.conversion_settings.ConversionSettings`; the attributes of the
    same names read it, and assigning one replaces it by a validated copy.
    """

    pitch_level = Setting()
    envelope_smoothing_ms = Setting()
    envelope_gain = Setting()
    renderer = Setting()
    voice_quality = Setting()
    voice_quality_stats = Setting()

    def __init__(self, backend, name: str = "", window_s: float = 20.0, overlap_s: float = 1.0,
                 keep_unvoiced: bool = True, pitch_level: float = 1.0,
                 envelope_smoothing_ms: float = 0.0, envelope_gain: float = 1.0,
                 renderer: str = "world", voice_quality: float = 0.0,
                 voice_quality_stats: dict | None = None):
        """Wrap an already loaded ``backend``; use :meth:`from_pretrained` instead, which
        loads a model by name or path and gives it its ``meta.json`` settings (this
        constructor uses the plain defaults below).

        Args:
            backend: a loaded frame-level converter (or a SpectroGAN converter).
            name: model name/path for provenance tags.
            window_s: window length in seconds for long inputs (overlap ``overlap_s``).
            keep_unvoiced: WORLD models: use the input's own samples for its unvoiced stretches
                instead of their WORLD rendering (the models change voiced frames only;
                :func:`emovc.audio.processing.keep_unvoiced_source`). ``False`` renders all.
            pitch_level: default of :meth:`convert`'s ``pitch_level`` (``from_pretrained`` takes
                it from the model's ``meta.json``: 0.125 for ``m2m-ravdess``, else 1).
            envelope_smoothing_ms: WORLD models: moving-average window (ms) over which the
                envelope *change* is smoothed in time (:func:`~emovc.models.conversion.converters.
                smooth_envelope_change`); 0 = off. ``from_pretrained`` takes it from
                ``meta.json`` (100 for ``m2m-ravdess``, else 0).
            envelope_gain: WORLD models: factor (0..3) on the (smoothed) envelope change
                (:func:`~emovc.models.conversion.converters.scale_envelope_change`): above 1 the
                emotion's spectral cues are exaggerated — more emotion, less of the speaker's
                voice. ``from_pretrained`` takes it from ``meta.json`` (1.15 for
                ``m2m-ravdess``, else 1).
            renderer: WORLD models: ``"world"`` (WORLD synthesis of the converted features) or
                ``"source"`` (the change applied to the input's own samples: STFT envelope filter
                and TD-PSOLA; keeps more of the voice, docs/conversion.md). ``from_pretrained``
                takes it from ``meta.json`` (default ``"world"``).
            voice_quality: source renderer: factor (0..3) on the per-cycle jitter and shimmer
                added to move the source emotion's voice quality to the target's (0 = off;
                :mod:`emovc.features.voice_quality`), needs ``voice_quality_stats``.
                ``from_pretrained`` takes both from ``meta.json`` (``m2m-ravdess``: 1, with its
                training speakers' statistics; else 0).
            voice_quality_stats: ``{emotion: {"jitter": j, "shimmer_db": s}}`` (eGeMAPS means).
        """
        self.backend = backend
        self.name = name
        # what the provenance tag names: from_pretrained sets the canonical name (a bundled
        # model's, or a file's resolved path) and a short SHA-256 of the checkpoint
        self.model_id, self.digest = name, ""
        self.window_s, self.overlap_s = window_s, overlap_s
        self.keep_unvoiced = keep_unvoiced
        self.settings = ConversionSettings(
            pitch_level=pitch_level, envelope_smoothing_ms=envelope_smoothing_ms,
            envelope_gain=envelope_gain, renderer=renderer, voice_quality=voice_quality,
            voice_quality_stats=voice_quality_stats)
        self._recognizer = None
        self.unfinished = ""  # from_pretrained: a note if the model's training run stopped early

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike = DEFAULT_MODEL) -> EmotionConverter:
        """Load a bundled model (``"m2m-ravdess"``, ``"cyclegan-calm-angry"``, ...) or a path,
        with the model's default inference settings (``meta.json`` beside the checkpoint).

        A copy of a bundled model's ``model.pt`` without its ``meta.json`` (the same bytes:
        SHA-256 of the registry's record) gets the bundled model's settings, so it sounds the
        same wherever it is copied (:func:`~emovc.pretrained.registry.inference_defaults`);
        another checkpoint without one gets the plain defaults of :meth:`__init__`.

        Torch's global random stream is left as it was (building the modules draws their
        initial weights from a forked copy), so a caller's seeded draws do not shift.

        Raises:
            ConfigError: ``name_or_path`` is neither a string nor a path (``None``, a number)
                or names no bundled model (both list the bundled ones); a missing, unreadable
                or non-converter checkpoint; a malformed ``meta.json``."""
        path = resolve(name_or_path, KIND_PREFIX)
        ckpt = load_checkpoint(path)
        if not str(ckpt.get("kind", "")).startswith(KIND_PREFIX):
            raise ConfigError(f"{path} is a {ckpt.get('kind')!r} model, not an emotion converter")
        with keeping_torch_rng():  # module construction draws random initial weights
            conv = cls(load_backend(ckpt), name=str(name_or_path))
        conv.model_id, conv.digest = model_identity(path)
        defaults = inference_defaults(path)
        try:
            conv.settings = ConversionSettings.from_meta(defaults)
        except ConfigError as exc:  # a hand-edited meta.json: not an option the user gave
            meta = Path(path).with_name("meta.json")
            raise ConfigError(f"{meta}: its inference settings: {exc}") from None
        conv.unfinished = unfinished_note(ckpt, path)
        return conv

    @property
    def sample_rate(self) -> int:
        """Rate of the model's features in Hz. :meth:`convert` takes any rate (other rates
        are resampled to this one and the output back); :meth:`convert_file` resamples on
        load and writes at this rate."""
        world = getattr(self.backend, "world", None)
        return world.sample_rate if world is not None else 16000

    def convert(self, wav: np.ndarray, sr: int, target: str, source: str | None = None,
                intensity: float = 1.0, keep_level: bool = False,
                pitch_level: float | None = None,
                envelope_gain: float | None = None,
                renderer: str | None = None,
                voice_quality: float | None = None, *, name: str = "audio") -> np.ndarray:
        """Convert ``(n,)`` float audio at ``sr`` Hz to ``target``; returns float32 audio at
        ``sr`` (whatever the input's dtype). To learn which source emotion was used (detected
        when ``source`` is ``None``), call :meth:`convert_with_source` instead.

        The target emotion's tempo factor changes the duration of the speech; the leading and
        trailing pauses keep the input's lengths (real takes of a faster emotion are not
        recorded with shorter silences around them).

        Noisy audio (an estimated SNR below :data:`~emovc.audio.noise.LOW_SNR_DB`, 20 dB) or
        band-limited audio (telephone speech, at 8 kHz or resampled from it:
        :func:`~emovc.audio.bandwidth.band_limit_hz`) is converted with one
        :class:`~emovc.errors.EmovcWarning` line, as :meth:`convert_file` converts such a
        file.

        Args:
            wav: waveform in [-1, 1], mono ``(n,)`` (``(n, 1)``, ``(1, n)`` and channels-last
                ``(n, channels)`` are mixed down).
            sr: its sample rate in Hz, any rate: audio at another rate than the model's
                (:attr:`sample_rate`, 16 kHz for the bundled models) is resampled to it for
                the conversion (soxr, :func:`emovc.audio.io.resample`) and the output is
                resampled back, so the output is at ``sr`` either way. Content above the
                model rate's Nyquist frequency (8 kHz) is not kept.
            target: target emotion name.
            source: source emotion; ``None`` = detect with the emotion recogniser.
            intensity: 0 = unchanged, 1 = full conversion, linear in between.
            keep_level: give the output the input's active speech level; by default it gets
                the input's level plus the model's average level difference between the two
                emotions (e.g. calm -> angry ≈ +19 dB on RAVDESS, times ``intensity``), up to
                an active level of -16 dBFS. Either way peaks are soft-limited below -0.2 dBFS.
            pitch_level: share (0..1) of the conversion's change of the mean F0 that is
                kept; the converted contour's shape and spread are kept whatever it is.
                ``None`` = the model's default (:attr:`pitch_level`). Below 1 the output stays
                nearer the speaker's own pitch and voice (speaker encoders hear the F0 level:
                on unseen RAVDESS actors ``m2m-ravdess`` scores speaker similarity 0.81 at 0.5,
                0.75 at 1, with about the same emotion rates; its default, 0.125, pays for its
                envelope gain of 1.15; docs/conversion.md), at the cost
                of part of the emotion's pitch change. WORLD models, and SpectroGANs with a
                prosody stage.
            envelope_gain: factor (0..3) on the converter's envelope change; ``None`` = the
                model's default (:attr:`envelope_gain`). WORLD models only.
            renderer: ``"world"`` or ``"source"`` (see the class docstring); ``None`` = the
                model's default (:attr:`renderer`). WORLD models only.
            voice_quality: factor (0..3) on the added jitter and shimmer (source renderer; see
                the class docstring); ``None`` = the model's default (:attr:`voice_quality`).
            name: what the noisy-input warning and the audio errors call ``wav`` (e.g. its
                file name).

        Raises:
            AudioError: too short, silent or non-finite audio, audio without voiced sound
                (noise, a whisper: :func:`check_input`), integer samples, or a shape other
                than mono / channels-last.
            EmovcError: unknown emotion (lists the valid ones), bad intensity, pitch level,
                envelope gain or voice quality (numbers only: ``True`` or ``"1"`` is refused),
                ``keep_level`` other than ``True``/``False``.
            ConfigError: ``pitch_level`` below 1 for a model that does not convert F0;
                ``envelope_gain`` other than 1, ``renderer`` other than ``"world"`` or
                ``voice_quality`` other than 0 for a SpectroGAN; an unknown renderer.
        """
        return self._convert_array(wav, sr, target, source, intensity, keep_level,
                                   pitch_level, envelope_gain, renderer, voice_quality, name)[0]

    def convert_with_source(self, wav: np.ndarray, sr: int, target: str,
                            source: str | None = None, intensity: float = 1.0,
                            keep_level: bool = False, pitch_level: float | None = None,
                            envelope_gain: float | None = None, renderer: str | None = None,
                            voice_quality: float | None = None, *, name: str = "audio",
                            ) -> tuple[np.ndarray, str | None]:
        """:meth:`convert` that also says which source emotion it converted from (arguments
        and errors as :meth:`convert`; the same output samples).

        Returns:
            ``(wav, source)``: float32 ``(m,)`` audio at ``sr``, and the source emotion's
            canonical name — ``source`` normalised if given, else the one detected
            (:meth:`detect_source`) or a pairwise model's other emotion; ``None`` for a
            model whose conversion does not depend on the source (a many-to-many SpectroGAN
            without a prosody stage) when none was given.

        >>> conv = EmotionConverter.from_pretrained()                     # doctest: +SKIP
        >>> out, used = conv.convert_with_source(wav, 16000, "angry")     # doctest: +SKIP
        >>> used                                                          # doctest: +SKIP
        'calm'
        """
        return self._convert_array(wav, sr, target, source, intensity, keep_level,
                                   pitch_level, envelope_gain, renderer, voice_quality, name)

    def provenance_tag(self, source: str, target: str, intensity: float = 1.0,
                       keep_level: bool = False, pitch_level: float | None = None,
                       envelope_gain: float | None = None, renderer: str | None = None,
                       voice_quality: float | None = None) -> str:
        """The comment :meth:`convert_file` writes into its output, e.g. ``"emovc 0.3.0:
        emotion calm->sad (m2m-ravdess sha256:0123456789ab, intensity 1.0, pitch level 0.125,
        ...)"``: the model by :func:`model_identity` (a converter built without
        :meth:`from_pretrained`: its ``name`` alone).

        Args:
            source: the source emotion used (``""``: none, written ``?``).
            target: the canonical target emotion.
            intensity, keep_level, pitch_level, envelope_gain, renderer, voice_quality:
                as :meth:`convert` (``None``: the model's default, which the tag names).
        """
        from emovc import __version__

        st = self.settings.with_overrides(pitch_level=pitch_level, envelope_gain=envelope_gain,
                                          renderer=renderer, voice_quality=voice_quality)
        pitch = f", pitch level {st.pitch_level:g}" if st.pitch_level != 1.0 else ""
        world = st.tag() if hasattr(self.backend, "world") else ""
        level = ", input level kept" if keep_level else ""
        digest = f" sha256:{self.digest}" if self.digest else ""
        return (f"emovc {__version__}: emotion {source or '?'}->{target} "
                f"({self.model_id}{digest}, intensity {intensity_text(intensity)}{pitch}"
                f"{world}{level})")

    def convert_file(self, in_path: str | os.PathLike, out_path: str | os.PathLike, target: str,
                     source: str | None = None, intensity: float = 1.0,
                     force: bool = False, keep_level: bool = False,
                     pitch_level: float | None = None,
                     envelope_gain: float | None = None,
                     renderer: str | None = None,
                     voice_quality: float | None = None) -> tuple[Path, str]:
        """Convert one file (settings as :meth:`convert`); returns ``(written path, source
        emotion used)``. The output is streamed to the file (the same samples as
        :meth:`convert`, written atomically), so memory does not grow with the output.
        A clipped input (:mod:`emovc.audio.clipping`), a noisy one (an estimated SNR below
        :data:`~emovc.audio.noise.LOW_SNR_DB`) or a band-limited one (telephone speech:
        :func:`~emovc.audio.bandwidth.band_limit_hz`) is converted with one
        :class:`~emovc.errors.EmovcWarning` line naming the file.

        Raises:
            OutputExistsError: the output exists and ``force`` is false.
            ConfigError: ``in_path`` or ``out_path`` is not a path (``None``, a number); the
                output path is the input's (even with ``force``).
            EmovcError: any error of :meth:`convert`.
        """
        inp, out = file_path(in_path, "in_path"), file_path(out_path, "out_path")
        force = check_flag(force, "force")
        refuse_input_overwrite(out, [inp])
        if out.exists() and not force:
            raise output_exists(out)
        wav = load_audio(inp, sr=self.sample_rate)
        check_input(wav, self.sample_rate, name=str(inp))  # errors name the file, not "audio"
        warn_if_clipped(inp)
        if self.uses_source or self.fixed_source(target) is not None or source is not None:
            src, tgt = self.resolve_emotions(wav, self.sample_rate, target, source)
        else:  # a many-to-many SpectroGAN without a prosody stage: no source needed
            src, tgt = "", check_model_emotion(target, self.target_emotions, "target")
        # the caller's own values: _plan resolves the defaults the same way, and must tell
        # an asked-for voice quality from the model's default one
        blocks, finish, _ = self._plan(wav, self.sample_rate, tgt, src or None, intensity,
                                       keep_level, pitch_level, envelope_gain, renderer,
                                       voice_quality, checked=True, name=str(inp),
                                       stacklevel=2, recorded=audio_info(inp).sample_rate)
        tag = self.provenance_tag(src, tgt, intensity, keep_level, pitch_level, envelope_gain,
                                  renderer, voice_quality)
        # streamed to the file: a long input's conversion waits in a temporary file beside
        # the output (unnamed, gone with the process), not in memory
        long = wav.shape[0] > self.window_s * self.sample_rate
        with audio_writer(out, self.sample_rate, force=force, comment=tag) as write:
            spool = Spool(out.parent if long else None)
            try:
                for block in self._finished(blocks, finish, self.sample_rate, spool):
                    write(block)
            finally:
                spool.close()
        return out, src

