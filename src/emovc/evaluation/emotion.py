"""Emotion-recognition scoring of converted speech (target rate and confusion matrix).

Any object with ``.labels`` (sequence of emotion names) and
``.predict(wav, sr) -> dict[str, float]`` (class probabilities) can judge; by default the
suite uses emovc's own recogniser, ``EmotionRecognizer.from_pretrained("default")``. The judge
is optional: when it cannot be loaded the evaluation records why and skips the metric.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from emovc.data.emotions import normalize_emotion

UNJUDGED = "unjudged"
"""``emotion_pred`` of an output the judge could not score (silent, too short, unreadable):
counted as a miss, so a system cannot raise its rate by failing on hard items."""


@runtime_checkable
class EmotionJudge(Protocol):
    """What the evaluation needs from an emotion recogniser."""

    labels: list[str]

    def predict(self, wav: np.ndarray, sr: int) -> dict[str, float]:
        """Class probabilities of a ``(n,)`` waveform at ``sr`` Hz."""
        ...


def load_default_judge(name: str = "default") -> tuple[EmotionJudge | None, str]:
    """Try to load emovc's recogniser; returns ``(judge, "")`` or ``(None, reason)``."""
    try:
        from emovc.pipelines.recognition import EmotionRecognizer

        return EmotionRecognizer.from_pretrained(name), ""
    except Exception as exc:  # missing module/weights must not break the rest of the suite
        return None, f"emotion recognition skipped: {type(exc).__name__}: {exc}"


def canonical_label(label: str) -> str:
    """An emotion label as emovc names it ("Anger" -> "angry"); an unknown one unchanged."""
    try:
        return normalize_emotion(label)
    except ValueError:
        return label


def canonical_probs(probs: dict[str, float]) -> dict[str, float]:
    """A judge's probabilities keyed by canonical emotion names (aliases summed)."""
    out: dict[str, float] = {}
    for label, p in probs.items():
        key = canonical_label(label)
        out[key] = out.get(key, 0.0) + float(p)
    return out


def top_label(probs: dict[str, float]) -> str:
    """Most probable emotion (canonical name) of a probability dict."""
    return canonical_label(max(probs, key=lambda k: probs[k]))


def confusion_matrix(targets: list[str], predicted: list[str], labels: list[str],
                     columns: list[str] | None = None) -> np.ndarray:
    """Counts ``(len(labels), len(columns))``: row = intended emotion (``labels``), column =
    recognised one (``columns``, default ``labels``; e.g. ``labels + ["unjudged"]``).

    Pairs whose target is not in ``labels`` or whose prediction is not in ``columns`` are
    ignored.
    """
    columns = labels if columns is None else columns
    rows = {lab: i for i, lab in enumerate(labels)}
    cols = {lab: j for j, lab in enumerate(columns)}
    cm = np.zeros((len(labels), len(columns)), dtype=np.int64)
    for t, p in zip(targets, predicted, strict=True):
        if t in rows and p in cols:
            cm[rows[t], cols[p]] += 1
    return cm


def target_rate(targets: list[str], predicted: list[str]) -> float:
    """Share (0..1) of utterances recognised as their intended emotion (NaN if empty)."""
    if not targets:
        return float("nan")
    return float(np.mean([t == p for t, p in zip(targets, predicted, strict=True)]))
