"""The MOS interval of the listening test: listeners and items are samples, repeats count once."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from scipy import stats

from emovc.evaluation.listening_ratings import RATING_FIELDS, summarize_ratings
from emovc.evaluation.stats import binomial_ci, crossed_mean_ci, crossed_share_ci, mean_ci


def _simulate(rng, n_listeners, n_files, repeats, sd_listener, sd_file, sd_noise, true=3.0):
    """Ratings of a crossed test: every listener rates every file ``repeats`` times;
    rating = true + listener bias + file effect + noise."""
    bias = rng.normal(0, sd_listener, n_listeners)
    effect = rng.normal(0, sd_file, n_files)
    who, file, value = [], [], []
    for listener in range(n_listeners):
        for f in range(n_files):
            for _ in range(repeats):
                who.append(listener)
                file.append(f)
                value.append(true + bias[listener] + effect[f] + rng.normal(0, sd_noise))
    return np.array(value), who, file


def test_the_interval_covers_the_mean_when_listeners_and_items_differ():
    """Listener biases and item effects move many ratings together. The t-interval over
    all ratings (the old MOS interval) then covers the true mean in only about half of the
    simulated tests; the interval over listeners and items covers it at least as often as
    it claims, without being uselessly wide."""
    rng = np.random.default_rng(20261201)
    n_sim, n_l, n_f, sds = 200, 6, 10, (0.5, 0.5, 0.8)
    ideal = 1.96 * np.sqrt(sds[0] ** 2 / n_l + sds[1] ** 2 / n_f + sds[2] ** 2 / (n_l * n_f))
    covered = {"crossed": 0, "pooled": 0}
    widths = []
    for k in range(n_sim):
        values, who, file = _simulate(rng, n_l, n_f, 1, *sds)
        mean, half, _, _ = crossed_mean_ci(values, who, file, n_boot=500, seed=k)
        covered["crossed"] += abs(mean - 3.0) <= half
        widths.append(half)
        mean, half, _ = mean_ci(values)
        covered["pooled"] += abs(mean - 3.0) <= half
    assert covered["crossed"] / n_sim >= 0.92
    assert covered["pooled"] / n_sim <= 0.75
    assert np.mean(widths) < 1.6 * ideal


def test_repeated_ratings_of_one_file_by_one_listener_count_once():
    """The source anchor is one trial per (source, emotion): 12 trials over 4 files, each
    file's naturalness rated 3 times by every listener. Those repeats are one cell, so the
    interval is that of the per-file means, not of 12 independent ratings."""
    rng = np.random.default_rng(5)
    values, who, file = _simulate(rng, 1, 4, 3, 0.0, 0.6, 0.5)
    mean, half, n_l, n_f = crossed_mean_ci(values, who, file, n_boot=4000)
    cells = values.reshape(4, 3).mean(axis=1)
    assert (n_l, n_f) == (1, 4) and mean == pytest.approx(cells.mean())
    # one listener: the bootstrap over the 4 files of their means (plug-in SE), with t_3
    expected = stats.t.ppf(0.975, 3) * cells.std(ddof=0) / 2
    assert half == pytest.approx(expected, rel=0.05)
    assert crossed_mean_ci(cells, [0] * 4, range(4), n_boot=4000)[:2] == (mean, half)
    assert half > 1.5 * mean_ci(values)[1]  # what n = 12 claimed


def test_listen_summary_counts_files_and_questions(tmp_path):
    """In a ratings file, naturalness of the source is per file, emotion strength per
    (file, emotion) question; files of earlier versions (no stimulus column) count each
    trial as its own file."""
    rows = []
    rng = np.random.default_rng(1)
    for listener in ("al", "bo", "cy"):
        for f in range(4):
            for emotion in ("angry", "sad", "happy"):
                rows.append({"listener": listener, "trial_id": f"s{f}{emotion}", "kind": "mos",
                             "system": "source", "target_emotion": emotion,
                             "stimulus": f"file{f}", "naturalness": int(rng.integers(1, 6)),
                             "emotion_strength": int(rng.integers(1, 6))})
    path = tmp_path / "r.csv"
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=RATING_FIELDS, restval="")
        w.writeheader()
        w.writerows(rows)
    source = summarize_ratings(path)["mos"]["source"]
    nat, emo = source["naturalness"], source["emotion_strength"]
    assert (nat["n"], nat["listeners"], nat["stimuli"]) == (36, 3, 4)
    assert (emo["n"], emo["stimuli"]) == (36, 4)
    values = [r["naturalness"] for r in rows]
    who = [r["listener"] for r in rows]
    assert (nat["mean"], nat["ci95"]) == pytest.approx(
        crossed_mean_ci(values, who, [r["stimulus"] for r in rows])[:2])
    for r in rows:
        del r["stimulus"]
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=[c for c in RATING_FIELDS if c != "stimulus"],
                           restval="")
        w.writeheader()
        w.writerows(rows)
    assert summarize_ratings(path)["mos"]["source"]["naturalness"]["stimuli"] == 12


def _simulate_ab(rng, n_listeners, n_pairs, sd_listener, sd_pair, b0):
    """Answers of a crossed A/B test: every listener answers every pair once, preferring X
    with probability logistic(b0 + listener effect + pair effect)."""
    who, pair = (a.ravel() for a in np.meshgrid(np.arange(n_listeners), np.arange(n_pairs),
                                                indexing="ij"))
    logit = (b0 + rng.normal(0, sd_listener, n_listeners)[who]
             + rng.normal(0, sd_pair, n_pairs)[pair])
    return rng.random(who.size) < 1 / (1 + np.exp(-logit)), who, pair


def _true_share(b0, sd):
    z, w = np.polynomial.hermite_e.hermegauss(80)
    return float(np.sum(w / (1 + np.exp(-(b0 + sd * z)))) / np.sqrt(2 * np.pi))


def test_the_ab_interval_covers_the_share_when_listeners_and_pairs_differ():
    """Listeners who prefer one system throughout and pairs where one side is clearly better
    move many answers together: the exact binomial interval over all answers (the old A/B
    interval) then covers the population's share in well under 95 % of simulated tests; the
    interval over listeners and pairs covers it at least as often as it claims."""
    rng = np.random.default_rng(20261201)
    n_sim, n_l, n_p, sd_l, sd_p, b0 = 150, 15, 20, 1.0, 1.0, 0.85
    truth = _true_share(b0, np.hypot(sd_l, sd_p))
    covered = {"crossed": 0, "binomial": 0}
    for k in range(n_sim):
        chosen, who, pair = _simulate_ab(rng, n_l, n_p, sd_l, sd_p, b0)
        _, low, high, _ = crossed_share_ci(chosen, who, pair, n_boot=500, seed=k)
        covered["crossed"] += low <= truth <= high
        _, low, high = binomial_ci(int(chosen.sum()), chosen.size)
        covered["binomial"] += low <= truth <= high
    assert covered["crossed"] / n_sim >= 0.92
    assert covered["binomial"] / n_sim <= 0.75


def test_the_ab_interval_of_independent_answers_is_the_exact_binomial_one():
    """One listener, or one pair, answers are independent: interval and p-value are the
    exact binomial ones (as before), not those of a bootstrap's noisy estimate of the
    binomial variance; and the p-value is below 0.05 exactly when the interval leaves out
    0.5."""
    for n in range(3, 40, 4):
        for k in range(n + 1):
            chosen = [1] * k + [0] * (n - k)
            for who, pair in (([0] * n, range(n)), (range(n), [0] * n)):
                share, low, high, p = crossed_share_ci(chosen, who, pair)
                assert (share, low, high) == pytest.approx(binomial_ci(k, n), abs=1e-9)
                assert p == pytest.approx(stats.binomtest(k, n).pvalue, abs=1e-9)
    rng = np.random.default_rng(3)
    for _ in range(20):
        chosen, who, pair = _simulate_ab(rng, 5, 8, 1.0, 1.0, rng.normal(0, 1.5))
        _, low, high, p = crossed_share_ci(chosen, who, pair, n_boot=300)
        assert (p < 0.05) == (not low <= 0.5 <= high)


def test_listen_summary_ab_interval_is_over_listeners_and_pairs(tmp_path):
    """Two listeners who always prefer the conversion and two who never do: 20 of 40 answers
    either way, but the binomial interval (0.34-0.66) claimed a precision the four listeners
    do not give."""
    rows = [{"listener": who, "trial_id": f"ab{k}", "kind": "ab", "system_a": "converted",
             "system_b": "source", "preferred": winner}
            for who, winner in (("al", "converted"), ("bo", "converted"), ("cy", "source"),
                                ("di", "source")) for k in range(10)]
    rows.append({"listener": "al", "trial_id": "ab10", "kind": "ab", "system_a": "source",
                 "system_b": "converted", "preferred": "same"})
    path = tmp_path / "r.csv"
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=RATING_FIELDS, restval="")
        w.writeheader()
        w.writerows(rows)
    ab = summarize_ratings(path)["ab"]["converted vs source"]
    decisive = rows[:-1]
    expected = crossed_share_ci([r["preferred"] == "converted" for r in decisive],
                                [r["listener"] for r in decisive],
                                [r["trial_id"] for r in decisive])
    assert (ab["share_converted"], ab["ci_low"], ab["ci_high"], ab["p_value"]) == expected
    assert (ab["n"], ab["same"], ab["listeners"], ab["pairs"]) == (41, 1, 4, 10)
    _, low, high = binomial_ci(20, 40)
    assert ab["ci_low"] < low - 0.1 and ab["ci_high"] > high + 0.1
