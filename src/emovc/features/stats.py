"""Per-dimension feature normalisation statistics (mean/std), per corpus or per group.

Statistics are accumulated in float64 from per-utterance sums, so the frames of a thousand
clips are never concatenated. They are stored in checkpoints as plain lists (``to_dict``).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np

from emovc.errors import ConfigError


@dataclass
class FeatureStats:
    """Mean and standard deviation per feature dimension.

    Attributes:
        mean: ``(D,)`` float64 mean.
        std: ``(D,)`` float64 standard deviation (floored, > 0).
    """

    mean: np.ndarray
    std: np.ndarray

    def __post_init__(self) -> None:
        self.mean = np.asarray(self.mean, dtype=np.float64).reshape(-1)
        self.std = np.asarray(self.std, dtype=np.float64).reshape(-1)
        if self.mean.shape != self.std.shape:
            raise ConfigError(f"mean {self.mean.shape} and std {self.std.shape} shapes differ")
        if np.any(self.std <= 0):
            raise ConfigError("FeatureStats std must be > 0 in every dimension")

    @property
    def dim(self) -> int:
        """Feature dimension ``D``."""
        return int(self.mean.shape[0])

    def _check(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.shape[-1] != self.dim:
            raise ConfigError(f"features have {x.shape[-1]} dims, statistics have {self.dim}")
        return x

    def normalize(self, x: np.ndarray) -> np.ndarray:
        """``(..., D) -> (x - mean) / std`` (float64 unless ``x`` is float32)."""
        x = self._check(x)
        out = (x - self.mean) / self.std
        return out.astype(x.dtype) if x.dtype == np.float32 else out

    def denormalize(self, x: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`normalize`, ``(..., D) -> x * std + mean``."""
        x = self._check(x)
        out = x * self.std + self.mean
        return out.astype(x.dtype) if x.dtype == np.float32 else out

    def to_dict(self) -> dict:
        """Plain-data copy (lists of floats) for checkpoints/JSON."""
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> FeatureStats:
        """Inverse of :meth:`to_dict`."""
        try:
            return cls(mean=np.asarray(d["mean"], dtype=np.float64),
                       std=np.asarray(d["std"], dtype=np.float64))
        except (KeyError, TypeError, ValueError) as e:
            raise ConfigError(f"bad FeatureStats data: {e}") from e


def compute_stats(arrays: Sequence[np.ndarray], min_std: float = 1e-5) -> FeatureStats:
    """Pooled per-dimension statistics of several ``(T_i, D)`` feature matrices.

    Args:
        arrays: list of ``(T_i, D)`` arrays (a ``(T, D)`` array counts as one utterance).
        min_std: floor for the standard deviation (constant dimensions).

    Returns:
        :class:`FeatureStats` over all frames.
    """
    if isinstance(arrays, np.ndarray) and arrays.ndim == 2:
        arrays = [arrays]
    n, s1, s2, shift = 0, 0.0, 0.0, None
    for a in arrays:
        a = np.asarray(a, dtype=np.float64)
        if a.ndim != 2 or (shift is not None and a.shape[1] != shift.shape[0]):
            raise ConfigError(f"expected (T, D) arrays with one D, got {a.shape}")
        if shift is None and a.shape[0]:
            shift = a[0]  # shifted sums keep the variance accurate for large means
        if a.shape[0]:
            d = a - shift
            n += a.shape[0]
            s1 = s1 + d.sum(axis=0)
            s2 = s2 + np.square(d).sum(axis=0)
    if not n:
        raise ConfigError("cannot compute feature statistics from zero frames")
    mean = s1 / n
    var = np.maximum(s2 / n - mean**2, 0.0)
    return FeatureStats(mean=mean + shift, std=np.maximum(np.sqrt(var), min_std))


def compute_group_stats(arrays: Sequence[np.ndarray], keys: Sequence[Hashable],
                        min_std: float = 1e-5) -> dict[Hashable, FeatureStats]:
    """Statistics per group (e.g. speaker or ``(speaker, emotion)``).

    Args:
        arrays: ``(T_i, D)`` feature matrices.
        keys: group key of each matrix.

    Returns:
        ``{key: FeatureStats}``.
    """
    if len(arrays) != len(keys):
        raise ConfigError(f"got {len(arrays)} arrays but {len(keys)} group keys")
    groups: dict[Hashable, list[np.ndarray]] = {}
    for a, k in zip(arrays, keys, strict=True):
        groups.setdefault(k, []).append(a)
    return {k: compute_stats(v, min_std) for k, v in groups.items()}
