"""Emotion-recognition scoring of converted speech (target rate and confusion matrix).

Any object with ``.labels`` (sequence of emotion names) and
``.predict(wav, sr) -> dict[str, float]`` (class probabilities) can judge; by default the
suite uses emovc's own recogniser, ``EmotionRecognizer.from_pretrained("default")``. The judge
is optional: when it cannot be loaded the evaluation records why and skips the metric.
"""

from __future__ import annotations

import os
from typing import Protocol, runtime_checkable

import numpy as np

from emovc.data.catalogs.ravdess import take_name
from emovc.data.emotions import normalize_emotion
from emovc.errors import EmovcError

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
    """Try to load emovc's recogniser; returns ``(judge, "")`` or ``(None, reason)`` when it
    is not installed or cannot be loaded (a missing module, missing or unreadable weights,
    an unknown name). Any other error is a bug and is raised."""
    try:
        from emovc.pipelines.recognition import EmotionRecognizer

        return EmotionRecognizer.from_pretrained(name), ""
    except (ImportError, OSError, EmovcError) as exc:  # the rest of the suite still runs
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


RAVDESS_ACTORS = tuple(f"{i:02d}" for i in range(1, 25))
#: a recogniser's recorded corpus under which its speakers are RAVDESS actors ("auto": the
#: layout found in its data folder, which is how the bundled ser-ravdess was trained)
RAVDESS_CORPORA = ("ravdess", "auto", "")


def training_record(judge) -> tuple[str, list[str]] | None:
    """``(corpus, speakers)`` a judge records it was trained on, or ``None``: an emovc
    recogniser keeps them in its checkpoint (``model.info``: ``"corpus"``,
    ``"train_speakers"``; the bundled ``ser-ravdess``: ``"auto"``, actors 01-16)."""
    info = getattr(getattr(judge, "model", None), "info", None)
    if not isinstance(info, dict) or not info.get("train_speakers"):
        return None
    return str(info.get("corpus") or ""), [str(s) for s in info["train_speakers"]]


def _ranges(ids: list[str]) -> str:
    """``["01", "02", "03", "07"]`` -> ``"01-03, 07"``."""
    nums, parts = sorted(int(i) for i in ids), []
    for k in nums:
        if parts and k == parts[-1][1] + 1:
            parts[-1][1] = k
        else:
            parts.append([k, k])
    return ", ".join(f"{a:02d}" if a == b else f"{a:02d}-{b:02d}" for a, b in parts)


def training_overlap_notes(items, judge) -> list[str]:
    """A note when items' source or reference files are RAVDESS takes
    (:func:`~emovc.data.catalogs.ravdess.take_name`) of actors the judge was trained on
    (:func:`training_record`): it knows those voices and takes, so their emotion
    rates overstate what it recognises in voices it has not heard."""
    record = training_record(judge)
    if record is None or record[0].lower() not in RAVDESS_CORPORA:
        return []
    trained = set(record[1])
    if not trained <= set(RAVDESS_ACTORS):  # speakers of another corpus
        return []
    hits = []
    for it in items:
        for path in filter(None, (it.source, it.reference)):  # the name given, or linked to
            names = {os.path.basename(path), os.path.basename(os.path.realpath(path))}
            if any((take := take_name(n)) and take.actor in trained for n in names):
                hits.append(path)
                break
    if not hits:
        return []
    acc = ""
    held_out = (getattr(judge, "info", None) or {}).get("metrics", {}).get("original/utterance")
    if isinstance(held_out, dict) and "unweighted_accuracy" in held_out:
        acc = (f" (on held-out actors: {100 * held_out['unweighted_accuracy']:.1f} % "
               "unweighted accuracy)")
    unseen = [a for a in RAVDESS_ACTORS if a not in trained]
    fair = f"RAVDESS actors {_ranges(unseen)}" if unseen else "speakers it was not trained on"
    return [f"the emotion recogniser was trained on RAVDESS actors {_ranges(list(trained))} (as "
            f"its checkpoint records), and {len(hits)} of {len(items)} items are takes of "
            f"those actors (e.g. {hits[0]}): their emotion rates and p(target) overstate what "
            f"it recognises in voices it has not heard{acc}; for fair rates score {fair}"]
