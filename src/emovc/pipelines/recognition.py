"""Speech emotion recognition: audio in, emotion probabilities out.

>>> rec = EmotionRecognizer.from_pretrained("default")        # doctest: +SKIP
>>> rec.top_k(wav, 16000, k=3)                                # doctest: +SKIP
[('angry', 0.71), ('disgust', 0.12), ('happy', 0.08)]
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emovc.audio import SUPPORTED_EXTENSIONS
from emovc.audio.io import DC_LIMIT
from emovc.audio.processing import as_mono, check_sample_rate
from emovc.audio.voicing import warn_if_unvoiced
from emovc.data.catalogs.base import iter_audio
from emovc.errors import AudioError, ConfigError, EmovcError, EmovcWarning
from emovc.models.ser.cache import compute_clip_features
from emovc.models.ser.features import (
    MIN_SPEECH_S,
    SerFeatureConfig,
    functionals,
    log_mel,
    preprocess,
)
from emovc.models.ser.model import KIND, SerModel, load
from emovc.pipelines.ser_windows import FileRecognition, WindowLabel, recognise_file
from emovc.pretrained.registry import resolve

ALIASES = {"default": "ser-ravdess"}


def clip_features(wav: np.ndarray, cfg: SerFeatureConfig, needed: Sequence[str],
                  name: str = "audio", min_speech_s: float | None = MIN_SPEECH_S
                  ) -> dict[str, np.ndarray]:
    """Only the features a model needs (``"egemaps"``, ``"compare"``, ``"mel"``) of one clip
    at ``cfg.sample_rate``; raises AudioError for too-short (``min_speech_s``: see
    :func:`~emovc.models.ser.features.preprocess`) or silent input."""
    if set(needed) >= {"egemaps", "compare", "mel"}:
        return compute_clip_features(wav, cfg, name=name, min_speech_s=min_speech_s)
    x = preprocess(wav, cfg, name=name, min_speech_s=min_speech_s)
    out = {k: functionals(x, cfg.sample_rate, k) for k in needed if k != "mel"}
    if "mel" in needed:
        out["mel"] = log_mel(x, cfg)
    return out


def _bundled() -> list[str]:
    """Names of the bundled emotion recognisers."""
    from emovc.pretrained.registry import available

    return [m.name for m in available(KIND)]


MIN_SPEAKER_NORM_CLIPS = 2
"""Fewest clips ``predict_batch(..., speaker_norm=True)`` accepts: one clip normalised by its
own statistics loses every feature (angry 0.87 became 0.29 on a RAVDESS take)."""


class EmotionRecognizer:
    """Classify the emotion of speech clips with a trained SER model.

    Build it with :meth:`from_pretrained`; clips are mono float arrays with their sample
    rate in Hz (resampled to :attr:`sample_rate`), or files.

    Example:
        >>> from emovc import EmotionRecognizer, load_audio
        >>> rec = EmotionRecognizer.from_pretrained("default")   # doctest: +SKIP
        >>> wav = load_audio("clip.wav", sr=16000)               # doctest: +SKIP
        >>> rec.top_k(wav, 16000, k=2)                           # doctest: +SKIP
        [('angry', 0.71), ('disgust', 0.12)]
        >>> rec.predict_file("clip.wav")["angry"]                # doctest: +SKIP
        0.71
        >>> rec.predict_batch([wav, wav], 16000).shape           # doctest: +SKIP
        (2, 8)

    Args:
        model: the loaded :class:`~emovc.models.ser.model.SerModel`.
        info: the checkpoint's ``extra`` dict (metrics, provenance).
        min_speech_s: least speech, in seconds, a clip must hold once its leading and
            trailing silence is trimmed (default 0.5 s); ``None``: the whole clip is
            checked only (see :func:`~emovc.models.ser.features.preprocess`).
    """

    def __init__(self, model: SerModel, info: dict | None = None,
                 min_speech_s: float | None = MIN_SPEECH_S):
        self.model = model
        self.info = info or {}
        self.min_speech_s = min_speech_s

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike = "default",
                        min_speech_s: float | None = MIN_SPEECH_S) -> EmotionRecognizer:
        """Load a bundled model (``"default"`` = ``"ser-ravdess"``; the bundled ones:
        ``emovc.available_models("emotion-recognizer")``) or a ``model.pt`` path.

        Raises:
            ConfigError: not a name or path, unknown name, missing file or not an
                emotion-recognizer checkpoint.
        """
        if not isinstance(name_or_path, (str, os.PathLike)):
            raise ConfigError(f"recogniser must be a bundled model name (default, "
                              f"{', '.join(_bundled())}) or a model.pt path, got "
                              f"{type(name_or_path).__name__}")
        name = ALIASES.get(str(name_or_path), name_or_path)
        model, extra = load(resolve(name, kind=KIND))
        return cls(model, extra, min_speech_s)

    def with_min_speech(self, min_speech_s: float | None) -> EmotionRecognizer:
        """This recogniser (the same loaded model) with another ``min_speech_s``."""
        return type(self)(self.model, self.info, min_speech_s)

    @property
    def labels(self) -> tuple[str, ...]:
        """Emotion names in the order of the probability columns."""
        return self.model.labels

    @property
    def sample_rate(self) -> int:
        """Model input rate in Hz (other rates are resampled)."""
        return self.model.features.sample_rate

    def _features(self, wav: np.ndarray, sr: int, name: str) -> dict[str, np.ndarray]:
        """Features of one clip: ``wav`` mono ``(n,)`` (or ``(n, channels)``, mixed down; see
        :func:`~emovc.audio.processing.as_mono`) float samples at ``sr`` Hz, resampled to
        :attr:`sample_rate`."""
        wav = as_mono(wav, name)
        sr = check_sample_rate(sr)
        if sr != self.sample_rate:
            import soxr

            wav = soxr.resample(wav, sr, self.sample_rate, quality="HQ").astype(np.float32)
        return clip_features(wav, self.model.features, self.model.needed_features, name,
                             self.min_speech_s)

    def predict_batch(self, wavs: Sequence[np.ndarray], sr: int,
                      speaker_norm: bool = False, *, speech_warning: bool = True
                      ) -> np.ndarray:
        """Probabilities ``(N, C)`` for N clips (columns follow :attr:`labels`).

        Args:
            wavs: a list of mono float waveforms ``(n_i,)``; channels-last ``(n_i, channels)``
                clips are mixed down, ``(1, n_i)``/``(n_i, 1)`` squeezed; channels-first
                ``(channels, n_i)`` and other shapes are refused.
            sr: their sample rate in Hz (required: there is no default, since audio at
                another rate given as 16 kHz is misclassified without any error); clips at
                another rate than :attr:`sample_rate` are resampled.
            speaker_norm: treat all clips as one speaker and normalise their features with
                the batch's own statistics (more accurate for an unseen speaker when the
                batch holds a dozen or more clips covering several emotions; linear and
                ensemble models only; a CNN alone refuses it).
            speech_warning: warn (:class:`~emovc.errors.EmovcWarning`) about each clip that
                may not be speech (noise, a constant offset): its labels are a guess.

        Raises:
            AudioError: a clip is too short (< 0.5 s of speech once leading and trailing
                silence is trimmed: :attr:`min_speech_s`), non-finite, silent, integer PCM or of
                another shape; ``wavs`` is one waveform or not a list of clips at all (e.g.
                ``None``); ``sr`` is not a positive integer.
        """
        if isinstance(wavs, np.ndarray) and wavs.ndim == 1:
            raise AudioError("predict_batch takes a list of clips; use predict() for one clip")
        if isinstance(wavs, (str, bytes, os.PathLike)) or not isinstance(wavs, Iterable):
            raise AudioError(f"predict_batch takes a list of clips (mono float arrays), got "
                             f"{type(wavs).__name__}")
        wavs = list(wavs)
        if speaker_norm and 0 < len(wavs) < MIN_SPEAKER_NORM_CLIPS:
            raise ConfigError(f"speaker_norm normalises by the batch's own statistics and needs "
                              f"at least {MIN_SPEAKER_NORM_CLIPS} clips of the speaker (a dozen "
                              f"or more is better), got {len(wavs)}; leave it off for fewer")
        feats = [self._features(w, sr, f"clip {i}") for i, w in enumerate(wavs)]
        if not feats:
            return np.zeros((0, len(self.labels)))
        probs = self.model.predict_proba(feats, speaker_norm=speaker_norm)
        for i, w in enumerate(wavs if speech_warning else ()):
            _warn_if_not_speech(w, sr, f"clip {i}", stacklevel=2)
        return probs

    def _one(self, wav: np.ndarray, sr: int, name: str = "audio", stacklevel: int | None = 2
             ) -> dict[str, float]:
        """Probabilities of one clip; errors and the may-not-be-speech warning call it
        ``name``; ``stacklevel``: the frame the warning names (1: the caller of this), or
        ``None`` for no warning."""
        p = self.model.predict_proba([self._features(wav, sr, name)])[0]
        if stacklevel is not None:
            _warn_if_not_speech(wav, sr, name, stacklevel + 1)
        return {lab: float(v) for lab, v in zip(self.labels, p, strict=True)}

    def predict(self, wav: np.ndarray, sr: int, *, speech_warning: bool = True
                ) -> dict[str, float]:
        """Emotion probabilities of one clip, ``{label: p}`` summing to 1.

        ``wav``: mono float samples ``(n,)`` at ``sr`` Hz (required; resampled to
        :attr:`sample_rate`; ``(n, channels)`` is mixed down; see :meth:`predict_batch`).
        Audio that may not be speech (noise, a constant offset) is classified all the same,
        with an :class:`~emovc.errors.EmovcWarning` that its labels are a guess, as in
        :meth:`predict_file` (``speech_warning=False``: without it, e.g. for the windows of
        a long recording, some of which hold no speech)."""
        # errors name "audio", not "clip 0"
        return self._one(wav, sr, stacklevel=2 if speech_warning else None)

    def predict_file(self, path: str | os.PathLike) -> dict[str, float]:
        """:meth:`predict` for an audio file (any supported format and rate), with an
        :class:`~emovc.errors.EmovcWarning` when it may not be speech (noise: the labels are
        then a guess; :func:`~emovc.audio.voicing.warn_if_unvoiced`). A file over 20 s is
        classified in 20 s windows, their probabilities averaged (:meth:`predict_file_windows`)."""
        return self._recognise_file(path).probs

    def predict_file_windows(self, path: str | os.PathLike) -> FileRecognition:
        """:meth:`predict_file` with each window's probabilities when the file is longer than
        one window (:func:`~emovc.pipelines.ser_windows.recognise_file`)."""
        return self._recognise_file(path)

    def _recognise_file(self, path: str | os.PathLike) -> FileRecognition:
        """:func:`~emovc.pipelines.ser_windows.recognise_file` with this model; its
        may-not-be-speech warning names the line that called the public method."""
        def one(wav: np.ndarray, sr: int, name: str) -> dict[str, float]:
            return self._one(wav, sr, name, stacklevel=None)  # the file is checked once

        # 1 would name this method, 2 the public one, 3 the line that called it
        return recognise_file(path, self.sample_rate, one, stacklevel=3)

    def top_k(self, wav: np.ndarray, sr: int, k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` most probable emotions of ``wav`` (mono float ``(n,)`` at ``sr`` Hz, as
        for :meth:`predict`, with its warning) with their probabilities, best first."""
        check_k(k)  # before the features are computed
        return top_k(self._one(wav, sr), k)


def _warn_if_not_speech(wav: np.ndarray, sr: int, name: str, stacklevel: int) -> None:
    """:func:`~emovc.audio.voicing.warn_if_unvoiced` for a clip about to be labelled: ``wav``
    mono float ``(n,)`` (or as :func:`~emovc.audio.processing.as_mono` takes) at ``sr`` Hz,
    measured with a DC offset beyond :data:`~emovc.audio.io.DC_LIMIT` removed, as
    :func:`~emovc.audio.load_audio` removes it (a constant measures as periodic otherwise);
    ``stacklevel``: 1 for the caller of this, 2 for its caller, ..."""
    y = as_mono(wav, name)
    if abs(float(y.mean())) > DC_LIMIT:
        y = y - np.float32(y.mean())
    warn_if_unvoiced(y, sr, name, "its emotion labels are a guess", stacklevel + 1)


def top_k(probs: dict[str, float], k: int = 3) -> list[tuple[str, float]]:
    """Sort a probability dict and keep the ``k`` best entries (``k`` ≥ 1)."""
    check_k(k)
    return sorted(probs.items(), key=lambda kv: -kv[1])[:k]


def check_k(k: int) -> None:
    """Raise :class:`~emovc.errors.ConfigError` unless ``k`` is a whole number ≥ 1."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ConfigError(f"k must be a whole number of emotions, 1 or more, got {k!r}")


@dataclass(frozen=True)
class FilePrediction:
    """Result for one file: its top emotions and every emotion's probability, or why it was
    skipped; ``note``: the warnings given for the file (e.g. that it may not be speech, so
    its labels are a guess), joined by `` | ``; ``windows``: a file over 20 s, each window's
    (:class:`~emovc.pipelines.ser_windows.WindowLabel`)."""

    path: Path
    top: list[tuple[str, float]]
    error: str = ""
    probs: dict[str, float] = field(default_factory=dict)
    note: str = ""
    windows: list[WindowLabel] = field(default_factory=list)


def expand_inputs(inputs: Sequence[str | os.PathLike]) -> list[Path]:
    """Files given directly plus audio files found recursively in given folders (sorted).
    A path that does not exist is kept as a file: classifying it fails ("file or folder not
    found": it may be a mistyped folder), so it is skipped and listed like an unreadable file
    while the others are classified.

    Raises:
        EmovcError: nothing to classify was found.
    """
    files: list[Path] = []
    for item in map(Path, inputs):
        if item.is_dir():
            files += sorted(iter_audio(item))  # hidden entries skipped
        else:
            files.append(item)
    if not files:
        raise EmovcError(f"no audio files to classify in {', '.join(map(str, inputs))} "
                         f"(supported: {', '.join(SUPPORTED_EXTENSIONS)})")
    unique: dict[Path, Path] = {}  # a file named and also inside a named folder: once
    for f in files:
        unique.setdefault(f.resolve(), f)
    return list(unique.values())


def predict_paths(rec: EmotionRecognizer, inputs: Sequence[str | os.PathLike], k: int = 3
                  ) -> Iterator[FilePrediction]:
    """Classify files and folders one file at a time; files that cannot be used (unreadable,
    too short, silent) yield a :class:`FilePrediction` with ``error`` set instead of raising.
    The emovc warnings given for a file (:class:`~emovc.errors.EmovcWarning`: may not be
    speech, damaged or truncated) are warned as before and kept in its ``note``."""
    for path in expand_inputs(inputs):
        found, error, note = _predict_noted(rec, path)
        probs = found.probs
        yield FilePrediction(path, top_k(probs, k) if probs else [], error, probs, note,
                             found.windows)


_REISSUED: dict = {}  # warning registry of the re-issued warnings: each shown once, as before


def _predict_noted(rec: EmotionRecognizer, path: Path) -> tuple[FileRecognition, str, str]:
    """``(found, error, note)`` of one file: ``found.probs`` empty and ``error`` the reason when it
    cannot be classified; ``note`` its :class:`~emovc.errors.EmovcWarning` messages joined by
    `` | ``. Every warning is recorded, then warned again here, where the caller's filters
    apply (an emovc warning is noted even where they hide it).

    Not :func:`~emovc.errors.call_recording_warnings` / :func:`~emovc.errors.reissue_warnings`,
    which carry warnings out of a worker process as ``(category, message)``: here, in this
    process, each warning is warned again where it arose (its file and line, which Python
    shows for others' warnings, e.g. a decoder's), also when the prediction fails in a
    way other than :class:`~emovc.errors.EmovcError`, and an emovc warning is recorded
    under a filter that ignores it."""
    if not path.exists():  # expand_inputs keeps a missing path as given: a file or a folder
        return FileRecognition({}), f"file or folder not found: {path}", ""
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", EmovcWarning)
            try:
                found, error = rec.predict_file_windows(path), ""
            except EmovcError as exc:
                found, error = FileRecognition({}), str(exc)
    finally:
        for w in caught:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno,
                                   registry=_REISSUED)
    notes = [str(w.message) for w in caught if issubclass(w.category, EmovcWarning)]
    return found, error, " | ".join(notes)


def write_predictions_csv(path: str | os.PathLike, results: Sequence[FilePrediction],
                          labels: Sequence[str]) -> Path:
    """Atomically write ``file, prediction, p_<label>..., error, note`` (one row per file,
    UTF-8; skipped files keep their reason in ``error`` and empty probabilities; ``note``
    holds the file's warnings, e.g. that it may not be speech and its labels are a guess)."""
    import csv

    from emovc.fileio import atomic_output

    with atomic_output(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "prediction", *(f"p_{lab}" for lab in labels), "error", "note"])
        for r in results:
            probs = [f"{r.probs[lab]:.4f}" if lab in r.probs else "" for lab in labels]
            w.writerow([str(r.path), r.top[0][0] if r.top else "", *probs, r.error, r.note])
    return Path(path)
