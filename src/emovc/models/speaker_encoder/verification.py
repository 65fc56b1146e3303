"""Speaker verification scores of embeddings: cosine trials and the equal error rate.

Here, below both, because the speaker-encoder training validates with the EER and the
evaluation reports it (:mod:`emovc.evaluation.speaker` re-exports these).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from emovc.errors import EmovcError


@dataclass(frozen=True)
class EERResult:
    """Equal error rate of a verification trial set.

    Attributes:
        eer: rate (0..1) where false acceptance equals false rejection.
        threshold: cosine score at that point.
        n_target: same-speaker trials.
        n_nontarget: different-speaker trials.
    """

    eer: float
    threshold: float
    n_target: int
    n_nontarget: int

    def to_dict(self) -> dict:
        """Plain-data copy."""
        return asdict(self)


def trial_scores(embeddings: np.ndarray, speaker_labels) -> tuple[np.ndarray, np.ndarray]:
    """Cosine scores and same-speaker flags of all ``N(N-1)/2`` pairs of ``(N, D)`` embeddings."""
    e = np.asarray(embeddings, dtype=np.float64)
    labels = np.asarray(list(speaker_labels))
    if e.ndim != 2 or e.shape[0] != labels.shape[0]:
        raise EmovcError(f"need (N, D) embeddings and N labels, got {e.shape} and {labels.shape}")
    e = e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)
    iu, ju = np.triu_indices(e.shape[0], k=1)
    scores = np.sum(e[iu] * e[ju], axis=1)
    return scores, labels[iu] == labels[ju]


def equal_error_rate(embeddings: np.ndarray, speaker_labels) -> EERResult:
    """EER over all trial pairs of ``(N, D)`` embeddings with ``N`` speaker labels.

    Scores are cosine similarities; the ROC comes from ``sklearn.metrics.roc_curve`` and the
    EER is read where FAR = FRR (linear interpolation between the two nearest ROC points).

    Raises:
        EmovcError: fewer than one target or one non-target trial.
    """
    from sklearn.metrics import roc_curve

    scores, same = trial_scores(embeddings, speaker_labels)
    n_t, n_n = int(same.sum()), int((~same).sum())
    if n_t == 0 or n_n == 0:
        raise EmovcError("EER needs at least two clips of one speaker and two speakers")
    fpr, tpr, thr = roc_curve(same.astype(int), scores)
    fnr = 1.0 - tpr
    k = int(np.nanargmin(np.abs(fnr - fpr)))
    # interpolate between neighbours k-1/k where (fnr - fpr) changes sign
    j = k - 1 if k > 0 and (fnr[k] - fpr[k]) * (fnr[k - 1] - fpr[k - 1]) <= 0 else k
    if j != k:
        d0, d1 = fnr[j] - fpr[j], fnr[k] - fpr[k]
        w = d0 / (d0 - d1) if d0 != d1 else 0.0
        eer = fpr[j] + w * (fpr[k] - fpr[j])
        threshold = thr[j] + w * (thr[k] - thr[j]) if np.isfinite(thr[j]) else thr[k]
    else:
        eer, threshold = (fpr[k] + fnr[k]) / 2, thr[k]
    return EERResult(float(eer), float(threshold), n_t, n_n)
