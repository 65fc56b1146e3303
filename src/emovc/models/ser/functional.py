"""A linear softmax classifier on standardised openSMILE functionals (pure numpy inference).

The parameters are plain arrays (mean, std, coef, intercept) so a checkpoint loads with
``weights_only=True`` and predicts exactly what the trained scikit-learn
``LogisticRegression`` predicted — no pickled estimator is stored.

Two standardisation modes exist:

- ``"utterance"``: features are standardised with the training set's global statistics,
  so a single file can be classified;
- ``"speaker"``: each speaker's features are z-normalised with that speaker's own
  statistics (over all their clips), the classic trick for speaker-independent SER; at
  inference it needs several clips of the same speaker, ideally covering several emotions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

NORM_MODES = ("utterance", "speaker")
_EPS = 1e-8


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of ``(N, C)`` logits."""
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def zscore_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension mean and std of ``(N, D)`` features (std floored for constant dims)."""
    x = np.asarray(x, dtype=np.float64)
    return x.mean(axis=0), np.maximum(x.std(axis=0), _EPS)


def speaker_znorm(x: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Z-normalise ``(N, D)`` features within each group (speaker) label of ``groups (N,)``."""
    out = np.empty_like(x, dtype=np.float64)
    for g in np.unique(groups):
        idx = groups == g
        mean, std = zscore_stats(x[idx])
        out[idx] = (x[idx] - mean) / std
    return out


@dataclass
class LinearHead:
    """Standardisation + multinomial linear classifier for one feature set and norm mode.

    Attributes:
        feature_set: openSMILE set name (``"egemaps"`` or ``"compare"``).
        norm: ``"utterance"`` or ``"speaker"`` (see module docstring).
        mean: ``(D,)`` standardisation mean (after speaker z-norm in ``"speaker"`` mode).
        std: ``(D,)`` standardisation std.
        coef: ``(C, D)`` weights.
        intercept: ``(C,)`` biases.
    """

    feature_set: str
    norm: str
    mean: np.ndarray
    std: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray

    def standardize(self, x: np.ndarray, groups: np.ndarray | None = None) -> np.ndarray:
        """Apply the head's normalisation to raw functionals ``(N, D)``.

        ``groups`` (speaker label per row) is required in ``"speaker"`` mode; without it
        all rows are treated as one speaker.
        """
        x = np.asarray(x, dtype=np.float64)
        if self.norm == "speaker":
            x = speaker_znorm(x, np.zeros(len(x)) if groups is None else np.asarray(groups))
        return (x - self.mean) / self.std

    def logits(self, x: np.ndarray, groups: np.ndarray | None = None) -> np.ndarray:
        """Class scores ``(N, C)`` from raw functionals ``(N, D)``."""
        return self.standardize(x, groups) @ self.coef.T + self.intercept

    def predict_proba(self, x: np.ndarray, groups: np.ndarray | None = None) -> np.ndarray:
        """Class probabilities ``(N, C)`` (multinomial logistic model)."""
        return softmax(self.logits(x, groups))

    def state_dict(self, prefix: str) -> dict[str, torch.Tensor]:
        """Arrays as float64 tensors under ``prefix`` (for :func:`save_checkpoint`)."""
        return {f"{prefix}.{k}": torch.from_numpy(np.asarray(getattr(self, k), np.float64))
                for k in ("mean", "std", "coef", "intercept")}

    @classmethod
    def from_state_dict(cls, state: dict[str, torch.Tensor], prefix: str, feature_set: str,
                        norm: str) -> LinearHead:
        """Inverse of :meth:`state_dict`."""
        arrs = {k: state[f"{prefix}.{k}"].numpy() for k in ("mean", "std", "coef", "intercept")}
        return cls(feature_set=feature_set, norm=norm, **arrs)


def fit_linear_head(x: np.ndarray, y: np.ndarray, groups: np.ndarray, feature_set: str,
                    norm: str, c: float, n_classes: int, seed: int = 0) -> LinearHead:
    """Fit a :class:`LinearHead` with scikit-learn's multinomial ``LogisticRegression``.

    Args:
        x: raw functionals ``(N, D)``.
        y: class indices ``(N,)`` in ``[0, n_classes)``.
        groups: speaker label per row ``(N,)`` (used in ``"speaker"`` mode).
        feature_set: name stored with the head.
        norm: ``"utterance"`` or ``"speaker"``.
        c: inverse L2 regularisation strength.
        n_classes: size of the label set (classes absent from ``y`` get −inf-like biases).
        seed: random state.
    """
    from sklearn.linear_model import LogisticRegression

    x = np.asarray(x, dtype=np.float64)
    pre = speaker_znorm(x, groups) if norm == "speaker" else x
    mean, std = zscore_stats(pre)
    z = (pre - mean) / std
    clf = LogisticRegression(C=c, max_iter=3000, random_state=seed)
    clf.fit(z, y)
    coef = np.zeros((n_classes, x.shape[1]))
    intercept = np.full(n_classes, -1e4)
    coef[clf.classes_] = clf.coef_ if len(clf.classes_) > 2 else np.vstack(
        [-clf.coef_[0] / 2, clf.coef_[0] / 2])
    intercept[clf.classes_] = clf.intercept_ if len(clf.classes_) > 2 else np.array(
        [-clf.intercept_[0] / 2, clf.intercept_[0] / 2])
    return LinearHead(feature_set, norm, mean, std, coef, intercept)
