"""Confidence intervals used by the report and the listening-test summary."""

from __future__ import annotations

import math
from typing import NamedTuple

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


def crossed_mean_ci(values, listeners, items, clusters=None, level: float = 0.95,
                    n_boot: int = 2000, seed: int = 0) -> tuple[float, float, int, int]:
    """Mean rating and a confidence half-width that treats listeners and items as samples.

    Ratings of a listening test are not independent: a listener who rates everything high,
    or an item every listener finds poor, moves many ratings at once. A t-interval over all
    ratings ignores that and is too narrow (47-63 % coverage instead of 95 % in the
    simulated tests of ``benchmarks/diag_listening_ci.py``). Here the mean and its standard
    error come from :func:`crossed_mean_se` (cells of a listener and an item, a two-way
    bootstrap over listeners and item clusters), and the half-width is
    ``t_{(1+level)/2, df}`` × that standard error, with ``df`` = the number of levels of the
    smaller factor minus one (listeners or clusters; a factor with one level is not resampled
    and does not count). With one listener the interval covers the items only; with one
    listener and one item it is NaN.

    The two-way bootstrap slightly overstates the variance (it counts the residual twice),
    so the interval errs on the wide side.

    Args:
        values, listeners, items, clusters, n_boot, seed: as :func:`crossed_mean_se`.
        level: confidence level.

    Returns:
        ``(mean, half_width, n_listeners, n_clusters)``; NaN mean for no values.
    """
    est = crossed_mean_se(values, listeners, items, clusters, n_boot, seed)
    half = (float(stats.t.ppf(0.5 + level / 2, est.df) * est.se) if est.df > 0
            else float("nan"))
    return est.mean, half, est.n_listeners, est.n_clusters


class CrossedMean(NamedTuple):
    """A mean over (listener, item) cells and its two-way bootstrap standard error
    (:func:`crossed_mean_se`)."""

    mean: float  # NaN for no values
    se: float  # NaN when neither factor has two levels, or the bootstrap is degenerate
    df: int  # levels of the smaller resampled factor minus one; 0 when none is resampled
    n_listeners: int
    n_clusters: int
    n_cells: int  # (listener, item) cells with a value


def crossed_mean_se(values, listeners, items, clusters=None, n_boot: int = 2000,
                    seed: int = 0) -> CrossedMean:
    """Mean of ratings (or of 0/1 answers) over (listener, item) cells, with a standard
    error that treats listeners and items as samples:

    1. the ratings of one listener for one item are averaged into a cell (a listener rating
       the same file three times counts once);
    2. the mean is the mean of the cells;
    3. its standard error comes from a two-way bootstrap (Owen's "pigeonhole" bootstrap,
       2007): ``n_boot`` times, listeners and item clusters are both resampled with
       replacement, and the mean of the cells they select, weighted by how often each was
       drawn, is recomputed; the standard deviation of those means is the standard error.

    Args:
        values: ``(n,)`` ratings; NaNs are left out.
        listeners: ``(n,)`` listener of each rating (any hashable).
        items: ``(n,)`` item of each rating; ratings of one listener and item form a cell.
        clusters: ``(n,)`` cluster of each rating's item, resampled together (e.g. the audio
            file behind several questions); default: each item its own cluster.
        n_boot: bootstrap replicates.
        seed: bootstrap seed (the same ratings give the same standard error).
    """
    x = np.asarray(values, dtype=np.float64).reshape(-1)
    clusters = items if clusters is None else clusters
    rated = [(str(who), (str(item), str(group)), value) for who, item, group, value
             in zip(listeners, items, clusters, x, strict=True) if math.isfinite(value)]
    if not rated:
        return CrossedMean(float("nan"), float("nan"), 0, 0, 0, 0)
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
    n_cells = int(filled.sum())
    factors = [n for n in (n_l, n_c) if n > 1]
    if not factors:
        return CrossedMean(mean, float("nan"), 0, n_l, n_c, n_cells)
    rng = np.random.default_rng(seed)
    w = rng.multinomial(n_l, np.full(n_l, 1.0 / n_l), size=n_boot).astype(np.float64)
    v = rng.multinomial(n_c, np.full(n_c, 1.0 / n_c), size=n_boot)[:, cluster_of_item]
    num = np.einsum("bl,li,bi->b", w, cells, v)
    den = np.einsum("bl,li,bi->b", w, filled.astype(np.float64), v)
    boot = num[den > 0] / den[den > 0]  # a draw selecting no rated cell says nothing
    se = float(boot.std(ddof=1)) if boot.size >= 2 else float("nan")
    return CrossedMean(mean, se, min(factors) - 1, n_l, n_c, n_cells)


def crossed_share_ci(chosen, listeners, items, clusters=None, level: float = 0.95,
                     n_boot: int = 2000, seed: int = 0,
                     ) -> tuple[float, float, float, float]:
    """Share of answers choosing one side (an A/B preference), with an interval and a test
    against 0.5 that treat listeners and items (pairs) as samples.

    A listener who prefers one system throughout, or a pair where one side is clearly
    better, moves many answers at once, so the exact binomial interval over all answers is
    too narrow (``benchmarks/diag_listening_ci.py``). Here the share and its standard error
    are :func:`crossed_mean_se`'s over the 0/1 answers (the same two-way bootstrap as the
    MOS interval), and the interval is the Korn-Graubard one for a proportion from clustered
    data (E. L. Korn and B. I. Graubard, "Confidence intervals for proportions with small
    expected number of positive counts estimated from survey data", Survey Methodology
    24(2), 1998; R ``survey::svyciprop(method="beta")``): the exact (Clopper-Pearson)
    interval of an effective number of answers,

    - ``n_eff = share (1 - share) / se²``, at most the number of answers ``n`` (clustering
      never makes answers worth more than independent ones); ``n`` when the share is 0 or 1,
      when there is no standard error, and when one listener or one item leaves the answers
      resampled one by one (``clusters`` not given), whose bootstrap variance only
      estimates the binomial ``share (1 - share) / n``;
    - times ``(t_{(1+level)/2, n-1} / t_{(1+level)/2, df})²``, ``df`` that of
      :func:`crossed_mean_se` (few listeners or pairs: a wider interval);
    - ``x = share × n_eff`` successes; low = Beta⁻¹(α/2; x, n_eff - x + 1), high =
      Beta⁻¹(1 - α/2; x + 1, n_eff - x).

    The p-value is the two-sided exact binomial test of ``x`` in ``n_eff`` against 0.5 (twice
    the smaller tail, from the same Beta functions), so it is below ``1 - level`` exactly
    when the interval leaves out 0.5. With independent answers (``n_eff = n``) interval and
    test are the exact binomial ones.

    Args:
        chosen: ``(n,)`` 1 (or True) where the answer chose the side counted, else 0.
        listeners, items, clusters, n_boot, seed: as :func:`crossed_mean_se`.
        level: confidence level.

    Returns:
        ``(share, low, high, p_value)``; all NaN for no answers.
    """
    est = crossed_mean_se(np.asarray(chosen, dtype=np.float64), listeners, items, clusters,
                          n_boot, seed)
    n, share = est.n_cells, est.mean
    if n == 0:
        return (float("nan"),) * 4
    n_eff = float(n)
    one_by_one = clusters is None and min(est.n_listeners, est.n_clusters) == 1
    if 0.0 < share < 1.0 and est.se > 0 and not one_by_one:  # NaN se: nothing resampled
        n_eff = min(n_eff, share * (1.0 - share) / est.se ** 2)
    if est.df > 0 and n > 1:
        q = 0.5 + level / 2
        n_eff *= (stats.t.ppf(q, n - 1) / stats.t.ppf(q, est.df)) ** 2
    x, alpha = share * n_eff, 1.0 - level
    low = float(stats.beta.ppf(alpha / 2, x, n_eff - x + 1)) if x > 0 else 0.0
    high = float(stats.beta.ppf(1 - alpha / 2, x + 1, n_eff - x)) if x < n_eff else 1.0
    at_least = float(stats.beta.cdf(0.5, x, n_eff - x + 1)) if x > 0 else 1.0  # P(X >= x)
    at_most = float(stats.beta.sf(0.5, x + 1, n_eff - x)) if x < n_eff else 1.0  # P(X <= x)
    return share, low, high, min(1.0, 2.0 * min(at_least, at_most))


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
