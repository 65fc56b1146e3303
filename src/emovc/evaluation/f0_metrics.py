"""F0 and timing metrics along a DTW path.

- log-F0 RMSE in cents over frames voiced in both utterances::

      RMSE = sqrt(mean_{(i,j) ∈ P, v_a[i] ∧ v_b[j]} (1200 * log2(f_a[i] / f_b[j]))²)

- Pearson correlation of F0 (Hz) over the same frame pairs;
- V/UV disagreement: share of path steps where exactly one side is voiced;
- duration ratio: converted length / source length (seconds / seconds).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

MIN_VOICED_PAIRS = 10  # fewer jointly voiced frame pairs give no meaningful F0 statistic


@dataclass(frozen=True)
class F0Scores:
    """F0 agreement of two utterances along a DTW path (NaN when undefined)."""

    f0_rmse_cents: float
    f0_corr: float
    vuv_error: float
    voiced_pairs: int

    def to_dict(self) -> dict:
        """Plain-data copy."""
        return asdict(self)


def _voiced_pairs(f0_a: np.ndarray, f0_b: np.ndarray, path: np.ndarray):
    fa, fb = f0_a[path[:, 0]], f0_b[path[:, 1]]
    va, vb = fa > 0, fb > 0
    both = va & vb
    return fa[both], fb[both], va, vb


def f0_rmse_cents(f0_a: np.ndarray, f0_b: np.ndarray, path: np.ndarray) -> float:
    """log-F0 RMSE in cents over jointly voiced path steps (NaN if fewer than 10)."""
    fa, fb, _, _ = _voiced_pairs(f0_a, f0_b, path)
    if fa.size < MIN_VOICED_PAIRS:
        return float("nan")
    cents = 1200.0 * np.log2(fa / fb)
    return float(np.sqrt(np.mean(cents * cents)))


def f0_correlation(f0_a: np.ndarray, f0_b: np.ndarray, path: np.ndarray) -> float:
    """Pearson correlation of F0 (Hz) over jointly voiced path steps (NaN if undefined)."""
    fa, fb, _, _ = _voiced_pairs(f0_a, f0_b, path)
    if fa.size < MIN_VOICED_PAIRS or np.std(fa) == 0 or np.std(fb) == 0:
        return float("nan")
    return float(np.corrcoef(fa, fb)[0, 1])


def vuv_error_rate(f0_a: np.ndarray, f0_b: np.ndarray, path: np.ndarray) -> float:
    """Share of path steps (0..1) where one utterance is voiced and the other is not."""
    va, vb = f0_a[path[:, 0]] > 0, f0_b[path[:, 1]] > 0
    return float(np.mean(va != vb))


def f0_scores(f0_a: np.ndarray, f0_b: np.ndarray, path: np.ndarray) -> F0Scores:
    """All F0 metrics of two ``(T,)`` F0 tracks (Hz, 0 = unvoiced) along ``path`` ``(K, 2)``."""
    fa, _, _, _ = _voiced_pairs(f0_a, f0_b, path)
    return F0Scores(f0_rmse_cents(f0_a, f0_b, path), f0_correlation(f0_a, f0_b, path),
                    vuv_error_rate(f0_a, f0_b, path), int(fa.size))


def duration_ratio(converted_seconds: float, source_seconds: float) -> float:
    """Length of the converted utterance relative to its source (1.0 = unchanged tempo)."""
    return float(converted_seconds / source_seconds) if source_seconds > 0 else float("nan")
