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


def crossed_mean_ci(values, listeners, items, clusters=None, level: float = 0.95,
                    n_boot: int = 2000, seed: int = 0) -> tuple[float, float, int, int]:
    """Mean rating and a confidence half-width that treats listeners and items as samples.

    Ratings of a listening test are not independent: a listener who rates everything high,
    or an item every listener finds poor, moves many ratings at once. A t-interval over all
    ratings ignores that and is too narrow (47-63 % coverage instead of 95 % in the
    simulated tests of ``benchmarks/diag_listening_ci.py``). Here:

    1. the ratings of one listener for one item are averaged into a cell (a listener rating
       the same file three times counts once);
    2. the mean is the mean of the cells;
    3. its standard error comes from a two-way bootstrap (Owen's "pigeonhole" bootstrap,
       2007): ``n_boot`` times, listeners and item clusters are both resampled with
       replacement, and the mean of the cells they select, weighted by how often each was
       drawn, is recomputed;
    4. half-width = ``t_{(1+level)/2, df}`` × that standard error, with ``df`` = the number
       of levels of the smaller factor minus one (listeners or clusters; a factor with one
       level is not resampled and does not count). With one listener the interval covers
       the items only; with one listener and one item it is NaN.

    The two-way bootstrap slightly overstates the variance (it counts the residual twice),
    so the interval errs on the wide side.

    Args:
        values: ``(n,)`` ratings.
        listeners: ``(n,)`` listener of each rating (any hashable).
        items: ``(n,)`` item of each rating; ratings of one listener and item form a cell.
        clusters: ``(n,)`` cluster of each rating's item, resampled together (e.g. the audio
            file behind several questions); default: each item its own cluster.
        level: confidence level.
        n_boot: bootstrap replicates.
        seed: bootstrap seed (the same ratings give the same interval).

    Returns:
        ``(mean, half_width, n_listeners, n_clusters)``; NaN mean for no values.
    """
    x = np.asarray(values, dtype=np.float64).reshape(-1)
    clusters = items if clusters is None else clusters
    rated = [(str(who), (str(item), str(group)), value) for who, item, group, value
             in zip(listeners, items, clusters, x, strict=True) if math.isfinite(value)]
    if not rated:
        return float("nan"), float("nan"), 0, 0
    listener_ix = _index(r[0] for r in rated)
    item_ix = _index(r[1] for r in rated)
    cluster_ix = _index(group for _, group in item_ix)
    cluster_of_item = np.array([cluster_ix[group] for _, group in item_ix])
    n_l, n_i, n_c = len(listener_ix), len(item_ix), len(cluster_ix)
    total = np.zeros((n_l, n_i))
    count = np.zeros((n_l, n_i))
    for who, item, value in rated:
        total[listener_ix[who], item_ix[item]] += value
        count[listener_ix[who], item_ix[item]] += 1.0
    filled = count > 0
    cells = np.where(filled, total / np.maximum(count, 1.0), 0.0)
    mean = float(cells[filled].mean())
    factors = [n for n in (n_l, n_c) if n > 1]
    if not factors:
        return mean, float("nan"), n_l, n_c
    rng = np.random.default_rng(seed)
    w = rng.multinomial(n_l, np.full(n_l, 1.0 / n_l), size=n_boot).astype(np.float64)
    v = rng.multinomial(n_c, np.full(n_c, 1.0 / n_c), size=n_boot)[:, cluster_of_item]
    num = np.einsum("bl,li,bi->b", w, cells, v)
    den = np.einsum("bl,li,bi->b", w, filled.astype(np.float64), v)
    boot = num[den > 0] / den[den > 0]  # a draw selecting no rated cell says nothing
    if boot.size < 2:
        return mean, float("nan"), n_l, n_c
    half = float(stats.t.ppf(0.5 + level / 2, min(factors) - 1) * boot.std(ddof=1))
    return mean, half, n_l, n_c


def _index(keys) -> dict:
    """``{key: 0..k-1}`` in order of first appearance."""
    return {key: k for k, key in enumerate(dict.fromkeys(keys))}


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
