"""Emotion recognition of long recordings, window by window (``predict_file``, ``ser predict``).

The recogniser is trained on clips of a few seconds, and its features of a whole recording
grow with it (about 45 MB per minute: 1.46 GB peak for 20 minutes, audit s38 M1). A file
longer than :data:`SER_WINDOW_S` is therefore classified in consecutive windows of at most
that length, like the source detection of ``emovc convert``
(:func:`~emovc.pipelines.source_choice.recognise_long`), and its probabilities are the
length-weighted mean over the windows that hold enough speech; a shorter file is one window,
classified exactly as before.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from emovc.audio import load_audio
from emovc.audio.bandwidth import warn_if_band_limited
from emovc.audio.io import audio_info
from emovc.audio.noise import warn_if_noisy
from emovc.audio.voicing import MIN_PERIODIC_SHARE, warn_if_unvoiced
from emovc.errors import AudioError
from emovc.pipelines.source_choice import DETECT_WINDOW_S, mean_of_windows, recognise_windows

SER_WINDOW_S = DETECT_WINDOW_S  # seconds; the same windows as the converter's detection
#: the end of the warning about a noisy file (:func:`~emovc.audio.noise.warn_if_noisy`;
#: measured in docs/ser.md, "Noisy input")
NOISY_INPUT = ("its emotion labels are far less reliable (the recogniser was trained on clean "
               "studio speech): use a quieter recording if you have one")
#: the end of the warning about a band-limited file, e.g. telephone speech
#: (:func:`~emovc.audio.bandwidth.warn_if_band_limited`; measured in docs/ser.md)
BAND_LIMITED_INPUT = ("its emotion labels are less reliable (the recogniser was trained on "
                      "16 kHz speech; on 8 kHz copies of RAVDESS actors 17-20 its unweighted "
                      "accuracy falls from 0.61 to 0.42): use a recording of 16 kHz or more if "
                      "you have one")


@dataclass(frozen=True)
class WindowLabel:
    """One window of a long file: ``start_s``/``end_s`` in seconds, its probabilities
    (empty when it was skipped) and why it was skipped (``error``)."""

    start_s: float
    end_s: float
    probs: dict[str, float] = field(default_factory=dict)
    error: str = ""


@dataclass(frozen=True)
class FileRecognition:
    """A file's probabilities ``{label: p}`` and, for a file of more than one window, each
    window's (``windows`` is empty for a file of one window)."""

    probs: dict[str, float]
    windows: list[WindowLabel] = field(default_factory=list)


def _clock(seconds: float) -> str:
    """``m:ss.s`` for window labels in error messages."""
    return f"{int(seconds // 60)}:{seconds % 60:04.1f}"


def recognise_file(path: str | os.PathLike, sr: int,
                   predict: Callable[[np.ndarray, int, str], dict[str, float]],
                   window_s: float = SER_WINDOW_S, stacklevel: int = 1) -> FileRecognition:
    """Probabilities of the audio file ``path``, loaded mono at ``sr`` Hz.

    Args:
        path: any supported audio file.
        sr: the recogniser's rate in Hz.
        predict: ``predict(wav (n,), sr, name) -> {label: p}`` for one clip (raising
            :class:`~emovc.errors.AudioError` for one it cannot classify, naming it ``name``).
        window_s: longest stretch classified as one clip, in seconds.
        stacklevel: the frame the may-not-be-speech, noisy- and band-limited-input warnings
            name (1: the caller of this). A file that may not be speech, is noisy (an
            estimated SNR below :data:`~emovc.audio.noise.LOW_SNR_DB`) or band-limited
            (telephone speech: :func:`~emovc.audio.bandwidth.band_limit_hz`) is classified
            with one :class:`~emovc.errors.EmovcWarning` line saying so.

    Returns:
        One window (up to ``window_s``): ``predict`` of the whole file, as it is. Longer:
        the length-weighted mean of the windows' probabilities, windows without enough
        speech skipped (listed with their reason in ``windows``).

    Raises:
        AudioError: unreadable, too short, silent file; no window holds enough speech.
    """
    wav, name = load_audio(path, sr), str(path)
    size = int(window_s * sr)
    if wav.shape[0] <= size:
        result = FileRecognition(predict(wav, sr, name))  # bad audio is refused first
    else:
        result = _by_windows(wav, sr, name, size, predict)
    share = warn_if_unvoiced(wav, sr, name, "its emotion labels are a guess", stacklevel + 1)
    if share >= MIN_PERIODIC_SHARE:  # noise without speech: the warning above says it
        warn_if_noisy(wav, sr, name, NOISY_INPUT, stacklevel + 1)
        warn_if_band_limited(wav, sr, name, BAND_LIMITED_INPUT,
                             rate=audio_info(path).sample_rate, stacklevel=stacklevel + 1)
    return result


def _by_windows(wav: np.ndarray, sr: int, name: str, size: int,
                predict: Callable[[np.ndarray, int, str], dict[str, float]]) -> FileRecognition:
    """:func:`recognise_file` of a file longer than one ``size``-sample window."""
    def one(segment: np.ndarray, s: int, e: int) -> dict[str, float]:
        return predict(segment, sr, f"{name} [{_clock(s / sr)}-{_clock(e / sr)}]")

    results = list(recognise_windows(one, wav, size))
    windows = [WindowLabel(s / sr, e / sr, probs or {}, str(err) if err else "")
               for s, e, probs, err in results]
    try:
        probs = mean_of_windows(results)
    except AudioError as exc:
        raise AudioError(f"{name}: no {size / sr:g} s window holds enough speech to classify "
                         f"(the first: {exc})") from None
    return FileRecognition(probs, windows)
