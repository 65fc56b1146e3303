"""Coverage of the listening-test intervals in simulated tests (no data needed).

MOS: rating = 3 + listener bias + file effect + noise. For each design the script prints how
often the 95 % interval covers the true mean 3 and its median half-width, for

- ``new``: the interval ``listen-summary`` reports
  (:func:`emovc.evaluation.stats.crossed_mean_ci`: method-of-moments variance components,
  Satterthwaite degrees of freedom),
- ``pigeonhole``: that of the previous version (a two-way "pigeonhole" bootstrap over
  listeners and files, then ``t`` with the smaller factor's levels minus one; copied below),
- ``pooled``: the t-interval over all ratings of earlier versions
  (:func:`emovc.evaluation.stats.mean_ci`),

and the median of 1.96 × the true standard error of each simulated test's mean (what an
interval could be if the variances were known; no interval estimated from the data reaches
it with few listeners or files).

A/B: listeners answer pairs, preferring system X with probability
``logistic(b0 + listener effect + pair effect)``; the true share is that probability's mean
over the population of listeners and pairs. For each design the script prints how often the
95 % interval covers the true share and its median width: ``new``
(:func:`emovc.evaluation.stats.crossed_share_ci`), ``pigeonhole`` (the previous version's, the
same Korn-Graubard interval on the bootstrap's standard error) and ``binomial`` (the exact
binomial interval over all answers of earlier versions).

Layouts: ``full`` every listener rates every file (answers every pair) once; ``half`` each
(listener, file) cell is rated with probability 1/2; ``stop`` each listener rates the files in
their own random order and stops after a uniformly drawn 2..all of them; ``3q`` (MOS) each file
is asked about three times (three questions with fixed offsets -0.6, 0, +0.6, as the
emotion-strength questions about one source), with a listener x file interaction of SD 0.3,
and the interval treats the file as the cluster of its questions.

    .venv/bin/python benchmarks/diag_listening_ci.py [--n-sim 400] [--n-boot 2000]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
from scipy import stats

from emovc.evaluation.crossed_stats import crossed_mean_ci, crossed_share_ci, exact_share_ci
from emovc.evaluation.stats import binomial_ci, mean_ci

# (listeners, files, SD of listener bias, SD of file effect, SD of noise, layout)
MOS_DESIGNS = [(2, 40, 0.5, 0.5, 1.0, "full"), (3, 20, 0.5, 0.5, 1.0, "full"),
               (8, 20, 0.5, 0.5, 1.0, "full"), (20, 8, 0.5, 0.5, 1.0, "full"),
               (6, 10, 0.5, 0.5, 0.8, "full"), (15, 20, 0.5, 0.5, 0.8, "full"),
               (2, 40, 0.2, 0.5, 1.0, "full"), (3, 20, 1.0, 0.3, 1.0, "full"),
               (2, 40, 0.0, 0.0, 1.0, "full"), (3, 20, 0.0, 0.0, 1.0, "full"),
               (15, 20, 0.0, 0.0, 1.0, "full"),
               (8, 20, 0.5, 0.5, 1.0, "half"), (3, 20, 0.5, 0.5, 1.0, "half"),
               (8, 20, 0.5, 0.5, 1.0, "stop"), (15, 20, 0.0, 0.0, 1.0, "stop"),
               (8, 10, 0.5, 0.5, 1.0, "3q"), (3, 10, 0.5, 0.5, 1.0, "3q"),
               (1, 20, 0.0, 0.5, 1.0, "full"), (12, 1, 0.5, 0.0, 1.0, "full")]
# (listeners, pairs, SD of listener effect, SD of pair effect (logits), b0 (logit), layout)
AB_DESIGNS = [(6, 10, 1.0, 1.0, 0.85, "full"), (15, 20, 1.0, 1.0, 0.85, "full"),
              (20, 8, 1.5, 0.5, 0.5, "full"), (8, 30, 0.5, 1.5, 1.5, "full"),
              (2, 40, 1.0, 1.0, 0.85, "full"), (3, 20, 1.0, 1.0, 0.85, "full"),
              (3, 8, 1.0, 1.0, 1.5, "full"), (2, 40, 0.0, 0.0, 0.85, "full"),
              (15, 20, 0.0, 0.0, 0.85, "full"), (3, 20, 0.0, 0.0, 0.0, "full"),
              (8, 20, 1.0, 1.0, 0.85, "half"), (8, 20, 1.0, 1.0, 0.85, "stop"),
              (1, 30, 0.0, 1.0, 0.85, "full"), (12, 1, 1.0, 0.0, 0.85, "full")]
QUESTIONS = (-0.6, 0.0, 0.6)  # fixed offsets of the three questions about a file ("3q")


def layout(rng: np.random.Generator, n_l: int, n_f: int, kind: str,
           ) -> tuple[np.ndarray, np.ndarray]:
    """``(listener, file)`` of each rated cell of an ``n_l`` × ``n_f`` test laid out as ``kind``
    (``full``, ``half``, ``stop``; ``3q`` as ``full``)."""
    who, file = (a.ravel() for a in np.meshgrid(np.arange(n_l), np.arange(n_f), indexing="ij"))
    if kind == "half":
        keep = rng.random(who.size) < 0.5
        if not keep.any():
            keep[rng.integers(who.size)] = True
    elif kind == "stop":
        keep = np.zeros(who.size, dtype=bool)
        for listener in range(n_l):
            rated = rng.permutation(n_f)[:rng.integers(min(2, n_f), n_f + 1)]
            keep[listener * n_f + rated] = True
    else:
        keep = np.ones(who.size, dtype=bool)
    return who[keep], file[keep]


def simulate_mos(rng: np.random.Generator, n_l: int, n_f: int, sd_l: float, sd_f: float,
                 sd_e: float, kind: str) -> tuple[np.ndarray, np.ndarray, list, np.ndarray,
                                                  float]:
    """``(ratings, listener, item, file, true SE of the cell mean)`` of one simulated test."""
    who, file = layout(rng, n_l, n_f, kind)
    bias, effect = rng.normal(0, sd_l, n_l), rng.normal(0, sd_f, n_f)
    if kind == "3q":
        who, file = np.repeat(who, 3), np.repeat(file, 3)
        question = np.tile(np.arange(3), who.size // 3)
        mix = rng.normal(0, 0.3, (n_l, n_f))[who, file]
        ratings = (3.0 + bias[who] + effect[file] + np.take(QUESTIONS, question) + mix
                   + rng.normal(0, sd_e, who.size))
        items = [f"{f}/{q}" for f, q in zip(file, question, strict=True)]
        var = 0.3 ** 2 * _sum_sq_share(who * n_f + file)
    else:
        ratings = 3.0 + bias[who] + effect[file] + rng.normal(0, sd_e, who.size)
        items, var = list(file), 0.0
    var += (sd_l ** 2 * _sum_sq_share(who) + sd_f ** 2 * _sum_sq_share(file)
            + sd_e ** 2 / who.size)
    return ratings, who, items, file, math.sqrt(var)


def _sum_sq_share(labels: np.ndarray) -> float:
    """``Σ_groups (n_group / n)²``: the weight of a group effect in the variance of a mean."""
    counts = np.unique(labels, return_counts=True)[1]
    return float(np.sum((counts / labels.size) ** 2))


def simulate_ab(rng: np.random.Generator, n_l: int, n_p: int, sd_l: float, sd_p: float,
                b0: float, kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(prefers X, listener, pair)`` of one simulated A/B test."""
    who, pair = layout(rng, n_l, n_p, kind)
    logit = b0 + rng.normal(0, sd_l, n_l)[who] + rng.normal(0, sd_p, n_p)[pair]
    return rng.random(who.size) < 1.0 / (1.0 + np.exp(-logit)), who, pair


def true_share(b0: float, sd: float) -> float:
    """E[logistic(b0 + sd z)], z standard normal (Gauss-Hermite, 80 nodes)."""
    z, w = np.polynomial.hermite_e.hermegauss(80)
    return float(np.sum(w / (1.0 + np.exp(-(b0 + sd * z)))) / np.sqrt(2.0 * np.pi))


# The previous version's intervals, for comparison (emovc.evaluation.stats as of commit 7427dfa).

def pigeonhole_se(values, listeners, items, clusters=None, n_boot: int = 2000,
                  seed: int = 0) -> tuple[float, float, int, int, int, int]:
    """``(mean, se, df, n_listeners, n_clusters, n_cells)``: the mean of (listener, item)
    cells, its two-way "pigeonhole" bootstrap standard error (listeners and clusters both
    resampled ``n_boot`` times) and ``df`` = the smaller resampled factor's levels minus one."""
    x = np.asarray(values, dtype=np.float64).reshape(-1)
    clusters = items if clusters is None else clusters
    rated = [(str(who), (str(item), str(group)), value) for who, item, group, value
             in zip(listeners, items, clusters, x, strict=True) if math.isfinite(value)]
    listener_ix = {k: j for j, k in enumerate(dict.fromkeys(r[0] for r in rated))}
    item_ix = {k: j for j, k in enumerate(dict.fromkeys(r[1] for r in rated))}
    cluster_ix = {k: j for j, k in enumerate(dict.fromkeys(g for _, g in item_ix))}
    cluster_of_item = np.array([cluster_ix[group] for _, group in item_ix])
    n_l, n_i, n_c = len(listener_ix), len(item_ix), len(cluster_ix)
    total, count = np.zeros((n_l, n_i)), np.zeros((n_l, n_i))
    for who, item, value in rated:
        total[listener_ix[who], item_ix[item]] += value
        count[listener_ix[who], item_ix[item]] += 1.0
    filled = count > 0
    cells = np.where(filled, total / np.maximum(count, 1.0), 0.0)
    mean, n_cells = float(cells[filled].mean()), int(filled.sum())
    factors = [n for n in (n_l, n_c) if n > 1]
    if not factors:
        return mean, float("nan"), 0, n_l, n_c, n_cells
    rng = np.random.default_rng(seed)
    w = rng.multinomial(n_l, np.full(n_l, 1.0 / n_l), size=n_boot).astype(np.float64)
    v = rng.multinomial(n_c, np.full(n_c, 1.0 / n_c), size=n_boot)[:, cluster_of_item]
    num = np.einsum("bl,li,bi->b", w, cells, v)
    den = np.einsum("bl,li,bi->b", w, filled.astype(np.float64), v)
    boot = num[den > 0] / den[den > 0]
    se = float(boot.std(ddof=1)) if boot.size >= 2 else float("nan")
    return mean, se, min(factors) - 1, n_l, n_c, n_cells


def pigeonhole_mean_ci(values, listeners, items, clusters=None, n_boot: int = 2000,
                       seed: int = 0) -> tuple[float, float]:
    """``(mean, half_width)``: ``t_{0.975, df}`` × the pigeonhole standard error."""
    mean, se, df, *_ = pigeonhole_se(values, listeners, items, clusters, n_boot, seed)
    return mean, float(stats.t.ppf(0.975, df) * se) if df > 0 else float("nan")


def pigeonhole_share_ci(chosen, listeners, items, n_boot: int = 2000, seed: int = 0,
                        ) -> tuple[float, float]:
    """``(low, high)``: Korn-Graubard on the pigeonhole standard error, ``n_eff`` scaled by
    ``(t_{n-1} / t_df)²``, the answers' count when the share is 0 or 1 or one factor has one
    level."""
    share, se, df, n_l, n_c, n = pigeonhole_se(np.asarray(chosen, dtype=np.float64),
                                               listeners, items, None, n_boot, seed)
    n_eff = float(n)
    if 0.0 < share < 1.0 and se > 0 and min(n_l, n_c) > 1:
        n_eff = min(n_eff, share * (1.0 - share) / se ** 2)
    if df > 0 and n > 1:
        n_eff *= (stats.t.ppf(0.975, n - 1) / stats.t.ppf(0.975, df)) ** 2
    return exact_share_ci(share, n_eff)[:2]


def mos_table(n_sim: int, n_boot: int) -> None:
    print("MOS (true mean 3; coverage of 95 % intervals, median half-width)\n"
          "listeners files sd_l sd_f sd_e layout |   new: cover  half | pigeonhole: cover  "
          "half | pooled t: cover  half | 1.96 x true SE")
    for n_l, n_f, sd_l, sd_f, sd_e, kind in MOS_DESIGNS:
        rng = np.random.default_rng(20261201)
        hits, halves, ideal = np.zeros(3), [[], [], []], []
        for k in range(n_sim):
            ratings, who, items, file, true_se = simulate_mos(rng, n_l, n_f, sd_l, sd_f, sd_e,
                                                              kind)
            for j, (mean, half) in enumerate((
                    crossed_mean_ci(ratings, who, items, file)[:2],
                    pigeonhole_mean_ci(ratings, who, items, file, n_boot=n_boot, seed=k),
                    mean_ci(ratings)[:2])):
                hits[j] += abs(mean - 3.0) <= half
                halves[j].append(half)
            ideal.append(1.96 * true_se)
        cov, med = hits / n_sim, [float(np.median(h)) for h in halves]
        print(f"{n_l:9d} {n_f:5d} {sd_l:4.1f} {sd_f:4.1f} {sd_e:4.1f} {kind:>6} | "
              f"{cov[0]:10.3f} {med[0]:5.2f} | {cov[1]:17.3f} {med[1]:5.2f} | "
              f"{cov[2]:15.3f} {med[2]:5.2f} | {np.median(ideal):14.2f}", flush=True)


def ab_table(n_sim: int, n_boot: int) -> None:
    print("\nA/B (coverage of the true share by 95 % intervals, median width)\n"
          "listeners pairs sd_l sd_p   b0 layout share |   new: cover width | pigeonhole: "
          "cover width | binomial: cover width")
    for n_l, n_p, sd_l, sd_p, b0, kind in AB_DESIGNS:
        rng = np.random.default_rng(20261201)
        truth = true_share(b0, float(np.hypot(sd_l, sd_p)))
        hits, widths = np.zeros(3), [[], [], []]
        for k in range(n_sim):
            chosen, who, pair = simulate_ab(rng, n_l, n_p, sd_l, sd_p, b0, kind)
            for j, (low, high) in enumerate((
                    crossed_share_ci(chosen, who, pair)[1:3],
                    pigeonhole_share_ci(chosen, who, pair, n_boot=n_boot, seed=k),
                    binomial_ci(int(chosen.sum()), chosen.size)[1:])):
                hits[j] += low <= truth <= high
                widths[j].append(high - low)
        cov, med = hits / n_sim, [float(np.median(w)) for w in widths]
        print(f"{n_l:9d} {n_p:5d} {sd_l:4.1f} {sd_p:4.1f} {b0:4.2f} {kind:>6} {truth:5.3f} | "
              f"{cov[0]:10.3f} {med[0]:5.2f} | {cov[1]:17.3f} {med[1]:5.2f} | "
              f"{cov[2]:15.3f} {med[2]:5.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-sim", type=int, default=400, help="simulated tests per design")
    parser.add_argument("--n-boot", type=int, default=2000,
                        help="bootstrap resamples of the previous version's interval")
    args = parser.parse_args()
    start = time.perf_counter()
    mos_table(args.n_sim, args.n_boot)
    ab_table(args.n_sim, args.n_boot)
    print(f"\n{args.n_sim} simulated tests per design, {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
