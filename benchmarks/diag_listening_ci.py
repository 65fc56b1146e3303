"""Coverage of the listening-test intervals in simulated crossed tests (no data needed).

MOS: every simulated listener rates every file once; rating = 3 + listener bias + file effect +
noise. For each setting the script prints how often the 95 % interval covers the true mean 3
and its mean half-width: the two-way bootstrap interval ``listen-summary`` reports
(:func:`emovc.evaluation.stats.crossed_mean_ci`), the t-interval over all ratings of earlier
versions (:func:`emovc.evaluation.stats.mean_ci`), and 1.96 × the true standard error.

A/B: every simulated listener answers every pair once, preferring system X with probability
``logistic(b0 + listener effect + pair effect)``; the true share is that probability's mean
over the population of listeners and pairs. For each setting the script prints how often the
95 % interval covers the true share and its mean width: the interval over listeners and pairs
``listen-summary`` reports (:func:`emovc.evaluation.stats.crossed_share_ci`) and the exact
binomial interval over all answers of earlier versions
(:func:`emovc.evaluation.stats.binomial_ci`).

    .venv/bin/python benchmarks/diag_listening_ci.py [--n-sim 400]
"""

from __future__ import annotations

import argparse

import numpy as np

from emovc.evaluation.stats import binomial_ci, crossed_mean_ci, crossed_share_ci, mean_ci

# (listeners, files, SD of listener bias, SD of file effect, SD of noise)
SETTINGS = [(6, 10, 0.5, 0.5, 0.8), (15, 20, 0.5, 0.5, 0.8), (15, 20, 0.0, 0.0, 1.0)]
# (listeners, pairs, SD of listener effect, SD of pair effect (logits), b0 (logit))
AB_SETTINGS = [(6, 10, 1.0, 1.0, 0.85), (15, 20, 1.0, 1.0, 0.85), (20, 8, 1.5, 0.5, 0.5),
               (8, 30, 0.5, 1.5, 1.5), (15, 20, 0.0, 0.0, 0.85)]


def simulate(rng: np.random.Generator, n_l: int, n_f: int, sd_l: float, sd_f: float,
             sd_e: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(ratings, listener, file)`` of one crossed test, each ``(n_l * n_f,)``."""
    who, file = crossed(n_l, n_f)
    ratings = (3.0 + rng.normal(0, sd_l, n_l)[who] + rng.normal(0, sd_f, n_f)[file]
               + rng.normal(0, sd_e, who.size))
    return ratings, who, file


def crossed(n_l: int, n_f: int) -> tuple[np.ndarray, np.ndarray]:
    """``(listener, item)`` of every cell of an ``n_l`` × ``n_f`` test, each ``(n_l * n_f,)``."""
    who, item = np.meshgrid(np.arange(n_l), np.arange(n_f), indexing="ij")
    return who.ravel(), item.ravel()


def simulate_ab(rng: np.random.Generator, n_l: int, n_p: int, sd_l: float, sd_p: float,
                b0: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(prefers X, listener, pair)`` of one crossed A/B test, each ``(n_l * n_p,)``."""
    who, pair = crossed(n_l, n_p)
    logit = b0 + rng.normal(0, sd_l, n_l)[who] + rng.normal(0, sd_p, n_p)[pair]
    return rng.random(who.size) < 1.0 / (1.0 + np.exp(-logit)), who, pair


def true_share(b0: float, sd: float) -> float:
    """E[logistic(b0 + sd z)], z standard normal (Gauss-Hermite, 80 nodes)."""
    z, w = np.polynomial.hermite_e.hermegauss(80)
    return float(np.sum(w / (1.0 + np.exp(-(b0 + sd * z)))) / np.sqrt(2.0 * np.pi))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-sim", type=int, default=400, help="simulated tests per setting")
    args = parser.parse_args()
    print("MOS\nlisteners files sd_listener sd_file sd_noise | bootstrap: coverage half-width | "
          "pooled t: coverage half-width | 1.96 x true SE")
    for n_l, n_f, sd_l, sd_f, sd_e in SETTINGS:
        rng = np.random.default_rng(20261201)
        hits, widths = np.zeros(2), np.zeros(2)
        for k in range(args.n_sim):
            ratings, who, file = simulate(rng, n_l, n_f, sd_l, sd_f, sd_e)
            for j, (mean, half) in enumerate((crossed_mean_ci(ratings, who, file, seed=k)[:2],
                                              mean_ci(ratings)[:2])):
                hits[j] += abs(mean - 3.0) <= half
                widths[j] += half
        ideal = 1.96 * np.sqrt(sd_l ** 2 / n_l + sd_f ** 2 / n_f + sd_e ** 2 / (n_l * n_f))
        cov, wid = hits / args.n_sim, widths / args.n_sim
        print(f"{n_l:9d} {n_f:5d} {sd_l:11.1f} {sd_f:7.1f} {sd_e:8.1f} | {cov[0]:19.3f} "
              f"{wid[0]:10.3f} | {cov[1]:17.3f} {wid[1]:10.3f} | {ideal:14.3f}")
    print("\nA/B\nlisteners pairs sd_listener sd_pair    b0 true share | listeners and pairs: "
          "coverage width | exact binomial: coverage width")
    for n_l, n_p, sd_l, sd_p, b0 in AB_SETTINGS:
        rng = np.random.default_rng(20261201)
        truth = true_share(b0, float(np.hypot(sd_l, sd_p)))
        hits, widths = np.zeros(2), np.zeros(2)
        for k in range(args.n_sim):
            chosen, who, pair = simulate_ab(rng, n_l, n_p, sd_l, sd_p, b0)
            crossed_ci = crossed_share_ci(chosen, who, pair, seed=k)[1:3]
            for j, (low, high) in enumerate((crossed_ci,
                                             binomial_ci(int(chosen.sum()), chosen.size)[1:])):
                hits[j] += low <= truth <= high
                widths[j] += high - low
        cov, wid = hits / args.n_sim, widths / args.n_sim
        print(f"{n_l:9d} {n_p:5d} {sd_l:11.1f} {sd_p:7.1f} {b0:5.2f} {truth:10.3f} | "
              f"{cov[0]:29.3f} {wid[0]:5.3f} | {cov[1]:24.3f} {wid[1]:5.3f}")


if __name__ == "__main__":
    main()
