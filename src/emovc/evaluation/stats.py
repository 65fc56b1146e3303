"""Confidence intervals used by the report and the listening-test summary."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats


def mean_ci(values, level: float = 0.95) -> tuple[float, float, int]:
    """Mean and the half-width of its two-sided Student-t confidence interval.

    ``half = t_{(1+level)/2, n-1} * s / sqrt(n)`` with ``s`` the sample standard deviation
    (ddof=1). NaNs are ignored.

    Returns:
        ``(mean, half_width, n)``; NaN mean for no values, NaN half-width for ``n < 2``.
    """
    x = np.asarray(values, dtype=np.float64).reshape(-1)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return float("nan"), float("nan"), 0
    mean = float(x.mean())
    if n < 2:
        return mean, float("nan"), n
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return mean, half, n


def binomial_ci(k: int, n: int, level: float = 0.95) -> tuple[float, float, float]:
    """Proportion ``k/n`` with its exact (Clopper-Pearson) confidence interval.

    Returns:
        ``(p, low, high)``; all NaN when ``n == 0``.
    """
    if n <= 0:
        return float("nan"), float("nan"), float("nan")
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=level, method="exact")
    return k / n, float(ci.low), float(ci.high)


BOOTSTRAP_RESAMPLES = 2000


def ratio_bootstrap_ci(numerators, denominators, level: float = 0.95,
                       n_resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0,
                       ) -> tuple[float, float]:
    """Percentile bootstrap interval of ``Σ numerators / Σ denominators`` (e.g. a corpus WER:
    word errors and reference words per utterance), resampling the pairs (utterances) with
    replacement ``n_resamples`` times from a fixed ``seed``, so a run's interval is
    reproducible.

    Returns:
        ``(low, high)``; NaN for fewer than 2 pairs.
    """
    num = np.asarray(numerators, dtype=np.float64).reshape(-1)
    den = np.asarray(denominators, dtype=np.float64).reshape(-1)
    if num.shape != den.shape:
        raise ValueError(f"{num.size} numerators but {den.size} denominators")
    n = num.size
    if n < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    stats_ = np.empty(n_resamples)
    chunk = max(1, 2_000_000 // n)  # resamples drawn at once: memory stays a few MB
    for s in range(0, n_resamples, chunk):
        idx = rng.integers(0, n, size=(min(chunk, n_resamples - s), n))
        d = den[idx].sum(axis=1)
        stats_[s:s + idx.shape[0]] = np.where(d > 0, num[idx].sum(axis=1) / np.maximum(d, 1e-300),
                                              np.nan)
    stats_ = stats_[np.isfinite(stats_)]
    if stats_.size == 0:
        return float("nan"), float("nan")
    tail = 100.0 * (1.0 - level) / 2.0
    low, high = np.percentile(stats_, [tail, 100.0 - tail])
    return float(low), float(high)
