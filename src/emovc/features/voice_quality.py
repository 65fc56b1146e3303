"""Voice quality of emotions: cycle-to-cycle jitter and shimmer, and how much to add.

Real emotional speech is less regular from one glottal cycle to the next than calm speech: on
RAVDESS actors 01-16 (eGeMAPS v02 functionals, speaker means) calm takes have a local jitter
of 0.016 and a local shimmer of 1.07 dB, angry ones 0.025 and 1.26 dB, surprised 0.035 and
1.38 dB, and every other emotion lies in between. The source renderer's TD-PSOLA
(:func:`emovc.audio.psola.psola`) keeps the input's own cycles; it can add random period
(jitter) and per-cycle gain (shimmer) perturbations, and :func:`added_perturbation` says how
much would move the source emotion's statistics to the target's if the conversion added no
irregularity of its own. It does add some (the generator's frame-level F0 changes, the
time-varying envelope filter): measured on converted RAVDESS takes, the outputs reach the real
takes' mean jitter without any perturbation for most emotions, so a scale of 1 lands in the
upper part of the real takes' range (docs/conversion-experiments.md, "Voice quality, measured on the
outputs").

The measurement uses openSMILE's eGeMAPS (the standard definitions) rather than our own.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache

import numpy as np

from emovc.errors import ConfigError

JITTER = "jitterLocal_sma3nz_amean"  # mean relative |T_i - T_i+1| over voiced cycles
SHIMMER = "shimmerLocaldB_sma3nz_amean"  # mean |20 log10(A_i+1 / A_i)| in dB
# E|a - b| for independent a, b ~ N(0, s^2) is 2 s / sqrt(pi): a perturbation of standard
# deviation s on every cycle raises the local (mean absolute cycle-to-cycle) measure by that
MEAN_ABS_DIFF = 2.0 / math.sqrt(math.pi)


@lru_cache(maxsize=1)
def _egemaps():
    """One eGeMAPS v02 functionals extractor per process (built once: it parses its config)."""
    import opensmile

    return opensmile.Smile(feature_set=opensmile.FeatureSet.eGeMAPSv02,
                           feature_level=opensmile.FeatureLevel.Functionals)


def measure(wav: np.ndarray, sr: int) -> tuple[float, float]:
    """``(local jitter, local shimmer in dB)`` of ``(n,)`` audio at ``sr`` Hz (eGeMAPS v02)."""
    row = _egemaps().process_signal(np.asarray(wav, dtype=np.float32), sr)
    return float(row[JITTER].iloc[0]), float(row[SHIMMER].iloc[0])


def fit_emotion_stats(items: Iterable[tuple[str, str, float, float]]) -> dict[str, dict]:
    """Per-emotion voice-quality statistics from ``(speaker, emotion, jitter, shimmer_db)``
    rows (one per utterance): the mean over speakers of each speaker's mean, so every speaker
    weighs the same. Returns ``{emotion: {"jitter": j, "shimmer_db": s}}``."""
    acc: dict = defaultdict(lambda: defaultdict(list))
    for speaker, emotion, jitter, shimmer in items:
        acc[emotion][speaker].append((jitter, shimmer))
    out = {}
    for emotion, speakers in sorted(acc.items()):
        means = np.array([np.mean(v, axis=0) for v in speakers.values()])
        j, s = means.mean(axis=0)
        out[emotion] = {"jitter": round(float(j), 5), "shimmer_db": round(float(s), 4)}
    return out


def check_stats(stats: object) -> dict:
    """``stats`` as ``{emotion: {"jitter": float, "shimmer_db": float}}`` (``None`` = ``{}``),
    else a one-line :class:`~emovc.errors.ConfigError` (e.g. a hand-edited ``meta.json``)."""
    if stats is None:
        return {}
    try:
        out = {str(e): {"jitter": float(v["jitter"]), "shimmer_db": float(v["shimmer_db"])}
               for e, v in dict(stats).items()}
    except (TypeError, ValueError, KeyError):
        raise ConfigError("voice_quality_stats must map each emotion to "
                          "{\"jitter\": number, \"shimmer_db\": number}") from None
    if any(not (v["jitter"] >= 0 and v["shimmer_db"] >= 0) for v in out.values()):
        raise ConfigError("voice_quality_stats: jitter and shimmer_db must be >= 0")
    return out


def added_perturbation(stats: dict, source: str, target: str,
                       scale: float = 1.0) -> tuple[float, float]:
    """``(jitter, shimmer_db)`` standard deviations for :func:`emovc.audio.psola.psola` that
    raise the source emotion's local jitter and shimmer to the target's (``scale`` times).

    Independent perturbations add in quadrature (approximately, for the mean absolute
    measures), so the added part is ``sqrt(target² − source²)``, converted from a mean absolute
    difference to a standard deviation. A target that is *more* regular than the source gets
    nothing (the renderer cannot remove irregularity). Unknown emotions or ``stats == {}``:
    ``(0, 0)``.
    """
    if scale <= 0 or source not in stats or target not in stats:
        return 0.0, 0.0
    src, tgt = stats[source], stats[target]

    def part(key: str) -> float:
        gap = float(tgt[key]) ** 2 - float(src[key]) ** 2
        return scale * math.sqrt(gap) / MEAN_ABS_DIFF if gap > 0 else 0.0

    return part("jitter"), part("shimmer_db")
