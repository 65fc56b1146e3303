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
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np

from emovc.audio import check_speech, check_voiced_speech, load_audio
from emovc.audio.chunking import iter_tempo_windows
from emovc.audio.clipping import warn_if_clipped
from emovc.audio.finishing import Spool, StreamFinisher
from emovc.audio.io import audio_writer, resample
from emovc.audio.noise import warn_if_noisy
from emovc.audio.processing import PEAK_LIMIT, as_mono, check_sample_rate, soft_limit
from emovc.audio.psola import time_stretch
from emovc.data.emotions import and_list, check_model_emotion, normalize_emotion
from emovc.errors import ConfigError, EmovcError, output_exists
from emovc.features.voice_quality import added_perturbation
from emovc.fileio import refuse_input_overwrite
from emovc.models.checkpoint import load_checkpoint
from emovc.models.conversion.converters import check_intensity
from emovc.models.conversion.render import RENDERERS
from emovc.pipelines.conversion_settings import (
    ConversionSettings,
    Setting,
    check_spectrogan_settings,
)
from emovc.pipelines.source_choice import choose_source, recognise_long
from emovc.pipelines.world_stats import WholeInput, whole_input_stats
from emovc.pipelines.world_window import WindowSettings, convert_window
from emovc.pretrained.registry import available, inference_defaults, resolve, sha256_of

DEFAULT_MODEL = "m2m-ravdess"
KIND_PREFIX = "emotion-converter/"
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
SEAM_FADE_S = 0.03  # cross-fade joining two windows of a long input, at its quietest point


def _unfinished(ckpt: dict, path) -> str:
    """A note when ``ckpt`` was exported by a training run before its last step (``model.pt``
    is written at every validation, so an interrupted run leaves one); else ``""``."""
    extra = ckpt.get("extra") or {}
    training = extra.get("training") or {}
    steps, total = training.get("steps"), training.get("max_steps")
    if steps is None:  # SpectroGAN exports: iterations done, and the run's settings
        steps, total = extra.get("iterations"), (extra.get("train") or {}).get("max_steps")
    if isinstance(steps, int) and isinstance(total, int) and steps < total:
        return (f"{path} comes from an unfinished training run (step {steps} of {total}); "
                "re-run its training command to finish it")
    return ""


def _check_different(source: str | None, target: str) -> None:
    """Refuse ``source == target`` (aliases included): the generator would only re-render
    the input, which is not what a caller asking for that emotion expects."""
    if source is None:
        return
    try:
        same = normalize_emotion(source) == normalize_emotion(target)
    except ValueError:
        return  # unknown names: the emotion checks name the valid ones
    if same:
        raise ConfigError(f"source and target are both {normalize_emotion(target)}: nothing "
                          "to convert; give another target emotion")


#: the end of :class:`EmotionConverter`'s warning about a noisy input, a file or samples
#: (:func:`~emovc.audio.noise.warn_if_noisy`; measured in docs/conversion.md, "Noisy input")
NOISY_INPUT = ("the conversion keeps the noise, its target emotion is heard far less often "
               "and its voice matches the speaker less well: use a quieter recording, or "
               "denoise it first")


def check_input(wav: np.ndarray, sr: int, name: str = "audio") -> None:
    """Refuse audio a conversion cannot use: mono float ``(n,)`` at ``sr`` Hz that is too
    short, silent or non-finite (:func:`~emovc.audio.check_speech`) or holds no voiced sound
    (:func:`~emovc.audio.check_voiced_speech`: noise has no pitch to change; it would be made
    louder, or fail deep in the analysis)."""
    check_speech(wav, sr, name=name)
    check_voiced_speech(wav, sr, name=name)


def keeping_torch_rng():
    """Context manager under which torch's global CPU random stream is saved and restored:
    building a model's modules draws initial weights from it, which a caller who seeded
    torch does not expect a load to do."""
    import torch

    return torch.random.fork_rng(devices=[])


#: hex digits of the checkpoint's SHA-256 a provenance tag records
DIGEST_CHARS = 12


def model_identity(checkpoint: Path) -> tuple[str, str]:
    """``(canonical name, short SHA-256)`` of a converter checkpoint, as provenance tags
    name it: a bundled model by its name (whatever alias loaded it, e.g. ``"default"``), with
    the digest its ``meta.json`` records (not hashed again); any other file by its resolved
    path, hashed. The digest is the first :data:`DIGEST_CHARS` hex digits."""
    real = Path(os.path.realpath(checkpoint))
    for m in available(KIND_PREFIX):
        if m.sha256 and Path(os.path.realpath(m.path)) == real:
            return m.name, m.sha256[:DIGEST_CHARS]
    return str(real), sha256_of(real)[:DIGEST_CHARS]


def _intensity_text(intensity) -> str:
    """``intensity`` as a provenance tag writes it: an integer as a float (``1`` -> ``"1.0"``,
    as the CLI's ``1.0``), so the same setting gives the same tag whatever its Python type."""
    if isinstance(intensity, (int, np.integer)) and not isinstance(intensity, bool):
        return str(float(intensity))
    return str(intensity)


def check_flag(value, name: str) -> bool:
    """``value`` as a bool; anything but ``True``/``False`` (numpy's included) is a one-line
    :class:`ConfigError` naming the argument ``name`` (``"yes"`` would read as true)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ConfigError(f"{name} must be True or False, got {value!r} "
                          f"({type(value).__name__})")
    return bool(value)


def _file_path(value, name: str) -> Path:
    """``value`` (a ``str`` or ``os.PathLike``) as a :class:`~pathlib.Path`; anything else
    (``None``, a number) is a one-line :class:`ConfigError` naming the argument ``name``."""
    if not isinstance(value, (str, os.PathLike)):
        raise ConfigError(f"{name} must be a file path (str or os.PathLike), got {value!r} "
                          f"({type(value).__name__})")
    return Path(value)


def _backend(ckpt: dict):
    kind = ckpt.get("kind", "")
    if kind == "emotion-converter/stargan":
        from emovc.models.conversion.converters import StarGANFeatureConverter
        return StarGANFeatureConverter(ckpt)
    if kind == "emotion-converter/cyclegan":
        from emovc.models.conversion.cyclegan import CycleGANFeatureConverter
        return CycleGANFeatureConverter(ckpt)
    if kind == "emotion-converter/spectrogan":
        from emovc.pipelines.spectrogan import SpectroGANConverter
        return SpectroGANConverter.from_checkpoint(ckpt)
    raise ConfigError(f"not an emotion-converter checkpoint (kind {kind!r})")


class EmotionConverter:
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
            conv = cls(_backend(ckpt), name=str(name_or_path))
        conv.model_id, conv.digest = model_identity(path)
        defaults = inference_defaults(path)
        try:
            conv.settings = ConversionSettings.from_meta(defaults)
        except ConfigError as exc:  # a hand-edited meta.json: not an option the user gave
            meta = Path(path).with_name("meta.json")
            raise ConfigError(f"{meta}: its inference settings: {exc}") from None
        conv.unfinished = _unfinished(ckpt, path)
        return conv

    @property
    def sample_rate(self) -> int:
        """Rate of the model's features in Hz. :meth:`convert` takes any rate (other rates
        are resampled to this one and the output back); :meth:`convert_file` resamples on
        load and writes at this rate."""
        world = getattr(self.backend, "world", None)
        return world.sample_rate if world is not None else 16000

    @property
    def uses_source(self) -> bool:
        """Whether conversion depends on the source emotion (WORLD models and many-to-many
        SpectroGANs with a prosody stage); if so an unknown source is detected."""
        return hasattr(self.backend, "world") or self.backend.normalizer is not None

    @property
    def source_emotions(self) -> list[str]:
        """Emotions the source may be spoken in."""
        return list(self.backend.source_emotions)

    @property
    def target_emotions(self) -> list[str]:
        """Emotions the model converts to."""
        return list(self.backend.target_emotions)

    def detect_source(self, wav: np.ndarray, sr: int, exclude: str | None = None,
                      recognizer=None) -> str:
        """Source emotion of ``wav`` by the recogniser, among :attr:`source_emotions` other
        than ``exclude`` (the target: converting to the emotion the recogniser already hears
        would change little; the toolbox uses the same rule).

        Not simply the recogniser's top label, which is unreliable on ordinary read speech:
        the emotion that minimises the expected level error under its probabilities, with a
        prior on neutral and calm (:func:`emovc.pipelines.source_choice.choose_source`).
        Beyond 20 s the recogniser's probabilities are averaged over 20 s windows
        (:func:`~emovc.pipelines.source_choice.recognise_long`).

        Args:
            wav: mono ``(n,)`` float waveform in [-1, 1].
            sr: its sample rate in Hz (the recogniser resamples it).
            exclude: an emotion name (aliases such as ``"anger"`` accepted) not to return.
            recognizer: the recogniser to ask (``predict(wav, sr) -> {emotion: p}``, e.g. one
                the caller already loaded); ``None``: the bundled default, loaded on first
                use and kept.

        Returns:
            the chosen emotion's canonical name, one of :attr:`source_emotions`.

        Raises:
            ConfigError: ``exclude`` is not an emotion name (lists the valid ones).
            EmovcError: no recogniser is available, or no emotion is left to choose."""
        allowed = self._candidates(exclude)
        if recognizer is None and self._recognizer is None:
            try:
                from emovc.pipelines.recognition import EmotionRecognizer
                with keeping_torch_rng():
                    self._recognizer = EmotionRecognizer.from_pretrained("default")
            except (ImportError, EmovcError) as exc:  # recogniser missing: ask the user
                raise EmovcError("source emotion unknown and no emotion recogniser available "
                                 f"({exc}); {self._pass_source()}") from None
        probs = recognise_long(self._recognizer if recognizer is None else recognizer, wav, sr)
        return self._choose(probs, allowed)

    def source_from_probs(self, probs: Mapping[str, float], exclude: str | None = None) -> str:
        """:meth:`detect_source`'s choice for a recording the recogniser already scored
        ``probs`` (``{emotion: p}``, e.g. from
        :func:`~emovc.pipelines.source_choice.recognise_long`), among
        :attr:`source_emotions` other than ``exclude``.

        Raises:
            ConfigError: ``exclude`` is not an emotion name.
            EmovcError: ``probs`` covers none of the source emotions, or no emotion is left
                to choose."""
        return self._choose(probs, self._candidates(exclude))

    def _candidates(self, exclude: str | None) -> list[str]:
        """The source emotions other than ``exclude`` (an emotion name, aliases accepted).

        Raises:
            ConfigError: ``exclude`` is not an emotion name (lists the valid ones).
            EmovcError: no emotion is left."""
        if exclude is not None:  # an unknown name lists the valid ones; aliases normalised
            exclude = normalize_emotion(exclude)
        allowed = [e for e in self.source_emotions if e != exclude]
        if not allowed:  # e.g. a hand-made one-emotion model asked for that emotion
            raise EmovcError(f"this model converts from {and_list(self.source_emotions)} only, "
                             f"and {exclude} is the target: there is no other emotion to "
                             "convert from")
        return allowed

    def _choose(self, probs: Mapping[str, float], allowed: list[str]) -> str:
        """The source among ``allowed`` for the recogniser's ``probs`` (the level-error rule
        of :func:`~emovc.pipelines.source_choice.choose_source`)."""
        if not any(e in probs for e in self.source_emotions):
            raise EmovcError("the recogniser's labels do not cover this model's source emotions; "
                             f"{self._pass_source()}")
        return choose_source(probs, allowed, self.source_level_db, emotions=self.source_emotions)

    def _pass_source(self) -> str:
        """The hint of an error that asks for the source emotion, in the Python argument's
        words with the command line's option in parentheses."""
        return (f"pass source= one of {', '.join(self.source_emotions)} "
                "(command line: --from)")

    def source_level_db(self, emotion: str) -> float:
        """Average speech level of ``emotion`` relative to the model's first source emotion,
        in dB (0 for every emotion when the model has no level offsets)."""
        normalizer = getattr(self.backend, "normalizer", None)
        if normalizer is None:
            return 0.0
        return normalizer.level_change_db(self.source_emotions[0], emotion)

    def fixed_source(self, target: str) -> str | None:
        """The only possible source for ``target`` of a pairwise model (the other emotion of
        its pair), else ``None``."""
        fixed = getattr(self.backend, "fixed_source", None)
        if fixed is not None:
            return fixed(target)
        pair = self.source_emotions
        if len(pair) == 2 and sorted(pair) == sorted(self.target_emotions) and target in pair:
            return pair[1] if target == pair[0] else pair[0]
        return None

    @property
    def detects_source(self) -> bool:
        """Whether a conversion without ``source`` runs the emotion recogniser for some
        target (models whose conversion depends on the source, unless their pair fixes it
        for every target)."""
        return self.uses_source and any(self.fixed_source(t) is None
                                        for t in self.target_emotions)

    def resolve_emotions(self, wav: np.ndarray, sr: int, target: str, source: str | None,
                         ) -> tuple[str, str]:
        """Validated ``(source, target)``; ``source=None`` is the pair's other emotion for a
        pairwise model, else detected (:meth:`detect_source`)."""
        tgt = check_model_emotion(target, self.target_emotions, "target")
        if source is not None:
            return check_model_emotion(source, self.source_emotions, "source"), tgt
        fixed = self.fixed_source(tgt)
        if fixed is not None:
            return fixed, tgt
        return self.detect_source(wav, sr, exclude=tgt), tgt

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

        Noisy audio (an estimated SNR below :data:`~emovc.audio.noise.LOW_SNR_DB`, 20 dB) is
        converted with one :class:`~emovc.errors.EmovcWarning` line, as :meth:`convert_file`
        converts a noisy file.

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

    def _convert_array(self, wav, sr, target, source, intensity, keep_level, pitch_level,
                       envelope_gain, renderer, voice_quality, name: str,
                       ) -> tuple[np.ndarray, str | None]:
        """:meth:`convert_with_source`, which :meth:`convert` is too: both call this directly,
        so the noisy-input warning names their caller's line."""
        x, rate = self._at_model_rate(wav, sr, name)
        blocks, finish, used = self._plan(x, rate, target, source, intensity, keep_level,
                                          pitch_level, envelope_gain, renderer, voice_quality,
                                          checked=x is not wav, name=name, stacklevel=3)
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
              ) -> tuple[Iterator[np.ndarray], tuple[np.ndarray, float] | None, str | None]:
        """Validate a conversion (arguments as :meth:`convert`) and set it up: returns the
        lazily converted, joined windows (float32 blocks, at the input's level),
        ``(x, change_db)`` for :class:`~emovc.audio.finishing.StreamFinisher` (``None``: the
        blocks are the output as they are) and the source emotion used (as
        :meth:`convert_with_source`). ``checked``: the audio already passed
        :func:`check_input`. A noisy input (an estimated SNR below
        :data:`~emovc.audio.noise.LOW_SNR_DB`) is converted with one
        :class:`~emovc.errors.EmovcWarning` line (:data:`NOISY_INPUT`) calling it ``name``,
        whether it is a file's or samples; ``stacklevel``: the frame the warning names (1:
        the caller of this)."""
        a = check_intensity(intensity)
        keep_level = check_flag(keep_level, "keep_level")
        _check_different(source, target)
        st = self.settings.with_overrides(pitch_level=pitch_level, envelope_gain=envelope_gain,
                                          renderer=renderer, voice_quality=voice_quality)
        p = st.pitch_level
        x = as_mono(wav, name)  # (n,), (n, 1), (1, n) or channels-last (n, c) mixed down
        if not checked:
            check_input(x, sr, name)
        warn_if_noisy(x, sr, name, NOISY_INPUT, stacklevel=stacklevel + 1)
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

    def _named_source(self, target: str, source: str | None) -> str | None:
        """The source of a conversion that does not depend on one: ``source`` normalised,
        else a pairwise model's other emotion, else ``None``."""
        if source is not None:
            return check_model_emotion(source, self.source_emotions, "source")
        return self.fixed_source(check_model_emotion(target, self.target_emotions, "target"))

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
                f"({self.model_id}{digest}, intensity {_intensity_text(intensity)}{pitch}"
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
        A clipped input (:mod:`emovc.audio.clipping`) or a noisy one (an estimated SNR below
        :data:`~emovc.audio.noise.LOW_SNR_DB`) is converted with one
        :class:`~emovc.errors.EmovcWarning` line naming the file.

        Raises:
            OutputExistsError: the output exists and ``force`` is false.
            ConfigError: ``in_path`` or ``out_path`` is not a path (``None``, a number); the
                output path is the input's (even with ``force``).
            EmovcError: any error of :meth:`convert`.
        """
        inp, out = _file_path(in_path, "in_path"), _file_path(out_path, "out_path")
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
                                       stacklevel=2)
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
