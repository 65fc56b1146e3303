"""Choosing the source emotion of a recording when the user does not name it.

The WORLD-feature converters (and SpectroGANs with a prosody stage) need the emotion the input
is spoken in: they undo its average offsets to estimate the speaker's own statistics, and the
output level, tempo and mean-F0 changes are those from that emotion to the target. The
emotion recogniser, trained on acted RAVDESS emotions, is a poor judge of ordinary read speech
(it calls about half of the VCTK / LibriSpeech clips disgust or angry), and taking its top
label made such a clip converted to sad come out 14.8 dB quieter than with ``--from
neutral``.

So the source is a *decision* under the recogniser's uncertainty rather than its top label:
the candidate whose average level offset minimises the expected absolute level error under
the recogniser's posterior, with a prior weight (:data:`SOURCE_PRIOR`) on neutral and calm
(speech of unknown emotion is most often unemotional). A confident recogniser still decides
(a clear angry take stays angry); an unsure one lands on neutral, calm or an emotion of
middle vocal effort.
Measured end to end against the right source (``benchmarks/diag_source_choice.py``,
docs/conversion.md): on read speech the output level is off by 1.0 dB on average instead of
1.7 dB (more than 6 dB off: 3 % instead of 8 %), on calm takes by 0.3 instead of 0.7 dB, on
acted emotional takes by 3.9 instead of 2.8 dB — so pass the source when you know it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np

from emovc.audio.chunking import split_windows
from emovc.errors import AudioError

DETECT_WINDOW_S = 20.0  # longer inputs are recognised window by window


def recognise_long(recognizer, wav: np.ndarray, sr: int,
                   window_s: float = DETECT_WINDOW_S) -> dict[str, float]:
    """The recogniser's probabilities ``{emotion: p}`` for mono ``wav`` at ``sr`` Hz; beyond
    ``window_s`` seconds the length-weighted mean over consecutive windows of at most that
    length, skipping windows without speech.

    The recogniser is trained on clips of a few seconds: functionals over a whole long
    recording describe something it never saw, and its features for ten minutes took 120 MB
    more memory than the conversion itself.

    An :class:`~emovc.pipelines.recognition.EmotionRecognizer` is asked with its whole-clip
    check only (``min_speech_s=None``): the detection keeps the rule it was measured with, so
    the conversions that rely on it are unchanged (conversion works on the whole clip, and its
    0.5 s minimum is the whole clip's: :func:`~emovc.audio.check_speech`), and without its
    may-not-be-speech warning (a window of a long recording may hold none; conversion
    refuses unvoiced input itself).

    Raises:
        AudioError: no window holds speech (as the recogniser raises for a short input).
    """
    quiet = {}
    if hasattr(recognizer, "with_min_speech"):
        recognizer = recognizer.with_min_speech(None)
        quiet = {"speech_warning": False}  # conversion refuses unvoiced input itself
    size = int(window_s * sr)
    if wav.shape[0] <= size:
        return recognizer.predict(wav, sr, **quiet)
    return mean_of_windows(recognise_windows(lambda w, s, e: recognizer.predict(w, sr, **quiet),
                                             wav, size))


WindowResult = tuple[int, int, "dict[str, float] | None", "AudioError | None"]


def recognise_windows(predict: Callable[[np.ndarray, int, int], dict[str, float]],
                      wav: np.ndarray, size: int) -> Iterator[WindowResult]:
    """``(start, end, probs, error)`` (samples) for each of the consecutive equal windows of
    at most ``size`` samples covering ``(n,)`` ``wav``: ``probs = predict(wav[start:end],
    start, end)``, or ``None`` with the :class:`~emovc.errors.AudioError` it raised (a window
    of silence, or one with too little speech). One window at a time: memory stays flat."""
    for s, e in split_windows(wav.shape[0], size, 0):
        try:
            yield s, e, predict(wav[s:e], s, e), None
        except AudioError as exc:
            yield s, e, None, exc


def mean_of_windows(results: Iterable[WindowResult]) -> dict[str, float]:
    """Length-weighted mean ``{label: p}`` of the windows of :func:`recognise_windows` that
    have probabilities.

    Raises:
        AudioError: none has (the first window's error).
    """
    total: dict[str, float] = {}
    weight, first_error = 0, None
    for s, e, probs, error in results:
        if probs is None:
            first_error = first_error or error
            continue
        for label, p in probs.items():
            total[label] = total.get(label, 0.0) + p * (e - s)
        weight += e - s
    if not weight:
        raise first_error
    return {label: p / weight for label, p in total.items()}


# prior weights on the recogniser's probabilities (1 for the emotions not named); chosen on
# the recogniser's outputs for RAVDESS actors 17-20 and VCTK/LibriSpeech read speech: calm
# takes keep calm as often as with the top label, read speech halves its level error
SOURCE_PRIOR = {"neutral": 4.0, "calm": 4.0}


def source_posterior(probs: Mapping[str, float], emotions: Sequence[str],
                     prior: Mapping[str, float] | None = None) -> dict[str, float]:
    """The recogniser's probabilities restricted to ``emotions``, times ``prior`` (default:
    :data:`SOURCE_PRIOR`), renormalised; uniform if none of them has mass."""
    weights = SOURCE_PRIOR if prior is None else prior
    post = {e: max(float(probs.get(e, 0.0)), 0.0) * weights.get(e, 1.0) for e in emotions}
    total = sum(post.values())
    if total <= 0.0:
        return {e: 1.0 / len(emotions) for e in emotions}
    return {e: p / total for e, p in post.items()}


def choose_source(probs: Mapping[str, float], candidates: Sequence[str],
                  level_db: Callable[[str], float] | None = None,
                  emotions: Sequence[str] | None = None,
                  prior: Mapping[str, float] | None = None) -> str:
    """Source emotion among ``candidates`` for a recording the recogniser scored ``probs``.

    Args:
        probs: ``{emotion: probability}`` from the recogniser (other labels are ignored).
        candidates: emotions the source may be chosen from (the model's source emotions,
            usually without the target).
        level_db: average level (dB, any common reference) of an emotion's speech, e.g.
            ``lambda e: normalizer.level_change_db(ref, e)``; ``None`` (or all equal): the
            most probable candidate after the prior.
        emotions: emotions the input may really be in (default: ``candidates``); the
            posterior is taken over these.
        prior: weights on the recogniser's probabilities (default: :data:`SOURCE_PRIOR`).

    Returns:
        The candidate minimising ``Σ_e post(e) · |level(candidate) − level(e)|``; ties go
        to the more probable candidate.

    Raises:
        ValueError: no candidates.
    """
    if not candidates:
        raise ValueError("no candidate source emotions")
    post = source_posterior(probs, list(emotions or candidates), prior)
    if level_db is None:
        return max(candidates, key=lambda c: post.get(c, 0.0))
    level = {e: float(level_db(e)) for e in {*candidates, *post}}

    def cost(c: str) -> tuple[float, float]:
        err = sum(p * abs(level[c] - level[e]) for e, p in post.items())
        return round(err, 9), -post.get(c, 0.0)

    return min(candidates, key=cost)
