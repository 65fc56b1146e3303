"""Coverage of the listening-test MOS interval in simulated crossed tests (no data needed).

Every simulated listener rates every file once; rating = 3 + listener bias + file effect +
noise. For each setting the script prints how often the 95 % interval covers the true mean 3
and its mean half-width: the two-way bootstrap interval ``listen-summary`` reports
(:func:`emovc.evaluation.stats.crossed_mean_ci`), the t-interval over all ratings of earlier
versions (:func:`emovc.evaluation.stats.mean_ci`), and 1.96 × the true standard error.

    .venv/bin/python benchmarks/diag_listening_ci.py [--n-sim 400]
"""

from __future__ import annotations

import argparse

import numpy as np

from emovc.evaluation.stats import crossed_mean_ci, mean_ci

# (listeners, files, SD of listener bias, SD of file effect, SD of noise)
SETTINGS = [(6, 10, 0.5, 0.5, 0.8), (15, 20, 0.5, 0.5, 0.8), (15, 20, 0.0, 0.0, 1.0)]


def simulate(rng: np.random.Generator, n_l: int, n_f: int, sd_l: float, sd_f: float,
             sd_e: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(ratings, listener, file)`` of one crossed test, each ``(n_l * n_f,)``."""
    who, file = (a.ravel() for a in np.meshgrid(np.arange(n_l), np.arange(n_f), indexing="ij"))
    ratings = (3.0 + rng.normal(0, sd_l, n_l)[who] + rng.normal(0, sd_f, n_f)[file]
               + rng.normal(0, sd_e, who.size))
    return ratings, who, file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-sim", type=int, default=400, help="simulated tests per setting")
    args = parser.parse_args()
    print("listeners files sd_listener sd_file sd_noise | bootstrap: coverage half-width | "
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


if __name__ == "__main__":
    main()
