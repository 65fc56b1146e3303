"""Intervals for a crossed listening-test design (listeners × files): the MOS and the A/B
preference share, with variance components for listeners, file clusters and their
interaction (:func:`crossed_mean_ci`, :func:`crossed_share_ci`). Used by the listening-test
summary (:mod:`emovc.evaluation.listening_ratings`)."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy import sparse, stats


def crossed_mean_ci(values, listeners, items, clusters=None, level: float = 0.95,
                    ) -> tuple[float, float, int, int]:
    """Mean rating and a confidence half-width that treats listeners and items as samples.

    Ratings of a listening test are not independent: a listener who rates everything high,
    or an item every listener finds poor, moves many ratings at once. A t-interval over all
    ratings ignores that and is too narrow (it covered the true mean in 41-78 % of the
    simulated tests of ``benchmarks/diag_listening_ci.py`` with listener and file effects).
    Here the mean,
    its standard error and the standard error's degrees of freedom come from
    :func:`crossed_mean_se` (cells of a listener and an item; method-of-moments variance
    components of listeners, item clusters and the rest; Satterthwaite degrees of freedom),
    and the half-width is ``t_{(1+level)/2, df}`` × the standard error.

    In those simulations it covers 93-98 % with three or more listeners. With few listeners
    (or files) the degrees of freedom are few when their spread dominates the variance, and
    the interval is wide: two listeners whose means differ by far more than their ratings'
    noise explains give about 1 degree of freedom (``t`` = 12.7), however many files they
    rated. Two listeners whose biases differ moderately sometimes agree by chance; the
    listener variance is then estimated at 0 and the interval is too short (87-90 %
    coverage in those simulations): one difference cannot show how much listeners differ.
    With one listener the interval covers the files only (the mean that listener would give
    over files like these: the t-interval of the per-file means); with one file, the
    listeners only.

    Args:
        values, listeners, items, clusters: as :func:`crossed_mean_se`.
        level: confidence level.

    Returns:
        ``(mean, half_width, n_listeners, n_clusters)``; NaN mean for no values, NaN
        half-width for a single cell, 0 when all cells are equal.
    """
    est = crossed_mean_se(values, listeners, items, clusters)
    if est.se == 0:
        half = 0.0
    elif math.isfinite(est.se):
        half = float(stats.t.ppf(0.5 + level / 2, est.df) * est.se)
    else:
        half = float("nan")
    return est.mean, half, est.n_listeners, est.n_clusters


LISTENER, CLUSTER, LISTENER_CLUSTER = "listener", "cluster", "listener x cluster"


class CrossedMean(NamedTuple):
    """A mean over (listener, item) cells, its standard error and the error's degrees of
    freedom (:func:`crossed_mean_se`)."""

    mean: float  # NaN for no values
    se: float  # NaN for fewer than two cells; 0 when all cells are equal
    df: float  # Satterthwaite degrees of freedom of se²; NaN when se is NaN or 0
    n_listeners: int
    n_clusters: int
    n_cells: int  # (listener, item) cells with a value
    #: random factors besides the residual in the variance model used (of LISTENER, CLUSTER,
    #: LISTENER_CLUSTER); () when the cells were taken as independent
    factors: tuple[str, ...] = ()


def crossed_mean_se(values, listeners, items, clusters=None) -> CrossedMean:
    """Mean of ratings (or of 0/1 answers) over (listener, item) cells, with a standard
    error that treats listeners and item clusters as random samples:

    1. the ratings of one listener for one item are averaged into a cell (a listener rating
       the same file three times counts once);
    2. the mean is the mean of the ``N`` cells;
    3. the cells follow the crossed random-effects model
       ``cell = mu + listener + cluster (+ listener x cluster) + residual`` with variances
       ``s_L², s_C² (, s_LC²), s_E²``, so that the mean's variance is
       ``s_L² Σ_l (N_l/N)² + s_C² Σ_c (N_c/N)² (+ s_LC² Σ (N_lc/N)²) + s_E²/N`` (``N_l`` cells
       of listener ``l``, ``N_c`` of cluster ``c``); for a complete listeners × files table
       that is ``s_L²/L + s_C²/C + s_E²/(L C)``;
    4. the variances are method-of-moments estimates for unbalanced crossed designs (Gao and
       Owen 2017, "Efficient moment calculations for variance components in large unbalanced
       crossed random effects models", Electron. J. Statist. 11(1)): half the squared
       differences of all pairs of cells, of pairs sharing a listener, a cluster (and both),
       equated to their expectations, ``O(N)``; for a complete table they are the ANOVA
       estimates. A negative estimate drops its factor from the model and the others are
       estimated again (pooling it into the residual), so the variance is never below
       ``s_E²/N``;
    5. the degrees of freedom are Satterthwaite's, ``2 E[v]² / Var[v]`` for the estimate
       ``v = y'Ay`` (a quadratic form in the cells ``y``) under normal effects with the
       estimated variances: ``v² / tr((A S)²)``, ``S`` the cells' covariance; for a complete
       table that is the classical ``(MS_L + MS_C - MS_E)² / (MS_L²/(L-1) + MS_C²/(C-1) +
       MS_E²/((L-1)(C-1)))``.

    A factor that cannot be told from the mean or from the residual is left out of the model
    before estimating: listeners when there is one (the error then covers the items only),
    clusters when there is one, either when every cell has its own level (one listener
    rating each file once: the files and the residual are one), and listener x cluster when
    it is the cell, the listener or the cluster. With no factor left, the cells are taken as
    independent: ``se`` is that of the t-interval of the cell means (``df = N - 1``).

    Args:
        values: ``(n,)`` ratings; NaNs are left out.
        listeners: ``(n,)`` listener of each rating (any hashable).
        items: ``(n,)`` item of each rating; ratings of one listener and item form a cell.
        clusters: ``(n,)`` cluster of each rating's item, a random sample together (e.g. the
            audio file behind several questions: the questions themselves are taken as a
            fixed set, their differences no sampling variance); default: each item its own
            cluster.
    """
    x = np.asarray(values, dtype=np.float64).reshape(-1)
    clusters = items if clusters is None else clusters
    rated = [(str(who), (str(item), str(group)), value) for who, item, group, value
             in zip(listeners, items, clusters, x, strict=True) if math.isfinite(value)]
    if not rated:
        return CrossedMean(float("nan"), float("nan"), float("nan"), 0, 0, 0)
    listener_ix = _index(r[0] for r in rated)
    item_ix = _index(r[1] for r in rated)
    cluster_ix = _index(group for _, group in item_ix)
    cluster_of_item = np.array([cluster_ix[group] for _, group in item_ix])
    n_l, n_i, n_c = len(listener_ix), len(item_ix), len(cluster_ix)
    rating_cell = np.array([listener_ix[who] * n_i + item_ix[item] for who, item, _ in rated])
    cell_code, rating_cell = np.unique(rating_cell, return_inverse=True)
    counts = np.bincount(rating_cell)
    cells = np.bincount(rating_cell, weights=np.array([r[2] for r in rated])) / counts
    n = int(cells.size)
    mean = float(cells.mean())
    if n < 2:
        return CrossedMean(mean, float("nan"), float("nan"), n_l, n_c, n)
    cell_listener, cell_cluster = cell_code // n_i, cluster_of_item[cell_code % n_i]
    factors = _identifiable({LISTENER: cell_listener, CLUSTER: cell_cluster,
                             LISTENER_CLUSTER: _joint(cell_listener, cell_cluster)}, n)
    fit = _fit_components(cells - cells[0], factors)  # differences only: shift-free
    if fit is None:
        return CrossedMean(mean, float("nan"), float("nan"), n_l, n_c, n)
    names, sigma, weights, var = fit
    if not var > 0:
        return CrossedMean(mean, 0.0, float("nan"), n_l, n_c, n, tuple(names))
    kept = {k: factors[k] for k in names}
    df = _satterthwaite_df(var, kept, weights, sigma, n)
    return CrossedMean(mean, math.sqrt(var), df, n_l, n_c, n, tuple(names))


def _identifiable(factors: dict[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
    """The ``factors`` (labels ``0..k-1`` of each of ``n`` cells) that the moment equations can
    tell apart: not one level (the mean), not one cell per level (the residual), not the same
    partition as a factor kept before."""
    kept: dict[str, np.ndarray] = {}
    for name, labels in factors.items():
        levels = int(labels.max()) + 1
        if levels < 2 or levels == n:
            continue
        if any(_levels(_joint(labels, other)) == levels == _levels(other)
               for other in kept.values()):
            continue
        kept[name] = labels
    return kept


def _fit_components(y: np.ndarray, factors: dict[str, np.ndarray]):
    """Method-of-moments variances of ``factors`` and the residual for cells ``y``, dropping
    factors with a negative estimate (most negative first) until none is negative.

    For each factor ``g`` and the whole set ``T``, ``U_g = Σ_groups (n Σ y² - (Σ y)²)`` is
    ``Σ (y_i - y_j)²`` over the pairs ``i < j`` of cells in one group of ``g``, and
    ``E[U_g] = Σ_k s_k² (P_g - P_gk) + s_E² P_g``, ``P_g`` the number of ordered pairs of
    distinct cells sharing ``g``, ``P_gk`` those sharing ``g`` and ``k`` (a pair's squared
    difference has expectation twice the variances of the effects it does not share).

    Returns:
        ``(names, sigma, weights, var)``: the factors kept, their variances followed by the
        residual's, the weights ``w`` of ``U_{names...}, U_T`` that give the variance of the
        mean, and that variance ``var = w · U = Σ_k s_k² Σ_groups (n/N)² + s_E²/N``; None when
        the equations are singular.
    """
    n = y.size
    names = list(factors)
    total = np.zeros(n, dtype=np.int64)
    while True:
        groups = [factors[g] for g in names] + [total]
        pairs = [_sum_sq_sizes(g) - n for g in groups]
        matrix = np.array([[p - (_sum_sq_sizes(_joint(g, factors[k])) - n) for k in names] + [p]
                           for g, p in zip(groups, pairs, strict=True)])
        u = np.array([_pair_sum_sq(y, g) for g in groups])
        coef = np.array([_sum_sq_sizes(factors[k]) / n ** 2 for k in names] + [1.0 / n])
        try:
            if np.linalg.cond(matrix) > 1e12:
                raise np.linalg.LinAlgError
            sigma = np.linalg.solve(matrix, u)
        except np.linalg.LinAlgError:
            if not names:
                return None
            names.pop()
            continue
        zero = 1e-9 * max(float(sigma.max()), 0.0)  # rounding of an exact 0
        negative = [j for j in range(len(names)) if sigma[j] <= zero]
        if not negative and sigma[-1] < 0 and names:
            negative = [len(names) - 1]
        if not negative:
            return names, sigma, np.linalg.solve(matrix.T, coef), float(coef @ sigma)
        names.pop(min(negative, key=lambda j: sigma[j]))


def _satterthwaite_df(var: float, factors: dict[str, np.ndarray], weights: np.ndarray,
                      sigma: np.ndarray, n: int) -> float:
    """Satterthwaite degrees of freedom ``var² / tr((A S)²)`` of the variance estimate
    ``var = y'Ay``, ``A = Σ_g w_g (D_g - P_g)`` (``P_g`` the 0/1 same-group matrix of factor
    ``g`` or of the whole set ``T``, ``D_g`` the diagonal of its group sizes), and
    ``S = Σ_k s_k² P_k + s_E² I`` the covariance of the cells.

    The traces of the products of these ``n × n`` matrices are computed from the factors'
    (weighted) contingency tables, so the cost grows with the number of levels, not ``n²``.
    """
    labels = dict(factors)
    labels["T"] = np.zeros(n, dtype=np.int64)
    levels = {g: _levels(lab) for g, lab in labels.items()}
    d = sum(w * np.bincount(labels[g])[labels[g]] for g, w
            in zip([*factors, "T"], weights, strict=True))
    # A S as a sum of coefficient x product of matrices: "D" = diag(d), a name = P of it
    terms = [(s, ("D", k)) for k, s in zip(factors, sigma[:-1], strict=True)]
    terms.append((sigma[-1], ("D",)))
    for g, w in zip([*factors, "T"], weights, strict=True):
        terms += [(-w * s, (g, k)) for k, s in zip(factors, sigma[:-1], strict=True)]
        terms.append((-w * sigma[-1], (g,)))
    terms = [(c, ops) for c, ops in terms if c != 0]
    tables: dict = {}

    def table(a: str, b: str, power: int):
        """``Z_a' diag(d^power) Z_b``: the ``d^power``-weighted contingency table of a, b
        (sparse where it is large and mostly empty, as that of nested factors)."""
        if (a, b, power) not in tables:
            shape = (levels[a], levels[b])
            if shape[0] * shape[1] <= 4096:
                counts = np.bincount(labels[a] * shape[1] + labels[b], d ** power,
                                     shape[0] * shape[1]).reshape(shape)
            else:
                counts = sparse.csr_matrix((d ** power, (labels[a], labels[b])), shape=shape)
                if shape[0] * shape[1] <= 4 * counts.nnz:
                    counts = counts.toarray()
            tables[a, b, power] = counts
        return tables[a, b, power]

    def trace(ops: tuple[str, ...]) -> float:
        """``tr`` of the product of ``ops``, each "D" or a name, read cyclically."""
        marks = [j for j, op in enumerate(ops) if op != "D"]
        if not marks:
            return float(np.sum(d ** len(ops)))
        first = min(marks, key=lambda j: levels[ops[j]])
        ops = ops[first:] + ops[:first]
        names_, powers = [], []
        for op in ops:
            if op == "D":
                powers[-1] += 1
            else:
                names_.append(op)
                powers.append(0)
        steps = [table(a, names_[(j + 1) % len(names_)], powers[j])
                 for j, a in enumerate(names_)]
        product = steps[0]
        for step in steps[1:-1]:
            product = product @ step
        if len(steps) == 1:
            return float(product.diagonal().sum())
        last = steps[-1].T  # tr(X Y) = Σ X ∘ Yᵀ
        if isinstance(product, np.ndarray) and isinstance(last, np.ndarray):
            return float(np.sum(product * last))
        return float(sparse.csr_matrix(product).multiply(last).sum())

    square = 0.0
    for j, (c1, ops1) in enumerate(terms):  # tr(XY) = tr(YX): each pair once
        for k, (c2, ops2) in enumerate(terms[j:]):
            square += (2 - (k == 0)) * c1 * c2 * trace(ops1 + ops2)
    return float(var ** 2 / square) if square > 0 else float("inf")


def _levels(labels: np.ndarray) -> int:
    return int(labels.max()) + 1


def _joint(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Labels ``0..k-1`` of the pairs ``(a, b)``."""
    return np.unique(a * (int(b.max()) + 1) + b, return_inverse=True)[1].reshape(-1)


def _sum_sq_sizes(labels: np.ndarray) -> float:
    """``Σ`` over groups of (cells in the group)²."""
    return float(np.sum(np.bincount(labels).astype(np.float64) ** 2))


def _pair_sum_sq(y: np.ndarray, labels: np.ndarray) -> float:
    """``Σ_groups (n Σ y² - (Σ y)²)``: ``Σ (y_i - y_j)²`` over pairs ``i < j`` in one group."""
    size = np.bincount(labels).astype(np.float64)
    return float(np.sum(size * np.bincount(labels, y * y) - np.bincount(labels, y) ** 2))


def crossed_share_ci(chosen, listeners, items, clusters=None, level: float = 0.95,
                     ) -> tuple[float, float, float, float]:
    """Share of answers choosing one side (an A/B preference), with an interval and a test
    against 0.5 that treat listeners and items (pairs) as samples.

    A listener who prefers one system throughout, or a pair where one side is clearly
    better, moves many answers at once, so the exact binomial interval over all answers is
    too narrow (``benchmarks/diag_listening_ci.py``). Here the share, its standard error and
    the error's degrees of freedom are :func:`crossed_mean_se`'s over the 0/1 answers (the
    same variance components as the MOS interval), and the interval is the Korn-Graubard
    one for a proportion from clustered data (E. L. Korn and B. I. Graubard, "Confidence
    intervals for proportions with small expected number of positive counts estimated from
    survey data", Survey Methodology 24(2), 1998; R ``survey::svyciprop(method="beta")``):
    the exact (Clopper-Pearson) interval of an effective number of answers,

    - ``n_eff = share (1 - share) / se²``, at most the number of answers ``n`` (clustering
      never makes answers worth more than independent ones),
    - times ``(t_{(1+level)/2, n-1} / t_{(1+level)/2, df})²`` (few degrees of freedom: a
      wider interval),
    - ``x = share × n_eff`` successes; low = Beta⁻¹(α/2; x, n_eff - x + 1), high =
      Beta⁻¹(1 - α/2; x + 1, n_eff - x).

    When the answers are independent as far as the data can tell (one listener, or one
    pair, or listener and pair variances estimated at 0), and when the share is 0 or 1 (the
    answers have no spread to estimate clustering from), ``n_eff = n``: the exact binomial
    interval and test of all answers. At a share of 0 or 1 that takes the listeners'
    agreement as evidence that listeners agree; if each listener could be entirely set on
    one side, a few of them agreeing would be unremarkable, and only more listeners can
    tell. With two listeners the interval is too short now and then, as the MOS interval
    (:func:`crossed_mean_ci`).

    The p-value is the two-sided exact binomial test of ``x`` in ``n_eff`` against 0.5 (twice
    the smaller tail, from the same Beta functions), so it is below ``1 - level`` exactly
    when the interval leaves out 0.5.

    Args:
        chosen: ``(n,)`` 1 (or True) where the answer chose the side counted, else 0.
        listeners, items, clusters: as :func:`crossed_mean_se`.
        level: confidence level.

    Returns:
        ``(share, low, high, p_value)``; all NaN for no answers.
    """
    est = crossed_mean_se(np.asarray(chosen, dtype=np.float64), listeners, items, clusters)
    n, share = est.n_cells, est.mean
    if n == 0:
        return (float("nan"),) * 4
    n_eff = float(n)
    if est.factors and 0.0 < share < 1.0 and est.se > 0:
        n_eff = min(n_eff, share * (1.0 - share) / est.se ** 2)
        q = 0.5 + level / 2
        n_eff *= (stats.t.ppf(q, n - 1) / stats.t.ppf(q, est.df)) ** 2
    return (share, *exact_share_ci(share, n_eff, level))


def exact_share_ci(share: float, n_eff: float, level: float = 0.95,
                   ) -> tuple[float, float, float]:
    """``(low, high, p_value)``: the exact (Clopper-Pearson) interval and two-sided test
    against 0.5 of ``x = share × n_eff`` successes in ``n_eff`` (possibly fractional)
    answers, from the Beta functions: low = Beta⁻¹(α/2; x, n_eff - x + 1), high =
    Beta⁻¹(1 - α/2; x + 1, n_eff - x), p = twice the smaller tail."""
    x, alpha = share * n_eff, 1.0 - level
    low = float(stats.beta.ppf(alpha / 2, x, n_eff - x + 1)) if x > 0 else 0.0
    high = float(stats.beta.ppf(1 - alpha / 2, x + 1, n_eff - x)) if x < n_eff else 1.0
    at_least = float(stats.beta.cdf(0.5, x, n_eff - x + 1)) if x > 0 else 1.0  # P(X >= x)
    at_most = float(stats.beta.sf(0.5, x + 1, n_eff - x)) if x < n_eff else 1.0  # P(X <= x)
    return low, high, min(1.0, 2.0 * min(at_least, at_most))


def _index(keys) -> dict:
    """``{key: 0..k-1}`` in order of first appearance."""
    return {key: k for k, key in enumerate(dict.fromkeys(keys))}
