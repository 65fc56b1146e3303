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


def binomial_p_value(k: int, n: int) -> float:
    """Two-sided exact binomial test of ``k`` successes in ``n`` against chance (0.5)."""
    return float(stats.binomtest(int(k), int(n), 0.5).pvalue) if n > 0 else float("nan")
